//! The SDP bodies of a fax call: G.711 audio and T.38 image streams, built and read with `sdp-types`.
//!
//! The T.38 SDP module of `faxline-t38` (helper "sdp") was not available when this line was written,
//! so the few T.38 attributes a fax call needs are read and written here, following Asterisk's
//! rules (telephony.md §3.3): flags are presence-only and never sent as `:0`, names are matched
//! case-insensitively, the last `T38FaxUdpEC` wins unless a stronger one is listed, absent version
//! means 0.

use std::net::IpAddr;

use sdp_types::{Attribute, Connection, Media, Origin, Session, Time};

/// Why an SDP body could not be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SdpError {
    /// Not parseable as SDP.
    #[error("malformed SDP: {0}")]
    Malformed(String),
    /// A stream has no usable connection address.
    #[error("SDP stream without a usable connection address")]
    NoAddress,
}

/// UDPTL error correction (`T38FaxUdpEC`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UdptlEc {
    /// No error correction (attribute absent).
    None,
    /// `t38UDPRedundancy`: earlier IFPs repeated in every packet.
    #[default]
    Redundancy,
    /// `t38UDPFEC`: XOR parity over spans of packets.
    Fec,
}

/// The T.38 attributes of an image stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct T38Attrs {
    /// `T38FaxVersion` (absent ⇒ 0).
    pub version: u8,
    /// `T38MaxBitRate` / `T38FaxMaxRate`.
    pub max_bit_rate: u32,
    /// `T38FaxRateManagement` is `localTCF` (otherwise `transferredTCF`).
    pub local_tcf: bool,
    /// `T38FaxMaxDatagram` / `T38MaxDatagram`: the largest UDPTL payload the sender of this SDP accepts.
    pub max_datagram: u16,
    /// `T38FaxUdpEC`.
    pub ec: UdptlEc,
    /// `T38FaxFillBitRemoval` (presence ⇒ true, like Asterisk).
    pub fill_bit_removal: bool,
}

impl Default for T38Attrs {
    /// What we offer: version 0 (what Asterisk terminals end at), 14400, transferredTCF, 400-octet
    /// datagrams (telephony.md §6.3 "advertise ≥400"), redundancy.
    fn default() -> Self {
        Self {
            version: 0,
            max_bit_rate: 14400,
            local_tcf: false,
            max_datagram: 400,
            ec: UdptlEc::Redundancy,
            fill_bit_removal: false,
        }
    }
}

impl T38Attrs {
    /// Our answer to a peer's T.38 offer: version and bit rate are the minimum of both, rate
    /// management is theirs, flags AND-ed, EC theirs (we support all three), our own datagram size.
    pub fn answer_to(&self, offer: &T38Attrs) -> T38Attrs {
        T38Attrs {
            version: self.version.min(offer.version),
            max_bit_rate: self.max_bit_rate.min(offer.max_bit_rate).max(2400),
            local_tcf: offer.local_tcf,
            max_datagram: self.max_datagram,
            ec: offer.ec,
            fill_bit_removal: self.fill_bit_removal && offer.fill_bit_removal,
        }
    }
}

/// G.711 RTP payload types we accept.
pub const PCMU: u8 = 0;
/// A-law.
pub const PCMA: u8 = 8;

/// One media stream (`m=` line) of an SDP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stream {
    /// `m=audio <port> RTP/AVP <payloads>`.
    Audio { port: u16, payloads: Vec<u8> },
    /// `m=image <port> udptl t38`.
    Image { port: u16, t38: T38Attrs },
    /// Anything else (video, TCP T.38, …): kept so an answer can decline it in place.
    Other {
        media: String,
        proto: String,
        fmt: String,
    },
}

impl Stream {
    /// True for a stream with a non-zero port.
    pub fn is_active(&self) -> bool {
        match self {
            Stream::Audio { port, .. } | Stream::Image { port, .. } => *port != 0,
            Stream::Other { .. } => false,
        }
    }
}

