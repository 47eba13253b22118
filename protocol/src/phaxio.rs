//! Phaxio's fax object (API v2.1), as both sides read it: the API in Phaxio's callbacks (the `fax` field),
//! the agent in the status API's answers (`data`). One reading of its status, error and tags, so a fax ends
//! the same whether its webhook or the reconcile poll told us. Sans-IO.

use serde::Deserialize;

use crate::JobStatus;

/// The tag naming the Faxline job on every fax Faxline sends through Phaxio (`tags[faxline_job]`).
pub const JOB_TAG: &str = "faxline_job";

/// The fields of Phaxio's fax object that Faxline reads.
#[derive(Debug, Clone, Deserialize)]
pub struct Fax {
    pub id: serde_json::Value,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub num_pages: Option<i64>,
    #[serde(default)]
    pub error_type: Option<String>,
    #[serde(default)]
    pub error_message: Option<String>,
    #[serde(default)]
    pub tags: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub completed_at: Option<String>,
    #[serde(default)]
    pub from_number: Option<String>,
    #[serde(default)]
    pub to_number: Option<String>,
    #[serde(default)]
    pub recipients: Vec<Recipient>,
}

/// One recipient of a sent fax (its own error when the fax's is absent).
#[derive(Debug, Clone, Deserialize)]
pub struct Recipient {
    #[serde(default)]
    pub error_type: Option<String>,
    #[serde(default)]
    pub error_message: Option<String>,
}

/// Phaxio's fax status as a job status (`None`: a status Phaxio does not document).
pub fn map_status(status: &str) -> Option<JobStatus> {
    Some(match status.to_ascii_lowercase().as_str() {
        "queued" | "pendingbatch" => JobStatus::Queued,
        "inprogress" | "in_progress" | "sending" => JobStatus::InProgress,
        "success" => JobStatus::Success,
        "failure" | "partialsuccess" | "cancelled" | "error" => JobStatus::Failed,
        _ => return None,
    })
}

/// Provider text fit for a job's error: control characters dropped, at most 200 characters, `None` if empty.
pub fn clean_text(s: &str) -> Option<String> {
    let t: String = s
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect::<String>()
        .trim()
        .to_owned();
    (!t.is_empty()).then_some(t)
}

impl Fax {
    /// Phaxio's id of the fax: digits (or letters and digits), at most 64; `None` for anything else.
    pub fn sid(&self) -> Option<String> {
        let sid = match &self.id {
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::String(s) => s.clone(),
            _ => return None,
        };
        (!sid.is_empty() && sid.len() <= 64 && sid.chars().all(|c| c.is_ascii_alphanumeric()))
            .then_some(sid)
    }

    /// The job status, when Phaxio's status is one it documents.
    pub fn job_status(&self) -> Option<JobStatus> {
        map_status(self.status.as_deref()?)
    }

    /// Pages, when plausible.
    pub fn pages(&self) -> Option<i64> {
        self.num_pages.filter(|n| (0..=10_000).contains(n))
    }

    /// The reason of a failed fax, `message (type)`, from the fax or its first recipient.
    pub fn error_text(&self) -> String {
        let r = self.recipients.first();
        let message = self
            .error_message
            .clone()
            .or_else(|| r.and_then(|r| r.error_message.clone()));
        let kind = self
            .error_type
            .clone()
            .or_else(|| r.and_then(|r| r.error_type.clone()));
        match (kind, message) {
            (Some(k), Some(m)) => clean_text(&format!("{m} ({k})")),
            (Some(t), None) | (None, Some(t)) => clean_text(&t),
            (None, None) => None,
        }
        .unwrap_or_else(|| "the provider reported a failure without a reason".into())
    }

    /// The Faxline job the fax was sent for ([`JOB_TAG`]).
    pub fn job_tag(&self) -> Option<&str> {
        self.tags.as_ref()?.get(JOB_TAG)?.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_phaxio_fax_objects() {
        let f: Fax = serde_json::from_str(
            r#"{"id":123,"status":"failure","num_pages":3,"tags":{"faxline_job":"j1"},
                "recipients":[{"error_type":"lineError","error_message":"Busy"}]}"#,
        )
        .unwrap();
        assert_eq!(f.sid().as_deref(), Some("123"));
        assert_eq!(f.job_status(), Some(JobStatus::Failed));
        assert_eq!(f.pages(), Some(3));
        assert_eq!(f.error_text(), "Busy (lineError)");
        assert_eq!(f.job_tag(), Some("j1"));
        let odd: Fax =
            serde_json::from_str(r#"{"id":"../1","status":"weird","num_pages":-1}"#).unwrap();
        assert_eq!(odd.sid(), None);
        assert_eq!(odd.job_status(), None);
        assert_eq!(odd.pages(), None);
        assert_eq!(map_status("InProgress"), Some(JobStatus::InProgress));
        assert_eq!(clean_text(" a\u{7}b "), Some("ab".into()));
    }
}
