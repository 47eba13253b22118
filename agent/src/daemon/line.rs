//! The line that carries a call. The job machine does not care whether a fax goes through Asterisk (AMI) or the
//! built-in loopback; each implementation turns one [`CallRequest`] into one definite [`CallOutcome`] and
//! hands received faxes to the inbound queue.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::watch;

use super::outcome::CallOutcome;

/// One call attempt.
#[derive(Debug, Clone)]
pub struct CallRequest {
    pub job_id: String,
    /// `<job>_<attempt>`: channel id, spool file name and result-event JobID.
    pub token: String,
    /// The number to dial (full; never log it unmasked).
    pub to: String,
    /// The TIFF-F to send, as the agent sees it.
    pub tiff: PathBuf,
    /// ECM override for this attempt.
    pub ecm: Option<bool>,
    /// Where the line publishes the call's phase for the API.
    pub progress: Progress,
}

/// A call's progress, published by the line (e.g. from `FAXStatus` events) and reported to the API by the job
/// task. Only the latest phase is kept, so a burst of phases costs one report and publishing never waits.
#[derive(Debug, Clone)]
pub struct Progress(Arc<watch::Sender<Option<String>>>);

impl Progress {
    /// A sender and the receiver the job task follows.
    pub fn channel() -> (Self, watch::Receiver<Option<String>>) {
        let (tx, rx) = watch::channel(None);
        (Self(Arc::new(tx)), rx)
    }

    /// Publishes the call's new phase (short text, no numbers).
    pub fn publish(&self, stage: &str) {
        self.0.send_replace(Some(stage.to_owned()));
    }
}

/// A line. `place` returns only with a definite outcome; it never places a second call for the same request.
pub trait Line: Send + Sync + 'static {
    /// `asterisk` or `loopback` (for logs).
    fn kind(&self) -> &'static str;
    /// Whether new calls can be placed now (e.g. AMI logged in). Jobs are only leased while this is true.
    fn ready(&self) -> bool;
    /// Places the call and follows it to its end.
    fn place(&self, request: CallRequest) -> impl Future<Output = CallOutcome> + Send;
}
