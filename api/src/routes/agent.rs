//! The agent protocol (`/agent/v1/...`). Every request carries the signature headers of
//! [`crate::agent_auth`]; they are checked before the body is read (present, well-formed, inside
//! the window), then the body is read whole (a few at a time) and verified (constant-time HMAC
//! over its hash, nonce replay) before anything is parsed.

use std::time::Duration;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::agent_auth::{self, AgentAuthError, SignedHeaders};
use crate::audit::mask_number;
use crate::document::{DocKind, is_pdf};
use crate::error::{ApiError, ApiResult};
use crate::server::AppState;
use crate::store::{Inbound, Job, JobProgress, JobResult};
use crate::throttle::FailScope;
use crate::timefmt::{now_s, now_us, parse_iso};

/// Bodies of agent requests read at once before their signature is verified (each up to the
/// upload limit): a flood of forged uploads with well-formed headers waits here instead of
/// filling memory. Verified requests are quick to read, so a real agent waits little.
static UNVERIFIED_BODIES: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(8);

/// A verified agent request: who sent it and its body.
pub(crate) struct SignedAgent {
    pub agent_id: String,
    pub body: Bytes,
    pub headers: axum::http::HeaderMap,
}

impl FromRequest<AppState> for SignedAgent {
    type Rejection = ApiError;

    async fn from_request(req: Request, st: &AppState) -> Result<Self, ApiError> {
        let peer = req
            .extensions()
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
        let ip = super::client_ip(peer, req.headers(), &st.trusted_proxies);
        let now = now_s();
        if let Some(wait) = st.auth_throttle.locked(&FailScope::Agent(ip), now) {
            return Err(ApiError::too_many(
                "Too many failed authentication attempts",
                wait,
            ));
        }
        let method = req.method().as_str().to_string();
        let path = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default();
        let headers = req.headers().clone();
        let window = st.cfg.agent_replay_window_seconds as i64;
        // Headers, window and signature form first: an unsigned or stale request is refused
        // before its body is read, and bodies of requests that pass are read a few at a time.
        let prechecked = SignedHeaders::from_headers(&headers)
            .and_then(|h| agent_auth::precheck(&h, now, window).map(|()| h));
        let body = match prechecked {
            Err(e) => Err(e),
            Ok(h) => {
                let _permit = UNVERIFIED_BODIES
                    .acquire()
                    .await
                    .map_err(|_| ApiError::internal())?;
                let body = Bytes::from_request(req, st).await.map_err(|e| {
                    ApiError::new(e.status(), "Request body too large or unreadable")
                })?;
                Ok((h, body))
            }
        };
        let verified = body.and_then(|(h, body)| {
            agent_auth::verify_request(
                st.agent_secret.as_bytes(),
                &method,
                &path,
                &h,
                &body,
                now,
                window,
            )?;
            st.nonces
                .check_and_insert(&h.agent_id, &h.nonce, now, window)?;
            Ok((h, body))
        });
        match verified {
            Ok((h, body)) => {
                st.touch_agent(&h.agent_id).await;
                Ok(SignedAgent {
                    agent_id: h.agent_id,
                    body,
                    headers,
                })
            }
            Err(e) => {
                crate::audit!("agent_auth_failed", ip = %ip, reason = %e, path = %path);
                st.auth_throttle.fail(FailScope::Agent(ip), now);
                let detail = match e {
                    AgentAuthError::Replay => "Replayed request",
                    AgentAuthError::Stale => "Request timestamp outside the allowed window",
                    _ => "Invalid agent signature",
                };
                Err(ApiError::unauthorized(detail))
            }
        }
    }
}

impl SignedAgent {
    fn json<T: DeserializeOwned>(&self) -> ApiResult<T> {
        serde_json::from_slice(&self.body).map_err(|e| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("Invalid JSON body: {e}"),
            )
        })
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct LeaseRequest {
    #[serde(default)]
    wait_seconds: u64,
    #[serde(default = "one")]
    max_jobs: u32,
}

