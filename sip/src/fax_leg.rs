//! One fax call leg from start to end, outbound or inbound: reserve the media ports, run the call
//! control on the SIP leg, run the fax session on the media it chooses, and collect both reports.
//!
//! The embedded loopback line and the agent's SIP line to a trunk are the same code from here
//! down; they differ only in where the call goes and what happens to the result.

use std::net::IpAddr;
use std::ops::RangeInclusive;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use faxline_t38::session::{Direction, FaxOptions, FaxReport};
use faxline_t38::sim::ChannelModel;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::call::{CallConfig, CallInput, CallRole, FaxCall, FaxMedia};
use crate::driver::{CallSummary, MediaControl, run_call};
use crate::fax_media::FaxMediaControl;
use crate::media::{MediaError, MediaOutcome, MediaRuntime, MediaStats, PortPool, SessionEvents};
use crate::stack::{CallLeg, DialTarget, IncomingCall, LegEvent, SipEndpoint, StackError};

/// How long the media thread may take to deliver its report after the call ended.
const OUTCOME_GRACE: Duration = Duration::from_secs(2);

/// The UDP ports a host's fax calls take their media sockets from.
#[derive(Debug)]
pub struct MediaPorts {
    /// UDPTL (T.38) ports.
    pub udptl: PortPool,
    /// RTP (G.711) ports.
    pub rtp: PortPool,
}

impl MediaPorts {
    /// UDPTL and RTP pools on `ip`.
    pub fn new(ip: IpAddr, udptl: RangeInclusive<u16>, rtp: RangeInclusive<u16>) -> Self {
        Self {
            udptl: PortPool::new(ip, udptl),
            rtp: PortPool::new(ip, rtp),
        }
    }
}

/// What one leg does, apart from where the call goes.
#[derive(Debug, Clone)]
pub struct LegSpec {
    /// Timing, fallback and T.38 policy; its media address is put in our SDP, its ports are
    /// replaced by the ones reserved for the call.
    pub config: CallConfig,
    /// Send a TIFF or receive into one.
    pub direction: Direction,
    /// T.30 options (local ident, ECM, rates).
    pub fax: FaxOptions,
    /// A label for logs (never a phone number).
    pub label: String,
    /// A loss model in front of this leg's sockets, with a seed (tests and demos).
    pub loss: Option<(ChannelModel, u64)>,
    /// Told each time the fax starts on (or moves to) a medium: progress for the caller.
    pub observer: Option<MediaObserver>,
    /// Given the fax session's events (training, each page) as they happen.
    pub session_events: Option<SessionEvents>,
    /// Cancelling this hangs the call up explicitly (BYE or CANCEL, the fax reported as dropped):
    /// shutdown, or the caller of [`place`] giving up.
    pub hangup: Option<CancellationToken>,
}

/// A callback told when the fax starts on (or moves to) a medium.
#[derive(Clone)]
pub struct MediaObserver(Arc<dyn Fn(&FaxMedia) + Send + Sync>);

impl MediaObserver {
    /// Wraps `f`; it runs on the call's task and must not block.
    pub fn new(f: impl Fn(&FaxMedia) + Send + Sync + 'static) -> Self {
        Self(Arc::new(f))
    }
}

impl std::fmt::Debug for MediaObserver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MediaObserver")
    }
}

/// The media control with the observer in front of it.
struct Observed<'a> {
    inner: &'a mut FaxMediaControl,
    observer: Option<MediaObserver>,
}

impl MediaControl for Observed<'_> {
    fn start_fax(&mut self, media: FaxMedia) {
        if let Some(o) = &self.observer {
            (o.0)(&media);
        }
        self.inner.start_fax(media);
    }

    fn stop_fax(&mut self) {
        self.inner.stop_fax();
    }
}

