//! The `a=T38…` attribute set: parsing quirks of real peers and canonical emission.

use faxline_t38::sdp::{EcDepth, RateManagement, SdpError, T38Attributes, UdpEc};

#[test]
fn full_attribute_set_parses() {
    let p = T38Attributes::from_sdp_lines(
        "a=T38FaxVersion:3\r\n\
         a=T38MaxBitRate:33600\r\n\
         a=T38FaxFillBitRemoval\r\n\
         a=T38FaxTranscodingMMR\r\n\
         a=T38FaxTranscodingJBIG\r\n\
         a=T38FaxRateManagement:localTCF\r\n\
         a=T38FaxMaxBuffer:1800\r\n\
         a=T38FaxMaxDatagram:512\r\n\
         a=T38FaxMaxIFP:200\r\n\
         a=T38FaxUdpEC:t38UDPFEC\r\n\
         a=T38FaxUdpECDepth:1 3\r\n\
         a=T38FaxUdpFECMaxSpan:4\r\n\
         a=T38VendorInfo:0 0 37\r\n\
         a=T38ModemType:t38G3FaxOnly\r\n",
    )
    .unwrap();
    assert_eq!(
        p,
        T38Attributes {
            version: 3,
            max_bit_rate: Some(33600),
            fill_bit_removal: true,
            transcoding_mmr: true,
            transcoding_jbig: true,
            rate_management: Some(RateManagement::LocalTcf),
            max_buffer: Some(1800),
            max_datagram: Some(512),
            max_ifp: Some(200),
            udp_ec: vec![UdpEc::Fec],
            udp_ec_depth: Some(EcDepth {
                min: 1,
                max: Some(3)
            }),
            udp_fec_max_span: Some(4),
            unknown: vec![
                ("T38VendorInfo".into(), Some("0 0 37".into())),
                ("T38ModemType".into(), Some("t38G3FaxOnly".into())),
            ],
        }
    );
}

#[test]
fn missing_version_means_zero_and_empty_set_is_default() {
    let p = T38Attributes::from_sdp_lines("a=T38FaxRateManagement:transferredTCF\r\n").unwrap();
    assert_eq!(p.version, 0);
    assert_eq!(p.rate_management, Some(RateManagement::TransferredTcf));
    assert_eq!(
        T38Attributes::from_sdp_lines("").unwrap(),
        T38Attributes::default()
    );
}

#[test]
fn names_are_case_insensitive_and_aliases_fold() {
    let p = T38Attributes::from_sdp_lines(
        "a=t38faxversion:1\r\na=T38FAXMAXRATE:9600\r\na=t38maxdatagram:300\r\n\
         a=T38faxRATEmanagement:TRANSFERREDtcf\r\na=t38faxudpec:T38UDPREDUNDANCY\r\n",
    )
    .unwrap();
    assert_eq!(p.version, 1);
    assert_eq!(p.max_bit_rate, Some(9600));
    assert_eq!(p.max_datagram, Some(300));
    assert_eq!(p.rate_management, Some(RateManagement::TransferredTcf));
    assert_eq!(p.udp_ec, vec![UdpEc::Redundancy]);
}

#[test]
fn flags_are_true_by_presence_even_with_zero_value() {
    // Asterisk reads `T38FaxFillBitRemoval:0` as true; so do we.
    let p = T38Attributes::from_sdp_lines(
        "a=T38FaxFillBitRemoval:0\r\na=T38FaxTranscodingMMR:1\r\na=T38FaxTranscodingJBIG:0\r\n",
    )
    .unwrap();
    assert!(p.fill_bit_removal && p.transcoding_mmr && p.transcoding_jbig);
}

#[test]
fn false_flags_are_never_emitted() {
    let p = T38Attributes {
        rate_management: Some(RateManagement::TransferredTcf),
        ..T38Attributes::default()
    };
    let text = p.to_sdp_lines();
    assert_eq!(
        text,
        "a=T38FaxVersion:0\r\na=T38FaxRateManagement:transferredTCF\r\n"
    );
    let with = T38Attributes {
        fill_bit_removal: true,
        ..p
    };
    assert!(with.to_sdp_lines().contains("a=T38FaxFillBitRemoval\r\n"));
    assert!(!with.to_sdp_lines().contains("MMR"));
}

