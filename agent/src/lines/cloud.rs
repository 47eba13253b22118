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

use std::future::Future;
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
}

impl ProviderError {
    pub fn new(class: FailureClass, detail: impl Into<String>) -> Self {
        Self {
            class,
            detail: detail.into(),
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
}

/// How long a cloud line waits.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// Without an event for this long, ask the provider's status API.
    pub reconcile_after: Duration,
    /// Give up (outcome unknown) after this long without a final status.
    pub max_wait: Duration,
}

/// A line over a cloud provider.
pub struct CloudLine<P> {
    provider: P,
    api: AgentClient,
    timing: Timing,
    /// What the last submission said about the provider's API, for readiness: set when it could not be
    /// reached or failed (5xx, timeout, unreadable answer), cleared by the next submission it takes.
    failing: std::sync::Mutex<Option<&'static str>>,
}

impl<P: Provider> CloudLine<P> {
    pub fn new(provider: P, api: AgentClient, timing: Timing) -> Self {
        Self {
            provider,
            api,
            timing,
            failing: std::sync::Mutex::new(None),
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
            .map(|p| format!("{} line: {p}", P::NAME))
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
                match e.class {
                    FailureClass::ChannelUnavailable => {
                        self.set_failing(Some("the provider's API is unreachable or failing"));
                    }
                    FailureClass::Unknown => {
                        self.set_failing(Some(
                            "the provider's API did not answer the last submission clearly",
                        ));
                    }
                    // The far end, the number or the document: not the provider's health.
                    _ => {}
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
