//! What every cloud fax provider's line shares: submit the document to the provider's REST API, then follow
//! the fax to its end through the webhook events the API verified and stored (the agent protocol's long poll,
//! `AgentClient::provider_events`), and reconcile with the provider's status API by `provider_sid` when no
//! event came for `reconcile_after` (networks lose webhooks). A provider implements [`Provider`]; the line is
//! [`CloudLine`].
//!
//! Nothing is ever submitted twice for one call: an answer that leaves it open whether the provider took the
//! fax (a timeout after the request went out, an unreadable success) ends the attempt as
//! [`FailureClass::Unknown`], which is never retried, and so does an agent stopping while the provider is
//! still sending (the provider carries on; its result is in the provider's console under `provider_sid`).
//!
//! The line's health for readiness comes from its submissions and from [`Provider::check`], run at start and
//! while a problem lasts: no job is leased until the provider has answered the first check, and a line whose
//! provider was down takes jobs again as soon as a check passes.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use faxline_protocol::JobStatus;
use faxline_protocol::client::{AgentClient, AgentClientError};
use tokio::time::Instant;

use crate::engine::line::{CallRequest, DocumentForm, Line};
use crate::engine::outcome::{CallOutcome, Delivery, FailureClass};
use faxline_protocol::mask_number;

/// A fax's state at the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaxState {
    pub status: JobStatus,
    pub pages: Option<i64>,
    /// The provider's reason on failure.
    pub error: Option<String>,
}

/// Why a request to the provider failed, already classified for the job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderError {
    pub class: FailureClass,
    pub detail: String,
    /// The provider refused our API credentials (HTTP 401): every request will fail until they are fixed.
    pub credentials_refused: bool,
}

impl ProviderError {
    pub fn new(class: FailureClass, detail: impl Into<String>) -> Self {
        Self {
            class,
            detail: detail.into(),
            credentials_refused: false,
        }
    }

    /// The provider refused the API credentials: the job fails as refused, the line reports why.
    pub fn credentials(detail: impl Into<String>) -> Self {
        Self {
            class: FailureClass::Rejected,
            detail: detail.into(),
            credentials_refused: true,
        }
    }

    /// What this failure says about the provider's health, for readiness (`None`: it was about the fax —
    /// the number, the document, the far end — not the provider).
    fn problem(&self) -> Option<&'static str> {
        if self.credentials_refused {
            return Some("the provider refused the API credentials (check the key and secret)");
        }
        match self.class {
            FailureClass::ChannelUnavailable => {
                Some("the provider's API is unreachable or failing")
            }
            FailureClass::Unknown => Some("the provider's API did not answer clearly"),
            _ => None,
        }
    }
}

/// One cloud provider's REST API.
pub trait Provider: Send + Sync + 'static {
    /// `phaxio`, ...: the line's kind and the provider name in the agent protocol.
    const NAME: &'static str;
    /// Submits the call's document to the number; returns the provider's id of the fax.
    fn submit(
        &self,
        req: &CallRequest,
    ) -> impl Future<Output = Result<String, ProviderError>> + Send;
    /// The fax's state now (the reconcile poll).
    fn status(&self, sid: &str) -> impl Future<Output = Result<FaxState, ProviderError>> + Send;
    /// The failure class of the provider's error text.
    fn classify(&self, error: &str) -> FailureClass;
    /// An authenticated request that changes nothing (Phaxio: `GET /account/status`): whether the API answers
    /// and takes our credentials.
    fn check(&self) -> impl Future<Output = Result<(), ProviderError>> + Send;
}

/// How long a cloud line waits.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// Without an event for this long, ask the provider's status API.
    pub reconcile_after: Duration,
    /// Give up (outcome unknown) after this long without a final status.
    pub max_wait: Duration,
    /// How often the provider is checked ([`Provider::check`]) while the line reports a problem; ten times
    /// this while it does not.
    pub health_every: Duration,
}

/// The provider's health as the line last found it: `None` when it works.
type Failing = Arc<std::sync::Mutex<Option<&'static str>>>;

