//! Offer/answer negotiation and datagram sizing, including the Asterisk testsuite's
//! `maxdatagram` arithmetic (telephony.md §3.2, §8).

use faxline_t38::sdp::asterisk::{self, AsteriskEc};
use faxline_t38::sdp::negotiate::{
    FAX_BIT_RATES, max_ifp_for_datagram, max_ifp_for_ec, udptl_payload_size,
};
use faxline_t38::sdp::{
    EcMode, LocalT38Config, NegotiationError, NegotiationNote, RateManagement, T38Attributes, UdpEc,
};

fn offer(lines: &str) -> T38Attributes {
    T38Attributes::from_sdp_lines(lines).unwrap()
}

#[test]
fn payload_size_formula_matches_the_wire_layout() {
    // seq 5, IFP `06`, no EC → `00 05 01 06 00 00` (telephony.md §3.1): 6 bytes.
    assert_eq!(udptl_payload_size(1, 1, 4), 6);
    // 127-byte IFP: one-octet length; 128-byte IFP: two-octet length.
    assert_eq!(udptl_payload_size(127, 1, 4), 2 + 1 + 127 + 2);
    assert_eq!(udptl_payload_size(128, 1, 4), 2 + 2 + 128 + 2);
    // Redundancy depth 3: primary + 3 secondaries each with their length octet.
    assert_eq!(udptl_payload_size(60, 4, 4), 2 + 61 + 1 + 1 + 3 * 61);
}

#[test]
fn max_ifp_is_the_exact_inverse_of_the_payload_size() {
    for copies in 1..=6u32 {
        for fixed in [4u32, 6] {
            for datagram in 0..=2000u32 {
                let l = max_ifp_for_datagram(datagram, copies, fixed);
                if l > 0 {
                    assert!(
                        udptl_payload_size(l, copies, fixed) <= datagram,
                        "fits: d={datagram} c={copies} f={fixed} l={l}"
                    );
                }
                assert!(
                    udptl_payload_size(l + 1, copies, fixed) > datagram,
                    "largest: d={datagram} c={copies} f={fixed} l={l}"
                );
            }
        }
    }
}

#[test]
fn asterisk_maxdatagram_testsuite_arithmetic() {
    // B offers T38FaxMaxDatagram 400, EC none: Asterisk's far max IFP is 375 …
    let far = asterisk::far_max_datagram(Some(400), None);
    assert_eq!(asterisk::far_max_ifp(far, AsteriskEc::None), (375, 0));
    // … and bridged, it advertises 399 to A.
    assert_eq!(asterisk::local_max_datagram(375, AsteriskEc::None), 399);
    // B's endpoint override 300 → 299; A's override 200 → 199.
    let (ifp300, _) = asterisk::far_max_ifp(
        asterisk::far_max_datagram(Some(400), Some(300)),
        AsteriskEc::None,
    );
    assert_eq!(asterisk::local_max_datagram(ifp300, AsteriskEc::None), 299);
    let (ifp200, _) = asterisk::far_max_ifp(
        asterisk::far_max_datagram(Some(400), Some(200)),
        AsteriskEc::None,
    );
    assert_eq!(asterisk::local_max_datagram(ifp200, AsteriskEc::None), 199);
    // A res_fax terminal (local max IFP 400) advertises 425 / 1400 / 849.
    assert_eq!(asterisk::local_max_datagram(400, AsteriskEc::None), 425);
    assert_eq!(
        asterisk::local_max_datagram(400, AsteriskEc::Redundancy { entries: 3 }),
        1400
    );
    assert_eq!(asterisk::local_max_datagram(400, AsteriskEc::Fec), 849);
    // 0 and >1400 fall back to 400.
    assert_eq!(asterisk::far_max_datagram(Some(0), None), 400);
    assert_eq!(asterisk::far_max_datagram(Some(1440), None), 400);
    assert_eq!(asterisk::far_max_datagram(None, None), 400);
    // Redundancy: entries drop while the room per copy is below 80.
    assert_eq!(
        asterisk::far_max_ifp(400, AsteriskEc::Redundancy { entries: 3 }),
        (93, 3)
    );
    assert_eq!(
        asterisk::far_max_ifp(250, AsteriskEc::Redundancy { entries: 3 }),
        (76, 2)
    );
}

