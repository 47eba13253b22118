//! Independent decoder: packets built by our UDPTL sender and IFP encoder — every indicator,
//! every data type, every field type, both syntax families, no-EC / redundancy / FEC — are
//! written to a pcap and dissected by tshark's T.38 dissector, which must read the same fields
//! and report nothing malformed.

use std::process::Command;

use faxline_t38::ifp::{DataType, FieldType, IfpPacket, Indicator, TypeOfMsg};
use faxline_t38::udptl::{
    ErrorCorrection, IfpKind, Recovery, RedundancyDepth, Sender, SenderConfig, UdptlPacket,
};
use faxline_tests::pcap_writer::PcapWriter;

/// The DIS frame Asterisk sent in fixtures/captures (T.30-valid, for tshark's T.30 dissector).
const DIS: [u8; 13] = [
    0xff, 0xc8, 0x01, 0x20, 0x77, 0x1f, 0x23, 0x01, 0x89, 0x01, 0x01, 0x01, 0x18,
];

/// The IFPs a stack of this version may send: every indicator, and for every data type the
/// field sequences a T.38 gateway emits — HDLC frames ended by each FCS/sig-end variant (in the
/// same packet or the next), non-ECM image data with and without its end, and (v ≥ 1) the V.34
/// message field types. Every field type appears. The order matters to tshark: its HDLC
/// reassembly expects an end field only after data.
fn ifps(version: u8) -> Vec<IfpPacket> {
    use FieldType::*;
    let legal = |ext: bool| version > 0 || !ext;
    let mut out: Vec<IfpPacket> = Indicator::ALL
        .iter()
        .filter(|i| legal(i.is_extension()))
        .map(|&i| IfpPacket::indicator(i))
        .collect();
    let none = Vec::new;
    for (n, &dt) in DataType::ALL
        .iter()
        .filter(|d| legal(d.is_extension()))
        .enumerate()
    {
        // HDLC fields carry T.30 frames, which tshark's T.30 dissector parses: use the DIS
        // Asterisk sent in fixtures/captures. Non-ECM image data is arbitrary.
        let hdlc = DIS.to_vec();
        let t4: Vec<u8> = (0..(n * 37 % 200 + 1)).map(|i| (i * 7 + n) as u8).collect();
        let p = |fields: Vec<(FieldType, Vec<u8>)>| IfpPacket::data(dt, fields);
        out.push(p(vec![(HdlcData, hdlc.clone())]));
        out.push(p(vec![(HdlcData, hdlc.clone()), (HdlcFcsOk, none())]));
        out.push(p(vec![(HdlcData, hdlc.clone())]));
        out.push(p(vec![(HdlcFcsBad, none())]));
        out.push(p(vec![(HdlcData, hdlc.clone()), (HdlcFcsOkSigEnd, none())]));
        out.push(p(vec![(HdlcData, hdlc.clone())]));
        out.push(p(vec![(HdlcFcsBadSigEnd, none())]));
        out.push(p(vec![(HdlcData, hdlc.clone())]));
        out.push(p(vec![(HdlcSigEnd, none())]));
        out.push(p(vec![(T4NonEcmData, t4.clone())]));
        out.push(p(vec![
            (T4NonEcmData, t4.clone()),
            (T4NonEcmSigEnd, none()),
        ]));
        out.push(p(vec![(T4NonEcmData, vec![0; 9])]));
        out.push(p(vec![(T4NonEcmSigEnd, t4.clone())]));
        if version > 0 {
            // Only cm-message: for the other extension field types spandsp's layout (which we
            // follow, it is what peers send) puts the 6-bit extension number one bit later
            // than strict aligned PER, so tshark reads them differently (see the IFP docs).
            out.push(p(vec![(CmMessage, t4.clone())]));
        }
    }
    // Data type without a data field (spandsp accepts it).
    out.push(IfpPacket::data(DataType::V21, []));
    if version == 0 {
        // Nibble packing: a data item starting in the low nibble after a data-less item.
        out.push(IfpPacket::data(
            DataType::V21,
            [
                (HdlcData, DIS.to_vec()),
                (HdlcFcsOk, none()),
                (HdlcData, DIS.to_vec()),
                (HdlcFcsOk, none()),
            ],
        ));
    }
    // A long field crossing the 127/128 octet boundary of the length determinants.
    out.push(IfpPacket::data(
        DataType::V29_9600,
        [(T4NonEcmData, vec![0xa5; 300])],
    ));
    out
}

/// What tshark must report for one IFP: type-of-msg, indicator or data type, field types and
/// field data.
fn expected_fields(p: &IfpPacket) -> (u8, Option<u8>, Option<u8>, Vec<u8>, Vec<String>) {
    let (tom, ind, dt) = match p.type_of_msg {
        TypeOfMsg::Indicator(i) => (0, Some(i.index()), None),
        TypeOfMsg::Data(d) => (1, None, Some(d.index())),
    };
    let types = p.fields.iter().map(|f| f.field_type.index()).collect();
    let data = p
        .fields
        .iter()
        .filter(|f| !f.data.is_empty())
        .map(|f| hex::encode(&f.data))
        .collect();
    (tom, ind, dt, types, data)
}

struct Sent {
    seq: u16,
    ifps: Vec<IfpPacket>,
    recovery: String,
    ec_count: usize,
    fec_span: Option<u8>,
}

