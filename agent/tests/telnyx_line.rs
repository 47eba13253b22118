//! The Telnyx line end to end: the real API and agent over HTTP on 127.0.0.1, and a local stand-in for
//! Telnyx's Programmable Fax API v2 written from its public reference (`POST /v2/faxes` JSON with a bearer
//! key, `{data: {id, status}}`; Telnyx fetching the document from `media_url`; `GET /v2/faxes/{id}`;
//! `GET /v2/faxes` for the health check; errors as `{errors: [{code, title, detail, source}]}`; the fax's
//! webhooks `fax.queued` → `fax.media.processed` → `fax.sending.started` → `fax.delivered`/`fax.failed`
//! and `fax.received`, each signed with Ed25519 over `timestamp|body` with a test key pair).

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::SigningKey;
use faxline_agent::config::{Config, Secret as AgentSecret, SecretSource};
use faxline_agent::lines::LineKind;
use faxline_protocol::client::AgentClient;
use serde_json::{Value, json};

use common::{AGENT_SECRET, Api, fixtures};

const KEY: &str = "KEY0192C0FFEE7A4B8E9D1C2B3A4F5E6D7C_tEsTkEy";
const CONNECTION: &str = "1684641123236054244";
const FROM: &str = "+15550009999";

/// The account's webhook key pair (a fixed test key).
fn signing_key() -> SigningKey {
    SigningKey::from_bytes(&[42u8; 32])
}

fn public_key_b64() -> String {
    STANDARD.encode(signing_key().verifying_key().to_bytes())
}

/// What the stand-in does with the next submissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Accepts, fetches the document, then sends the webhooks up to `fax.delivered`.
    Deliver,
    /// Accepts and sends; the webhooks are lost (only the status API knows).
    LoseWebhook,
    /// Accepts, then `fax.failed` with Telnyx's reason.
    Fail,
    /// Answers 500.
    ServerError,
    /// Answers 422: the destination number is invalid.
    Unprocessable,
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
    body: Value,
    /// The document as Telnyx fetched it from `media_url`.
    media: Vec<u8>,
}

struct StandIn {
    mode: Mode,
    /// The Fax application's webhook URL (the API's `/telnyx-callback`).
    webhook_url: String,
    next_id: AtomicU64,
    submitted: Mutex<Vec<Submitted>>,
    status_polls: AtomicUsize,
    /// The API's answers to the webhooks sent.
    webhooks: Mutex<Vec<u16>>,
    /// Telnyx's whole API is down (503).
    down: AtomicBool,
    /// Downloads of the received fax's document.
    media_fetches: AtomicUsize,
}

fn authorized(h: &HeaderMap) -> bool {
    h.get("authorization").and_then(|v| v.to_str().ok()) == Some(format!("Bearer {KEY}").as_str())
}

fn error(status: StatusCode, code: &str, title: &str, detail: &str, pointer: &str) -> Response {
    (
        status,
        axum::Json(
            json!({"errors": [{"code": code, "title": title, "detail": detail,
            "source": {"pointer": pointer}}]}),
        ),
    )
        .into_response()
}

fn unauthorized() -> Response {
    error(
        StatusCode::UNAUTHORIZED,
        "10009",
        "Authentication failed",
        "The API key is invalid",
        "/",
    )
}

fn rfc3339_now() -> String {
    format!(
        "{}Z",
        faxline_protocol::time::iso(faxline_protocol::time::now_us())
    )
}

