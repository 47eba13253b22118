//! Re-export for the agent until it depends on faxline-protocol: the protocol's client
//! ([`faxline_protocol::client`]) under its old path, with the result call in the shape today's agent
//! code uses (status as text, `retry: true` to give a job back at shutdown). Nothing here is a second
//! protocol: results become [`faxline_protocol::messages::ResultReport`] and a give-back becomes the
//! `release` message. Removed once the agent calls `faxline_protocol::client` itself.

use std::ops::Deref;
use std::time::Duration;

use faxline_protocol::JobStatus;
use faxline_protocol::client::{AgentClient as Client, SendResult as Report};
pub use faxline_protocol::client::{
    AgentClientError, CallDetails, InboundMeta, JobStatusView, LeasedJob, MAX_IN_FLIGHT,
};
use faxline_protocol::secret::Secret;

/// A result as today's agent builds it.
#[derive(Debug, Clone)]
pub struct SendResult {
    /// `SUCCESS` or `FAILED`.
    pub status: String,
    pub error: Option<String>,
    pub pages: Option<i64>,
    pub provider_sid: Option<String>,
    /// The agent is stopping: give the job back (sent as `release`), not a retry.
    pub retry: bool,
}

/// [`faxline_protocol::client::AgentClient`], whose every call it offers, plus the result calls above.
#[derive(Debug, Clone)]
pub struct AgentClient(Client);

impl Deref for AgentClient {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self.0
    }
}

impl AgentClient {
    pub fn new(base_url: &str, agent_id: &str, secret: Secret) -> Result<Self, AgentClientError> {
        Client::new(base_url, agent_id, secret).map(Self)
    }

    pub async fn result(
        &self,
        job: &LeasedJob,
        result: &SendResult,
    ) -> Result<JobStatus, AgentClientError> {
        self.result_with_details(job, result, &CallDetails::default())
            .await
    }

    pub async fn result_with_details(
        &self,
        job: &LeasedJob,
        result: &SendResult,
        details: &CallDetails,
    ) -> Result<JobStatus, AgentClientError> {
        let status: JobStatus = result.status.parse().map_err(|_| AgentClientError::Api {
            status: 400,
            detail: format!("not a result status: {:?}", result.status),
        })?;
        if result.retry && status == JobStatus::Failed {
            let reason = result.error.as_deref().unwrap_or("agent shutdown");
            // Today's agent gives a job back only when it stops; the API used to hold such a job for
            // 60 s, so its next lease (often the restarted agent's) comes as late as before.
            return self
                .0
                .release(job, reason, result.pages, Duration::from_secs(60))
                .await;
        }
        let report = Report {
            status,
            error: result.error.clone(),
            pages: result.pages,
            provider_sid: result.provider_sid.clone(),
        };
        self.0.result_with_details(job, &report, details).await
    }
}
