//! Whole session descriptions: find the T.38 image stream (and the audio stream) in a peer's SDP,
//! and build our own offers and answers.
//!
//! The generic RFC 8866 syntax is `sdp-types`'s job; this module adds the fax view on top of it.
//! A [`SessionDescription`] keeps the full `sdp_types::Session`, so nothing the peer sent is lost.

use std::net::IpAddr;

use sdp_types::{Attribute, Connection, Media, Origin, Session};

use super::attributes::{T38Attributes, is_t38_attribute};
use super::error::SdpError;

/// Media type token of a T.38 stream.
pub const IMAGE: &str = "image";
/// Transport token of a T.38 stream.
pub const UDPTL: &str = "udptl";
/// Format token of a T.38 stream.
pub const T38: &str = "t38";

/// A parsed SDP body with its fax-relevant streams pulled out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDescription {
    session: Session,
}

/// The `m=image <port> udptl t38` stream of a session description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageStream {
    /// Zero-based index of the `m=` line (answers must keep the offer's m-line order).
    pub index: usize,
    /// UDPTL port; 0 means the stream is declined/disabled.
    pub port: u16,
    /// Where to send UDPTL: the stream's own `c=` or else the session's. `None` only when declined.
    pub address: Option<IpAddr>,
    /// The typed `a=T38…` attributes.
    pub attributes: T38Attributes,
}

impl ImageStream {
    /// A port of 0 declines the stream (RFC 3264 §6).
    pub fn is_declined(&self) -> bool {
        self.port == 0
    }
}

/// An `m=audio` stream (kept minimal until the audio-fax issue needs more).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioStream {
    /// Zero-based index of the `m=` line.
    pub index: usize,
    /// RTP port; 0 means declined.
    pub port: u16,
    /// Where to send RTP. `None` only when declined.
    pub address: Option<IpAddr>,
    /// Transport, e.g. `RTP/AVP`.
    pub proto: String,
    /// Payload type numbers as listed on the m-line.
    pub formats: Vec<String>,
}

fn parse_ip(conn: &Connection) -> Result<IpAddr, SdpError> {
    conn.try_address()
        .map(|a| a.ip)
        .map_err(|_| SdpError::InvalidConnectionAddress(conn.connection_address.clone()))
}

impl SessionDescription {
    /// Parses an SDP body (the bytes after the SIP headers).
    ///
    /// Only structure is checked here; the T.38 attributes are checked by [`Self::image`].
    pub fn parse(body: &[u8]) -> Result<Self, SdpError> {
        Ok(SessionDescription {
            session: Session::parse(body)?,
        })
    }

    /// Wraps an already built `sdp_types::Session`.
    pub fn from_session(session: Session) -> Self {
        SessionDescription { session }
    }

    /// The underlying generic session description.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Consumes `self`, returning the generic session description.
    pub fn into_session(self) -> Session {
        self.session
    }

    /// Serialises with CRLF line ends, ready to be a SIP body.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        // Writing into a Vec cannot fail.
        let _ = self.session.write(&mut out);
        out
    }

    /// The connection address that applies to media line `index`.
    fn address_of(&self, index: usize, media: &Media) -> Result<Option<IpAddr>, SdpError> {
        let conn = media
            .connections
            .first()
            .or(self.session.connection.as_ref());
        match conn {
            Some(c) => parse_ip(c).map(Some),
            None if media.port == 0 => Ok(None),
            None => Err(SdpError::NoConnection {
                index,
                media: media.media.clone(),
            }),
        }
    }

    /// True for the `m=image … udptl t38` lines (tokens compared case-insensitively).
    pub fn is_t38_media(media: &Media) -> bool {
        media.media.eq_ignore_ascii_case(IMAGE)
            && media.proto.eq_ignore_ascii_case(UDPTL)
            && media
                .fmt
                .split_ascii_whitespace()
                .any(|f| f.eq_ignore_ascii_case(T38))
    }

    /// The first `m=image … udptl t38` stream, if any, with its T.38 attributes parsed.
    ///
    /// Errors: a malformed `a=T38…` value, or a live stream without a usable `c=` address.
    pub fn image(&self) -> Result<Option<ImageStream>, SdpError> {
        let Some((index, media)) = self
            .session
            .medias
            .iter()
            .enumerate()
            .find(|(_, m)| Self::is_t38_media(m))
        else {
            return Ok(None);
        };
        let attributes = T38Attributes::from_attributes(&media.attributes)?;
        Ok(Some(ImageStream {
            index,
            port: media.port,
            address: self.address_of(index, media)?,
            attributes,
        }))
    }

    /// The first `m=audio` stream, if any.
    pub fn audio(&self) -> Result<Option<AudioStream>, SdpError> {
        let Some((index, media)) = self
            .session
            .medias
            .iter()
            .enumerate()
            .find(|(_, m)| m.media.eq_ignore_ascii_case("audio"))
        else {
            return Ok(None);
        };
        Ok(Some(AudioStream {
            index,
            port: media.port,
            address: self.address_of(index, media)?,
            proto: media.proto.clone(),
            formats: media
                .fmt
                .split_ascii_whitespace()
                .map(str::to_owned)
                .collect(),
        }))
    }

    /// Number of `m=` lines.
    pub fn media_count(&self) -> usize {
        self.session.medias.len()
    }
}