/// Said until the first check has answered: no job is leased before the provider is known to take our
/// credentials (a wrong key then holds the faxes in the queue instead of failing each of them).
const NOT_CHECKED: &str = "the provider's API has not been checked yet";

/// A line over a cloud provider.
pub struct CloudLine<P> {
    provider: Arc<P>,
    api: AgentClient,
    timing: Timing,
    /// What the provider's API last showed, for readiness: set by a submission that could not reach it, an
    /// unclear answer or refused credentials, and by the health check; cleared by a submission it takes or a
    /// check that passes. A line with a problem leases no job, so only the check ([`watch_health`]) can end it.
    failing: Failing,
    watcher: tokio::task::AbortHandle,
}

impl<P> Drop for CloudLine<P> {
    fn drop(&mut self) {
        self.watcher.abort();
    }
}

/// Checks the provider at start, then every `every` while it has a problem and every ten `every` while not,
/// and keeps `failing` (and the log) current. Must run inside a Tokio runtime.
async fn watch_health<P: Provider>(provider: Arc<P>, failing: Failing, every: Duration) {
    let mut last_check: Option<Instant> = None;
    loop {
        let current = failing.lock().ok().and_then(|f| *f);
        let due = match last_check {
            None => true,
            Some(t) if current.is_some() => t.elapsed() >= every,
            Some(t) => t.elapsed() >= every * 10,
        };
        if due {
            last_check = Some(Instant::now());
            let found = match provider.check().await {
                Ok(()) => None,
                Err(e) => Some(
                    e.problem()
                        .unwrap_or("the provider's API refused the health check"),
                ),
            };
            let before = failing
                .lock()
                .ok()
                .and_then(|mut f| std::mem::replace(&mut *f, found));
            match (before, found) {
                (Some(_), None) => tracing::info!(provider = P::NAME, "the provider's API works"),
                (b, Some(p)) if b != Some(p) => {
                    tracing::warn!(
                        provider = P::NAME,
                        problem = p,
                        "the provider's API check failed"
                    )
                }
                _ => {}
            }
        }
        // Wake often enough to notice a problem a submission found (checked `every` after it).
        tokio::time::sleep(every.min(Duration::from_secs(5))).await;
    }
}

impl<P: Provider> CloudLine<P> {
    /// The line, and its health watch (spawned: call inside a Tokio runtime).
    pub fn new(provider: P, api: AgentClient, timing: Timing) -> Self {
        let provider = Arc::new(provider);
        let failing: Failing = Arc::new(std::sync::Mutex::new(Some(NOT_CHECKED)));
        let watcher = tokio::spawn(watch_health(
            provider.clone(),
            failing.clone(),
            timing.health_every.max(Duration::from_millis(100)),
        ))
        .abort_handle();
        Self {
            provider,
            api,
            timing,
            failing,
            watcher,
        }
    }

    fn set_failing(&self, problem: Option<&'static str>) {
        if let Ok(mut f) = self.failing.lock() {
            *f = problem;
        }
    }

    fn outcome(&self, sid: &str, s: FaxState) -> CallOutcome {
        let pages = s.pages.and_then(|p| u32::try_from(p).ok());
        match s.status {
            JobStatus::Success => CallOutcome::Success(Delivery {
                pages,
                provider_sid: Some(sid.to_owned()),
                ..Delivery::default()
            }),
            _ => {
                let error = s
                    .error
                    .unwrap_or_else(|| "the provider reported a failure without a reason".into());
                CallOutcome::Failed {
                    class: self.provider.classify(&error),
                    detail: format!("{}: {error} (fax {sid})", P::NAME),
                    pages,
                    // The provider took the fax and tried it: whatever its reason, never sent elsewhere.
                    unplaced: false,
                }
            }
        }
    }

    fn publish(req: &CallRequest, s: &FaxState) {
        let stage = match s.status {
            JobStatus::Queued => "queued at the provider",
            _ => "sending at the provider",
        };
        match s.pages.and_then(|p| u32::try_from(p).ok()) {
            Some(n) => req.progress.publish_pages(stage, n),
            None => req.progress.publish(stage),
        }
    }