/// Signs and posts one webhook as Telnyx does; returns the API's answer.
async fn post_webhook(url: &str, body: &Value) -> u16 {
    let raw = body.to_string();
    let ts = faxline_protocol::time::now_s();
    let sig = faxline_api::cloud::telnyx::signature(&signing_key(), ts, raw.as_bytes());
    reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("telnyx-timestamp", ts.to_string())
        .header("telnyx-signature-ed25519", sig)
        .body(raw)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn event(event_type: &str, payload: Value) -> Value {
    json!({"data": {"record_type": "event", "event_type": event_type,
        "id": uuid_like(), "occurred_at": rfc3339_now(), "payload": payload},
        "meta": {"attempt": 1}})
}

fn uuid_like() -> String {
    static N: AtomicU64 = AtomicU64::new(1);
    format!(
        "0ccc7b54-4df3-4bca-a65a-{:012x}",
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// The fax object as Telnyx shows it, final.
fn fax_object(st: &StandIn, f: &Submitted) -> Value {
    let failed = st.mode == Mode::Fail;
    json!({
        "record_type": "fax", "id": f.id, "connection_id": CONNECTION, "direction": "outbound",
        "from": FROM, "to": f.body["to"], "client_state": f.body["client_state"],
        "status": if failed { "failed" } else { "delivered" }, "page_count": 1,
        "failure_reason": if failed { Some("receiver_unallocated_number") } else { None },
        "store_media": false, "created_at": rfc3339_now(), "updated_at": rfc3339_now(),
    })
}

async fn submit(State(st): State<Arc<StandIn>>, h: HeaderMap, body: String) -> Response {
    if st.down.load(Ordering::SeqCst) {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "90001",
            "Service unavailable",
            "",
            "/",
        );
    }
    if !authorized(&h) {
        return unauthorized();
    }
    match st.mode {
        Mode::ServerError => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "10007",
                "Unexpected error",
                "An unexpected error occured.",
                "/",
            );
        }
        Mode::Unprocessable => {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "10016",
                "Invalid phone number",
                "The 'to' number +15551230004 is not a valid phone number.",
                "/to",
            );
        }
        Mode::Hang => tokio::time::sleep(Duration::from_secs(30)).await,
        Mode::Garbage => return (StatusCode::OK, "<html>gateway</html>").into_response(),
        _ => {}
    }
    let Ok(req) = serde_json::from_str::<Value>(&body) else {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "10015",
            "Bad request",
            "not JSON",
            "/",
        );
    };
    for field in ["connection_id", "to", "from", "media_url"] {
        if !req[field].is_string() {
            return error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "10015",
                "Missing parameter",
                field,
                &format!("/{field}"),
            );
        }
    }
    // Telnyx fetches the document by URL before it queues the fax.
    let media = reqwest::get(req["media_url"].as_str().unwrap())
        .await
        .unwrap();
    if !media.status().is_success() {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "10015",
            "Media unavailable",
            "media_url could not be fetched",
            "/media_url",
        );
    }
    let media = media.bytes().await.unwrap().to_vec();
    let id = format!(
        "f8338808-3dc6-4f2b-942a-{:012}",
        st.next_id.fetch_add(1, Ordering::SeqCst)
    );
    let f = Submitted {
        id: id.clone(),
        body: req.clone(),
        media,
    };
    st.submitted.lock().unwrap().push(f.clone());
    if st.mode != Mode::LoseWebhook {
        let st = st.clone();
        tokio::spawn(async move {
            let common = |status: &str| {
                json!({"fax_id": f.id, "connection_id": CONNECTION, "direction": "outbound",
                    "from": FROM, "to": f.body["to"], "client_state": f.body["client_state"],
                    "original_media_url": f.body["media_url"], "status": status,
                    "user_id": "19a75cea-02c6-4b9a-84fa-c9bc8341feb8"})
            };
            let mut events = vec![
                event("fax.queued", common("queued")),
                event("fax.media.processed", common("media.processed")),
                event("fax.sending.started", common("sending")),
            ];
            if st.mode == Mode::Fail {
                let mut p = common("failed");
                p["failure_reason"] = "receiver_unallocated_number".into();
                events.push(event("fax.failed", p));
            } else {
                let mut p = common("delivered");
                p["page_count"] = 1.into();
                p["call_duration_secs"] = 25.into();
                events.push(event("fax.delivered", p));
            }
            for e in events {
                tokio::time::sleep(Duration::from_millis(150)).await;
                let code = post_webhook(&st.webhook_url, &e).await;
                st.webhooks.lock().unwrap().push(code);
            }
        });
    }
    axum::Json(
        json!({"data": {"record_type": "fax", "id": id, "status": "queued",
        "connection_id": CONNECTION, "direction": "outbound", "store_media": false}}),
    )
    .into_response()
}

async fn status(
    State(st): State<Arc<StandIn>>,
    h: HeaderMap,
    UrlPath(id): UrlPath<String>,
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
        Some(f) => axum::Json(json!({"data": fax_object(&st, &f)})).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "10005",
            "Resource not found",
            "",
            "/id",
        ),
    }
}

