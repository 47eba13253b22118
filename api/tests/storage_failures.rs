//! A document store that fails while the API serves: S3 answering 500s, S3 that takes a request
//! and never answers (a TCP proxy on 127.0.0.1 in front of moto's server, see `common::s3`), and a
//! local directory that cannot be written. Each submission is a clear 503 with `Retry-After`, no
//! job row is left without its document, no document is left after the orphan sweep, and the
//! API works again once the store does. Also: a repeated upload keeps one document, and the
//! per-backend storage counters of `/metrics`.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use common::{ADMIN_KEY, Db, TestServer, s3};
use faxline_api::store::{DocumentId, DocumentStore, S3Settings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy does with a connection accepted while it is in that mode.
const PASS: u8 = 0;
/// Reads each request and answers S3's `500 InternalError` without forwarding it.
const ERROR_500: u8 = 1;
/// Forwards requests to the server but never answers: the server acts, the client waits.
const SWALLOW: u8 = 2;

/// A loopback TCP proxy in front of the S3 server whose behaviour can be switched.
struct Proxy {
    endpoint: String,
    mode: Arc<AtomicU8>,
}

impl Proxy {
    async fn start(upstream: String, mode: u8) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let mode = Arc::new(AtomicU8::new(mode));
        let m = mode.clone();
        let upstream = upstream.trim_start_matches("http://").to_owned();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let mode = m.load(Ordering::SeqCst);
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let _ = serve(client, &upstream, mode).await;
                });
            }
        });
        Proxy { endpoint, mode }
    }

    fn set(&self, mode: u8) {
        self.mode.store(mode, Ordering::SeqCst);
    }
}

async fn serve(mut client: TcpStream, upstream: &str, mode: u8) -> std::io::Result<()> {
    match mode {
        ERROR_500 => loop {
            read_request(&mut client).await?;
            let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>InternalError</Code>\
                        <Message>We encountered an internal error. Please try again.</Message></Error>";
            let head = format!(
                "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/xml\r\n\
                 Content-Length: {}\r\n\r\n",
                body.len()
            );
            client.write_all(head.as_bytes()).await?;
            client.write_all(body.as_bytes()).await?;
        },
        SWALLOW => {
            let mut server = TcpStream::connect(upstream).await?;
            let (mut from_client, _to_client) = client.split();
            let (mut from_server, mut to_server) = server.split();
            // Requests go through; the answers are read and dropped.
            let discard = async {
                let mut sink = tokio::io::sink();
                tokio::io::copy(&mut from_server, &mut sink).await
            };
            let _ = tokio::join!(tokio::io::copy(&mut from_client, &mut to_server), discard);
            Ok(())
        }
        _ => {
            let mut server = TcpStream::connect(upstream).await?;
            tokio::io::copy_bidirectional(&mut client, &mut server).await?;
            Ok(())
        }
    }
}

/// Reads one HTTP/1.1 request with a `Content-Length` body (what the S3 client sends).
async fn read_request(c: &mut TcpStream) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if c.read(&mut byte).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        head.push(byte[0]);
        if head.len() > 64 * 1024 {
            return Err(std::io::Error::other("request head too long"));
        }
    }
    let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
    let len: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    tokio::io::copy(&mut (&mut *c).take(len), &mut tokio::io::sink()).await?;
    Ok(())
}

/// A server on SQLite whose documents go to a fresh bucket through `proxy`; the bucket's settings.
async fn server_behind(proxy: &Proxy, timeout_seconds: u64) -> (TestServer, S3Settings) {
    let settings =
        tokio::task::spawn_blocking(|| s3::settings(faxline_api::store::ServerSideEncryption::S3))
            .await
            .unwrap();
    let (bucket, endpoint) = (settings.bucket.clone(), proxy.endpoint.clone());
    let s = TestServer::start(Db::Sqlite, move |c| {
        common::use_storage(c, "s3");
        c.s3_bucket = Some(bucket);
        c.s3_endpoint_url = Some(endpoint);
        c.s3_timeout_seconds = timeout_seconds;
    })
    .await
    .expect("SQLite always starts");
    (s, settings)
}

async fn job_rows(s: &TestServer) -> i64 {
    use sqlx::Connection;
    let mut c = sqlx::SqliteConnection::connect(&s.cfg.effective_database_url())
        .await
        .unwrap();
    sqlx::query_scalar("SELECT COUNT(*) FROM fax_jobs")
        .fetch_one(&mut c)
        .await
        .unwrap()
}

/// Submits `n` faxes at once (so they share group-committed batches); their responses.
async fn submit(s: &TestServer, n: usize) -> Vec<reqwest::Response> {
    let sends = (0..n).map(|_| {
        common::send_fax(
            s,
            ADMIN_KEY,
            "+15551234567",
            "doc.pdf",
            common::one_page_pdf(),
        )
    });
    futures::future::join_all(sends).await
}

async fn assert_unavailable(r: reqwest::Response) {
    assert_eq!(r.status(), 503);
    assert!(r.headers().contains_key("retry-after"));
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["detail"], "Document storage unavailable", "{body}");
}

/// A submission accepted once the store works again; its document reads back whole.
async fn works_again(s: &TestServer) {
    let r = submit(s, 1).await.pop().unwrap();
    assert_eq!(r.status(), 202);
    let id = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let stored = s.store.documents().get(&DocumentId::Job(id)).await.unwrap();
    assert_eq!(stored.as_deref(), Some(&common::one_page_pdf()[..]));
}

