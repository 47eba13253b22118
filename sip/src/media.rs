//! The media side of the line: T.38 fax sessions on real UDPTL sockets, ticked every 20 ms by a
//! few dedicated threads, many sessions per thread.
//!
//! Each session owns a non-blocking UDP socket bound from the configured port range. Every tick a
//! thread drains the sockets of its sessions (receive until it would block), feeds the UDPTL
//! receiver and spandsp, advances the session clock by 20 ms of samples, and sends what spandsp
//! produced. Sends go to the address from the SDP until the first datagram arrives, then to where
//! datagrams come from (symmetric latching, telephony.md §6.6). Error correction and datagram size
//! come from the negotiated SDP. An optional loss model (the simulator's [`Channel`]) sits in front
//! of the socket for lossy-line tests.
//!
//! Ticks follow an absolute schedule (no drift); how late each tick starts is recorded, which is
//! the benchmark's figure of merit. `speed` > 1 compresses time for tests: the same 160 samples per
//! tick, ticked `speed` times as often.

use std::collections::VecDeque;
use std::io::ErrorKind;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicBool, AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use faxline_t38::session::{
    Direction, FaxOptions, FaxReport, RateManagement, T38Params, T38Session, T38SessionConfig,
};
use faxline_t38::sim::{Channel, ChannelModel};
use faxline_t38::udptl::{
    ErrorCorrection, Receiver, ReceiverConfig, RedundancyDepth, RxEvent, Sender, SenderConfig,
};
use tracing::{debug, warn};

use crate::media_sdp::{T38Attrs, UdptlEc};

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
    /// Negotiated parameters: the peer's datagram size and EC, agreed version and rate.
    pub params: T38Attrs,
    /// Log label (call id, no numbers).
    pub label: String,
    /// Optional loss model in front of the socket (both directions are the peer's concern).
    pub loss: Option<(ChannelModel, u64)>,
}

/// Counters of one finished session.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MediaStats {
    /// UDPTL datagrams sent and received.
    pub sent: u64,
    /// Datagrams received.
    pub received: u64,
    /// Datagrams that did not decode (hostile or broken streams).
    pub malformed: u64,
    /// IFPs lost for good.
    pub lost: u64,
    /// Received from an address other than the first latched one.
    pub relatched: u64,
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

struct Port {
    id: u64,
    session: T38Session,
    socket: UdpSocket,
    tx: Sender,
    rx: Receiver,
    remote: SocketAddr,
    latched: bool,
    loss: Option<Channel>,
    now_us: u64,
    stats: MediaStats,
    linger: Option<u32>,
    done: Option<DoneFn>,
    buf: Vec<u8>,
    wire: Vec<u8>,
    ifps: Vec<(u16, Vec<u8>)>,
    idle_ticks: u32,
}

impl Port {
    fn new(
        job: T38Job,
        socket: UdpSocket,
        pacing: bool,
        id: u64,
        done: DoneFn,
    ) -> Result<Self, MediaError> {
        let p = job.params;
        let max_datagram = usize::from(p.max_datagram.clamp(100, 1400));
        let ec = match p.ec {
            UdptlEc::None => ErrorCorrection::None,
            // ≥3 for indicators/control, fewer for image data (telephony.md §6.4).
            UdptlEc::Redundancy => ErrorCorrection::Redundancy(RedundancyDepth {
                indicator: 3,
                control: 3,
                image: 2,
            }),
            UdptlEc::Fec => ErrorCorrection::Fec {
                span: 3,
                entries: 3,
            },
        };
        let tx = Sender::new(SenderConfig {
            error_correction: ec,
            max_datagram,
        })
        .map_err(|e| MediaError::Session(e.to_string()))?;
        let session = T38Session::new(T38SessionConfig {
            direction: job.direction,
            fax: job.fax,
            t38: T38Params {
                version: p.version,
                max_ifp: (max_datagram.saturating_sub(5)).min(400) as u16,
                rate_management: if p.local_tcf {
                    RateManagement::LocalTcf
                } else {
                    RateManagement::TransferredTcf
                },
                fill_bit_removal: p.fill_bit_removal,
                max_bit_rate: p.max_bit_rate,
            },
            pacing,
            label: job.label,
        })
        .map_err(|e| MediaError::Session(e.to_string()))?;
        Ok(Self {
            id,
            session,
            socket,
            tx,
            rx: Receiver::new(ReceiverConfig::default()),
            remote: job.remote,
            latched: false,
            loss: job.loss.map(|(m, seed)| Channel::new(m, seed)),
            now_us: 0,
            stats: MediaStats::default(),
            linger: None,
            done: Some(done),
            buf: vec![0; 2048],
            wire: Vec::with_capacity(1500),
            ifps: Vec::new(),
            idle_ticks: 0,
        })
    }

