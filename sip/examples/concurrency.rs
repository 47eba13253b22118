//! Concurrency benchmark of the SIP line: N simultaneous real-time T.38 fax calls over loopback
//! (real SIP through rsipstack, real UDPTL sockets on 127.0.0.1), both ends in this process.
//!
//! ```text
//! cargo run --release -p faxline-sip --example concurrency -- [calls=1000] [media_threads=4] [ramp_s=20] [speed=1]
//! ```
//! Prints success count, tick lateness quantiles, CPU time and resident memory per call, and exits 1 unless every
//! call succeeded, so that its short form in `.ci/test` (`-- 4 2 1 10`) fails when the benchmark stops working.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use faxline_sip::call::{CallConfig, CallRole, FaxCall};
use faxline_sip::called::{CalledPolicy, Numbers};
use faxline_sip::driver::run_call;
use faxline_sip::fax_media::FaxMediaControl;
use faxline_sip::media::{MediaRuntime, PortPool};
use faxline_sip::stack::{DialTarget, SipEndpoint};
use faxline_t38::session::{Direction, FaxOptions};
use faxline_t38::sim::{process_cpu_time, resident_kib};
use tokio::sync::mpsc;

fn arg(i: usize, default: u64) -> u64 {
    std::env::args()
        .nth(i)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let calls = arg(1, 1000) as usize;
    let threads = arg(2, 4) as usize;
    let ramp = Duration::from_secs(arg(3, 20));
    let speed = arg(4, 1) as u32;
    let doc =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/captures/testfax_sent.tif");
    let out = tempfile::tempdir().expect("temp dir");
    let local: IpAddr = Ipv4Addr::LOCALHOST.into();
    let rss0 = resident_kib().unwrap_or(0);
    let cpu0 = process_cpu_time().unwrap_or_default();
    let started = Instant::now();

    let runtime = Arc::new(MediaRuntime::start(threads, speed));
    let pool = Arc::new(PortPool::new(local, 20000..=29999));
    let (answerer, mut incoming) =
        SipEndpoint::bind((local, 0).into(), CalledPolicy::new(Numbers::Any))
            .await
            .expect("bind answerer");
    let (caller, _) = SipEndpoint::bind((local, 0).into(), CalledPolicy::new(Numbers::None))
        .await
        .expect("bind caller");
    let target = answerer.local_addr();

    // Answering side: every inbound call receives into its own file.
    let rx_runtime = runtime.clone();
    let rx_pool = pool.clone();
    let rx_dir = out.path().to_path_buf();
    let answering = tokio::spawn(async move {
        let mut n = 0u32;
        let mut tasks = Vec::new();
        while let Some(call) = incoming.recv().await {
            n += 1;
            let (socket, port) = rx_pool.bind().expect("UDPTL port");
            let mut config = CallConfig::new(local, port, port);
            config.ced = Duration::from_secs(3) / speed;
            // A T.38 benchmark: no audio session during the CED wait (no RTP socket here).
            config.ced_audio = false;
            let (done_tx, done_rx) = mpsc::unbounded_channel();
            let mut media = FaxMediaControl::new(
                rx_runtime.clone(),
                socket,
                Direction::Receive {
                    tiff: rx_dir.join(format!("rx-{n}.tif")),
                },
                FaxOptions {
                    local_ident: "BENCH RX".into(),
                    ..FaxOptions::default()
                },
                format!("rx{n}"),
                done_tx,
            );
            tasks.push(tokio::spawn(async move {
                let fax = FaxCall::new(CallRole::Inbound, config, u64::from(n));
                run_call(fax, call.leg, call.events, &mut media, done_rx).await
            }));
        }
        tasks
    });

    let mut senders = Vec::with_capacity(calls);
    for i in 0..calls {
        let (socket, port) = pool.bind().expect("UDPTL port");
        let mut config = CallConfig::new(local, port, port);
        config.t38_wait = Duration::from_secs(5) / speed;
        // A T.38 benchmark: no CNG in audio while waiting for the answerer's re-INVITE (no RTP socket here;
        // with it on, every call ended "no session").
        config.cng_audio = false;
        let (leg, events) = caller
            .dial(DialTarget {
                uri: format!("sip:fax{i}@{target}"),
                from_user: "bench".into(),
                from_domain: None,
                credentials: None,
                identity: None,
            })
            .expect("dial");
        let (done_tx, done_rx) = mpsc::unbounded_channel();
        let mut media = FaxMediaControl::new(
            runtime.clone(),
            socket,
            Direction::Send { tiff: doc.clone() },
            FaxOptions {
                local_ident: "BENCH TX".into(),
                ..FaxOptions::default()
            },
            format!("tx{i}"),
            done_tx,
        );
        let outcome = media.outcome();
        senders.push(tokio::spawn(async move {
            let fax = FaxCall::new(CallRole::Outbound, config, i as u64);
            let record = run_call(fax, leg, events, &mut media, done_rx).await;
            for _ in 0..100 {
                if outcome.lock().map(|o| o.is_some()).unwrap_or(false) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let result = outcome.lock().ok().and_then(|o| {
                o.as_ref().map(|o| match &o.report.outcome {
                    Ok(()) => "success".to_string(),
                    Err(e) => format!("{:?}", e.kind),
                })
            });
            let ok = result.as_deref() == Some("success");
            (record, ok, result.unwrap_or_else(|| "no session".into()))
        }));
        tokio::time::sleep(ramp / calls as u32).await;
    }
    let mut peak_rss = resident_kib().unwrap_or(0);
    let mut ok = 0usize;
    let mut outcomes = std::collections::BTreeMap::<String, usize>::new();
    for s in senders {
        peak_rss = peak_rss.max(resident_kib().unwrap_or(0));
        if let Ok((record, success, result)) = s.await {
            ok += usize::from(success);
            *outcomes
                .entry(format!("{:?} / {result}", record.end))
                .or_default() += 1;
        }
    }
    caller.shutdown();
    answerer.shutdown();
    let elapsed = started.elapsed();
    let cpu = process_cpu_time().unwrap_or_default().saturating_sub(cpu0);
    let stats = runtime.tick_stats();
    drop(answering);
    println!(
        "calls: {calls} (2 sessions each), successful: {ok} ({:.1} %)",
        100.0 * ok as f64 / calls as f64
    );
    for (k, n) in &outcomes {
        println!("  {n:5} x {k}");
    }
    println!(
        "wall time: {:.1} s, media threads: {threads}, speed: {speed}",
        elapsed.as_secs_f64()
    );
    println!(
        "step lateness: p50 {:?} p99 {:?} max {:?} over {} steps ({} skipped); slowest step {:?}",
        stats.lateness_p50,
        stats.lateness_p99,
        stats.lateness_max,
        stats.steps,
        stats.skipped,
        stats.slowest_step,
    );
    println!(
        "CPU: {:.1} s total, {:.1} ms per call",
        cpu.as_secs_f64(),
        cpu.as_secs_f64() * 1000.0 / calls as f64,
    );
    println!(
        "memory: peak RSS {} MiB, {:.0} KiB per call above the {} MiB baseline",
        peak_rss / 1024,
        (peak_rss.saturating_sub(rss0)) as f64 / calls as f64,
        rss0 / 1024
    );
    if ok != calls {
        eprintln!("not every call succeeded");
        std::process::exit(1);
    }
}