/// S3 answers 500 to everything: every upload of a batch is a 503 after the client's retries, no
/// row and no object remain; when S3 recovers, uploads are accepted again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_errors_are_a_503_and_leave_nothing() {
    let proxy = Proxy::start(s3::endpoint(), ERROR_500).await;
    let (s, settings) = server_behind(&proxy, 10).await;
    for r in submit(&s, 4).await {
        assert_unavailable(r).await;
    }
    assert_eq!(job_rows(&s).await, 0);
    assert_eq!(s3::keys(&settings).await, Vec::<String>::new());
    proxy.set(PASS);
    works_again(&s).await;
    assert_eq!(job_rows(&s).await, 1);
    assert_eq!(s3::keys(&settings).await.len(), 1);
}

/// S3 takes the upload and never answers: the upload fails with a 503 within the configured
/// timeout (not the client's patience), no row is committed, and the object S3 did store (the
/// write landed, only its answer was lost; the delete that followed stalled too) is an orphan the
/// sweep deletes once S3 answers again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_that_stalls_is_a_503_and_its_orphan_is_swept() {
    let proxy = Proxy::start(s3::endpoint(), SWALLOW).await;
    let (s, settings) = server_behind(&proxy, 2).await;
    let started = Instant::now();
    let r = submit(&s, 1).await.pop().unwrap();
    assert_unavailable(r).await;
    // One request timeout, retries stopping once it has passed, and the delete's attempt.
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(job_rows(&s).await, 0);
    let left = s3::keys(&settings).await;
    assert_eq!(left.len(), 1, "the PUT reached S3: {left:?}");

    proxy.set(PASS);
    // What the hourly sweep does once the orphan is old enough.
    let swept = s.store.retention().sweep_orphans(i64::MAX).await.unwrap();
    assert_eq!(swept, 1);
    assert_eq!(s3::keys(&settings).await, Vec::<String>::new());
    works_again(&s).await;
    assert_eq!(job_rows(&s).await, 1);
}

/// A local directory that cannot be written (its `jobs` directory replaced by a file, which stops
/// root too): 503, no row, nothing in the directory; writable again, uploads are accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unwritable_local_directory_is_a_503() {
    let s = TestServer::start(Db::Sqlite, |c| common::use_storage(c, "local"))
        .await
        .expect("SQLite always starts");
    let jobs = s.cfg.storage_dir.clone().unwrap().join("jobs");
    std::fs::remove_dir(&jobs).unwrap();
    std::fs::write(&jobs, b"not a directory").unwrap();
    for r in submit(&s, 3).await {
        assert_unavailable(r).await;
    }
    assert_eq!(job_rows(&s).await, 0);
    std::fs::remove_file(&jobs).unwrap();
    std::fs::create_dir(&jobs).unwrap();
    assert_eq!(std::fs::read_dir(&jobs).unwrap().count(), 0);
    works_again(&s).await;
    assert_eq!(std::fs::read_dir(&jobs).unwrap().count(), 1);
}

fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

async fn scrape(s: &TestServer) -> String {
    let r = common::http()
        .get(s.url("/metrics"))
        .header("X-API-Key", ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.text().await.unwrap()
}

/// `/metrics` counts documents and bytes written per backend (labels: the backend's name only).
/// The recorder is the process's, shared with the other tests here, hence the lower bounds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_documents_are_counted_by_backend() {
    let s = TestServer::start(Db::Sqlite, |c| common::use_storage(c, "local"))
        .await
        .expect("SQLite always starts");
    let docs = r#"faxline_api_documents_stored_total{backend="local"}"#;
    let bytes = r#"faxline_api_document_bytes_stored_total{backend="local"}"#;
    let before = scrape(&s).await;
    for r in submit(&s, 3).await {
        assert_eq!(r.status(), 202);
    }
    let after = scrape(&s).await;
    let pdf = common::one_page_pdf().len() as f64;
    assert!(
        sample(&after, docs) >= sample(&before, docs) + 3.0,
        "{after}"
    );
    assert!(
        sample(&after, bytes) >= sample(&before, bytes) + 3.0 * pdf,
        "{after}"
    );
    assert!(!after.contains("doc.pdf") && !after.contains("5551234567"));
}

/// The same upload repeated with one `Idempotency-Key` (at once, so both documents are written
/// before either row commits): one job, and only its document stays in the directory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_upload_keeps_one_document() {
    let s = TestServer::start(Db::Sqlite, |c| common::use_storage(c, "local"))
        .await
        .expect("SQLite always starts");
    let send = || {
        let form = reqwest::multipart::Form::new()
            .text("to", "+15551234567")
            .part(
                "file",
                reqwest::multipart::Part::bytes(common::one_page_pdf()).file_name("doc.pdf"),
            );
        common::http()
            .post(s.url("/fax"))
            .header("X-API-Key", ADMIN_KEY)
            .header("Idempotency-Key", "repeat-1")
            .multipart(form)
            .send()
    };
    let (a, b) = tokio::join!(send(), send());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(a.status().is_success() && b.status().is_success());
    let id = |v: serde_json::Value| v["id"].as_str().unwrap().to_owned();
    let (a, b) = (id(a.json().await.unwrap()), id(b.json().await.unwrap()));
    assert_eq!(a, b);
    assert_eq!(job_rows(&s).await, 1);
    let jobs = s.cfg.storage_dir.clone().unwrap().join("jobs");
    let names: Vec<String> = std::fs::read_dir(&jobs)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec![a]);
}
