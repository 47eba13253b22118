//! The agent protocol (`/agent/v1/...`), served. Messages are `faxline_protocol::messages`, the
//! structs the agent's client writes. Every request carries the signature headers of
//! [`faxline_protocol::auth`]; they are checked before the body is read (present, well-formed,
//! inside the window), then the body is read whole (a few at a time) and verified (constant-time
//! HMAC over its hash, nonce replay) before anything is parsed.

use std::time::Duration;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use faxline_protocol::JobStatus;
use faxline_protocol::auth::{self as agent_auth, AgentAuthError, SignedHeaders};
use faxline_protocol::messages::{
    HEADER_DOCUMENT_KIND, HEADER_DOCUMENT_SHA256, InboundAnswer, InboundDisposition, InboundMeta,
    JobStatusView, LeaseRenewed, LeaseRequest, LeaseResponse, LeasedJob, LineHealth,
    MAX_RELEASE_DELAY_SECONDS, Progress, ReleaseRequest, ResultReport,
};
use faxline_protocol::time::{now_s, now_us, parse_iso};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::audit::mask_number;
use crate::document::DocKind;
use crate::error::{ApiError, ApiResult};
use crate::server::AppState;
use crate::store::spool::Spooled;
use crate::store::{DocumentId, DocumentStore, Inbound, Job, JobProgress, JobRelease, JobResult};
use crate::throttle::FailScope;

/// Bodies of agent requests read at once before their signature is verified (each up to the
/// upload limit): a flood of forged uploads with well-formed headers waits here instead of
/// filling memory. Verified requests are quick to read, so a real agent waits little.
static UNVERIFIED_BODIES: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(8);

/// A verified agent request: who sent it and its body.
pub(crate) struct SignedAgent {
    pub agent_id: String,
    pub body: Bytes,
}

/// An agent request whose headers passed the checks that need no body ([`agent_auth::precheck`]):
/// what the signature is then verified against, once the body's hash is known.
struct Prechecked {
    headers: SignedHeaders,
    request: RequestAuth,
}

/// What a refusal is audited and throttled by, and what the signature covers besides the body.
struct RequestAuth {
    method: String,
    path: String,
    ip: std::net::IpAddr,
    now: i64,
    window: i64,
}

impl Prechecked {
    /// Throttling, then the headers, the window and the signature's form: an unsigned or stale
    /// request is refused before its body is read.
    fn check(req: &Request, st: &AppState) -> Result<Self, ApiError> {
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
        let request = RequestAuth {
            method: req.method().as_str().to_string(),
            path: req
                .uri()
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_default(),
            ip,
            now,
            window: st.cfg.agent_replay_window_seconds as i64,
        };
        match SignedHeaders::from_lookup(|n| req.headers().get(n).and_then(|v| v.to_str().ok()))
            .and_then(|h| agent_auth::precheck(&h, now, request.window).map(|()| h))
        {
            Ok(headers) => Ok(Self { headers, request }),
            Err(e) => Err(request.refuse(st, e)),
        }
    }

    /// Verifies the signature over the body's SHA-256 (hex) and the nonce; the agent's id.
    fn verify(self, st: &AppState, body_sha256_hex: &str) -> Result<String, ApiError> {
        let Self { headers, request } = self;
        let checked = agent_auth::verify_request_hashed(
            st.agent_secret.as_bytes(),
            &request.method,
            &request.path,
            &headers,
            body_sha256_hex,
            request.now,
            request.window,
        )
        .and_then(|()| {
            st.nonces.check_and_insert(
                &headers.agent_id,
                &headers.nonce,
                request.now,
                request.window,
            )
        });
        match checked {
            // A valid signature alone does not make an agent "seen": `faxline agent --check` signs a probe
            // too. Agents are seen when they poll for work or hold a lease (see `lease` and `renew`).
            Ok(()) => Ok(headers.agent_id),
            Err(e) => Err(request.refuse(st, e)),
        }
    }
}

impl RequestAuth {
    /// Audits, counts and throttles a refused request; its answer.
    fn refuse(&self, st: &AppState, e: AgentAuthError) -> ApiError {
        crate::audit!("agent_auth_failed", ip = %self.ip, reason = %e, path = %self.path);
        crate::metrics::auth_failed("agent_signature");
        st.auth_throttle.fail(FailScope::Agent(self.ip), self.now);
        let detail = match e {
            AgentAuthError::Replay => "Replayed request",
            AgentAuthError::Stale => "Request timestamp outside the allowed window",
            _ => "Invalid agent signature",
        };
        ApiError::unauthorized(detail)
    }
}

