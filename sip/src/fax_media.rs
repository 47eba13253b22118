//! The production [`MediaControl`]: starts the call's fax session on the media runtime, T.38 on
//! the UDPTL socket or G.711 on the RTP socket reserved for the call, and reports phase E back to
//! the call control.

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use faxline_t38::session::{Direction, FaxOptions};
use faxline_t38::sim::ChannelModel;
use tokio::sync::mpsc;
use tracing::warn;

use crate::call::FaxMedia;
use crate::driver::MediaControl;
use crate::media::{
    MediaError, MediaJob, MediaOutcome, MediaRuntime, SessionEvents, SessionHandle, StreamParams,
};

/// Which kind of session runs now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    T38,
    Audio,
}

/// Runs the fax of one call on a [`MediaRuntime`].
pub struct FaxMediaControl {
    runtime: Arc<MediaRuntime>,
    udptl: Option<UdpSocket>,
    rtp: Option<UdpSocket>,
    direction: Direction,
    fax: FaxOptions,
    label: String,
    loss: Option<(ChannelModel, u64)>,
    events: Option<SessionEvents>,
    done: mpsc::UnboundedSender<bool>,
    outcome: Arc<Mutex<Option<MediaOutcome>>>,
    /// The running session, its kind and where it sends.
    running: Option<(SessionHandle, Kind, SocketAddr)>,
    /// Bumped when a session is replaced, so the replaced one's end is not taken for phase E.
    generation: Arc<AtomicU64>,
}

impl FaxMediaControl {
    /// A control for one call with its UDPTL socket; `done` is the call driver's fax-finished
    /// channel. Without [`with_audio_socket`](Self::with_audio_socket) a G.711 fallback fails the
    /// fax (and the call ends with BYE).
    pub fn new(
        runtime: Arc<MediaRuntime>,
        socket: UdpSocket,
        direction: Direction,
        fax: FaxOptions,
        label: String,
        done: mpsc::UnboundedSender<bool>,
    ) -> Self {
        Self {
            runtime,
            udptl: Some(socket),
            rtp: None,
            direction,
            fax,
            label,
            loss: None,
            events: None,
            done,
            outcome: Arc::new(Mutex::new(None)),
            running: None,
            generation: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The RTP socket of the call's audio stream (the port in our SDP `m=audio`), for the G.711
    /// fallback.
    pub fn with_audio_socket(mut self, socket: UdpSocket) -> Self {
        self.rtp = Some(socket);
        self
    }

    /// Puts a loss model in front of this end's sockets (outgoing datagrams).
    pub fn with_loss(mut self, model: ChannelModel, seed: u64) -> Self {
        self.loss = Some((model, seed));
        self
    }

    /// Passes the sessions' progress events (training, pages) to `events`.
    pub fn with_events(mut self, events: SessionEvents) -> Self {
        self.events = Some(events);
        self
    }

    /// Where the session's outcome lands when it ends.
    pub fn outcome(&self) -> Arc<Mutex<Option<MediaOutcome>>> {
        self.outcome.clone()
    }

    fn spawn(&mut self, kind: Kind, remote: SocketAddr, media: FaxMedia) -> Result<(), MediaError> {
        let socket = match kind {
            Kind::T38 => self.udptl.take(),
            Kind::Audio => self.rtp.take(),
        };
        let Some(socket) = socket else {
            return Err(MediaError::Session(format!(
                "no {} socket for this call",
                if kind == Kind::T38 { "UDPTL" } else { "RTP" }
            )));
        };
        let generation = self.generation.load(Ordering::SeqCst);
        let (current, outcome, done) = (
            self.generation.clone(),
            self.outcome.clone(),
            self.done.clone(),
        );
        let report = move |o: MediaOutcome| {
            if current.load(Ordering::SeqCst) != generation {
                return;
            }
            let ok = o.report.is_success();
            if let Ok(mut slot) = outcome.lock() {
                *slot = Some(o);
            }
            let _ = done.send(ok);
        };
        let (stream, loss) = match media {
            FaxMedia::T38 { params, .. } => (StreamParams::T38(params), self.loss),
            // A different seed per stream keeps the two directions independent.
            FaxMedia::Audio { payload, .. } => (
                StreamParams::Audio {
                    payload_type: payload,
                },
                self.loss.map(|(m, s)| (m, s ^ 0xa5a5)),
            ),
        };
        let job = MediaJob {
            direction: self.direction.clone(),
            fax: self.fax.clone(),
            remote,
            stream,
            label: self.label.clone(),
            loss,
            events: self.events.clone(),
        };
        let handle = self.runtime.spawn(job, socket, report)?;
        self.running = Some((handle, kind, remote));
        Ok(())
    }
}

impl MediaControl for FaxMediaControl {
    fn start_fax(&mut self, media: FaxMedia) {
        let (kind, remote) = match media {
            FaxMedia::T38 { remote, .. } => (Kind::T38, remote),
            FaxMedia::Audio { remote, .. } => (Kind::Audio, remote),
        };
        match &mut self.running {
            // Same kind again (a re-INVITE moving or refreshing the stream): keep the session,
            // send to the new address until packets latch.
            Some((h, k, at)) if *k == kind => {
                if *at != remote {
                    h.retarget(remote);
                    *at = remote;
                }
                return;
            }
            // Audio → T.38 mid-call: the audio session ends quietly, a fresh T.38 one starts
            // (what Asterisk does, telephony.md §5.3).
            Some((h, _, _)) => {
                self.generation.fetch_add(1, Ordering::SeqCst);
                h.stop();
                self.running = None;
            }
            None => {}
        }
        if let Err(e) = self.spawn(kind, remote, media) {
            warn!(error = %e, label = %self.label, "cannot start fax session");
            let _ = self.done.send(false);
        }
    }

    fn stop_fax(&mut self) {
        if let Some((h, _, _)) = self.running.take() {
            h.stop();
        }
    }
}
