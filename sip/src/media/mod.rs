//! The media side of the line: fax sessions on real UDP sockets, ticked every 20 ms by a few
//! dedicated threads, many sessions per thread. T.38 runs on UDPTL (`udptl_port`); the G.711
//! fallback runs spandsp's audio modems on RTP (`rtp_port`).
//!
//! Each session owns a non-blocking UDP socket bound from the configured port range. Every tick a
//! thread drains the sockets of its sessions (receive until it would block), feeds the receiver
//! and spandsp, advances the session clock by 20 ms of samples, and sends what spandsp produced.
//! Where to send and whom to listen to is the symmetric latching policy of [`Latch`]
//! (telephony.md §6.6). Error correction and datagram size come from the negotiated SDP. An
//! optional loss model (the simulator's `Channel`) sits in front of each socket's sending side
//! for lossy-line tests (`wire`).
//!
//! Ticks follow an absolute schedule (no drift); how late each tick starts is recorded, which is
//! the benchmark's figure of merit. `speed` > 1 compresses time for tests: the same 160 samples per
//! tick, ticked `speed` times as often.

mod latch;
mod rtp_port;
mod udptl_port;
mod wire;

pub use latch::{Latch, Verdict};

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use faxline_t38::session::{Direction, FaxOptions, FaxReport};
use faxline_t38::sim::ChannelModel;
use tracing::{debug, warn};

use rtp_port::RtpPort;
use udptl_port::UdptlPort;

use faxline_t38::sdp::NegotiatedT38;

/// One tick: 20 ms, 160 samples at 8 kHz.
pub const TICK: Duration = Duration::from_millis(20);
const TICK_SAMPLES: u32 = 160;
/// Ticks to keep sending after phase E so the last IFPs (and their redundancy) reach the peer.
const LINGER_TICKS: u32 = 25;

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

/// What a T.38 session is asked to do.
#[derive(Debug, Clone)]
pub struct T38Job {
    /// Send or receive, with the TIFF.
    pub direction: Direction,
    /// T.30 options.
    pub fax: FaxOptions,
    /// The peer's UDPTL address from its SDP (until latching).
    pub remote: SocketAddr,
    /// What the SDP negotiation agreed: version, rate, EC mode, the far datagram limit and the
    /// largest IFP that fits it.
    pub params: NegotiatedT38,
    /// Log label (call id, no numbers).
    pub label: String,
    /// Optional loss model in front of the socket's sending side (the peer has its own).
    pub loss: Option<(ChannelModel, u64)>,
}

/// What a G.711 audio fax session is asked to do.
#[derive(Debug, Clone)]
pub struct AudioJob {
    /// Send or receive, with the TIFF.
    pub direction: Direction,
    /// T.30 options.
    pub fax: FaxOptions,
    /// The peer's RTP address from its SDP (until latching).
    pub remote: SocketAddr,
    /// The negotiated RTP payload type: 0 PCMU or 8 PCMA.
    pub payload_type: u8,
    /// Log label (call id, no numbers).
    pub label: String,
    /// Optional loss model in front of the socket's sending side.
    pub loss: Option<(ChannelModel, u64)>,
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

/// One media session on its socket, ticked by a media thread.
trait MediaPort: Send {
    fn id(&self) -> u64;
    /// One 20 ms step. Returns true when the port is finished and can be dropped.
    fn tick(&mut self) -> bool;
    /// The stream moved (re-INVITE): send to the new address until a packet latches again.
    fn retarget(&mut self, remote: SocketAddr);
    fn stats(&self) -> MediaStats;
    /// Terminates the session (if still running) and delivers its outcome.
    fn finish(&mut self);
}

enum Command {
    Add(Box<dyn MediaPort>),
    Stop(u64),
    Retarget(u64, SocketAddr),
}

/// Tick lateness figures of a runtime.
#[derive(Debug, Clone, Default)]
pub struct TickStats {
    /// Ticks run.
    pub ticks: u64,
    /// Lateness of each tick's start behind its schedule, in microseconds (all threads).
    pub lateness_us: Vec<u32>,
    /// Time spent working in ticks (all threads).
    pub busy: Duration,
}

impl TickStats {
    /// The `q` quantile (0..=1) of tick lateness.
    pub fn lateness_quantile(&self, q: f64) -> Duration {
        if self.lateness_us.is_empty() {
            return Duration::ZERO;
        }
        let mut v = self.lateness_us.clone();
        v.sort_unstable();
        let i = ((v.len() - 1) as f64 * q).round() as usize;
        Duration::from_micros(u64::from(v[i]))
    }
}

/// Dedicated tick threads carrying many T.38 sessions each.
pub struct MediaRuntime {
    threads: Vec<(mpsc::Sender<Command>, JoinHandle<()>)>,
    next_id: AtomicU64,
    stop: Arc<AtomicBool>,
    stats: Arc<Mutex<TickStats>>,
    pacing: bool,
}

/// A handle to stop one session early.
#[derive(Debug, Clone)]
pub struct SessionHandle {
    id: u64,
    thread: mpsc::Sender<Command>,
}

impl SessionHandle {
    /// Ends the session now (T.30 terminated, report delivered).
    pub fn stop(&self) {
        let _ = self.thread.send(Command::Stop(self.id));
    }

