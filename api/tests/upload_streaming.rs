//! `POST /fax` streams the upload instead of holding it: a large document goes through a spool
//! file (sealed segment by segment with client-side encryption) to the local directory (renamed
//! into place) or to S3 (a multipart upload above the single-PUT size) and reads back
//! byte-identical; an upload over the size limit is refused with 413 as it arrives and leaves
//! nothing; S3 failing in the middle of a multipart upload is a 503 that leaves no object and no
//! pending upload. A received fax an agent uploads (`POST /agent/v1/inbound`) is streamed the
//! same way, its signature checked over the hash of the whole body once it has ended: a forged,
//! oversized or cut-off upload leaves nothing. A fax Phaxio posts (`POST /phaxio-inbound`) is
//! spooled the same way and its signature checked over the file's SHA-1 before it is stored.
//! SQLite and PostgreSQL.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use common::{ADMIN_KEY, Db, MARKER, TestServer, large_pdf, phaxio_webhook, s3};
use faxline_api::store::{DocumentId, DocumentStore, S3Settings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Client-side encryption on, an upload limit of 20 MB.
fn encrypted(c: &mut faxline_api::config::Config) {
    let key = c.data_dir.join("storage.key");
    std::fs::write(&key, "5a".repeat(32)).unwrap();
    c.storage_encryption_key_file = Some(key);
    c.max_file_size_mb = 20;
}

async fn job_rows(s: &TestServer) -> i64 {
    let r = common::http()
        .get(s.url("/fax"))
        .header("X-API-Key", ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json::<serde_json::Value>().await.unwrap()["total"]
        .as_i64()
        .unwrap()
}

/// Temporary files of uploads left in the data directory or the local backend's directory.
fn temp_files(s: &TestServer) -> Vec<String> {
    let mut found = Vec::new();
    for dir in [
        s.cfg.upload_dir(),
        s.cfg.data_dir.join("documents").join("jobs"),
        s.cfg.data_dir.join("documents").join("inbound"),
    ] {
        if let Ok(entries) = std::fs::read_dir(&dir) {
            for e in entries {
                let name = e.unwrap().file_name().to_string_lossy().into_owned();
                if name.ends_with(".tmp") {
                    found.push(name);
                }
            }
        }
    }
    found
}

/// The S3 settings a test server writes to (its own bucket).
fn s3_settings_of(s: &TestServer) -> S3Settings {
    let mut settings = s3::settings(faxline_api::store::ServerSideEncryption::S3);
    settings.bucket = s.cfg.s3_bucket.clone().unwrap();
    settings
}

/// No document of the backend's is left: no file in the local backend's `kind` directory, no
/// object in the test's bucket.
async fn assert_no_documents(s: &TestServer, backend: &str, kind: &str) {
    match backend {
        "local" => {
            let left: Vec<_> = std::fs::read_dir(s.cfg.data_dir.join("documents").join(kind))
                .unwrap()
                .collect();
            assert!(left.is_empty(), "{left:?}");
        }
        "s3" => assert_eq!(s3::keys(&s3_settings_of(s)).await, Vec::<String>::new()),
        _ => {}
    }
}

async fn large_upload_reads_back(db: Db, backend: &str) {
    let Some(s) = TestServer::start(db, |c| {
        common::use_storage(c, backend);
        encrypted(c);
    })
    .await
    else {
        return;
    };
    // Above the single-PUT size: three parts on S3.
    let pdf = large_pdf(12 << 20);
    let r = common::send_fax(&s, ADMIN_KEY, "+15551234567", "big.pdf", pdf.clone()).await;
    assert_eq!(r.status(), 202);
    let body: serde_json::Value = r.json().await.unwrap();
    let id = body["id"].as_str().unwrap().to_owned();
    assert_eq!(body["pages"], 1, "{body}");
    let job = s.store.jobs().get(&id).await.unwrap().unwrap();
    assert_eq!(job.doc_size, pdf.len() as i64);
    assert_eq!(job.doc_kind, "pdf");
    {
        use sha2::Digest;
        assert_eq!(job.doc_sha256, hex::encode(sha2::Sha256::digest(&pdf)));
    }
    let stored = s
        .store
        .documents()
        .get(&DocumentId::Job(id.clone()))
        .await
        .unwrap()
        .unwrap();
    assert!(stored == pdf, "the document must read back byte-identical");
    let raw = match backend {
        "local" => std::fs::read(s.cfg.data_dir.join("documents/jobs").join(&id)).unwrap(),
        "s3" => {
            let settings = s3_settings_of(&s);
            s3::raw_object(&settings, &format!("{}/jobs/{id}", settings.prefix))
                .await
                .unwrap()
                .to_vec()
        }
        _ => unreachable!(),
    };
    assert!(raw.starts_with(b"FXE2"));
    assert!(!contains(&raw, MARKER), "plaintext in the stored document");
    if backend == "local" {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(s.cfg.data_dir.join("documents/jobs").join(&id))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert_eq!(temp_files(&s), Vec::<String>::new());
}

async fn over_the_limit_leaves_nothing(db: Db, backend: &str) {
    let Some(s) = TestServer::start(db, |c| {
        common::use_storage(c, backend);
        encrypted(c);
        c.max_file_size_mb = 2;
    })
    .await
    else {
        return;
    };
    let r = common::send_fax(&s, ADMIN_KEY, "+15551234567", "big.pdf", large_pdf(3 << 20)).await;
    assert_eq!(r.status(), 413);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["detail"], "File exceeds 2 MB limit");
    assert_eq!(job_rows(&s).await, 0);
    assert_eq!(temp_files(&s), Vec::<String>::new());
    assert_no_documents(&s, backend, "jobs").await;
    // Under the limit it is accepted.
    let r = common::send_fax(&s, ADMIN_KEY, "+15551234567", "ok.pdf", large_pdf(1 << 20)).await;
    assert_eq!(r.status(), 202);
}

async fn database_backend_streams_to_its_row(db: Db) {
    let Some(s) = TestServer::start(db, |c| {
        common::use_storage(c, "database");
        encrypted(c);
    })
    .await
    else {
        return;
    };
    let pdf = large_pdf(6 << 20);
    let r = common::send_fax(&s, ADMIN_KEY, "+15551234567", "big.pdf", pdf.clone()).await;
    assert_eq!(r.status(), 202);
    let id = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let doc = DocumentId::Job(id.clone());
    let stored = s.store.documents().get(&doc).await.unwrap().unwrap();
    assert!(stored == pdf);
    assert_eq!(temp_files(&s), Vec::<String>::new());
    // Sealed, in 1 MiB rows.
    let (raw, pieces) = common::database_document(&s.cfg.database_url, &doc).await;
    assert_eq!(pieces, raw.len().div_ceil(1 << 20));
    assert!(pieces >= 6, "{pieces} pieces");
    assert!(raw.starts_with(b"FXE2"));
    assert!(!contains(&raw, MARKER), "plaintext in the stored document");
    // Read back a piece at a time, as an agent downloads it.
    {
        use futures::StreamExt;
        let mut stream = s.store.documents().get_stream(&doc).await.unwrap().unwrap();
        let (mut got, mut n) = (Vec::new(), 0);
        while let Some(piece) = stream.next().await {
            got.extend_from_slice(&piece.unwrap());
            n += 1;
        }
        assert!(got == pdf);
        assert!(n >= pieces, "{n} pieces streamed");
    }
    let agent = s.agent("db-agent");
    let leased = agent
        .lease(std::time::Duration::from_secs(5), 1)
        .await
        .unwrap();
    assert_eq!(leased.len(), 1);
    assert!(agent.document(&leased[0]).await.unwrap() == pdf);
    // Deleting the document deletes every piece.
    assert!(s.store.documents().delete(&doc).await.unwrap());
    assert_eq!(
        common::database_document(&s.cfg.database_url, &doc).await.1,
        0
    );
}

fn inbound_meta(call_id: &str) -> faxline_protocol::messages::InboundMeta {
    faxline_protocol::messages::InboundMeta {
        from: Some("+15557654321".into()),
        to: Some("+15551112222".into()),
        pages: Some(1),
        call_id: Some(call_id.into()),
        ..Default::default()
    }
}

async fn inbound_rows(s: &TestServer) -> usize {
    s.store
        .inbound()
        .list(&faxline_api::store::InboundFilter {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .len()
}

/// Received fax `id` reads back from the store byte-identical to `pdf`, and, on a file or object
/// backend, is stored sealed: the raw file or object starts with the envelope's magic and holds no
/// plaintext.
async fn assert_inbound_stored(s: &TestServer, backend: &str, id: &str, pdf: &[u8]) {
    let stored = s
        .store
        .documents()
        .get(&DocumentId::Inbound(id.to_owned()))
        .await
        .unwrap()
        .unwrap();
    assert!(
        stored == pdf,
        "the received fax must read back byte-identical"
    );
    let raw = match backend {
        "local" => std::fs::read(s.cfg.data_dir.join("documents/inbound").join(id)).unwrap(),
        "s3" => {
            let settings = s3_settings_of(s);
            s3::raw_object(&settings, &format!("{}/inbound/{id}", settings.prefix))
                .await
                .unwrap()
                .to_vec()
        }
        "database" => {
            let (raw, pieces) =
                common::database_document(&s.cfg.database_url, &DocumentId::Inbound(id.to_owned()))
                    .await;
            assert_eq!(pieces, raw.len().div_ceil(1 << 20).max(1));
            raw
        }
        _ => unreachable!(),
    };
    assert!(raw.starts_with(b"FXE2"));
    assert!(!contains(&raw, MARKER), "plaintext in the stored fax");
}

/// `POST /agent/v1/inbound` with a multipart body built here, signed with `secret` over `signed`
/// (the body itself unless a test forges it); the status.
async fn post_inbound(s: &TestServer, secret: &str, body: &[u8], signed: &[u8]) -> u16 {
    let path = "/agent/v1/inbound";
    let h = faxline_protocol::auth::sign_now(secret.as_bytes(), "POST", path, "rx-agent", signed);
    let mut rb = common::http()
        .post(s.url(path))
        .header("content-type", "multipart/form-data; boundary=XyZ");
    for (k, v) in h.pairs() {
        rb = rb.header(k, v);
    }
    rb.body(body.to_vec())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn inbound_body(pdf: &[u8], epilogue: &[u8]) -> Vec<u8> {
    let meta = serde_json::to_vec(&inbound_meta("1700000000.9")).unwrap();
    let mut b = b"--XyZ\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n".to_vec();
    b.extend_from_slice(&meta);
    b.extend_from_slice(
        b"\r\n--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"fax.pdf\"\r\n\r\n",
    );
    b.extend_from_slice(pdf);
    b.extend_from_slice(b"\r\n--XyZ--\r\n");
    b.extend_from_slice(epilogue);
    b
}

async fn large_inbound_reads_back(db: Db, backend: &str) {
    let Some(s) = TestServer::start(db, |c| {
        common::use_storage(c, backend);
        encrypted(c);
    })
    .await
    else {
        return;
    };
    let pdf = large_pdf(12 << 20);
    let agent = s.agent("rx-agent");
    // As the agent sends it: from a file, hashed first, then streamed with its length.
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &pdf).unwrap();
    let id = agent
        .upload_inbound_file(&inbound_meta("1700000000.1"), file.path())
        .await
        .unwrap();
    let row = s.store.inbound().get(&id).await.unwrap().unwrap();
    assert_eq!(row.size_bytes, Some(pdf.len() as i64));
    {
        use sha2::Digest;
        assert_eq!(row.sha256, Some(hex::encode(sha2::Sha256::digest(&pdf))));
    }
    assert_inbound_stored(&s, backend, &id, &pdf).await;
    // Served a piece at a time, with its length.
    let (_, key) = common::create_key(&s, &["inbound:read"]).await;
    let r = common::http()
        .get(s.url(&format!("/inbound/{id}/pdf")))
        .header("X-API-Key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.content_length(), Some(pdf.len() as u64));
    assert!(r.bytes().await.unwrap() == pdf);
    // The same fax again, from memory this time: the row already stored, and no second document.
    assert_eq!(
        agent
            .upload_inbound(&inbound_meta("1700000000.1"), &pdf)
            .await
            .unwrap(),
        id
    );
    assert_eq!(inbound_rows(&s).await, 1);
    if backend == "local" {
        let files = std::fs::read_dir(s.cfg.data_dir.join("documents/inbound"))
            .unwrap()
            .count();
        assert_eq!(files, 1);
    }
    assert_eq!(temp_files(&s), Vec::<String>::new());
}

/// Nothing of a refused inbound upload stays: no row, no document, no spool file.
async fn inbound_refusals_leave_nothing(db: Db, backend: &str) {
    let Some(s) = TestServer::start(db, |c| {
        common::use_storage(c, backend);
        encrypted(c);
        c.max_file_size_mb = 2;
    })
    .await
    else {
        return;
    };
    let pdf = large_pdf(1 << 20);
    let body = inbound_body(&pdf, b"");
    // Forged: another secret; and the genuine signature over another body (a different PDF).
    let other = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c";
    assert_eq!(post_inbound(&s, other, &body, &body).await, 401);
    let mut tampered = body.clone();
    let at = tampered.len() / 2;
    tampered[at] ^= 1;
    assert_eq!(
        post_inbound(&s, common::AGENT_SECRET, &tampered, &body).await,
        401
    );
    // Over the limit (2 MB): refused as it arrives.
    let big = inbound_body(&large_pdf(3 << 20), b"");
    assert_eq!(
        post_inbound(&s, common::AGENT_SECRET, &big, &big).await,
        413
    );
    // Not a PDF, correctly signed: 415.
    let text = inbound_body(b"just some text, not a PDF", b"");
    assert_eq!(
        post_inbound(&s, common::AGENT_SECRET, &text, &text).await,
        415
    );
    assert_eq!(inbound_rows(&s).await, 0);
    assert_eq!(temp_files(&s), Vec::<String>::new());
    assert_no_documents(&s, backend, "inbound").await;
    // The signature covers every byte, an epilogue after the closing boundary included: signed
    // over the whole body it is taken, and the same body signed without the epilogue is not.
    let with_epilogue = inbound_body(&pdf, b"an epilogue the parser never reads\r\n");
    assert_eq!(
        post_inbound(&s, common::AGENT_SECRET, &with_epilogue, &body).await,
        401
    );
    assert_eq!(inbound_rows(&s).await, 0);
    assert_eq!(
        post_inbound(&s, common::AGENT_SECRET, &with_epilogue, &with_epilogue).await,
        200
    );
    assert_eq!(inbound_rows(&s).await, 1);
}

/// A fax Phaxio posts is spooled as it arrives and its signature (over the file's SHA-1) checked
/// before anything is stored: forged or oversized posts leave nothing; a genuine 12 MiB one reads
/// back byte-identical and is stored sealed.
async fn phaxio_inbound_streams(db: Db, backend: &str) {
    let Some(s) = TestServer::start(db, |c| {
        common::use_storage(c, backend);
        encrypted(c);
        c.max_file_size_mb = 13;
        phaxio_webhook::phaxio_on(c);
    })
    .await
    else {
        return;
    };
    let sign = |fields: &[(String, String)], pdf: &[u8]| {
        faxline_api::cloud::phaxio::signature(
            phaxio_webhook::TOKEN.as_bytes(),
            phaxio_webhook::INBOUND,
            fields,
            &[("file".into(), pdf)],
        )
    };
    let pdf = large_pdf(12 << 20);
    let fields = phaxio_webhook::inbound_fields(7001);
    // Forged: the genuine signature over another file.
    let mut other = pdf.clone();
    other[pdf.len() / 2] ^= 1;
    assert_eq!(
        phaxio_webhook::post_inbound(&s, &fields, &other, &sign(&fields, &pdf))
            .await
            .0,
        401
    );
    // Over the limit (13 MB), correctly signed: refused as it arrives.
    let big = large_pdf(14 << 20);
    let fields_big = phaxio_webhook::inbound_fields(7002);
    assert_eq!(
        phaxio_webhook::post_inbound(&s, &fields_big, &big, &sign(&fields_big, &big))
            .await
            .0,
        413
    );
    assert_eq!(inbound_rows(&s).await, 0);
    assert_eq!(temp_files(&s), Vec::<String>::new());
    assert_no_documents(&s, backend, "inbound").await;
    // Genuine.
    let (status, answer) =
        phaxio_webhook::post_inbound(&s, &fields, &pdf, &sign(&fields, &pdf)).await;
    assert_eq!(status, 200);
    assert_eq!(inbound_rows(&s).await, 1);
    let id = answer["id"].as_str().unwrap().to_owned();
    assert_inbound_stored(&s, backend, &id, &pdf).await;
    // Replayed: 401, still one, nothing spooled left.
    assert_eq!(
        phaxio_webhook::post_inbound(&s, &fields, &pdf, &sign(&fields, &pdf))
            .await
            .0,
        401
    );
    assert_eq!(inbound_rows(&s).await, 1);
    assert_eq!(temp_files(&s), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phaxio_inbound_sqlite_local() {
    phaxio_inbound_streams(Db::Sqlite, "local").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phaxio_inbound_postgres_s3_multipart() {
    phaxio_inbound_streams(Db::Postgres, "s3").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phaxio_inbound_sqlite_database() {
    phaxio_inbound_streams(Db::Sqlite, "database").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_inbound_sqlite_local() {
    large_inbound_reads_back(Db::Sqlite, "local").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_inbound_postgres_s3_multipart() {
    large_inbound_reads_back(Db::Postgres, "s3").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_inbound_sqlite_database() {
    large_inbound_reads_back(Db::Sqlite, "database").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbound_refusals_sqlite_local() {
    inbound_refusals_leave_nothing(Db::Sqlite, "local").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbound_refusals_postgres_s3() {
    inbound_refusals_leave_nothing(Db::Postgres, "s3").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_upload_sqlite_local() {
    large_upload_reads_back(Db::Sqlite, "local").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_upload_sqlite_s3_multipart() {
    large_upload_reads_back(Db::Sqlite, "s3").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_upload_postgres_local() {
    large_upload_reads_back(Db::Postgres, "local").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_upload_postgres_s3_multipart() {
    large_upload_reads_back(Db::Postgres, "s3").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_upload_sqlite_database() {
    database_backend_streams_to_its_row(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_upload_postgres_database() {
    database_backend_streams_to_its_row(Db::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_limit_sqlite_local() {
    over_the_limit_leaves_nothing(Db::Sqlite, "local").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_limit_sqlite_s3() {
    over_the_limit_leaves_nothing(Db::Sqlite, "s3").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_limit_postgres_local() {
    over_the_limit_leaves_nothing(Db::Postgres, "local").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_limit_postgres_s3() {
    over_the_limit_leaves_nothing(Db::Postgres, "s3").await;
}

/// An HTTP/1.1 proxy in front of the S3 server, one request at a time per connection, that
/// answers S3's `500 InternalError` to every multipart part (`partNumber=`) while `fail_parts`
/// is set and forwards everything else.
struct PartFailingProxy {
    endpoint: String,
    fail_parts: Arc<AtomicBool>,
}

impl PartFailingProxy {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let fail_parts = Arc::new(AtomicBool::new(true));
        let fail = fail_parts.clone();
        let upstream = upstream.trim_start_matches("http://").to_owned();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (fail, upstream) = (fail.clone(), upstream.clone());
                tokio::spawn(async move {
                    let _ = serve(client, &upstream, &fail).await;
                });
            }
        });
        Self {
            endpoint,
            fail_parts,
        }
    }
}

/// One HTTP message (head and `Content-Length` body) from `c`; `None` at end of stream.
async fn read_message(c: &mut TcpStream) -> std::io::Result<Option<(String, Vec<u8>)>> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if c.read(&mut byte).await? == 0 {
            return Ok(None);
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let len = text
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    assert!(
        !text
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "the test proxy handles Content-Length bodies only"
    );
    let mut body = vec![0u8; len];
    c.read_exact(&mut body).await?;
    let mut all = head;
    all.extend_from_slice(&body);
    Ok(Some((text, all)))
}

async fn serve(mut client: TcpStream, upstream: &str, fail: &AtomicBool) -> std::io::Result<()> {
    while let Some((head, request)) = read_message(&mut client).await? {
        let request_line = head.lines().next().unwrap_or_default().to_owned();
        if fail.load(Ordering::SeqCst) && request_line.contains("partNumber=") {
            let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>InternalError</Code>\
                        <Message>We encountered an internal error. Please try again.</Message></Error>";
            let answer = format!(
                "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/xml\r\n\
                 Content-Length: {}\r\n\r\n{body}",
                body.len()
            );
            client.write_all(answer.as_bytes()).await?;
            continue;
        }
        let mut server = TcpStream::connect(upstream).await?;
        server.write_all(&request).await?;
        let is_head = request_line.starts_with("HEAD ");
        let response = if is_head {
            // No body follows a HEAD's Content-Length.
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                if server.read(&mut byte).await? == 0 {
                    break;
                }
                head.push(byte[0]);
            }
            head
        } else {
            match read_message(&mut server).await? {
                Some((_, all)) => all,
                None => return Ok(()),
            }
        };
        client.write_all(&response).await?;
    }
    Ok(())
}

/// S3 fails every part of a multipart upload: the upload is a 503 with `Retry-After`, no job row,
/// no object, and the multipart upload was aborted (the bucket lists none in progress).
async fn s3_failing_mid_multipart(db: Db) {
    let proxy = PartFailingProxy::start(s3::endpoint()).await;
    let endpoint = proxy.endpoint.clone();
    let Some(s) = TestServer::start(db, move |c| {
        common::use_storage(c, "s3");
        encrypted(c);
        c.s3_endpoint_url = Some(endpoint);
        c.s3_timeout_seconds = 5;
    })
    .await
    else {
        return;
    };
    let r = common::send_fax(
        &s,
        ADMIN_KEY,
        "+15551234567",
        "big.pdf",
        large_pdf(12 << 20),
    )
    .await;
    assert_eq!(r.status(), 503);
    assert!(r.headers().contains_key("retry-after"));
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["detail"], "Document storage unavailable", "{body}");
    assert_eq!(job_rows(&s).await, 0);
    let settings = s3_settings_of(&s);
    assert_eq!(s3::keys(&settings).await, Vec::<String>::new());
    // No multipart upload left in progress (listed unsigned: the test server takes that).
    let listing = reqwest::get(format!("{}/{}?uploads", s3::endpoint(), settings.bucket))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(listing.contains("ListMultipartUploadsResult"), "{listing}");
    assert!(!listing.contains("<UploadId>"), "{listing}");
    assert_eq!(temp_files(&s), Vec::<String>::new());
    // Once S3 takes parts again, the same upload is accepted.
    proxy.fail_parts.store(false, Ordering::SeqCst);
    let r = common::send_fax(
        &s,
        ADMIN_KEY,
        "+15551234567",
        "big.pdf",
        large_pdf(12 << 20),
    )
    .await;
    assert_eq!(r.status(), 202);
    assert_eq!(job_rows(&s).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_failing_mid_multipart_sqlite() {
    s3_failing_mid_multipart(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_failing_mid_multipart_postgres() {
    s3_failing_mid_multipart(Db::Postgres).await;
}
