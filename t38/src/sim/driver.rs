//! A real-time driver for many simulated calls: every call is owed one step per 20 ms; a pool of
//! dedicated threads steps each call when its step falls due.
//!
//! Why this shape:
//! - **Phases.** Each call keeps its own 20 ms clock, offset from the others' (as real calls are:
//!   each started when its INVITE was answered). The period is cut into `phases` slots and each
//!   call belongs to one, so the work of a tick is spread over the whole 20 ms instead of landing
//!   at one instant where the last call of 1,000 would wait for the 999 before it.
//! - **No barrier, no static assignment.** spandsp occasionally spends ~10–20 ms in one step (page
//!   start: libtiff reads and re-encodes a whole page). A call busy on one worker is skipped
//!   (`try_lock`) by the others, and its worker catches up its owed steps itself afterwards; the
//!   other workers go on with the other calls. So one slow session delays only itself.
//!
//! Lateness is measured per step: start of the step minus the moment that step was due.

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
    /// Slots per tick period that calls' clocks are spread over (default 20: 1 ms apart).
    pub phases: u32,
    /// Calls start spread evenly over this time (call `i` of `n` at `i/n · stagger`), as real calls
    /// arrive; zero starts all at once (every first page start then lands in the same period).
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
            phases: 20,
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
    /// Sub-ticks the clock thread itself published more than one sub-tick late (the machine, not
    /// the driver, could not keep up).
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
    /// Sub-tick of the call's start: step `k` (1-based) is due at sub-tick `offset + k·phases`.
    offset: u64,
    /// Steps taken so far.
    steps: u64,
}

struct Shared {
    calls: Vec<Mutex<Slot>>,
    /// Call indices by phase slot.
    groups: Vec<Vec<usize>>,
    /// Per phase slot: the next position in its group to look at (reset when the slot comes round).
    cursors: Vec<AtomicUsize>,
    /// Run start and sub-tick length: sub-tick `t` is due at `start + t·sub`.
    start: Instant,
    sub: Duration,
    phases: u64,
    /// Current sub-tick (0 = not started, `u64::MAX` = stop), published under the mutex for
    /// waiting workers and readable without it for catching up.
    now: AtomicU64,
    tick: Mutex<u64>,
    tick_cv: Condvar,
    finished_calls: AtomicUsize,
    stop: AtomicBool,
    slowest_ns: AtomicU64,
}

