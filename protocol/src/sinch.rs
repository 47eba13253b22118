//! Sinch's fax object (Fax API v3), as both sides read it: the API in the `fax` of Sinch's `FAX_COMPLETED`
//! and `INCOMING_FAX` webhooks, the agent in the answers of `POST .../faxes` and of the status API
//! (`GET /v3/projects/{projectId}/faxes/{id}`). One reading of its status, pages and error, so a fax ends the
//! same whether its webhook or the reconcile poll told us. Sans-IO.
//!
//! Sinch's fax statuses are `QUEUED`, `IN_PROGRESS`, `COMPLETED` and `FAILURE`; a failed fax carries
//! `errorType` (`CALL_ERROR`, `FAX_ERROR`, `LINE_ERROR`, `DOCUMENT_CONVERSION_ERROR`, `FATAL_ERROR`,
//! `GENERAL_ERROR`), a numeric `errorCode` and an `errorMessage`. Anything else is not taken for a status:
//! Faxbot read every unknown status as `queued`, which froze its jobs.

use serde::Deserialize;

use crate::JobStatus;
pub use crate::phaxio::clean_text;

/// The fields of Sinch's fax object that Faxline reads.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fax {
    #[serde(default)]
    pub id: Option<String>,
    /// `OUTBOUND` (sent by us) or `INBOUND` (received on one of the project's numbers).
    #[serde(default)]
    pub direction: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub number_of_pages: Option<serde_json::Value>,
    #[serde(default)]
    pub pages_sent_successfully: Option<serde_json::Value>,
    #[serde(default)]
    pub error_type: Option<String>,
    /// A number in the reference; some answers carry it as a string.
    #[serde(default)]
    pub error_code: Option<serde_json::Value>,
    #[serde(default)]
    pub error_message: Option<String>,
}

/// Sinch's fax status as a job status (`None`: a status Sinch does not document).
pub fn map_status(status: &str) -> Option<JobStatus> {
    Some(match status.trim().to_ascii_uppercase().as_str() {
        "QUEUED" => JobStatus::Queued,
        "IN_PROGRESS" => JobStatus::InProgress,
        "COMPLETED" => JobStatus::Success,
        "FAILURE" => JobStatus::Failed,
        _ => return None,
    })
}

/// Sinch's fax ids: letters, digits, `-` and `_`, at most 64 (they go into URLs and the store).
pub fn valid_sid(sid: &str) -> bool {
    !sid.is_empty()
        && sid.len() <= 64
        && sid
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// A JSON number or numeric string as an integer.
fn int(v: &Option<serde_json::Value>) -> Option<i64> {
    match v.as_ref()? {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

impl Fax {
    /// Sinch's id of the fax, when it is one.
    pub fn sid(&self) -> Option<String> {
        self.id
            .as_deref()
            .map(str::trim)
            .filter(|s| valid_sid(s))
            .map(str::to_owned)
    }

    /// The job status, when Sinch's status is one it documents.
    pub fn job_status(&self) -> Option<JobStatus> {
        map_status(self.status.as_deref()?)
    }

    /// Whether Sinch says the fax was received (not sent) by the project.
    pub fn inbound(&self) -> bool {
        self.direction
            .as_deref()
            .is_some_and(|d| d.trim().eq_ignore_ascii_case("INBOUND"))
    }

    /// Pages, when plausible: the fax's pages, or on a failure the pages that went through when that is all
    /// Sinch says.
    pub fn pages(&self) -> Option<i64> {
        int(&self.number_of_pages)
            .or_else(|| int(&self.pages_sent_successfully))
            .filter(|n| (0..=10_000).contains(n))
    }

    /// The status text as received, cleaned (for an error naming an unknown status).
    pub fn status_text(&self) -> String {
        clean_text(self.status.as_deref().unwrap_or("")).unwrap_or_default()
    }

    /// The reason of a failed fax: Sinch's message with its type and code (`Busy (CALL_ERROR 17)`), bounded,
    /// without control characters, any phone number masked (the text reaches the job and the log).
    pub fn error_text(&self) -> String {
        let message = self
            .error_message
            .as_deref()
            .and_then(|m| clean_text(&crate::mask_numbers_in(m)));
        let kind = self.error_type.as_deref().and_then(clean_text);
        let code = int(&self.error_code);
        let tag = match (kind, code) {
            (Some(k), Some(c)) => Some(format!("{k} {c}")),
            (Some(k), None) => Some(k),
            (None, Some(c)) => Some(format!("Sinch error {c}")),
            (None, None) => None,
        };
        match (message, tag) {
            (Some(m), Some(t)) => format!("{m} ({t})"),
            (Some(m), None) => m,
            (None, Some(t)) => t,
            (None, None) => "the provider reported a failure without a reason".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sinch_fax_objects() {
        let f: Fax = serde_json::from_str(
            r#"{"id":"01HF9X2G7Q5T8M3N4P6R","direction":"OUTBOUND","status":"FAILURE",
                "to":"+15551230000","numberOfPages":2,"errorType":"CALL_ERROR","errorCode":17,
                "errorMessage":"Busy signal from +15551230000\n"}"#,
        )
        .unwrap();
        assert_eq!(f.sid().as_deref(), Some("01HF9X2G7Q5T8M3N4P6R"));
        assert_eq!(f.job_status(), Some(JobStatus::Failed));
        assert!(!f.inbound());
        assert_eq!(f.pages(), Some(2));
        let e = f.error_text();
        assert!(e.ends_with("(CALL_ERROR 17)"), "{e}");
        assert!(!e.contains("5551230000"), "masked: {e}");
        assert!(!e.contains('\n'));
        let odd: Fax = serde_json::from_str(
            r#"{"id":"../1","status":"SENT","numberOfPages":-3,"errorCode":"x","direction":"inbound"}"#,
        )
        .unwrap();
        assert_eq!(odd.sid(), None);
        assert_eq!(odd.job_status(), None, "an unknown status is not `queued`");
        assert_eq!(odd.pages(), None);
        assert!(odd.inbound());
        assert_eq!(
            odd.error_text(),
            "the provider reported a failure without a reason"
        );
        for (s, want) in [
            ("QUEUED", JobStatus::Queued),
            ("IN_PROGRESS", JobStatus::InProgress),
            ("COMPLETED", JobStatus::Success),
            ("FAILURE", JobStatus::Failed),
        ] {
            assert_eq!(map_status(s), Some(want), "{s}");
        }
        let partial: Fax =
            serde_json::from_str(r#"{"pagesSentSuccessfully":"1","errorCode":"48"}"#).unwrap();
        assert_eq!(partial.pages(), Some(1));
        assert_eq!(partial.error_text(), "Sinch error 48");
    }
}