/// The parts of an SDP body a fax call cares about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaDescription {
    /// Session-level (or first media-level) connection address.
    pub addr: IpAddr,
    /// The streams in order.
    pub streams: Vec<Stream>,
}

impl MediaDescription {
    /// The first active audio stream offering PCMU or PCMA, with the law to use (the first
    /// G.711 payload in their preference order).
    pub fn audio(&self) -> Option<(u16, u8)> {
        self.streams.iter().find_map(|s| match s {
            Stream::Audio { port, payloads } if *port != 0 => payloads
                .iter()
                .find(|p| **p == PCMU || **p == PCMA)
                .map(|p| (*port, *p)),
            _ => None,
        })
    }

    /// The first image stream (active or declined).
    pub fn image(&self) -> Option<(u16, T38Attrs)> {
        self.streams.iter().find_map(|s| match s {
            Stream::Image { port, t38 } => Some((*port, *t38)),
            _ => None,
        })
    }

    /// Parses an SDP body.
    pub fn parse(body: &[u8]) -> Result<Self, SdpError> {
        let session = Session::parse(body).map_err(|e| SdpError::Malformed(e.to_string()))?;
        let session_addr = session.connection.as_ref().and_then(conn_ip);
        let mut addr = session_addr;
        let mut streams = Vec::with_capacity(session.medias.len());
        for m in &session.medias {
            if addr.is_none() {
                addr = m.connections.first().and_then(conn_ip);
            }
            streams.push(parse_stream(m));
        }
        Ok(Self {
            addr: addr.ok_or(SdpError::NoAddress)?,
            streams,
        })
    }

