//! A real-time driver for many simulated calls, on the [`TickPool`](crate::tick_pool::TickPool):
//! each call is stepped every 20 ms by a pool of dedicated threads, the calls' clocks spread over
//! the period, a slow step delaying only its own call. Unlike live media, a late call catches up
//! every owed step, so its line time follows the wall clock exactly.

use std::time::{Duration, Instant};

use super::call::{Call, CallReport, STEP};
use crate::tick_pool::{Tick, TickPool, TickPoolConfig};

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
        let pool = TickPoolConfig::default();
        Self {
            threads: pool.threads,
            tick: STEP,
            phases: pool.phases,
            stagger: Duration::ZERO,
        }
    }
}

/// What a real-time run measured.
#[derive(Debug, Clone)]
pub struct DriverReport {
    /// Every call's report, in input order.
    pub calls: Vec<CallReport>,
    /// Steps taken, all calls together.
    pub steps: u64,
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
    /// Clock sub-ticks published more than one sub-tick late (the machine, not the driver, could
    /// not keep up).
    pub overruns: u64,
}

impl Tick for Call {
    fn tick(&mut self) -> bool {
        self.step()
    }
}

/// Drives `calls` in real time until all are done (or `limit` wall time passes; unfinished calls
/// are then hung up and reported as their sessions stand).
pub fn run_realtime(calls: Vec<Call>, config: DriverConfig, limit: Duration) -> DriverReport {
    let n = calls.len().max(1) as u32;
    let pool = TickPool::start(TickPoolConfig {
        threads: config.threads,
        period: config.tick,
        phases: config.phases,
        max_catch_up: u64::MAX,
    });
    let started = Instant::now();
    let handles: Vec<_> = calls
        .into_iter()
        .enumerate()
        .map(|(i, c)| pool.add_in(c, config.stagger * i as u32 / n))
        .collect();
    while pool.live() > 0 && started.elapsed() < limit {
        std::thread::sleep(config.tick);
    }
    let stats = pool.shutdown();
    let wall = started.elapsed();
    let calls = handles
        .into_iter()
        .filter_map(|h| h.into_inner().ok())
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
        steps: stats.steps,
        wall,
        lateness_p50: stats.lateness_p50,
        lateness_p99: stats.lateness_p99,
        lateness_max: stats.lateness_max,
        slowest_step: stats.slowest_step,
        overruns: stats.clock_overruns,
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
        let steps: u64 = report
            .calls
            .iter()
            .map(|c| c.line_time.as_millis() as u64 / 20)
            .sum();
        assert_eq!(report.steps, steps);
        assert!(report.lateness_p50 <= report.lateness_p99);
        assert!(report.lateness_p99 <= report.lateness_max.max(report.lateness_p99));
    }
}
