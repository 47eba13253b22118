//! The simulator's measuring shell: the only part of [`sim`](super) that reads clocks or `/proc`.
//! The call itself runs on its own step counter; this wraps its steps to say what they cost in
//! real time, and reads the process figures the benchmarks report.

use std::time::{Duration, Instant};

use super::call::{Call, CallReport};

/// What stepping one call cost so far.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct StepCost {
    /// Time spent in steps (wall time, or the thread's CPU time once [`Call::run`] replaces it).
    pub(super) busy: Duration,
    /// The slowest single step.
    pub(super) slowest: Duration,
}

impl StepCost {
    /// Takes one step of `call`, timing it. Returns true when the call is over.
    pub(super) fn step(&mut self, call: &mut Call) -> bool {
        if call.is_done() {
            return true;
        }
        let started = Instant::now();
        let done = call.step();
        let spent = started.elapsed();
        self.busy += spent;
        self.slowest = self.slowest.max(spent);
        done
    }
}

impl Call {
    /// Runs the call to the end in simulated time and reports. `cpu_time` is then this thread's
    /// CPU time (from `/proc/thread-self/schedstat`), immune to other load on the machine.
    pub fn run(mut self) -> CallReport {
        let mut cost = StepCost::default();
        let cpu0 = thread_cpu_time();
        while !cost.step(&mut self) {}
        if let (Some(a), Some(b)) = (cpu0, thread_cpu_time()) {
            cost.busy = b.saturating_sub(a);
        }
        self.into_report(cost)
    }
}

/// CPU time consumed by the current thread (Linux scheduler statistics, nanosecond resolution).
fn thread_cpu_time() -> Option<Duration> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace()
        .next()?
        .parse()
        .ok()
        .map(Duration::from_nanos)
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