    /// Follows the submitted fax `sid` to its end.
    async fn follow(&self, req: &CallRequest, sid: &str) -> CallOutcome {
        let start = Instant::now();
        let mut after = 0;
        let mut last_news = Instant::now();
        loop {
            let now = Instant::now();
            if now.duration_since(start) >= self.timing.max_wait {
                return CallOutcome::failed(
                    FailureClass::Unknown,
                    format!(
                        "{}: no final status within {} s (fax {sid}); the provider may still deliver it",
                        P::NAME,
                        self.timing.max_wait.as_secs()
                    ),
                );
            }
            if now.duration_since(last_news) >= self.timing.reconcile_after {
                match self.provider.status(sid).await {
                    Ok(s) if s.status.is_final() => {
                        tracing::info!(job = %req.job_id, provider = P::NAME, provider_sid = sid, status = %s.status, "reconciled from the provider's status API (no webhook came)");
                        return self.outcome(sid, s);
                    }
                    Ok(s) => Self::publish(req, &s),
                    Err(e) => {
                        tracing::warn!(job = %req.job_id, provider = P::NAME, provider_sid = sid, error = %e.detail, "status poll failed")
                    }
                }
                last_news = Instant::now();
            }
            let until_reconcile = self
                .timing
                .reconcile_after
                .saturating_sub(last_news.elapsed());
            let remaining = self.timing.max_wait.saturating_sub(start.elapsed());
            let wait = until_reconcile
                .min(remaining)
                .min(Duration::from_secs(25))
                .max(Duration::from_secs(1));
            let poll = self
                .api
                .provider_events(&req.job_id, P::NAME, sid, after, wait);
            let events = tokio::select! {
                r = poll => r,
                () = req.hangup.cancelled() => {
                    tracing::warn!(job = %req.job_id, provider = P::NAME, provider_sid = sid, "agent stopping while the provider sends the fax");
                    return CallOutcome::failed(
                        FailureClass::Unknown,
                        format!("{}: the agent stopped while the provider was sending (fax {sid}); the provider carries on, so its result is at the provider", P::NAME),
                    );
                }
            };
            match events {
                Ok(events) => {
                    for e in events {
                        after = after.max(e.seq);
                        last_news = Instant::now();
                        let s = FaxState {
                            status: e.status,
                            pages: e.pages,
                            error: e.error,
                        };
                        if s.status.is_final() {
                            tracing::info!(job = %req.job_id, provider = P::NAME, provider_sid = sid, status = %s.status, "final status from the provider's webhook");
                            return self.outcome(sid, s);
                        }
                        Self::publish(req, &s);
                    }
                }
                Err(AgentClientError::LeaseLost) => {
                    return CallOutcome::failed(
                        FailureClass::Unknown,
                        format!(
                            "{}: the job's lease was lost while the provider was sending (fax {sid})",
                            P::NAME
                        ),
                    );
                }
                Err(e) => {
                    // The API is away: the reconcile poll still ends the job.
                    tracing::warn!(job = %req.job_id, provider = P::NAME, error = %e, "waiting for the provider's events failed");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }
}

impl<P: Provider> Line for CloudLine<P> {
    fn kind(&self) -> &'static str {
        P::NAME
    }

    fn document_form(&self) -> DocumentForm {
        DocumentForm::Original
    }

    fn ready(&self) -> bool {
        true
    }

    /// The provider's API as the last submission found it (one fixed text; the detail is in the job).
    fn problems(&self) -> Vec<String> {
        self.failing
            .lock()
            .ok()
            .and_then(|f| *f)
            // The API names the agent and the line's kind itself (`agent site1: phaxio line: …`).
            .map(str::to_owned)
            .into_iter()
            .collect()
    }

    async fn place(&self, req: CallRequest) -> CallOutcome {
        tracing::info!(job = %req.job_id, token = %req.token, to = %mask_number(&req.to), provider = P::NAME, "submitting the fax to the provider");
        req.progress.publish("submitting to the provider");
        let sid = match self.provider.submit(&req).await {
            Ok(sid) => {
                self.set_failing(None);
                sid
            }
            Err(e) => {
                // The far end, the number or the document say nothing about the provider's health.
                if let Some(p) = e.problem() {
                    self.set_failing(Some(p));
                }
                tracing::warn!(job = %req.job_id, provider = P::NAME, class = e.class.label(), error = %e.detail, "the provider did not take the fax");
                return CallOutcome::failed(e.class, format!("{}: {}", P::NAME, e.detail));
            }
        };
        tracing::info!(job = %req.job_id, provider = P::NAME, provider_sid = %sid, "the provider took the fax");
        req.progress.publish("queued at the provider");
        self.follow(&req, &sid).await
    }
}

/// Classifies an HTTP transport failure of a request that submits a fax: a connection that never opened
/// sent nothing (retryable), anything later leaves it open whether the provider took the fax.
pub fn transport_error(e: &reqwest::Error, what: &str) -> ProviderError {
    if e.is_connect() {
        ProviderError::new(
            FailureClass::ChannelUnavailable,
            format!("cannot reach the provider for {what}: {e}"),
        )
    } else if e.is_timeout() {
        ProviderError::new(
            FailureClass::Unknown,
            format!("the provider did not answer {what} in time; it may have taken the fax"),
        )
    } else {
        ProviderError::new(
            FailureClass::Unknown,
            format!("the connection to the provider failed during {what}: {e}"),
        )
    }
}

/// Classifies a failed health-check request: the provider out of reach (no connection, no answer) is a line
/// problem that holds the jobs; anything else as [`transport_error`].
pub fn check_error(provider: &str, e: &reqwest::Error, what: &str) -> ProviderError {
    if e.is_connect() || e.is_timeout() {
        ProviderError::new(
            FailureClass::ChannelUnavailable,
            format!("cannot reach {provider}: {e}"),
        )
    } else {
        transport_error(e, what)
    }
}

/// A health check's answer: a 403 means the credentials lack the right the check needs, which sending
/// needs too, so it is named as a credentials problem.
pub fn check_answer<T>(status: u16, read: Result<T, ProviderError>) -> Result<(), ProviderError> {
    match read {
        Ok(_) => Ok(()),
        Err(e) if status == 403 => Err(ProviderError::credentials(e.detail)),
        Err(e) => Err(e),
    }
}

/// The signed, expiring, single-job link under `PUBLIC_API_URL` from which a provider that takes documents
/// only by URL (Telnyx, SignalWire) fetches the job's PDF, made by the API for the leased job.
pub async fn pdf_link(
    provider: &str,
    api: Option<&AgentClient>,
    req: &CallRequest,
) -> Result<String, ProviderError> {
    use crate::engine::line::Document;
    use faxline_protocol::DocKind;
    match &req.document {
        Document::Original {
            kind: DocKind::Pdf, ..
        } => {}
        Document::Original { kind, .. } => {
            return Err(ProviderError::new(
                FailureClass::Document,
                format!(
                    "{provider} sends PDF documents only; this job's document is {}",
                    kind.as_str()
                ),
            ));
        }
        other => {
            return Err(ProviderError::new(
                FailureClass::Document,
                format!("the {provider} line sends the original document, got {other:?}"),
            ));
        }
    }
    let Some(api) = api else {
        return Err(ProviderError::new(
            FailureClass::Rejected,
            format!("the {provider} line has no connection to the API for document links"),
        ));
    };
    match api.document_link(&req.job_id).await {
        Ok(link) => Ok(link.url),
        Err(AgentClientError::LeaseLost) => Err(ProviderError::new(
            FailureClass::Document,
            "the job's lease was lost before its document link was made",
        )),
        Err(e) => Err(ProviderError::new(
            FailureClass::Document,
            format!("the API made no link to the document: {e}"),
        )),
    }
}

/// A provider's answer body, read until it ends or passes `max` bytes (an answer that large is not the
/// provider's JSON, and reading on would let a broken proxy fill memory).
pub async fn read_bounded(
    mut resp: reqwest::Response,
    max: usize,
) -> Result<Vec<u8>, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        body.extend_from_slice(&chunk);
        if body.len() > max {
            break;
        }
    }
    Ok(body)
}
