//! Real vectors: every UDPTL datagram Asterisk 20 sent in the recorded T.38 calls
//! (fixtures/t38/*.udptl.txt, extracted from fixtures/captures/*.pcap by fixtures/t38/extract.sh)
//! decodes, re-encodes byte-identically, carries IFPs that decode under the negotiated version
//! (0: Asterisk's res_fax terminal) and re-encode identically too, and a receiver fed each
//! direction delivers every IFP in order with nothing lost.

use std::collections::BTreeMap;
use std::path::PathBuf;

use faxline_t38::ifp::{IfpPacket, TypeOfMsg};
use faxline_t38::udptl::{Receiver, Recovery, RxEvent, UdptlPacket};

struct Vector {
    frame: u32,
    src: u16,
    dst: u16,
    version: u8,
    payload: Vec<u8>,
}

fn vectors() -> BTreeMap<String, Vec<Vector>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/t38");
    let mut all = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).expect("fixtures/t38 exists") {
        let path = entry.expect("dir entry").path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".udptl.txt") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("readable vector file");
        let packets: Vec<Vector> = text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                assert_eq!(f.len(), 5, "{name}: bad line {l}");
                Vector {
                    frame: f[0].parse().unwrap(),
                    src: f[1].parse().unwrap(),
                    dst: f[2].parse().unwrap(),
                    version: f[3].parse().unwrap(),
                    payload: hex::decode(f[4]).unwrap(),
                }
            })
            .collect();
        all.insert(name, packets);
    }
    assert_eq!(
        all.len(),
        3,
        "expected the three recorded calls in {}",
        dir.display()
    );
    all
}

#[test]
fn every_recorded_packet_round_trips() {
    for (name, packets) in vectors() {
        assert!(
            packets.len() > 400,
            "{name}: only {} packets",
            packets.len()
        );
        let mut saw_secondaries = false;
        let mut saw_data = false;
        for v in &packets {
            let ctx = format!("{name} frame {}", v.frame);
            let pkt = UdptlPacket::decode(&v.payload).unwrap_or_else(|e| panic!("{ctx}: {e}"));
            let mut again = Vec::new();
            pkt.encode(&mut again)
                .unwrap_or_else(|e| panic!("{ctx}: {e}"));
            assert_eq!(again, v.payload, "{ctx}: UDPTL re-encoding differs");
            assert_eq!(
                v.version, 0,
                "{ctx}: Asterisk's res_fax negotiates version 0"
            );
            let Recovery::Redundancy(secondaries) = pkt.recovery else {
                panic!("{ctx}: the calls negotiated t38UDPRedundancy")
            };
            saw_secondaries |= !secondaries.is_empty();
            for ifp in std::iter::once(pkt.primary).chain(secondaries.iter()) {
                let decoded = IfpPacket::decode(ifp, v.version)
                    .unwrap_or_else(|e| panic!("{ctx}: IFP {ifp:02x?}: {e}"));
                saw_data |=
                    matches!(decoded.type_of_msg, TypeOfMsg::Data(_)) && !decoded.fields.is_empty();
                assert_eq!(
                    decoded.to_bytes(v.version).unwrap(),
                    ifp,
                    "{ctx}: IFP re-encoding differs"
                );
            }
        }
        assert!(
            saw_secondaries && saw_data,
            "{name}: expected redundancy and data packets"
        );
    }
}

#[test]
fn receiver_delivers_each_direction_in_order() {
    for (name, packets) in vectors() {
        let mut directions: BTreeMap<(u16, u16), Vec<&Vector>> = BTreeMap::new();
        for v in &packets {
            directions.entry((v.src, v.dst)).or_default().push(v);
        }
        assert_eq!(directions.len(), 2, "{name}: two directions");
        for ((src, dst), dir) in directions {
            let mut rx = Receiver::default();
            let mut seqs = Vec::new();
            for v in &dir {
                rx.handle_datagram(&v.payload, |ev| match ev {
                    RxEvent::Ifp { seq, recovered, .. } => {
                        assert!(!recovered, "{name}: loopback capture lost nothing");
                        seqs.push(seq);
                    }
                    other => panic!("{name} {src}->{dst}: unexpected {other:?}"),
                })
                .unwrap();
            }
            rx.handle_flush(|ev| panic!("{name}: nothing should be held, got {ev:?}"));
            let first = seqs[0];
            let expected: Vec<u16> = (0..seqs.len())
                .map(|i| first.wrapping_add(i as u16))
                .collect();
            assert_eq!(
                seqs, expected,
                "{name} {src}->{dst}: in order, exactly once"
            );
            let stats = rx.stats();
            assert_eq!(stats.received as usize, dir.len());
            assert_eq!((stats.lost, stats.malformed, stats.recovered), (0, 0, 0));
        }
    }
}