impl FromRequest<AppState> for SignedAgent {
    type Rejection = ApiError;

    async fn from_request(req: Request, st: &AppState) -> Result<Self, ApiError> {
        let pre = Prechecked::check(&req, st)?;
        // Bodies of requests that pass the precheck are read a few at a time.
        let body = {
            let _permit = UNVERIFIED_BODIES
                .acquire()
                .await
                .map_err(|_| ApiError::internal())?;
            Bytes::from_request(req, st)
                .await
                .map_err(|e| ApiError::new(e.status(), "Request body too large or unreadable"))?
        };
        let agent_id = pre.verify(st, &agent_auth::body_sha256_hex(&body))?;
        Ok(SignedAgent { agent_id, body })
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

/// A leased job as the agent sees it (it dials the full number).
fn leased(j: Job) -> LeasedJob {
    LeasedJob {
        lease_expires_at: j.lease_expires_at.unwrap_or_default() / 1_000_000,
        lease_id: j.lease_id.unwrap_or_default(),
        job_id: j.id,
        to: j.to_number,
        // The store writes only `pdf` and `txt`; the document route reads it the same way.
        document_kind: DocKind::parse(&j.doc_kind).unwrap_or(DocKind::Pdf),
        document_size: j.doc_size,
        document_sha256: j.doc_sha256,
        attempt: j.attempts,
    }
}

/// Long poll: returns as soon as at least one job is leased, or empty after `wait_seconds`
/// (max 30).
pub(crate) async fn lease(
    State(st): State<AppState>,
    agent: SignedAgent,
) -> ApiResult<Json<LeaseResponse>> {
    let req: LeaseRequest = agent.json()?;
    let line = req.line.map(clean_health);
    let kind = line
        .as_ref()
        .and_then(|h| crate::routing::known_kind(&h.kind));
    st.agent_polled(&agent.agent_id, line).await;
    if req.max_jobs == 0 {
        return Ok(Json(LeaseResponse { jobs: Vec::new() }));
    }
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
        st.store
            .jobs()
            .requeue_expired(now, st.cfg.max_attempts)
            .await?;
        let filter = line_filter(&st, kind, now).await?;
        let mut jobs = Vec::new();
        while jobs.len() < max as usize {
            let lease_id = uuid::Uuid::new_v4().simple().to_string();
            match st
                .store
                .jobs()
                .lease_next(&agent.agent_id, &lease_id, now, now + lease_us, &filter)
                .await?
            {
                Some(j) => {
                    crate::audit!("job_leased", job_id = %j.id, agent = %agent.agent_id, attempt = j.attempts, line = j.line.as_deref().unwrap_or("unknown"));
                    jobs.push(leased(j));
                }
                None => break,
            }
        }
        if !jobs.is_empty() || tokio::time::Instant::now() >= deadline {
            return Ok(Json(LeaseResponse { jobs }));
        }
        // Other API instances (PostgreSQL) cannot wake us: poll every second as well.
        let _ = tokio::time::timeout_at(
            deadline.min(tokio::time::Instant::now() + Duration::from_secs(1)),
            notified,
        )
        .await;
    }
}

/// Which jobs an agent of line `kind` may lease now. With a routing policy, the lines that can take jobs are
/// read from the agents' table (every API instance on the database sees the same): a line counts while an
/// agent with it was seen within two lease periods (as readiness counts agents) and reported no problem.
async fn line_filter(
    st: &AppState,
    kind: Option<&str>,
    now: i64,
) -> ApiResult<crate::store::LineFilter> {
    let available = if st.cfg.routing.is_empty() {
        Default::default()
    } else {
        let fresh_us = (st.cfg.lease_seconds.max(30) * 2 * 1_000_000) as i64;
        st.store
            .agents()
            .available_lines(now - fresh_us)
            .await?
            .into_iter()
            .collect()
    };
    Ok(crate::routing::lease_filter(
        &st.cfg.routing,
        kind,
        &available,
    ))
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

/// An agent's line report, bounded: at most 8 problems of at most 120 characters, no control characters.
fn clean_health(h: LineHealth) -> LineHealth {
    LineHealth {
        kind: clean_text(Some(h.kind), 16).unwrap_or_default(),
        problems: h
            .problems
            .into_iter()
            .take(8)
            .filter_map(|p| clean_text(Some(p), 120))
            .collect(),
    }
}

fn lease_lost() -> ApiError {
    ApiError::conflict("Lease not held")
}

async fn renew(
    st: &AppState,
    agent_id: &str,
    id: &str,
    p: &Progress,
) -> ApiResult<Json<LeaseRenewed>> {
    let now = now_us();
    let exp = now + (st.cfg.lease_seconds.max(1) * 1_000_000) as i64;
    let progress = JobProgress {
        pages_sent: p.pages_sent,
        pages_total: p.pages_total,
        stage: clean_text(p.stage.clone(), 64),
    };
    if !st
        .store
        .jobs()
        .renew_lease(id, &p.lease_id, now, exp, &progress)
        .await?
    {
        return Err(lease_lost());
    }
    st.touch_agent(agent_id).await;
    Ok(Json(LeaseRenewed {
        lease_expires_at: exp / 1_000_000,
    }))
}

pub(crate) async fn heartbeat(
    State(st): State<AppState>,
    Path(id): Path<String>,
    agent: SignedAgent,
) -> ApiResult<Json<LeaseRenewed>> {
    let p: Progress = agent.json()?;
    renew(&st, &agent.agent_id, &id, &p).await
}

pub(crate) async fn progress(
    State(st): State<AppState>,
    Path(id): Path<String>,
    agent: SignedAgent,
) -> ApiResult<Json<LeaseRenewed>> {
    let p: Progress = agent.json()?;
    renew(&st, &agent.agent_id, &id, &p).await
}

/// A result as agents send it: the protocol's report, plus the `retry` flag of agents older than the
/// `release` message. They set it only to give a job back when stopping (a call hung up at shutdown), so
/// a failure carrying it is taken as a release after [`LEGACY_RELEASE_DELAY_S`], the hold those agents
/// got; it is no retry policy (retries are the agent's). Unknown fields are ignored rather than refused,
/// so agents of another release keep working.
#[derive(Debug, Deserialize)]
pub(crate) struct ResultIn {
    #[serde(flatten)]
    report: ResultReport,
    #[serde(default)]
    retry: bool,
}

pub(crate) async fn result(
    State(st): State<AppState>,
    Path(id): Path<String>,
    agent: SignedAgent,
) -> ApiResult<Json<super::FaxJobOut>> {
    let ResultIn { report, retry } = agent.json().map_err(|e| {
        if names_no_status(&agent.body) {
            ApiError::bad_request("status must be SUCCESS or FAILED")
        } else {
            e
        }
    })?;
    let ResultReport {
        lease_id,
        result: r,
        details,
    } = report;
    if !matches!(r.status, JobStatus::Success | JobStatus::Failed) {
        return Err(ApiError::bad_request("status must be SUCCESS or FAILED"));
    }
    if retry && r.status == JobStatus::Failed {
        let release = ReleaseRequest {
            lease_id,
            delay_seconds: Some(LEGACY_RELEASE_DELAY_S),
            reason: r.error,
            pages: r.pages,
        };
        return give_back(&st, &id, &agent.agent_id, release, details.agent_attempt).await;
    }
    if r.status == JobStatus::Failed
        && details.unplaced == Some(true)
        && r.pages.unwrap_or(0) == 0
        && let Some(job) = fail_over(&st, &id, &lease_id, r.error.as_deref()).await?
    {
        st.touch_agent(&agent.agent_id).await;
        return Ok(Json(job.into()));
    }
    let res = JobResult {
        status: r.status,
        error: r.error.map(|e| e.chars().take(500).collect()),
        pages: r.pages,
        provider_sid: r.provider_sid,
        bitrate: details.bitrate.filter(|b| (1..=1_000_000).contains(b)),
        fax_mode: clean_text(details.mode, 16),
        remote_ident: clean_text(details.remote_ident, 64),
    };
    let job = st
        .store
        .jobs()
        .finish(&id, &lease_id, &res, now_us())
        .await?
        .ok_or_else(lease_lost)?;
    st.touch_agent(&agent.agent_id).await;
    crate::audit!(
        "job_result",
        job_id = %job.id,
        agent = %agent.agent_id,
        status = %job.status,
        to = %mask_number(&job.to_number),
        attempt = job.attempts,
        agent_attempt = details.agent_attempt
    );
    Ok(Json(job.into()))
}

/// A failed attempt that could not have delivered anything (the agent says `unplaced`): with a routing policy
/// that has a line the job has not tried, and a job no client pinned to its line, the job is queued again for
/// the next line instead of failing. `None`: it fails as any failure does.
async fn fail_over(
    st: &AppState,
    id: &str,
    lease_id: &str,
    error: Option<&str>,
) -> ApiResult<Option<Job>> {
    if st.cfg.routing.is_empty() {
        return Ok(None);
    }
    let Some(job) = st.store.jobs().get(id).await? else {
        return Ok(None);
    };
    let Some(line) = job.line.clone() else {
        return Ok(None);
    };
    if job.lease_id.as_deref() != Some(lease_id) || job.requested_backend.is_some() {
        return Ok(None);
    }
    let tried = job.lines_tried();
    let Some(next) = crate::routing::next_line(&st.cfg.routing, &tried, &line) else {
        return Ok(None);
    };
    let why: String = error
        .unwrap_or("the call could not be placed")
        .chars()
        .take(400)
        .collect();
    let text = format!(
        "the {line} line could not place the call ({why}); going out on the next line of the routing policy"
    );
    let Some(job) = st
        .store
        .jobs()
        .fail_over(id, lease_id, &line, &text, now_us())
        .await?
    else {
        return Ok(None);
    };
    crate::audit!(
        "job_failover",
        job_id = %job.id,
        to = %mask_number(&job.to_number),
        from_line = %line,
        next_line = %next,
        attempt = job.attempts
    );
    st.job_added.notify_waiters();
    Ok(Some(job))
}

/// A result whose `status` is text but no job status (`DONE`) gets the same 400 as `queued`, not a
/// JSON error.
fn names_no_status(body: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v.get("status")?
                .as_str()
                .map(|s| s.parse::<JobStatus>().is_err())
        })
        .unwrap_or(false)
}

