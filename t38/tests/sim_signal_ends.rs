//! The packets that end a signal (and the indicators) are sent eight times even with UDPTL error correction,
//! because no later packet of their burst carries them as redundancy: without that, a 10-page fax over a line
//! losing 10 % of packets in both directions failed 16 times in 50 on the simulator. Here: every seed of a
//! 10-page ECM fax with redundancy, and with FEC, gets through such a line; and on a bursty line, the calls
//! that five copies lost (a burst took every copy of a signal's end and of the `no-signal` after it) get
//! through.

use std::path::PathBuf;

use faxline_t38::sdp::EcMode;
use faxline_t38::sim::{Call, CallConfig, ChannelModel, Loss, Transport};
use faxline_t38::udptl::{ErrorCorrection, IfpKind, RedundancyDepth};

fn run(ec: ErrorCorrection, seed: u64) -> faxline_t38::sim::CallReport {
    run_on(ec, seed, Loss::Random(0.10))
}

fn run_on(ec: ErrorCorrection, seed: u64, loss: Loss) -> faxline_t38::sim::CallReport {
    let dir = tempfile::tempdir().unwrap();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut c = CallConfig::t38(
        root.join("../fixtures/tiff/libtasn1_10p.tif"),
        dir.path().join("received.tif"),
        0,
        ec,
    );
    // Paced as on a real line (and as the SIP line sends).
    if let Transport::T38 { pacing, .. } = &mut c.transport {
        *pacing = true;
    }
    c.forward = ChannelModel::with_loss(loss);
    c.backward = ChannelModel::with_loss(loss);
    c.seed = seed;
    Call::new(c).unwrap().run()
}

#[test]
fn the_end_of_each_signal_survives_ten_percent_loss() {
    let redundancy = ErrorCorrection::Redundancy(RedundancyDepth {
        indicator: 3,
        control: 3,
        image: 2,
    });
    let fec = ErrorCorrection::Fec {
        span: 3,
        entries: 3,
    };
    for (name, ec) in [("redundancy", redundancy), ("fec", fec)] {
        for seed in 1..=5 {
            let report = run(ec, seed);
            assert!(
                report.is_success() && report.receiver.pages == 10,
                "{name}, seed {seed}: {:?} after {} pages",
                report.failure(),
                report.receiver.pages
            );
            // The line really lost packets, and more went out than the sessions produced.
            assert!(report.forward.channel.lost > 0, "{:?}", report.forward);
            assert!(report.forward.channel.sent > report.forward.payloads);
        }
    }
}

/// Seeds of a 10-page ECM fax with redundancy as negotiated with Asterisk, on a line losing 5 % of packets in
/// bursts (mean 3) both ways, that failed with five copies of each signal end ("HDLC carrier not stopped":
/// one burst took all five and the five copies of the `no-signal` indicator that followed).
const BURSTY_SEEDS_LOST_WITH_FIVE_COPIES: &[u64] = &[6, 18, 29, 39, 46, 58];

#[test]
fn a_burst_no_longer_takes_every_copy_of_a_signal_end() {
    let ec = EcMode::Redundancy { depth: 3 }.to_udptl();
    let loss = Loss::bursty(0.05, 3.0);
    if let Ok(n) = std::env::var("FAXLINE_SCAN_SEEDS") {
        // Finding seeds for the list above: run with the copies set back to five.
        for seed in 1..=n.parse::<u64>().unwrap() {
            let report = run_on(ec, seed, loss);
            if !report.is_success() {
                eprintln!("seed {seed}: {:?}", report.failure());
            }
        }
        return;
    }
    for &seed in BURSTY_SEEDS_LOST_WITH_FIVE_COPIES {
        let report = run_on(ec, seed, loss);
        assert!(
            report.is_success() && report.receiver.pages == 10,
            "seed {seed}: {:?} after {} pages",
            report.failure(),
            report.receiver.pages
        );
    }
}

#[test]
fn only_indicators_and_signal_ends_are_repeated() {
    assert_eq!(IfpKind::Indicator.transmissions(), 8);
    assert_eq!(IfpKind::ControlDataEnd.transmissions(), 8);
    assert_eq!(IfpKind::ImageDataEnd.transmissions(), 8);
    assert_eq!(IfpKind::ControlData.transmissions(), 1);
    assert_eq!(IfpKind::ImageData.transmissions(), 1);
}
