//! The Phaxio line end to end: the real API and agent over HTTP on 127.0.0.1, and a local stand-in for
//! Phaxio's REST API v2.1 written from its public reference (`POST /v2.1/faxes` multipart with HTTP Basic
//! auth, `{success, message, data: {id}}`; `GET /v2.1/faxes/{id}`; signed status callbacks to the
//! `callback_url` with `fax` as a JSON field, signed with the account's callback token).

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Multipart, Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use faxline_agent::config::{Config, Secret as AgentSecret, SecretSource};
use faxline_agent::lines::LineKind;
use faxline_api::config::Secret;
use faxline_protocol::client::AgentClient;
use serde_json::{Value, json};

use common::{AGENT_SECRET, Api, fixtures};

const KEY: &str = "phaxio-test-key";
const SECRET: &str = "3c9a0f7e51b24d86a7e0c3f95b1d2e48";
const TOKEN: &str = "e81b4c0d7a2f965c3b08d1e7f4a9620b";

/// What the stand-in does with the next submissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Accepts, then calls back `success`.
    Deliver,
    /// Accepts, sends; the callback is lost (only the status API knows).
    LoseWebhook,
    /// Accepts, then calls back `failure` with Phaxio's reason.
    Fail,
    /// Answers 500.
    ServerError,
    /// Never answers in time.
    Hang,
    /// Answers 200 with a body that is not JSON.
    Garbage,
    /// Like `Deliver`, but the whole API starts down (503) until the test sets [`StandIn::down`] false.
    Outage,
}

#[derive(Debug, Clone)]
struct Submitted {
    id: u64,
    to: String,
    job_tag: String,
    file: Vec<u8>,
    file_type: String,
    callback_url: Option<String>,
}

struct StandIn {
    mode: Mode,
    /// Phaxio's whole API is down (503), the account status included.
    down: AtomicBool,
    next_id: AtomicU64,
    submitted: Mutex<Vec<Submitted>>,
    status_polls: AtomicUsize,
    callbacks: Mutex<Vec<u16>>,
}

fn authorized(h: &HeaderMap) -> bool {
    use base64::Engine;
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{KEY}:{SECRET}"))
    );
    h.get("authorization").and_then(|v| v.to_str().ok()) == Some(expected.as_str())
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        axum::Json(json!({"success": false, "message": "Invalid API credentials"})),
    )
        .into_response()
}

fn unavailable() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        axum::Json(json!({"success": false, "message": "Service temporarily unavailable"})),
    )
        .into_response()
}

fn rfc3339_now() -> String {
    format!(
        "{}Z",
        faxline_protocol::time::iso(faxline_protocol::time::now_us())
    )
}

/// The fax object as Phaxio shows it, final.
fn fax_object(st: &StandIn, f: &Submitted) -> Value {
    let failed = st.mode == Mode::Fail;
    json!({
        "id": f.id, "direction": "sent", "num_pages": 1, "is_test": false,
        "status": if failed { "failure" } else { "success" },
        "tags": {"faxline_job": f.job_tag},
        "created_at": rfc3339_now(), "completed_at": rfc3339_now(),
        "error_type": if failed { Some("fatalError") } else { None },
        "error_message": if failed { Some("Phone number not operational") } else { None },
        "recipients": [{"phone_number": f.to, "status": if failed { "failure" } else { "success" }}],
    })
}

