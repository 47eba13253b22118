//! A recording call keeps every datagram the line carried or lost, and writes them as pcaps that an
//! independent reader (the pcap format: magic, one record per datagram) sees in full: what the matrix's
//! `--traces` writes for the first failure of each cell.

use std::path::PathBuf;

use faxline_t38::sdp::EcMode;
use faxline_t38::sim::{Call, CallConfig, ChannelModel, Loss};

/// Records in a classic pcap: after the 24-byte header, 16-byte record headers with the captured length.
fn pcap_records(bytes: &[u8]) -> usize {
    assert_eq!(&bytes[..4], &0xa1b2_c3d4u32.to_le_bytes());
    let (mut at, mut n) = (24, 0);
    while at < bytes.len() {
        let len = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
        at += 16 + len;
        n += 1;
    }
    assert_eq!(at, bytes.len());
    n
}

#[test]
fn a_recording_call_keeps_every_datagram_and_marks_the_lost_ones() {
    let dir = tempfile::tempdir().unwrap();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut c = CallConfig::t38(
        root.join("../fixtures/tiff/gpl3_1p.tif"),
        dir.path().join("received.tif"),
        0,
        EcMode::Redundancy { depth: 3 }.to_udptl(),
    );
    c.forward = ChannelModel::with_loss(Loss::Random(0.05));
    c.backward = ChannelModel::with_loss(Loss::Random(0.05));
    c.seed = 7;
    let mut call = Call::new(c.clone()).unwrap();
    call.record();
    let recorded = call.run();
    let capture = recorded.capture.as_ref().expect("the call was recording");
    for (packets, stats) in [
        (&capture.forward, recorded.forward.channel),
        (&capture.backward, recorded.backward.channel),
    ] {
        assert_eq!(packets.len() as u64, stats.sent);
        let lost = packets.iter().filter(|p| p.arrival_us.is_none()).count() as u64;
        assert_eq!(lost, stats.lost);
        assert!(lost > 0, "5 % loss over a whole call loses something");
        assert!(packets.windows(2).all(|w| w[0].sent_us <= w[1].sent_us));
        assert!(
            packets
                .iter()
                .all(|p| p.arrival_us.is_none_or(|a| a >= p.sent_us))
        );
    }
    let (sent, arrived) = capture.pcaps(4000);
    let bytes = |w: &faxline_t38::sim::pcap::PcapWriter| {
        let mut b = Vec::new();
        w.write_to(&mut b).unwrap();
        b
    };
    let total = recorded.forward.channel.sent + recorded.backward.channel.sent;
    let lost = recorded.forward.channel.lost + recorded.backward.channel.lost;
    assert_eq!(pcap_records(&bytes(&sent)) as u64, total);
    assert_eq!(pcap_records(&bytes(&arrived)) as u64, total - lost);

    // Same seed, same call: recording changes nothing, so a failure run again is the same failure.
    let again = Call::new(c).unwrap().run();
    assert!(again.capture.is_none());
    assert_eq!(again.forward.channel, recorded.forward.channel);
    assert_eq!(again.sender.outcome, recorded.sender.outcome);
    assert_eq!(again.line_time, recorded.line_time);
}
