//! A pool of dedicated threads that steps many 20 ms media sessions in real time: the one piece of
//! runtime in this crate, shared by the simulator's real-time driver and the SIP line's media.
//!
//! Why this shape:
//! - **Phases.** Every session keeps its own 20 ms clock, offset from the others' as real calls
//!   are (each started when it was answered). The period is cut into `phases` slots and each
//!   session belongs to one, so a period's work is spread over the whole 20 ms instead of landing
//!   at one instant where the last of 2,000 sessions would wait for the 1,999 before it.
//! - **No static assignment, no barrier.** spandsp sometimes spends 10–20 ms in one step (a page
//!   start reads and re-encodes a whole page). Any worker may step any session: one busy in a slow
//!   step is skipped (`try_lock`) by the others, which go on with the rest, and its own worker
//!   catches it up afterwards. So one slow session delays only itself.
//! - **Bounded, lockstep catch-up.** Sessions of a phase slot that fell behind (the machine
//!   stalled) catch up one step each per pass, so with one phase slot (time-compressed tests) the
//!   two ends of a call stay in step with each other. One more than
//!   `max_catch_up` steps behind skips the excess instead of bursting it: right for live media.
//!   The simulator and time-compressed tests, whose sessions must never lose a step, set no bound.
//!
//! Threads wait on a condition variable fed by one clock thread that sleeps to absolute deadlines,
//! so there is no drift. Lateness is measured per step: its start minus the moment it was due.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Something stepped every period: a fax session with its transport.
pub trait Tick: Send {
    /// One period's work. Returns true once finished: it is then never stepped again.
    fn tick(&mut self) -> bool;
}

/// Pool settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TickPoolConfig {
    /// Worker threads (default: 2 × available cores, so a slow step never idles a core).
    pub threads: usize,
    /// The step period (20 ms: 160 samples at 8 kHz).
    pub period: Duration,
    /// Slots per period that sessions' clocks are spread over (default 20: 1 ms apart).
    pub phases: u32,
    /// Most steps a late session takes back to back before skipping the rest.
    pub max_catch_up: u64,
}

impl Default for TickPoolConfig {
    fn default() -> Self {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        Self {
            threads: cores * 2,
            period: Duration::from_millis(20),
            phases: 20,
            max_catch_up: 3,
        }
    }
}

/// Step lateness and counts so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TickStats {
    /// Steps taken.
    pub steps: u64,
    /// Steps skipped by sessions too far behind.
    pub skipped: u64,
    /// Median, 99th percentile and worst lateness of a step's start behind its due time.
    pub lateness_p50: Duration,
    pub lateness_p99: Duration,
    pub lateness_max: Duration,
    /// The slowest single step.
    pub slowest_step: Duration,
    /// Clock sub-ticks published more than one sub-tick late (the machine, not the pool, could not
    /// keep up).
    pub clock_overruns: u64,
}

/// Lateness histogram in 50 µs buckets up to 2 s (constant memory for millions of steps).
#[derive(Clone)]
struct Histogram {
    buckets: Vec<u64>,
    max_us: u64,
    count: u64,
}

const BUCKET_US: u64 = 50;
const BUCKETS: usize = 40_000;
/// Steps a worker records locally before merging into the shared histogram.
const FLUSH_EVERY: u64 = 4096;

impl Histogram {
    fn new() -> Self {
        Self {
            buckets: vec![0; BUCKETS],
            max_us: 0,
            count: 0,
        }
    }

    fn add(&mut self, us: u64) {
        self.max_us = self.max_us.max(us);
        let i = ((us / BUCKET_US) as usize).min(BUCKETS - 1);
        self.buckets[i] += 1;
        self.count += 1;
    }

    fn drain_into(&mut self, other: &mut Histogram) {
        for (a, b) in other.buckets.iter_mut().zip(self.buckets.iter_mut()) {
            *a += std::mem::take(b);
        }
        other.max_us = other.max_us.max(self.max_us);
        other.count += std::mem::take(&mut self.count);
    }

