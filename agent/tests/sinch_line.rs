//! The Sinch line end to end: the real API and agent over HTTP on 127.0.0.1, and a local stand-in for
//! Sinch's Fax API v3 written from its public reference: `POST /v3/projects/{projectId}/faxes` (multipart
//! `to`, `file`, `callbackUrl`, `callbackUrlContentType`) with HTTP Basic (the access key's id and secret),
//! answering the fax object (`id`, `status` `QUEUED`); `GET .../faxes/{id}` (`QUEUED`, `IN_PROGRESS`,
//! `COMPLETED`, `FAILURE` with `errorType`, `errorCode`, `errorMessage`, `numberOfPages`); `GET .../faxes`
//! (the list); errors as `{code, error, message, details.fieldViolations}`; and the `FAX_COMPLETED` event
//! posted back to the `callbackUrl` as JSON, with the Basic credentials that URL carries in an
//! `Authorization` header, as Sinch sends them. And an `INCOMING_FAX` posted to the API's `/sinch-inbound`.

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Multipart, Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use faxline_agent::config::{Config, Secret as AgentSecret, SecretSource};
use faxline_agent::lines::LineKind;
use faxline_api::config::Secret;
use faxline_protocol::client::AgentClient;
use serde_json::{Value, json};

use common::{AGENT_SECRET, Api, fixtures};

const PROJECT: &str = "9a8b7c6d-0000-4000-8000-00000000cafe";
const KEY_ID: &str = "2f3e4d5c-1111-4111-8111-0000000000aa";
const KEY_SECRET: &str = "4b9e1c7f0a2d5e8b3c6f9a1d4e7b0c2f";
const HOOK_USER: &str = "sinch-hooks";
const HOOK_PASSWORD: &str = "6d1f0b9e4c7a2f58e3b1d0c9a7f6e5d4";

/// What the stand-in does with the next submissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Accepts, then calls back `COMPLETED`.
    Deliver,
    /// Accepts, sends; the callback is lost (only the status API knows).
    LoseWebhook,
    /// Accepts, then calls back `FAILURE` with Sinch's reason.
    Fail,
    /// Accepts; a forger, not Sinch, calls back `FAILURE` with wrong credentials; the fax is delivered.
    Forged,
    /// Refuses the number (422, a field violation on `to`).
    BadNumber,
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
    id: String,
    to: String,
    file: Vec<u8>,
    file_type: String,
    callback_url: Option<String>,
    callback_content_type: Option<String>,
}

struct StandIn {
    mode: Mode,
    down: AtomicBool,
    next_id: AtomicU64,
    submitted: Mutex<Vec<Submitted>>,
    status_polls: AtomicUsize,
    /// The credentials found in each callback URL, and our API's answer to the callback.
    callbacks: Mutex<Vec<(String, String, u16)>>,
}

fn authorized(h: &HeaderMap) -> bool {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{KEY_ID}:{KEY_SECRET}"))
    );
    h.get("authorization").and_then(|v| v.to_str().ok()) == Some(expected.as_str())
}

fn error(status: StatusCode, error: &str, message: &str) -> Response {
    (
        status,
        axum::Json(
            json!({"code": status.as_u16().to_string(), "error": error, "message": message}),
        ),
    )
        .into_response()
}

fn unauthorized() -> Response {
    error(
        StatusCode::UNAUTHORIZED,
        "Unauthorized",
        "Empty body, or you have the wrong API key, secret, or project.",
    )
}

fn unavailable() -> Response {
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        "Service unavailable",
        "Try again later",
    )
}

/// The fax object as Sinch shows it, final.
fn fax_object(st: &StandIn, f: &Submitted) -> Value {
    let failed = st.mode == Mode::Fail;
    let mut fax = json!({
        "id": f.id, "direction": "OUTBOUND", "to": f.to, "from": "+15550009999",
        "status": if failed { "FAILURE" } else { "COMPLETED" },
        // The fixture is one page.
        "numberOfPages": 1, "pagesSentSuccessfully": if failed { 0 } else { 1 },
        "createTime": "2026-12-05T01:00:00Z", "completedTime": "2026-12-05T01:01:00Z",
        "projectId": PROJECT, "hasFile": true, "headerPageNumbers": true, "maxRetries": 0,
    });
    if failed {
        fax["errorType"] = "CALL_ERROR".into();
        fax["errorCode"] = 17.into();
        fax["errorMessage"] = "Busy".into();
    }
    fax
}

