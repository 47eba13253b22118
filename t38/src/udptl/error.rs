//! Typed UDPTL errors: hostile or broken datagrams are rejected with one of these, never a panic.

use thiserror::Error;

/// Why a UDPTL datagram could not be decoded, or a packet could not be built.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum UdptlError {
    /// The datagram ends inside the named element.
    #[error("UDPTL packet truncated in {0}")]
    Truncated(&'static str),
    /// A length determinant announcing more octets than the datagram still holds.
    #[error("{what} announces {len} octets but only {available} remain")]
    LengthPastEnd {
        /// Which element.
        what: &'static str,
        /// The announced length.
        len: usize,
        /// Octets left in the datagram.
        available: usize,
    },
    /// A PER length of 16K or more (fragmentation): no T.38 stack sends these; Asterisk refuses
    /// them too.
    #[error("fragmented length (16K or more) in {0} is not supported")]
    Fragmented(&'static str),
    /// A zero-length IFP or FEC entry (the AST-2016-003 crash pattern) — an IFP is never empty.
    #[error("zero-length {0}")]
    ZeroLength(&'static str),
    /// `fec-npackets` must be encoded in one octet (as every implementation does).
    #[error("fec-npackets encoded in {0} octets (expected 1)")]
    FecSpanLength(u8),
    /// Octets after the error-recovery part.
    #[error("{extra} trailing octet(s) after the UDPTL packet")]
    TrailingBytes {
        /// How many octets were not consumed.
        extra: usize,
    },
    /// The receiver only handles FEC with `span` and `entries` up to [`crate::udptl::MAX_FEC_SPAN`] / [`crate::udptl::MAX_FEC_ENTRIES`].
    #[error("FEC span {span} × entries {entries} exceeds what the receiver tracks")]
    FecTooLarge {
        /// Announced span.
        span: u8,
        /// Announced number of entries.
        entries: usize,
    },
    /// An IFP to send is empty.
    #[error("refusing to send an empty IFP")]
    EmptyIfp,
    /// An IFP (with the UDPTL overhead of its packet) does not fit the peer's maximum datagram
    /// even without any error-correction data. It is never truncated.
    #[error(
        "IFP of {ifp_len} octets needs a {needed}-octet datagram; the peer accepts {max_datagram}"
    )]
    IfpTooLarge {
        /// The IFP's length.
        ifp_len: usize,
        /// The smallest datagram that would carry it.
        needed: usize,
        /// The configured maximum datagram.
        max_datagram: usize,
    },
    /// An IFP or FEC entry of 16K or more cannot be encoded without fragmentation.
    #[error("{0}-octet IFP is too long for an unfragmented UDPTL packet")]
    TooLong(usize),
    /// A sender configuration outside the supported ranges.
    #[error("invalid UDPTL configuration: {0}")]
    InvalidConfig(&'static str),
}