fn one() -> u32 {
    1
}

/// A leased job as the agent sees it (it dials the full number).
#[derive(Debug, Serialize)]
pub(crate) struct LeasedJobOut {
    job_id: String,
    lease_id: String,
    to: String,
    document_kind: String,
    document_size: i64,
    document_sha256: String,
    attempt: i64,
    lease_expires_at: i64,
}

impl LeasedJobOut {
    fn of(j: Job) -> Self {
        Self {
            lease_expires_at: j.lease_expires_at.unwrap_or_default() / 1_000_000,
            lease_id: j.lease_id.unwrap_or_default(),
            job_id: j.id,
            to: j.to_number,
            document_kind: j.doc_kind,
            document_size: j.doc_size,
            document_sha256: j.doc_sha256,
            attempt: j.attempts,
        }
    }
}

/// Long poll: returns as soon as at least one job is leased, or empty after `wait_seconds`
/// (max 30).
pub(crate) async fn lease(
    State(st): State<AppState>,
    agent: SignedAgent,
) -> ApiResult<Json<serde_json::Value>> {
    let req: LeaseRequest = agent.json()?;
    let wait = Duration::from_secs(req.wait_seconds.min(30));
    let max = req.max_jobs.clamp(1, 10);
    let deadline = tokio::time::Instant::now() + wait;
    let lease_us = (st.cfg.lease_seconds.max(1) * 1_000_000) as i64;
    loop {
        // Register for wake-ups before looking, so a job queued in between is not missed.
        let notified = st.job_added.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let now = now_us();
        st.store.requeue_expired(now, st.cfg.max_attempts).await?;
        let mut jobs = Vec::new();
        while jobs.len() < max as usize {
            let lease_id = uuid::Uuid::new_v4().simple().to_string();
            match st
                .store
                .lease_next(&agent.agent_id, &lease_id, now, now + lease_us)
                .await?
            {
                Some(j) => {
                    crate::audit!("job_leased", job_id = %j.id, agent = %agent.agent_id, attempt = j.attempts);
                    jobs.push(LeasedJobOut::of(j));
                }
                None => break,
            }
        }
        if !jobs.is_empty() || tokio::time::Instant::now() >= deadline {
            return Ok(Json(serde_json::json!({ "jobs": jobs })));
        }
        // Other API instances (PostgreSQL) cannot wake us: poll every second as well.
        let _ = tokio::time::timeout_at(
            deadline.min(tokio::time::Instant::now() + Duration::from_secs(1)),
            notified,
        )
        .await;
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct Progress {
    lease_id: String,
    pages_sent: Option<i64>,
    pages_total: Option<i64>,
    /// The call phase, e.g. Asterisk's FAXStatus text (`T.38 Negotiated`).
    stage: Option<String>,
}

/// Agent-supplied text for display: control characters dropped, at most `max` characters, empty = absent.
fn clean_text(v: Option<String>, max: usize) -> Option<String> {
    let t: String = v?
        .chars()
        .filter(|c| !c.is_control())
        .take(max)
        .collect::<String>()
        .trim()
        .to_owned();
    (!t.is_empty()).then_some(t)
}

fn lease_lost() -> ApiError {
    ApiError::conflict("Lease not held")
}

async fn renew(st: &AppState, id: &str, p: &Progress) -> ApiResult<Json<serde_json::Value>> {
    let now = now_us();
    let exp = now + (st.cfg.lease_seconds.max(1) * 1_000_000) as i64;
    let progress = JobProgress {
        pages_sent: p.pages_sent,
        pages_total: p.pages_total,
        stage: clean_text(p.stage.clone(), 64),
    };
    if !st
        .store
        .renew_lease(id, &p.lease_id, now, exp, &progress)
        .await?
    {
        return Err(lease_lost());
    }
    Ok(Json(
        serde_json::json!({ "lease_expires_at": exp / 1_000_000 }),
    ))
}

pub(crate) async fn heartbeat(
    State(st): State<AppState>,
    Path(id): Path<String>,
    agent: SignedAgent,
) -> ApiResult<Json<serde_json::Value>> {
    let p: Progress = agent.json()?;
    renew(&st, &id, &p).await
}

pub(crate) async fn progress(
    State(st): State<AppState>,
    Path(id): Path<String>,
    agent: SignedAgent,
) -> ApiResult<Json<serde_json::Value>> {
    let p: Progress = agent.json()?;
    renew(&st, &id, &p).await
}

#[derive(Debug, Deserialize)]
pub(crate) struct ResultIn {
    lease_id: String,
    status: String,
    error: Option<String>,
    pages: Option<i64>,
    provider_sid: Option<String>,
    #[serde(default)]
    retry: bool,
    /// Delivery details (all optional): image bit rate (bit/s), `T38` or `audio`, the far end's CSI.
    bitrate: Option<i64>,
    mode: Option<String>,
    remote_ident: Option<String>,
}

pub(crate) async fn result(
    State(st): State<AppState>,
    Path(id): Path<String>,
    agent: SignedAgent,
) -> ApiResult<Json<super::FaxJobOut>> {
    let r: ResultIn = agent.json()?;
    if r.status != "SUCCESS" && r.status != "FAILED" {
        return Err(ApiError::bad_request("status must be SUCCESS or FAILED"));
    }
    let now = now_us();
    let res = JobResult {
        retry: r.retry && r.status == "FAILED",
        status: r.status,
        error: r.error.map(|e| e.chars().take(500).collect()),
        pages: r.pages,
        provider_sid: r.provider_sid,
        bitrate: r.bitrate.filter(|b| (1..=1_000_000).contains(b)),
        fax_mode: clean_text(r.mode, 16),
        remote_ident: clean_text(r.remote_ident, 64),
    };
    let job = st
        .store
        .finish_job(
            &id,
            &r.lease_id,
            &res,
            now,
            st.cfg.max_attempts,
            now + 60_000_000,
        )
        .await?
        .ok_or_else(lease_lost)?;
    crate::audit!(
        "job_result",
        job_id = %job.id,
        agent = %agent.agent_id,
        status = %job.status,
        to = %mask_number(&job.to_number),
        attempt = job.attempts
    );
    if job.status == "queued" {
        st.job_added.notify_waiters();
    }
    Ok(Json(job.into()))
}

/// A job's status, for an agent reconciling what it remembers about a job (e.g. a call journal entry
/// for a job that was cancelled after its lease expired). Any agent may ask; only the status is told.
pub(crate) async fn job_status(
    State(st): State<AppState>,
    Path(id): Path<String>,
    agent: SignedAgent,
) -> ApiResult<Json<serde_json::Value>> {
    let job = st
        .store
        .get_job(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("Job not found"))?;
    let leased_to_you =
        job.status == "in_progress" && job.lease_agent.as_deref() == Some(agent.agent_id.as_str());
    Ok(Json(serde_json::json!({
        "job_id": job.id,
        "status": job.status,
        "leased_to_you": leased_to_you,
    })))
}

#[derive(Debug, Deserialize)]
pub(crate) struct DocQuery {
    lease_id: String,
}

/// The job's document, only to the agent holding the lease.
pub(crate) async fn document(
    State(st): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<DocQuery>,
    agent: SignedAgent,
) -> ApiResult<Response> {
    let job = st
        .store
        .get_job(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("Job not found"))?;
    if job.lease_id.as_deref() != Some(q.lease_id.as_str()) || job.status != "in_progress" {
        return Err(lease_lost());
    }
    let doc = st
        .store
        .job_document(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("PDF file not found"))?;
    let kind = DocKind::parse(&job.doc_kind).unwrap_or(DocKind::Pdf);
    crate::audit!("document_served", job_id = %id, agent = %agent.agent_id);
    Ok((
        [
            (header::CONTENT_TYPE, kind.content_type().to_string()),
            (
                header::HeaderName::from_static("x-faxline-sha256"),
                job.doc_sha256,
            ),
            (
                header::HeaderName::from_static("x-faxline-document-kind"),
                job.doc_kind,
            ),
        ],
        doc,
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
pub(crate) struct InboundMeta {
    from: Option<String>,
    to: Option<String>,
    pages: Option<i64>,
    status: Option<String>,
    /// Asterisk's UNIQUEID or similar: repeats of an upload are stored once.
    call_id: Option<String>,
    received_at: Option<String>,
}

/// Multipart `metadata` (JSON) + `file` (PDF).
pub(crate) async fn inbound(
    State(st): State<AppState>,
    agent: SignedAgent,
) -> ApiResult<Json<serde_json::Value>> {
    if !st.cfg.inbound_enabled {
        // Nothing can read a received fax while inbound is off (its routes answer 404), so it is
        // not kept; the answer is a success so the agent drops its copy instead of retrying.
        crate::audit!(
            "inbound_discarded",
            agent = %agent.agent_id,
            reason = "inbound disabled",
            size = agent.body.len()
        );
        return Ok(Json(
            serde_json::json!({ "id": null, "status": "discarded" }),
        ));
    }
    let mut req = Request::new(Body::from(agent.body.clone()));
    if let Some(ct) = agent.headers.get(header::CONTENT_TYPE) {
        req.headers_mut().insert(header::CONTENT_TYPE, ct.clone());
    }
    let mut mp = Multipart::from_request(req, &())
        .await
        .map_err(|_| ApiError::missing("body", "metadata"))?;
    let mut meta: Option<InboundMeta> = None;
    let mut pdf: Option<Bytes> = None;
    let bad = |_| ApiError::bad_request("There was an error parsing the body");
    while let Some(field) = mp.next_field().await.map_err(bad)? {
        match field.name() {
            Some("metadata") => {
                let b = field.bytes().await.map_err(bad)?;
                meta = Some(serde_json::from_slice(&b).map_err(|e| {
                    ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        format!("Invalid metadata: {e}"),
                    )
                })?);
            }
            Some("file") => pdf = Some(field.bytes().await.map_err(bad)?),
            _ => {}
        }
    }
    let meta = meta.ok_or_else(|| ApiError::missing("body", "metadata"))?;
    let pdf = pdf.ok_or_else(|| ApiError::missing("body", "file"))?;
    if !is_pdf(&pdf) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Only PDF is accepted",
        ));
    }
    let now = now_us();
    let row = Inbound {
        id: uuid::Uuid::new_v4().simple().to_string(),
        from_number: meta.from,
        to_number: meta.to,
        status: meta.status.unwrap_or_else(|| "received".into()),
        backend: "sip".into(),
        provider_sid: meta.call_id.map(|c| format!("{}/{c}", agent.agent_id)),
        pages: meta.pages,
        size_bytes: Some(pdf.len() as i64),
        sha256: Some(hex::encode(Sha256::digest(&pdf))),
        mailbox_label: None,
        error: None,
        created_at: now,
        received_at: meta
            .received_at
            .as_deref()
            .and_then(parse_iso)
            .unwrap_or(now),
        updated_at: now,
    };
    let stored = st.store.insert_inbound(&row, &pdf).await?;
    crate::audit!(
        "inbound_received",
        inbound_id = %stored.id,
        agent = %agent.agent_id,
        from = %mask_number(stored.from_number.as_deref().unwrap_or("")),
        to = %mask_number(stored.to_number.as_deref().unwrap_or(""))
    );
    Ok(Json(serde_json::json!({ "id": stored.id, "status": "ok" })))
}
