//! The SDP bodies of a fax call: G.711 audio streams here, T.38 image streams from
//! `faxline_t38::sdp` (attribute parsing and emission, offer/answer negotiation, datagram sizing),
//! both on `sdp-types`.
//!
//! What stays local is the audio side (PCMU/PCMA, `ptime:20`, no silence suppression) and the
//! stream-by-stream view a call needs to answer an offer in m-line order.

use std::net::IpAddr;

use faxline_t38::sdp::session::image_media;
use faxline_t38::sdp::{SdpBuilder, SdpOrigin, SessionDescription, T38Attributes};
use sdp_types::{Attribute, Connection, Media};

/// Why an SDP body could not be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SdpError {
    /// Not parseable as SDP, or a malformed `a=T38…` attribute.
    #[error(transparent)]
    Malformed(#[from] faxline_t38::sdp::SdpError),
    /// A stream has no usable connection address.
    #[error("SDP stream without a usable connection address")]
    NoAddress,
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
    /// `m=image <port> udptl t38` with its typed T.38 attributes.
    Image { port: u16, t38: T38Attributes },
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
    pub fn image(&self) -> Option<(u16, &T38Attributes)> {
        self.streams.iter().find_map(|s| match s {
            Stream::Image { port, t38 } => Some((*port, t38)),
            _ => None,
        })
    }

    /// Parses an SDP body (a malformed `a=T38…` value is an error, like broken syntax).
    pub fn parse(body: &[u8]) -> Result<Self, SdpError> {
        let parsed = SessionDescription::parse(body)?;
        let session = parsed.session();
        let mut addr = session.connection.as_ref().and_then(conn_ip);
        let mut streams = Vec::with_capacity(session.medias.len());
        for m in &session.medias {
            if addr.is_none() {
                addr = m.connections.first().and_then(conn_ip);
            }
            streams.push(parse_stream(m)?);
        }
        Ok(Self {
            addr: addr.ok_or(SdpError::NoAddress)?,
            streams,
        })
    }

    /// Writes the SDP body (`o=` version `version`, `c=` at session level).
    pub fn to_sdp(&self, session_id: u64, version: u64) -> String {
        let origin = SdpOrigin {
            username: "faxline".into(),
            session_id,
            version,
            address: self.addr,
        };
        let builder = self
            .streams
            .iter()
            .fold(SdpBuilder::new(&origin, "faxline", self.addr), |b, s| {
                b.media(write_stream(s))
            });
        String::from_utf8_lossy(&builder.build().to_bytes()).into_owned()
    }
}

fn conn_ip(c: &Connection) -> Option<IpAddr> {
    // `c=` may carry a TTL or count suffix for multicast; unicast fax peers never do.
    c.connection_address.split('/').next()?.parse().ok()
}

fn parse_stream(m: &Media) -> Result<Stream, SdpError> {
    if SessionDescription::is_t38_media(m) {
        return Ok(Stream::Image {
            port: m.port,
            t38: T38Attributes::from_attributes(&m.attributes)?,
        });
    }
    let proto = m.proto.to_ascii_lowercase();
    Ok(
        match (m.media.to_ascii_lowercase().as_str(), proto.as_str()) {
            ("audio", "rtp/avp") => Stream::Audio {
                port: m.port,
                payloads: m
                    .fmt
                    .split_whitespace()
                    .filter_map(|p| p.parse().ok())
                    .collect(),
            },
            _ => Stream::Other {
                media: m.media.clone(),
                proto: m.proto.clone(),
                fmt: m.fmt.clone(),
            },
        },
    )
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
            let mut m = image_media(*port, t38);
            if *port == 0 {
                // A declined stream carries no attributes (RFC 3264 §6).
                m.attributes.clear();
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
    use faxline_t38::sdp::{LocalT38Config, UdpEc};

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
            (
                t.version,
                t.max_bit_rate,
                t.max_datagram,
                t.udp_ec.as_slice()
            ),
            (0, Some(14400), Some(1400), &[UdpEc::Redundancy][..])
        );
        assert!(d.audio().is_none());
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
                    port: 4000,
                    t38: LocalT38Config::default().offer(),
                },
                Stream::Image {
                    port: 0,
                    t38: T38Attributes::default(),
                },
            ],
        };
        let text = d.to_sdp(7, 1);
        assert!(text.contains("m=audio 10000 RTP/AVP 0 8\r\n"), "{text}");
        assert!(text.contains("a=silenceSupp:off - - - -"));
        assert!(text.contains("m=image 4000 udptl t38\r\n"), "{text}");
        assert!(text.contains("a=T38FaxUdpEC:t38UDPRedundancy"), "{text}");
        assert!(text.contains("m=image 0 udptl t38\r\n"), "{text}");
        assert!(!text.contains("FillBitRemoval"));
        let back = MediaDescription::parse(text.as_bytes()).unwrap();
        assert_eq!(back, d);
        assert_eq!(back.audio(), Some((10000, PCMU)));
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
        // A malformed T.38 attribute value is refused, not guessed.
        let bad = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n\
m=image 4000 udptl t38\r\na=T38FaxMaxDatagram:lots\r\n";
        assert!(matches!(
            MediaDescription::parse(bad.as_bytes()),
            Err(SdpError::Malformed(_))
        ));
    }
}