/// Posts the `FAX_COMPLETED` event to a callback URL the way Sinch does: the URL's credentials as Basic auth,
/// JSON (as the line asked), the fax's document base64.
async fn call_back(url: &str, event: Value) -> (String, String, u16) {
    let mut u = reqwest::Url::parse(url).unwrap();
    let user = u.username().to_owned();
    let password = u.password().unwrap_or("").to_owned();
    u.set_username("").unwrap();
    u.set_password(None).unwrap();
    let r = reqwest::Client::new()
        .post(u)
        .basic_auth(&user, Some(&password))
        .json(&event)
        .send()
        .await
        .unwrap();
    (user, password, r.status().as_u16())
}

async fn submit(
    State(st): State<Arc<StandIn>>,
    UrlPath(project): UrlPath<String>,
    h: HeaderMap,
    mut mp: Multipart,
) -> Response {
    if st.down.load(Ordering::SeqCst) {
        return unavailable();
    }
    if !authorized(&h) || project != PROJECT {
        return unauthorized();
    }
    match st.mode {
        Mode::ServerError => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal server error",
                "Something went wrong",
            );
        }
        Mode::Hang => tokio::time::sleep(Duration::from_secs(30)).await,
        Mode::Garbage => return (StatusCode::OK, "<html>gateway</html>").into_response(),
        _ => {}
    }
    let n = st.next_id.fetch_add(1, Ordering::SeqCst);
    let mut f = Submitted {
        id: format!("01HFAX{n:020}"),
        to: String::new(),
        file: Vec::new(),
        file_type: String::new(),
        callback_url: None,
        callback_content_type: None,
    };
    while let Some(field) = mp.next_field().await.unwrap() {
        match field.name().unwrap_or("") {
            "to" => f.to = field.text().await.unwrap(),
            "callbackUrl" => f.callback_url = Some(field.text().await.unwrap()),
            "callbackUrlContentType" => f.callback_content_type = Some(field.text().await.unwrap()),
            "file" => {
                f.file_type = field.content_type().unwrap_or("").to_owned();
                f.file = field.bytes().await.unwrap().to_vec();
            }
            _ => {}
        }
    }
    if st.mode == Mode::BadNumber {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(json!({"code": "422", "error": "Invalid parameters",
                "message": "The request could not be understood by the server due to malformed syntax.",
                "details": {"fieldViolations": [{"field": "to",
                    "description": format!("The ({}) is not a valid phone number", f.to)}]}})),
        )
            .into_response();
    }
    if f.to.is_empty() || f.file.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            "Bad Request",
            "missing required fields",
        );
    }
    st.submitted.lock().unwrap().push(f.clone());
    let queued = json!({"id": f.id, "direction": "OUTBOUND", "to": f.to, "status": "QUEUED",
        "createTime": "2026-12-05T01:00:00Z", "projectId": PROJECT, "callbackUrl": "https://***:***@masked"});
    if let Some(url) = f.callback_url.clone()
        && st.mode != Mode::LoseWebhook
    {
        let st = st.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let mut event = json!({"event": "FAX_COMPLETED", "eventTime": "2026-12-05T01:01:00Z",
                "fax": fax_object(&st, &f),
                "files": [{"file": base64::engine::general_purpose::STANDARD.encode(&f.file), "fileType": "PDF"}]});
            let url = if st.mode == Mode::Forged {
                event["fax"]["status"] = "FAILURE".into();
                url.replace(HOOK_PASSWORD, "0000000000forged0000000000000000")
            } else {
                url
            };
            let seen = call_back(&url, event).await;
            st.callbacks.lock().unwrap().push(seen);
        });
    }
    axum::Json(queued).into_response()
}

async fn status(
    State(st): State<Arc<StandIn>>,
    h: HeaderMap,
    UrlPath((_project, id)): UrlPath<(String, String)>,
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
        Some(f) => axum::Json(fax_object(&st, &f)).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "Not found",
            "The resource is not found, not available, or does not exist.",
        ),
    }
}