    /// The peer moved the stream (re-INVITE): send to `remote` until packets latch again.
    pub fn retarget(&self, remote: SocketAddr) {
        let _ = self.thread.send(Command::Retarget(self.id, remote));
    }
}

impl MediaRuntime {
    /// Starts `threads` tick threads. `speed` 1 is real time; higher values compress time for tests.
    pub fn start(threads: usize, speed: u32) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(Mutex::new(TickStats::default()));
        let interval = TICK / speed.max(1);
        let threads = (0..threads.max(1))
            .map(|i| {
                let (tx, rx) = mpsc::channel();
                let stop = stop.clone();
                let stats = stats.clone();
                let h = std::thread::Builder::new()
                    .name(format!("faxline-media-{i}"))
                    .spawn(move || tick_loop(rx, interval, stop, stats))
                    .expect("spawn media thread");
                (tx, h)
            })
            .collect();
        Self {
            threads,
            next_id: AtomicU64::new(1),
            stop,
            stats,
            pacing: true,
        }
    }

    /// Starts a T.38 session on `socket`; `done` gets the outcome (also when stopped or shut down).
    pub fn spawn_t38(
        &self,
        job: T38Job,
        socket: UdpSocket,
        done: impl FnOnce(MediaOutcome) + Send + 'static,
    ) -> Result<SessionHandle, MediaError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let port = UdptlPort::new(job, socket, self.pacing, id, Box::new(done))?;
        self.add(id, Box::new(port))
    }

    /// Starts a G.711 audio fax session on an RTP `socket`; `done` gets the outcome (also when
    /// stopped or shut down).
    pub fn spawn_audio(
        &self,
        job: AudioJob,
        socket: UdpSocket,
        done: impl FnOnce(MediaOutcome) + Send + 'static,
    ) -> Result<SessionHandle, MediaError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let port = RtpPort::new(job, socket, id, Box::new(done))?;
        self.add(id, Box::new(port))
    }

    fn add(&self, id: u64, port: Box<dyn MediaPort>) -> Result<SessionHandle, MediaError> {
        let thread = self.threads[(id as usize) % self.threads.len()].0.clone();
        thread
            .send(Command::Add(port))
            .map_err(|_| MediaError::Session("runtime stopped".into()))?;
        Ok(SessionHandle { id, thread })
    }

    /// Tick statistics so far.
    pub fn tick_stats(&self) -> TickStats {
        self.stats.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Stops all threads; running sessions are terminated and report (call dropped).
    pub fn shutdown(mut self) {
        self.stop_threads();
    }

    fn stop_threads(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for (tx, h) in self.threads.drain(..) {
            drop(tx);
            if h.join().is_err() {
                warn!("media thread panicked");
            }
        }
    }
}

impl Drop for MediaRuntime {
    fn drop(&mut self) {
        self.stop_threads();
    }
}

fn tick_loop(
    rx: mpsc::Receiver<Command>,
    interval: Duration,
    stop: Arc<AtomicBool>,
    stats: Arc<Mutex<TickStats>>,
) {
    let mut ports: Vec<Box<dyn MediaPort>> = Vec::new();
    let mut next = Instant::now() + interval;
    let mut lateness = Vec::new();
    let mut busy = Duration::ZERO;
    let mut ticks = 0u64;
    let mut finished: VecDeque<usize> = VecDeque::new();
    loop {
        let now = Instant::now();
        if now < next {
            std::thread::sleep(next - now);
        }
        let start = Instant::now();
        lateness.push(
            start
                .saturating_duration_since(next)
                .as_micros()
                .min(u128::from(u32::MAX)) as u32,
        );
        next += interval;
        // Never try to catch up a burst of missed ticks: resync to now.
        if next < start {
            next = start + interval;
        }
        loop {
            match rx.try_recv() {
                Ok(Command::Add(p)) => ports.push(p),
                Ok(Command::Stop(id)) => {
                    if let Some(i) = ports.iter().position(|p| p.id() == id) {
                        let mut p = ports.swap_remove(i);
                        p.finish();
                    }
                }
                Ok(Command::Retarget(id, remote)) => {
                    if let Some(p) = ports.iter_mut().find(|p| p.id() == id) {
                        p.retarget(remote);
                    }
                }
                Err(mpsc::TryRecvError::Empty) => break,
                Err(mpsc::TryRecvError::Disconnected) => {
                    stop.store(true, Ordering::Relaxed);
                    break;
                }
            }
        }
        if stop.load(Ordering::Relaxed) {
            for mut p in ports.drain(..) {
                p.finish();
            }
            break;
        }
        for (i, p) in ports.iter_mut().enumerate() {
            if p.tick() {
                finished.push_back(i);
            }
        }
        while let Some(i) = finished.pop_back() {
            let mut p = ports.swap_remove(i);
            let stats = p.stats();
            debug!(
                sent = stats.sent,
                received = stats.received,
                ignored = stats.ignored,
                "media session done"
            );
            p.finish();
        }
        ticks += 1;
        busy += start.elapsed();
        if ticks.is_multiple_of(50) {
            flush_stats(&stats, &mut lateness, &mut busy, &mut ticks);
        }
    }
    flush_stats(&stats, &mut lateness, &mut busy, &mut ticks);
}

fn flush_stats(
    stats: &Mutex<TickStats>,
    lateness: &mut Vec<u32>,
    busy: &mut Duration,
    ticks: &mut u64,
) {
    if let Ok(mut s) = stats.lock() {
        s.lateness_us.append(lateness);
        s.busy += *busy;
        s.ticks += *ticks;
    }
    *busy = Duration::ZERO;
    *ticks = 0;
}
