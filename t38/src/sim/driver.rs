//! A real-time driver for many simulated calls: every 20 ms each call is owed one step; a pool of
//! dedicated threads takes calls from a shared counter and steps each until it has caught up.
//!
//! Why this shape: spandsp occasionally spends ~10–20 ms in one tick (page start: libtiff read
//! and re-encode of a whole page). With a static call-to-thread assignment every call behind the
//! slow one on that thread would be late, and with a per-tick barrier every call would wait for
//! the slowest. Here there is neither: the clock thread only publishes ticks; a call busy on one
//! worker is skipped (`try_lock`) by the others and catches up its owed steps itself afterwards. So
//! one slow session delays only itself. Lateness is measured per step: start of the step minus the
//! moment that step was due.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use super::call::{Call, CallReport, STEP};

/// Driver settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DriverConfig {
    /// Worker threads (default: 2 × available cores, so a slow step never idles a core).
    pub threads: usize,
    /// Tick period (20 ms: what spandsp's 160-sample ticks mean in real time).
    pub tick: Duration,
    /// Calls start spread evenly over this time (call `i` of `n` at `i/n · stagger`), as real calls
    /// arrive; zero starts all at once (every page start then lands in the same instant).
    pub stagger: Duration,
}

impl Default for DriverConfig {
    fn default() -> Self {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        Self {
            threads: cores * 2,
            tick: STEP,
            stagger: Duration::ZERO,
        }
    }
}

/// What a real-time run measured.
#[derive(Debug, Clone)]
pub struct DriverReport {
    /// Every call's report, in input order.
    pub calls: Vec<CallReport>,
    /// Ticks driven.
    pub ticks: u64,
    /// Wall time of the run.
    pub wall: Duration,
    /// Median step lateness.
    pub lateness_p50: Duration,
    /// 99th-percentile step lateness.
    pub lateness_p99: Duration,
    /// Worst step lateness.
    pub lateness_max: Duration,
    /// Slowest single step of any call.
    pub slowest_step: Duration,
    /// Ticks whose work was not finished before the next tick was due.
    pub overruns: u64,
}

/// Lateness histogram in 50 µs buckets up to 2 s (constant memory for millions of steps).
struct Histogram {
    buckets: Vec<u64>,
    max_us: u64,
}

const BUCKET_US: u64 = 50;
const BUCKETS: usize = 40_000;

impl Histogram {
    fn new() -> Self {
        Self {
            buckets: vec![0; BUCKETS],
            max_us: 0,
        }
    }

    fn add(&mut self, us: u64) {
        self.max_us = self.max_us.max(us);
        let i = ((us / BUCKET_US) as usize).min(BUCKETS - 1);
        self.buckets[i] += 1;
    }

    fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.buckets.iter_mut().zip(&other.buckets) {
            *a += b;
        }
        self.max_us = self.max_us.max(other.max_us);
    }

    fn quantile(&self, q: f64) -> Duration {
        let total: u64 = self.buckets.iter().sum();
        if total == 0 {
            return Duration::ZERO;
        }
        let target = ((total as f64) * q).ceil() as u64;
        let mut seen = 0;
        for (i, n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= target {
                return Duration::from_micros((i as u64 + 1) * BUCKET_US);
            }
        }
        Duration::from_micros(self.max_us)
    }
}

struct Slot {
    call: Option<Call>,
    /// Tick before the call's first step (staggered start).
    offset: u64,
    /// Steps taken so far.
    steps: u64,
}

struct Shared {
    calls: Vec<Mutex<Slot>>,
    /// Index of the next call to look at in the current tick.
    next: AtomicUsize,
    /// Run start and tick period: step `k` (1-based) is due at `start + k·tick`.
    start: Instant,
    period: Duration,
    /// Current tick number (0 = not started), published under the mutex.
    tick: Mutex<u64>,
    tick_cv: Condvar,
    finished_calls: AtomicUsize,
    stop: AtomicBool,
    slowest_ns: AtomicU64,
}