/// Why a leg could not run at all (no SIP message was exchanged, or no media could be reserved).
#[derive(Debug, thiserror::Error)]
pub enum LegError {
    /// SIP setup failed.
    #[error(transparent)]
    Sip(#[from] StackError),
    /// No media ports or sockets.
    #[error(transparent)]
    Media(#[from] MediaError),
}

/// How a leg ended: the call side always, the fax side when a session ran.
#[derive(Debug, Clone)]
pub struct LegReport {
    /// Why the call ended, the media it used and how often the fax was stopped.
    pub call: CallSummary,
    /// The fax session's report and media counters; `None` when no session ever started
    /// (refused, unanswered, or hung up before any media).
    pub fax: Option<MediaOutcome>,
}

impl LegReport {
    /// The fax session's T.30 report, if one ran.
    pub fn report(&self) -> Option<&FaxReport> {
        self.fax.as_ref().map(|o| &o.report)
    }

    /// The media counters, if a session ran.
    pub fn stats(&self) -> Option<MediaStats> {
        self.fax.as_ref().map(|o| o.stats)
    }

    /// `"T38"` or `"audio"`: the media the fax ended on.
    pub fn mode(&self) -> Option<&'static str> {
        self.call.mode()
    }

    /// True when the fax session reports success.
    pub fn is_success(&self) -> bool {
        self.report().is_some_and(FaxReport::is_success)
    }
}

/// Places an outbound fax call from `endpoint` to `target` and follows it to its end.
pub async fn place(
    runtime: Arc<MediaRuntime>,
    ports: &MediaPorts,
    endpoint: &SipEndpoint,
    target: DialTarget,
    spec: LegSpec,
) -> Result<LegReport, LegError> {
    let media = LegMedia::reserve(runtime, ports, spec)?;
    let (leg, events) = endpoint.dial(target)?;
    Ok(media.run(CallRole::Outbound, leg, events).await)
}

/// Answers an inbound call (offered by [`SipEndpoint::bind`]) and follows it to its end.
pub async fn answer(
    runtime: Arc<MediaRuntime>,
    ports: &MediaPorts,
    call: IncomingCall,
    spec: LegSpec,
) -> Result<LegReport, LegError> {
    let media = match LegMedia::reserve(runtime, ports, spec) {
        Ok(m) => m,
        Err(e) => {
            // Out of ports: say so to the caller rather than leaving it ringing.
            call.leg.send(crate::call::SipCommand::Reject { code: 503 });
            return Err(e.into());
        }
    };
    Ok(media.run(CallRole::Inbound, call.leg, call.events).await)
}

/// A leg's reserved sockets and its fax media control.
struct LegMedia {
    config: CallConfig,
    control: FaxMediaControl,
    done: mpsc::UnboundedReceiver<bool>,
    outcome: Arc<Mutex<Option<MediaOutcome>>>,
    hangup: Option<CancellationToken>,
    observer: Option<MediaObserver>,
}

impl LegMedia {
    fn reserve(
        runtime: Arc<MediaRuntime>,
        ports: &MediaPorts,
        spec: LegSpec,
    ) -> Result<Self, MediaError> {
        let (udptl, image_port) = ports.udptl.bind()?;
        let (rtp, audio_port) = ports.rtp.bind()?;
        let mut config = spec.config;
        config.image_port = image_port;
        config.audio_port = audio_port;
        let (done_tx, done) = mpsc::unbounded_channel();
        let mut control = FaxMediaControl::new(
            runtime,
            udptl,
            spec.direction,
            spec.fax,
            spec.label,
            done_tx,
        )
        .with_audio_socket(rtp);
        if let Some((model, seed)) = spec.loss {
            control = control.with_loss(model, seed);
        }
        if let Some(events) = spec.session_events {
            control = control.with_events(events);
        }
        let outcome = control.outcome();
        Ok(Self {
            config,
            control,
            done,
            outcome,
            hangup: spec.hangup,
            observer: spec.observer,
        })
    }

    async fn run(
        mut self,
        role: CallRole,
        leg: CallLeg,
        events: mpsc::UnboundedReceiver<LegEvent>,
    ) -> LegReport {
        let events = match self.hangup.take() {
            Some(token) => with_hangup(events, token),
            None => events,
        };
        let call = run_call(
            FaxCall::new(role, self.config, sdp_session_id()),
            leg,
            events,
            &mut Observed {
                inner: &mut self.control,
                observer: self.observer.take(),
            },
            self.done,
        )
        .await;
        let fax = if call.media.is_empty() {
            None
        } else {
            wait_outcome(&self.outcome).await
        };
        LegReport { call, fax }
    }
}

/// Passes the leg's events through and adds one [`CallInput::Hangup`] when `token` is cancelled.
fn with_hangup(
    mut events: mpsc::UnboundedReceiver<LegEvent>,
    token: CancellationToken,
) -> mpsc::UnboundedReceiver<LegEvent> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut fired = false;
        loop {
            tokio::select! {
                ev = events.recv() => match ev {
                    Some(ev) => if tx.send(ev).is_err() { break },
                    None => break,
                },
                _ = token.cancelled(), if !fired => {
                    fired = true;
                    if tx.send(LegEvent::Call(CallInput::Hangup)).is_err() { break }
                }
            }
        }
    });
    rx
}

/// An SDP `o=` session id that differs between calls (RFC 4566 suggests an NTP timestamp).
fn sdp_session_id() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    now.wrapping_mul(1000) + NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 1000
}

/// The session reports from its media thread; after the call ended give it a moment.
pub(crate) async fn wait_outcome(slot: &Mutex<Option<MediaOutcome>>) -> Option<MediaOutcome> {
    let deadline = tokio::time::Instant::now() + OUTCOME_GRACE;
    loop {
        if let Some(o) = slot.lock().ok().and_then(|o| o.clone()) {
            return Some(o);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
