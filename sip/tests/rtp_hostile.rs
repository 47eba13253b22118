//! A hostile RTP stream at a receiving G.711 audio fax session on a real socket: truncated
//! headers, wrong versions, broken padding, CSRC counts beyond the datagram, foreign payload
//! types, empty payloads, wild sequence jumps. The session must survive, count the junk, keep
//! its own 20 ms stream going, and end cleanly with a report.

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::mpsc;
use std::time::Duration;

use faxline_sip::media::{MediaJob, MediaRuntime, PortPool, StreamParams};
use faxline_sip::rtp::RtpSender;
use faxline_t38::session::{Direction, FaxOptions};

#[test]
fn hostile_rtp_stream_does_not_break_the_audio_session() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = MediaRuntime::start(1, 5);
    let pool = PortPool::new(Ipv4Addr::LOCALHOST.into(), 44000..=44099);
    let (socket, port) = pool.bind().unwrap();
    let attacker = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    attacker
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let (done_tx, done_rx) = mpsc::channel();
    let session = runtime
        .spawn(
            MediaJob {
                direction: Direction::Receive {
                    tiff: dir.path().join("rx.tif"),
                },
                fax: FaxOptions::default(),
                // The SDP said somewhere else: latching must follow the real source.
                remote: SocketAddr::from((Ipv4Addr::LOCALHOST, 9)),
                stream: StreamParams::Audio { payload_type: 0 },
                label: "hostile-rtp".into(),
                loss: None,
                events: None,
            },
            socket,
            move |o| {
                let _ = done_tx.send(o);
            },
        )
        .unwrap();
    let target = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let junk: Vec<Vec<u8>> = vec![
        vec![],                                             // empty datagram
        vec![0x80, 0x00, 0x00],                             // truncated header
        [&[0x40u8, 0x00][..], &[0u8; 170][..]].concat(),    // version 1
        vec![0x8f, 0x00, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1],     // 15 CSRCs announced, none there
        vec![0xa0, 0x00, 0, 2, 0, 0, 0, 1, 0, 0, 0, 1, 99], // padding longer than the payload
        vec![
            0x90, 0x00, 0, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0xbe, 0xde, 0xff, 0xff,
        ], // extension overrun
        vec![0x80, 0x00, 0, 4, 0, 0, 0, 1, 0, 0, 0, 1],     // no payload
        [
            &[0x80u8, 13, 0, 5, 0, 0, 0, 1, 0, 0, 0, 1][..],
            &[0u8; 1][..],
        ]
        .concat(), // comfort noise
        vec![0xff; 1400],                                   // garbage
    ];
    // Junk interleaved with a valid µ-law stream whose sequence numbers jump wildly.
    let mut valid = RtpSender::new(0, 0x1234_5678, 0, 0);
    let mut out = Vec::new();
    for i in 0..20u16 {
        for d in &junk {
            attacker.send_to(d, target).unwrap();
        }
        if i == 10 {
            valid = RtpSender::new(0, 0x1234_5678, 40_000, 0);
        }
        valid.packetize(&[0xff; 160], &mut out);
        attacker.send_to(&out, target).unwrap();
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(500));
    // Latched to the attacker's (valid) source: our continuous stream goes there.
    let mut buf = [0u8; 2048];
    let (n, _) = attacker.recv_from(&mut buf).expect("our RTP stream");
    assert_eq!(n, 12 + 160);
    assert_eq!(buf[0] >> 6, 2);
    session.stop();
    let outcome = done_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("a report after stop");
    assert!(outcome.stats.malformed >= 20 * 8, "{:?}", outcome.stats);
    assert!(outcome.stats.received >= 20 * 10, "{:?}", outcome.stats);
    assert!(outcome.stats.sent > 20, "{:?}", outcome.stats);
    assert!(!outcome.report.is_success(), "no pages arrived");
    runtime.shutdown();
}
