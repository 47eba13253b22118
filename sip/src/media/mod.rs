//! The media side of the line: fax sessions on real UDP sockets, stepped every 20 ms by a pool of
//! dedicated threads, many sessions per thread. T.38 runs on UDPTL (`udptl_stream`); the G.711
//! fallback runs spandsp's audio modems on RTP (`rtp_stream`); both are a `FaxStream` in the one
//! `Port` that owns the socket, the counters and the outcome (`port`).
//!
//! Each session owns a non-blocking UDP socket bound from the configured port range. Every tick a
//! thread drains the sockets of its sessions (receive until it would block), feeds the receiver
//! and spandsp, advances the session clock by 20 ms of samples, and sends what spandsp produced.
//! Where to send and whom to listen to is the symmetric latching policy of [`Latch`]
//! (telephony.md §6.6). Error correction and datagram size come from the negotiated SDP. An
//! optional loss model (the simulator's `Channel`) sits in front of each socket's sending side
//! for lossy-line tests (`wire`).
//!
//! Steps follow an absolute schedule (no drift); how late each step starts is recorded, which is
//! the benchmark's figure of merit. `speed` > 1 compresses time for tests: the same 160 samples per
//! step, stepped `speed` times as often.

mod latch;
mod port;
mod rtp_stream;
mod udptl_stream;
mod wire;

pub use latch::{Latch, Verdict};

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use faxline_t38::session::{Direction, FaxOptions, FaxReport, SessionEvent};
use faxline_t38::sim::ChannelModel;
use faxline_t38::tick_pool::{TickHandle, TickPool, TickPoolConfig};

use port::{FaxStream, Port};
use rtp_stream::RtpStream;
use udptl_stream::UdptlStream;
use wire::Wire;

use faxline_t38::sdp::NegotiatedT38;

/// One tick: 20 ms, 160 samples at 8 kHz.
pub const TICK: Duration = Duration::from_millis(20);
const TICK_SAMPLES: u32 = 160;

/// Why media could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// No free UDP port in the configured range.
    #[error("no free UDP port in {0:?}")]
    NoPort(RangeInclusive<u16>),
    /// Socket setup failed.
    #[error("UDP socket: {0}")]
    Socket(#[from] std::io::Error),
    /// spandsp or UDPTL refused the configuration.
    #[error("fax session: {0}")]
    Session(String),
}

/// Hands out UDP sockets from a port range, round robin (even ports first, like RTP/UDPTL habit).
#[derive(Debug)]
pub struct PortPool {
    ip: IpAddr,
    range: RangeInclusive<u16>,
    next: AtomicU16,
}

impl PortPool {
    /// A pool on `ip` over `range` (Asterisk's default is 4000–4999).
    pub fn new(ip: IpAddr, range: RangeInclusive<u16>) -> Self {
        let start = *range.start();
        Self {
            ip,
            range,
            next: AtomicU16::new(start),
        }
    }

    /// Binds a non-blocking UDP socket on the next free port.
    pub fn bind(&self) -> Result<(UdpSocket, u16), MediaError> {
        let (lo, hi) = (*self.range.start(), *self.range.end());
        let len = u32::from(hi - lo) + 1;
        for _ in 0..len {
            let p = self.next.fetch_add(1, Ordering::Relaxed);
            let port = lo + ((u32::from(p.wrapping_sub(lo)) % len) as u16);
            if let Ok(s) = UdpSocket::bind(SocketAddr::new(self.ip, port)) {
                s.set_nonblocking(true)?;
                return Ok((s, port));
            }
        }
        Err(MediaError::NoPort(self.range.clone()))
    }
}

/// A callback given each [`SessionEvent`] (training, pages) as the session produces it. It runs on a
/// media thread between ticks, so it must be quick and must not block.
#[derive(Clone)]
pub struct SessionEvents(Arc<dyn Fn(&SessionEvent) + Send + Sync>);

impl SessionEvents {
    /// Wraps `f`.
    pub fn new(f: impl Fn(&SessionEvent) + Send + Sync + 'static) -> Self {
        Self(Arc::new(f))
    }

    /// Passes on everything the session has queued (the queue is drained either way).
    pub(crate) fn forward(this: Option<&Self>, mut next: impl FnMut() -> Option<SessionEvent>) {
        while let Some(ev) = next() {
            if let Some(f) = this {
                (f.0)(&ev);
            }
        }
    }
}

impl std::fmt::Debug for SessionEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionEvents")
    }
}

/// What a media session is asked to do, T.38 or audio alike.
#[derive(Debug, Clone)]
pub struct MediaJob {
    /// Send or receive, with the TIFF.
    pub direction: Direction,
    /// T.30 options.
    pub fax: FaxOptions,
    /// The peer's address from its SDP (until latching).
    pub remote: SocketAddr,
    /// The stream the SDP negotiation agreed.
    pub stream: StreamParams,
    /// Log label (call id, no numbers).
    pub label: String,
    /// Optional loss model in front of the socket's sending side (the peer has its own).
    pub loss: Option<(ChannelModel, u64)>,
    /// Where the session's progress events go, if anywhere.
    pub events: Option<SessionEvents>,
}

/// The stream of a media session, as the SDP negotiation agreed it.
#[derive(Debug, Clone)]
pub enum StreamParams {
    /// T.38 on UDPTL: version, rate, EC mode, the far datagram limit and the largest IFP that
    /// fits it.
    T38(NegotiatedT38),
    /// G.711 audio on RTP, with the negotiated payload type: 0 PCMU or 8 PCMA.
    Audio {
        /// The RTP payload type.
        payload_type: u8,
    },
}