async fn submit(State(st): State<Arc<StandIn>>, h: HeaderMap, mut mp: Multipart) -> Response {
    if st.down.load(Ordering::SeqCst) {
        return unavailable();
    }
    if !authorized(&h) {
        return unauthorized();
    }
    match st.mode {
        Mode::ServerError => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                axum::Json(json!({"success": false, "message": "Internal server error"})),
            )
                .into_response();
        }
        Mode::Hang => {
            tokio::time::sleep(Duration::from_secs(30)).await;
        }
        Mode::Garbage => return (StatusCode::OK, "<html>gateway</html>").into_response(),
        _ => {}
    }
    let id = st.next_id.fetch_add(1, Ordering::SeqCst);
    let mut f = Submitted {
        id,
        to: String::new(),
        job_tag: String::new(),
        file: Vec::new(),
        file_type: String::new(),
        callback_url: None,
    };
    while let Some(field) = mp.next_field().await.unwrap() {
        match field.name().unwrap_or("") {
            "to" => f.to = field.text().await.unwrap(),
            "tags[faxline_job]" => f.job_tag = field.text().await.unwrap(),
            "callback_url" => f.callback_url = Some(field.text().await.unwrap()),
            "file" => {
                f.file_type = field.content_type().unwrap_or("").to_owned();
                f.file = field.bytes().await.unwrap().to_vec();
            }
            _ => {}
        }
    }
    if f.to.is_empty() || f.file.is_empty() {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(
                json!({"success": false, "message": "You must provide a phone number and a file"}),
            ),
        )
            .into_response();
    }
    st.submitted.lock().unwrap().push(f.clone());
    if st.mode != Mode::LoseWebhook
        && let Some(url) = f.callback_url.clone()
    {
        let st = st.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let fields: Vec<(String, String)> = vec![
                ("success".into(), (st.mode != Mode::Fail).to_string()),
                ("is_test".into(), "false".into()),
                ("direction".into(), "sent".into()),
                ("event_type".into(), "fax_completed".into()),
                ("fax".into(), fax_object(&st, &f).to_string()),
            ];
            let sig = faxline_api::cloud::phaxio::signature(TOKEN.as_bytes(), &url, &fields, &[]);
            let mut body = reqwest::Url::parse("http://form.invalid/").unwrap();
            body.query_pairs_mut().extend_pairs(&fields);
            let r = reqwest::Client::new()
                .post(&url)
                .header("X-Phaxio-Signature", sig)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body.query().unwrap_or("").to_owned())
                .send()
                .await
                .unwrap();
            st.callbacks.lock().unwrap().push(r.status().as_u16());
        });
    }
    axum::Json(json!({"success": true, "message": "Fax queued for sending", "data": {"id": id}}))
        .into_response()
}

async fn status(
    State(st): State<Arc<StandIn>>,
    h: HeaderMap,
    UrlPath(id): UrlPath<u64>,
) -> Response {
    if !authorized(&h) {
        return unauthorized();
    }
    st.status_polls.fetch_add(1, Ordering::SeqCst);
    let found = st
        .submitted
        .lock()
        .unwrap()
        .iter()
        .find(|f| f.id == id)
        .cloned();
    match found {
        Some(f) => axum::Json(json!({"success": true, "message": "Retrieved fax successfully", "data": fax_object(&st, &f)}))
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"success": false, "message": "Fax not found"})),
        )
            .into_response(),
    }
}

