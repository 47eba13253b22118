//! IFP codec: the bit layouts of telephony.md §4.3 (spandsp's encoding), typed errors for every
//! malformed input, and proptest round trips under both syntaxes.

use faxline_t38::ifp::{DataField, DataType, FieldType, IfpError, IfpPacket, Indicator, TypeOfMsg};
use proptest::prelude::*;

fn enc(p: &IfpPacket, v: u8) -> Vec<u8> {
    p.to_bytes(v).unwrap()
}

/// Found by the `ifp` fuzz target: `0x5D` encodes data type 14 in the 4-bit root form, but the
/// t30-data root has only 9 values, so it must be refused under every version, not decoded as V.33.
#[test]
fn root_index_past_the_root_is_refused() {
    for version in 0..=3 {
        assert!(matches!(
            IfpPacket::decode(&[0x5D], version),
            Err(IfpError::InvalidRootIndex {
                what: "t30-data",
                index: 14
            })
        ));
        assert!(
            IfpPacket::decode(&[0x1E], version).is_ok(),
            "v17-14400-long indicator is root"
        );
    }
}

#[test]
fn indicator_octets() {
    for v in 0..=3 {
        assert_eq!(enc(&IfpPacket::indicator(Indicator::NoSignal), v), [0x00]);
        assert_eq!(enc(&IfpPacket::indicator(Indicator::Cng), v), [0x02]);
        assert_eq!(enc(&IfpPacket::indicator(Indicator::Ced), v), [0x04]);
        assert_eq!(
            enc(&IfpPacket::indicator(Indicator::V21Preamble), v),
            [0x06]
        );
        assert_eq!(
            enc(&IfpPacket::indicator(Indicator::V17Training14400Long), v),
            [0x1e]
        );
    }
    // Extension n = index - 16: 0x20 | n >> 2, (n & 3) << 6.
    assert_eq!(
        enc(&IfpPacket::indicator(Indicator::V8Ansam), 3),
        [0x20, 0x00]
    );
    assert_eq!(
        enc(&IfpPacket::indicator(Indicator::V33Training14400), 3),
        [0x21, 0x80]
    );
}

#[test]
fn data_octets() {
    let fcs_ok = |v| {
        enc(
            &IfpPacket::data(
                DataType::V21,
                [
                    (FieldType::HdlcData, vec![0xff]),
                    (FieldType::HdlcFcsOk, vec![]),
                ],
            ),
            v,
        )
    };
    // 0xC0 v21 with fields, 2 items, data item header, length-1 (BE16), data, fcs-OK header.
    assert_eq!(fcs_ok(1), [0xc0, 0x02, 0x80, 0x00, 0x00, 0xff, 0x10]);
    assert_eq!(fcs_ok(0), [0xc0, 0x02, 0x80, 0x00, 0x00, 0xff, 0x20]);
    let t4 = |v| {
        enc(
            &IfpPacket::data(DataType::V29_9600, [(FieldType::T4NonEcmData, vec![1, 2])]),
            v,
        )
    };
    assert_eq!(t4(1), [0xc8, 0x01, 0xb0, 0x00, 0x01, 1, 2]);
    assert_eq!(t4(0), [0xc8, 0x01, 0xe0, 0x00, 0x01, 1, 2]);
    let end = |v| {
        enc(
            &IfpPacket::data(DataType::V17_14400, [(FieldType::T4NonEcmSigEnd, vec![])]),
            v,
        )
    };
    assert_eq!(end(1), [0xd0, 0x01, 0x38]);
    assert_eq!(end(0), [0xd0, 0x01, 0x70]);
    // v0 nibble packing: two data-less items share one octet.
    let two = IfpPacket::data(
        DataType::V21,
        [
            (FieldType::HdlcFcsOk, vec![]),
            (FieldType::HdlcSigEnd, vec![]),
        ],
    );
    assert_eq!(enc(&two, 0), [0xc0, 0x02, 0x21]);
    assert_eq!(IfpPacket::decode(&[0xc0, 0x02, 0x21], 0).unwrap(), two);
    // Data without a data field (spandsp accepts it).
    assert_eq!(enc(&IfpPacket::data(DataType::V21, []), 0), [0x40]);
    // Extended data type and field type (v3): V.8, cm-message.
    let v8 = IfpPacket::data(DataType::V8, [(FieldType::CmMessage, vec![0xe0])]);
    assert_eq!(
        enc(&v8, 3),
        [0xe0, 0x00, 0x01, 0xc0, 0x00, 0x00, 0x00, 0xe0]
    );
    assert_eq!(IfpPacket::decode(&enc(&v8, 3), 3).unwrap(), v8);
}