async fn list(State(st): State<Arc<StandIn>>, h: HeaderMap) -> Response {
    if st.down.load(Ordering::SeqCst) {
        return unavailable();
    }
    if !authorized(&h) {
        return unauthorized();
    }
    axum::Json(json!({"faxes": [], "totalItems": 0, "pageSize": 1, "nextPageToken": ""}))
        .into_response()
}

async fn start_stand_in(mode: Mode) -> (Arc<StandIn>, String) {
    let st = Arc::new(StandIn {
        mode,
        down: AtomicBool::new(mode == Mode::Outage),
        next_id: AtomicU64::new(1),
        submitted: Mutex::new(Vec::new()),
        status_polls: AtomicUsize::new(0),
        callbacks: Mutex::new(Vec::new()),
    });
    let app = axum::Router::new()
        .route("/v3/projects/{project}/faxes", post(submit).get(list))
        .route("/v3/projects/{project}/faxes/{id}", get(status))
        .with_state(st.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/v3", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (st, base)
}

struct Site {
    api: Api,
    sinch: Arc<StandIn>,
    agent: tokio::task::JoinHandle<()>,
    _tmp: tempfile::TempDir,
}

/// The API (Sinch's webhooks authenticated with the Basic credentials), the stand-in and the agent on the
/// Sinch line.
async fn site(mode: Mode, reconcile_after: u64, tweak: impl FnOnce(&mut Config)) -> Site {
    let tmp = tempfile::tempdir().unwrap();
    let api = Api::start_with(tmp.path(), "127.0.0.1:0", |c, base| {
        c.backend = "sinch".into();
        c.sinch_webhook_user = Some(HOOK_USER.into());
        c.sinch_webhook_password = Some(Secret::new(HOOK_PASSWORD));
        c.public_api_url = Some(base.to_owned());
        c.allow_insecure_public_url = true;
    })
    .await;
    let (sinch, sinch_base) = start_stand_in(mode).await;
    let mut cfg = agent_config(&tmp.path().join("spool"), &api.base);
    cfg.line.kind = LineKind::Sinch;
    let c = &mut cfg.lines.sinch;
    c.project_id = Some(PROJECT.into());
    c.key_id = Some(KEY_ID.into());
    c.key_secret = Some(AgentSecret::with_source(KEY_SECRET, SecretSource::Inline));
    c.base_url = sinch_base;
    c.allow_http = true;
    c.callback_url = Some(format!("{}/sinch-callback", api.base));
    c.webhook_user = Some(HOOK_USER.into());
    c.webhook_password = Some(AgentSecret::with_source(
        HOOK_PASSWORD,
        SecretSource::Inline,
    ));
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
        faxline_agent::lines::run(Arc::new(cfg), client, std::future::pending())
            .await
            .expect("the agent runs");
    });
    Site {
        api,
        sinch,
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
        self.sinch.submitted.lock().unwrap().clone()
    }
    async fn stop(mut self) {
        self.agent.abort();
        let _ = tokio::time::timeout(Duration::from_secs(5), &mut self.agent).await;
        self.api.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fax_goes_out_through_sinch_and_ends_by_its_authenticated_webhook() {
    let s = site(Mode::Deliver, 60, |_| {}).await;
    let id = s.api.submit("+15551230000").await;
    let job = s.api.final_job(&id).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    assert_eq!(job["pages"], 1);
    assert_eq!(job["backend"], "sinch");
    let sent = s.submitted();
    assert_eq!(sent.len(), 1, "one submission");
    assert_eq!(job["provider_sid"], sent[0].id);
    assert_eq!(sent[0].to, "+15551230000", "E.164");
    assert_eq!(sent[0].file_type, "application/pdf");
    let upload = std::fs::read(fixtures().join("pdf/dummy.pdf")).unwrap();
    assert_eq!(sent[0].file, upload, "the original document, unrendered");
    // The callback URL names the job and carries the webhook credentials Sinch sends back.
    let callback = reqwest::Url::parse(sent[0].callback_url.as_deref().unwrap()).unwrap();
    assert_eq!(callback.path(), "/sinch-callback");
    assert_eq!(callback.query(), Some(format!("job_id={id}").as_str()));
    assert_eq!(
        sent[0].callback_content_type.as_deref(),
        Some("application/json")
    );
    assert_eq!(
        *s.sinch.callbacks.lock().unwrap(),
        vec![(HOOK_USER.to_owned(), HOOK_PASSWORD.to_owned(), 200)],
        "the authenticated callback was taken"
    );
    assert_eq!(
        s.sinch.status_polls.load(Ordering::SeqCst),
        0,
        "the webhook ended it; no reconcile poll was needed"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_webhook_is_reconciled_from_sinchs_status_api() {
    let s = site(Mode::LoseWebhook, 1, |_| {}).await;
    let id = s.api.submit("+15551230001").await;
    let job = s.api.final_job(&id).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    assert_eq!(job["pages"], 1);
    assert!(s.sinch.status_polls.load(Ordering::SeqCst) >= 1);
    assert!(s.sinch.callbacks.lock().unwrap().is_empty());
    assert_eq!(s.submitted().len(), 1);
    s.stop().await;
}

/// A forged callback (wrong credentials) is refused and changes nothing: the job ends by Sinch's status API
/// with what Sinch says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_callback_is_refused_and_the_job_ends_by_the_status_api() {
    let s = site(Mode::Forged, 2, |_| {}).await;
    let id = s.api.submit("+15551230007").await;
    let job = s.api.final_job(&id).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    let callbacks = s.sinch.callbacks.lock().unwrap().clone();
    assert_eq!(callbacks.len(), 1);
    assert_eq!(callbacks[0].2, 401, "the forged callback was refused");
    assert!(s.sinch.status_polls.load(Ordering::SeqCst) >= 1);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_fax_carries_sinchs_reason() {
    let s = site(Mode::Fail, 60, |_| {}).await;
    let id = s.api.submit("+15551230002").await;
    let job = s.api.final_job(&id).await;
    assert_eq!(job["status"], "FAILED", "{job}");
    let error = job["error"].as_str().unwrap();
    assert!(error.contains("Busy (CALL_ERROR 17)"), "{error}");
    assert!(error.starts_with("busy"), "classified: {error}");
    assert_eq!(job["provider_sid"], s.submitted()[0].id);
    s.stop().await;
}

/// Provider trouble ends the job with a clear error and never submits twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_errors_timeouts_and_garbage_are_clear() {
    for (mode, expect) in [
        (Mode::ServerError, "HTTP 500"),
        (Mode::Hang, "did not answer"),
        (Mode::Garbage, "not JSON"),
        (Mode::BadNumber, "invalid number"),
    ] {
        let s = site(mode, 60, |_| {}).await;
        let id = s.api.submit("+15551230003").await;
        let job = s.api.final_job(&id).await;
        assert_eq!(job["status"], "FAILED", "{mode:?}: {job}");
        let error = job["error"].as_str().unwrap();
        assert!(error.contains(expect), "{mode:?}: {error}");
        assert!(
            !error.contains("5551230003"),
            "{mode:?}: the number is masked: {error}"
        );
        assert!(job["provider_sid"].is_null(), "{mode:?}: {job}");
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
        c.lines.sinch.key_secret = Some(AgentSecret::with_source(
            "0000111122223333wrongwrongwrong9",
            SecretSource::Inline,
        ));
    })
    .await;
    let ready = readiness_names(
        &s.api,
        "agent site1: sinch line: the provider refused the API credentials (check the key and secret)",
        true,
    )
    .await;
    assert_eq!(ready["status"], "not_ready", "{ready}");
    assert_eq!(ready["providers"]["sinch"]["verification_required"], true);
    assert_eq!(ready["providers"]["sinch"]["key_configured"], true);
    let id = s.api.submit("+15551230004").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(s.api.job(&id).await["status"], "queued");
    assert!(s.submitted().is_empty());
    s.stop().await;
}

/// Sinch down when the agent starts: readiness names it, the fax waits; Sinch back: the fax goes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_outage_holds_the_faxes_and_clears_by_itself() {
    let s = site(Mode::Outage, 60, |c| c.lines.sinch.health_check_seconds = 1).await;
    let reason = "agent site1: sinch line: the provider's API is unreachable or failing";
    readiness_names(&s.api, reason, true).await;
    let id = s.api.submit("+15551230006").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(s.api.job(&id).await["status"], "queued");
    assert!(s.submitted().is_empty());
    s.sinch.down.store(false, Ordering::SeqCst);
    readiness_names(&s.api, reason, false).await;
    let job = s.api.final_job(&id).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    assert_eq!(s.submitted().len(), 1);
    s.stop().await;
}

