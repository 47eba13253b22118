//! The SignalWire line end to end: the real API and agent over HTTP on 127.0.0.1, and a local stand-in for
//! SignalWire's Compatibility (LaML) Fax API written from its public reference (`POST
//! /api/laml/2010-04-01/Accounts/{project}/Faxes` form-encoded with HTTP Basic, answering the fax resource
//! with its `sid`; SignalWire fetching the document from `MediaUrl`; `GET .../Faxes/{sid}.json`; `GET
//! .../Faxes.json` for the health check; errors as `{code, message, more_info, status}`; the fax's
//! `StatusCallback` posts `queued` → `processing` → `sending` → `delivered`/`failed`, each signed like
//! Twilio's with a test signing key).

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use faxline_agent::config::{Config, Secret as AgentSecret, SecretSource};
use faxline_agent::lines::LineKind;
use faxline_protocol::client::AgentClient;
use serde_json::{Value, json};

use common::{AGENT_SECRET, Api, fixtures};

const PROJECT: &str = "a1b2c3d4-0000-4000-8000-00000000beef";
const TOKEN: &str = "PT_test_token_5e6f7a8b9c0d1e2f3a4b";
const SIGNING_KEY: &str = "PSK_test_0b4e2f6a9c13d57e8f0a2b4c";
const FROM: &str = "+15550009999";

/// What the stand-in does with the next submissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Accepts, fetches the document, then posts the status callbacks up to `delivered`.
    Deliver,
    /// Accepts and sends; the callbacks are lost (only the fax resource knows).
    LoseCallback,
    /// Accepts, then `failed` with SignalWire's code and message.
    Fail,
    /// Answers 500.
    ServerError,
    /// Answers 400: the destination number is invalid (21211).
    BadNumber,
    /// Never answers in time.
    Hang,
    /// Answers 201 with a body that is not JSON.
    Garbage,
    /// Like `Deliver`, but the whole API starts down (503) until the test sets [`StandIn::down`] false.
    Outage,
}

#[derive(Debug, Clone)]
struct Submitted {
    sid: String,
    form: Vec<(String, String)>,
    /// The document as SignalWire fetched it from `MediaUrl`.
    media: Vec<u8>,
}

impl Submitted {
    fn field(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

struct StandIn {
    mode: Mode,
    next_id: AtomicU64,
    submitted: Mutex<Vec<Submitted>>,
    status_polls: AtomicUsize,
    /// The API's answers to the callbacks sent.
    callbacks: Mutex<Vec<u16>>,
    /// SignalWire's whole API is down (503).
    down: AtomicBool,
}

fn authorized(h: &HeaderMap) -> bool {
    let want = format!("Basic {}", STANDARD.encode(format!("{PROJECT}:{TOKEN}")));
    h.get("authorization").and_then(|v| v.to_str().ok()) == Some(want.as_str())
}

fn error(status: StatusCode, code: u32, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"code": code, "message": message,
            "more_info": "https://developer.signalwire.com/compatibility-api/reference/error-codes",
            "status": status.as_u16()})),
    )
        .into_response()
}

fn unauthorized() -> Response {
    error(
        StatusCode::UNAUTHORIZED,
        20003,
        "Authentication Error - invalid username",
    )
}

