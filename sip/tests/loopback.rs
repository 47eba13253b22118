//! The loopback line end to end: two SIP user agents on 127.0.0.1 (real SIP over UDP through
//! rsipstack), a T.38 re-INVITE from the answering side, real UDPTL datagrams between two spandsp
//! terminals, time compressed ×10. The received TIFF is checked with libtiff's `tiffinfo`.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use faxline_sip::call::{EndReason, FaxMedia};
use faxline_sip::loopback::{LoopbackOptions, send_fax};
use faxline_t38::sim::{ChannelModel, Loss};

fn document() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/captures/testfax_sent.tif")
}

fn options(dir: &tempfile::TempDir, ports: std::ops::RangeInclusive<u16>) -> LoopbackOptions {
    let mut o = LoopbackOptions::new(dir.path().to_path_buf());
    o.speed = 10;
    o.udptl_ports = ports;
    o.timeout = Duration::from_secs(120);
    o
}

fn pages_in(tiff: &std::path::Path) -> usize {
    let out = Command::new("tiffinfo")
        .arg(tiff)
        .output()
        .expect("tiffinfo (libtiff-tools)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .matches("TIFF Directory at offset")
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_fax_over_real_sip_and_udptl() {
    let dir = tempfile::tempdir().unwrap();
    let report = send_fax(&document(), "100", options(&dir, 41000..=41099), |_| {})
        .await
        .unwrap();
    assert!(report.is_success(), "{report:#?}");
    assert_eq!(report.sender.pages, report.receiver.pages);
    assert!(report.receiver.pages >= 1);
    assert_eq!(
        pages_in(&report.received_tiff),
        report.receiver.pages as usize
    );
    // The caller ran its fax in audio (CNG) from the answer until the switch to T.38.
    assert!(
        matches!(
            report.calls.0.media.as_slice(),
            [FaxMedia::Audio { .. }, FaxMedia::T38 { .. }]
        ),
        "{:?}",
        report.calls.0
    );
    // The answering side ran its fax in audio (CED, DIS over RTP) until its re-INVITE switched
    // the call to T.38, where a fresh session received the fax.
    assert!(
        matches!(
            report.calls.1.media.as_slice(),
            [FaxMedia::Audio { .. }, FaxMedia::T38 { .. }]
        ),
        "{:?}",
        report.calls.1
    );
    // Whichever end reaches phase E first hangs up; the other sees the BYE.
    let ends = [&report.calls.0.end, &report.calls.1.end];
    assert!(
        ends.contains(&&EndReason::Completed { success: true }),
        "{ends:?}"
    );
    assert!(
        ends.iter().all(|e| matches!(
            e,
            EndReason::Completed { success: true } | EndReason::PeerHangup
        )),
        "{ends:?}"
    );
    assert!(
        report.media.0.sent > 50 && report.media.1.received > 50,
        "{:?}",
        report.media
    );
    assert_eq!(report.media.1.malformed, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_fax_survives_random_loss_with_redundancy() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = options(&dir, 41100..=41199);
    o.loss = Some((ChannelModel::with_loss(Loss::Random(0.05)), 7));
    let report = send_fax(&document(), "100", o, |_| {}).await.unwrap();
    assert!(report.is_success(), "{report:#?}");
    let (tx, rx) = report.media;
    assert!(
        tx.channel_lost > 0 && rx.channel_lost > 0,
        "loss in both directions: {:?}",
        report.media
    );
    // Each end rebuilt IFPs of packets the other end's channel dropped (one primary per packet, so never
    // more than were dropped).
    assert!(
        rx.recovered > 0 && rx.recovered <= tx.channel_lost,
        "{:?}",
        report.media
    );
    assert!(
        tx.recovered > 0 && tx.recovered <= rx.channel_lost,
        "{:?}",
        report.media
    );
    assert_eq!(
        pages_in(&report.received_tiff),
        report.receiver.pages as usize
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_fax_survives_one_percent_loss_in_both_directions() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = options(&dir, 41400..=41499);
    // The simulator's channel model in front of both ends' sockets, independent seeds.
    o.loss = Some((ChannelModel::with_loss(Loss::Random(0.01)), 11));
    let report = send_fax(&document(), "100", o, |_| {}).await.unwrap();
    assert!(report.is_success(), "{report:#?}");
    assert_eq!(
        pages_in(&report.received_tiff),
        report.receiver.pages as usize
    );
    let (tx, rx) = report.media;
    // The receiver sends only ~60 datagrams a call, so at 1 % its direction may lose none; the
    // 5 % test checks that both directions lose. Here: losses happened and were repaired.
    assert!(tx.channel_lost + rx.channel_lost > 0, "{:?}", report.media);
    assert!(
        matches!(
            report.calls.0.media.as_slice(),
            [FaxMedia::Audio { .. }, FaxMedia::T38 { params, .. }]
                if params.ec != faxline_t38::sdp::EcMode::None
        ),
        "{:?}",
        report.calls.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t38_refused_by_the_answerer_falls_back_to_g711_audio_over_rtp() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = options(&dir, 41300..=41399);
    o.answer_t38 = false;
    let report = send_fax(&document(), "100", o, |_| {}).await.unwrap();
    assert!(report.is_success(), "{report:#?}");
    assert_eq!(
        pages_in(&report.received_tiff),
        report.receiver.pages as usize
    );
    // The caller's T.38 re-INVITE was refused and it fell back; the answerer never used T.38.
    assert!(
        matches!(
            report.calls.0.media.as_slice(),
            [FaxMedia::Audio { payload: 0, .. }]
        ),
        "{:?}",
        report.calls.0
    );
    assert!(
        matches!(report.calls.1.media.as_slice(), [FaxMedia::Audio { .. }]),
        "{:?}",
        report.calls.1
    );
    // A continuous 20 ms RTP stream both ways, nothing lost on loopback, nothing junk.
    let (tx, rx) = report.media;
    assert!(tx.sent > 500 && rx.received > 500, "{:?}", report.media);
    assert_eq!(
        (tx.malformed, rx.malformed, tx.ignored, rx.ignored),
        (0, 0, 0, 0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audio_fallback_in_a_law() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = options(&dir, 41500..=41599);
    o.answer_t38 = false;
    o.audio_payload = 8;
    let report = send_fax(&document(), "100", o, |_| {}).await.unwrap();
    assert!(report.is_success(), "{report:#?}");
    for record in [&report.calls.0, &report.calls.1] {
        assert!(
            matches!(
                record.media.as_slice(),
                [FaxMedia::Audio { payload: 8, .. }]
            ),
            "{record:?}"
        );
    }
}

#[tokio::test]
async fn unknown_document_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = send_fax(
        &dir.path().join("missing.tif"),
        "100",
        options(&dir, 41200..=41210),
        |_| {},
    )
    .await;
    assert!(matches!(
        err,
        Err(faxline_sip::loopback::LoopbackError::NoDocument(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn g711_audio_fax_with_ecm_survives_light_packet_loss() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = options(&dir, 41600..=41699);
    o.answer_t38 = false;
    // Lost RTP packets are played as silence; the modem loses those 20 ms and ECM resends the
    // frames they carried. G.711 fax stays fragile: a packet lost during the training check
    // (TCF) fails the call, because spandsp's receiver stays silent after a failed training and
    // then takes the sender's repeated DCS as unexpected (t30.c, state F_TCF). With this seed
    // the losses fall outside TCF; 0.5 % loss failed 2 of 3 seeds that way. That is what T.38
    // with redundancy is for (the 1 % and 5 % tests above).
    o.loss = Some((ChannelModel::with_loss(Loss::Random(0.002)), 5));
    let report = send_fax(&document(), "100", o, |_| {}).await.unwrap();
    let (tx, rx) = report.media;
    assert!(report.is_success(), "{report:#?}");
    assert!(tx.channel_lost + rx.channel_lost > 0, "{:?}", report.media);
    assert!(
        matches!(report.calls.1.media.as_slice(), [FaxMedia::Audio { .. }]),
        "{:?}",
        report.calls.1
    );
    assert_eq!(
        pages_in(&report.received_tiff),
        report.receiver.pages as usize
    );
}