async fn list(State(st): State<Arc<StandIn>>, h: HeaderMap) -> Response {
    if st.down.load(Ordering::SeqCst) {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "90001",
            "Service unavailable",
            "",
            "/",
        );
    }
    if !authorized(&h) {
        return unauthorized();
    }
    axum::Json(json!({"data": [], "meta": {"page_number": 1, "page_size": 1}})).into_response()
}

/// A received fax's document, as Telnyx serves it from the `media_url` of `fax.received`.
async fn media(State(st): State<Arc<StandIn>>) -> Response {
    st.media_fetches.fetch_add(1, Ordering::SeqCst);
    let pdf = std::fs::read(fixtures().join("pdf/dummy.pdf")).unwrap();
    ([("content-type", "application/pdf")], pdf).into_response()
}

async fn start_stand_in(mode: Mode, webhook_url: String) -> (Arc<StandIn>, String) {
    let st = Arc::new(StandIn {
        mode,
        webhook_url,
        next_id: AtomicU64::new(1),
        submitted: Mutex::new(Vec::new()),
        status_polls: AtomicUsize::new(0),
        webhooks: Mutex::new(Vec::new()),
        down: AtomicBool::new(mode == Mode::Outage),
        media_fetches: AtomicUsize::new(0),
    });
    let app = axum::Router::new()
        .route("/v2/faxes", get(list).post(submit))
        .route("/v2/faxes/{id}", get(status))
        .route("/media/received.pdf", get(media))
        .with_state(st.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (st, base)
}

struct Site {
    api: Api,
    telnyx: Arc<StandIn>,
    /// The stand-in's address (its API is under `/v2`).
    telnyx_base: String,
    agent: tokio::task::JoinHandle<()>,
    _tmp: tempfile::TempDir,
}

/// The API (Telnyx's webhooks verified with the test key), the stand-in and the agent on the Telnyx line.
async fn site(mode: Mode, reconcile_after: u64, tweak: impl FnOnce(&mut Config)) -> Site {
    let tmp = tempfile::tempdir().unwrap();
    let api = Api::start_with(tmp.path(), "127.0.0.1:0", |c, base| {
        c.backend = "telnyx".into();
        c.telnyx_public_key = Some(public_key_b64());
        c.public_api_url = Some(base.to_owned());
        c.allow_insecure_public_url = true;
    })
    .await;
    let (telnyx, telnyx_base) = start_stand_in(mode, format!("{}/telnyx-callback", api.base)).await;
    let mut cfg = agent_config(&tmp.path().join("spool"), &api.base);
    cfg.line.kind = LineKind::Telnyx;
    let t = &mut cfg.lines.telnyx;
    t.api_key = Some(AgentSecret::with_source(KEY, SecretSource::Inline));
    t.connection_id = Some(CONNECTION.into());
    t.from_number = Some(FROM.into());
    t.base_url = format!("{telnyx_base}/v2");
    t.allow_http = true;
    t.quality = Some("high".into());
    t.reconcile_after_seconds = reconcile_after;
    t.request_timeout_seconds = 2;
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
        telnyx,
        telnyx_base,
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
        self.telnyx.submitted.lock().unwrap().clone()
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
async fn a_fax_goes_out_through_telnyx_by_a_signed_link_and_ends_by_its_signed_webhooks() {
    let s = site(Mode::Deliver, 60, |_| {}).await;
    let id = s.api.submit("+15551230000").await;
    let job = s.api.final_job(&id).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    assert_eq!(job["pages"], 1);
    assert_eq!(job["backend"], "telnyx");
    let sent = s.submitted();
    assert_eq!(sent.len(), 1, "one submission");
    assert_eq!(job["provider_sid"], sent[0].id);
    let body = &sent[0].body;
    assert_eq!(body["to"], "+15551230000", "E.164");
    assert_eq!(body["from"], FROM);
    assert_eq!(body["connection_id"], CONNECTION);
    assert_eq!(body["store_media"], false, "Telnyx keeps no copy");
    assert_eq!(body["quality"], "high");
    let state = STANDARD
        .decode(body["client_state"].as_str().unwrap())
        .unwrap();
    assert_eq!(
        state,
        id.as_bytes(),
        "the job id comes back in every webhook"
    );
    // The document went as a signed link to this job's PDF under the API's public URL, and Telnyx got it
    // unchanged.
    let url = body["media_url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("{}/fax/{id}/pdf?token=", s.api.base)),
        "{url}"
    );
    let upload = std::fs::read(fixtures().join("pdf/dummy.pdf")).unwrap();
    assert_eq!(sent[0].media, upload, "the original document, unrendered");
    // The link opens this job only: its token on another job's path is refused.
    let elsewhere = url.replace(&id, &"0".repeat(id.len()));
    assert_ne!(reqwest::get(&elsewhere).await.unwrap().status(), 200);
    let start = std::time::Instant::now();
    while s.telnyx.webhooks.lock().unwrap().len() < 4 {
        assert!(start.elapsed() < Duration::from_secs(10), "webhooks unsent");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        *s.telnyx.webhooks.lock().unwrap(),
        vec![200, 200, 200, 200],
        "every signed webhook was taken"
    );
    assert_eq!(
        s.telnyx.status_polls.load(Ordering::SeqCst),
        0,
        "the webhook ended it; no reconcile poll was needed"
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_webhook_is_reconciled_from_telnyxs_status_api() {
    let s = site(Mode::LoseWebhook, 1, |_| {}).await;
    let id = s.api.submit("+15551230001").await;
    let job = s.api.final_job(&id).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    assert_eq!(job["pages"], 1);
    assert!(s.telnyx.status_polls.load(Ordering::SeqCst) >= 1);
    assert!(s.telnyx.webhooks.lock().unwrap().is_empty());
    assert_eq!(s.submitted().len(), 1);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_fax_carries_telnyxs_reason() {
    let s = site(Mode::Fail, 60, |_| {}).await;
    let id = s.api.submit("+15551230002").await;
    let job = s.api.final_job(&id).await;
    assert_eq!(job["status"], "FAILED", "{job}");
    let error = job["error"].as_str().unwrap();
    assert!(error.contains("receiver_unallocated_number"), "{error}");
    assert!(error.contains("invalid number"), "classified: {error}");
    assert_eq!(job["provider_sid"], s.submitted()[0].id);
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
        readiness_names(&s.api, "telnyx line: the provider's API", true).await;
        s.stop().await;
    }
}

/// Telnyx's 422 about the number fails the job as an invalid number, with Telnyx's words; the provider is fine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_number_is_an_invalid_number() {
    let s = site(Mode::Unprocessable, 60, |_| {}).await;
    let id = s.api.submit("+15551230004").await;
    let job = s.api.final_job(&id).await;
    assert_eq!(job["status"], "FAILED", "{job}");
    let error = job["error"].as_str().unwrap();
    assert!(
        error.contains("HTTP 422") && error.contains("not a valid phone number"),
        "{error}"
    );
    assert!(error.contains("invalid number"), "classified: {error}");
    assert!(
        !error.contains("5551230004") && error.contains("0004"),
        "the number in Telnyx's text is masked: {error}"
    );
    readiness_names(&s.api, "telnyx line", false).await;
    s.stop().await;
}

/// A wrong key is found by the line's first check, before any fax: readiness says so and the faxes wait in
/// the queue instead of each failing with HTTP 401.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_api_key_is_named_in_readiness_and_holds_the_faxes() {
    let s = site(Mode::Deliver, 60, |c| {
        c.lines.telnyx.api_key = Some(AgentSecret::with_source(
            "KEY0000WRONG0000WRONG0000WRONG00",
            SecretSource::Inline,
        ));
    })
    .await;
    let ready = readiness_names(
        &s.api,
        "agent site1: telnyx line: the provider refused the API credentials",
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

/// Telnyx down at start: the fax waits; Telnyx back: the next check passes and the fax goes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_telnyx_outage_holds_the_faxes_and_clears_by_itself() {
    let s = site(Mode::Outage, 60, |c| {
        c.lines.telnyx.health_check_seconds = 1
    })
    .await;
    let reason = "agent site1: telnyx line: the provider's API is unreachable or failing";
    readiness_names(&s.api, reason, true).await;
    let id = s.api.submit("+15551230006").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(s.api.job(&id).await["status"], "queued");
    s.telnyx.down.store(false, Ordering::SeqCst);
    readiness_names(&s.api, reason, false).await;
    let job = s.api.final_job(&id).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    assert_eq!(s.submitted().len(), 1);
    s.stop().await;
}

/// `fax.received`: the API downloads the document from the webhook's link and stores it like a fax from
/// Asterisk; the same webhook again is a replay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_received_fax_is_downloaded_and_stored() {
    let s = site(Mode::Deliver, 60, |_| {}).await;
    let received = event(
        "fax.received",
        json!({"fax_id": "b679398e-8b4c-46bd-8630-6797f1ab5228", "connection_id": CONNECTION,
            "direction": "inbound", "from": "+15550001111", "to": FROM, "page_count": 1,
            "media_url": format!("{}/media/received.pdf", s.telnyx_base), "status": "received"}),
    );
    let url = format!("{}/telnyx-callback", s.api.base);
    assert_eq!(post_webhook(&url, &received).await, 200);
    let list = s.api.inbound().await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["backend"], "telnyx");
    assert_eq!(list[0]["fr"], "+15550001111");
    assert_eq!(list[0]["pages"], 1);
    let stored = reqwest::Client::new()
        .get(format!(
            "{}/inbound/{}/pdf",
            s.api.base,
            list[0]["id"].as_str().unwrap()
        ))
        .header("X-API-Key", common::ADMIN_KEY)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let pdf = std::fs::read(fixtures().join("pdf/dummy.pdf")).unwrap();
    assert_eq!(
        stored.as_ref(),
        pdf.as_slice(),
        "stored as Telnyx served it"
    );
    assert_eq!(s.telnyx.media_fetches.load(Ordering::SeqCst), 1);
    assert_eq!(post_webhook(&url, &received).await, 401, "replayed");
    assert_eq!(s.api.inbound().await.len(), 1);
    assert_eq!(
        s.telnyx.media_fetches.load(Ordering::SeqCst),
        1,
        "a replay is refused before anything is fetched"
    );
    // A link that does not answer with a PDF: 502/415, nothing stored, so Telnyx retries.
    let broken = event(
        "fax.received",
        json!({"fax_id": "b679398e-8b4c-46bd-8630-000000000002", "from": "+15550001111",
            "to": FROM, "media_url": format!("{}/media/missing.pdf", s.telnyx_base)}),
    );
    assert_eq!(post_webhook(&url, &broken).await, 502);
    assert_eq!(s.api.inbound().await.len(), 1);
    s.stop().await;
}

#[test]
fn the_telnyx_line_needs_its_settings_and_the_environment_names_work() {
    use faxline_agent::config::Env;
    let env = Env::from_pairs([
        ("FAX_BACKEND", "telnyx"),
        ("TELNYX_API_KEY", KEY),
        ("TELNYX_CONNECTION_ID", CONNECTION),
        ("TELNYX_FROM_NUMBER", FROM),
    ]);
    let cfg = Config::from_toml_str("", "test", &env).unwrap();
    assert_eq!(cfg.line.kind, LineKind::Telnyx);
    assert_eq!(cfg.lines.telnyx.api_key.as_ref().unwrap().expose(), KEY);
    assert_eq!(cfg.lines.telnyx.connection_id.as_deref(), Some(CONNECTION));
    let mut p = Vec::new();
    faxline_agent::lines::check_config(&cfg, &mut p);
    assert!(p.is_empty(), "{p:?}");
    // The API key is a secret: never in the file.
    let cfg = Config::from_toml_str(
        "[line]\nkind = \"telnyx\"\n[telnyx]\napi_key = \"KEY123\"\nbase_url = \"http://api.telnyx.com/v2\"\nfrom_number = \"5550009999\"\nquality = \"best\"\n",
        "test",
        &Env::default(),
    )
    .unwrap();
    let mut p = cfg.load_problems.clone();
    faxline_agent::lines::check_config(&cfg, &mut p);
    let settings: Vec<&str> = p.iter().map(|p| p.setting.as_str()).collect();
    for s in [
        "telnyx.api_key",
        "telnyx.connection_id",
        "telnyx.from_number",
        "telnyx.base_url",
        "telnyx.quality",
    ] {
        assert!(settings.contains(&s), "{s}: {settings:?}");
    }
}

/// `faxline agent --check` asks Telnyx whether it accepts the key, and says clearly when not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_check_asks_telnyx_whether_it_accepts_the_key() {
    use faxline_agent::lines::CheckLevel;
    let (_telnyx, base) = start_stand_in(Mode::Deliver, String::new()).await;
    let mut cfg = agent_config(Path::new("/nonexistent"), "http://127.0.0.1:9");
    cfg.line.kind = LineKind::Telnyx;
    let t = &mut cfg.lines.telnyx;
    t.api_key = Some(AgentSecret::with_source(KEY, SecretSource::Inline));
    t.connection_id = Some(CONNECTION.into());
    t.from_number = Some(FROM.into());
    t.base_url = format!("{base}/v2");
    t.allow_http = true;
    let checks = faxline_agent::lines::check_connectivity(&cfg).await;
    assert_eq!(checks.len(), 1);
    assert_eq!(checks[0].level, CheckLevel::Ok, "{:?}", checks[0].text);
    cfg.lines.telnyx.api_key = Some(AgentSecret::with_source(
        "KEY9f8e7d6c5b4a39281706f5e4d3c2b1a0",
        SecretSource::Inline,
    ));
    let checks = faxline_agent::lines::check_connectivity(&cfg).await;
    assert_eq!(checks[0].level, CheckLevel::Error);
    assert!(checks[0].text.contains("HTTP 401"), "{}", checks[0].text);
    cfg.lines.telnyx.base_url = "http://127.0.0.1:9/v2".into();
    let checks = faxline_agent::lines::check_connectivity(&cfg).await;
    assert_eq!(checks[0].level, CheckLevel::Error);
    assert!(
        checks[0].text.contains("cannot reach"),
        "{}",
        checks[0].text
    );
}