/// Signs and posts one status callback as SignalWire does; returns the API's answer.
async fn post_callback(url: &str, fields: &[(String, String)]) -> u16 {
    let sig = faxline_api::cloud::signalwire::signature(SIGNING_KEY.as_bytes(), url, fields);
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    reqwest::Client::new()
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("X-SignalWire-Signature", sig)
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The fax resource as SignalWire shows it.
fn fax_resource(f: &Submitted, status: &str) -> Value {
    let failed = status == "failed";
    json!({
        "sid": f.sid, "account_sid": PROJECT, "api_version": "v1", "direction": "outbound",
        "from": FROM, "to": f.field("To"), "media_url": f.field("MediaUrl"),
        "status": status, "num_pages": if status == "queued" { None } else { Some(1) },
        "quality": f.field("Quality").unwrap_or("fine"),
        "error_code": if failed { Some(15002) } else { None },
        "error_message": if failed { Some("The call to +15551230002 dropped before the fax was sent") } else { None },
        "date_created": "Fri, 04 Dec 2026 10:00:00 +0000",
    })
}

async fn submit(State(st): State<Arc<StandIn>>, h: HeaderMap, body: String) -> Response {
    if st.down.load(Ordering::SeqCst) {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            20503,
            "Service unavailable",
        );
    }
    if !authorized(&h) {
        return unauthorized();
    }
    match st.mode {
        Mode::ServerError => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                20500,
                "Internal Server Error",
            );
        }
        Mode::BadNumber => {
            return error(
                StatusCode::BAD_REQUEST,
                21211,
                "The 'To' number +15551230004 is not a valid phone number.",
            );
        }
        Mode::Hang => tokio::time::sleep(Duration::from_secs(30)).await,
        Mode::Garbage => return (StatusCode::CREATED, "<html>gateway</html>").into_response(),
        _ => {}
    }
    let form: Vec<(String, String)> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    for field in ["To", "MediaUrl"] {
        if get(field).is_none() {
            return error(
                StatusCode::BAD_REQUEST,
                21604,
                &format!("A '{field}' parameter is required."),
            );
        }
    }
    // SignalWire fetches the document by URL.
    let media = reqwest::get(get("MediaUrl").unwrap()).await.unwrap();
    if !media.status().is_success() {
        return error(
            StatusCode::BAD_REQUEST,
            15003,
            "MediaUrl could not be fetched",
        );
    }
    let media = media.bytes().await.unwrap().to_vec();
    let sid = format!(
        "b3877c40-da60-4998-90ad-{:012}",
        st.next_id.fetch_add(1, Ordering::SeqCst)
    );
    let f = Submitted {
        sid: sid.clone(),
        form: form.clone(),
        media,
    };
    st.submitted.lock().unwrap().push(f.clone());
    if st.mode != Mode::LoseCallback
        && let Some(callback) = get("StatusCallback")
    {
        let st = st.clone();
        let f = f.clone();
        tokio::spawn(async move {
            let last = if st.mode == Mode::Fail {
                "failed"
            } else {
                "delivered"
            };
            for status in ["queued", "processing", "sending", last] {
                tokio::time::sleep(Duration::from_millis(150)).await;
                let mut fields: Vec<(String, String)> = [
                    ("AccountSid", PROJECT),
                    ("ApiVersion", "v1"),
                    ("Direction", "outbound"),
                    ("FaxSid", f.sid.as_str()),
                    ("FaxStatus", status),
                    ("From", FROM),
                    ("To", f.field("To").unwrap_or("")),
                ]
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
                if status != "queued" {
                    fields.push(("NumPages".into(), "1".into()));
                }
                if status == "failed" {
                    fields.push(("ErrorCode".into(), "15002".into()));
                    fields.push((
                        "ErrorMessage".into(),
                        "The call to +15551230002 dropped before the fax was sent".into(),
                    ));
                }
                let code = post_callback(&callback, &fields).await;
                st.callbacks.lock().unwrap().push(code);
            }
        });
    }
    (StatusCode::CREATED, axum::Json(fax_resource(&f, "queued"))).into_response()
}

async fn status(
    State(st): State<Arc<StandIn>>,
    h: HeaderMap,
    UrlPath((_, file)): UrlPath<(String, String)>,
) -> Response {
    if !authorized(&h) {
        return unauthorized();
    }
    st.status_polls.fetch_add(1, Ordering::SeqCst);
    let sid = file.trim_end_matches(".json");
    let found = st
        .submitted
        .lock()
        .unwrap()
        .iter()
        .find(|f| f.sid == sid)
        .cloned();
    let last = if st.mode == Mode::Fail {
        "failed"
    } else {
        "delivered"
    };
    match found {
        Some(f) => axum::Json(fax_resource(&f, last)).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            20404,
            "The requested resource was not found",
        ),
    }
}

