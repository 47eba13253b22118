//! T.38 Internet Facsimile Protocol packets (IFPs): the typed model and its ASN.1 aligned-PER
//! codec.
//!
//! Two syntaxes exist and they are not interoperable, so every encode/decode takes the negotiated
//! `T38FaxVersion`:
//! - version 0 uses the 1998 ("pre-corrigendum") ASN.1: no extension values anywhere, and the
//!   field type is a plain 3-bit enum, so a data-less field item is only four bits wide and the
//!   next item starts in the low nibble of the same octet;
//! - versions 1–3 use the 2002 syntax: extensible enums (V.8/V.34/V.33 values), a 5-bit field
//!   item header (one octet, two for extension values).
//!
//! The bit layout follows spandsp (`t38_core.c`), which is what Asterisk and every spandsp peer
//! put on the wire.
//!
//! ```
//! use faxline_t38::ifp::{DataType, FieldType, IfpPacket, Indicator};
//! let cng = IfpPacket::indicator(Indicator::Cng);
//! assert_eq!(cng.to_bytes(0).unwrap(), [0x02]);
//! let frame = IfpPacket::data(DataType::V21, vec![(FieldType::HdlcData, vec![0xff, 0x13])]);
//! let bytes = frame.to_bytes(0).unwrap();
//! assert_eq!(IfpPacket::decode(&bytes, 0).unwrap(), frame);
//! ```

mod codec;
mod error;
mod types;

pub use codec::{MAX_VERSION, strip_fec_padding};
pub use error::IfpError;
pub use types::{DataField, DataType, FieldType, IfpPacket, Indicator, TypeOfMsg};