/// Drives `calls` in real time until all are done (or `limit` wall time passes; unfinished calls
/// are then reported as their sessions stand — hung up at their own `max_duration`).
pub fn run_realtime(calls: Vec<Call>, config: DriverConfig, limit: Duration) -> DriverReport {
    let n = calls.len();
    let shared = Arc::new(Shared {
        calls: calls
            .into_iter()
            .enumerate()
            .map(|(i, c)| {
                let offset = (config.stagger.as_micros() * i as u128
                    / (n.max(1) as u128 * config.tick.as_micros().max(1)))
                    as u64;
                Mutex::new(Slot {
                    call: Some(c),
                    offset,
                    steps: 0,
                })
            })
            .collect(),
        next: AtomicUsize::new(0),
        start: Instant::now(),
        period: config.tick,
        tick: Mutex::new(0),
        tick_cv: Condvar::new(),
        finished_calls: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
        slowest_ns: AtomicU64::new(0),
    });
    let workers: Vec<_> = (0..config.threads.max(1))
        .map(|i| {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name(format!("fax-tick-{i}"))
                .spawn(move || worker(&shared))
                .expect("spawn driver thread")
        })
        .collect();

    let start = shared.start;
    let mut ticks = 0u64;
    let mut overruns = 0u64;
    while shared.finished_calls.load(Ordering::Acquire) < n && start.elapsed() < limit {
        ticks += 1;
        let deadline = start + config.tick * (ticks as u32);
        if let Some(wait) = deadline.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        } else {
            overruns += 1;
        }
        shared.next.store(0, Ordering::Release);
        *shared.tick.lock().unwrap_or_else(|e| e.into_inner()) = ticks;
        shared.tick_cv.notify_all();
    }
    shared.stop.store(true, Ordering::Release);
    *shared.tick.lock().unwrap_or_else(|e| e.into_inner()) = u64::MAX;
    shared.tick_cv.notify_all();
    let mut hist = Histogram::new();
    for w in workers {
        if let Ok(h) = w.join() {
            hist.merge(&h);
        }
    }
    let wall = start.elapsed();
    let shared = Arc::try_unwrap(shared).ok().expect("workers joined");
    let calls = shared
        .calls
        .into_iter()
        .filter_map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()).call)
        .map(|mut c| {
            // A call cut off by `limit` is hung up so that it still reports.
            while !c.is_done() {
                c.hang_up();
            }
            c.report().expect("done")
        })
        .collect();
    DriverReport {
        calls,
        ticks,
        wall,
        lateness_p50: hist.quantile(0.50),
        lateness_p99: hist.quantile(0.99),
        lateness_max: Duration::from_micros(hist.max_us),
        slowest_step: Duration::from_nanos(shared.slowest_ns.load(Ordering::Relaxed)),
        overruns,
    }
}

fn worker(shared: &Shared) -> Histogram {
    let mut hist = Histogram::new();
    let mut seen_tick = 0u64;
    let n = shared.calls.len();
    loop {
        let tick = {
            let mut t = shared.tick.lock().unwrap_or_else(|e| e.into_inner());
            while *t == seen_tick {
                t = shared.tick_cv.wait(t).unwrap_or_else(|e| e.into_inner());
            }
            if *t == u64::MAX || shared.stop.load(Ordering::Acquire) {
                return hist;
            }
            seen_tick = *t;
            *t
        };
        loop {
            let i = shared.next.fetch_add(1, Ordering::AcqRel);
            if i >= n {
                break;
            }
            // Busy on another worker (a slow step): that worker will catch it up.
            let Ok(mut slot) = shared.calls[i].try_lock() else {
                continue;
            };
            let slot = &mut *slot;
            let Some(call) = slot.call.as_mut() else {
                continue;
            };
            while slot.offset + slot.steps < tick && !call.is_done() {
                slot.steps += 1;
                let due = shared.start + shared.period * ((slot.offset + slot.steps) as u32);
                let started = Instant::now();
                hist.add(started.saturating_duration_since(due).as_micros() as u64);
                if call.step() {
                    shared.finished_calls.fetch_add(1, Ordering::AcqRel);
                }
                let spent = started.elapsed().as_nanos() as u64;
                shared.slowest_ns.fetch_max(spent, Ordering::Relaxed);
            }
        }
    }
}

/// Resident memory of this process in KiB (`VmRSS`), for per-session memory estimates.
pub fn resident_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// CPU time (user + system) of this process so far, from `/proc/self/stat` (10 ms resolution).
pub fn process_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    // USER_HZ is 100 on every Linux this runs on.
    Some(Duration::from_millis((utime + stime) * 10))
}
