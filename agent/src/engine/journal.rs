//! The call journal: one small fsync'd file per outbound job in `<spool>/state/calls/`, written BEFORE a call
//! is placed and updated when its outcome is known. It is what keeps "at most one live call per job" true across
//! a crash: an agent that finds an in-flight record for a job it leases knows a call may have been placed and
//! does not dial again; a record with an outcome lets it report that outcome instead of calling again.
//! Records are removed once the API has accepted the job's result.

use std::path::{Path, PathBuf};

use super::outcome::CallOutcome;
use super::spool::{remove_durably, write_durably};

/// What the journal knows about a job.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum CallRecord {
    /// A call for `attempt` is (or may be) in progress.
    InFlight { attempt: u32, token: String },
    /// Attempt `attempt` ended with `outcome`; the job's result may not have reached the API yet.
    Ended {
        attempt: u32,
        token: String,
        outcome: CallOutcome,
    },
}

impl CallRecord {
    pub fn attempt(&self) -> u32 {
        match self {
            CallRecord::InFlight { attempt, .. } | CallRecord::Ended { attempt, .. } => *attempt,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("call journal {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("call journal {path} is unreadable: {message}")]
    Corrupt { path: PathBuf, message: String },
    #[error("job id {0:?} cannot name a journal file")]
    BadJobId(String),
}

/// The journal directory.
#[derive(Debug, Clone)]
pub struct Journal {
    dir: PathBuf,
}

impl Journal {
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, JournalError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(|source| JournalError::Io {
            path: dir.clone(),
            source,
        })?;
        Ok(Self { dir })
    }

    fn path(&self, job_id: &str) -> Result<PathBuf, JournalError> {
        if !crate::engine::spool::is_valid_job_token(job_id) {
            return Err(JournalError::BadJobId(job_id.to_owned()));
        }
        Ok(self.dir.join(format!("{job_id}.json")))
    }

    /// The record of a job, if any.
    pub fn get(&self, job_id: &str) -> Result<Option<CallRecord>, JournalError> {
        let path = self.path(job_id)?;
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(JournalError::Io { path, source }),
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| JournalError::Corrupt {
                path,
                message: e.to_string(),
            })
    }

    /// How long ago a job's record was last written (`None`: no record, or the clock cannot tell).
    pub fn age(&self, job_id: &str) -> Option<std::time::Duration> {
        let modified = std::fs::metadata(self.path(job_id).ok()?)
            .ok()?
            .modified()
            .ok()?;
        modified.elapsed().ok()
    }

    /// Writes a record durably (returns only once it is on disk).
    pub fn put(&self, job_id: &str, record: &CallRecord) -> Result<(), JournalError> {
        let path = self.path(job_id)?;
        let bytes = serde_json::to_vec(record).map_err(|e| JournalError::Corrupt {
            path: path.clone(),
            message: e.to_string(),
        })?;
        write_durably(&path, &bytes).map_err(|source| JournalError::Io { path, source })
    }

    pub fn remove(&self, job_id: &str) -> Result<(), JournalError> {
        let path = self.path(job_id)?;
        remove_durably(&path).map_err(|source| JournalError::Io { path, source })
    }

    /// Every job with a record (for reconciliation at start).
    pub fn jobs(&self) -> Result<Vec<String>, JournalError> {
        let rd = std::fs::read_dir(&self.dir).map_err(|source| JournalError::Io {
            path: self.dir.clone(),
            source,
        })?;
        Ok(rd
            .filter_map(Result::ok)
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                name.strip_suffix(".json").map(str::to_owned)
            })
            .filter(|n| crate::engine::spool::is_valid_job_token(n))
            .collect())
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::outcome::FailureClass;

    #[test]
    fn records_survive_reopen_and_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(dir.path().join("calls")).unwrap();
        assert_eq!(j.get("job1").unwrap(), None);
        j.put(
            "job1",
            &CallRecord::InFlight {
                attempt: 1,
                token: "job1_1".into(),
            },
        )
        .unwrap();
        let j = Journal::open(dir.path().join("calls")).unwrap();
        assert_eq!(j.get("job1").unwrap().unwrap().attempt(), 1);
        j.put(
            "job1",
            &CallRecord::Ended {
                attempt: 1,
                token: "job1_1".into(),
                outcome: CallOutcome::failed(FailureClass::Busy, "x"),
            },
        )
        .unwrap();
        assert!(matches!(
            j.get("job1").unwrap(),
            Some(CallRecord::Ended { .. })
        ));
        assert_eq!(j.jobs().unwrap(), vec!["job1".to_owned()]);
        j.remove("job1").unwrap();
        assert_eq!(j.get("job1").unwrap(), None);
        assert!(matches!(j.get("../x"), Err(JournalError::BadJobId(_))));
        std::fs::write(dir.path().join("calls/bad.json"), b"{").unwrap();
        assert!(matches!(j.get("bad"), Err(JournalError::Corrupt { .. })));
    }
}