/// Drives `calls` in real time until all are done (or `limit` wall time passes; unfinished calls
/// are then hung up and reported as their sessions stand).
pub fn run_realtime(calls: Vec<Call>, config: DriverConfig, limit: Duration) -> DriverReport {
    let n = calls.len();
    let phases = u64::from(config.phases.max(1));
    let sub = config.tick / phases as u32;
    let sub_us = sub.as_micros().max(1);
    let mut groups = vec![Vec::new(); phases as usize];
    let slots: Vec<Mutex<Slot>> = calls
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            // Start time in sub-ticks; calls starting together are still spread over the phases.
            let start =
                (config.stagger.as_micros() * i as u128 / (n.max(1) as u128 * sub_us)) as u64;
            let offset = start + (i as u64 % phases);
            groups[(offset % phases) as usize].push(i);
            Mutex::new(Slot {
                call: Some(c),
                offset,
                steps: 0,
            })
        })
        .collect();
    let shared = Arc::new(Shared {
        calls: slots,
        groups,
        cursors: (0..phases).map(|_| AtomicUsize::new(0)).collect(),
        start: Instant::now(),
        sub,
        phases,
        now: AtomicU64::new(0),
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
    let mut subticks = 0u64;
    let mut overruns = 0u64;
    while shared.finished_calls.load(Ordering::Acquire) < n && start.elapsed() < limit {
        subticks += 1;
        let deadline = start + sub * (subticks as u32);
        let now = Instant::now();
        if let Some(wait) = deadline.checked_duration_since(now) {
            std::thread::sleep(wait);
        } else if now - deadline > sub {
            overruns += 1;
        }
        shared.cursors[(subticks % phases) as usize].store(0, Ordering::Release);
        shared.now.store(subticks, Ordering::Release);
        *shared.tick.lock().unwrap_or_else(|e| e.into_inner()) = subticks;
        shared.tick_cv.notify_all();
    }
    shared.stop.store(true, Ordering::Release);
    shared.now.store(u64::MAX, Ordering::Release);
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
        ticks: subticks / phases,
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
    let mut seen = 0u64;
    loop {
        let published = {
            let mut t = shared.tick.lock().unwrap_or_else(|e| e.into_inner());
            while *t == seen {
                t = shared.tick_cv.wait(t).unwrap_or_else(|e| e.into_inner());
            }
            *t
        };
        if published == u64::MAX || shared.stop.load(Ordering::Acquire) {
            return hist;
        }
        // Sub-ticks missed while this worker was busy: at most one round of phase slots.
        let from = (seen + 1).max(published.saturating_sub(shared.phases - 1));
        seen = published;
        for subtick in from..=published {
            let phase = (subtick % shared.phases) as usize;
            let group = &shared.groups[phase];
            loop {
                let k = shared.cursors[phase].fetch_add(1, Ordering::AcqRel);
                let Some(&i) = group.get(k) else {
                    break;
                };
                step_owed(shared, i, &mut hist);
            }
        }
    }
}

/// Steps call `i` until it has caught up with the current sub-tick (unless another worker has it).
fn step_owed(shared: &Shared, i: usize, hist: &mut Histogram) {
    let Ok(mut slot) = shared.calls[i].try_lock() else {
        return;
    };
    let slot = &mut *slot;
    let Some(call) = slot.call.as_mut() else {
        return;
    };
    loop {
        let now = shared.now.load(Ordering::Acquire);
        let due_at = slot.offset + (slot.steps + 1) * shared.phases;
        if call.is_done() || now == u64::MAX || due_at > now {
            return;
        }
        slot.steps += 1;
        let due = shared.start + shared.sub * (due_at as u32);
        let started = Instant::now();
        hist.add(started.saturating_duration_since(due).as_micros() as u64);
        if call.step() {
            shared.finished_calls.fetch_add(1, Ordering::AcqRel);
        }
        let spent = started.elapsed().as_nanos() as u64;
        shared.slowest_ns.fetch_max(spent, Ordering::Relaxed);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::CallConfig;
    use crate::udptl::{ErrorCorrection, RedundancyDepth};

    /// Unpaced 1-page calls finish in ~2 s of line time: a few of them run in real time on the
    /// phase-spread pool, every one succeeds, and every step is accounted for.
    #[test]
    fn drives_calls_to_completion_in_real_time() {
        let dir = tempfile::tempdir().unwrap();
        let doc = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../fixtures/tiff/gpl3_1p.tif");
        let calls: Vec<Call> = (0..3)
            .map(|i| {
                let mut c = CallConfig::t38(
                    doc.clone(),
                    dir.path().join(format!("rx{i}.tif")),
                    3,
                    ErrorCorrection::Redundancy(RedundancyDepth::uniform(2)),
                );
                c.seed = i;
                Call::new(c).unwrap()
            })
            .collect();
        let config = DriverConfig {
            threads: 2,
            phases: 4,
            stagger: Duration::from_millis(100),
            ..DriverConfig::default()
        };
        let report = run_realtime(calls, config, Duration::from_secs(60));
        assert_eq!(report.calls.len(), 3);
        for (i, c) in report.calls.iter().enumerate() {
            assert!(c.is_success(), "call {i}: {:?}", c.failure());
            assert_eq!(c.receiver.pages, 1);
            assert!(dir.path().join(format!("rx{i}.tif")).exists());
        }
        // The run lasted as long as the longest call's line time (plus its start offset).
        let longest = report.calls.iter().map(|c| c.line_time).max().unwrap();
        assert!(report.wall >= longest, "{:?} < {:?}", report.wall, longest);
        assert!(report.ticks >= longest.as_millis() as u64 / 20);
        assert!(report.lateness_p50 <= report.lateness_p99);
        assert!(report.lateness_p99 <= report.lateness_max.max(report.lateness_p99));
    }
}