#[test]
fn our_sizing_for_the_testsuite_inputs_and_why_it_differs() {
    let cfg = LocalT38Config::default();
    // Peer offered 400 with no EC. Asterisk would send IFPs up to 375 (5 % "insurance" below the
    // 395 bytes of room); our arithmetic is exact: 394 + 2 length octets + 4 = 400.
    let n = cfg
        .answer(&offer(
            "a=T38FaxMaxDatagram:400\r\na=T38FaxRateManagement:transferredTCF",
        ))
        .unwrap();
    assert_eq!(n.ec, EcMode::None);
    assert_eq!(n.far_max_datagram, 400);
    assert_eq!(n.max_ifp_send, 394);
    assert_eq!(udptl_payload_size(394, 1, 4), 400);
    // Per-peer overrides 300 and 200 replace the SDP value.
    for (ov, ifp) in [(300u32, 294u32), (200, 194)] {
        let cfg = LocalT38Config {
            far_max_datagram_override: Some(ov),
            ..LocalT38Config::default()
        };
        let n = cfg.answer(&offer("a=T38FaxMaxDatagram:400")).unwrap();
        assert_eq!((n.far_max_datagram, n.max_ifp_send), (ov, ifp));
        assert!(
            n.notes
                .contains(&NegotiationNote::FarMaxDatagramOverridden {
                    offered: Some(400),
                    used: ov
                })
        );
        // Our limit is never smaller than Asterisk's for the same input.
        assert!(ifp >= asterisk::far_max_ifp(ov, AsteriskEc::None).0);
    }
    // We advertise 1400 regardless (we can receive anything), unlike Asterisk's 399/299/199.
    assert_eq!(n.local_max_datagram, 1400);
}

#[test]
fn far_max_datagram_defaults_like_asterisk() {
    let cfg = LocalT38Config::default();
    for lines in [
        "",
        "a=T38FaxMaxDatagram:0",
        "a=T38FaxMaxDatagram:1500",
        "a=T38MaxDatagram:65535",
    ] {
        let n = cfg.answer(&offer(lines)).unwrap();
        assert_eq!(n.far_max_datagram, 400, "{lines:?}");
        assert!(
            n.notes
                .iter()
                .any(|x| matches!(x, NegotiationNote::FarMaxDatagramDefaulted { .. }))
        );
    }
    assert_eq!(
        cfg.answer(&offer("a=T38FaxMaxDatagram:1400"))
            .unwrap()
            .far_max_datagram,
        1400
    );
}

#[test]
fn redundancy_depth_is_reduced_before_anything_else() {
    let cfg = LocalT38Config::default(); // depth 3, min IFP 72
    let ec = "a=T38FaxUdpEC:t38UDPRedundancy\r\n";
    // 400 bytes: depth 3 leaves 98-byte IFPs.
    let n = cfg
        .answer(&offer(&format!("{ec}a=T38FaxMaxDatagram:400")))
        .unwrap();
    assert_eq!(
        (n.ec, n.max_ifp_send),
        (EcMode::Redundancy { depth: 3 }, 98)
    );
    assert!(
        !n.notes
            .iter()
            .any(|x| matches!(x, NegotiationNote::RedundancyDepthReduced { .. }))
    );
    // 250 bytes: depth 3 → 60 (< 72), depth 2 → 81.
    let n = cfg
        .answer(&offer(&format!("{ec}a=T38FaxMaxDatagram:250")))
        .unwrap();
    assert_eq!(
        (n.ec, n.max_ifp_send),
        (EcMode::Redundancy { depth: 2 }, 81)
    );
    assert!(
        n.notes
            .contains(&NegotiationNote::RedundancyDepthReduced { from: 3, to: 2 })
    );
    // 100 bytes: only depth 0 (plain packets) leaves room for a 72-byte IFP.
    let n = cfg
        .answer(&offer(&format!("{ec}a=T38FaxMaxDatagram:100")))
        .unwrap();
    assert_eq!(
        (n.ec, n.max_ifp_send),
        (EcMode::Redundancy { depth: 0 }, 95)
    );
    // 60 bytes: nothing fits → refuse instead of truncating.
    let err = cfg
        .answer(&offer(&format!("{ec}a=T38FaxMaxDatagram:60")))
        .unwrap_err();
    assert_eq!(
        err,
        NegotiationError::DatagramTooSmall {
            far_max_datagram: 60,
            min_ifp: 72,
            ec: "redundancy"
        }
    );
    // Every result really fits: the encoder's worst case for max_ifp_send is ≤ far max.
    for far in 78..=1400u32 {
        let n = cfg
            .answer(&offer(&format!("{ec}a=T38FaxMaxDatagram:{far}")))
            .unwrap();
        let EcMode::Redundancy { depth } = n.ec else {
            panic!()
        };
        assert!(udptl_payload_size(n.max_ifp_send, u32::from(depth) + 1, 4) <= far);
        assert!(n.max_ifp_send >= cfg.min_ifp);
        assert_eq!(n.max_ifp_send, max_ifp_for_ec(far, n.ec));
    }
}

