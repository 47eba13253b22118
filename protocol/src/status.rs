//! A fax job's status, with Faxbot's strings as its names on the wire and in the database.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where a job is in its life. The strings are Faxbot's (mixed case included) because Faxbot clients
/// compare them; [`JobStatus::as_str`] and [`FromStr`] are the only places they are spelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum JobStatus {
    /// Waiting for an agent to lease it.
    #[serde(rename = "queued")]
    Queued,
    /// Leased to an agent, which is calling.
    #[serde(rename = "in_progress")]
    InProgress,
    /// Delivered.
    #[serde(rename = "SUCCESS")]
    Success,
    /// Failed for good.
    #[serde(rename = "FAILED")]
    Failed,
    /// Faxbot's lower-case failure, which its other backends write. Faxline never writes it but reads
    /// it as final, so a database or client carrying it over is understood.
    #[serde(rename = "failed")]
    FailedLowercase,
    /// Cancelled by its owner while queued.
    #[serde(rename = "cancelled")]
    Cancelled,
}

impl JobStatus {
    /// Every status, in life order.
    pub const ALL: [JobStatus; 6] = [
        JobStatus::Queued,
        JobStatus::InProgress,
        JobStatus::Success,
        JobStatus::Failed,
        JobStatus::FailedLowercase,
        JobStatus::Cancelled,
    ];

    /// The wire and database string.
    pub const fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::InProgress => "in_progress",
            JobStatus::Success => "SUCCESS",
            JobStatus::Failed => "FAILED",
            JobStatus::FailedLowercase => "failed",
            JobStatus::Cancelled => "cancelled",
        }
    }

    /// The job will not change any more (it will never be offered again).
    pub const fn is_final(self) -> bool {
        !matches!(self, JobStatus::Queued | JobStatus::InProgress)
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is not one of the six statuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown job status")]
pub struct UnknownStatus;

impl FromStr for JobStatus {
    type Err = UnknownStatus;

    /// Exact match only: `Failed` or `QUEUED` are not statuses.
    fn from_str(s: &str) -> Result<Self, UnknownStatus> {
        JobStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or(UnknownStatus)
    }
}

impl PartialEq<JobStatus> for &str {
    fn eq(&self, other: &JobStatus) -> bool {
        *self == other.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_strings_are_faxbots_and_round_trip() {
        let expected = [
            "queued",
            "in_progress",
            "SUCCESS",
            "FAILED",
            "failed",
            "cancelled",
        ];
        for (st, s) in JobStatus::ALL.into_iter().zip(expected) {
            assert_eq!(st.as_str(), s);
            assert_eq!(st.to_string(), s);
            assert_eq!(s.parse::<JobStatus>(), Ok(st));
            let json = serde_json::to_string(&st).unwrap();
            assert_eq!(json, format!("\"{s}\""));
            assert_eq!(serde_json::from_str::<JobStatus>(&json).unwrap(), st);
        }
        for bad in [
            "",
            "Queued",
            "success",
            "QUEUED",
            "in-progress",
            "cancelled ",
        ] {
            assert_eq!(bad.parse::<JobStatus>(), Err(UnknownStatus), "{bad:?}");
            assert!(serde_json::from_str::<JobStatus>(&format!("\"{bad}\"")).is_err());
        }
    }

    #[test]
    fn final_statuses() {
        let finals: Vec<_> = JobStatus::ALL
            .into_iter()
            .filter(|s| s.is_final())
            .collect();
        assert_eq!(
            finals,
            [
                JobStatus::Success,
                JobStatus::Failed,
                JobStatus::FailedLowercase,
                JobStatus::Cancelled
            ]
        );
    }
}
