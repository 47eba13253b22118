//! The agent protocol's messages, one struct per body, used by the agent to build them and by the API to
//! read them (and the other way round for answers). Inputs the API reads ignore unknown fields, so an
//! agent newer or older than its API keeps working; every field an agent sends is here, none is dropped.

use serde::{Deserialize, Serialize};

use crate::doc_kind::DocKind;
use crate::status::JobStatus;

/// `POST /agent/v1/lease`: wait up to `wait_seconds` (the API caps it at 30) for up to `max_jobs` (1–10).
/// It is also the agent's heartbeat: `max_jobs = 0` leases nothing and only says the agent is alive (an
/// agent whose line is down polls so), and `line` says how its line is (absent from older agents).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseRequest {
    #[serde(default)]
    pub wait_seconds: u64,
    #[serde(default = "one")]
    pub max_jobs: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<LineHealth>,
}

/// The health of an agent's line, for the API's readiness: `problems` names each part that does not work
/// (e.g. "AMI login refused", "trunk not registered"); short fixed texts, never numbers or secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct LineHealth {
    /// The line's kind, one of [`LINE_KINDS`] (the API's routing and per-job `backend` name lines so).
    pub kind: String,
    #[serde(default)]
    pub problems: Vec<String>,
}

impl LineHealth {
    pub fn healthy(&self) -> bool {
        self.problems.is_empty()
    }
}

/// The kinds of line an agent can run (`[line] kind`), as agents report them in [`LineHealth::kind`] and as
/// the API's `routing` and `backends` settings and a job's `backend` name them.
pub const LINE_KINDS: &[&str] = &[
    "asterisk",
    "sip",
    "loopback",
    "phaxio",
    "sinch",
    "telnyx",
    "signalwire",
];

fn one() -> u32 {
    1
}

/// The answer to a lease: possibly empty after the wait.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseResponse {
    pub jobs: Vec<LeasedJob>,
}

/// A job leased to an agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeasedJob {
    pub job_id: String,
    pub lease_id: String,
    /// The number to dial, whole (the API checked it with [`crate::PhoneNumber`]); mask it in logs.
    pub to: String,
    pub document_kind: DocKind,
    pub document_size: i64,
    pub document_sha256: String,
    /// The API's count of leases of this job, 1 on the first.
    pub attempt: i64,
    /// Unix seconds; send a heartbeat well before.
    pub lease_expires_at: i64,
}

/// `GET /agent/v1/jobs/{id}/document?lease_id=...` answers the document's bytes (its `Content-Type` from
/// [`crate::DocKind::content_type`]) with these two headers: the SHA-256 the agent checks against
/// [`LeasedJob::document_sha256`], and the kind (`pdf` or `txt`).
pub const HEADER_DOCUMENT_SHA256: &str = "x-faxline-sha256";
pub const HEADER_DOCUMENT_KIND: &str = "x-faxline-document-kind";

/// `POST /agent/v1/jobs/{id}/heartbeat` and `.../progress`: renews the lease and, when given, records
/// pages sent so far and the call's phase (e.g. Asterisk's FAXStatus text `T.38 Negotiated`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub lease_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pages_sent: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pages_total: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
}

/// The answer to a heartbeat, a progress report or a release: the lease's new expiry (unix seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseRenewed {
    pub lease_expires_at: i64,
}

/// The final result of a send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendResult {
    /// [`JobStatus::Success`] or [`JobStatus::Failed`]; the API refuses any other.
    pub status: JobStatus,
    pub error: Option<String>,
    /// Pages transferred.
    pub pages: Option<i64>,
    pub provider_sid: Option<String>,
}

/// Call details sent along with a result (absent ones are omitted and keep what the job had).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallDetails {
    /// Image bit rate (bit/s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bitrate: Option<i64>,
    /// `T38` or `audio`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// The far end's station identifier (CSI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_ident: Option<String>,
    /// Which attempt of the agent's retry policy this was (the API's `attempt` counts leases).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_attempt: Option<u32>,
    /// On a failure: `true` when no attempt of this lease could have delivered anything — no call was
    /// established (no channel, congestion, the trunk refused before answer) and no cloud provider took the
    /// fax — so the API may send the job through another line (its `routing` policy). `false` or absent
    /// (older agents): a call may have delivered pages, and the job is never sent again elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unplaced: Option<bool>,
}

/// `POST /agent/v1/jobs/{id}/result`: the lease, the result and its call's details in one flat object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultReport {
    pub lease_id: String,
    #[serde(flatten)]
    pub result: SendResult,
    #[serde(flatten)]
    pub details: CallDetails,
}

/// `POST /agent/v1/jobs/{id}/release`: the agent gives a leased job back unfinished (it is stopping), so the
/// job is queued again for whichever agent leases next, as when a lease expires. The API keeps no retry
/// policy (retries are the agent's, `[retry]`): when the job may be leased again is the agent's call too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseRequest {
    pub lease_id: String,
    /// Lease the job again no sooner than this (seconds; absent or 0: at once). The API caps it at
    /// [`MAX_RELEASE_DELAY_SECONDS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_seconds: Option<u64>,
    /// Why (shown as the job's error while it waits, e.g. `agent shutdown`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Pages transferred before the call was cut.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pages: Option<i64>,
}

/// The longest delay a release may ask for: an hour.
pub const MAX_RELEASE_DELAY_SECONDS: u64 = 3600;

