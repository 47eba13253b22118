//! Telnyx's fax object (Programmable Fax, API v2), as both sides read it: the API in the payload of Telnyx's
//! `fax.*` webhooks, the agent in the status API's answer (`GET /v2/faxes/{id}`, `data`). One reading of
//! its status, pages, failure reason and `client_state`, so a fax ends the same whether its webhook or the
//! reconcile poll told us. Sans-IO.
//!
//! Telnyx echoes a fax's `client_state` (base64, set when it is sent) in every webhook of the fax: Faxline
//! puts the job id there ([`client_state`]), as it tags a Phaxio fax with it.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

use crate::JobStatus;
pub use crate::phaxio::clean_text;

/// The fields of Telnyx's fax object (or a fax webhook's `payload`) that Faxline reads.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Fax {
    /// The fax's id in the status API's answer.
    #[serde(default)]
    pub id: Option<String>,
    /// The fax's id in a webhook's payload.
    #[serde(default)]
    pub fax_id: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub page_count: Option<i64>,
    #[serde(default)]
    pub failure_reason: Option<String>,
    #[serde(default)]
    pub client_state: Option<String>,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    /// A received fax's document (a short-lived link Telnyx gives in `fax.received`).
    #[serde(default)]
    pub media_url: Option<String>,
}

/// Telnyx's fax status as a job status (`None`: a status Telnyx does not document for a sent fax).
pub fn map_status(status: &str) -> Option<JobStatus> {
    Some(match status.to_ascii_lowercase().as_str() {
        "queued" | "initiated" | "media.processing" | "media.processed" => JobStatus::Queued,
        "originated" | "sending" | "sending.started" => JobStatus::InProgress,
        "delivered" => JobStatus::Success,
        "failed" => JobStatus::Failed,
        _ => return None,
    })
}

/// Telnyx's fax ids are UUIDs: letters, digits and `-`, at most 64.
pub fn valid_sid(sid: &str) -> bool {
    !sid.is_empty() && sid.len() <= 64 && sid.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// The `client_state` Faxline sends with a fax: the job id, base64.
pub fn client_state(job_id: &str) -> String {
    STANDARD.encode(job_id)
}

/// The job id in a `client_state` Faxline set (`None` for anything else).
pub fn job_of_client_state(state: &str) -> Option<String> {
    let raw = STANDARD.decode(state.trim()).ok()?;
    let job = String::from_utf8(raw).ok()?;
    (!job.is_empty()
        && job.len() <= 64
        && job
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
    .then_some(job)
}

impl Fax {
    /// Telnyx's id of the fax (`fax_id` in a webhook, `id` in the status API), when it is one.
    pub fn sid(&self) -> Option<String> {
        self.fax_id
            .as_deref()
            .or(self.id.as_deref())
            .filter(|s| valid_sid(s))
            .map(str::to_owned)
    }

    /// The job status, when Telnyx's status is one it documents.
    pub fn job_status(&self) -> Option<JobStatus> {
        map_status(self.status.as_deref()?)
    }

    /// Pages, when plausible.
    pub fn pages(&self) -> Option<i64> {
        self.page_count.filter(|n| (0..=10_000).contains(n))
    }

    /// The reason of a failed fax (Telnyx's `failure_reason`, e.g. `user_busy`).
    pub fn error_text(&self) -> String {
        self.failure_reason
            .as_deref()
            .and_then(clean_text)
            .unwrap_or_else(|| "the provider reported a failure without a reason".into())
    }

    /// The Faxline job the fax was sent for (its `client_state`).
    pub fn job_id(&self) -> Option<String> {
        job_of_client_state(self.client_state.as_deref()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_telnyx_fax_objects() {
        let state = client_state("0123abcd");
        let f: Fax = serde_json::from_str(&format!(
            r#"{{"fax_id":"f8338808-3dc6-4f2b-942a-5d1f39255784","status":"failed","page_count":2,
                "failure_reason":"user_busy","client_state":"{state}"}}"#
        ))
        .unwrap();
        assert_eq!(
            f.sid().as_deref(),
            Some("f8338808-3dc6-4f2b-942a-5d1f39255784")
        );
        assert_eq!(f.job_status(), Some(JobStatus::Failed));
        assert_eq!(f.pages(), Some(2));
        assert_eq!(f.error_text(), "user_busy");
        assert_eq!(f.job_id().as_deref(), Some("0123abcd"));
        let odd: Fax = serde_json::from_str(
            r#"{"id":"../1","status":"weird","page_count":-1,"client_state":"!!"}"#,
        )
        .unwrap();
        assert_eq!(odd.sid(), None);
        assert_eq!(odd.job_status(), None);
        assert_eq!(odd.pages(), None);
        assert_eq!(odd.job_id(), None);
        assert_eq!(
            odd.error_text(),
            "the provider reported a failure without a reason"
        );
        assert_eq!(map_status("media.processed"), Some(JobStatus::Queued));
        assert_eq!(map_status("sending"), Some(JobStatus::InProgress));
        assert_eq!(map_status("delivered"), Some(JobStatus::Success));
        // A client_state that is not one of ours names no job.
        assert_eq!(job_of_client_state(&STANDARD.encode("a/../b")), None);
    }
}
