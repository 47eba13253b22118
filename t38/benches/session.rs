//! CPU cost of a whole fax call, both ends, in simulated time (no pacing, clean line), per page.
//!
//! `cargo bench -p faxline-t38 --bench session` — target ≤ 5 ms per text page for both ends.
//! The per-page figure is the 10-page time divided by 10 (criterion reports the whole call).

use std::path::PathBuf;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use faxline_t38::session::G711Law;
use faxline_t38::sim::{Call, CallConfig, Transport};
use faxline_t38::udptl::{ErrorCorrection, RedundancyDepth};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/tiff")
        .join(name)
}

fn call(doc: &str, ecm: bool, audio: bool) -> Call {
    let out = std::env::temp_dir().join(format!("faxline-bench-{}-{doc}", std::process::id()));
    let mut c = CallConfig::t38(
        fixture(doc),
        out,
        0,
        ErrorCorrection::Redundancy(RedundancyDepth {
            indicator: 3,
            control: 3,
            image: 2,
        }),
    );
    c.sender.ecm = ecm;
    c.receiver.ecm = ecm;
    if audio {
        c.transport = Transport::Audio { law: G711Law::Alaw };
    }
    Call::new(c).expect("call setup")
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("fax_call_both_ends");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    for (name, doc, ecm) in [
        ("t38_1page_ecm", "gpl3_1p.tif", true),
        ("t38_1page_noecm", "gpl3_1p.tif", false),
        ("t38_10pages_ecm", "libtasn1_10p.tif", true),
        ("t38_10pages_noecm", "libtasn1_10p.tif", false),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| {
                let r = call(doc, ecm, false).run();
                assert!(r.is_success());
                r
            })
        });
    }
    g.bench_function("g711_1page_ecm", |b| {
        b.iter(|| {
            let r = call("gpl3_1p.tif", true, true).run();
            assert!(r.is_success());
            r
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