    fn quantile(&self, q: f64) -> Duration {
        if self.count == 0 {
            return Duration::ZERO;
        }
        let target = ((self.count as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= target {
                return Duration::from_micros((i as u64 + 1) * BUCKET_US).min(self.max());
            }
        }
        self.max()
    }

    fn max(&self) -> Duration {
        Duration::from_micros(self.max_us)
    }
}

struct Slot<T> {
    item: T,
    /// Sub-tick at which the next step is due (always in the session's phase).
    next_due: u64,
    finished: bool,
}

type SlotRef<T> = Arc<Mutex<Slot<T>>>;

struct Shared<T> {
    config: TickPoolConfig,
    phases: u64,
    sub: Duration,
    start: Instant,
    /// Sessions by phase slot.
    groups: Vec<RwLock<Vec<SlotRef<T>>>>,
    /// Per phase slot: the next position in its group to look at (reset when the slot comes round).
    cursors: Vec<AtomicUsize>,
    /// Added sessions not yet in their group (moved by the clock thread without ever blocking).
    pending: Mutex<Vec<(usize, SlotRef<T>)>>,
    next_phase: AtomicUsize,
    /// Current sub-tick, readable without the lock for catching up; `u64::MAX` = stop.
    now: AtomicU64,
    tick: Mutex<u64>,
    tick_cv: Condvar,
    stop: AtomicBool,
    live: Arc<AtomicUsize>,
    hist: Mutex<Histogram>,
    skipped: AtomicU64,
    slowest_ns: AtomicU64,
    clock_overruns: AtomicU64,
}

/// Dedicated threads stepping many sessions; see the module documentation.
pub struct TickPool<T: Tick + 'static> {
    shared: Arc<Shared<T>>,
    threads: Vec<JoinHandle<()>>,
}

/// A session in the pool: lets its owner reach it between steps.
pub struct TickHandle<T> {
    slot: SlotRef<T>,
    live: Arc<AtomicUsize>,
}

impl<T> Clone for TickHandle<T> {
    fn clone(&self) -> Self {
        Self {
            slot: Arc::clone(&self.slot),
            live: Arc::clone(&self.live),
        }
    }
}

impl<T> TickHandle<T> {
    /// Runs `f` on the session between two of its steps.
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        let mut slot = self.slot.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut slot.item)
    }

    /// True once the session's `tick` returned true (or it was [`finish`](Self::finish)ed).
    pub fn is_finished(&self) -> bool {
        self.slot.lock().unwrap_or_else(|e| e.into_inner()).finished
    }

    /// Runs `f` on the session and takes it out of the pool: it is not stepped again.
    pub fn finish<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        let mut slot = self.slot.lock().unwrap_or_else(|e| e.into_inner());
        if !slot.finished {
            slot.finished = true;
            self.live.fetch_sub(1, Ordering::AcqRel);
        }
        f(&mut slot.item)
    }

    /// The session itself, once the pool no longer holds it (after [`TickPool::shutdown`], or once
    /// finished and dropped from its group); otherwise the handle back.
    pub fn into_inner(self) -> Result<T, Self> {
        match Arc::try_unwrap(self.slot) {
            Ok(m) => Ok(m.into_inner().unwrap_or_else(|e| e.into_inner()).item),
            Err(slot) => Err(Self {
                slot,
                live: self.live,
            }),
        }
    }
}

