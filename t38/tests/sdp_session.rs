//! Whole SDP bodies: finding the image and audio streams, building offers and answers.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use faxline_t38::sdp::{
    LocalT38Config, SdpBuilder, SdpError, SdpOrigin, SessionDescription, T38Attributes, UdpEc,
};

const INITIAL_WITH_IMAGE: &str = "v=0\r\n\
o=carrier 1 1 IN IP4 198.51.100.7\r\n\
s=call\r\n\
c=IN IP4 198.51.100.7\r\n\
t=0 0\r\n\
m=audio 20000 RTP/AVP 0 8 101\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
m=image 20002 udptl t38\r\n\
c=IN IP6 2001:db8::5\r\n\
a=T38FaxVersion:1\r\n\
a=T38FaxMaxRate:9600\r\n\
a=T38FaxRateManagement:transferredTCF\r\n\
a=T38MaxDatagram:320\r\n\
a=T38FaxUdpEC:t38UDPFEC\r\n\
a=T38FaxUdpEC:t38UDPRedundancy\r\n\
a=sendrecv\r\n";

fn origin() -> SdpOrigin {
    SdpOrigin {
        username: "faxline".into(),
        session_id: 4242,
        version: 7,
        address: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10)),
    }
}

#[test]
fn finds_audio_and_image_streams_with_their_addresses() {
    let sdp = SessionDescription::parse(INITIAL_WITH_IMAGE.as_bytes()).unwrap();
    assert_eq!(sdp.media_count(), 2);
    let audio = sdp.audio().unwrap().unwrap();
    assert_eq!(audio.index, 0);
    assert_eq!(audio.port, 20000);
    assert_eq!(audio.address, Some("198.51.100.7".parse().unwrap()));
    assert_eq!(audio.proto, "RTP/AVP");
    assert_eq!(audio.formats, ["0", "8", "101"]);
    let image = sdp.image().unwrap().unwrap();
    assert_eq!(image.index, 1);
    assert_eq!(image.port, 20002);
    // The media-level c= wins over the session-level one.
    assert_eq!(
        image.address,
        Some(IpAddr::V6("2001:db8::5".parse::<Ipv6Addr>().unwrap()))
    );
    assert_eq!(image.attributes.version, 1);
    assert_eq!(image.attributes.max_bit_rate, Some(9600));
    assert_eq!(image.attributes.max_datagram, Some(320));
    assert_eq!(image.attributes.udp_ec, vec![UdpEc::Fec, UdpEc::Redundancy]);
    assert!(!image.is_declined());
}

#[test]
fn audio_only_body_has_no_image() {
    let body = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
                m=audio 1000 RTP/AVP 0\r\n";
    let sdp = SessionDescription::parse(body.as_bytes()).unwrap();
    assert_eq!(sdp.image().unwrap(), None);
    assert!(sdp.audio().unwrap().is_some());
}

#[test]
fn zero_port_image_is_declined_and_needs_no_address() {
    // telephony.md §8 t38_zero_port: must not crash.
    let body = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=image 0 udptl t38\r\n";
    let image = SessionDescription::parse(body.as_bytes())
        .unwrap()
        .image()
        .unwrap()
        .unwrap();
    assert!(image.is_declined());
    assert_eq!(image.address, None);
    assert_eq!(image.attributes, T38Attributes::default());
}

#[test]
fn broken_bodies_give_typed_errors() {
    let no_c = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=image 4000 udptl t38\r\n";
    assert!(matches!(
        SessionDescription::parse(no_c.as_bytes()).unwrap().image(),
        Err(SdpError::NoConnection { index: 0, .. })
    ));
    let fqdn = "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 fax.example.com\r\nt=0 0\r\n\
                m=image 4000 udptl t38\r\n";
    assert!(matches!(
        SessionDescription::parse(fqdn.as_bytes()).unwrap().image(),
        Err(SdpError::InvalidConnectionAddress(_))
    ));
    let bad_attr = "v=0\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=image 4000 udptl t38\r\n\
                    a=T38FaxVersion:x\r\n";
    assert!(matches!(
        SessionDescription::parse(bad_attr.as_bytes())
            .unwrap()
            .image(),
        Err(SdpError::InvalidAttribute { .. })
    ));
    for body in [
        "",
        "hello",
        "v=1\r\n",
        "v=0\r\nm=image port udptl t38\r\n",
        "v=0\r\nm=image 99999 udptl t38\r\n",
        "v=0\r\nc=IN IP4\r\n",
    ] {
        assert!(
            matches!(
                SessionDescription::parse(body.as_bytes()),
                Err(SdpError::Syntax(_))
            ),
            "{body:?}"
        );
    }
}

#[test]
fn image_only_reinvite_offer_round_trips() {
    let cfg = LocalT38Config::default();
    let offer = SdpBuilder::new(&origin(), "faxline", origin().address)
        .image(4010, &cfg.offer())
        .build();
    let text = String::from_utf8(offer.to_bytes()).unwrap();
    assert_eq!(
        text,
        "v=0\r\n\
         o=faxline 4242 7 IN IP4 192.0.2.10\r\n\
         s=faxline\r\n\
         c=IN IP4 192.0.2.10\r\n\
         t=0 0\r\n\
         m=image 4010 udptl t38\r\n\
         a=T38FaxVersion:0\r\n\
         a=T38MaxBitRate:14400\r\n\
         a=T38FaxRateManagement:transferredTCF\r\n\
         a=T38FaxMaxDatagram:1400\r\n\
         a=T38FaxUdpEC:t38UDPRedundancy\r\n"
    );
    let back = SessionDescription::parse(text.as_bytes()).unwrap();
    assert_eq!(back, offer);
    let image = back.image().unwrap().unwrap();
    assert_eq!(image.attributes, cfg.offer());
    assert_eq!(image.address, Some(origin().address));
    assert_eq!(origin().next().version, 8);
}

#[test]
fn initial_invite_answer_declines_the_image_stream() {
    // T.38 in an initial INVITE is declined (port 0); audio is answered (by the audio issue's code;
    // here the offered audio line is echoed to show the builder keeps m-line order).
    let offer = SessionDescription::parse(INITIAL_WITH_IMAGE.as_bytes()).unwrap();
    let medias = &offer.session().medias;
    let answer = SdpBuilder::new(&origin(), "faxline", origin().address)
        .media(medias[0].clone())
        .declined(&medias[1])
        .build();
    let text = String::from_utf8(answer.to_bytes()).unwrap();
    assert!(text.ends_with("m=image 0 udptl t38\r\n"), "{text}");
    let back = SessionDescription::parse(text.as_bytes()).unwrap();
    assert_eq!(back.media_count(), 2);
    assert!(back.image().unwrap().unwrap().is_declined());
    assert_eq!(back.audio().unwrap().unwrap().port, 20000);
}

#[test]
fn answer_to_a_reinvite_carries_the_negotiated_values() {
    let offer = SessionDescription::parse(INITIAL_WITH_IMAGE.as_bytes()).unwrap();
    let image = offer.image().unwrap().unwrap();
    let n = LocalT38Config::default().answer(&image.attributes).unwrap();
    let answer = SdpBuilder::new(&origin(), "faxline", origin().address)
        .image(4012, &n.answer_attributes())
        .build();
    let got = answer.image().unwrap().unwrap();
    assert_eq!(got.port, 4012);
    assert_eq!(got.attributes.version, 0);
    assert_eq!(got.attributes.max_bit_rate, Some(9600));
    assert_eq!(got.attributes.udp_ec, vec![UdpEc::Redundancy]);
    assert_eq!(got.attributes.max_datagram, Some(1400));
}
