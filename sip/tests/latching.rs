//! Symmetric latching on real sockets (telephony.md §6.6). The far end's SDP advertises one UDPTL
//! address (a decoy socket that never sends) but the far end sends from another; our session
//! must latch to where packets come from and complete the fax. Once latched, valid UDPTL from a
//! third address is ignored: counted, never fed to the session, never answered.
//!
//! Policy (faxline_sip::media::Latch): the first valid packet latches; other sources are dropped
//! for good (only the SDP address can take the latch back, only a re-INVITE unlatches).

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use faxline_sip::media::{MediaJob, MediaRuntime, PortPool, StreamParams};
use faxline_t38::sdp::LocalT38Config;
use faxline_t38::session::{Direction, FaxOptions};

fn document() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/captures/testfax_sent.tif")
}

fn count_datagrams(socket: &UdpSocket) -> usize {
    socket.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 2048];
    std::iter::from_fn(|| socket.recv_from(&mut buf).ok()).count()
}

#[test]
fn latches_to_the_real_source_and_ignores_a_third_address() {
    let dir = tempfile::tempdir().unwrap();
    let runtime = MediaRuntime::start(1, 10);
    let pool = PortPool::new(Ipv4Addr::LOCALHOST.into(), 43000..=43099);
    let (rx_socket, rx_port) = pool.bind().unwrap();
    let (tx_socket, _) = pool.bind().unwrap();
    let ours = LocalT38Config::default();
    let params = ours.answer(&ours.offer()).unwrap();
    // What the far end's SDP advertised: a socket that never sends.
    let decoy = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let third = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let receiver_addr = SocketAddr::from((Ipv4Addr::LOCALHOST, rx_port));

    let (done_tx, done_rx) = mpsc::channel();
    let rx_done = done_tx.clone();
    runtime
        .spawn(
            MediaJob {
                direction: Direction::Receive {
                    tiff: dir.path().join("rx.tif"),
                },
                fax: FaxOptions::default(),
                remote: decoy.local_addr().unwrap(),
                stream: StreamParams::T38(params.clone()),
                label: "latch-rx".into(),
                loss: None,
                events: None,
            },
            rx_socket,
            move |o| {
                let _ = rx_done.send(("rx", o));
            },
        )
        .unwrap();
    runtime
        .spawn(
            MediaJob {
                direction: Direction::Send { tiff: document() },
                fax: FaxOptions::default(),
                remote: receiver_addr,
                stream: StreamParams::T38(params),
                label: "latch-tx".into(),
                loss: None,
                events: None,
            },
            tx_socket,
            move |o| {
                let _ = done_tx.send(("tx", o));
            },
        )
        .unwrap();

    // Once the two are talking, a third address injects valid UDPTL (v21-preamble indicators)
    // until the fax ends.
    std::thread::sleep(Duration::from_millis(500));
    let stop = Arc::new(AtomicBool::new(false));
    let injector = {
        let stop = stop.clone();
        let third = third.try_clone().unwrap();
        std::thread::spawn(move || {
            let mut sent = 0u32;
            let mut seq = 1000u16;
            while !stop.load(Ordering::Relaxed) {
                let [hi, lo] = seq.to_be_bytes();
                third
                    .send_to(&[hi, lo, 0x01, 0x06, 0x00, 0x00], receiver_addr)
                    .unwrap();
                seq = seq.wrapping_add(1);
                sent += 1;
                std::thread::sleep(Duration::from_millis(5));
            }
            sent
        })
    };

    let mut outcomes = Vec::new();
    for _ in 0..2 {
        outcomes.push(
            done_rx
                .recv_timeout(Duration::from_secs(120))
                .expect("both ends report"),
        );
    }
    stop.store(true, Ordering::Relaxed);
    let injected = injector.join().unwrap();
    runtime.shutdown();
    let rx = &outcomes.iter().find(|(who, _)| *who == "rx").unwrap().1;
    let tx = &outcomes.iter().find(|(who, _)| *who == "tx").unwrap().1;
    assert!(
        rx.report.is_success() && tx.report.is_success(),
        "{outcomes:#?}"
    );
    assert!(rx.report.pages >= 1);
    // Every injected datagram that arrived while latched was dropped.
    assert!(injected > 20, "{injected}");
    assert!(
        rx.stats.ignored >= u64::from(injected) * 9 / 10,
        "{:?} of {injected}",
        rx.stats
    );
    assert_eq!(rx.stats.malformed, 0);
    assert_eq!(rx.stats.relatched, 0, "the SDP address never sent");
    // Nothing was ever sent to the third address; the decoy only saw what went out before the
    // first packet latched us, a handful at most.
    assert_eq!(count_datagrams(&third), 0);
    let to_decoy = count_datagrams(&decoy);
    assert!(
        (to_decoy as u64) < rx.stats.sent / 10,
        "decoy {to_decoy}, sent {}",
        rx.stats.sent
    );
}