/// A received fax posted by Sinch to `/sinch-inbound` (multipart, the document as `file`, the fax service's
/// URL carrying the credentials) is stored like any inbound fax; without the credentials it is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_received_fax_is_stored_from_sinchs_incoming_fax_event() {
    let s = site(Mode::Deliver, 60, |_| {}).await;
    let pdf = std::fs::read(fixtures().join("pdf/dummy.pdf")).unwrap();
    let event = |file: Vec<u8>| {
        reqwest::multipart::Form::new()
            .text("event", "INCOMING_FAX")
            .text("eventTime", "2026-12-05T01:05:00Z")
            .text(
                "fax",
                json!({"id": "01HFAXINBOUND0000000001", "direction": "INBOUND", "status": "COMPLETED",
                    "from": "+15550001111", "to": "+15550002222", "numberOfPages": 1})
                .to_string(),
            )
            .part(
                "file",
                reqwest::multipart::Part::bytes(file)
                    .file_name("fax.pdf")
                    .mime_str("application/pdf")
                    .unwrap(),
            )
    };
    let url = format!("{}/sinch-inbound", s.api.base);
    let r = reqwest::Client::new()
        .post(&url)
        .multipart(event(pdf.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let mut with_credentials = reqwest::Url::parse(&url).unwrap();
    with_credentials.set_username(HOOK_USER).unwrap();
    with_credentials.set_password(Some(HOOK_PASSWORD)).unwrap();
    let (user, password, status) = {
        let u = with_credentials.clone();
        let r = reqwest::Client::new()
            .post(&url)
            .basic_auth(u.username(), u.password())
            .multipart(event(pdf.clone()))
            .send()
            .await
            .unwrap();
        (
            u.username().to_owned(),
            u.password().map(str::to_owned),
            r.status(),
        )
    };
    assert_eq!(
        (user.as_str(), password.as_deref()),
        (HOOK_USER, Some(HOOK_PASSWORD))
    );
    assert_eq!(status, 200);
    let inbound = s.api.inbound().await;
    assert_eq!(inbound.len(), 1, "{inbound:?}");
    assert_eq!(inbound[0]["backend"], "sinch");
    assert_eq!(inbound[0]["fr"], "+15550001111");
    s.stop().await;
}

#[test]
fn the_sinch_line_needs_its_settings_and_faxbots_names_work() {
    use faxline_agent::config::Env;
    let env = Env::from_pairs([
        ("FAX_BACKEND", "sinch"),
        ("SINCH_PROJECT_ID", PROJECT),
        ("SINCH_API_KEY", KEY_ID),
        ("SINCH_API_SECRET", KEY_SECRET),
        ("SINCH_BASE_URL", "https://eu1.fax.api.sinch.com/v3"),
        (
            "SINCH_CALLBACK_URL",
            "https://fax.example.org/sinch-callback",
        ),
        ("SINCH_INBOUND_BASIC_USER", HOOK_USER),
        ("SINCH_INBOUND_BASIC_PASS", HOOK_PASSWORD),
        // Faxbot fell back to Phaxio's credentials; Faxline does not.
        ("PHAXIO_API_KEY", "phaxio-key"),
    ]);
    let cfg = Config::from_toml_str("", "test", &env).unwrap();
    assert_eq!(cfg.line.kind, LineKind::Sinch);
    let c = &cfg.lines.sinch;
    assert_eq!(c.key_id.as_deref(), Some(KEY_ID));
    assert_eq!(c.key_secret.as_ref().unwrap().expose(), KEY_SECRET);
    assert_eq!(c.base_url, "https://eu1.fax.api.sinch.com/v3");
    assert_eq!(c.webhook_password.as_ref().unwrap().expose(), HOOK_PASSWORD);
    let mut p = Vec::new();
    faxline_agent::lines::check_config(&cfg, &mut p);
    assert!(p.is_empty(), "{p:?}");
    assert_eq!(
        Config::default().lines.sinch.base_url,
        "https://fax.api.sinch.com/v3"
    );

    // Without the project or key, over plain HTTP: refused with the setting named.
    let cfg = Config::from_toml_str(
        "[line]\nkind = \"sinch\"\n[sinch]\nbase_url = \"http://fax.api.sinch.com/v3\"\n",
        "test",
        &Env::default(),
    )
    .unwrap();
    let mut p = Vec::new();
    faxline_agent::lines::check_config(&cfg, &mut p);
    let settings: Vec<&str> = p.iter().map(|p| p.setting.as_str()).collect();
    for s in [
        "sinch.project_id",
        "sinch.key_id",
        "sinch.key_secret",
        "sinch.base_url",
    ] {
        assert!(settings.contains(&s), "{settings:?}");
    }
    // A callback URL without the webhook credentials, over http, or with credentials of its own: refused.
    for (url, user, pass, setting) in [
        (
            "https://fax.example.org/sinch-callback",
            None,
            None,
            "sinch.webhook_user",
        ),
        (
            "http://fax.example.org/sinch-callback",
            Some(HOOK_USER),
            Some(HOOK_PASSWORD),
            "sinch.callback_url",
        ),
        (
            "https://u:p@fax.example.org/sinch-callback",
            Some(HOOK_USER),
            Some(HOOK_PASSWORD),
            "sinch.callback_url",
        ),
        // Weak, or not fit for a URL's userinfo.
        (
            "https://fax.example.org/sinch-callback",
            Some(HOOK_USER),
            Some("aaaaaaaaaaaaaaaaaaaa"),
            "sinch.webhook_password",
        ),
        (
            "https://fax.example.org/sinch-callback",
            Some(HOOK_USER),
            Some("7Hq2/Lx9+Vw4#Pm8:Tz6"),
            "sinch.webhook_password",
        ),
        (
            "https://fax.example.org/sinch-callback",
            Some("a:b"),
            Some(HOOK_PASSWORD),
            "sinch.webhook_user",
        ),
    ] {
        let mut pairs = vec![
            ("FAX_BACKEND", "sinch"),
            ("SINCH_PROJECT_ID", PROJECT),
            ("SINCH_API_KEY", KEY_ID),
            ("SINCH_API_SECRET", KEY_SECRET),
            ("SINCH_CALLBACK_URL", url),
        ];
        if let Some(u) = user {
            pairs.push(("SINCH_INBOUND_BASIC_USER", u));
        }
        if let Some(pw) = pass {
            pairs.push(("SINCH_INBOUND_BASIC_PASS", pw));
        }
        let cfg = Config::from_toml_str("", "test", &Env::from_pairs(pairs)).unwrap();
        let mut p = Vec::new();
        faxline_agent::lines::check_config(&cfg, &mut p);
        let settings: Vec<&str> = p.iter().map(|p| p.setting.as_str()).collect();
        assert!(settings.contains(&setting), "{url} {user:?}: {settings:?}");
    }
}

/// The access key's secret reused as the webhook password is refused by the configuration check.
#[test]
fn a_reused_secret_is_refused() {
    use faxline_agent::config::Env;
    let env = Env::from_pairs([
        ("FAX_BACKEND", "sinch"),
        ("SINCH_PROJECT_ID", PROJECT),
        ("SINCH_API_KEY", KEY_ID),
        ("SINCH_API_SECRET", HOOK_PASSWORD),
        (
            "SINCH_CALLBACK_URL",
            "https://fax.example.org/sinch-callback",
        ),
        ("SINCH_INBOUND_BASIC_USER", HOOK_USER),
        ("SINCH_INBOUND_BASIC_PASS", HOOK_PASSWORD),
    ]);
    let cfg = Config::from_toml_str("", "test", &env).unwrap();
    let problems = faxline_agent::config::check_config(&cfg);
    let text = format!("{problems:?}");
    assert!(text.contains("same value"), "{text}");
    assert!(
        !text.contains(HOOK_PASSWORD),
        "the secret is in the message: {text}"
    );
}

/// `faxline agent --check` asks Sinch whether it accepts the access key, and says clearly when not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_check_asks_sinch_whether_it_accepts_the_key() {
    use faxline_agent::lines::CheckLevel;
    let (_sinch, base) = start_stand_in(Mode::Deliver).await;
    let mut cfg = agent_config(Path::new("/nonexistent"), "http://127.0.0.1:9");
    cfg.line.kind = LineKind::Sinch;
    let c = &mut cfg.lines.sinch;
    c.project_id = Some(PROJECT.into());
    c.key_id = Some(KEY_ID.into());
    c.key_secret = Some(AgentSecret::with_source(KEY_SECRET, SecretSource::Inline));
    c.base_url = base.clone();
    c.allow_http = true;
    let checks = faxline_agent::lines::check_connectivity(&cfg).await;
    assert_eq!(checks.len(), 1);
    assert_eq!(checks[0].level, CheckLevel::Ok, "{:?}", checks[0].text);
    cfg.lines.sinch.key_secret = Some(AgentSecret::with_source(
        "9f8e7d6c5b4a39281706f5e4d3c2b1a0",
        SecretSource::Inline,
    ));
    let checks = faxline_agent::lines::check_connectivity(&cfg).await;
    assert_eq!(checks[0].level, CheckLevel::Error);
    assert!(checks[0].text.contains("HTTP 401"), "{}", checks[0].text);
    cfg.lines.sinch.base_url = "http://127.0.0.1:9/v3".into();
    let checks = faxline_agent::lines::check_connectivity(&cfg).await;
    assert_eq!(checks[0].level, CheckLevel::Error);
    assert!(
        checks[0].text.contains("cannot reach"),
        "{}",
        checks[0].text
    );
}

