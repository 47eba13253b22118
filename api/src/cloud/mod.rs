//! Cloud fax providers' webhooks, sans-IO: how each provider's callback is authenticated and what it means,
//! as pure functions over the request's parts (URL, fields, files, headers, the current time). The routes in
//! `routes/cloud.rs` read the request and store what these return; the agent's line for the provider waits
//! for it through the agent protocol (`/agent/v1/jobs/{id}/provider-events`).

pub mod phaxio;
pub mod signalwire;
pub mod sinch;
pub mod telnyx;

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

/// A received fax as a provider reports it, normalised: stored like one from Asterisk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub provider_sid: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub pages: Option<i64>,
    /// `received`, or `failed` when the provider says the reception failed.
    pub status: String,
    pub occurred_at: Option<i64>,
}

/// A provider's phone number when it is one (`+` and digits, at most 32), else nothing: it is stored and
/// shown, so nothing else from a webhook gets there.
pub(crate) fn plain_number(n: &Option<String>) -> Option<String> {
    n.clone()
        .filter(|n| n.len() <= 32 && n.chars().all(|c| c.is_ascii_digit() || c == '+'))
}

/// An RFC 3339 time (`2026-01-02T15:04:05.000-05:00`) as Unix seconds.
pub(crate) fn unix(s: &str) -> Option<i64> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}