async fn start_stand_in(mode: Mode) -> (Arc<StandIn>, String) {
    let st = Arc::new(StandIn {
        mode,
        down: AtomicBool::new(mode == Mode::Outage),
        next_id: AtomicU64::new(70_001),
        submitted: Mutex::new(Vec::new()),
        status_polls: AtomicUsize::new(0),
        callbacks: Mutex::new(Vec::new()),
    });
    let app = axum::Router::new()
        .route("/v2.1/faxes", post(submit))
        .route("/v2.1/faxes/{id}", get(status))
        .route(
            "/v2.1/account/status",
            get(|State(st): State<Arc<StandIn>>, h: HeaderMap| async move {
                if st.down.load(Ordering::SeqCst) {
                    return unavailable();
                }
                if !authorized(&h) {
                    return unauthorized();
                }
                axum::Json(
                    json!({"success": true, "message": "Account status retrieved successfully",
                    "data": {"balance": 1000, "faxes_today": 0, "faxes_this_month": 0}}),
                )
                .into_response()
            }),
        )
        .with_state(st.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/v2.1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (st, base)
}

struct Site {
    api: Api,
    phaxio: Arc<StandIn>,
    agent: tokio::task::JoinHandle<()>,
    _tmp: tempfile::TempDir,
}

/// The API (Phaxio's callbacks verified with `TOKEN`), the stand-in and the agent on the Phaxio line.
async fn site(mode: Mode, reconcile_after: u64, tweak: impl FnOnce(&mut Config)) -> Site {
    site_until(mode, reconcile_after, tweak, std::future::pending()).await
}

/// [`site`] with the agent stopping when `shutdown` resolves.
async fn site_until(
    mode: Mode,
    reconcile_after: u64,
    tweak: impl FnOnce(&mut Config),
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Site {
    let tmp = tempfile::tempdir().unwrap();
    let api = Api::start_with(tmp.path(), "127.0.0.1:0", |c, base| {
        c.backend = "phaxio".into();
        c.phaxio_callback_token = Some(Secret::new(TOKEN));
        c.public_api_url = Some(base.to_owned());
        c.allow_insecure_public_url = true;
    })
    .await;
    let (phaxio, phaxio_base) = start_stand_in(mode).await;
    let mut cfg = agent_config(&tmp.path().join("spool"), &api.base);
    cfg.line.kind = LineKind::Phaxio;
    let p = &mut cfg.lines.phaxio;
    p.api_key = Some(KEY.into());
    p.api_secret = Some(AgentSecret::with_source(SECRET, SecretSource::Inline));
    p.base_url = phaxio_base;
    p.allow_http = true;
    p.callback_url = Some(format!("{}/phaxio-callback", api.base));
    p.reconcile_after_seconds = reconcile_after;
    p.request_timeout_seconds = 2;
    tweak(&mut cfg);
    let mut problems = Vec::new();
    faxline_agent::lines::check_config(&cfg, &mut problems);
    assert!(problems.is_empty(), "{problems:?}");
    let client = AgentClient::new(
        &api.base,
        "site1",
        faxline_protocol::Secret::new(AGENT_SECRET),
    )
    .unwrap();
    let agent = tokio::spawn(async move {
        faxline_agent::lines::run(std::sync::Arc::new(cfg), client, shutdown)
            .await
            .expect("the agent runs");
    });
    Site {
        api,
        phaxio,
        agent,
        _tmp: tmp,
    }
}

fn agent_config(spool: &Path, api_base: &str) -> Config {
    let mut c = Config::default();
    c.spool.dir = spool.to_path_buf();
    c.api_client.base_url = Some(api_base.to_owned());
    c.api_client.agent_id = Some("site1".into());
    c.api_client.agent_secret = Some(AgentSecret::with_source(AGENT_SECRET, SecretSource::Inline));
    c.api_client.allow_http = true;
    c.agent.lease_poll_secs = 1;
    c.agent.shutdown_grace_secs = 0;
    // One attempt: what a single call did is what the job shows.
    c.retry.max_attempts = 1;
    c
}

impl Site {
    fn submitted(&self) -> Vec<Submitted> {
        self.phaxio.submitted.lock().unwrap().clone()
    }
    async fn stop(mut self) {
        self.agent.abort();
        let _ = tokio::time::timeout(Duration::from_secs(5), &mut self.agent).await;
        self.api.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fax_goes_out_through_phaxio_and_ends_by_its_signed_webhook() {
    let s = site(Mode::Deliver, 60, |_| {}).await;
    let id = s.api.submit("+15551230000").await;
    let job = s.api.final_job(&id).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    assert_eq!(job["pages"], 1);
    assert_eq!(job["backend"], "phaxio");
    let sent = s.submitted();
    assert_eq!(sent.len(), 1, "one submission");
    assert_eq!(job["provider_sid"], sent[0].id.to_string());
    assert_eq!(sent[0].to, "+15551230000", "E.164");
    assert_eq!(sent[0].job_tag, id);
    assert_eq!(sent[0].file_type, "application/pdf");
    let upload = std::fs::read(fixtures().join("pdf/dummy.pdf")).unwrap();
    assert_eq!(sent[0].file, upload, "the original document, unrendered");
    assert_eq!(
        *s.phaxio.callbacks.lock().unwrap(),
        vec![200],
        "the signed callback was taken"
    );
    assert_eq!(
        s.phaxio.status_polls.load(Ordering::SeqCst),
        0,
        "the webhook ended it; no reconcile poll was needed"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_webhook_is_reconciled_from_phaxios_status_api() {
    let s = site(Mode::LoseWebhook, 1, |_| {}).await;
    let id = s.api.submit("+15551230001").await;
    let job = s.api.final_job(&id).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    assert_eq!(job["pages"], 1);
    assert!(s.phaxio.status_polls.load(Ordering::SeqCst) >= 1);
    assert!(s.phaxio.callbacks.lock().unwrap().is_empty());
    assert_eq!(s.submitted().len(), 1);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_fax_carries_phaxios_reason() {
    let s = site(Mode::Fail, 60, |_| {}).await;
    let id = s.api.submit("+15551230002").await;
    let job = s.api.final_job(&id).await;
    assert_eq!(job["status"], "FAILED", "{job}");
    let error = job["error"].as_str().unwrap();
    assert!(error.contains("Phone number not operational"), "{error}");
    assert!(error.contains("invalid number"), "classified: {error}");
    assert_eq!(job["provider_sid"], s.submitted()[0].id.to_string());
    s.stop().await;
}

/// Provider trouble ends the job with a clear error and never submits twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_errors_timeouts_and_garbage_are_clear() {
    for (mode, expect) in [
        (Mode::ServerError, "HTTP 500"),
        (Mode::Hang, "did not answer"),
        (Mode::Garbage, "not JSON"),
    ] {
        let s = site(mode, 60, |_| {}).await;
        let id = s.api.submit("+15551230003").await;
        let job = s.api.final_job(&id).await;
        assert_eq!(job["status"], "FAILED", "{mode:?}: {job}");
        let error = job["error"].as_str().unwrap();
        assert!(error.contains(expect), "{mode:?}: {error}");
        assert!(job["provider_sid"].is_null(), "{mode:?}: {job}");
        // The line reports the provider's trouble in its next lease poll; readiness names it.
        let start = std::time::Instant::now();
        loop {
            let ready: serde_json::Value = reqwest::get(format!("{}/health/ready", s.api.base))
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let named = ready["reasons"].as_array().is_some_and(|r| {
                r.iter().any(|t| {
                    t.as_str()
                        .is_some_and(|t| t.contains("phaxio line: the provider's API"))
                })
            });
            if named {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "{mode:?}: readiness never named the provider: {ready}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        s.stop().await;
    }
}

/// Waits until `/health/ready` names `reason` (or, with `named = false`, no longer does).
async fn readiness_names(api: &Api, reason: &str, named: bool) -> Value {
    let start = std::time::Instant::now();
    loop {
        let ready: Value = reqwest::get(format!("{}/health/ready", api.base))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let has = ready["reasons"]
            .as_array()
            .is_some_and(|r| r.iter().any(|t| t.as_str() == Some(reason)));
        if has == named {
            return ready;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "readiness {} {reason:?}: {ready}",
            if named { "never named" } else { "kept naming" }
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Wrong credentials are found by the line's first check, before any fax: readiness says so and the faxes
/// wait in the queue instead of each failing with HTTP 401.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_are_named_in_readiness_and_hold_the_faxes() {
    let s = site(Mode::Deliver, 60, |c| {
        c.lines.phaxio.api_secret = Some(AgentSecret::with_source(
            "0000111122223333wrongwrongwrong9",
            SecretSource::Inline,
        ));
    })
    .await;
    let ready = readiness_names(
        &s.api,
        "agent site1: phaxio line: the provider refused the API credentials (check the key and secret)",
        true,
    )
    .await;
    assert_eq!(ready["status"], "not_ready", "{ready}");
    let id = s.api.submit("+15551230004").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let job = s.api.job(&id).await;
    assert_eq!(job["status"], "queued", "{job}");
    assert!(s.submitted().is_empty());
    s.stop().await;
}

/// Phaxio down when the agent starts: readiness names it, the fax waits; Phaxio back: the line's next check
/// passes, readiness clears and the fax goes, without restarting anything.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_outage_holds_the_faxes_and_clears_by_itself() {
    let s = site(Mode::Outage, 60, |c| {
        c.lines.phaxio.health_check_seconds = 1
    })
    .await;
    let reason = "agent site1: phaxio line: the provider's API is unreachable or failing";
    readiness_names(&s.api, reason, true).await;
    let id = s.api.submit("+15551230006").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(s.api.job(&id).await["status"], "queued");
    assert!(s.submitted().is_empty());
    s.phaxio.down.store(false, Ordering::SeqCst);
    readiness_names(&s.api, reason, false).await;
    let job = s.api.final_job(&id).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    assert_eq!(s.submitted().len(), 1);
    s.stop().await;
}

#[test]
fn the_phaxio_line_needs_its_credentials_and_faxbots_names_work() {
    use faxline_agent::config::Env;
    let env = Env::from_pairs([
        ("FAX_BACKEND", "phaxio"),
        ("PHAXIO_API_KEY", KEY),
        ("PHAXIO_API_SECRET", SECRET),
        (
            "PHAXIO_CALLBACK_URL",
            "https://fax.example.org/phaxio-callback",
        ),
    ]);
    let cfg = Config::from_toml_str("", "test", &env).unwrap();
    assert_eq!(cfg.line.kind, LineKind::Phaxio);
    assert_eq!(cfg.lines.phaxio.api_key.as_deref(), Some(KEY));
    assert_eq!(
        cfg.lines.phaxio.api_secret.as_ref().unwrap().expose(),
        SECRET
    );
    let mut p = Vec::new();
    faxline_agent::lines::check_config(&cfg, &mut p);
    assert!(p.is_empty(), "{p:?}");
    // Faxbot's `sip` backend is Asterisk: it does not pick Faxline's own SIP line.
    let cfg =
        Config::from_toml_str("", "test", &Env::from_pairs([("FAX_BACKEND", "sip")])).unwrap();
    assert_eq!(cfg.line.kind, LineKind::default());
    // Without credentials, or over plain HTTP, the line is refused with the setting named.
    let cfg = Config::from_toml_str(
        "[line]\nkind = \"phaxio\"\n[phaxio]\nbase_url = \"http://api.phaxio.com/v2.1\"\n",
        "test",
        &Env::default(),
    )
    .unwrap();
    let mut p = Vec::new();
    faxline_agent::lines::check_config(&cfg, &mut p);
    let settings: Vec<&str> = p.iter().map(|p| p.setting.as_str()).collect();
    for s in ["phaxio.api_key", "phaxio.api_secret", "phaxio.base_url"] {
        assert!(settings.contains(&s), "{settings:?}");
    }
}

/// An agent stopping while Phaxio still sends does not give the job back for another submission (which
/// could send the fax twice): the attempt ends "outcome unknown", naming the provider's fax id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_while_phaxio_sends_never_resubmits() {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    // A grace period short enough for the test: the call is hung up after most of it, then reported.
    let s = site_until(
        Mode::LoseWebhook,
        600,
        |c| c.agent.shutdown_grace_secs = 4,
        async move {
            let _ = stopped.await;
        },
    )
    .await;
    let id = s.api.submit("+15551230005").await;
    let start = std::time::Instant::now();
    while s.submitted().is_empty() {
        assert!(start.elapsed() < Duration::from_secs(30), "never submitted");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.send(()).unwrap();
    let job = s.api.final_job(&id).await;
    assert_eq!(job["status"], "FAILED", "{job}");
    let error = job["error"].as_str().unwrap();
    assert!(
        error.contains("outcome unknown") && error.contains("agent stopped"),
        "{error}"
    );
    let sent = s.submitted();
    assert_eq!(sent.len(), 1, "submitted once");
    assert_eq!(job["provider_sid"], sent[0].id.to_string());
    s.stop().await;
}

/// An agent lost while Phaxio has the fax (no grace to report, as when killed): the API does not queue the job
/// for another submission when its lease expires, since the line had recorded the provider's fax id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_lost_while_phaxio_sends_is_not_queued_again() {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let s = site_until(Mode::LoseWebhook, 600, |_| {}, async move {
        let _ = stopped.await;
    })
    .await;
    let id = s.api.submit("+15551230006").await;
    let start = std::time::Instant::now();
    while s.api.job(&id).await["provider_sid"].is_null() {
        assert!(start.elapsed() < Duration::from_secs(30), "never submitted");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.send(()).unwrap();
    let job = s.api.final_job(&id).await;
    assert_eq!(job["status"], "FAILED", "{job}");
    // Two honest endings, depending on whether the stopping agent's report reaches the API before it
    // exits: its own "outcome unknown", or the API's when the lease runs out (tested on its own in the
    // API's `cloud_webhooks`). Either way the job is failed, never queued for a second submission.
    let error = job["error"].as_str().unwrap();
    assert!(
        error.contains("not sent again")
            || error.contains("the agent stopped while the provider was sending"),
        "{error}"
    );
    assert!(error.starts_with("outcome unknown"), "{error}");
    assert_eq!(s.submitted().len(), 1, "submitted once");
    s.stop().await;
}

/// `faxline agent --check` asks Phaxio whether it accepts the credentials, and says clearly when not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_check_asks_phaxio_whether_it_accepts_the_credentials() {
    use faxline_agent::lines::CheckLevel;
    let (_phaxio, base) = start_stand_in(Mode::Deliver).await;
    let mut cfg = agent_config(Path::new("/nonexistent"), "http://127.0.0.1:9");
    cfg.line.kind = LineKind::Phaxio;
    cfg.lines.phaxio.api_key = Some(KEY.into());
    cfg.lines.phaxio.api_secret = Some(AgentSecret::with_source(SECRET, SecretSource::Inline));
    cfg.lines.phaxio.base_url = base.clone();
    cfg.lines.phaxio.allow_http = true;
    let checks = faxline_agent::lines::check_connectivity(&cfg).await;
    assert_eq!(checks.len(), 1);
    assert_eq!(checks[0].level, CheckLevel::Ok, "{:?}", checks[0].text);
    cfg.lines.phaxio.api_secret = Some(AgentSecret::with_source(
        "9f8e7d6c5b4a39281706f5e4d3c2b1a0",
        SecretSource::Inline,
    ));
    let checks = faxline_agent::lines::check_connectivity(&cfg).await;
    assert_eq!(checks[0].level, CheckLevel::Error);
    assert!(checks[0].text.contains("HTTP 401"), "{}", checks[0].text);
    cfg.lines.phaxio.base_url = "http://127.0.0.1:9/v2.1".into();
    let checks = faxline_agent::lines::check_connectivity(&cfg).await;
    assert_eq!(checks[0].level, CheckLevel::Error);
    assert!(
        checks[0].text.contains("cannot reach"),
        "{}",
        checks[0].text
    );
}
