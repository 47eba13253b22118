//! One simulated call, printed: a target for profilers (`valgrind --tool=callgrind`), whose
//! instruction counts do not depend on the machine's load.
//!
//! `cargo run --release -p faxline-t38 --example one_call -- [TIFF] [--no-ecm] [--pacing]`

use std::path::PathBuf;

use faxline_t38::sim::{Call, CallConfig, Transport};
use faxline_t38::udptl::{ErrorCorrection, RedundancyDepth};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let doc = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/tiff/libtasn1_10p.tif")
        });
    let out = std::env::temp_dir().join(format!("faxline-one-call-{}.tif", std::process::id()));
    let mut c = CallConfig::t38(
        doc,
        out.clone(),
        0,
        ErrorCorrection::Redundancy(RedundancyDepth {
            indicator: 3,
            control: 3,
            image: 2,
        }),
    );
    let ecm = !args.iter().any(|a| a == "--no-ecm");
    c.sender.ecm = ecm;
    c.receiver.ecm = ecm;
    if let Transport::T38 { pacing, .. } = &mut c.transport {
        *pacing = args.iter().any(|a| a == "--pacing");
    }
    let report = Call::new(c).expect("call setup").run();
    let _ = std::fs::remove_file(&out);
    println!(
        "success={} pages={} line={:.1}s cpu={:.1}ms ({:.2} ms/page) slowest_step={:.2}ms",
        report.is_success(),
        report.receiver.pages,
        report.line_time.as_secs_f64(),
        report.cpu_time.as_secs_f64() * 1e3,
        report.cpu_time.as_secs_f64() * 1e3 / f64::from(report.receiver.pages.max(1)),
        report.slowest_step.as_secs_f64() * 1e3,
    );
    if !report.is_success() {
        std::process::exit(1);
    }
}