impl<T: Tick + 'static> TickPool<T> {
    /// Starts the clock thread and the workers.
    pub fn start(config: TickPoolConfig) -> Self {
        let phases = u64::from(config.phases.max(1));
        let shared = Arc::new(Shared {
            config,
            phases,
            sub: config.period / phases as u32,
            start: Instant::now(),
            groups: (0..phases).map(|_| RwLock::new(Vec::new())).collect(),
            cursors: (0..phases).map(|_| AtomicUsize::new(0)).collect(),
            pending: Mutex::new(Vec::new()),
            next_phase: AtomicUsize::new(0),
            now: AtomicU64::new(0),
            tick: Mutex::new(0),
            tick_cv: Condvar::new(),
            stop: AtomicBool::new(false),
            live: Arc::new(AtomicUsize::new(0)),
            hist: Mutex::new(Histogram::new()),
            skipped: AtomicU64::new(0),
            slowest_ns: AtomicU64::new(0),
            clock_overruns: AtomicU64::new(0),
        });
        let mut threads = Vec::new();
        for i in 0..config.threads.max(1) {
            let shared = Arc::clone(&shared);
            threads.push(
                std::thread::Builder::new()
                    .name(format!("fax-tick-{i}"))
                    .spawn(move || worker(&shared))
                    .expect("spawn tick worker"),
            );
        }
        let clock_shared = Arc::clone(&shared);
        threads.push(
            std::thread::Builder::new()
                .name("fax-clock".into())
                .spawn(move || clock(&clock_shared))
                .expect("spawn tick clock"),
        );
        Self { shared, threads }
    }

    /// Adds a session: its first step is due one period from now, in the next phase slot round
    /// robin. Never blocks on running steps.
    pub fn add(&self, item: T) -> TickHandle<T> {
        self.add_in(item, Duration::ZERO)
    }

    /// Adds a session whose first step is due `delay` after one period from now (staggered
    /// starts).
    pub fn add_in(&self, item: T, delay: Duration) -> TickHandle<T> {
        let s = &self.shared;
        let phase = s.next_phase.fetch_add(1, Ordering::Relaxed) % s.phases as usize;
        let now = s.now.load(Ordering::Acquire).min(u64::MAX / 2);
        let delay_subs = (delay.as_nanos() / s.sub.as_nanos().max(1)) as u64;
        // First sub-tick after a whole period (plus the delay) that lies in this phase.
        let earliest = now + s.phases + delay_subs;
        let next_due = earliest + (phase as u64 + s.phases - earliest % s.phases) % s.phases;
        let slot = Arc::new(Mutex::new(Slot {
            item,
            next_due,
            finished: false,
        }));
        s.live.fetch_add(1, Ordering::AcqRel);
        s.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((phase, Arc::clone(&slot)));
        TickHandle {
            slot,
            live: Arc::clone(&s.live),
        }
    }

    /// Sessions added and not yet finished.
    pub fn live(&self) -> usize {
        self.shared.live.load(Ordering::Acquire)
    }

    /// Lateness and counts so far (workers merge their figures every few thousand steps and when
    /// they stop).
    pub fn stats(&self) -> TickStats {
        let s = &self.shared;
        let h = s.hist.lock().unwrap_or_else(|e| e.into_inner());
        TickStats {
            steps: h.count,
            skipped: s.skipped.load(Ordering::Relaxed),
            lateness_p50: h.quantile(0.50),
            lateness_p99: h.quantile(0.99),
            lateness_max: h.max(),
            slowest_step: Duration::from_nanos(s.slowest_ns.load(Ordering::Relaxed)),
            clock_overruns: s.clock_overruns.load(Ordering::Relaxed),
        }
    }

    /// Stops every thread (a step in progress completes) and returns the final figures. Sessions
    /// stay reachable through their handles, which are then their only owners.
    pub fn shutdown(mut self) -> TickStats {
        self.stop_threads();
        let stats = self.stats();
        let s = &self.shared;
        for g in &s.groups {
            g.write().unwrap_or_else(|e| e.into_inner()).clear();
        }
        s.pending.lock().unwrap_or_else(|e| e.into_inner()).clear();
        stats
    }

    fn stop_threads(&mut self) {
        let s = &self.shared;
        s.stop.store(true, Ordering::Release);
        s.now.store(u64::MAX, Ordering::Release);
        *s.tick.lock().unwrap_or_else(|e| e.into_inner()) = u64::MAX;
        s.tick_cv.notify_all();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl<T: Tick + 'static> Drop for TickPool<T> {
    fn drop(&mut self) {
        self.stop_threads();
    }
}

fn clock<T: Tick>(s: &Shared<T>) {
    let mut subtick = 0u64;
    let mut skipped_in_a_row = 0u64;
    while !s.stop.load(Ordering::Acquire) {
        subtick += 1;
        // A phase slot with no sessions (and nothing waiting to be admitted) needs no wake-up:
        // with few calls, waking every sub-tick would cost more than the calls themselves. At
        // least one sub-tick per period is still published, so `now` never lags a period.
        let phase = (subtick % s.phases) as usize;
        let idle = s.pending.try_lock().is_ok_and(|p| p.is_empty())
            && s.groups[phase].try_read().is_ok_and(|g| g.is_empty());
        if idle && skipped_in_a_row + 1 < s.phases {
            skipped_in_a_row += 1;
            continue;
        }
        skipped_in_a_row = 0;
        let deadline = s.start + s.sub * (subtick as u32);
        let now = Instant::now();
        if let Some(wait) = deadline.checked_duration_since(now) {
            std::thread::sleep(wait);
        } else if now - deadline > s.sub {
            s.clock_overruns.fetch_add(1, Ordering::Relaxed);
        }
        admit_pending(s, phase);
        s.cursors[phase].store(0, Ordering::Release);
        if s.stop.load(Ordering::Acquire) {
            break;
        }
        s.now.store(subtick, Ordering::Release);
        *s.tick.lock().unwrap_or_else(|e| e.into_inner()) = subtick;
        s.tick_cv.notify_all();
    }
}

