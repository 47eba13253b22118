//! The packets that end a signal (and the indicators) are sent five times even with UDPTL error correction,
//! because no later packet of their burst carries them as redundancy: without that, a 10-page fax over a line
//! losing 10 % of packets in both directions failed 16 times in 50 on the simulator. Here: every seed of a
//! 10-page ECM fax with redundancy, and with FEC, gets through such a line.

use std::path::PathBuf;

use faxline_t38::sim::{Call, CallConfig, ChannelModel, Loss, Transport};
use faxline_t38::udptl::{ErrorCorrection, IfpKind, RedundancyDepth};

fn run(ec: ErrorCorrection, seed: u64) -> faxline_t38::sim::CallReport {
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
    c.forward = ChannelModel::with_loss(Loss::Random(0.10));
    c.backward = ChannelModel::with_loss(Loss::Random(0.10));
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

#[test]
fn only_indicators_and_signal_ends_are_repeated() {
    assert_eq!(IfpKind::Indicator.transmissions(), 5);
    assert_eq!(IfpKind::ControlDataEnd.transmissions(), 5);
    assert_eq!(IfpKind::ImageDataEnd.transmissions(), 5);
    assert_eq!(IfpKind::ControlData.transmissions(), 1);
    assert_eq!(IfpKind::ImageData.transmissions(), 1);
}
