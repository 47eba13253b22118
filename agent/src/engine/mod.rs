//! The engine: leases outbound jobs from the API and sends them over a [`Line`], and delivers received faxes to
//! the API. It knows no line in particular; the lines live in [`crate::lines`].
//!
//! - Sans-IO cores: [`job::JobMachine`] (one job: document, journal, calls, retries, report) and
//!   [`retry::decide`].
//! - Durable state in the spool: [`journal`] (a call is recorded before it is placed, so a restarted agent
//!   never redials blindly) and the [`inbound`] queue (received faxes wait there until the API has them).
//! - The port: [`line::Line`], which turns one [`CallRequest`] into one [`CallOutcome`] with a line-neutral
//!   [`FailureClass`].
//! - IO shell: [`runner::Daemon`], with the job's document in the spool in `document`.

mod document;
pub mod inbound;
pub mod job;
pub mod journal;
pub mod line;
pub mod outcome;
pub mod retry;
pub mod runner;
pub mod spool;

pub use inbound::{InboundItem, InboundQueue};
pub use line::{CallRequest, Document, DocumentForm, Line};
pub use outcome::{CallOutcome, Delivery, FailureClass};
pub use runner::Daemon;

/// Why the engine cannot run.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("spool directory {path}: {source}")]
    Spool {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Journal(#[from] journal::JournalError),
    #[error(transparent)]
    Queue(#[from] inbound::QueueError),
}
