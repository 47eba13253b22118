//! Aligned-PER encoding and decoding of [`IfpPacket`] for both T.38 syntaxes (see the module
//! docs of [`crate::ifp`] for the bit layout).

use super::error::IfpError;
use super::types::{DataField, DataType, FieldType, IfpPacket, Indicator, TypeOfMsg};

/// The highest T.38 version (`T38FaxVersion`) the codec knows.
pub const MAX_VERSION: u8 = 3;

/// Largest PER length determinant we write or accept without fragmentation.
const MAX_UNFRAGMENTED: usize = 0x3FFF;

fn check_version(version: u8) -> Result<(), IfpError> {
    if version > MAX_VERSION {
        return Err(IfpError::UnsupportedVersion(version));
    }
    Ok(())
}

impl IfpPacket {
    /// Appends the encoding of this packet under `version` (0 = 1998 syntax, 1–3 = 2002) to
    /// `out`. On error nothing is appended.
    pub fn encode(&self, version: u8, out: &mut Vec<u8>) -> Result<(), IfpError> {
        check_version(version)?;
        self.validate(version)?;
        let has_fields = !self.fields.is_empty();
        let pres = if has_fields { 0x80 } else { 0 };
        match self.type_of_msg {
            TypeOfMsg::Indicator(ind) => push_choice(out, pres, ind.index(), Indicator::ROOT),
            TypeOfMsg::Data(dt) => push_choice(out, pres | 0x40, dt.index(), DataType::ROOT),
        }
        if !has_fields {
            return Ok(());
        }
        push_length(out, self.fields.len());
        let mut low_nibble_free = false;
        for field in &self.fields {
            let present = !field.data.is_empty();
            let t = field.field_type.index();
            if version == 0 {
                let nibble = (u8::from(present) << 3) | t;
                match (low_nibble_free, out.last_mut()) {
                    (true, Some(last)) => {
                        *last |= nibble;
                        low_nibble_free = false;
                    }
                    _ => {
                        out.push(nibble << 4);
                        low_nibble_free = !present;
                    }
                }
            } else if field.field_type.is_extension() {
                let n = t - FieldType::ROOT;
                out.push((u8::from(present) << 7) | 0x40 | (n >> 2));
                out.push((n << 6) & 0xC0);
            } else {
                out.push((u8::from(present) << 7) | (t << 3));
            }
            if present {
                // SIZE(1..65535): constrained whole number (length - 1), 16 bits, aligned.
                let l = (field.data.len() - 1) as u16; // ≤ 65534, validated above
                out.extend_from_slice(&l.to_be_bytes());
                out.extend_from_slice(&field.data);
            }
        }
        Ok(())
    }

    /// The encoding as a fresh vector.
    pub fn to_bytes(&self, version: u8) -> Result<Vec<u8>, IfpError> {
        let mut out =
            Vec::with_capacity(self.fields.iter().map(|f| f.data.len() + 3).sum::<usize>() + 4);
        self.encode(version, &mut out)?;
        Ok(out)
    }

    /// Checks that the packet can be encoded under `version` without producing anything.
    fn validate(&self, version: u8) -> Result<(), IfpError> {
        match self.type_of_msg {
            TypeOfMsg::Indicator(ind) => {
                if !self.fields.is_empty() {
                    return Err(IfpError::IndicatorWithData);
                }
                if version == 0 && ind.is_extension() {
                    return Err(IfpError::ExtensionUnderV0("t30-indicator"));
                }
            }
            TypeOfMsg::Data(dt) => {
                if version == 0 && dt.is_extension() {
                    return Err(IfpError::ExtensionUnderV0("t30-data"));
                }
            }
        }
        if self.fields.len() > MAX_UNFRAGMENTED {
            return Err(IfpError::Fragmented("data-field count"));
        }
        for f in &self.fields {
            if version == 0 && f.field_type.is_extension() {
                return Err(IfpError::ExtensionUnderV0("field-type"));
            }
            if f.data.len() > usize::from(u16::MAX) {
                return Err(IfpError::FieldDataTooLong(f.data.len()));
            }
        }
        Ok(())
    }

    /// Decodes one whole IFP under `version`. Every octet must be consumed.
    pub fn decode(bytes: &[u8], version: u8) -> Result<Self, IfpError> {
        let (packet, used) = Self::decode_prefix(bytes, version)?;
        if used < bytes.len() {
            return Err(IfpError::TrailingBytes {
                extra: bytes.len() - used,
            });
        }
        Ok(packet)
    }