/// A cloud-only site on Telnyx is one `faxline serve` with one configuration file: the Telnyx line makes
/// Telnyx the API's backend, so the API refuses to start without the webhook public key (naming it), starts
/// with it from the line's `[telnyx] public_key` and shows the flags in readiness, and starts with
/// verification explicitly off only with a warning.
#[tokio::test]
async fn serve_runs_a_telnyx_site_and_requires_the_public_key() {
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("faxline.toml");
    let write_config = |public_key: Option<&str>| {
        std::fs::write(
            &config,
            format!(
                "[api]\ndata_dir = \"{}\"\npublic_api_url = \"https://fax.example.org\"\n\n[line]\nkind = \"telnyx\"\n\n\
                 [telnyx]\nconnection_id = \"{CONNECTION}\"\nfrom_number = \"{FROM}\"\n\
                 base_url = \"http://127.0.0.1:9/v2\"\nallow_http = true\n{}",
                dir.path().join("data").display(),
                public_key.map_or(String::new(), |k| format!("public_key = \"{k}\"\n"))
            ),
        )
        .unwrap();
    };
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
        .env("TELNYX_API_KEY", KEY)
        .env_remove("FAXLINE_CONFIG")
        .env_remove("DATABASE_URL")
        .env_remove("TELNYX_PUBLIC_KEY")
        .env_remove("TELNYX_VERIFY_SIGNATURE")
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

    // No public key: refused at start, naming it.
    write_config(None);
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
    assert!(stderr.contains("TELNYX_PUBLIC_KEY"), "{stderr}");

    // With it in the line's section: ready to take Telnyx's signed webhooks.
    write_config(Some(&public_key_b64()));
    let mut s = serve(&[]);
    up().await;
    let ready: Value = reqwest::get(format!("{base}/health/ready"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["backend"], "telnyx", "{ready}");
    assert_eq!(
        ready["providers"]["telnyx"],
        json!({"webhooks": true, "verification_required": true, "key_configured": true,
            "callback_url": "https://fax.example.org/telnyx-callback"})
    );
    assert!(s.sigterm_and_wait(Duration::from_secs(30)).await.success());

    // Verification off (local development): starts, and says so.
    write_config(None);
    let mut s = serve(&[("TELNYX_VERIFY_SIGNATURE", "false")]);
    up().await;
    assert!(s.sigterm_and_wait(Duration::from_secs(30)).await.success());
    let stderr = stderr_of(&mut s);
    assert!(stderr.contains("verification is OFF"), "{stderr}");
}