fn run(version: u8) {
    let modes = [
        ErrorCorrection::None,
        ErrorCorrection::Redundancy(RedundancyDepth {
            indicator: 4,
            control: 3,
            image: 1,
        }),
        ErrorCorrection::Fec {
            span: 3,
            entries: 3,
        },
    ];
    let mut pcap = PcapWriter::new();
    let mut sent = Vec::new();
    let all = ifps(version);
    for (mi, &ec) in modes.iter().enumerate() {
        let mut tx = Sender::new(SenderConfig {
            error_correction: ec,
            max_datagram: 1400,
        })
        .unwrap();
        if mi == 1 {
            tx = tx.with_initial_seq(65530); // cross the 16-bit wrap
        }
        let port = 40_000 + mi as u16 * 2;
        for p in &all {
            let ifp = p.to_bytes(version).unwrap();
            let kind = match p.type_of_msg {
                TypeOfMsg::Indicator(_) => IfpKind::Indicator,
                TypeOfMsg::Data(DataType::V21) => IfpKind::ControlData,
                TypeOfMsg::Data(_) => IfpKind::ImageData,
            };
            let mut wire = Vec::new();
            let info = tx.handle_ifp(&ifp, kind, &mut wire).unwrap();
            pcap.udp(port, port + 1, &wire);
            let pkt = UdptlPacket::decode(&wire).unwrap();
            let mut ifps = vec![p.clone()];
            let (recovery, ec_count, fec_span) = match pkt.recovery {
                Recovery::Redundancy(list) => {
                    ifps.extend(list.iter().map(|b| IfpPacket::decode(b, version).unwrap()));
                    ("0".to_string(), list.len(), None)
                }
                Recovery::Fec { span, entries } => ("1".to_string(), entries.len(), Some(span)),
            };
            assert_eq!(ec_count, info.ec_items);
            sent.push(Sent {
                seq: info.seq,
                ifps,
                recovery,
                ec_count,
                fec_span,
            });
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("t38_v{version}.pcap"));
    pcap.write_to(std::fs::File::create(&path).unwrap())
        .unwrap();
    if let Some(keep) = std::env::var_os("T38_PCAP_DIR") {
        // For debugging a failure: keep a copy of the capture.
        let name = path.file_name().unwrap();
        std::fs::copy(&path, std::path::Path::new(&keep).join(name)).unwrap();
    }

    let pre = if version == 0 { "TRUE" } else { "FALSE" };
    let mut cmd = Command::new("tshark");
    cmd.arg("-n").arg("-r").arg(&path);
    cmd.args([
        "-o",
        &format!("t38.use_pre_corrigendum_asn1_specification:{pre}"),
    ]);
    for mi in 0..3 {
        cmd.args(["-d", &format!("udp.port=={},t38", 40_001 + mi * 2)]);
    }
    cmd.args([
        "-T",
        "fields",
        "-E",
        "occurrence=a",
        "-E",
        "aggregator=|",
        "-E",
        "separator=\t",
    ]);
    for f in [
        "t38.seq_number",
        "t38.type_of_msg",
        "t38.t30_indicator",
        "t38.t30_data",
        "t38.field_type",
        "t38.field_data",
        "t38.error_recovery",
        "t38.secondary_ifp_packets",
        "t38.fec_npackets",
        "t38.fec_data",
        "_ws.malformed",
        "_ws.expert.severity",
        "_ws.expert.message",
    ] {
        cmd.args(["-e", f]);
    }
    let out = cmd
        .output()
        .expect("tshark is installed (Debian package tshark)");
    assert!(
        out.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), sent.len(), "one line per packet");

    let split = |s: &str| -> Vec<String> {
        if s.is_empty() {
            Vec::new()
        } else {
            s.split('|').map(str::to_string).collect()
        }
    };
    for (line, s) in lines.iter().zip(&sent) {
        let cols: Vec<&str> = line.split('\t').collect();
        let ctx = format!("v{version} seq {} line {line:?}", s.seq);
        assert_eq!(cols.len(), 13, "{ctx}");
        assert_eq!(cols[0], s.seq.to_string(), "{ctx}: seq-number");
        assert!(
            cols[10].is_empty(),
            "{ctx}: tshark reports a malformed packet"
        );
        // Notes (e.g. "unreassembled fragment" for HDLC data split over packets) are fine;
        // warnings and errors (PI_WARN = 0x600000 and up) are not.
        for sev in split(cols[11]) {
            let sev: u32 = sev.parse().unwrap();
            assert!(sev < 0x0060_0000, "{ctx}: tshark expert info {}", cols[12]);
        }
        assert_eq!(cols[6], s.recovery, "{ctx}: error-recovery choice");
        let (mut tom, mut ind, mut dt, mut types, mut data) =
            (vec![], vec![], vec![], vec![], vec![]);
        for p in &s.ifps {
            let (t, i, d, ft, fd) = expected_fields(p);
            tom.push(t.to_string());
            ind.extend(i.map(|v| v.to_string()));
            dt.extend(d.map(|v| v.to_string()));
            types.extend(ft.iter().map(u8::to_string));
            data.extend(fd);
        }
        assert_eq!(split(cols[1]), tom, "{ctx}: type-of-msg");
        assert_eq!(split(cols[2]), ind, "{ctx}: t30-indicator");
        assert_eq!(split(cols[3]), dt, "{ctx}: t30-data");
        assert_eq!(split(cols[4]), types, "{ctx}: field-type");
        assert_eq!(split(cols[5]), data, "{ctx}: field-data");
        match s.fec_span {
            None => assert_eq!(cols[7], s.ec_count.to_string(), "{ctx}: secondaries"),
            Some(span) => {
                assert_eq!(cols[8], span.to_string(), "{ctx}: fec-npackets");
                assert_eq!(cols[9], s.ec_count.to_string(), "{ctx}: fec-data count");
            }
        }
    }
}

#[test]
fn tshark_reads_version_0_packets() {
    run(0);
}

#[test]
fn tshark_reads_version_1_packets() {
    run(1);
}

#[test]
fn tshark_reads_version_3_packets() {
    run(3);
}
