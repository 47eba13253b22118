//! UDPTL (T.38 §9.1 / Annex; Asterisk `udptl.c` wire format): the transport that carries IFPs
//! over UDP with optional redundancy or FEC. Sans-IO: the caller owns the socket.
//!
//! - [`UdptlPacket`] — stateless codec of one datagram (decode borrows, encode appends to a
//!   caller's buffer).
//! - [`Sender`] — numbering, redundancy (per [`IfpKind`] depth) and FEC parity, sized to the
//!   peer's maximum datagram by dropping error-correction data first and never truncating an IFP
//!   ([`UdptlError::IfpTooLarge`] when even the bare IFP does not fit).
//! - [`Receiver`] — in-order, exactly-once delivery with recovery, as [`RxEvent`]s.
//! - [`IfpInbox`] — a receiver as a fax session's source of IFPs: FEC padding cut, gaps given up
//!   when the peer goes quiet.
//!
//! # Receiver semantics
//! - **Order**: IFPs go upward strictly in sequence order, each at most once, with their 16-bit
//!   sequence numbers (wrap 65535 → 0 is seamless: numbers are unwrapped relative to the expected
//!   one).
//! - **Redundancy**: a packet ahead of the expected one first fills the gap from its secondaries
//!   (`seq-1`, `seq-2`, …); zero-length secondaries are rejected with the whole datagram.
//! - **FEC**: entry `m` of packet `p` (span `s`, `e` entries) is the XOR of packets
//!   `p - s·e + m + k·e`, `k = 0..s`; a group with exactly one missing member repairs it, and
//!   repairs repeat while they make other groups solvable.
//! - **Gaps**: a missing IFP is waited for while at most `max_hold` later packets have arrived
//!   (automatically 0 without FEC, `span·entries` with FEC), then reported as
//!   [`RxEvent::Lost`] and skipped — spandsp sees the gap in the next IFP's sequence number and
//!   runs its missing-packet handling.
//! - **Duplicates and late packets** (behind the delivery point) are dropped and counted.
//! - **Jumps** of more than 128 packets ahead give up on the packets between (reported lost);
//!   jumps beyond `resync_threshold` (default 1024) either way are a [`RxEvent::Resync`]: held
//!   IFPs are delivered, numbering restarts at the new packet.
//! - **Hostile input** is a typed [`UdptlError`], counted as `malformed`, and changes nothing.
//!
//! ```
//! use faxline_t38::udptl::{ErrorCorrection, IfpKind, Receiver, RedundancyDepth, RxEvent, Sender, SenderConfig};
//! let mut tx = Sender::new(SenderConfig {
//!     error_correction: ErrorCorrection::Redundancy(RedundancyDepth::uniform(3)),
//!     max_datagram: 400,
//! })
//! .unwrap();
//! let mut rx = Receiver::default();
//! let mut wire = Vec::new();
//! let mut got = Vec::new();
//! for ifp in [&[0x06u8][..], &[0xc0, 0x01, 0x80, 0x00, 0x00, 0xff], &[0x00]] {
//!     wire.clear();
//!     tx.handle_ifp(ifp, IfpKind::Indicator, &mut wire).unwrap();
//!     if ifp.len() == 6 {
//!         continue; // lost on the line; the next packet carries it as a secondary
//!     }
//!     rx.handle_datagram(&wire, |ev| if let RxEvent::Ifp { seq, ifp, .. } = ev { got.push((seq, ifp.to_vec())) }).unwrap();
//! }
//! assert_eq!(got.len(), 3);
//! assert_eq!(rx.stats().recovered, 1);
//! ```

mod error;
mod inbox;
mod packet;
mod receiver;
mod sender;

pub use error::UdptlError;
pub use inbox::IfpInbox;
pub use packet::{
    IfpList, IfpListIter, MAX_IFP_LEN, Recovery, UdptlPacket, encode_fec, encode_redundancy,
    fec_packet_len, length_determinant_len, open_type_len, redundancy_packet_len,
};
pub use receiver::{Receiver, ReceiverConfig, RxEvent, RxStats};
pub use sender::{
    ErrorCorrection, IfpKind, MAX_FEC_ENTRIES, MAX_FEC_SPAN, MAX_REDUNDANCY_DEPTH, RedundancyDepth,
    Sender, SenderConfig, SentPacket,
};