/// A cloud-only site on Sinch is one `faxline serve` with one configuration file: the Sinch line makes Sinch
/// the API's backend, so the API refuses to start without the webhooks' Basic credentials (naming them),
/// starts with them and shows the flags in readiness, and starts with the check explicitly off only with a
/// warning.
#[tokio::test]
async fn serve_runs_a_sinch_site_and_requires_the_webhook_credentials() {
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("faxline.toml");
    std::fs::write(
        &config,
        format!(
            "[api]\ndata_dir = \"{}\"\npublic_api_url = \"https://fax.example.org\"\n\
             allow_insecure_public_url = true\n\n[line]\nkind = \"sinch\"\n\n\
             [sinch]\nproject_id = \"{PROJECT}\"\nkey_id = \"{KEY_ID}\"\nwebhook_user = \"{HOOK_USER}\"\n\
             base_url = \"http://127.0.0.1:9/v3\"\nallow_http = true\n",
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
        .env("SINCH_API_SECRET", KEY_SECRET)
        .env_remove("FAXLINE_CONFIG")
        .env_remove("DATABASE_URL")
        .env_remove("SINCH_INBOUND_BASIC_PASS")
        .env_remove("SINCH_VERIFY_WEBHOOK_AUTH")
        .env_remove("SINCH_CALLBACK_URL")
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
    let callback = (
        "SINCH_CALLBACK_URL",
        "https://fax.example.org/sinch-callback",
    );

    // No webhook password: refused at start, naming it.
    let mut s = serve(&[callback]);
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(status) = s.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "serve started without the webhook credentials"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(!status.success());
    let stderr = stderr_of(&mut s);
    assert!(stderr.contains("SINCH_INBOUND_BASIC_PASS"), "{stderr}");
    assert!(!stderr.contains(KEY_SECRET), "{stderr}");

    // With it: ready to take Sinch's authenticated webhooks.
    let mut s = serve(&[callback, ("SINCH_INBOUND_BASIC_PASS", HOOK_PASSWORD)]);
    up().await;
    let ready: Value = reqwest::get(format!("{base}/health/ready"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["backend"], "sinch", "{ready}");
    assert_eq!(
        ready["providers"]["sinch"],
        json!({"webhooks": true, "verification": "basic_auth", "verification_required": true,
            "key_configured": true, "callback_url": "https://fax.example.org/sinch-callback",
            "inbound_url": "https://fax.example.org/sinch-inbound"})
    );
    // A webhook without the credentials is refused.
    let r = reqwest::Client::new()
        .post(format!("{base}/sinch-inbound"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(s.sigterm_and_wait(Duration::from_secs(30)).await.success());
    let stderr = stderr_of(&mut s);
    assert!(
        !stderr.contains(HOOK_PASSWORD),
        "the password reached the log: {stderr}"
    );

    // The check off (local development, no callback URL either): starts, and says so.
    let mut s = serve(&[("SINCH_VERIFY_WEBHOOK_AUTH", "false")]);
    up().await;
    assert!(s.sigterm_and_wait(Duration::from_secs(30)).await.success());
    let stderr = stderr_of(&mut s);
    assert!(stderr.contains("webhook authentication is OFF"), "{stderr}");
}
