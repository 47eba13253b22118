//! Typed IFP codec errors: every malformed or unencodable packet gets one, never a panic.

use thiserror::Error;

/// Why an IFP could not be decoded or encoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IfpError {
    /// T.38 versions are 0 to 3.
    #[error("unsupported T.38 version {0} (known: 0 to 3)")]
    UnsupportedVersion(u8),
    /// A zero-length IFP.
    #[error("empty IFP packet")]
    Empty,
    /// The packet ends inside the named element.
    #[error("IFP truncated in {0}")]
    Truncated(&'static str),
    /// An extension value (V.8/V.34/V.33) under the 1998 syntax of version 0, which has none.
    #[error("extension value of {0} is not allowed in T.38 version 0")]
    ExtensionUnderV0(&'static str),
    /// An extension index this implementation (and T.38 2002) does not define.
    #[error("unknown {what} extension value {index}")]
    UnknownExtension {
        /// `t30-indicator`, `t30-data` or `field-type`
        what: &'static str,
        /// The full index (root count + extension number).
        index: u16,
    },
    /// A root (non-extension) encoding whose index lies outside the enumeration's root.
    #[error("{what} root index {index} is outside the root enumeration")]
    InvalidRootIndex {
        /// `t30-indicator`, `t30-data` or `field-type`
        what: &'static str,
        /// The 4-bit index found.
        index: u8,
    },
    /// An indicator with the data-field presence bit set (T.38 indicators carry no data).
    #[error("indicator packets carry no data field")]
    IndicatorWithData,
    /// `data-field` present with zero items (the model cannot tell that from absent).
    #[error("data field present but holds no items")]
    EmptyDataField,
    /// A PER length ≥ 16384 would need fragmentation, which no T.38 stack produces.
    #[error("fragmented length in {0} (16K or more) is not supported")]
    Fragmented(&'static str),
    /// `field-data` is `SIZE(1..65535)`.
    #[error("field data of {0} octets exceeds 65535")]
    FieldDataTooLong(usize),
    /// Octets left after the last data-field item.
    #[error("{extra} trailing octet(s) after the IFP")]
    TrailingBytes {
        /// How many octets were not consumed.
        extra: usize,
    },
}
