//! Cloud fax providers' webhooks, sans-IO: how each provider's callback is authenticated and what it means,
//! as pure functions over the request's parts (URL, fields, files, headers, the current time). The routes in
//! `routes/cloud.rs` read the request and store what these return; the agent's line for the provider waits
//! for it through the agent protocol (`/agent/v1/jobs/{id}/provider-events`).

pub mod phaxio;

use faxline_protocol::JobStatus;

/// A provider's status event for one fax, normalised: no number, no document content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusEvent {
    /// The provider's id of the fax.
    pub provider_sid: String,
    /// What happened, unique per fax (a repeat of the same event is a replay).
    pub event: String,
    /// The Faxline job the fax belongs to, as the provider echoes it back.
    pub job_id: Option<String>,
    pub status: JobStatus,
    pub pages: Option<i64>,
    /// The provider's error text on failure, bounded and without control characters.
    pub error: Option<String>,
    /// When the provider says the event happened (Unix seconds), for the maximum age.
    pub occurred_at: Option<i64>,
}
