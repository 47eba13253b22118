//! `FaxReport::ecm_retries`: what ECM resent over a whole call, read from spandsp's per-page counter. Two
//! simulated T.38 terminals (real spandsp, real UDPTL packets): a clean line resends nothing; a line that drops
//! image packets, with no redundancy for image data, makes the receiver ask for frames again and the sender
//! resend exactly those (the backward line is clean, so every partial page request arrives).

use std::path::PathBuf;

use faxline_t38::sim::{Call, CallConfig, ChannelModel, Loss};
use faxline_t38::udptl::{ErrorCorrection, RedundancyDepth};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/tiff")
        .join(name)
}

fn config(dir: &tempfile::TempDir, doc: &str, image_redundancy: u8) -> CallConfig {
    let mut c = CallConfig::t38(
        fixture(doc),
        dir.path().join("received.tif"),
        0,
        ErrorCorrection::Redundancy(RedundancyDepth {
            indicator: 3,
            control: 3,
            image: image_redundancy,
        }),
    );
    c.sender.ecm = true;
    c.receiver.ecm = true;
    c
}

#[test]
fn a_clean_line_resends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let report = Call::new(config(&dir, "gpl3_1p.tif", 2)).unwrap().run();
    assert!(report.is_success(), "{:?}", report.failure());
    assert!(report.sender.ecm && report.receiver.ecm);
    assert_eq!(report.sender.ecm_retries, 0);
    assert_eq!(report.receiver.ecm_retries, 0);
}

#[test]
fn lost_image_packets_are_counted_as_resent_frames_over_every_page() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(&dir, "libtasn1_10p.tif", 0);
    c.forward = ChannelModel::with_loss(Loss::Random(0.02));
    c.seed = 5;
    let report = Call::new(c).unwrap().run();
    assert!(report.is_success(), "{:?}", report.failure());
    assert_eq!(report.receiver.pages, 10);
    let lost = report.forward.udptl.lost;
    assert!(
        lost > 0,
        "the line lost no IFP for good: {:?}",
        report.forward
    );
    // Every resent frame was asked for, and every request reached the sender.
    assert!(report.sender.ecm_retries > 0, "{report:?}");
    assert_eq!(
        report.sender.ecm_retries, report.receiver.ecm_retries,
        "{report:?}"
    );
}
