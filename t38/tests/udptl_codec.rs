//! UDPTL datagram codec: the wire examples of telephony.md §3.1, typed rejection of hostile
//! input, and proptest round trips for every error-correction mode.

use faxline_t38::udptl::{
    Recovery, UdptlError, UdptlPacket, encode_fec, encode_redundancy, fec_packet_len,
    redundancy_packet_len,
};
use proptest::prelude::*;

#[test]
fn wire_examples() {
    let mut out = Vec::new();
    encode_redundancy(5, &[0x06], [], &mut out).unwrap();
    assert_eq!(out, [0x00, 0x05, 0x01, 0x06, 0x00, 0x00]);
    let p = UdptlPacket::decode(&out).unwrap();
    assert_eq!((p.seq, p.primary), (5, &[0x06][..]));
    assert_eq!(p.recovery, Recovery::Redundancy(Default::default()));

    out.clear();
    encode_redundancy(0x1234, &[0x04], [&[0x02][..], &[0x00, 0x01][..]], &mut out).unwrap();
    assert_eq!(
        out,
        [
            0x12, 0x34, 0x01, 0x04, 0x00, 0x02, 0x01, 0x02, 0x02, 0x00, 0x01
        ]
    );

    out.clear();
    encode_fec(9, &[0x06], 3, [&[0xaa][..], &[0xbb, 0xcc][..]], &mut out).unwrap();
    assert_eq!(
        out,
        [
            0x00, 0x09, 0x01, 0x06, 0x80, 0x01, 0x03, 0x02, 0x01, 0xaa, 0x02, 0xbb, 0xcc
        ]
    );
    let p = UdptlPacket::decode(&out).unwrap();
    let Recovery::Fec { span, entries } = p.recovery else {
        panic!("fec")
    };
    assert_eq!(span, 3);
    assert_eq!(
        entries.iter().collect::<Vec<_>>(),
        [&[0xaa][..], &[0xbb, 0xcc][..]]
    );

    // Two-octet length determinants from 128 on.
    out.clear();
    let big = vec![0x5a; 300];
    encode_redundancy(1, &big, [], &mut out).unwrap();
    assert_eq!(&out[2..4], &[0x81, 0x2c]);
    assert_eq!(out.len(), redundancy_packet_len(300, []));
    assert_eq!(UdptlPacket::decode(&out).unwrap().primary, &big[..]);
}

/// Found by the `udptl` fuzz target: a secondary with a two-octet length determinant for a short IFP
/// (`80 03` instead of `03`) decodes to the same packet our canonical re-encoding gives.
#[test]
fn non_canonical_length_determinant_equals_canonical() {
    let long_form = [
        0xC7, 0x39, 0x01, 0x0B, 0x00, 0x01, 0x80, 0x03, 0x0B, 0x01, 0x5C,
    ];
    let p = UdptlPacket::decode(&long_form).expect("non-canonical lengths are accepted");
    let mut out = Vec::new();
    p.encode(&mut out).expect("re-encodes");
    assert_eq!(
        out,
        [0xC7, 0x39, 0x01, 0x0B, 0x00, 0x01, 0x03, 0x0B, 0x01, 0x5C]
    );
    assert_eq!(UdptlPacket::decode(&out).expect("decodes"), p);
}