#[test]
fn repeated_ec_lines_are_all_kept_and_ranked_by_preference() {
    let p = T38Attributes::from_sdp_lines(
        "a=T38FaxUdpEC:t38UDPFEC\r\na=T38FaxUdpEC:t38UDPRedundancy\r\na=T38FaxUdpEC:t38UDPFEC\r\n",
    )
    .unwrap();
    assert_eq!(p.udp_ec, vec![UdpEc::Fec, UdpEc::Redundancy, UdpEc::Fec]);
    assert_eq!(
        p.offered_ec(&[UdpEc::Redundancy, UdpEc::Fec]),
        vec![UdpEc::Redundancy, UdpEc::Fec, UdpEc::NoEc]
    );
    assert_eq!(
        p.offered_ec(&[UdpEc::Fec]),
        vec![UdpEc::Fec, UdpEc::Redundancy, UdpEc::NoEc]
    );
}

#[test]
fn repeated_scalar_attribute_takes_the_last_value() {
    let p = T38Attributes::from_sdp_lines("a=T38FaxVersion:2\r\na=T38FaxVersion:1\r\n").unwrap();
    assert_eq!(p.version, 1);
}

#[test]
fn emission_order_matches_asterisk() {
    let p = T38Attributes {
        version: 0,
        max_bit_rate: Some(14400),
        rate_management: Some(RateManagement::TransferredTcf),
        max_datagram: Some(1400),
        udp_ec: vec![UdpEc::Redundancy],
        ..T38Attributes::default()
    };
    assert_eq!(
        p.to_sdp_lines(),
        "a=T38FaxVersion:0\r\na=T38MaxBitRate:14400\r\na=T38FaxRateManagement:transferredTCF\r\n\
         a=T38FaxMaxDatagram:1400\r\na=T38FaxUdpEC:t38UDPRedundancy\r\n"
    );
}

#[test]
fn broken_values_give_typed_errors() {
    let cases: &[(&str, &str)] = &[
        ("a=T38FaxVersion:abc", "T38FaxVersion"),
        ("a=T38FaxVersion:256", "T38FaxVersion"),
        ("a=T38FaxVersion:-1", "T38FaxVersion"),
        ("a=T38MaxBitRate:99999999999", "T38MaxBitRate"),
        ("a=T38FaxMaxDatagram:4OO", "T38FaxMaxDatagram"),
        ("a=T38FaxRateManagement:someTCF", "T38FaxRateManagement"),
        ("a=T38FaxUdpEC:t38UDPMagic", "T38FaxUdpEC"),
        ("a=T38FaxUdpECDepth:1 2 3", "T38FaxUdpECDepth"),
        ("a=T38FaxUdpECDepth:x", "T38FaxUdpECDepth"),
    ];
    for (line, name) in cases {
        match T38Attributes::from_sdp_lines(line) {
            Err(SdpError::InvalidAttribute { name: n, .. }) => assert_eq!(n, *name, "{line}"),
            other => panic!("{line}: expected InvalidAttribute, got {other:?}"),
        }
    }
    for line in [
        "a=T38FaxVersion",
        "a=T38FaxVersion:",
        "a=T38FaxUdpEC",
        "a=T38FaxRateManagement: ",
    ] {
        assert!(
            matches!(
                T38Attributes::from_sdp_lines(line),
                Err(SdpError::MissingValue { .. })
            ),
            "{line}"
        );
    }
}

#[test]
fn explicit_no_ec_is_understood() {
    let p = T38Attributes::from_sdp_lines("a=T38FaxUdpEC:t38UDPNoEC").unwrap();
    assert_eq!(p.udp_ec, vec![UdpEc::NoEc]);
    assert_eq!(p.offered_ec(&[UdpEc::Redundancy]), vec![UdpEc::NoEc]);
}
