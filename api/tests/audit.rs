//! The audit log, captured from the running server's `tracing` output: the security-relevant
//! events are recorded, phone numbers only as their last four digits, and no document content
//! anywhere in the log, in success and error paths alike. Own test binary, because it installs
//! the process-wide subscriber.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use common::{ADMIN_KEY, Db, INTERNAL_SECRET, TestServer, fixture, http, send_fax};
use faxline_api::config::Secret;
use faxline_protocol::client::{AgentClient, InboundMeta};
use serde_json::Value;

#[derive(Clone)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Everything logged at INFO and above by every crate in this process, as JSON lines.
fn log() -> &'static Capture {
    static LOG: OnceLock<Capture> = OnceLock::new();
    LOG.get_or_init(|| {
        let cap = Capture(Arc::new(Mutex::new(Vec::new())));
        let w = cap.clone();
        tracing_subscriber::fmt()
            .json()
            .with_max_level(tracing::Level::INFO)
            .with_writer(move || w.clone())
            .init();
        cap
    })
}

fn log_text() -> String {
    String::from_utf8_lossy(&log().0.lock().unwrap()).into_owned()
}

/// Audit events (target `audit`) as their `fields` objects.
fn audit_events() -> Vec<Value> {
    log_text()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["target"] == "audit")
        .map(|v| v["fields"].clone())
        .collect()
}

fn has_event(events: &[Value], name: &str, pred: impl Fn(&Value) -> bool) -> bool {
    events.iter().any(|e| e["event"] == name && pred(e))
}

/// Unique markers inside the documents; none may ever reach the log.
const TEXT_MARK: &str = "PATIENT-TEXT-7f3a9c";
const REJECTED_MARK: &str = "PATIENT-REJECTED-91c2de";
const CORRUPT_MARK: &str = "PATIENT-PDF-5d1e0b";
const BIG_MARK: &str = "PATIENT-BIG-aa77f1";

