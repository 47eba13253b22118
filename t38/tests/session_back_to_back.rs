//! Two spandsp T.38 terminals joined directly (no UDPTL, no loss), in simulated time.

use std::path::PathBuf;

use faxline_t38::session::{
    Direction, FaxOptions, SessionEvent, T30Error, T38Params, T38Session, T38SessionConfig,
};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(name)
}

fn config(direction: Direction, ecm: bool, ident: &str) -> T38SessionConfig {
    T38SessionConfig {
        direction,
        fax: FaxOptions {
            local_ident: ident.into(),
            ecm,
            ..FaxOptions::default()
        },
        t38: T38Params {
            version: 3,
            ..T38Params::default()
        },
        pacing: false,
        label: format!("b2b-{ident}"),
    }
}

/// Ticks both ends 20 ms at a time, delivering each side's IFPs to the other after the tick.
fn run(
    tx: &mut T38Session,
    rx: &mut T38Session,
    max_ticks: u32,
) -> (Vec<SessionEvent>, Vec<SessionEvent>) {
    let (mut seq_a, mut seq_b) = (0u16, 0u16);
    let (mut ev_tx, mut ev_rx) = (Vec::new(), Vec::new());
    for _ in 0..max_ticks {
        tx.handle_elapsed(160);
        rx.handle_elapsed(160);
        while let Some(p) = tx.poll_transmit() {
            rx.handle_ifp(seq_a, &p.data)
                .expect("spandsp accepts its own IFPs");
            seq_a = seq_a.wrapping_add(1);
        }
        while let Some(p) = rx.poll_transmit() {
            tx.handle_ifp(seq_b, &p.data)
                .expect("spandsp accepts its own IFPs");
            seq_b = seq_b.wrapping_add(1);
        }
        ev_tx.extend(std::iter::from_fn(|| tx.poll_event()));
        ev_rx.extend(std::iter::from_fn(|| rx.poll_event()));
        if tx.is_finished() && rx.is_finished() {
            break;
        }
    }
    (ev_tx, ev_rx)
}

#[test]
fn two_pages_ecm_and_non_ecm() {
    for ecm in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("rx.tif");
        let mut tx = T38Session::new(config(
            Direction::Send {
                tiff: fixture("captures/testfax_sent.tif"),
            },
            ecm,
            "SENDER 1234",
        ))
        .unwrap();
        let mut rx = T38Session::new(config(
            Direction::Receive { tiff: out.clone() },
            ecm,
            "RECEIVER 5678",
        ))
        .unwrap();
        let (ev_tx, ev_rx) = run(&mut tx, &mut rx, 60 * 50 * 5);
        let (rt, rr) = (
            tx.report().expect("sender finished"),
            rx.report().expect("receiver finished"),
        );
        assert_eq!(rt.outcome, Ok(()), "ecm={ecm}");
        assert_eq!(rr.outcome, Ok(()), "ecm={ecm}");
        assert_eq!((rt.pages, rr.pages), (2, 2));
        assert_eq!(rt.ecm, ecm);
        assert_eq!(rr.remote_ident.as_deref(), Some("SENDER 1234"));
        assert_eq!(rt.remote_ident.as_deref(), Some("RECEIVER 5678"));
        assert_eq!(rt.bit_rate, 14400);
        assert_eq!((rr.resolution.x, rr.resolution.y), (8040, 7700));
        for ev in [&ev_tx, &ev_rx] {
            assert!(ev.contains(&SessionEvent::PageStarted(1)), "{ev:?}");
            assert!(
                ev.iter()
                    .any(|e| matches!(e, SessionEvent::PageDone { page: 2, .. })),
                "{ev:?}"
            );
            assert!(
                matches!(ev.last(), Some(SessionEvent::Completed(_))),
                "{ev:?}"
            );
        }
        // The received file was published under its final name (not left as .part) and has 2 pages.
        let meta = std::fs::metadata(&out).unwrap();
        assert!(meta.len() > 10_000);
        assert!(!dir.path().join("rx.tif.part").exists());
    }
}

#[test]
fn missing_document_is_a_typed_error() {
    let err = T38Session::new(config(
        Direction::Send {
            tiff: PathBuf::from("/nonexistent/doc.tif"),
        },
        true,
        "X",
    ));
    assert!(matches!(
        err,
        Err(faxline_t38::session::SessionError::Document(..))
    ));
}

#[test]
fn silent_peer_times_out_with_a_t30_code() {
    let dir = tempfile::tempdir().unwrap();
    let mut tx = T38Session::new(config(
        Direction::Send {
            tiff: fixture("captures/testfax_sent.tif"),
        },
        true,
        "LONELY",
    ))
    .unwrap();
    // Nobody answers: T0 (60 s) expires in simulated time.
    let mut ticks = 0;
    while !tx.is_finished() && ticks < 50 * 120 {
        tx.handle_elapsed(160);
        while tx.poll_transmit().is_some() {}
        ticks += 1;
    }
    let report = tx.report().expect("gave up");
    let err = report.outcome.clone().unwrap_err();
    assert_eq!(err.kind, T30Error::T0Expired, "{err}");
    assert!(!err.text.is_empty());
    drop(dir);
}

#[test]
fn hangup_mid_call_reports_call_dropped_and_removes_partial_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rx.tif");
    // Paced, so that after 15 s the first page is still on its way.
    let paced = |c: T38SessionConfig| T38SessionConfig { pacing: true, ..c };
    let mut tx = T38Session::new(paced(config(
        Direction::Send {
            tiff: fixture("captures/testfax_sent.tif"),
        },
        false,
        "A",
    )))
    .unwrap();
    let mut rx = T38Session::new(paced(config(
        Direction::Receive { tiff: out.clone() },
        false,
        "B",
    )))
    .unwrap();
    let (_, ev_rx) = run(&mut tx, &mut rx, 50 * 15);
    assert!(ev_rx.contains(&SessionEvent::PageStarted(1)), "{ev_rx:?}");
    assert!(!rx.is_finished());
    rx.handle_hangup();
    let r = rx.report().expect("terminate produces a report");
    assert_eq!(r.outcome.clone().unwrap_err().kind, T30Error::CallDropped);
    assert!(!out.exists());
    assert!(!dir.path().join("rx.tif.part").exists());
}

#[test]
fn sessions_are_send() {
    fn is_send<T: Send>() {}
    is_send::<T38Session>();
    is_send::<faxline_t38::session::AudioSession>();
}