/// The agent gives a leased job back unfinished (it is stopping): queued again for a lease after the
/// delay it asks for, while the API's `max_attempts` leases last.
pub(crate) async fn release(
    State(st): State<AppState>,
    Path(id): Path<String>,
    agent: SignedAgent,
) -> ApiResult<Json<super::FaxJobOut>> {
    let r: ReleaseRequest = agent.json()?;
    give_back(&st, &id, &agent.agent_id, r, None).await
}

/// How long a job given back with an old agent's `retry: true` waits before its next lease.
const LEGACY_RELEASE_DELAY_S: u64 = 60;

async fn give_back(
    st: &AppState,
    id: &str,
    agent_id: &str,
    r: ReleaseRequest,
    agent_attempt: Option<u32>,
) -> ApiResult<Json<super::FaxJobOut>> {
    let reason: String = r
        .reason
        .unwrap_or_else(|| "released by the agent".into())
        .chars()
        .take(500)
        .collect();
    let now = now_us();
    let delay_s = r.delay_seconds.unwrap_or(0).min(MAX_RELEASE_DELAY_SECONDS);
    let job = st
        .store
        .jobs()
        .release_lease(
            id,
            &r.lease_id,
            &JobRelease {
                reason,
                pages_sent: r.pages,
                due: now + (delay_s * 1_000_000) as i64,
            },
            now,
            st.cfg.max_attempts,
        )
        .await?
        .ok_or_else(lease_lost)?;
    crate::audit!(
        "job_released",
        job_id = %job.id,
        agent = %agent_id,
        status = %job.status,
        to = %mask_number(&job.to_number),
        attempt = job.attempts,
        agent_attempt = agent_attempt
    );
    if job.status == JobStatus::Queued {
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
) -> ApiResult<Json<JobStatusView>> {
    let job = super::extract::load_job(&st, &id).await?;
    let leased_to_you = job.status == JobStatus::InProgress
        && job.lease_agent.as_deref() == Some(agent.agent_id.as_str());
    Ok(Json(JobStatusView {
        job_id: job.id,
        status: job.status,
        leased_to_you,
    }))
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
    let job = super::extract::load_job(&st, &id).await?;
    if job.lease_id.as_deref() != Some(q.lease_id.as_str()) || job.status != JobStatus::InProgress {
        return Err(lease_lost());
    }
    // Streamed from the store to the agent (decrypted a segment at a time); the agent checks the
    // SHA-256 of what it received, so a store error midway (the body is cut short) cannot pass.
    let doc = st
        .store
        .documents()
        .get_stream(&DocumentId::Job(id.clone()))
        .await?
        .ok_or_else(|| ApiError::not_found("PDF file not found"))?;
    let kind = DocKind::parse(&job.doc_kind).unwrap_or(DocKind::Pdf);
    crate::audit!("document_served", job_id = %id, agent = %agent.agent_id);
    let job_id = id.clone();
    let doc = futures::StreamExt::inspect(doc, move |piece| {
        if let Err(e) = piece {
            tracing::error!(job_id = %job_id, error = %e, "document read failed while sending it");
        }
    });
    Ok((
        [
            (header::CONTENT_TYPE, kind.content_type().to_string()),
            (header::CONTENT_LENGTH, job.doc_size.to_string()),
            (
                header::HeaderName::from_static(HEADER_DOCUMENT_SHA256),
                job.doc_sha256,
            ),
            (
                header::HeaderName::from_static(HEADER_DOCUMENT_KIND),
                job.doc_kind,
            ),
        ],
        Body::from_stream(doc),
    )
        .into_response())
}

/// The most the `metadata` part of an inbound upload may hold.
const INBOUND_META_MAX: usize = 64 * 1024;

/// A received fax: multipart `metadata` (JSON) + `file` (PDF), signed like every agent request.
///
/// The body is streamed, not held: the PDF goes to a spool file (sealed with client-side
/// encryption on) while the whole body is hashed, and the signature over that hash is verified
/// when the body has ended, before anything is parsed beyond the multipart framing or stored. A
/// body that fails there leaves nothing behind (the spool file is deleted on drop).
pub(crate) async fn inbound(
    State(st): State<AppState>,
    req: Request,
) -> ApiResult<Json<InboundAnswer>> {
    let pre = Prechecked::check(&req, &st)?;
    let permit = UNVERIFIED_BODIES
        .acquire()
        .await
        .map_err(|_| ApiError::internal())?;
    // The route's body limit (its `DefaultBodyLimit`) stays with the parts for the parser.
    let (parts, body) = req.into_parts();
    let body = HashedBody::new(body, st.cfg.max_file_bytes() + 256 * 1024);
    let framed = Request::from_parts(parts, Body::from_stream(body.clone()));
    let id = uuid::Uuid::new_v4().simple().to_string();
    let parts = read_inbound_parts(&st, framed, &id).await;
    // Whatever the framing said, the signature covers every byte: read the rest, then verify.
    let (sha, read) = body.finish().await;
    drop(permit);
    let sha = match read {
        BodyRead::Complete => sha,
        BodyRead::TooLarge => {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Request body too large or unreadable",
            ));
        }
        BodyRead::Failed => {
            return Err(ApiError::bad_request(
                "Request body too large or unreadable",
            ));
        }
    };
    let agent_id = pre.verify(&st, &sha)?;
    let (meta, pdf) = parts?;
    if !st.cfg.inbound_enabled {
        // Nothing can read a received fax while inbound is off (its routes answer 404), so it is
        // not kept; the answer is a success so the agent drops its copy instead of retrying.
        crate::audit!(
            "inbound_discarded",
            agent = %agent_id,
            reason = "inbound disabled",
            size = pdf.as_ref().map_or(0, |p| p.size())
        );
        return Ok(Json(InboundAnswer {
            id: None,
            status: InboundDisposition::Discarded,
        }));
    }
    let meta: InboundMeta =
        serde_json::from_slice(&meta.ok_or_else(|| ApiError::missing("body", "metadata"))?)
            .map_err(|e| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("Invalid metadata: {e}"),
                )
            })?;
    let pdf = pdf.ok_or_else(|| ApiError::missing("body", "file"))?;
    if pdf.kind().ok() != Some(DocKind::Pdf) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Only PDF is accepted",
        ));
    }
    let now = now_us();
    let row = Inbound {
        id: id.clone(),
        from_number: meta.from,
        to_number: meta.to,
        status: meta.status.unwrap_or_else(|| "received".into()),
        backend: "sip".into(),
        provider_sid: meta.call_id.map(|c| format!("{agent_id}/{c}")),
        pages: meta.pages,
        size_bytes: Some(pdf.size() as i64),
        sha256: Some(pdf.sha256().to_owned()),
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
    let stored = st.store.inbound().insert_spooled(&row, pdf).await?;
    crate::audit!(
        "inbound_received",
        inbound_id = %stored.id,
        agent = %agent_id,
        from = %mask_number(stored.from_number.as_deref().unwrap_or("")),
        to = %mask_number(stored.to_number.as_deref().unwrap_or(""))
    );
    Ok(Json(InboundAnswer {
        id: Some(stored.id),
        status: InboundDisposition::Ok,
    }))
}

