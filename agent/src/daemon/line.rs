//! The line that carries a call. The job machine does not care whether a fax goes through Asterisk (AMI) or the
//! built-in loopback; each implementation turns one [`CallRequest`] into one definite [`CallOutcome`] and
//! hands received faxes to the inbound queue.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use faxline_t38::session::FaxOptions;
use tokio::sync::watch;

use crate::config::Config;

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

/// The T.30 options every line's sending and receiving sessions use, from `[fax]`.
pub fn fax_options(cfg: &Config) -> FaxOptions {
    let mut fax = FaxOptions {
        ecm: cfg.fax.ecm,
        max_bit_rate: cfg.fax.max_rate,
        min_bit_rate: cfg.fax.min_rate,
        ..FaxOptions::default()
    };
    if !cfg.fax.local_station_id.is_empty() {
        fax.local_ident = cfg.fax.local_station_id.clone();
    }
    if !cfg.fax.header_info.is_empty() {
        fax.page_header = Some(cfg.fax.header_info.clone());
    }
    fax
}