async fn audit_scenario(db: Db) {
    log();
    let Some(s) = TestServer::start(db, |c| {
        c.auth_failures_before_lockout = 3;
        c.max_file_size_mb = 1;
    })
    .await
    else {
        return;
    };
    let (key_id, key) = common::create_key(&s, &["fax:send", "fax:read"]).await;
    let (inbound_key_id, inbound_key) =
        common::create_key(&s, &["inbound:read", "inbound:list"]).await;

    // Accepted upload and its downloads (signed link, preview).
    let mut text = format!("Dear doctor,\n{TEXT_MARK}\ncall +15551234567\n").into_bytes();
    text.extend_from_slice(b"end\n");
    let r = send_fax(&s, &key, "+15551234567", "note.txt", text).await;
    assert_eq!(r.status(), 202);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = send_fax(&s, &key, "+15551234567", "d.pdf", fixture("pdf/dummy.pdf")).await;
    let pdf_id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let link: Value = http()
        .post(s.url(&format!("/fax/{pdf_id}/pdf-link")))
        .header("X-API-Key", &key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let r = http()
        .get(s.url(&format!(
            "/fax/{pdf_id}/pdf?token={}",
            link["token"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = http()
        .get(s.url(&format!("/fax/{id}/preview/1?width=100")))
        .header("X-API-Key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // Rejected uploads: bad number, unsupported type, unreadable PDF, too large.
    let r = send_fax(
        &s,
        &key,
        "+1 (555) 867-5309",
        "a.txt",
        format!("{TEXT_MARK}\n").into_bytes(),
    )
    .await;
    assert_eq!(r.status(), 400);
    let mut binary = b"\xff\xfe\x00".to_vec();
    binary.extend_from_slice(REJECTED_MARK.as_bytes());
    assert_eq!(
        send_fax(&s, &key, "+15557654321", "x.bin", binary)
            .await
            .status(),
        415
    );
    let corrupt = format!("%PDF-1.4\n{CORRUPT_MARK}\n").into_bytes();
    assert_eq!(
        send_fax(&s, &key, "+15557654321", "x.pdf", corrupt)
            .await
            .status(),
        400
    );
    let mut big = format!("%PDF-1.4\n{BIG_MARK}\n").into_bytes();
    big.resize(1024 * 1024 + 100, b'x');
    assert_eq!(
        send_fax(&s, &key, "+15557654321", "big.pdf", big)
            .await
            .status(),
        413
    );

    // Inbound through an agent and through the Asterisk hook, then a download.
    let agent = s.agent("audit-agent");
    let meta = InboundMeta {
        from: Some("+15559990001".into()),
        to: Some("+15559990002".into()),
        pages: Some(1),
        call_id: Some("audit-call".into()),
        ..Default::default()
    };
    let inbound_id = agent
        .upload_inbound(&meta, &fixture("pdf/dummy.pdf"))
        .await
        .unwrap();
    let spool = s.cfg.inbound_spool_dir.clone().unwrap().join("rx.tiff");
    std::fs::write(&spool, fixture("captures/t38_fax_loopback_received.tif")).unwrap();
    let r = http()
        .post(s.url("/_internal/asterisk/inbound"))
        .header("X-Internal-Secret", INTERNAL_SECRET)
        .json(
            &serde_json::json!({"tiff_path": spool.display().to_string(),
            "from_number": "+15559990003", "to_number": "+15559990004"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = http()
        .get(s.url(&format!("/inbound/{inbound_id}/pdf")))
        .header("X-API-Key", &inbound_key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // Key management.
    let r = http()
        .post(s.url(&format!("/admin/api-keys/{inbound_key_id}/rotate")))
        .header("X-API-Key", ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = http()
        .delete(s.url(&format!("/admin/api-keys/{key_id}")))
        .header("X-API-Key", ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // Failures last (they lock this address out): an agent with the wrong secret (counted for
    // agents only), the revoked key (counted for that key only), no key at all (audited, not
    // counted), then three guessed keys trip this address's lockout (limit 3).
    let forger = AgentClient::new(
        &s.base,
        "forger",
        Secret::new("not-the-agent-secret-0123456789abcdef"),
    )
    .unwrap();
    assert!(forger.lease(Duration::ZERO, 1).await.is_err());
    let r = http()
        .get(s.url(&format!("/fax/{id}")))
        .header("X-API-Key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = http()
        .get(s.url(&format!("/fax/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    for guess in ["fbk_live_0123456789ab_guessed", "guessed-1", "guessed-2"] {
        let r = http()
            .get(s.url(&format!("/fax/{id}")))
            .header("X-API-Key", guess)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
    }
    let r = http()
        .get(s.url(&format!("/fax/{id}")))
        .header("X-API-Key", ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429, "locked out");

    let ev = audit_events();
    let by_key = |e: &Value| e["key_id"] == key_id.as_str();
    assert!(has_event(&ev, "api_key_created", |e| e["key_id"] == key_id.as_str()));
    assert!(has_event(&ev, "api_key_rotated", |e| e["key_id"]
        == inbound_key_id.as_str()));
    assert!(has_event(&ev, "api_key_revoked", |e| e["key_id"] == key_id.as_str()));
    assert!(has_event(&ev, "job_created", |e| e["job_id"]
        == id.as_str()
        && e["to"] == "…4567"));
    assert!(has_event(&ev, "pdf_served", |e| e["job_id"] == pdf_id.as_str()));
    assert!(has_event(&ev, "preview_served", |e| e["job_id"] == id.as_str()));
    assert!(has_event(&ev, "inbound_pdf_served", |e| e["inbound_id"]
        == inbound_id.as_str()));
    assert!(has_event(&ev, "inbound_received", |e| e["from"] == "…0001"
        && e["to"] == "…0002"));
    assert!(has_event(&ev, "inbound_received", |e| e["from"] == "…0003"
        && e["via"] == "asterisk_hook"));
    for reason in [
        "invalid number",
        "Only PDF and TXT are allowed",
        "too large",
    ] {
        assert!(
            has_event(&ev, "upload_rejected", |e| by_key(e)
                && e["reason"] == reason),
            "upload_rejected {reason}"
        );
    }
    assert!(has_event(&ev, "upload_rejected", |e| by_key(e) && e["to"] == "…5309"));
    assert!(has_event(&ev, "upload_rejected", |e| by_key(e)
        && e["reason"].as_str().unwrap_or("").contains("damaged")));
    assert!(has_event(&ev, "agent_auth_failed", |_| true));
    assert!(has_event(&ev, "auth_failed", |e| e["reason"] == "invalid key"));
    assert!(has_event(&ev, "auth_failed", |e| e["reason"] == "missing key"));
    assert!(has_event(&ev, "auth_lockout", |_| true));

    // Nothing in the whole log (every crate, every level from INFO) carries a full number,
    // a document's content or a secret.
    let all = log_text();
    for needle in [
        "15551234567",
        "5551234567",
        "867-5309",
        "8675309",
        "15557654321",
        "15559990001",
        "15559990003",
        TEXT_MARK,
        REJECTED_MARK,
        CORRUPT_MARK,
        BIG_MARK,
        "Dear doctor",
        "%PDF-",
        key.as_str(),
        inbound_key.as_str(),
        ADMIN_KEY,
        INTERNAL_SECRET,
        common::AGENT_SECRET,
    ] {
        assert!(!all.contains(needle), "the log contains {needle:?}");
    }
}
both_stores!(audit_log, audit_scenario);

/// A console user in a browser: keeps cookies, never follows redirects.
struct Console {
    base: String,
    client: reqwest::Client,
    cookies: std::collections::HashMap<String, String>,
}

impl Console {
    fn new(s: &TestServer) -> Self {
        Self {
            base: s.base.clone(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: Default::default(),
        }
    }

    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let cookie: Vec<String> = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        self.client
            .request(method, format!("{}{path}", self.base))
            .header("cookie", cookie.join("; "))
    }

    async fn send(&mut self, b: reqwest::RequestBuilder) -> reqwest::Response {
        let r = b.send().await.unwrap();
        for v in r.headers().get_all("set-cookie") {
            let v = v.to_str().unwrap();
            let (k, val) = v.split(';').next().unwrap().split_once('=').unwrap();
            self.cookies.insert(k.to_string(), val.to_string());
        }
        r
    }

    async fn page(&mut self, path: &str) -> String {
        let r = self.send(self.req(reqwest::Method::GET, path)).await;
        assert_eq!(r.status(), 200, "{path}");
        r.text().await.unwrap()
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let b = self
            .req(reqwest::Method::POST, path)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        self.send(b).await
    }

    async fn login(&mut self, user: &str, password: &str) {
        let page = self.page("/login").await;
        let nonce = hidden(&page, "login_nonce");
        let r = self
            .post(
                "/login",
                &[
                    ("username", user),
                    ("password", password),
                    ("login_nonce", &nonce),
                    ("next", "/outbox"),
                ],
            )
            .await;
        assert_eq!(r.status(), 303);
    }

    async fn csrf(&mut self) -> String {
        let page = self.page("/send").await;
        hidden(&page, "csrf")
    }
}

fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.find(&marker).unwrap_or_else(|| panic!("no {name}")) + marker.len();
    page[start..].split('"').next().unwrap().to_string()
}

fn location(r: &reqwest::Response) -> String {
    r.headers()["location"].to_str().unwrap().to_string()
}

/// Unique markers in what the console sends (a typed text, a cover note, a bulk document).
const CONSOLE_TEXT_MARK: &str = "PATIENT-CONSOLE-TEXT-3b8e21";
const CONSOLE_COVER_MARK: &str = "PATIENT-CONSOLE-COVER-c90d44";
const CONSOLE_BULK_MARK: &str = "PATIENT-CONSOLE-BULK-51fa0e";
const CONSOLE_BULK_COVER_MARK: &str = "PATIENT-CONSOLE-BULKCOVER-7d2a90";

/// The console's sending lines write their audit events: who (the user), what (draft, job,
/// batch ids and counts), the numbers masked to their last four digits; never a full number, a
/// document's content or the cover page's text.
async fn console_audit_scenario(db: Db) {
    log();
    let Some(s) = TestServer::start(db, |_| {}).await else {
        return;
    };
    let user = format!("clerk{}", if db == Db::Sqlite { "sq" } else { "pg" });
    let password = "orchid-5Tz!harbor-19";
    faxline_api::console::add_user(&s.store, &user, password, "staff")
        .await
        .unwrap();
    let actor = format!("user:{user}");
    let mut c = Console::new(&s);
    c.login(&user, password).await;

    // Send: prepared as a draft (previewed), then sent as two jobs.
    let csrf = c.csrf().await;
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf.clone())
        .text("to", "+1 555 222 0001\n+15552220002")
        .text("text", format!("Results:\n{CONSOLE_TEXT_MARK}\n"))
        .text("cover_note", format!("Call back {CONSOLE_COVER_MARK}"))
        .part(
            "file",
            reqwest::multipart::Part::bytes(fixture("pdf/dummy.pdf")).file_name("d.pdf"),
        );
    let r = c
        .send(c.req(reqwest::Method::POST, "/send").multipart(form))
        .await;
    assert_eq!(r.status(), 303);
    let draft = location(&r).trim_start_matches("/drafts/").to_string();
    c.page(&format!("/drafts/{draft}")).await;
    let r = c
        .send(c.req(
            reqwest::Method::GET,
            &format!("/drafts/{draft}/page/1?width=100"),
        ))
        .await;
    assert_eq!(r.status(), 200);
    let r = c
        .post(&format!("/drafts/{draft}/send"), &[("csrf", &csrf)])
        .await;
    assert_eq!(location(&r), "/outbox?sent=2");
    let jobs = s
        .store
        .jobs()
        .list(&faxline_api::store::JobFilter {
            owner_key_id: Some(actor.clone()),
            status: None,
            to_number: None,
            limit: 10,
            offset: 0,
        })
        .await
        .unwrap()
        .1;
    assert_eq!(jobs.len(), 2);
    let first = jobs.iter().find(|j| j.to_number == "+15552220001").unwrap();

    // A draft discarded.
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf.clone())
        .text("to", "+15552220003")
        .text("text", format!("{CONSOLE_TEXT_MARK}\n"));
    let r = c
        .send(c.req(reqwest::Method::POST, "/send").multipart(form))
        .await;
    let discarded = location(&r).trim_start_matches("/drafts/").to_string();
    let r = c
        .post(&format!("/drafts/{discarded}/discard"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), 303);

    // Cancel, then send again.
    let r = c
        .post(&format!("/outbox/{}/cancel", first.id), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), 303);
    let page = c.page(&format!("/outbox/{}", first.id)).await;
    let r = c
        .post(
            &format!("/outbox/{}/retry", first.id),
            &[("csrf", &csrf), ("form_id", &hidden(&page, "form_id"))],
        )
        .await;
    assert_eq!(r.status(), 303);
    let retried = location(&r).trim_start_matches("/outbox/").to_string();

    // Bulk: three recipients with cover fields per row (and a refused row), previewed, confirmed;
    // paused once two jobs exist, then cancelled.
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf.clone())
        .text(
            "list",
            format!(
                "number,name,note\n+15552220011,Dr. A,{CONSOLE_BULK_COVER_MARK}\n+15552220012,Dr. B,x\n\
                 +15552220013,Dr. C,y\n+1555222abc,Dr. D,z\n"
            ),
        )
        .part(
            "file",
            reqwest::multipart::Part::bytes(
                format!("Bulk memo {CONSOLE_BULK_MARK}\n").into_bytes(),
            )
            .file_name("memo.txt"),
        );
    let r = c
        .send(c.req(reqwest::Method::POST, "/bulk").multipart(form))
        .await;
    assert_eq!(r.status(), 303);
    let batch = location(&r).trim_start_matches("/bulk/").to_string();
    c.page(&format!("/bulk/{batch}")).await;
    let r = c
        .post(&format!("/bulk/{batch}/confirm"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), 303);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let with_job = s
            .store
            .bulk()
            .recipients(&batch, 10)
            .await
            .unwrap()
            .iter()
            .filter(|r| r.job_id.is_some())
            .count();
        if with_job >= 2 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "bulk queue did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let r = c
        .post(&format!("/bulk/{batch}/pause"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), 303);
    let r = c
        .post(&format!("/bulk/{batch}/cancel"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), 303);

    let ev = audit_events();
    let mine = |e: &Value| e["user"] == user.as_str();
    assert!(has_event(&ev, "console_login", mine));
    assert!(
        has_event(&ev, "console_draft_created", |e| mine(e)
            && e["draft"] == draft.as_str()
            && e["numbers"] == 2
            && e["parts"] == 2
            && e["cover"] == true
            && e["to"] == "…0001,…0002"),
        "console_draft_created"
    );
    assert!(has_event(&ev, "console_draft_viewed", |e| mine(e)
        && e["draft"] == draft.as_str()));
    assert!(has_event(&ev, "preview_served", |e| e["draft"]
        == draft.as_str()
        && e["key_id"] == actor.as_str()));
    assert!(
        has_event(&ev, "console_draft_sent", |e| mine(e)
            && e["draft"] == draft.as_str()
            && e["faxes"] == 2
            && e["to"] == "…0001,…0002"),
        "console_draft_sent"
    );
    for (job, to) in jobs.iter().map(|j| (j.id.as_str(), j.to_number.as_str())) {
        let masked = format!("…{}", &to[to.len() - 4..]);
        assert!(
            has_event(&ev, "job_created", |e| e["job_id"] == job
                && e["key_id"] == actor.as_str()
                && e["to"] == masked.as_str()),
            "job_created {masked}"
        );
    }
    assert!(has_event(&ev, "console_draft_discarded", |e| mine(e)
        && e["draft"] == discarded.as_str()
        && e["numbers"] == 1));
    assert!(has_event(&ev, "job_cancelled", |e| e["job_id"]
        == first.id.as_str()
        && e["key_id"] == actor.as_str()
        && e["to"] == "…0001"));
    assert!(has_event(&ev, "job_retried", |e| e["job_id"]
        == first.id.as_str()
        && e["new_job_id"] == retried.as_str()
        && e["key_id"] == actor.as_str()
        && e["to"] == "…0001"));
    assert!(has_event(&ev, "bulk_created", |e| mine(e)
        && e["batch"] == batch.as_str()
        && e["recipients"] == 3
        && e["refused"] == 1
        && e["cover"] == true));
    assert!(has_event(&ev, "bulk_previewed", |e| mine(e)
        && e["batch"] == batch.as_str()));
    assert!(has_event(&ev, "bulk_confirmed", |e| mine(e)
        && e["batch"] == batch.as_str()));
    for masked in ["…0011", "…0012"] {
        assert!(
            has_event(&ev, "job_created", |e| e["key_id"] == actor.as_str()
                && e["to"] == masked),
            "bulk job_created {masked}"
        );
    }
    for state in ["paused", "cancelled"] {
        assert!(
            has_event(&ev, "bulk_state", |e| mine(e)
                && e["batch"] == batch.as_str()
                && e["state"] == state),
            "bulk_state {state}"
        );
    }
    // The bulk jobs not yet taken by an agent were cancelled with the batch, by this user.
    let bulk_jobs: Vec<String> = s
        .store
        .bulk()
        .recipients(&batch, 10)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|r| r.job_id)
        .collect();
    assert!(!bulk_jobs.is_empty());
    for j in &bulk_jobs {
        assert!(has_event(&ev, "job_cancelled", |e| e["job_id"]
            == j.as_str()
            && e["key_id"] == actor.as_str()));
    }

    // Nowhere in the log: a full number, what the documents or the cover page say.
    let all = log_text();
    for needle in [
        "5552220001",
        "5552220002",
        "5552220003",
        "5552220011",
        "5552220012",
        "5552220013",
        "555 222",
        CONSOLE_TEXT_MARK,
        CONSOLE_COVER_MARK,
        CONSOLE_BULK_MARK,
        CONSOLE_BULK_COVER_MARK,
        "Call back",
        "Bulk memo",
        password,
    ] {
        assert!(!all.contains(needle), "the log contains {needle:?}");
    }
}
both_stores!(console_audit_log, console_audit_scenario);
