//! The line that carries a call. The job machine does not care whether a fax goes through Asterisk (AMI) or the
//! built-in loopback; each implementation turns one [`CallRequest`] into one definite [`CallOutcome`] and
//! hands received faxes to the inbound queue.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use faxline_t38::session::FaxOptions;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

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
    /// Cancelled when the agent's shutdown grace period runs out: the line hangs the call up at once and
    /// returns its outcome (class [`FailureClass::Shutdown`](super::outcome::FailureClass::Shutdown) unless
    /// the fax completed), so the result is still reported.
    pub hangup: CancellationToken,
}

/// A call's phase for the API: a short text (no numbers) and, once pages have gone, how many.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phase {
    pub stage: String,
    pub pages_sent: Option<u32>,
}

/// A call's progress, published by the line (e.g. from `FAXStatus` events) and reported to the API by the job
/// task. Only the latest phase is kept, so a burst of phases costs one report and publishing never waits.
#[derive(Debug, Clone)]
pub struct Progress(Arc<watch::Sender<Option<Phase>>>);

impl Progress {
    /// A sender and the receiver the job task follows.
    pub fn channel() -> (Self, watch::Receiver<Option<Phase>>) {
        let (tx, rx) = watch::channel(None);
        (Self(Arc::new(tx)), rx)
    }

    /// Publishes the call's new phase (short text, no numbers); the pages sent so far are kept.
    pub fn publish(&self, stage: &str) {
        self.0.send_modify(|p| {
            let pages_sent = p.as_ref().and_then(|p| p.pages_sent);
            *p = Some(Phase {
                stage: stage.to_owned(),
                pages_sent,
            });
        });
    }

    /// Publishes a phase together with the number of pages confirmed sent so far.
    pub fn publish_pages(&self, stage: &str, pages_sent: u32) {
        self.0.send_replace(Some(Phase {
            stage: stage.to_owned(),
            pages_sent: Some(pages_sent),
        }));
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
