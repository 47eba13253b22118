//! A real-time driver for many simulated calls, on the [`TickPool`](crate::tick_pool::TickPool)
//! (IO: threads and the wall clock, like the pool; each step is timed by the [`meter`](super::meter)):
//! each call is stepped every 20 ms by a pool of dedicated threads, the calls' clocks spread over
//! the period, a slow step delaying only its own call. Unlike live media, a late call catches up
//! every owed step, so its line time follows the wall clock exactly.

use std::time::{Duration, Instant};

use super::call::{Call, CallReport, STEP};
use super::meter::StepCost;
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

/// A call as the pool steps it, with what its steps cost.
struct Metered {
    call: Call,
    cost: StepCost,
}

impl Tick for Metered {
    fn tick(&mut self) -> bool {
        self.cost.step(&mut self.call)
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
        .map(|(i, call)| {
            let metered = Metered {
                call,
                cost: StepCost::default(),
            };
            pool.add_in(metered, config.stagger * i as u32 / n)
        })
        .collect();
    while pool.live() > 0 && started.elapsed() < limit {
        std::thread::sleep(config.tick);
    }
    let stats = pool.shutdown();
    let wall = started.elapsed();
    let calls = handles
        .into_iter()
        .filter_map(|h| h.into_inner().ok())
        .map(|mut m| {
            // A call cut off by `limit` is hung up so that it still reports.
            while !m.call.is_done() {
                m.call.hang_up();
                m.cost.step(&mut m.call);
            }
            m.call.into_report(m.cost)
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