/// Identity of our side in the `o=` line. Bump `version` for every new offer/answer in a dialog
/// (RFC 3264 §8): [`SdpOrigin::next`] does that.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SdpOrigin {
    /// `o=` username (no spaces), e.g. `faxline`.
    pub username: String,
    /// Session id, fixed for the dialog.
    pub session_id: u64,
    /// Session version, incremented on each change.
    pub version: u64,
    /// Our address as written in `o=`.
    pub address: IpAddr,
}

impl SdpOrigin {
    /// The origin for the next SDP of the same dialog (version + 1).
    pub fn next(&self) -> Self {
        SdpOrigin {
            version: self.version.wrapping_add(1),
            ..self.clone()
        }
    }
}

/// Builds our SDP bodies: image-only re-INVITE offers, answers that accept or decline streams,
/// and (later) audio streams via [`SdpBuilder::media`].
#[derive(Debug, Clone)]
pub struct SdpBuilder {
    session: Session,
}

impl SdpBuilder {
    /// Starts a session with `o=`, `s=`, a session-level `c=` and `t=0 0`.
    pub fn new(origin: &SdpOrigin, session_name: &str, connection: IpAddr) -> Self {
        let mut o = Origin::with_ip_addr(origin.session_id, origin.version, origin.address);
        o.set_username(&origin.username);
        let mut session = Session::new(o, session_name);
        session.set_connection(Connection::from_ip_addr(connection));
        session.add_time(sdp_types::Time::new(0, 0));
        SdpBuilder { session }
    }

    /// Appends `m=image <port> udptl t38` with the given T.38 attributes.
    pub fn image(mut self, port: u16, attributes: &T38Attributes) -> Self {
        self.session.add_media(image_media(port, attributes));
        self
    }

    /// Appends a declined copy of an offered m-line (`port 0`, same media/proto/fmt, no
    /// attributes), as RFC 3264 requires for every offered stream we do not accept. For a T.38
    /// stream this yields `m=image 0 udptl t38`.
    pub fn declined(mut self, offered: &Media) -> Self {
        let mut m = Media::new(
            sdp_types::MediaType::Image,
            0,
            sdp_types::TransportProto::Other(offered.proto.clone()),
            &offered.fmt,
        );
        m.media.clone_from(&offered.media);
        self.session.add_media(m);
        self
    }

    /// Appends any other m-line unchanged (the audio issue builds these).
    pub fn media(mut self, media: Media) -> Self {
        self.session.add_media(media);
        self
    }

    /// Finishes the description.
    pub fn build(self) -> SessionDescription {
        SessionDescription {
            session: self.session,
        }
    }
}

/// An `m=image <port> udptl t38` media line carrying `attributes`.
pub fn image_media(port: u16, attributes: &T38Attributes) -> Media {
    let mut m = Media::new(
        sdp_types::MediaType::Image,
        port,
        sdp_types::TransportProto::Other(UDPTL.to_owned()),
        T38,
    );
    m.add_attributes(attributes.to_attributes());
    m
}

/// The non-T.38 attributes of a media line (e.g. `sendrecv`), for callers that want to keep them.
pub fn non_t38_attributes(media: &Media) -> impl Iterator<Item = &Attribute> {
    media
        .attributes
        .iter()
        .filter(|a| !is_t38_attribute(&a.attribute))
}