async fn list(State(st): State<Arc<StandIn>>, h: HeaderMap) -> Response {
    if st.down.load(Ordering::SeqCst) {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            20503,
            "Service unavailable",
        );
    }
    if !authorized(&h) {
        return unauthorized();
    }
    axum::Json(json!({"faxes": [], "page": 0, "page_size": 1})).into_response()
}

async fn start_stand_in(mode: Mode) -> (Arc<StandIn>, String) {
    let st = Arc::new(StandIn {
        mode,
        next_id: AtomicU64::new(1),
        submitted: Mutex::new(Vec::new()),
        status_polls: AtomicUsize::new(0),
        callbacks: Mutex::new(Vec::new()),
        down: AtomicBool::new(mode == Mode::Outage),
    });
    let app = axum::Router::new()
        .route(
            "/api/laml/2010-04-01/Accounts/{project}/Faxes",
            post(submit),
        )
        .route(
            "/api/laml/2010-04-01/Accounts/{project}/Faxes.json",
            get(list),
        )
        .route(
            "/api/laml/2010-04-01/Accounts/{project}/Faxes/{file}",
            get(status),
        )
        .with_state(st.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (st, base)
}

struct Site {
    api: Api,
    signalwire: Arc<StandIn>,
    agent: tokio::task::JoinHandle<()>,
    _tmp: tempfile::TempDir,
}

fn line_settings(cfg: &mut Config, base: &str) {
    cfg.line.kind = LineKind::SignalWire;
    let c = &mut cfg.lines.signalwire;
    c.space_url = Some("example.signalwire.com".into());
    c.project_id = Some(PROJECT.into());
    c.api_token = Some(AgentSecret::with_source(TOKEN, SecretSource::Inline));
    c.from_number = Some(FROM.into());
    c.base_url = Some(format!("{base}/api/laml/2010-04-01"));
    c.allow_http = true;
}

/// The API (SignalWire's callbacks verified with the test key), the stand-in and the agent on the line.
async fn site(mode: Mode, reconcile_after: u64, tweak: impl FnOnce(&mut Config)) -> Site {
    let tmp = tempfile::tempdir().unwrap();
    let api = Api::start_with(tmp.path(), "127.0.0.1:0", |c, base| {
        c.backend = "signalwire".into();
        c.signalwire_signing_key = Some(faxline_api::config::Secret::new(SIGNING_KEY));
        c.public_api_url = Some(base.to_owned());
        c.allow_insecure_public_url = true;
    })
    .await;
    let (signalwire, base) = start_stand_in(mode).await;
    let mut cfg = agent_config(&tmp.path().join("spool"), &api.base);
    line_settings(&mut cfg, &base);
    let c = &mut cfg.lines.signalwire;
    c.quality = Some("superfine".into());
    c.reconcile_after_seconds = reconcile_after;
    c.request_timeout_seconds = 2;
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
        faxline_agent::lines::run(std::sync::Arc::new(cfg), client, std::future::pending())
            .await
            .expect("the agent runs");
    });
    Site {
        api,
        signalwire,
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
        self.signalwire.submitted.lock().unwrap().clone()
    }
    async fn stop(mut self) {
        self.agent.abort();
        let _ = tokio::time::timeout(Duration::from_secs(5), &mut self.agent).await;
        self.api.stop().await;
    }
}