#[test]
fn fec_entries_are_reduced_and_span_follows_the_peer() {
    let cfg = LocalT38Config {
        ec_preference: vec![UdpEc::Fec],
        ..LocalT38Config::default()
    };
    let n = cfg
        .answer(&offer(
            "a=T38FaxUdpEC:t38UDPFEC\r\na=T38FaxMaxDatagram:400\r\na=T38FaxUdpFECMaxSpan:2",
        ))
        .unwrap();
    // (3+1)·(L+1) + 6 ≤ 400 → L = 97.
    assert_eq!(
        (n.ec, n.max_ifp_send),
        (
            EcMode::Fec {
                span: 2,
                entries: 3
            },
            97
        )
    );
    assert!(
        n.notes
            .contains(&NegotiationNote::FecSpanLimited { from: 3, to: 2 })
    );
    let n = cfg
        .answer(&offer("a=T38FaxUdpEC:t38UDPFEC\r\na=T38FaxMaxDatagram:200"))
        .unwrap();
    assert_eq!(
        (n.ec, n.max_ifp_send),
        (
            EcMode::Fec {
                span: 3,
                entries: 1
            },
            96
        )
    );
    assert!(
        n.notes
            .contains(&NegotiationNote::FecEntriesReduced { from: 3, to: 1 })
    );
    assert!(
        cfg.answer(&offer("a=T38FaxUdpEC:t38UDPFEC\r\na=T38FaxMaxDatagram:140"))
            .is_err()
    );
}

#[test]
fn ec_choice_supports_what_the_peer_offers_and_prefers_redundancy() {
    let cfg = LocalT38Config::default();
    let pick = |lines: &str| cfg.answer(&offer(lines)).unwrap().ec.udp_ec();
    assert_eq!(pick("a=T38FaxUdpEC:t38UDPFEC"), Some(UdpEc::Fec));
    assert_eq!(
        pick("a=T38FaxUdpEC:t38UDPRedundancy"),
        Some(UdpEc::Redundancy)
    );
    assert_eq!(pick(""), None);
    assert_eq!(pick("a=T38FaxUdpEC:t38UDPNoEC"), None);
    assert_eq!(
        pick("a=T38FaxUdpEC:t38UDPFEC\r\na=T38FaxUdpEC:t38UDPRedundancy"),
        Some(UdpEc::Redundancy)
    );
    // A configuration that only allows FEC still answers no EC to a redundancy-only offer.
    let fec_only = LocalT38Config {
        ec_preference: vec![UdpEc::Fec],
        ..LocalT38Config::default()
    };
    assert_eq!(
        fec_only
            .answer(&offer("a=T38FaxUdpEC:t38UDPRedundancy"))
            .unwrap()
            .ec,
        EcMode::None
    );
}

