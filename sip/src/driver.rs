//! Runs one [`FaxCall`] on a [`CallLeg`]: the thin async shell around the sans-IO call control.
//!
//! It feeds leg events and timer expiries into the state machine and carries out its actions:
//! SIP commands go to the leg, media decisions go to a [`MediaControl`] (the UDPTL/RTP runtime in
//! production), and the media reports back on a channel when the fax has finished.

use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::call::{CallAction, CallInput, EndReason, FaxCall, FaxMedia};
use crate::stack::{CallLeg, LegEvent};

/// How long to wait for the stack to close a dialog after the call ended.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

/// What the call control asks of the media side.
pub trait MediaControl: Send {
    /// Start (or move) the fax session onto this media.
    fn start_fax(&mut self, media: FaxMedia);
    /// Stop the fax session now (the call is gone).
    fn stop_fax(&mut self);
}

/// What the call control did on one finished call (why it ended, the media the fax ran on, the
/// stops), for logs and tests. Not the agent journal's record of an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallSummary {
    /// Why it ended.
    pub end: EndReason,
    /// The media the fax was started on, in order.
    pub media: Vec<FaxMedia>,
    /// How many times the fax was stopped by the call control.
    pub stops: u32,
}

impl CallSummary {
    /// `"T38"` or `"audio"`: the media the fax ended on.
    pub fn mode(&self) -> Option<&'static str> {
        self.media.last().map(|m| match m {
            FaxMedia::T38 { .. } => "T38",
            FaxMedia::Audio { .. } => "audio",
        })
    }
}

/// Drives the call until it has ended and the leg has closed (or the leg vanished).
///
/// `fax_done` delivers `true`/`false` when the fax session reached phase E.
pub async fn run_call(
    mut call: FaxCall,
    leg: CallLeg,
    mut events: mpsc::UnboundedReceiver<LegEvent>,
    media: &mut dyn MediaControl,
    mut fax_done: mpsc::UnboundedReceiver<bool>,
) -> CallSummary {
    let mut record = CallSummary {
        end: EndReason::LocalHangup,
        media: Vec::new(),
        stops: 0,
    };
    let mut ended = false;
    let mut fax_open = true;
    let mut ended_at: Option<Instant> = None;
    call.start(Instant::now());
    loop {
        while let Some(action) = call.poll_action() {
            match action {
                CallAction::Sip(cmd) => leg.send(cmd),
                CallAction::StartFax(m) => {
                    record.media.push(m.clone());
                    media.start_fax(m);
                }
                CallAction::StopFax => {
                    record.stops += 1;
                    media.stop_fax();
                }
                CallAction::Ended(reason) => {
                    record.end = reason;
                    ended = true;
                }
            }
        }
        // Once ended, only wait (briefly) for the stack to close the dialog.
        let deadline = if ended {
            Some(
                ended_at
                    .get_or_insert_with(|| Instant::now() + CLOSE_GRACE)
                    .to_owned(),
            )
        } else {
            call.poll_timeout()
        };
        let sleep = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            ev = events.recv() => match ev {
                Some(LegEvent::Call(input)) => call.handle_input(input, Instant::now()),
                Some(LegEvent::Closed) | None => {
                    if !ended {
                        // The stack dropped the dialog under us (e.g. no ACK): treat as hangup.
                        call.handle_input(CallInput::PeerBye, Instant::now());
                        continue;
                    }
                    break;
                }
            },
            done = fax_done.recv(), if fax_open => match done {
                Some(success) => call.handle_input(CallInput::FaxFinished { success }, Instant::now()),
                None => fax_open = false,
            },
            _ = sleep => {
                if ended { break; }
                call.handle_timeout(Instant::now());
            }
        }
    }
    record
}