    /// One 20 ms step. Returns true when the port is finished and can be dropped.
    fn tick(&mut self) -> bool {
        self.now_us += 20_000;
        self.receive();
        self.session.tick(TICK_SAMPLES);
        self.send();
        if let Some(n) = &mut self.linger {
            *n = n.saturating_sub(1);
            return *n == 0;
        }
        if self.session.is_finished() {
            self.linger = Some(LINGER_TICKS);
        }
        false
    }

    fn receive(&mut self) {
        let mut got = false;
        loop {
            match self.socket.recv_from(&mut self.buf) {
                Ok((n, from)) => {
                    got = true;
                    self.stats.received += 1;
                    if from != self.remote {
                        if self.latched {
                            self.stats.relatched += 1;
                        }
                        self.remote = from;
                    }
                    self.latched = true;
                    let ifps = &mut self.ifps;
                    let lost = &mut self.stats.lost;
                    let r = self.rx.receive(&self.buf[..n], |ev| match ev {
                        RxEvent::Ifp { seq, ifp, .. } => ifps.push((seq, ifp.to_vec())),
                        RxEvent::Lost { count, .. } => *lost += u64::from(count),
                        RxEvent::Resync { .. } => {}
                    });
                    if r.is_err() {
                        self.stats.malformed += 1;
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                // ICMP port unreachable and the like: keep going, the peer may come back.
                Err(_) => break,
            }
        }
        if got {
            self.idle_ticks = 0;
        } else {
            self.idle_ticks += 1;
            if self.idle_ticks == 2 {
                let ifps = &mut self.ifps;
                self.rx.flush(|ev| {
                    if let RxEvent::Ifp { seq, ifp, .. } = ev {
                        ifps.push((seq, ifp.to_vec()));
                    }
                });
            }
        }
        for (seq, ifp) in self.ifps.drain(..) {
            if self.session.receive_ifp(seq, &ifp).is_err() {
                self.stats.malformed += 1;
            }
        }
    }

    fn send(&mut self) {
        while let Some(out) = self.session.poll_ifp() {
            self.wire.clear();
            if self
                .tx
                .send(&out.data, out.category, &mut self.wire)
                .is_err()
            {
                continue;
            }
            match &mut self.loss {
                Some(ch) => ch.send(self.now_us, self.wire.clone()),
                None => {
                    if self.socket.send_to(&self.wire, self.remote).is_ok() {
                        self.stats.sent += 1;
                    }
                }
            }
        }
        if let Some(ch) = &mut self.loss {
            while let Some(d) = ch.receive(self.now_us) {
                if self.socket.send_to(&d, self.remote).is_ok() {
                    self.stats.sent += 1;
                }
            }
        }
    }

    fn finish(&mut self) {
        self.session.terminate();
        if let (Some(done), Some(report)) = (self.done.take(), self.session.report().cloned()) {
            done(MediaOutcome {
                report,
                stats: self.stats,
            });
        }
    }
}

enum Command {
    Add(Box<Port>),
    Stop(u64),
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
        let port = Port::new(job, socket, self.pacing, id, Box::new(done))?;
        let thread = self.threads[(id as usize) % self.threads.len()].0.clone();
        thread
            .send(Command::Add(Box::new(port)))
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
    let mut ports: Vec<Box<Port>> = Vec::new();
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
                    if let Some(i) = ports.iter().position(|p| p.id == id) {
                        let mut p = ports.swap_remove(i);
                        p.finish();
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
            debug!(
                sent = p.stats.sent,
                received = p.stats.received,
                "T.38 session done"
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
