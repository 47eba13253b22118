//! Abusive clients and operators' defaults (issue 14): lockouts that hold back only the guesser,
//! connection timeouts and caps, job ownership, idempotency, strict link tokens, the Asterisk
//! hook's input, file modes and what is kept of received faxes.

mod common;

use std::net::IpAddr;
use std::time::Duration;

use common::*;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// A client whose connections come from `local` (any 127/8 address reaches the server).
fn http_from(local: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(local.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

async fn get_status(c: &reqwest::Client, url: &str, key: &str) -> reqwest::Response {
    c.get(url).header("X-API-Key", key).send().await.unwrap()
}

fn retry_after(r: &reqwest::Response) -> u64 {
    r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lockout_holds_back_only_the_guesser() {
    let s = TestServer::start(Db::Sqlite, |_| {}).await.unwrap();
    assert_eq!(s.cfg.auth_failures_before_lockout, 10);
    let (key_id, token) = create_key(&s, &["fax:send", "fax:read"]).await;
    let (_, other) = create_key(&s, &["fax:read"]).await;
    let list = s.url("/fax");
    let here = http_from("127.0.0.1");

    // Ten wrong keys from one address (unknown ids and garbage): that address's guesses are
    // locked out, with Retry-After.
    for i in 0..10 {
        let wrong = if i % 2 == 0 {
            format!("fbk_live_00000000000{i}_guess")
        } else {
            format!("not-a-key-{i}")
        };
        assert_eq!(get_status(&here, &list, &wrong).await.status(), 401);
    }
    let r = get_status(&here, &list, "fbk_live_aaaaaaaaaaaa_guess").await;
    assert_eq!(r.status(), 429);
    assert!(retry_after(&r) > 200);

    // ...but a valid key from the same address still works, and so does the agent.
    assert_eq!(get_status(&here, &list, &token).await.status(), 200);
    assert_eq!(get_status(&here, &list, &other).await.status(), 200);
    let agent = s.agent("a1");
    agent.lease(Duration::ZERO, 1).await.expect("agent lease");

    // Brute force against one key id: throttled after ten wrong secrets...
    let guess = format!("fbk_live_{key_id}_wrong-secret");
    for _ in 0..10 {
        assert_eq!(get_status(&here, &list, &guess).await.status(), 401);
    }
    let r = get_status(&here, &list, &guess).await;
    assert_eq!(r.status(), 429);
    assert!(retry_after(&r) > 200);
    // ...the key is held back from the guessing address, even with its right secret...
    assert_eq!(get_status(&here, &list, &token).await.status(), 429);
    // ...while its holder elsewhere and the other keys are not blocked, nor the agent.
    let elsewhere = http_from("127.0.0.2");
    assert_eq!(get_status(&elsewhere, &list, &token).await.status(), 200);
    assert_eq!(get_status(&here, &list, &other).await.status(), 200);
    agent.lease(Duration::ZERO, 1).await.expect("agent lease");
    // Forwarded headers are not believed without trusted proxies: a changing X-Forwarded-For
    // does not get the guesser a fresh count.
    let r = here
        .get(&list)
        .header("X-API-Key", "garbage")
        .header("X-Forwarded-For", "198.51.100.77")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trusted_proxy_forwards_the_client_address() {
    let s = TestServer::start(Db::Sqlite, |c| {
        c.auth_failures_before_lockout = 3;
        c.trusted_proxies = vec!["127.0.0.1".into()];
    })
    .await
    .unwrap();
    let list = s.url("/fax");
    let from = |client: &'static str, key: &'static str| {
        http()
            .get(s.url("/fax"))
            .header("X-API-Key", key)
            .header("X-Forwarded-For", client)
            .send()
    };
    for _ in 0..3 {
        assert_eq!(from("198.51.100.1", "garbage").await.unwrap().status(), 401);
    }
    assert_eq!(from("198.51.100.1", "garbage").await.unwrap().status(), 429);
    // Another client behind the same proxy is not locked out.
    assert_eq!(from("198.51.100.2", "garbage").await.unwrap().status(), 401);
    assert_eq!(from("198.51.100.2", ADMIN_KEY).await.unwrap().status(), 200);
    assert_eq!(get_status(&http(), &list, ADMIN_KEY).await.status(), 200);
}

/// Reads until the server closes the connection; `None` if it is still open after `limit`.
async fn read_until_closed(conn: &mut TcpStream, limit: Duration) -> Option<Vec<u8>> {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, conn.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(got),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_headers_are_cut_off() {
    let s = TestServer::start(Db::Sqlite, |c| c.header_read_timeout_seconds = 1)
        .await
        .unwrap();
    let mut slow = TcpStream::connect(s.addr).await.unwrap();
    slow.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    let answer = read_until_closed(&mut slow, Duration::from_secs(20)).await;
    let answer = answer.expect("the server still holds a connection with half-sent headers");
    assert!(
        !answer.starts_with(b"HTTP/1.1 200"),
        "a half request was served"
    );
    // A complete request is served as before...
    let r = http().get(s.url("/health")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    // ...and an idle keep-alive connection is closed after the same timeout.
    let mut idle = TcpStream::connect(s.addr).await.unwrap();
    idle.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let answer = read_until_closed(&mut idle, Duration::from_secs(20)).await;
    let answer = answer.expect("an idle keep-alive connection is held open");
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
}

/// A refusal is a complete 503 that says why and when to retry.
fn assert_refused(answer: &[u8]) {
    let text = String::from_utf8_lossy(answer);
    assert!(text.starts_with("HTTP/1.1 503 "), "{text}");
    assert!(text.contains("\r\nRetry-After: 1\r\n"), "{text}");
    let (head, body) = text.split_once("\r\n\r\n").expect("headers end");
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Length: "))
        .expect("length")
        .parse()
        .unwrap();
    assert_eq!(body.len(), len, "{text}");
    let v: Value = serde_json::from_str(body).unwrap();
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .contains("too many connections")
    );
}

async fn connect_from(local: &str, to: std::net::SocketAddr) -> TcpStream {
    let sock = TcpSocket::new_v4().unwrap();
    sock.bind(format!("{local}:0").parse().unwrap()).unwrap();
    sock.connect(to).await.unwrap()
}

async fn health_over(conn: &mut TcpStream) -> Option<Vec<u8>> {
    conn.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .ok()?;
    read_until_closed(conn, Duration::from_secs(20)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_per_address_are_capped() {
    let s = TestServer::start(Db::Sqlite, |c| {
        c.max_connections_per_address = 4;
        c.header_read_timeout_seconds = 60;
    })
    .await
    .unwrap();
    // Four idle connections from one address are held...
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(connect_from("127.0.0.3", s.addr).await);
    }
    // ...a fifth from it is told 503 at once and closed, before it sends anything...
    let mut fifth = connect_from("127.0.0.3", s.addr).await;
    let answer = read_until_closed(&mut fifth, Duration::from_secs(20))
        .await
        .expect("fifth connection held open");
    assert_refused(&answer);
    // ...while another address is served...
    let mut other = connect_from("127.0.0.4", s.addr).await;
    let answer = health_over(&mut other).await.expect("answered and closed");
    assert!(
        answer.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    // ...and a held connection still works; closing one frees a slot.
    let answer = health_over(&mut held[0]).await.expect("answered");
    assert!(answer.starts_with(b"HTTP/1.1 200"));
    drop(held.remove(0));
    let mut served = false;
    for _ in 0..100 {
        let mut again = connect_from("127.0.0.3", s.addr).await;
        if health_over(&mut again)
            .await
            .is_some_and(|a| a.starts_with(b"HTTP/1.1 200"))
        {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(served, "a freed slot was not given back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_in_all_are_capped() {
    let s = TestServer::start(Db::Sqlite, |c| {
        c.max_connections = 3;
        c.header_read_timeout_seconds = 60;
    })
    .await
    .unwrap();
    let mut held = Vec::new();
    for local in ["127.0.0.5", "127.0.0.6", "127.0.0.7"] {
        held.push(connect_from(local, s.addr).await);
    }
    let mut fourth = connect_from("127.0.0.8", s.addr).await;
    let answer = read_until_closed(&mut fourth, Duration::from_secs(20))
        .await
        .expect("fourth connection held open");
    assert_refused(&answer);
    let answer = health_over(&mut held[1]).await.expect("answered");
    assert!(answer.starts_with(b"HTTP/1.1 200"));
}

async fn job_id(r: reqwest::Response) -> String {
    assert_eq!(r.status(), 202);
    r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn jobs_ownership(db: Db) {
    let Some(s) = TestServer::start(db, |_| {}).await else {
        return;
    };
    let (_, alice) = create_key(&s, &["fax:send", "fax:read"]).await;
    let (_, bob) = create_key(&s, &["fax:send", "fax:read"]).await;
    let ja = job_id(send_fax(&s, &alice, "+15551110001", "a.pdf", one_page_pdf()).await).await;
    let jb = job_id(send_fax(&s, &bob, "+15551110002", "b.pdf", one_page_pdf()).await).await;
    let c = http();

    // Alice sees her job only; Bob's is "not found" for every route.
    assert_eq!(
        get_status(&c, &s.url(&format!("/fax/{ja}")), &alice)
            .await
            .status(),
        200
    );
    assert_eq!(
        get_status(&c, &s.url(&format!("/fax/{jb}")), &alice)
            .await
            .status(),
        404
    );
    let list: Value = get_status(&c, &s.url("/fax"), &alice)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 1);
    assert_eq!(list["jobs"][0]["id"], ja.as_str());
    for path in [format!("/fax/{jb}/cancel"), format!("/fax/{jb}/pdf-link")] {
        let r = c
            .post(s.url(&path))
            .header("X-API-Key", &alice)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{path}");
    }
    // The preview shows the document itself: another key's job is not found there either.
    assert_eq!(
        get_status(&c, &s.url(&format!("/fax/{jb}/preview/1")), &alice)
            .await
            .status(),
        404
    );
    assert_eq!(
        get_status(&c, &s.url(&format!("/fax/{jb}/preview/1")), &bob)
            .await
            .status(),
        200
    );
    let r = get_status(&c, &s.url(&format!("/fax/{jb}")), &bob).await;
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "queued");

    // fax:admin and the bootstrap key see every job.
    let (_, auditor) = create_key(&s, &["fax:read", "fax:admin"]).await;
    for key in [auditor.as_str(), ADMIN_KEY] {
        assert_eq!(
            get_status(&c, &s.url(&format!("/fax/{jb}")), key)
                .await
                .status(),
            200
        );
        let list: Value = get_status(&c, &s.url("/fax"), key)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(list["total"], 2);
    }
    // Bob cancels his own job.
    let r = c
        .post(s.url(&format!("/fax/{jb}/cancel")))
        .header("X-API-Key", &bob)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}
both_stores!(jobs_ownership_on, jobs_ownership);

async fn send_idem(
    s: &TestServer,
    key: &str,
    idem: &str,
    to: &str,
    data: Vec<u8>,
) -> reqwest::Response {
    let form = reqwest::multipart::Form::new()
        .text("to", to.to_string())
        .part(
            "file",
            reqwest::multipart::Part::bytes(data).file_name("d.pdf"),
        );
    http()
        .post(s.url("/fax"))
        .header("X-API-Key", key)
        .header("Idempotency-Key", idem)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

async fn idempotency_key_reuse(db: Db) {
    let Some(s) = TestServer::start(db, |_| {}).await else {
        return;
    };
    let pdf = one_page_pdf();
    let first =
        job_id(send_idem(&s, ADMIN_KEY, "order-1", "+15552220001", pdf.clone()).await).await;
    let again =
        job_id(send_idem(&s, ADMIN_KEY, "order-1", "+15552220001", pdf.clone()).await).await;
    assert_eq!(first, again, "a retry gets the first job");
    // The same key with another number or another document is refused.
    let r = send_idem(&s, ADMIN_KEY, "order-1", "+15552220002", pdf.clone()).await;
    assert_eq!(r.status(), 422);
    assert!(
        r.json::<Value>().await.unwrap()["detail"]
            .as_str()
            .unwrap()
            .contains("different request")
    );
    let r = send_idem(
        &s,
        ADMIN_KEY,
        "order-1",
        "+15552220001",
        b"hello fax\n".to_vec(),
    )
    .await;
    assert_eq!(r.status(), 422);
    // Keys are namespaced per API key.
    let (_, other) = create_key(&s, &["fax:send", "fax:read"]).await;
    let theirs = job_id(send_idem(&s, &other, "order-1", "+15552220002", pdf).await).await;
    assert_ne!(theirs, first);
    let list: Value = get_status(&http(), &s.url("/fax"), ADMIN_KEY)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 2);
}
both_stores!(idempotency_on, idempotency_key_reuse);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn link_tokens_are_parsed_strictly() {
    let s = TestServer::start(Db::Sqlite, |_| {}).await.unwrap();
    let id = job_id(send_fax(&s, ADMIN_KEY, "+15551234567", "d.pdf", one_page_pdf()).await).await;
    let link: Value = http()
        .post(s.url(&format!("/fax/{id}/pdf-link")))
        .header("X-API-Key", ADMIN_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = link["token"].as_str().unwrap();
    let get = |t: String| {
        http()
            .get(s.url(&format!("/fax/{id}/pdf?token={t}")))
            .send()
    };
    assert_eq!(get(token.to_string()).await.unwrap().status(), 200);
    for bad in [
        format!("0{token}"),
        format!("%2B{token}"),
        format!("00{token}"),
    ] {
        let r = get(bad.clone()).await.unwrap();
        assert_eq!(r.status(), 403, "{bad}");
        assert_eq!(r.json::<Value>().await.unwrap()["detail"], "Invalid token");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asterisk_hook_validates_its_fields_and_answers_paths_alike() {
    let s = TestServer::start(Db::Sqlite, |_| {}).await.unwrap();
    let spool = s.cfg.inbound_spool_dir.clone().unwrap();
    std::fs::write(spool.join("rx.pdf"), one_page_pdf()).unwrap();
    let outside = s.dir.join("outside.pdf");
    std::fs::write(&outside, one_page_pdf()).unwrap();
    let good = spool.join("rx.pdf").display().to_string();
    let hook = |body: Value| {
        http()
            .post(s.url("/_internal/asterisk/inbound"))
            .header("X-Internal-Secret", INTERNAL_SECRET)
            .json(&body)
            .send()
    };
    let bad_fields = [
        serde_json::json!({"tiff_path": good, "from_number": "<script>alert(1)</script>"}),
        serde_json::json!({"tiff_path": good, "from_number": "+1555\u{0}0001"}),
        serde_json::json!({"tiff_path": good, "faxstatus": "SUCCESS\nX-Injected: 1"}),
        serde_json::json!({"tiff_path": good, "faxstatus": "S".repeat(500)}),
        serde_json::json!({"tiff_path": good, "to_number": "1".repeat(100)}),
        serde_json::json!({"tiff_path": good, "faxpages": -3}),
        serde_json::json!({"tiff_path": good, "faxpages": "-1"}),
    ];
    for body in bad_fields {
        let r = hook(body.clone()).await.unwrap();
        assert_eq!(r.status(), 400, "{body}");
    }
    // Missing, outside the spool, a directory: one answer.
    let mut answers = Vec::new();
    for path in [
        spool.join("missing.tif").display().to_string(),
        outside.display().to_string(),
        spool.join("../outside.pdf").display().to_string(),
        spool.display().to_string(),
        "/etc/passwd".to_string(),
    ] {
        let r = hook(serde_json::json!({"tiff_path": path})).await.unwrap();
        answers.push((r.status().as_u16(), r.text().await.unwrap()));
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
    assert_eq!(answers[0].0, 400);
    // Nothing of the above was stored; a clean call is.
    let r = hook(
        serde_json::json!({"tiff_path": good, "from_number": "+15550001111",
        "faxstatus": "SUCCESS", "faxpages": "1", "uniqueid": "1700000000.42"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let list: Value = get_status(&http(), &s.url("/inbound"), ADMIN_KEY)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["fr"], "+15550001111");
    assert_eq!(list[0]["pages"], 1);
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_directory_and_database_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut cfg = base_config(tmp.path(), String::new());
    cfg.data_dir = data.clone();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let s = TestServer::start_with(cfg.clone()).await;
    job_id(send_fax(&s, ADMIN_KEY, "+15551234567", "d.pdf", one_page_pdf()).await).await;
    assert_eq!(mode(&data), 0o700);
    for f in [
        "faxline.db",
        "faxline.db-wal",
        "faxline.db-shm",
        "server_secret",
    ] {
        assert_eq!(mode(&data.join(f)), 0o600, "{f}");
    }
    // An installation left readable by an older version is tightened at start.
    let mut s = s;
    s.stop().await;
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    for f in ["faxline.db", "faxline.db-wal", "faxline.db-shm"] {
        let p = data.join(f);
        if p.exists() {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
    }
    let mut s = TestServer::start_with(cfg).await;
    assert_eq!(mode(&data), 0o700);
    for f in ["faxline.db", "faxline.db-wal", "faxline.db-shm"] {
        let p = data.join(f);
        if p.exists() {
            assert_eq!(mode(&p), 0o600, "{f}");
        }
    }
    s.stop().await;
}

async fn received_faxes_need_a_reader(db: Db) {
    let Some(s) = TestServer::start(db, |c| c.inbound_enabled = false).await else {
        return;
    };
    let meta = faxline_protocol::client::InboundMeta {
        from: Some("+15550002222".into()),
        to: Some("+15550003333".into()),
        pages: Some(1),
        status: Some("received".into()),
        call_id: Some("call-1".into()),
        received_at: None,
    };
    // The agent's upload is acknowledged (it drops its copy) but nothing is kept.
    s.agent("a1")
        .upload_inbound(&meta, &one_page_pdf())
        .await
        .expect("upload acknowledged");
    let kept = s
        .store
        .inbound()
        .list(&faxline_api::store::InboundFilter {
            to_number: None,
            status: None,
            mailbox: None,
            limit: 100,
            offset: 0,
        })
        .await
        .unwrap();
    assert!(
        kept.is_empty(),
        "a received fax was stored with inbound disabled"
    );
}
both_stores!(received_faxes_on, received_faxes_need_a_reader);

/// An agent running many calls at once reports over a few connections: the API's per-address cap
/// (here twice the agent's in-flight limit, far below the 200 requests it makes at once; a connection
/// returning to the client's pool may briefly overlap a new one) never refuses one of its requests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_agent_stays_within_the_per_address_cap() {
    let s = TestServer::start(Db::Sqlite, |c| {
        c.max_connections_per_address = 2 * faxline_protocol::client::MAX_IN_FLIGHT as u32;
    })
    .await
    .unwrap();
    let agent = s.agent("busy-agent");
    let asks: Vec<_> = (0..200)
        .map(|i| {
            let agent = agent.clone();
            tokio::spawn(async move { agent.job_status(&format!("no-such-job-{i}")).await })
        })
        .collect();
    for ask in asks {
        let answer = ask.await.unwrap();
        assert!(matches!(answer, Ok(None)), "{answer:?}");
    }
}
