//! Typed errors for SDP parsing and T.38 negotiation.

/// Why an SDP body (or its T.38 part) could not be used.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SdpError {
    /// The body is not a well-formed session description (RFC 8866 syntax).
    #[error("malformed SDP: {0}")]
    Syntax(#[from] sdp_types::ParserError),
    /// A known `a=T38…` attribute carries a value we cannot interpret.
    #[error("attribute a={name} has an invalid value {value:?}: {reason}")]
    InvalidAttribute {
        /// Canonical attribute name.
        name: &'static str,
        /// The value as received (truncated to 64 characters).
        value: String,
        /// What was wrong with it.
        reason: &'static str,
    },
    /// A known `a=T38…` attribute that needs a value came without one.
    #[error("attribute a={name} needs a value")]
    MissingValue {
        /// Canonical attribute name.
        name: &'static str,
    },
    /// A media stream that is in use (port ≠ 0) has no `c=` line, neither its own nor a session one.
    #[error("media stream {index} ({media}) has no connection address")]
    NoConnection {
        /// Zero-based index of the `m=` line.
        index: usize,
        /// Its media type.
        media: String,
    },
    /// A `c=` line whose address is not an IP address (FQDNs are not resolved here).
    #[error("connection address {0:?} is not an IP address")]
    InvalidConnectionAddress(String),
}

impl SdpError {
    pub(crate) fn invalid(name: &'static str, value: &str, reason: &'static str) -> Self {
        SdpError::InvalidAttribute {
            name,
            value: value.chars().take(64).collect(),
            reason,
        }
    }
}

/// Why an offer or answer cannot be turned into a working T.38 session.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NegotiationError {
    /// The far end's maximum bit rate is below the slowest fax modem (2400 bit/s).
    #[error("far end's maximum bit rate {0} bit/s is below 2400")]
    BitRateTooLow(u32),
    /// Even without any error correction the far end's datagram limit cannot carry an IFP of the
    /// size our fax engine produces; sending would mean truncating IFPs, which we never do.
    #[error(
        "far end accepts datagrams of at most {far_max_datagram} bytes, which cannot carry a \
         {min_ifp}-byte IFP with {ec}; refusing rather than truncating"
    )]
    DatagramTooSmall {
        /// The far maximum datagram we had to work with (after defaults and overrides).
        far_max_datagram: u32,
        /// The smallest IFP size our side must be able to send.
        min_ifp: u32,
        /// Human-readable EC mode that was tried last.
        ec: &'static str,
    },
    /// The answer chose an error-correction mode we do not allow by configuration.
    #[error("the answer selected error correction {0}, which our configuration does not allow")]
    UnsupportedEc(&'static str),
}