#[test]
fn typed_errors() {
    use IfpError::*;
    assert_eq!(IfpPacket::decode(&[], 0), Err(Empty));
    assert_eq!(IfpPacket::decode(&[0x02], 4), Err(UnsupportedVersion(4)));
    assert_eq!(
        IfpPacket::decode(&[0x20, 0x00], 0),
        Err(ExtensionUnderV0("t30-indicator"))
    );
    assert_eq!(
        IfpPacket::decode(&[0x60, 0x00], 0),
        Err(ExtensionUnderV0("t30-data"))
    );
    assert_eq!(
        IfpPacket::decode(&[0x20], 1),
        Err(Truncated("t30-indicator"))
    );
    assert!(matches!(
        IfpPacket::decode(&[0x22, 0x00], 1),
        Err(UnknownExtension {
            what: "t30-indicator",
            ..
        })
    ));
    assert_eq!(
        IfpPacket::decode(&[0x82, 0x01, 0x10], 1),
        Err(IndicatorWithData)
    );
    assert_eq!(IfpPacket::decode(&[0xc0, 0x00], 1), Err(EmptyDataField));
    assert_eq!(
        IfpPacket::decode(&[0xc0, 0xc1, 0x00], 1),
        Err(Fragmented("data-field count"))
    );
    assert_eq!(
        IfpPacket::decode(&[0xc0, 0x01, 0x80, 0x00, 0x05, 1], 1),
        Err(Truncated("field-data"))
    );
    assert_eq!(
        IfpPacket::decode(&[0xc0, 0x01, 0x80, 0x00], 1),
        Err(Truncated("field-data length"))
    );
    assert_eq!(
        IfpPacket::decode(&[0xc0, 0x02, 0x10], 1),
        Err(Truncated("field-type"))
    );
    assert_eq!(
        IfpPacket::decode(&[0x02, 0x00], 1),
        Err(TrailingBytes { extra: 1 })
    );
    assert!(matches!(
        IfpPacket::decode(&[0xc0, 0x01, 0x41, 0x00], 1),
        Err(UnknownExtension {
            what: "field-type",
            ..
        })
    ));
    // Encoding refuses what the syntax cannot say.
    let ext = IfpPacket::indicator(Indicator::V8Signal);
    assert_eq!(ext.to_bytes(0), Err(ExtensionUnderV0("t30-indicator")));
    let with_data = IfpPacket {
        type_of_msg: TypeOfMsg::Indicator(Indicator::Cng),
        fields: vec![DataField {
            field_type: FieldType::HdlcData,
            data: vec![1],
        }],
    };
    assert_eq!(with_data.to_bytes(1), Err(IndicatorWithData));
    let cm = IfpPacket::data(DataType::V21, [(FieldType::CiMessage, vec![1])]);
    assert_eq!(cm.to_bytes(0), Err(ExtensionUnderV0("field-type")));
    let huge = IfpPacket::data(DataType::V21, [(FieldType::HdlcData, vec![0; 65536])]);
    assert_eq!(huge.to_bytes(1), Err(FieldDataTooLong(65536)));
    assert_eq!(
        IfpPacket::indicator(Indicator::Cng).to_bytes(9),
        Err(UnsupportedVersion(9))
    );
}