    /// Decodes the IFP at the start of `bytes` and returns it with the octets it occupies; what
    /// follows is not looked at. PER encodings are self-delimiting, which is what lets a receiver
    /// cut an FEC-repaired IFP (padded with zeros to its group's longest member) back to size.
    pub fn decode_prefix(bytes: &[u8], version: u8) -> Result<(Self, usize), IfpError> {
        check_version(version)?;
        let mut r = Reader { buf: bytes, pos: 0 };
        let o0 = r.byte("type-of-msg").map_err(|_| IfpError::Empty)?;
        let has_fields = o0 & 0x80 != 0;
        let is_data = o0 & 0x40 != 0;
        let index = if o0 & 0x20 != 0 {
            let what = if is_data { "t30-data" } else { "t30-indicator" };
            if version == 0 {
                return Err(IfpError::ExtensionUnderV0(what));
            }
            let o1 = r.byte(what)?;
            // Normally-small non-negative whole number: b4 = 0 (small), then 6 bits.
            if o0 & 0x10 != 0 {
                return Err(IfpError::UnknownExtension { what, index: 0x40 });
            }
            let n = ((o0 & 0x0F) << 2) | (o1 >> 6);
            let root = if is_data {
                DataType::ROOT
            } else {
                Indicator::ROOT
            };
            let index = u16::from(root) + u16::from(n);
            u8::try_from(index).map_err(|_| IfpError::UnknownExtension { what, index })?
        } else {
            let index = (o0 >> 1) & 0x0F;
            let (what, root) = if is_data {
                ("t30-data", DataType::ROOT)
            } else {
                ("t30-indicator", Indicator::ROOT)
            };
            // Extension values must use the extension encoding; a root index past the root is
            // malformed (found by the `ifp` fuzz target).
            if index >= root {
                return Err(IfpError::InvalidRootIndex { what, index });
            }
            index
        };
        let type_of_msg = if is_data {
            let dt = DataType::from_index(index).ok_or(IfpError::UnknownExtension {
                what: "t30-data",
                index: u16::from(index),
            })?;
            TypeOfMsg::Data(dt)
        } else {
            let ind = Indicator::from_index(index).ok_or(IfpError::UnknownExtension {
                what: "t30-indicator",
                index: u16::from(index),
            })?;
            TypeOfMsg::Indicator(ind)
        };
        let mut fields = Vec::new();
        if has_fields {
            if !is_data {
                return Err(IfpError::IndicatorWithData);
            }
            let count = r.length("data-field count")?;
            if count == 0 {
                return Err(IfpError::EmptyDataField);
            }
            // Each item takes at least half an octet: bound the allocation by the input.
            if count > 2 * r.remaining() {
                return Err(IfpError::Truncated("data-field"));
            }
            fields.reserve(count);
            let mut low_nibble = false;
            for _ in 0..count {
                let (present, t) = if version == 0 {
                    let b = r.peek("field-type")?;
                    let nibble = if low_nibble { b & 0x0F } else { b >> 4 };
                    let present = nibble & 0x08 != 0;
                    if low_nibble || present {
                        r.pos += 1;
                        low_nibble = false;
                    } else {
                        low_nibble = true;
                    }
                    (present, nibble & 0x07)
                } else {
                    let b = r.byte("field-type")?;
                    let present = b & 0x80 != 0;
                    if b & 0x40 != 0 {
                        let b1 = r.byte("field-type")?;
                        if b & 0x20 != 0 {
                            return Err(IfpError::UnknownExtension {
                                what: "field-type",
                                index: 0x40,
                            });
                        }
                        let n = ((b & 0x0F) << 2) | (b1 >> 6);
                        (present, FieldType::ROOT + n)
                    } else {
                        (present, (b >> 3) & 0x07)
                    }
                };
                let field_type = FieldType::from_index(t).ok_or(IfpError::UnknownExtension {
                    what: "field-type",
                    index: u16::from(t),
                })?;
                let data = if present {
                    let hi = r.byte("field-data length")?;
                    let lo = r.byte("field-data length")?;
                    let len = usize::from(u16::from_be_bytes([hi, lo])) + 1;
                    r.take(len, "field-data")?.to_vec()
                } else {
                    Vec::new()
                };
                fields.push(DataField { field_type, data });
            }
            if low_nibble {
                r.pos += 1;
            }
        }
        Ok((
            Self {
                type_of_msg,
                fields,
            },
            r.pos,
        ))
    }
}

/// An IFP rebuilt by T.38 FEC has the length of its group's parity entry: zeros follow it when a
/// longer IFP shared the group. Returns the IFP without that padding, or `bytes` unchanged when
/// it does not parse or what follows the IFP is not all zeros (then it is not padding, and the
/// session must see the damage).
pub fn strip_fec_padding(bytes: &[u8], version: u8) -> &[u8] {
    match IfpPacket::decode_prefix(bytes, version) {
        Ok((_, used)) if bytes[used..].iter().all(|&b| b == 0) => &bytes[..used],
        _ => bytes,
    }
}

/// Octet 0 (and 1 for extension values) of the `type-of-msg` CHOICE.
fn push_choice(out: &mut Vec<u8>, high_bits: u8, index: u8, root: u8) {
    if index < root {
        out.push(high_bits | (index << 1));
    } else {
        let n = index - root;
        out.push(high_bits | 0x20 | (n >> 2));
        out.push((n << 6) & 0xC0);
    }
}

/// A PER unconstrained length determinant (no fragmentation: callers keep `len < 16384`).
fn push_length(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        out.push(0x80 | (len >> 8) as u8);
        out.push(len as u8);
    }
}

/// Bounds-checked cursor over the input.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn peek(&self, what: &'static str) -> Result<u8, IfpError> {
        self.buf
            .get(self.pos)
            .copied()
            .ok_or(IfpError::Truncated(what))
    }

    fn byte(&mut self, what: &'static str) -> Result<u8, IfpError> {
        let b = self.peek(what)?;
        self.pos += 1;
        Ok(b)
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], IfpError> {
        if n > self.remaining() {
            return Err(IfpError::Truncated(what));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn length(&mut self, what: &'static str) -> Result<usize, IfpError> {
        let b = self.byte(what)?;
        match b {
            0x00..=0x7F => Ok(usize::from(b)),
            0x80..=0xBF => Ok((usize::from(b & 0x3F) << 8) | usize::from(self.byte(what)?)),
            _ => Err(IfpError::Fragmented(what)),
        }
    }
}