/// Moves added sessions into their groups and drops finished ones from this phase's group, each
/// only if it can be done without waiting for a worker.
fn admit_pending<T: Tick>(s: &Shared<T>, phase: usize) {
    if let Ok(mut pending) = s.pending.try_lock()
        && !pending.is_empty()
    {
        let mut keep = Vec::new();
        for (p, slot) in pending.drain(..) {
            match s.groups[p].try_write() {
                Ok(mut g) => g.push(slot),
                Err(_) => keep.push((p, slot)),
            }
        }
        *pending = keep;
    }
    if let Ok(mut group) = s.groups[phase].try_write() {
        group.retain(|slot| match slot.try_lock() {
            Ok(slot) => !slot.finished,
            Err(_) => true,
        });
    }
}

fn worker<T: Tick>(s: &Shared<T>) {
    let mut hist = Histogram::new();
    let mut seen = 0u64;
    loop {
        let published = {
            let mut t = s.tick.lock().unwrap_or_else(|e| e.into_inner());
            while *t == seen {
                t = s.tick_cv.wait(t).unwrap_or_else(|e| e.into_inner());
            }
            *t
        };
        if published == u64::MAX || s.stop.load(Ordering::Acquire) {
            break;
        }
        // Sub-ticks missed while this worker was busy: at most one round of phase slots.
        let from = (seen + 1).max(published.saturating_sub(s.phases - 1));
        seen = published;
        for subtick in from..=published {
            let phase = (subtick % s.phases) as usize;
            let Ok(group) = s.groups[phase].read() else {
                continue;
            };
            // One step per session per pass, so sessions that are behind catch up in lockstep
            // (a receiver never runs ahead of the sender it listens to); the first pass is shared
            // between workers through the cursor, the rest are rare.
            let mut behind = false;
            loop {
                let k = s.cursors[phase].fetch_add(1, Ordering::AcqRel);
                let Some(slot) = group.get(k) else {
                    break;
                };
                behind |= step_one(s, slot, &mut hist);
            }
            while behind {
                behind = false;
                for slot in group.iter() {
                    behind |= step_one(s, slot, &mut hist);
                }
            }
        }
        if hist.count >= FLUSH_EVERY {
            hist.drain_into(&mut s.hist.lock().unwrap_or_else(|e| e.into_inner()));
        }
    }
    hist.drain_into(&mut s.hist.lock().unwrap_or_else(|e| e.into_inner()));
}