#[test]
fn version_and_bit_rate_are_minimised_and_flags_anded() {
    let cfg = LocalT38Config {
        max_version: 2,
        fill_bit_removal: true,
        ..LocalT38Config::default()
    };
    let n = cfg
        .answer(&offer(
            "a=T38FaxVersion:3\r\na=T38MaxBitRate:9600\r\na=T38FaxFillBitRemoval\r\n\
             a=T38FaxTranscodingMMR\r\na=T38FaxRateManagement:transferredTCF",
        ))
        .unwrap();
    assert_eq!(n.version, 2);
    assert_eq!(n.max_bit_rate, 9600);
    assert!(n.fill_bit_removal);
    assert!(
        !n.transcoding_mmr,
        "we cannot transcode, so the AND is false"
    );
    assert_eq!(cfg.answer(&offer("a=T38FaxVersion:1")).unwrap().version, 1);
    // Missing rate → ours; odd rates round down to a modem rate; V.34's 33600 → 14400.
    assert_eq!(cfg.answer(&offer("")).unwrap().max_bit_rate, 14400);
    assert_eq!(
        cfg.answer(&offer("a=T38MaxBitRate:33600"))
            .unwrap()
            .max_bit_rate,
        14400
    );
    let n = cfg.answer(&offer("a=T38MaxBitRate:10000")).unwrap();
    assert_eq!(n.max_bit_rate, 9600);
    assert!(n.notes.contains(&NegotiationNote::BitRateRounded {
        from: 10000,
        to: 9600
    }));
    assert_eq!(
        cfg.answer(&offer("a=T38MaxBitRate:1200")).unwrap_err(),
        NegotiationError::BitRateTooLow(1200)
    );
    for rate in FAX_BIT_RATES {
        assert_eq!(
            cfg.answer(&offer(&format!("a=T38FaxMaxRate:{rate}")))
                .unwrap()
                .max_bit_rate,
            rate
        );
    }
}

#[test]
fn rate_management_is_transferred_tcf_over_udptl() {
    let cfg = LocalT38Config::default();
    let n = cfg
        .answer(&offer("a=T38FaxRateManagement:localTCF"))
        .unwrap();
    assert_eq!(n.rate_management, RateManagement::TransferredTcf);
    assert!(n.notes.contains(&NegotiationNote::PeerRequestedLocalTcf));
    let n = cfg.answer(&offer("")).unwrap();
    assert_eq!(n.rate_management, RateManagement::TransferredTcf);
    assert!(n.notes.contains(&NegotiationNote::RateManagementMissing));
}

#[test]
fn peer_max_ifp_caps_what_we_send() {
    let cfg = LocalT38Config::default();
    let n = cfg
        .answer(&offer("a=T38FaxMaxDatagram:1400\r\na=T38FaxMaxIFP:200"))
        .unwrap();
    assert_eq!(n.max_ifp_send, 200);
    assert!(cfg.answer(&offer("a=T38FaxMaxIFP:40")).is_err());
}

#[test]
fn our_offer_and_answer_params() {
    let cfg = LocalT38Config::default();
    assert_eq!(
        cfg.offer().to_sdp_lines(),
        "a=T38FaxVersion:0\r\na=T38MaxBitRate:14400\r\na=T38FaxRateManagement:transferredTCF\r\n\
         a=T38FaxMaxDatagram:1400\r\na=T38FaxUdpEC:t38UDPRedundancy\r\n"
    );
    // The advertised maximum is clamped to 400…1400.
    for (configured, advertised) in [(100u32, 400u32), (400, 400), (999, 999), (9000, 1400)] {
        let c = LocalT38Config {
            local_max_datagram: configured,
            ..LocalT38Config::default()
        };
        assert_eq!(c.offer().max_datagram, Some(advertised));
    }
    // What an Asterisk peer makes of our 1400: it will never need to truncate our minimum IFP.
    for ec in [
        AsteriskEc::None,
        AsteriskEc::Redundancy { entries: 3 },
        AsteriskEc::Fec,
    ] {
        let (ifp, _) = asterisk::far_max_ifp(cfg.advertised_max_datagram(), ec);
        assert!(ifp >= cfg.min_ifp, "{ec:?}: {ifp}");
    }
    // Accepting an answer to our offer.
    let n = cfg
        .accept_answer(&offer(
            "a=T38FaxVersion:0\r\na=T38MaxBitRate:14400\r\na=T38FaxRateManagement:transferredTCF\r\n\
             a=T38FaxMaxDatagram:1400\r\na=T38FaxUdpEC:t38UDPRedundancy",
        ))
        .unwrap();
    assert_eq!(n.ec, EcMode::Redundancy { depth: 3 });
    assert_eq!(n.max_ifp_send, max_ifp_for_ec(1400, n.ec));
    assert_eq!(n.max_ifp_send, 347); // 4·(347+2)+4 = 1400 exactly
    assert!(n.notes.is_empty(), "{:?}", n.notes);
}