/// The `metadata` bytes and the spooled `file` of an inbound upload, or why its framing is bad.
type InboundParts = ApiResult<(Option<Bytes>, Option<Spooled>)>;

/// Reads the multipart framing of an inbound upload: `metadata` kept (at most
/// [`INBOUND_META_MAX`]), `file` spooled as inbound fax `id`, anything else skipped. Nothing here
/// is trusted yet: the caller verifies the signature before using what this returns.
async fn read_inbound_parts(st: &AppState, framed: Request, id: &str) -> InboundParts {
    let mut mp = Multipart::from_request(framed, &())
        .await
        .map_err(|_| ApiError::missing("body", "metadata"))?;
    let bad = |_| ApiError::bad_request("There was an error parsing the body");
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Request body too large or unreadable",
        )
    };
    let (mut meta, mut pdf): (Option<Bytes>, Option<Spooled>) = (None, None);
    while let Some(mut field) = mp.next_field().await.map_err(bad)? {
        match field.name() {
            Some("metadata") => {
                let mut b = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(bad)? {
                    if b.len() + chunk.len() > INBOUND_META_MAX {
                        return Err(too_large());
                    }
                    b.extend_from_slice(&chunk);
                }
                meta = Some(Bytes::from(b));
            }
            Some("file") => {
                drop(pdf.take());
                pdf = Some(
                    super::spool_pieces(
                        st,
                        DocumentId::Inbound(id.to_owned()),
                        st.cfg.max_file_bytes(),
                        field,
                        bad,
                        too_large,
                    )
                    .await?,
                );
            }
            _ => while field.chunk().await.map_err(bad)?.is_some() {},
        }
    }
    Ok((meta, pdf))
}