/// Waits until `/health/ready` names a reason containing `reason` (or, with `named = false`, no longer does).
async fn readiness_names(api: &Api, reason: &str, named: bool) -> Value {
    let start = std::time::Instant::now();
    loop {
        let ready: Value = reqwest::get(format!("{}/health/ready", api.base))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let has = ready["reasons"].as_array().is_some_and(|r| {
            r.iter()
                .any(|t| t.as_str().is_some_and(|t| t.contains(reason)))
        });
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fax_goes_out_through_signalwire_by_a_signed_link_and_ends_by_its_signed_callbacks() {
    let s = site(Mode::Deliver, 60, |_| {}).await;
    let id = s.api.submit("+15551230000").await;
    let job = s.api.final_job(&id).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    assert_eq!(job["pages"], 1);
    assert_eq!(job["backend"], "signalwire");
    let sent = s.submitted();
    assert_eq!(sent.len(), 1, "one submission");
    assert_eq!(job["provider_sid"], sent[0].sid);
    assert_eq!(sent[0].field("To"), Some("+15551230000"), "E.164");
    assert_eq!(sent[0].field("From"), Some(FROM));
    assert_eq!(sent[0].field("Quality"), Some("superfine"));
    assert_eq!(
        sent[0].field("StatusCallback"),
        Some(format!("{}/signalwire-callback?job_id={id}", s.api.base).as_str()),
        "the callback names the job, under the API's public URL"
    );
    // The document went as a signed link to this job's PDF, and SignalWire got it unchanged.
    let url = sent[0].field("MediaUrl").unwrap();
    assert!(
        url.starts_with(&format!("{}/fax/{id}/pdf?token=", s.api.base)),
        "{url}"
    );
    let upload = std::fs::read(fixtures().join("pdf/dummy.pdf")).unwrap();
    assert_eq!(sent[0].media, upload, "the original document, unrendered");
    let elsewhere = url.replace(&id, &"0".repeat(id.len()));
    assert_ne!(reqwest::get(&elsewhere).await.unwrap().status(), 200);
    let start = std::time::Instant::now();
    while s.signalwire.callbacks.lock().unwrap().len() < 4 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "callbacks unsent"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        *s.signalwire.callbacks.lock().unwrap(),
        vec![200, 200, 200, 200],
        "every signed callback was taken"
    );
    assert_eq!(
        s.signalwire.status_polls.load(Ordering::SeqCst),
        0,
        "the callback ended it; no reconcile poll was needed"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_callback_is_reconciled_from_the_fax_resource() {
    let s = site(Mode::LoseCallback, 1, |_| {}).await;
    let id = s.api.submit("+15551230001").await;
    let job = s.api.final_job(&id).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    assert_eq!(job["pages"], 1);
    assert!(s.signalwire.status_polls.load(Ordering::SeqCst) >= 1);
    assert!(s.signalwire.callbacks.lock().unwrap().is_empty());
    assert_eq!(s.submitted().len(), 1);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_fax_carries_signalwires_reason() {
    let s = site(Mode::Fail, 60, |_| {}).await;
    let id = s.api.submit("+15551230002").await;
    let job = s.api.final_job(&id).await;
    assert_eq!(job["status"], "FAILED", "{job}");
    let error = job["error"].as_str().unwrap();
    assert!(error.contains("SignalWire error 15002"), "{error}");
    assert!(
        !error.contains("5551230002"),
        "the number in SignalWire's text is masked: {error}"
    );
    assert_eq!(job["provider_sid"], s.submitted()[0].sid);
    s.stop().await;
}

/// Provider trouble ends the job with a clear error, never submits twice, and readiness names the provider.
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
        readiness_names(&s.api, "signalwire line: the provider's API", true).await;
        s.stop().await;
    }
}

/// SignalWire's 400 about the number fails the job as an invalid number, with its words; the provider is
/// fine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_number_is_an_invalid_number() {
    let s = site(Mode::BadNumber, 60, |_| {}).await;
    let id = s.api.submit("+15551230004").await;
    let job = s.api.final_job(&id).await;
    assert_eq!(job["status"], "FAILED", "{job}");
    let error = job["error"].as_str().unwrap();
    assert!(
        error.contains("HTTP 400") && error.contains("not a valid phone number"),
        "{error}"
    );
    assert!(error.contains("invalid number"), "classified: {error}");
    assert!(
        !error.contains("5551230004"),
        "the number in SignalWire's text is masked: {error}"
    );
    readiness_names(&s.api, "signalwire line", false).await;
    s.stop().await;
}

/// Wrong credentials are found by the line's first check, before any fax: readiness says so and the faxes
/// wait in the queue instead of each failing with HTTP 401.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_credentials_are_named_in_readiness_and_hold_the_faxes() {
    let s = site(Mode::Deliver, 60, |c| {
        c.lines.signalwire.api_token = Some(AgentSecret::with_source(
            "PT_wrong_token_0000000000000000",
            SecretSource::Inline,
        ));
    })
    .await;
    let ready = readiness_names(
        &s.api,
        "agent site1: signalwire line: the provider refused the API credentials",
        true,
    )
    .await;
    assert_eq!(ready["status"], "not_ready", "{ready}");
    let id = s.api.submit("+15551230005").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(s.api.job(&id).await["status"], "queued");
    assert!(s.submitted().is_empty());
    s.stop().await;
}

