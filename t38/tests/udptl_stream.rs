//! Sender → lossy line → receiver: in-order exactly-once delivery, recovery from secondaries and
//! FEC, duplicates, late packets, sequence wrap, resync, datagram sizing, and counters.

use faxline_t38::udptl::{
    ErrorCorrection, IfpKind, Receiver, ReceiverConfig, Recovery, RedundancyDepth, RxEvent, Sender,
    SenderConfig, UdptlError, UdptlPacket,
};
use proptest::prelude::*;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Ev {
    Ifp(u16, Vec<u8>, bool),
    Lost(u16, u16),
    Resync(u16, u16),
}

fn collect(out: &mut Vec<Ev>) -> impl FnMut(RxEvent<'_>) + '_ {
    move |ev| {
        out.push(match ev {
            RxEvent::Ifp {
                seq,
                ifp,
                recovered,
            } => Ev::Ifp(seq, ifp.to_vec(), recovered),
            RxEvent::Lost { first_seq, count } => Ev::Lost(first_seq, count),
            RxEvent::Resync { expected, received } => Ev::Resync(expected, received),
        })
    }
}

fn sender(ec: ErrorCorrection) -> Sender {
    Sender::new(SenderConfig {
        error_correction: ec,
        max_datagram: 1400,
    })
    .unwrap()
}

fn ifp(i: usize, len: usize) -> Vec<u8> {
    (0..len).map(|k| (i * 31 + k) as u8 | 1).collect()
}

fn build(tx: &mut Sender, ifps: &[Vec<u8>]) -> Vec<Vec<u8>> {
    ifps.iter()
        .map(|p| {
            let mut w = Vec::new();
            tx.handle_ifp(p, IfpKind::ImageData, &mut w).unwrap();
            w
        })
        .collect()
}

#[test]
fn redundancy_fills_gaps_and_counts() {
    let ifps: Vec<_> = (0..10).map(|i| ifp(i, 5 + i)).collect();
    let wire = build(
        &mut sender(ErrorCorrection::Redundancy(RedundancyDepth::uniform(2))),
        &ifps,
    );
    let mut rx = Receiver::default();
    let mut ev = Vec::new();
    for (i, w) in wire.iter().enumerate() {
        if [3, 4, 7, 8, 9].contains(&i) {
            continue; // 3,4 come back as secondaries of 5; 7,8 are lost with 9 (nothing after)
        }
        rx.handle_datagram(w, collect(&mut ev)).unwrap();
    }
    rx.handle_datagram(&wire[5], collect(&mut ev)).unwrap(); // duplicate
    rx.handle_datagram(&wire[8], collect(&mut ev)).unwrap(); // 8 carries 7 as secondary
    rx.handle_flush(collect(&mut ev));
    let expected: Vec<Ev> = (0..9)
        .map(|i| Ev::Ifp(i as u16, ifps[i].clone(), [3, 4, 7].contains(&i)))
        .collect();
    assert_eq!(ev, expected);
    let s = rx.stats();
    assert_eq!(
        (
            s.received,
            s.recovered,
            s.duplicate,
            s.lost,
            s.late,
            s.malformed
        ),
        (7, 3, 1, 0, 0, 0)
    );
}

#[test]
fn unrepairable_gap_is_reported_lost_and_late_packet_dropped() {
    let ifps: Vec<_> = (0..6).map(|i| ifp(i, 4)).collect();
    let wire = build(&mut sender(ErrorCorrection::None), &ifps);
    let mut rx = Receiver::default();
    let mut ev = Vec::new();
    for i in [0, 1, 4, 2, 5] {
        rx.handle_datagram(&wire[i], collect(&mut ev)).unwrap();
    }
    assert_eq!(
        ev,
        [
            Ev::Ifp(0, ifps[0].clone(), false),
            Ev::Ifp(1, ifps[1].clone(), false),
            Ev::Lost(2, 2),
            Ev::Ifp(4, ifps[4].clone(), false),
            Ev::Ifp(5, ifps[5].clone(), false),
        ]
    );
    let s = rx.stats();
    assert_eq!((s.lost, s.late, s.duplicate), (2, 1, 0));
}

#[test]
fn hold_waits_for_reordered_packets() {
    let ifps: Vec<_> = (0..4).map(|i| ifp(i, 4)).collect();
    let wire = build(&mut sender(ErrorCorrection::None), &ifps);
    let mut rx = Receiver::new(ReceiverConfig {
        max_hold: Some(2),
        ..Default::default()
    });
    let mut ev = Vec::new();
    for i in [0, 2, 3, 1] {
        rx.handle_datagram(&wire[i], collect(&mut ev)).unwrap();
    }
    let seqs: Vec<_> = ev
        .iter()
        .map(|e| if let Ev::Ifp(s, ..) = e { *s } else { 99 })
        .collect();
    assert_eq!(seqs, [0, 1, 2, 3]);
}

#[test]
fn fec_repairs_single_losses() {
    let ifps: Vec<_> = (0..60).map(|i| ifp(i, 20)).collect();
    let wire = build(
        &mut sender(ErrorCorrection::Fec {
            span: 3,
            entries: 3,
        }),
        &ifps,
    );
    let mut rx = Receiver::default();
    let mut ev = Vec::new();
    let dropped = [10, 20, 21, 35, 47];
    for (i, w) in wire.iter().enumerate() {
        if !dropped.contains(&i) {
            rx.handle_datagram(w, collect(&mut ev)).unwrap();
        }
    }
    rx.handle_flush(collect(&mut ev));
    let expected: Vec<Ev> = (0..60)
        .map(|i| Ev::Ifp(i as u16, ifps[i].clone(), dropped.contains(&i)))
        .collect();
    assert_eq!(ev, expected);
    assert_eq!(rx.stats().recovered, 5);
}

#[test]
fn sequence_wrap_is_seamless() {
    let ifps: Vec<_> = (0..20).map(|i| ifp(i, 3)).collect();
    let mut tx =
        sender(ErrorCorrection::Redundancy(RedundancyDepth::uniform(1))).with_initial_seq(65530);
    let wire = build(&mut tx, &ifps);
    let mut rx = Receiver::default();
    let mut ev = Vec::new();
    for (i, w) in wire.iter().enumerate() {
        if i != 6 {
            rx.handle_datagram(w, collect(&mut ev)).unwrap();
        }
    }
    let seqs: Vec<u16> = ev
        .iter()
        .map(|e| if let Ev::Ifp(s, ..) = e { *s } else { 0xdead })
        .collect();
    let expected: Vec<u16> = (0..20).map(|i| 65530u16.wrapping_add(i)).collect();
    assert_eq!(seqs, expected);
    assert_eq!(rx.next_expected(), Some(14));
}

#[test]
fn jumps_give_up_or_resync() {
    let mut rx = Receiver::default();
    let mut ev = Vec::new();
    let pkt = |seq: u16| {
        let mut w = Vec::new();
        faxline_t38::udptl::encode_redundancy(seq, &[0x02], [], &mut w).unwrap();
        w
    };
    rx.handle_datagram(&pkt(100), collect(&mut ev)).unwrap();
    rx.handle_datagram(&pkt(400), collect(&mut ev)).unwrap(); // 299 lost, beyond the window
    rx.handle_datagram(&pkt(30000), collect(&mut ev)).unwrap(); // beyond the resync threshold
    rx.handle_datagram(&pkt(30001), collect(&mut ev)).unwrap();
    rx.handle_datagram(&pkt(5), collect(&mut ev)).unwrap(); // peer restarted far behind: resync too
    assert_eq!(
        ev,
        [
            Ev::Ifp(100, vec![2], false),
            Ev::Lost(101, 299),
            Ev::Ifp(400, vec![2], false),
            Ev::Resync(401, 30000),
            Ev::Ifp(30000, vec![2], false),
            Ev::Ifp(30001, vec![2], false),
            Ev::Resync(30002, 5),
            Ev::Ifp(5, vec![2], false),
        ]
    );
    assert_eq!((rx.stats().lost, rx.stats().resyncs), (299, 2));
}

#[test]
fn malformed_datagrams_change_nothing() {
    let mut rx = Receiver::default();
    let mut ev = Vec::new();
    let bad: &[&[u8]] = &[
        &[],
        &[0, 1, 0],
        &[0, 1, 1, 6, 0, 1, 0],
        &[0, 1, 1, 6, 0x80, 1, 9, 1, 1, 1],
        &[0, 1, 0xc1],
    ];
    for b in bad {
        assert!(rx.handle_datagram(b, collect(&mut ev)).is_err());
    }
    assert_eq!(
        rx.handle_datagram(&[0, 1, 1, 6, 0x80, 1, 9, 1, 1, 1], |_| ()),
        Err(UdptlError::FecTooLarge {
            span: 9,
            entries: 1
        })
    );
    assert!(ev.is_empty());
    assert_eq!(rx.stats().malformed, 6);
    assert_eq!(rx.stats().received, 0);
    assert_eq!(rx.next_expected(), None);
}

#[test]
fn sender_never_truncates_and_reduces_redundancy_first() {
    let cfg = SenderConfig {
        error_correction: ErrorCorrection::Redundancy(RedundancyDepth::uniform(3)),
        max_datagram: 100,
    };
    let mut tx = Sender::new(cfg).unwrap();
    let mut w = Vec::new();
    for i in 0..3 {
        w.clear();
        tx.handle_ifp(&ifp(i, 30), IfpKind::ImageData, &mut w)
            .unwrap();
    }
    assert_eq!(tx.packet_len(30), 2 + 31 + 1 + 1 + 3 * 31);
    w.clear();
    let sent = tx
        .handle_ifp(&ifp(3, 30), IfpKind::ImageData, &mut w)
        .unwrap();
    assert!(
        sent.reduced && sent.ec_items == 2 && w.len() <= 100,
        "{sent:?}"
    );
    assert_eq!(sent.len, w.len());
    let Recovery::Redundancy(l) = UdptlPacket::decode(&w).unwrap().recovery else {
        panic!()
    };
    assert_eq!(l.len(), 2);
    // An IFP that does not fit alone is an error, consumes no sequence number, appends nothing.
    let next = tx.next_seq();
    w.clear();
    assert_eq!(
        tx.handle_ifp(&[1; 97], IfpKind::ImageData, &mut w),
        Err(UdptlError::IfpTooLarge {
            ifp_len: 97,
            needed: 102,
            max_datagram: 100
        })
    );
    assert!(w.is_empty());
    assert_eq!(tx.next_seq(), next);
    assert_eq!(tx.min_packet_len(95), 100);
    assert!(tx.handle_ifp(&[1; 95], IfpKind::ImageData, &mut w).is_ok());
    assert_eq!(
        tx.handle_ifp(&[], IfpKind::Indicator, &mut w),
        Err(UdptlError::EmptyIfp)
    );
}

#[test]
fn indicators_are_repeated_longer_than_image_data() {
    let depth = RedundancyDepth {
        indicator: 4,
        control: 2,
        image: 1,
    };
    let mut tx = sender(ErrorCorrection::Redundancy(depth));
    let mut counts = Vec::new();
    for (i, kind) in [
        IfpKind::Indicator,
        IfpKind::ImageData,
        IfpKind::ImageData,
        IfpKind::ImageData,
        IfpKind::ImageData,
        IfpKind::ImageData,
    ]
    .into_iter()
    .enumerate()
    {
        let mut w = Vec::new();
        counts.push(tx.handle_ifp(&ifp(i, 10), kind, &mut w).unwrap().ec_items);
    }
    // Packet n carries back to the indicator at 0 while n <= 4, then only one image secondary.
    assert_eq!(counts, [0, 1, 2, 3, 4, 1]);
}

#[test]
fn fec_winds_up_like_asterisk() {
    let mut tx = sender(ErrorCorrection::Fec {
        span: 3,
        entries: 3,
    });
    let mut geo = Vec::new();
    for i in 0..12 {
        let mut w = Vec::new();
        tx.handle_ifp(&ifp(i, 8), IfpKind::ImageData, &mut w)
            .unwrap();
        let Recovery::Fec { span, entries } = UdptlPacket::decode(&w).unwrap().recovery else {
            panic!()
        };
        geo.push((span, entries.len()));
    }
    assert_eq!(
        geo,
        [
            (0, 0),
            (0, 0),
            (0, 0),
            (3, 1),
            (3, 1),
            (3, 1),
            (3, 2),
            (3, 2),
            (3, 2),
            (3, 3),
            (3, 3),
            (3, 3)
        ]
    );
    assert!(
        Sender::new(SenderConfig {
            error_correction: ErrorCorrection::Fec {
                span: 9,
                entries: 1
            },
            max_datagram: 400
        })
        .is_err()
    );
}

fn mode() -> impl Strategy<Value = ErrorCorrection> {
    prop_oneof![
        Just(ErrorCorrection::None),
        (0u8..5, 0u8..5, 0u8..5).prop_map(|(a, b, c)| ErrorCorrection::Redundancy(
            RedundancyDepth {
                indicator: a,
                control: b,
                image: c
            }
        )),
        (1u8..=4, 1u8..=4).prop_map(|(span, entries)| ErrorCorrection::Fec { span, entries }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever the line does (drops, swaps, duplicates), delivery is in order and exactly once,
    /// every delivered IFP is the one sent with that number (FEC repairs may add zero padding),
    /// and delivered + lost covers the stream after the first received packet.
    #[test]
    fn line_impairments_keep_the_invariants(
        ec in mode(),
        start: u16,
        lens in prop::collection::vec(1usize..120, 1..150),
        line in prop::collection::vec(0u8..20, 150),
        hold in prop::option::of(0u16..6),
    ) {
        let ifps: Vec<Vec<u8>> = lens.iter().enumerate().map(|(i, &l)| ifp(i, l)).collect();
        let mut tx = sender(ec).with_initial_seq(start);
        let wire = build(&mut tx, &ifps);
        // Line: 0-2 drop, 3 duplicate, 4 swap with the next, else deliver.
        let mut order: Vec<usize> = Vec::new();
        let mut i = 0;
        while i < wire.len() {
            match line[i] {
                0..=2 => {}
                3 => { order.push(i); order.push(i); }
                4 if i + 1 < wire.len() => { order.push(i + 1); order.push(i); i += 1; }
                _ => order.push(i),
            }
            i += 1;
        }
        let mut rx = Receiver::new(ReceiverConfig { max_hold: hold, ..Default::default() });
        let mut ev = Vec::new();
        for &k in &order {
            rx.handle_datagram(&wire[k], collect(&mut ev)).unwrap();
        }
        rx.handle_flush(collect(&mut ev));
        let Some(&first) = order.first() else { return Ok(()); };
        let mut expect = first;
        for e in &ev {
            match e {
                Ev::Ifp(seq, data, _) => {
                    let idx = usize::from(seq.wrapping_sub(start));
                    prop_assert_eq!(idx, expect);
                    let orig = &ifps[idx];
                    prop_assert!(data.len() >= orig.len() && data[..orig.len()] == orig[..] && data[orig.len()..].iter().all(|&b| b == 0));
                    expect += 1;
                }
                Ev::Lost(s, n) => {
                    prop_assert_eq!(usize::from(s.wrapping_sub(start)), expect);
                    expect += usize::from(*n);
                }
                Ev::Resync(..) => prop_assert!(false, "no resync expected"),
            }
        }
        let last = *order.iter().max().unwrap();
        prop_assert_eq!(expect, last + 1);
        let s = rx.stats();
        prop_assert_eq!(s.received as usize, order.len());
        if let ErrorCorrection::Redundancy(d) = ec {
            // With a uniform depth and drops only, a run of at most `depth` drops before a
            // received packet is always repaired.
            if d.indicator == d.image && d.control == d.image && !line.contains(&4) {
                let mut run = 0;
                let mut repairable = true;
                for k in first..=last {
                    if order.contains(&k) { repairable &= run <= usize::from(d.image); run = 0; } else { run += 1; }
                }
                if repairable { prop_assert_eq!(s.lost, 0); }
            }
        }
    }
}

/// Real IFPs of different lengths in one FEC group: the repaired one arrives padded to the longest
/// member, and `strip_fec_padding` gives back exactly the IFP that was sent.
#[test]
fn fec_repaired_ifp_is_restored_exactly_after_stripping() {
    use faxline_t38::ifp::{DataType, FieldType, IfpPacket, Indicator, strip_fec_padding};
    for version in [0u8, 3] {
        let ifps: Vec<Vec<u8>> = (0..12)
            .map(|i| {
                let p = if i % 3 == 0 {
                    IfpPacket::indicator(Indicator::V21Preamble)
                } else {
                    IfpPacket::data(
                        DataType::V17_14400,
                        vec![(FieldType::T4NonEcmData, vec![0x5a; 1 + 9 * i])],
                    )
                };
                p.to_bytes(version).unwrap()
            })
            .collect();
        let wire = build(
            &mut sender(ErrorCorrection::Fec {
                span: 2,
                entries: 2,
            }),
            &ifps,
        );
        let mut rx = Receiver::default();
        let mut ev = Vec::new();
        // 3 (an indicator) shares its group with 5 (a longer data IFP): repaired with padding.
        let dropped = [3, 8];
        for (i, w) in wire.iter().enumerate() {
            if !dropped.contains(&i) {
                rx.handle_datagram(w, collect(&mut ev)).unwrap();
            }
        }
        rx.handle_flush(collect(&mut ev));
        assert_eq!(ev.len(), ifps.len());
        let mut padded_seen = 0;
        for e in &ev {
            let Ev::Ifp(seq, data, recovered) = e else {
                panic!("unexpected {e:?}");
            };
            let sent = &ifps[usize::from(*seq)];
            if *recovered && data.len() > sent.len() {
                padded_seen += 1;
            }
            assert_eq!(strip_fec_padding(data, version), &sent[..], "seq {seq}");
        }
        assert!(padded_seen > 0, "the test must exercise padding");
    }
}
