//! Concurrent real-time fax calls: N pairs of T.38 sessions (paced, as on a real line), each pair
//! joined by the line simulator at 0 % loss, all stepped every 20 ms by the driver's thread pool.
//! Reports success, CPU, memory per session and tick lateness (p50/p99/max).
//!
//! `cargo bench -p faxline-t38 --bench concurrent -- 100 500 1000` (a 1-page paced call takes
//! ~25 s and starts are spread over 20 s, so each N runs for about 45 s).
//! `FAXLINE_DRIVER_THREADS` overrides the pool; `FAXLINE_STAGGER_S` the start spread.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use faxline_t38::sim::{
    Call, CallConfig, DriverConfig, process_cpu_time, resident_kib, run_realtime,
};
use faxline_t38::udptl::{ErrorCorrection, RedundancyDepth};

fn peak_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

fn main() {
    let ns: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let ns = if ns.is_empty() { vec![100] } else { ns };
    let mut config = DriverConfig::default();
    if let Some(t) = std::env::var("FAXLINE_DRIVER_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        config.threads = t;
    }
    // Real calls arrive spread out; all at once would put every page start in the same tick.
    config.stagger = Duration::from_secs_f64(
        std::env::var("FAXLINE_STAGGER_S")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(20.0),
    );
    let doc = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/tiff/gpl3_1p.tif");
    let dir = std::env::temp_dir().join(format!("faxline-concurrent-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    println!(
        "| pairs | sessions | success | wall | CPU | CPU/session-s | RSS/session | p50 late | p99 late | max late | slowest step | overruns |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    let mut all_ok = true;
    for n in ns {
        let rss0 = resident_kib().unwrap_or(0);
        let calls: Vec<Call> = (0..n)
            .map(|i| {
                let mut c = CallConfig::t38(
                    doc.clone(),
                    dir.join(format!("rx-{i}.tif")),
                    0,
                    ErrorCorrection::Redundancy(RedundancyDepth {
                        indicator: 3,
                        control: 3,
                        image: 2,
                    }),
                );
                if let faxline_t38::sim::Transport::T38 { pacing, .. } = &mut c.transport {
                    *pacing = true;
                }
                c.seed = i as u64;
                c.label = format!("pair{i}");
                Call::new(c).expect("call setup")
            })
            .collect();
        let rss1 = resident_kib().unwrap_or(0);
        let cpu0 = process_cpu_time().unwrap_or_default();
        let started = Instant::now();
        let report = run_realtime(calls, config, Duration::from_secs(300));
        let cpu = process_cpu_time().unwrap_or_default().saturating_sub(cpu0);
        // Peak during the run (spandsp allocates page buffers when a page starts).
        let rss1 = peak_kib().unwrap_or(rss1).max(rss1);
        let ok = report.calls.iter().filter(|c| c.is_success()).count();
        all_ok &= ok == n;
        let line_s: f64 = report
            .calls
            .iter()
            .map(|c| c.line_time.as_secs_f64())
            .sum::<f64>()
            * 2.0;
        println!(
            "| {n} | {} | {ok}/{n} | {:.1} s | {:.1} s | {:.3} ms | {:.0} KiB | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} ms | {} |",
            2 * n,
            started.elapsed().as_secs_f64(),
            cpu.as_secs_f64(),
            cpu.as_secs_f64() * 1000.0 / line_s.max(1.0),
            rss1.saturating_sub(rss0) as f64 / (2 * n) as f64,
            report.lateness_p50.as_secs_f64() * 1000.0,
            report.lateness_p99.as_secs_f64() * 1000.0,
            report.lateness_max.as_secs_f64() * 1000.0,
            report.slowest_step.as_secs_f64() * 1000.0,
            report.overruns,
        );
        for i in 0..n {
            let _ = std::fs::remove_file(dir.join(format!("rx-{i}.tif")));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    // `.ci/test` runs a short form (`cargo test --bench concurrent -- 2`): a failed call fails it.
    if !all_ok {
        eprintln!("not every call succeeded");
        std::process::exit(1);
    }
}