/// Takes one owed step of a session (unless another worker has it); true if it still owes more.
/// A session further behind than `max_catch_up` steps first skips the excess.
fn step_one<T: Tick>(s: &Shared<T>, slot: &SlotRef<T>, hist: &mut Histogram) -> bool {
    let Ok(mut slot) = slot.try_lock() else {
        return false;
    };
    let slot = &mut *slot;
    let now = s.now.load(Ordering::Acquire);
    if slot.finished || now == u64::MAX || slot.next_due > now {
        return false;
    }
    let owed = (now - slot.next_due) / s.phases + 1;
    if owed > s.config.max_catch_up {
        let skip = owed - s.config.max_catch_up;
        s.skipped.fetch_add(skip, Ordering::Relaxed);
        slot.next_due += skip * s.phases;
    }
    let due = s.start + s.sub * (slot.next_due as u32);
    slot.next_due += s.phases;
    let started = Instant::now();
    hist.add(started.saturating_duration_since(due).as_micros() as u64);
    if slot.item.tick() {
        slot.finished = true;
        s.live.fetch_sub(1, Ordering::AcqRel);
    }
    let spent = started.elapsed().as_nanos() as u64;
    s.slowest_ns.fetch_max(spent, Ordering::Relaxed);
    !slot.finished && slot.next_due <= now
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts its steps; finishes after `limit`; optionally sleeps in every step.
    struct Counter {
        steps: u64,
        limit: u64,
        nap: Duration,
    }

    impl Tick for Counter {
        fn tick(&mut self) -> bool {
            std::thread::sleep(self.nap);
            self.steps += 1;
            self.steps >= self.limit
        }
    }

    fn config(threads: usize, max_catch_up: u64) -> TickPoolConfig {
        TickPoolConfig {
            threads,
            period: Duration::from_millis(10),
            phases: 5,
            max_catch_up,
        }
    }

    fn wait_until(what: impl Fn() -> bool) {
        let end = Instant::now() + Duration::from_secs(30);
        while !what() {
            assert!(Instant::now() < end, "timed out");
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    #[test]
    fn every_session_runs_exactly_to_its_end() {
        let pool = TickPool::start(config(2, u64::MAX));
        let handles: Vec<_> = (0..40)
            .map(|i| {
                pool.add(Counter {
                    steps: 0,
                    limit: 5 + i % 7,
                    nap: Duration::ZERO,
                })
            })
            .collect();
        wait_until(|| pool.live() == 0);
        let stats = pool.shutdown();
        let expected: u64 = (0..40).map(|i| 5 + i % 7).sum();
        assert_eq!(stats.steps, expected);
        assert_eq!(stats.skipped, 0);
        for (i, h) in handles.into_iter().enumerate() {
            assert!(h.is_finished());
            let c = h.into_inner().ok().expect("pool released it");
            assert_eq!(c.steps, 5 + i as u64 % 7, "never stepped after finishing");
        }
    }

    #[test]
    fn finish_takes_a_session_out_and_with_reaches_it() {
        let pool = TickPool::start(config(2, u64::MAX));
        let h = pool.add(Counter {
            steps: 0,
            limit: u64::MAX,
            nap: Duration::ZERO,
        });
        wait_until(|| h.with(|c| c.steps) >= 3);
        assert_eq!(pool.live(), 1);
        let at = h.finish(|c| c.steps);
        assert_eq!(pool.live(), 0);
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(h.with(|c| c.steps), at, "not stepped after finish");
        pool.shutdown();
        let c = h.into_inner().ok().expect("pool released it");
        assert_eq!(c.steps, at);
    }

    /// A session that sleeps 60 ms in each 10 ms step falls behind: with a catch-up bound it skips
    /// steps instead of bursting, and the other sessions keep being stepped meanwhile.
    #[test]
    fn slow_session_skips_and_does_not_hold_up_the_others() {
        let pool = TickPool::start(config(2, 1));
        let slow = pool.add(Counter {
            steps: 0,
            limit: 4,
            nap: Duration::from_millis(60),
        });
        let fast: Vec<_> = (0..4)
            .map(|_| {
                pool.add(Counter {
                    steps: 0,
                    limit: u64::MAX,
                    nap: Duration::ZERO,
                })
            })
            .collect();
        wait_until(|| slow.is_finished());
        let stats = pool.stats();
        assert!(stats.skipped > 0, "{stats:?}");
        // The slow session's 4 steps took ≥ 240 ms of its worker; the fast ones, on the other
        // worker, were stepped many times meanwhile (24 periods; a loose lower bound).
        for f in &fast {
            assert!(f.with(|c| c.steps) >= 6, "{}", f.with(|c| c.steps));
        }
        assert!(stats.slowest_step >= Duration::from_millis(60));
        assert!(stats.lateness_p50 <= stats.lateness_p99);
        pool.shutdown();
    }

    /// Two ends of a call in one phase slot on one worker: one stalls now and then (a slow spandsp
    /// step). With no skipping they catch up one step each per pass, so the listener is never
    /// more than a step or two away from the talker it hears, and no step is lost.
    #[test]
    fn stalled_sessions_catch_up_in_lockstep() {
        use std::sync::atomic::AtomicI64;
        struct End {
            me: i64,
            steps: Arc<[AtomicI64; 2]>,
            worst_gap: Arc<AtomicI64>,
            limit: i64,
        }
        impl Tick for End {
            fn tick(&mut self) -> bool {
                let n = self.steps[self.me as usize].fetch_add(1, Ordering::SeqCst) + 1;
                if self.me == 0 && n % 10 == 0 {
                    std::thread::sleep(Duration::from_millis(60));
                }
                let other = self.steps[1 - self.me as usize].load(Ordering::SeqCst);
                self.worst_gap
                    .fetch_max((n - other).abs(), Ordering::SeqCst);
                n >= self.limit
            }
        }
        let steps = Arc::new([AtomicI64::new(0), AtomicI64::new(0)]);
        let worst_gap = Arc::new(AtomicI64::new(0));
        let pool = TickPool::start(TickPoolConfig {
            phases: 1,
            ..config(1, u64::MAX)
        });
        let ends: Vec<_> = (0..2)
            .map(|me| {
                pool.add(End {
                    me,
                    steps: Arc::clone(&steps),
                    worst_gap: Arc::clone(&worst_gap),
                    limit: 40,
                })
            })
            .collect();
        wait_until(|| ends.iter().all(|e| e.is_finished()));
        let stats = pool.shutdown();
        assert_eq!(stats.skipped, 0);
        assert_eq!(steps[0].load(Ordering::SeqCst), 40);
        assert_eq!(steps[1].load(Ordering::SeqCst), 40);
        // Each 60 ms stall leaves both ~6 steps behind; caught up alternately, they never drift
        // more than one step apart.
        assert!(worst_gap.load(Ordering::SeqCst) <= 2, "{worst_gap:?}");
        assert!(stats.lateness_max >= Duration::from_millis(40), "{stats:?}");
    }
}