    /// Writes the SDP body (`o=` version `version`, `c=` at session level).
    pub fn to_sdp(&self, session_id: u64, version: u64) -> String {
        let mut session = Session::new(
            Origin {
                username: Some("faxline".into()),
                sess_id: session_id.to_string(),
                sess_version: version,
                nettype: sdp_types::NetType::In,
                addrtype: addr_type(self.addr),
                unicast_address: self.addr.to_string(),
            },
            "faxline",
        );
        session.connection = Some(Connection::from_ip_addr(self.addr));
        session.times.push(Time::new(0, 0));
        for s in &self.streams {
            session.medias.push(write_stream(s));
        }
        let mut out = Vec::new();
        // Writing into a Vec cannot fail.
        let _ = session.write(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }
}

fn addr_type(addr: IpAddr) -> sdp_types::AddrType {
    match addr {
        IpAddr::V4(_) => sdp_types::AddrType::Ip4,
        IpAddr::V6(_) => sdp_types::AddrType::Ip6,
    }
}

fn conn_ip(c: &Connection) -> Option<IpAddr> {
    // `c=` may carry a TTL or count suffix for multicast; unicast fax peers never do.
    c.connection_address.split('/').next()?.parse().ok()
}

fn parse_stream(m: &Media) -> Stream {
    let proto = m.proto.to_ascii_lowercase();
    match (m.media.to_ascii_lowercase().as_str(), proto.as_str()) {
        ("audio", "rtp/avp") => Stream::Audio {
            port: m.port,
            payloads: m
                .fmt
                .split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect(),
        },
        ("image", "udptl") if m.fmt.trim().eq_ignore_ascii_case("t38") => Stream::Image {
            port: m.port,
            t38: parse_t38(&m.attributes),
        },
        _ => Stream::Other {
            media: m.media.clone(),
            proto: m.proto.clone(),
            fmt: m.fmt.clone(),
        },
    }
}

fn parse_t38(attrs: &[Attribute]) -> T38Attrs {
    let mut t = T38Attrs {
        max_datagram: 0,
        ec: UdptlEc::None,
        ..T38Attrs::default()
    };
    let mut ecs = Vec::new();
    for a in attrs {
        let name = a.attribute.to_ascii_lowercase();
        let value = a.value.as_deref().unwrap_or("").trim();
        match name.as_str() {
            "t38faxversion" => t.version = value.parse().unwrap_or(0),
            "t38maxbitrate" | "t38faxmaxrate" => {
                if let Ok(r) = value.parse::<u32>() {
                    t.max_bit_rate = r.clamp(2400, 14400);
                }
            }
            "t38faxratemanagement" => t.local_tcf = value.eq_ignore_ascii_case("localTCF"),
            "t38faxmaxdatagram" | "t38maxdatagram" => t.max_datagram = value.parse().unwrap_or(0),
            "t38faxudpec" => {
                if value.eq_ignore_ascii_case("t38UDPRedundancy") {
                    ecs.push(UdptlEc::Redundancy);
                } else if value.eq_ignore_ascii_case("t38UDPFEC") {
                    ecs.push(UdptlEc::Fec);
                }
            }
            "t38faxfillbitremoval" => t.fill_bit_removal = true,
            _ => {}
        }
    }
    // Several EC lines: the strongest we support (telephony.md §6).
    t.ec = if ecs.contains(&UdptlEc::Redundancy) {
        UdptlEc::Redundancy
    } else if ecs.contains(&UdptlEc::Fec) {
        UdptlEc::Fec
    } else {
        UdptlEc::None
    };
    // 0 or absurd sizes: Asterisk's rule, 400.
    if t.max_datagram == 0 || t.max_datagram > 1400 {
        t.max_datagram = 400;
    }
    t
}

fn write_stream(s: &Stream) -> Media {
    match s {
        Stream::Audio { port, payloads } => {
            let fmt = payloads
                .iter()
                .map(u8::to_string)
                .collect::<Vec<_>>()
                .join(" ");
            let mut m = Media::new(
                sdp_types::MediaType::Audio,
                *port,
                sdp_types::TransportProto::RtpAvp,
                fmt,
            );
            for p in payloads {
                let name = match *p {
                    PCMU => "PCMU",
                    PCMA => "PCMA",
                    _ => continue,
                };
                m.attributes
                    .push(Attribute::with_value("rtpmap", format!("{p} {name}/8000")));
            }
            // Fax over G.711: fixed 20 ms packets, no silence suppression (telephony.md §6.5).
            m.attributes.push(Attribute::with_value("ptime", "20"));
            m.attributes
                .push(Attribute::with_value("silenceSupp", "off - - - -"));
            m.attributes.push(Attribute::new("sendrecv"));
            m
        }
        Stream::Image { port, t38 } => {
            let mut m = Media {
                media: "image".into(),
                port: *port,
                num_ports: None,
                proto: "udptl".into(),
                fmt: "t38".into(),
                media_title: None,
                connections: Vec::new(),
                bandwidths: Vec::new(),
                key: None,
                attributes: Vec::new(),
            };
            let a = &mut m.attributes;
            a.push(Attribute::with_value(
                "T38FaxVersion",
                t38.version.to_string(),
            ));
            a.push(Attribute::with_value(
                "T38MaxBitRate",
                t38.max_bit_rate.to_string(),
            ));
            if t38.fill_bit_removal {
                a.push(Attribute::new("T38FaxFillBitRemoval"));
            }
            let rm = if t38.local_tcf {
                "localTCF"
            } else {
                "transferredTCF"
            };
            a.push(Attribute::with_value("T38FaxRateManagement", rm));
            a.push(Attribute::with_value(
                "T38FaxMaxDatagram",
                t38.max_datagram.to_string(),
            ));
            match t38.ec {
                UdptlEc::None => {}
                UdptlEc::Redundancy => {
                    a.push(Attribute::with_value("T38FaxUdpEC", "t38UDPRedundancy"))
                }
                UdptlEc::Fec => a.push(Attribute::with_value("T38FaxUdpEC", "t38UDPFEC")),
            }
            m
        }
        Stream::Other { media, proto, fmt } => Media {
            media: media.clone(),
            port: 0,
            num_ports: None,
            proto: proto.clone(),
            fmt: fmt.clone(),
            media_title: None,
            connections: Vec::new(),
            bandwidths: Vec::new(),
            key: None,
            attributes: Vec::new(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The re-INVITE body Asterisk 20 sent in fixtures/captures/t38_fax_to_agent (frame 306).
    const ASTERISK_T38: &str = "v=0\r\no=asterisk-lab 433245487 433245489 IN IP4 127.0.0.1\r\ns=asterisk-lab\r\n\
c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=image 6330 udptl t38\r\na=T38FaxVersion:0\r\na=T38MaxBitRate:14400\r\n\
a=T38FaxRateManagement:transferredTCF\r\na=T38FaxMaxDatagram:1400\r\na=T38FaxUdpEC:t38UDPRedundancy\r\n";

    #[test]
    fn reads_asterisk_t38_offer() {
        let d = MediaDescription::parse(ASTERISK_T38.as_bytes()).unwrap();
        assert_eq!(d.addr, "127.0.0.1".parse::<IpAddr>().unwrap());
        let (port, t) = d.image().unwrap();
        assert_eq!(port, 6330);
        assert_eq!(
            t,
            T38Attrs {
                max_datagram: 1400,
                ..T38Attrs::default()
            }
        );
        assert!(d.audio().is_none());
    }

    #[test]
    fn flags_are_presence_only_and_zero_datagram_means_400() {
        let body = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n\
m=image 4000 udptl t38\r\na=t38faxfillbitremoval:0\r\na=T38FaxMaxDatagram:0\r\na=T38FaxUdpEC:t38UDPFEC\r\n\
a=T38FaxUdpEC:t38UDPRedundancy\r\n";
        let (_, t) = MediaDescription::parse(body.as_bytes())
            .unwrap()
            .image()
            .unwrap();
        assert!(t.fill_bit_removal);
        assert_eq!(t.max_datagram, 400);
        assert_eq!(t.ec, UdptlEc::Redundancy);
        assert_eq!(t.version, 0);
    }

    #[test]
    fn round_trips_audio_and_image() {
        let d = MediaDescription {
            addr: "127.0.0.1".parse().unwrap(),
            streams: vec![
                Stream::Audio {
                    port: 10000,
                    payloads: vec![PCMU, PCMA],
                },
                Stream::Image {
                    port: 0,
                    t38: T38Attrs::default(),
                },
            ],
        };
        let text = d.to_sdp(7, 1);
        assert!(text.contains("m=audio 10000 RTP/AVP 0 8\r\n"), "{text}");
        assert!(text.contains("a=silenceSupp:off - - - -"));
        assert!(!text.contains("FillBitRemoval"));
        let back = MediaDescription::parse(text.as_bytes()).unwrap();
        assert_eq!(back, d);
        assert_eq!(back.audio(), Some((10000, PCMU)));
    }

    #[test]
    fn answer_takes_minimum_version_and_rate() {
        let ours = T38Attrs {
            version: 2,
            ..T38Attrs::default()
        };
        let offer = T38Attrs {
            version: 0,
            max_bit_rate: 9600,
            local_tcf: false,
            max_datagram: 1400,
            ec: UdptlEc::Fec,
            fill_bit_removal: true,
        };
        let a = ours.answer_to(&offer);
        assert_eq!(
            (
                a.version,
                a.max_bit_rate,
                a.ec,
                a.fill_bit_removal,
                a.max_datagram
            ),
            (0, 9600, UdptlEc::Fec, false, 400)
        );
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(MediaDescription::parse(b"\xff\x00garbage").is_err());
        assert_eq!(
            MediaDescription::parse(
                b"v=0\r\no=- 1 1 IN IP4 x\r\ns=-\r\nt=0 0\r\nm=audio 1 RTP/AVP 0\r\n"
            ),
            Err(SdpError::NoAddress)
        );
    }
}