/// SignalWire down at start: the fax waits; SignalWire back: the next check passes and the fax goes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signalwire_outage_holds_the_faxes_and_clears_by_itself() {
    let s = site(Mode::Outage, 60, |c| {
        c.lines.signalwire.health_check_seconds = 1
    })
    .await;
    let reason = "agent site1: signalwire line: the provider's API is unreachable or failing";
    readiness_names(&s.api, reason, true).await;
    let id = s.api.submit("+15551230006").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(s.api.job(&id).await["status"], "queued");
    s.signalwire.down.store(false, Ordering::SeqCst);
    readiness_names(&s.api, reason, false).await;
    let job = s.api.final_job(&id).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    assert_eq!(s.submitted().len(), 1);
    s.stop().await;
}

#[test]
fn the_signalwire_line_needs_its_settings_and_faxbots_names_work() {
    use faxline_agent::config::Env;
    let env = Env::from_pairs([
        ("FAX_BACKEND", "signalwire"),
        ("SIGNALWIRE_SPACE_URL", "example.signalwire.com"),
        ("SIGNALWIRE_PROJECT_ID", PROJECT),
        ("SIGNALWIRE_API_TOKEN", TOKEN),
        ("SIGNALWIRE_FAX_FROM_E164", FROM),
        (
            "SIGNALWIRE_STATUS_CALLBACK_URL",
            "https://fax.example.org/signalwire-callback",
        ),
    ]);
    let cfg = Config::from_toml_str("", "test", &env).unwrap();
    assert_eq!(cfg.line.kind, LineKind::SignalWire);
    let c = &cfg.lines.signalwire;
    assert_eq!(c.api_token.as_ref().unwrap().expose(), TOKEN);
    assert_eq!(c.project_id.as_deref(), Some(PROJECT));
    assert_eq!(
        c.api_base().as_deref(),
        Some("https://example.signalwire.com/api/laml/2010-04-01")
    );
    let mut p = Vec::new();
    faxline_agent::lines::check_config(&cfg, &mut p);
    assert!(p.is_empty(), "{p:?}");
    // The token is a secret: never in the file.
    let cfg = Config::from_toml_str(
        "[line]\nkind = \"signalwire\"\n[signalwire]\napi_token = \"PT123\"\nbase_url = \"http://example.signalwire.com/api/laml/2010-04-01\"\nfrom_number = \"5550009999\"\nquality = \"best\"\n",
        "test",
        &Env::default(),
    )
    .unwrap();
    let mut p = cfg.load_problems.clone();
    faxline_agent::lines::check_config(&cfg, &mut p);
    let settings: Vec<&str> = p.iter().map(|p| p.setting.as_str()).collect();
    for s in [
        "signalwire.api_token",
        "signalwire.project_id",
        "signalwire.from_number",
        "signalwire.base_url",
        "signalwire.quality",
    ] {
        assert!(settings.contains(&s), "{s}: {settings:?}");
    }
}