fn arb_packet(version: u8) -> impl Strategy<Value = IfpPacket> {
    let ext = version > 0;
    let ind = prop::sample::select(
        Indicator::ALL
            .iter()
            .copied()
            .filter(move |i| ext || !i.is_extension())
            .collect::<Vec<_>>(),
    );
    let dt = prop::sample::select(
        DataType::ALL
            .iter()
            .copied()
            .filter(move |d| ext || !d.is_extension())
            .collect::<Vec<_>>(),
    );
    let ft = prop::sample::select(
        FieldType::ALL
            .iter()
            .copied()
            .filter(move |f| ext || !f.is_extension())
            .collect::<Vec<_>>(),
    );
    let field = (ft, prop::collection::vec(any::<u8>(), 0..300))
        .prop_map(|(field_type, data)| DataField { field_type, data });
    prop_oneof![
        ind.prop_map(IfpPacket::indicator),
        (dt, prop::collection::vec(field, 0..140)).prop_map(move |(dt, mut fields)| {
            if version > 0 {
                // 2002 syntax as spandsp emits it: only the last item may lack data.
                let n = fields.len();
                for (i, f) in fields.iter_mut().enumerate() {
                    if i + 1 < n && f.data.is_empty() {
                        f.data.push(0);
                    }
                }
            }
            IfpPacket {
                type_of_msg: TypeOfMsg::Data(dt),
                fields,
            }
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn round_trip_v0(p in arb_packet(0)) {
        let bytes = p.to_bytes(0).unwrap();
        prop_assert_eq!(IfpPacket::decode(&bytes, 0).unwrap(), p);
    }

    #[test]
    fn round_trip_v1_to_v3(p in arb_packet(3), v in 1u8..=3) {
        let bytes = p.to_bytes(v).unwrap();
        prop_assert_eq!(IfpPacket::decode(&bytes, v).unwrap(), p);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64), v in 0u8..=4) {
        if let Ok(p) = IfpPacket::decode(&bytes, v) {
            // Whatever decodes re-encodes to something that decodes to the same packet.
            let again = p.to_bytes(v).unwrap();
            prop_assert_eq!(IfpPacket::decode(&again, v).unwrap(), p);
        }
    }
}

/// FEC rebuilds an IFP at its group's parity length: the zeros after it are cut off, and only zeros.
#[test]
fn fec_padding_is_stripped_and_only_padding() {
    use faxline_t38::ifp::strip_fec_padding;
    for version in [0u8, 3] {
        let frame = IfpPacket::data(
            DataType::V21,
            vec![(FieldType::HdlcData, vec![0xff, 0x13, 0x80])],
        );
        let bytes = enc(&frame, version);
        let mut padded = bytes.clone();
        padded.extend_from_slice(&[0; 7]);
        assert_eq!(strip_fec_padding(&padded, version), &bytes[..]);
        assert_eq!(strip_fec_padding(&bytes, version), &bytes[..]);
        let (decoded, used) = IfpPacket::decode_prefix(&padded, version).unwrap();
        assert_eq!((decoded, used), (frame, bytes.len()));
        assert!(matches!(
            IfpPacket::decode(&padded, version),
            Err(IfpError::TrailingBytes { extra: 7 })
        ));
        // Non-zero octets after the IFP are damage, not padding: left for the session to refuse.
        let mut damaged = bytes.clone();
        damaged.extend_from_slice(&[0, 5]);
        assert_eq!(strip_fec_padding(&damaged, version), &damaged[..]);
        // Garbage that does not parse is returned unchanged.
        assert_eq!(strip_fec_padding(&[0x5D, 0, 0], version), &[0x5D, 0, 0]);
        assert_eq!(strip_fec_padding(&[], version), &[] as &[u8]);
    }
}
