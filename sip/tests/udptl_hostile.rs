//! A hostile UDPTL stream at a receiving T.38 session on a real socket (the AST-2016-003 class:
//! zero-length secondaries, lengths beyond the datagram, fragments, garbage, empty datagrams).
//! The session must survive, count the junk, and still end cleanly with a report.

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::mpsc;
use std::time::Duration;

use faxline_sip::media::{MediaJob, MediaRuntime, PortPool, StreamParams};
use faxline_t38::sdp::LocalT38Config;
use faxline_t38::session::{Direction, FaxOptions};

#[test]
fn hostile_udptl_stream_does_not_break_the_session() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let dir = tempfile::tempdir().unwrap();
    let runtime = MediaRuntime::start(1, 5);
    let pool = PortPool::new(Ipv4Addr::LOCALHOST.into(), 42000..=42099);
    let (socket, port) = pool.bind().unwrap();
    let attacker = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let (done_tx, done_rx) = mpsc::channel();
    let job = MediaJob {
        direction: Direction::Receive {
            tiff: dir.path().join("rx.tif"),
        },
        fax: FaxOptions::default(),
        // The SDP said somewhere else: latching must follow the real source.
        remote: SocketAddr::from((Ipv4Addr::LOCALHOST, 9)),
        stream: StreamParams::T38({
            let ours = LocalT38Config::default();
            ours.answer(&ours.offer()).unwrap()
        }),
        label: "hostile".into(),
        loss: None,
        events: None,
    };
    let session = runtime
        .spawn(job, socket, move |o| {
            let _ = done_tx.send(o);
        })
        .unwrap();
    let target = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let hostile: Vec<Vec<u8>> = vec![
        vec![0x00, 0x01, 0x01, 0x00, 0x00, 0x02, 0x00, 0x00], // two zero-length secondaries
        vec![0x00, 0x02, 0x7f, 0x01],                         // primary longer than the datagram
        vec![0x00, 0x03, 0xc1, 0x00, 0x00],                   // fragmented length (≥16K)
        vec![],                                               // empty datagram
        vec![0xff; 1400],                                     // garbage
        vec![0x00, 0x04, 0x01, 0x00, 0x80, 0x01, 0x01, 0x05, 0x00], // FEC header without entries
        vec![0x00, 0x05, 0x01, 0x06, 0x00, 0x00], // a valid v21-preamble indicator after all that
    ];
    for _ in 0..20 {
        for d in &hostile {
            attacker.send_to(d, target).unwrap();
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    // Let the session tick on for a while after the junk, then end it.
    std::thread::sleep(Duration::from_millis(500));
    session.stop();
    let outcome = done_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("a report after stop");
    assert!(outcome.stats.malformed >= 20, "{:?}", outcome.stats);
    assert!(outcome.stats.received >= 100, "{:?}", outcome.stats);
    assert!(!outcome.report.is_success(), "no pages arrived");
    runtime.shutdown();
}