/// `faxline agent --check` asks SignalWire whether it accepts the credentials, and says clearly when not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_check_asks_signalwire_whether_it_accepts_the_credentials() {
    use faxline_agent::lines::CheckLevel;
    let (_signalwire, base) = start_stand_in(Mode::Deliver).await;
    let mut cfg = agent_config(Path::new("/nonexistent"), "http://127.0.0.1:9");
    line_settings(&mut cfg, &base);
    let checks = faxline_agent::lines::check_connectivity(&cfg).await;
    assert_eq!(checks.len(), 1);
    assert_eq!(checks[0].level, CheckLevel::Ok, "{:?}", checks[0].text);
    cfg.lines.signalwire.api_token = Some(AgentSecret::with_source(
        "PT_wrong_token_0000000000000000",
        SecretSource::Inline,
    ));
    let checks = faxline_agent::lines::check_connectivity(&cfg).await;
    assert_eq!(checks[0].level, CheckLevel::Error);
    assert!(checks[0].text.contains("HTTP 401"), "{}", checks[0].text);
    cfg.lines.signalwire.base_url = Some("http://127.0.0.1:9/api/laml/2010-04-01".into());
    let checks = faxline_agent::lines::check_connectivity(&cfg).await;
    assert_eq!(checks[0].level, CheckLevel::Error);
    assert!(
        checks[0].text.contains("cannot reach"),
        "{}",
        checks[0].text
    );
}

/// A cloud-only site on SignalWire is one `faxline serve` with one configuration file: the SignalWire line
/// makes SignalWire the API's backend, so the API refuses to start without the webhook signing key (naming
/// it), starts with it and shows the flags in readiness, and starts with verification explicitly off only
/// with a warning.
#[tokio::test]
async fn serve_runs_a_signalwire_site_and_requires_the_signing_key() {
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("faxline.toml");
    std::fs::write(
        &config,
        format!(
            "[api]\ndata_dir = \"{}\"\npublic_api_url = \"https://fax.example.org\"\n\n[line]\nkind = \"signalwire\"\n\n\
             [signalwire]\nspace_url = \"example.signalwire.com\"\nproject_id = \"{PROJECT}\"\nfrom_number = \"{FROM}\"\n\
             base_url = \"http://127.0.0.1:9/api/laml/2010-04-01\"\nallow_http = true\n",
            dir.path().join("data").display(),
        ),
    )
    .unwrap();
    let port = common::free_port();
    let serve = |envs: &[(&str, &str)]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_faxline"));
        c.args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--config",
        ])
        .arg(&config)
        .env("API_KEY", common::ADMIN_KEY)
        .env("SIGNALWIRE_API_TOKEN", TOKEN)
        .env_remove("FAXLINE_CONFIG")
        .env_remove("DATABASE_URL")
        .env_remove("SIGNALWIRE_WEBHOOK_SIGNING_KEY")
        .env_remove("SIGNALWIRE_VERIFY_SIGNATURE")
        .env("RUST_LOG", "warn")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
        for (k, v) in envs {
            c.env(k, v);
        }
        common::Proc(c.spawn().unwrap())
    };
    let base = format!("http://127.0.0.1:{port}");
    let up = || async {
        let start = std::time::Instant::now();
        while reqwest::get(format!("{base}/health")).await.is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "serve never came up"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let stderr_of = |s: &mut common::Proc| {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut s.0.stderr.take().unwrap(), &mut text).unwrap();
        text
    };

    // No signing key: refused at start, naming it.
    let mut s = serve(&[]);
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(status) = s.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "serve started without the key"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(!status.success());
    let stderr = stderr_of(&mut s);
    assert!(
        stderr.contains("SIGNALWIRE_WEBHOOK_SIGNING_KEY"),
        "{stderr}"
    );

    // With it: ready to take SignalWire's signed webhooks.
    let mut s = serve(&[("SIGNALWIRE_WEBHOOK_SIGNING_KEY", SIGNING_KEY)]);
    up().await;
    let ready: Value = reqwest::get(format!("{base}/health/ready"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["backend"], "signalwire", "{ready}");
    assert_eq!(
        ready["providers"]["signalwire"],
        json!({"webhooks": true, "verification_required": true, "key_configured": true,
            "callback_url": "https://fax.example.org/signalwire-callback"})
    );
    assert!(s.sigterm_and_wait(Duration::from_secs(30)).await.success());

    // Verification off (local development): starts, and says so.
    let mut s = serve(&[("SIGNALWIRE_VERIFY_SIGNATURE", "false")]);
    up().await;
    assert!(s.sigterm_and_wait(Duration::from_secs(30)).await.success());
    let stderr = stderr_of(&mut s);
    assert!(stderr.contains("verification is OFF"), "{stderr}");
}
