//! Property tests: emit → parse round trips, and parsing arbitrary input never panics.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use faxline_t38::sdp::{
    EcDepth, LocalT38Config, RateManagement, SdpBuilder, SdpOrigin, SessionDescription,
    T38Attributes, UdpEc,
};
use proptest::prelude::*;

fn udp_ec() -> impl Strategy<Value = UdpEc> {
    prop_oneof![Just(UdpEc::Redundancy), Just(UdpEc::Fec), Just(UdpEc::NoEc)]
}

/// Unknown T.38 attribute names: `T38X…` never collides with a known name.
fn unknown_attr() -> impl Strategy<Value = (String, Option<String>)> {
    (
        "T38X[A-Za-z0-9]{0,12}",
        proptest::option::of("[!-~]([ -~]{0,18}[!-~])?"),
    )
}

fn params() -> impl Strategy<Value = T38Attributes> {
    (
        (
            any::<u8>(),
            proptest::option::of(any::<u32>()),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            proptest::option::of(prop_oneof![
                Just(RateManagement::LocalTcf),
                Just(RateManagement::TransferredTcf)
            ]),
        ),
        (
            proptest::option::of(any::<u32>()),
            proptest::option::of(any::<u32>()),
            proptest::option::of(any::<u32>()),
            proptest::collection::vec(udp_ec(), 0..4),
            proptest::option::of(
                (any::<u32>(), proptest::option::of(any::<u32>()))
                    .prop_map(|(min, max)| EcDepth { min, max }),
            ),
            proptest::option::of(any::<u32>()),
            proptest::collection::vec(unknown_attr(), 0..3),
        ),
    )
        .prop_map(
            |(
                (version, max_bit_rate, fill, mmr, jbig, rate_management),
                (max_buffer, max_datagram, max_ifp, udp_ec, udp_ec_depth, span, unknown),
            )| T38Attributes {
                version,
                max_bit_rate,
                fill_bit_removal: fill,
                transcoding_mmr: mmr,
                transcoding_jbig: jbig,
                rate_management,
                max_buffer,
                max_datagram,
                max_ifp,
                udp_ec,
                udp_ec_depth,
                udp_fec_max_span: span,
                unknown,
            },
        )
}

fn ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|o| IpAddr::V4(Ipv4Addr::from(o))),
        any::<[u16; 8]>().prop_map(|s| IpAddr::V6(Ipv6Addr::from(s))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn params_round_trip_through_attributes(p in params()) {
        let back = T38Attributes::from_attributes(&p.to_attributes()).unwrap();
        prop_assert_eq!(&back, &p);
        let back = T38Attributes::from_sdp_lines(&p.to_sdp_lines()).unwrap();
        prop_assert_eq!(back, p);
    }

    #[test]
    fn image_sdp_round_trips(
        p in params(),
        port in any::<u16>(),
        conn in ip(),
        session_id in any::<u64>(),
        version in any::<u64>(),
        user in "[a-z][a-z0-9-]{0,10}",
    ) {
        let origin = SdpOrigin { username: user, session_id, version, address: conn };
        let sdp = SdpBuilder::new(&origin, "faxline", conn).image(port, &p).build();
        let bytes = sdp.to_bytes();
        let back = SessionDescription::parse(&bytes).unwrap();
        prop_assert_eq!(&back, &sdp);
        let image = back.image().unwrap().unwrap();
        prop_assert_eq!(image.port, port);
        prop_assert_eq!(image.attributes, p);
        if port != 0 {
            prop_assert_eq!(image.address, Some(conn));
        }
        prop_assert_eq!(back.to_bytes(), bytes);
    }

    #[test]
    fn negotiation_never_truncates(p in params(), override_dg in proptest::option::of(0u32..3000)) {
        let cfg = LocalT38Config { far_max_datagram_override: override_dg, ..LocalT38Config::default() };
        if let Ok(n) = cfg.answer(&p) {
            use faxline_t38::sdp::negotiate::{max_ifp_for_ec, udptl_payload_size};
            use faxline_t38::sdp::EcMode;
            prop_assert!(n.max_ifp_send >= cfg.min_ifp);
            prop_assert!(n.max_ifp_send <= max_ifp_for_ec(n.far_max_datagram, n.ec));
            let (copies, fixed) = match n.ec {
                EcMode::None => (1, 4),
                EcMode::Redundancy { depth } => (u32::from(depth) + 1, 4),
                EcMode::Fec { entries, .. } => (u32::from(entries) + 1, 6),
            };
            prop_assert!(udptl_payload_size(n.max_ifp_send, copies, fixed) <= n.far_max_datagram);
            prop_assert!(n.version <= p.version);
            prop_assert!((400..=1400).contains(&n.local_max_datagram));
            // Our answer re-parses to the same values.
            let answer = T38Attributes::from_sdp_lines(&n.answer_attributes().to_sdp_lines()).unwrap();
            prop_assert_eq!(answer, n.answer_attributes());
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(sdp) = SessionDescription::parse(&data) {
            let _ = sdp.image();
            let _ = sdp.audio();
            let _ = sdp.to_bytes();
        }
        let _ = T38Attributes::from_sdp_lines(&String::from_utf8_lossy(&data));
    }

    #[test]
    fn sdp_like_text_never_panics(
        lines in proptest::collection::vec(
            prop_oneof![
                Just("v=0".to_string()),
                Just("c=IN IP4 127.0.0.1".to_string()),
                "m=(image|audio) [0-9]{1,6} (udptl|RTP/AVP) (t38|0 8)",
                "a=[Tt]38[A-Za-z]{0,20}(:[ -~]{0,12})?",
                "[a-z]=[ -~]{0,30}",
            ],
            0..16,
        )
    ) {
        let body = lines.join("\r\n");
        if let Ok(sdp) = SessionDescription::parse(body.as_bytes())
            && let Ok(Some(image)) = sdp.image()
        {
            let _ = LocalT38Config::default().answer(&image.attributes);
            let _ = LocalT38Config::default().accept_answer(&image.attributes);
        }
        let _ = T38Attributes::from_sdp_lines(&body);
    }
}