/// `GET /agent/v1/jobs/{id}`: a job's status as an agent may see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobStatusView {
    pub job_id: String,
    pub status: JobStatus,
    /// In progress under a lease held by the asking agent.
    pub leased_to_you: bool,
}

impl JobStatusView {
    /// The job will not change any more (it will never be offered again).
    pub fn is_final(&self) -> bool {
        self.status.is_final()
    }
}

/// `POST /agent/v1/jobs/{id}/provider-events`: a cloud line waits for the webhook events of the fax it sent
/// for the job (leased to the asking agent). The API records `provider_sid` on the job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderEventsRequest {
    /// `phaxio`, ...
    pub provider: String,
    /// The provider's id of the fax.
    pub provider_sid: String,
    /// Only events after this `seq` (0: all).
    #[serde(default)]
    pub after: i64,
    /// Long poll: wait up to this many seconds (at most 30) for an event.
    #[serde(default)]
    pub wait_seconds: u64,
}

/// A provider's webhook event as the API verified and normalised it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderEventView {
    pub seq: i64,
    pub event: String,
    pub status: JobStatus,
    #[serde(default)]
    pub pages: Option<i64>,
    #[serde(default)]
    pub error: Option<String>,
}

/// The answer to [`ProviderEventsRequest`], oldest first; empty when none came in time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderEvents {
    pub events: Vec<ProviderEventView>,
}

/// `POST /agent/v1/jobs/{id}/document-link`: a signed, expiring link to the leased job's document under the
/// API's public URL, for a cloud provider that fetches the document itself (Telnyx takes only a URL). The link
/// opens this one job's document and nothing else, and dies on its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentLink {
    pub url: String,
    /// When the link stops working (Unix seconds).
    pub expires_at: i64,
}

/// The `metadata` part of `POST /agent/v1/inbound` (multipart, with the PDF as `file`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundMeta {
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub pages: Option<i64>,
    #[serde(default)]
    pub status: Option<String>,
    /// A call identifier (e.g. Asterisk UNIQUEID): a repeated upload is stored once.
    #[serde(default)]
    pub call_id: Option<String>,
    /// ISO 8601.
    #[serde(default)]
    pub received_at: Option<String>,
}

/// What the API did with an upload: `ok` with the inbound id, or `discarded` with none (inbound is off).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundAnswer {
    pub id: Option<String>,
    pub status: InboundDisposition,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InboundDisposition {
    /// Stored.
    Ok,
    /// Acknowledged and dropped: the API keeps no received faxes (`inbound_enabled` is off).
    Discarded,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn result_report_is_one_flat_object() {
        let r = ResultReport {
            lease_id: "l1".into(),
            result: SendResult {
                status: JobStatus::Success,
                error: None,
                pages: Some(2),
                provider_sid: Some("tok".into()),
            },
            details: CallDetails {
                bitrate: Some(14_400),
                mode: Some("T38".into()),
                remote_ident: None,
                agent_attempt: Some(2),
                unplaced: None,
            },
        };
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(
            v,
            json!({"lease_id": "l1", "status": "SUCCESS", "error": null, "pages": 2,
                   "provider_sid": "tok", "bitrate": 14400, "mode": "T38", "agent_attempt": 2})
        );
        assert_eq!(serde_json::from_value::<ResultReport>(v).unwrap(), r);
    }

    #[test]
    fn inputs_from_older_agents_still_read() {
        // An agent of the previous release sent `retry` and no details.
        let r: ResultReport = serde_json::from_value(json!({
            "lease_id": "l", "status": "FAILED", "error": "busy", "pages": null,
            "provider_sid": null, "retry": false
        }))
        .unwrap();
        assert_eq!(r.result.status, JobStatus::Failed);
        assert_eq!(r.details, CallDetails::default());
        assert_eq!(
            r.details.unplaced, None,
            "an older agent never asks for failover"
        );
        let r: ResultReport = serde_json::from_value(json!({
            "lease_id": "l", "status": "FAILED", "error": "congestion", "pages": null,
            "provider_sid": null, "unplaced": true
        }))
        .unwrap();
        assert_eq!(r.details.unplaced, Some(true));
        let l: LeaseRequest = serde_json::from_value(json!({})).unwrap();
        assert_eq!(
            l,
            LeaseRequest {
                wait_seconds: 0,
                max_jobs: 1,
                line: None
            }
        );
        // A newer agent's line health reads back; an older API ignores the field.
        let l: LeaseRequest = serde_json::from_value(json!({
            "wait_seconds": 5, "max_jobs": 0,
            "line": {"kind": "asterisk", "problems": ["AMI login refused"]}
        }))
        .unwrap();
        let line = l.line.unwrap();
        assert!(!line.healthy());
        assert_eq!(line.problems, ["AMI login refused"]);
        let p: Progress = serde_json::from_value(json!({"lease_id": "l"})).unwrap();
        assert_eq!(p.stage, None);
    }

    #[test]
    fn answers_read_as_the_api_writes_them() {
        let a: InboundAnswer =
            serde_json::from_value(json!({"id": null, "status": "discarded"})).unwrap();
        assert_eq!(a.status, InboundDisposition::Discarded);
        let s: JobStatusView = serde_json::from_value(
            json!({"job_id": "j", "status": "cancelled", "leased_to_you": false}),
        )
        .unwrap();
        assert!(s.is_final());
    }
}
