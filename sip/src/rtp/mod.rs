//! RTP for G.711 audio fax, sans-IO: the fixed header (RFC 3550 §5.1) and a fixed-delay playout
//! buffer.
//!
//! Hand-written on purpose: fax over G.711 needs twelve header octets, one payload type and a
//! fixed jitter buffer; the RTP crates (`rtp`/`webrtc-rtp`) bring the WebRTC utility stack for it.
//!
//! - [`packet`]: parse and write RTP packets, and [`RtpSender`] numbering an outgoing stream;
//! - [`playout`]: [`PlayoutBuffer`], one 20 ms frame out per tick, silence for what is missing.

pub mod packet;
pub mod playout;

pub use packet::{RtpError, RtpPacket, RtpSender};
pub use playout::{Playout, PlayoutBuffer, PlayoutStats};