#[test]
fn hostile_input_is_a_typed_error() {
    use UdptlError::*;
    let cases: &[(&[u8], UdptlError)] = &[
        (&[], Truncated("seq-number")),
        (&[0x00], Truncated("seq-number")),
        (&[0x00, 0x01], Truncated("primary IFP")),
        (&[0x00, 0x01, 0x00, 0x00, 0x00], ZeroLength("primary IFP")),
        (
            &[0x00, 0x01, 0x05, 0x06],
            LengthPastEnd {
                what: "primary IFP",
                len: 5,
                available: 1,
            },
        ),
        (&[0x00, 0x01, 0x01, 0x06], Truncated("error-recovery")),
        (&[0x00, 0x01, 0x01, 0x06, 0x00], Truncated("secondary IFP")),
        // AST-2016-003: zero-length secondaries.
        (
            &[0x00, 0x01, 0x01, 0x06, 0x00, 0x02, 0x00, 0x00],
            ZeroLength("secondary IFP"),
        ),
        (
            &[0x00, 0x01, 0x01, 0x06, 0x00, 0x03, 0x01, 0x06],
            Truncated("secondary IFP"),
        ),
        (
            &[0x00, 0x01, 0x01, 0x06, 0x00, 0x01, 0x7f, 0x06],
            LengthPastEnd {
                what: "secondary IFP",
                len: 127,
                available: 1,
            },
        ),
        // Fragments (16K and more).
        (&[0x00, 0x01, 0xc1, 0x06], Fragmented("primary IFP")),
        (
            &[0x00, 0x01, 0x01, 0x06, 0x00, 0xc4],
            Fragmented("secondary IFP"),
        ),
        (&[0x00, 0x01, 0x81], Truncated("primary IFP")),
        (
            &[0x00, 0x01, 0x01, 0x06, 0x80, 0x02, 0x00, 0x03],
            FecSpanLength(2),
        ),
        (
            &[0x00, 0x01, 0x01, 0x06, 0x80, 0x01],
            Truncated("fec-npackets"),
        ),
        (
            &[0x00, 0x01, 0x01, 0x06, 0x80, 0x01, 0x03],
            Truncated("FEC entry"),
        ),
        (
            &[0x00, 0x01, 0x01, 0x06, 0x80, 0x01, 0x03, 0x01, 0x00],
            ZeroLength("FEC entry"),
        ),
        (
            &[0x00, 0x01, 0x01, 0x06, 0x00, 0x00, 0xff],
            TrailingBytes { extra: 1 },
        ),
    ];
    for (bytes, err) in cases {
        assert_eq!(
            UdptlPacket::decode(bytes).as_ref().err(),
            Some(err),
            "{bytes:02x?}"
        );
    }
    let mut out = vec![0xee];
    assert_eq!(encode_redundancy(1, &[], [], &mut out), Err(EmptyIfp));
    assert_eq!(
        encode_redundancy(1, &[1], [&[][..]], &mut out),
        Err(EmptyIfp)
    );
    assert_eq!(
        encode_redundancy(1, &vec![0; 16384], [], &mut out),
        Err(TooLong(16384))
    );
    assert_eq!(out, [0xee], "nothing appended on error");
}

fn ifp() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 1..130),
        prop::collection::vec(any::<u8>(), 1..700)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn redundancy_round_trip(seq: u16, primary in ifp(), secondaries in prop::collection::vec(ifp(), 0..20)) {
        let mut out = Vec::new();
        let n = encode_redundancy(seq, &primary, secondaries.iter().map(Vec::as_slice), &mut out).unwrap();
        prop_assert_eq!(n, out.len());
        prop_assert_eq!(n, redundancy_packet_len(primary.len(), secondaries.iter().map(Vec::len)));
        let p = UdptlPacket::decode(&out).unwrap();
        prop_assert_eq!(p.seq, seq);
        prop_assert_eq!(p.primary, &primary[..]);
        let Recovery::Redundancy(list) = p.recovery else { panic!("redundancy") };
        prop_assert_eq!(list.iter().collect::<Vec<_>>(), secondaries.iter().map(Vec::as_slice).collect::<Vec<_>>());
        let mut again = Vec::new();
        p.encode(&mut again).unwrap();
        prop_assert_eq!(again, out);
    }

    #[test]
    fn fec_round_trip(seq: u16, primary in ifp(), span: u8, entries in prop::collection::vec(ifp(), 0..9)) {
        let mut out = Vec::new();
        let n = encode_fec(seq, &primary, span, entries.iter().map(Vec::as_slice), &mut out).unwrap();
        prop_assert_eq!(n, fec_packet_len(primary.len(), entries.iter().map(Vec::len)));
        let p = UdptlPacket::decode(&out).unwrap();
        let Recovery::Fec { span: s, entries: list } = p.recovery else { panic!("fec") };
        prop_assert_eq!(s, span);
        prop_assert_eq!(list.iter().collect::<Vec<_>>(), entries.iter().map(Vec::as_slice).collect::<Vec<_>>());
        let mut again = Vec::new();
        p.encode(&mut again).unwrap();
        prop_assert_eq!(again, out);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..80)) {
        if let Ok(p) = UdptlPacket::decode(&bytes) {
            let mut again = Vec::new();
            p.encode(&mut again).unwrap();
            prop_assert_eq!(UdptlPacket::decode(&again).unwrap(), p);
        }
    }
}
