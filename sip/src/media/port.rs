//! One media session on its socket, whatever the stream: the part the T.38 and the audio fax
//! share (the wire, the counters, the progress events, the linger after phase E, the outcome),
//! around a [`FaxStream`] that is the only thing that differs.

use std::net::SocketAddr;

use faxline_t38::session::{FaxReport, SessionEvent};
use faxline_t38::tick_pool::Tick;
use tracing::debug;

use super::wire::Wire;
use super::{DoneFn, MediaOutcome, MediaStats, SessionEvents};

/// Ticks to keep sending after phase E so the last IFPs (and their redundancy) reach the peer.
const LINGER_TICKS: u32 = 25;

/// A fax session with its framing on the wire: UDPTL for T.38, RTP for G.711 audio.
pub(super) trait FaxStream: Send {
    /// One 20 ms step: takes what arrived on `wire`, passes the time to the session and sends
    /// what it produced, counting into `stats`.
    fn step(&mut self, wire: &mut Wire, stats: &mut MediaStats);
    /// The session's next progress event.
    fn poll_event(&mut self) -> Option<SessionEvent>;
    /// True once the session reached phase E.
    fn is_finished(&self) -> bool;
    /// Ends T.30 now (if still running).
    fn hang_up(&mut self);
    /// The session's report, once finished.
    fn report(&self) -> Option<&FaxReport>;
}

/// A [`FaxStream`] on its socket, as the media runtime's tick pool steps it.
pub(super) struct Port {
    /// Process-unique session id, for logs.
    id: u64,
    stream: Box<dyn FaxStream>,
    wire: Wire,
    stats: MediaStats,
    linger: Option<u32>,
    events: Option<SessionEvents>,
    done: Option<DoneFn>,
}

impl Port {
    pub(super) fn new(
        id: u64,
        stream: Box<dyn FaxStream>,
        wire: Wire,
        events: Option<SessionEvents>,
        done: DoneFn,
    ) -> Self {
        Self {
            id,
            stream,
            wire,
            stats: MediaStats::default(),
            linger: None,
            events,
            done: Some(done),
        }
    }

    /// Counts down the ticks the port keeps running after its fax session ended (so its last
    /// packets and their redundancy still go out); true once they are over.
    fn linger_over(&mut self) -> bool {
        if let Some(n) = &mut self.linger {
            *n = n.saturating_sub(1);
            return *n == 0;
        }
        if self.stream.is_finished() {
            self.linger = Some(LINGER_TICKS);
        }
        false
    }
}

impl Port {
    /// One 20 ms step. Returns true when the port is finished and can be dropped.
    fn step(&mut self) -> bool {
        self.stream.step(&mut self.wire, &mut self.stats);
        self.wire.end_tick(&mut self.stats);
        SessionEvents::forward(self.events.as_ref(), || self.stream.poll_event());
        self.linger_over()
    }

    /// The stream moved (re-INVITE): send to the new address until a packet latches again.
    pub(super) fn retarget(&mut self, remote: SocketAddr) {
        self.wire.latch.retarget(remote);
    }

    /// Ends the session (if still running) and delivers its outcome, at most once.
    pub(super) fn finish(&mut self) {
        self.stream.hang_up();
        // `done` is taken even without a report, so a later call delivers nothing.
        if let (Some(done), Some(report)) = (self.done.take(), self.stream.report().cloned()) {
            done(MediaOutcome {
                report,
                stats: self.stats,
            });
        }
    }
}

/// Finishing delivers the outcome right away.
impl Tick for Port {
    fn tick(&mut self) -> bool {
        let done = self.step();
        if done {
            debug!(
                session = self.id,
                sent = self.stats.sent,
                received = self.stats.received,
                ignored = self.stats.ignored,
                "media session done"
            );
            self.finish();
        }
        done
    }
}
