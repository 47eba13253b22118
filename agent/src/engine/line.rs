//! The port to the lines. The engine does not care whether a fax goes through Asterisk (AMI), the agent's own SIP
//! stack or the built-in loopback; each implementation turns one [`CallRequest`] into one definite
//! [`CallOutcome`] and hands received faxes to the inbound queue.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use faxline_protocol::DocKind;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::outcome::CallOutcome;

/// The form in which a line takes the document: telephony lines send fax TIFF-F, which the engine renders;
/// a provider that renders documents itself takes the original.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentForm {
    FaxTiff,
    Original,
}

/// A call's document, in the form its line asked for, as a file in the spool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Document {
    /// Rendered (or received as) TIFF-F.
    FaxTiff(PathBuf),
    /// As the client uploaded it.
    Original { kind: DocKind, path: PathBuf },
}

impl Document {
    /// The file, whatever its form.
    pub fn path(&self) -> &Path {
        match self {
            Document::FaxTiff(path) | Document::Original { path, .. } => path,
        }
    }

    /// The TIFF-F, when this is one.
    pub fn fax_tiff(&self) -> Option<&Path> {
        match self {
            Document::FaxTiff(path) => Some(path),
            Document::Original { .. } => None,
        }
    }
}

/// One call attempt.
#[derive(Debug, Clone)]
pub struct CallRequest {
    pub job_id: String,
    /// `<job>_<attempt>`: channel id, spool file name and result-event JobID.
    pub token: String,
    /// The number to dial (full; never log it unmasked).
    pub to: String,
    /// The document, in the line's [`Line::document_form`].
    pub document: Document,
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
    /// `asterisk`, `sip` or `loopback` (for logs).
    fn kind(&self) -> &'static str;
    /// The form of document the line sends; the engine renders only for [`DocumentForm::FaxTiff`].
    fn document_form(&self) -> DocumentForm;
    /// Whether new calls can be placed now (e.g. AMI logged in). Jobs are only leased while this is true.
    fn ready(&self) -> bool;
    /// What keeps the line from working, one short fixed text per part (no numbers, no secrets), for the
    /// API's readiness; empty when it works.
    fn problems(&self) -> Vec<String> {
        if self.ready() {
            Vec::new()
        } else {
            vec![format!("the {} line is not ready", self.kind())]
        }
    }
    /// Places the call and follows it to its end.
    fn place(&self, request: CallRequest) -> impl Future<Output = CallOutcome> + Send;
}