/// Counters of one finished session.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MediaStats {
    /// Datagrams (UDPTL or RTP) sent.
    pub sent: u64,
    /// Datagrams received, from any address.
    pub received: u64,
    /// Datagrams that did not decode (hostile or broken streams, foreign RTP payload types).
    pub malformed: u64,
    /// UDPTL: IFPs lost for good. RTP: 20 ms frames played as gaps.
    pub lost: u64,
    /// UDPTL: IFPs whose own packet was lost but which were rebuilt from a later packet's redundancy or FEC
    /// (what error correction saved; 0 for RTP).
    pub recovered: u64,
    /// Times the SDP address took the latch back from another source.
    pub relatched: u64,
    /// Datagrams dropped because they came from a third address while latched.
    pub ignored: u64,
    /// Outgoing datagrams the test loss model in front of the socket threw away.
    pub channel_lost: u64,
}

/// The outcome of a session.
#[derive(Debug, Clone)]
pub struct MediaOutcome {
    /// spandsp's report.
    pub report: FaxReport,
    /// Transport counters.
    pub stats: MediaStats,
}

type DoneFn = Box<dyn FnOnce(MediaOutcome) + Send>;

/// Tick lateness figures of a runtime (the pool's, see [`faxline_t38::tick_pool`]).
pub use faxline_t38::tick_pool::TickStats;

/// Dedicated threads stepping every media session of this process: the shared
/// [`TickPool`] (phase-spread 20 ms clocks, any thread may step any session, so a session stuck
/// in a slow spandsp step delays only itself). In real time a session that falls more than three
/// steps behind skips the rest rather than bursting them onto the wire.
pub struct MediaRuntime {
    pool: Option<TickPool<Port>>,
    /// Every session added, so that shutdown can end the ones still running.
    sessions: Mutex<Vec<TickHandle<Port>>>,
    pacing: bool,
}

/// A handle to one session: stop it early or move its stream.
#[derive(Clone)]
pub struct SessionHandle {
    handle: TickHandle<Port>,
}

impl std::fmt::Debug for SessionHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionHandle")
            .field("finished", &self.handle.is_finished())
            .finish()
    }
}

impl SessionHandle {
    /// Ends the session now (T.30 terminated, report delivered), between two of its steps.
    pub fn stop(&self) {
        self.handle.finish(|p| p.finish());
    }

    /// The peer moved the stream (re-INVITE): send to `remote` until packets latch again.
    pub fn retarget(&self, remote: SocketAddr) {
        self.handle.with(|p| p.retarget(remote));
    }
}

impl MediaRuntime {
    /// Starts `threads` workers. `speed` 1 is real time; higher values compress time for tests
    /// (the same 160 samples per step, stepped `speed` times as often).
    pub fn start(threads: usize, speed: u32) -> Self {
        let speed = speed.max(1);
        // Real time: clocks spread over 20 phase slots, a stalled session skips what it cannot
        // send in time. Compressed time (tests): one phase and no skipping, so a loaded machine
        // slows the calls' clock instead of cutting holes in their streams.
        let (phases, max_catch_up) = if speed == 1 { (20, 3) } else { (1, u64::MAX) };
        let pool = TickPool::start(TickPoolConfig {
            threads: threads.max(1),
            period: TICK / speed,
            phases,
            max_catch_up,
        });
        Self {
            pool: Some(pool),
            sessions: Mutex::new(Vec::new()),
            pacing: true,
        }
    }

    /// Starts a session on `socket` (UDPTL for T.38, RTP for audio); `done` gets the outcome
    /// (also when stopped or shut down).
    pub fn spawn(
        &self,
        job: MediaJob,
        socket: UdpSocket,
        done: impl FnOnce(MediaOutcome) + Send + 'static,
    ) -> Result<SessionHandle, MediaError> {
        let stream: Box<dyn FaxStream> = match &job.stream {
            StreamParams::T38(params) => Box::new(UdptlStream::new(&job, params, self.pacing)?),
            StreamParams::Audio { payload_type } => Box::new(RtpStream::new(&job, *payload_type)?),
        };
        let wire = Wire::new(socket, job.remote, job.loss);
        self.add(stream, job.events, wire, Box::new(done))
    }

    fn add(
        &self,
        stream: Box<dyn FaxStream>,
        events: Option<SessionEvents>,
        wire: Wire,
        done: DoneFn,
    ) -> Result<SessionHandle, MediaError> {
        let pool = self
            .pool
            .as_ref()
            .ok_or_else(|| MediaError::Session("runtime stopped".into()))?;
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let handle = pool.add(Port::new(id, stream, wire, events, done));
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        sessions.retain(|h| !h.is_finished());
        sessions.push(handle.clone());
        Ok(SessionHandle { handle })
    }

    /// Tick statistics so far.
    pub fn tick_stats(&self) -> TickStats {
        self.pool.as_ref().map(|p| p.stats()).unwrap_or_default()
    }

    /// Stops all threads; running sessions are terminated and report (call dropped).
    pub fn shutdown(mut self) {
        self.stop_all();
    }

    fn stop_all(&mut self) {
        if let Some(pool) = self.pool.take() {
            pool.shutdown();
        }
        let sessions =
            std::mem::take(&mut *self.sessions.lock().unwrap_or_else(|e| e.into_inner()));
        for h in sessions {
            h.finish(|p| p.finish());
        }
    }
}

impl Drop for MediaRuntime {
    fn drop(&mut self) {
        self.stop_all();
    }
}

/// Session ids for logs, unique in the process.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);