/// How the body of a streamed agent request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyRead {
    Complete,
    TooLarge,
    Failed,
}

/// A request body read as a stream (for the multipart parser) while every byte is hashed for
/// the signature and counted against a limit. Clones share the body: [`HashedBody::finish`]
/// reads what the parser left (an epilogue, a body cut short by a framing error) and returns the
/// SHA-256 of all of it.
#[derive(Clone)]
struct HashedBody(std::sync::Arc<std::sync::Mutex<HashedState>>);

struct HashedState {
    body: axum::body::BodyDataStream,
    hasher: Sha256,
    read: u64,
    limit: u64,
    end: Option<BodyRead>,
}

impl HashedBody {
    fn new(body: Body, limit: u64) -> Self {
        Self(std::sync::Arc::new(std::sync::Mutex::new(HashedState {
            body: body.into_data_stream(),
            hasher: Sha256::new(),
            read: 0,
            limit,
            end: None,
        })))
    }

    fn poll_piece(&self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Option<Bytes>> {
        use futures::Stream;
        let mut st = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if st.end.is_some() {
            return std::task::Poll::Ready(None);
        }
        match std::pin::Pin::new(&mut st.body).poll_next(cx) {
            std::task::Poll::Pending => std::task::Poll::Pending,
            std::task::Poll::Ready(None) => {
                st.end = Some(BodyRead::Complete);
                std::task::Poll::Ready(None)
            }
            std::task::Poll::Ready(Some(Err(_))) => {
                st.end = Some(BodyRead::Failed);
                std::task::Poll::Ready(None)
            }
            std::task::Poll::Ready(Some(Ok(piece))) => {
                st.read += piece.len() as u64;
                if st.read > st.limit {
                    st.end = Some(BodyRead::TooLarge);
                    return std::task::Poll::Ready(None);
                }
                st.hasher.update(&piece);
                std::task::Poll::Ready(Some(piece))
            }
        }
    }

    /// Reads the rest of the body; its SHA-256 (hex) and how it ended.
    async fn finish(self) -> (String, BodyRead) {
        while std::future::poll_fn(|cx| self.poll_piece(cx))
            .await
            .is_some()
        {}
        let mut st = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let end = st.end.unwrap_or(BodyRead::Failed);
        let hasher = std::mem::take(&mut st.hasher);
        (hex::encode(hasher.finalize()), end)
    }
}

impl futures::Stream for HashedBody {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.poll_piece(cx).map(|p| p.map(Ok))
    }
}
