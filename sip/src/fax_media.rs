//! The production [`MediaControl`]: starts the call's T.38 session on the media runtime with the
//! UDPTL socket reserved for the call, and reports phase E back to the call control.

use std::net::UdpSocket;
use std::sync::{Arc, Mutex};

use faxline_t38::session::{Direction, FaxOptions};
use faxline_t38::sim::ChannelModel;
use tokio::sync::mpsc;
use tracing::warn;

use crate::call::FaxMedia;
use crate::driver::MediaControl;
use crate::media::{MediaOutcome, MediaRuntime, SessionHandle, T38Job};

/// Runs the fax of one call on a [`MediaRuntime`].
pub struct FaxMediaControl {
    runtime: Arc<MediaRuntime>,
    socket: Option<UdpSocket>,
    direction: Direction,
    fax: FaxOptions,
    label: String,
    loss: Option<(ChannelModel, u64)>,
    done: mpsc::UnboundedSender<bool>,
    outcome: Arc<Mutex<Option<MediaOutcome>>>,
    handle: Option<SessionHandle>,
}

impl FaxMediaControl {
    /// A control for one call; `done` is the call driver's fax-finished channel.
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
            socket: Some(socket),
            direction,
            fax,
            label,
            loss: None,
            done,
            outcome: Arc::new(Mutex::new(None)),
            handle: None,
        }
    }

    /// Puts a loss model in front of this end's socket (outgoing datagrams).
    pub fn with_loss(mut self, model: ChannelModel, seed: u64) -> Self {
        self.loss = Some((model, seed));
        self
    }

    /// Where the session's outcome lands when it ends.
    pub fn outcome(&self) -> Arc<Mutex<Option<MediaOutcome>>> {
        self.outcome.clone()
    }
}

impl MediaControl for FaxMediaControl {
    fn start_fax(&mut self, media: FaxMedia) {
        match media {
            FaxMedia::T38 { remote, params, .. } => {
                let Some(socket) = self.socket.take() else {
                    // A second switch (e.g. a re-INVITE moving the stream) keeps the running session;
                    // latching follows the new source address.
                    return;
                };
                let job = T38Job {
                    direction: self.direction.clone(),
                    fax: self.fax.clone(),
                    remote,
                    params,
                    label: self.label.clone(),
                    loss: self.loss,
                };
                let outcome = self.outcome.clone();
                let done = self.done.clone();
                match self.runtime.spawn_t38(job, socket, move |o| {
                    let ok = o.report.is_success();
                    if let Ok(mut slot) = outcome.lock() {
                        *slot = Some(o);
                    }
                    let _ = done.send(ok);
                }) {
                    Ok(h) => self.handle = Some(h),
                    Err(e) => {
                        warn!(error = %e, "cannot start T.38 session");
                        let _ = self.done.send(false);
                    }
                }
            }
            FaxMedia::Audio { .. } => {
                // G.711 fax over RTP is not wired to sockets in this line yet: fail the fax
                // explicitly so the call ends with a BYE instead of hanging.
                warn!("T.38 refused and G.711 RTP fax is not available on the SIP line");
                let _ = self.done.send(false);
            }
        }
    }

    fn stop_fax(&mut self) {
        if let Some(h) = self.handle.take() {
            h.stop();
        }
    }
}
