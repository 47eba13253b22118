//! Which T.38 packet category an outgoing IFP belongs to, for the UDPTL layer's redundancy choices.
//!
//! spandsp's tx callback only passes the IFP and a repeat count, so the category is read back from
//! the IFP header (T.38 §4.3 bit layout) — a tiny, bounded parse of packets spandsp just built.

/// T.38 packet categories (spandsp's `T38_PACKET_CATEGORY_*`) are the UDPTL sender's [`IfpKind`](crate::udptl::IfpKind):
/// one type, so the session's classification feeds the redundancy choice without a conversion.
pub use crate::udptl::IfpKind as PacketCategory;

impl PacketCategory {
    /// True for the categories that end a signal (worth more redundancy).
    pub fn is_end(self) -> bool {
        matches!(self, Self::ControlDataEnd | Self::ImageDataEnd)
    }

    /// Classifies an IFP encoded with the given T.38 version syntax (0 = 1998, ≥1 = 2002).
    pub fn classify(ifp: &[u8], version: u8) -> Self {
        let Some(&o0) = ifp.first() else {
            return Self::Indicator;
        };
        if o0 & 0x40 == 0 {
            return Self::Indicator;
        }
        let extended = o0 & 0x20 != 0;
        let image = extended || (o0 >> 1) & 0x0F != 0;
        let end =
            o0 & 0x80 != 0 && last_field_ends_signal(ifp, if extended { 2 } else { 1 }, version);
        match (image, end) {
            (false, false) => Self::ControlData,
            (false, true) => Self::ControlDataEnd,
            (true, false) => Self::ImageData,
            (true, true) => Self::ImageDataEnd,
        }
    }
}

/// Walks the data-field items and reports whether the last one is a `*-sig-end` type.
/// Anything unparsable counts as "not end".
fn last_field_ends_signal(ifp: &[u8], mut pos: usize, version: u8) -> bool {
    let Some(&count) = ifp.get(pos) else {
        return false;
    };
    if count & 0x80 != 0 || count == 0 {
        return false;
    }
    pos += 1;
    let mut last_type = None;
    // Version 0 packs a data-less item into the low nibble of the previous item's octet.
    let mut low_nibble = false;
    for _ in 0..count {
        let (present, field_type);
        if version == 0 {
            let Some(&b) = ifp.get(pos) else { return false };
            let nib = if low_nibble { b & 0x0F } else { b >> 4 };
            present = nib & 0x08 != 0;
            field_type = nib & 0x07;
            if low_nibble || present {
                pos += 1;
                low_nibble = false;
            } else {
                low_nibble = true;
            }
        } else {
            let Some(&b) = ifp.get(pos) else { return false };
            present = b & 0x80 != 0;
            if b & 0x40 != 0 {
                let Some(&b2) = ifp.get(pos + 1) else {
                    return false;
                };
                field_type = 8 + (((b & 0x03) << 2) | (b2 >> 6));
                pos += 2;
            } else {
                field_type = (b >> 3) & 0x07;
                pos += 1;
            }
        }
        if present {
            if low_nibble {
                return false;
            }
            let (Some(&hi), Some(&lo)) = (ifp.get(pos), ifp.get(pos + 1)) else {
                return false;
            };
            pos += 2 + (usize::from(hi) << 8 | usize::from(lo)) + 1;
        }
        last_type = Some(field_type);
    }
    // hdlc-sig-end 1, hdlc-fcs-OK-sig-end 4, hdlc-fcs-BAD-sig-end 5, t4-non-ecm-sig-end 7.
    matches!(last_type, Some(1 | 4 | 5 | 7))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indicators_and_data() {
        assert_eq!(
            PacketCategory::classify(&[0x02], 0),
            PacketCategory::Indicator
        );
        assert_eq!(
            PacketCategory::classify(&[0x1E], 3),
            PacketCategory::Indicator
        );
        // v21 data, one hdlc-data item with 2 bytes (v1+): 0xC0, count 1, 0x80, len-1 = 1, data.
        assert_eq!(
            PacketCategory::classify(&[0xC0, 1, 0x80, 0, 1, 0xFF, 0x13], 1),
            PacketCategory::ControlData
        );
        // v21: hdlc-fcs-OK-sig-end, no data (v1+ 0x20).
        assert_eq!(
            PacketCategory::classify(&[0xC0, 1, 0x20], 1),
            PacketCategory::ControlDataEnd
        );
        // v0: hdlc-fcs-OK-sig-end no data is 0x40.
        assert_eq!(
            PacketCategory::classify(&[0xC0, 1, 0x40], 0),
            PacketCategory::ControlDataEnd
        );
        // v0: data then t4-non-ecm-sig-end: 0xE0 len data, 0x70.
        assert_eq!(
            PacketCategory::classify(&[0xD0, 2, 0xE0, 0, 0, 0xAA, 0x70], 0),
            PacketCategory::ImageDataEnd
        );
        // v1+: t4-non-ecm-data with data (0xB0) only.
        assert_eq!(
            PacketCategory::classify(&[0xD0, 1, 0xB0, 0, 0, 0xAA], 3),
            PacketCategory::ImageData
        );
        // v0: two data-less items packed in one octet: hdlc-fcs-OK (2) then sig-end (1): 0x21.
        assert_eq!(
            PacketCategory::classify(&[0xC8, 2, 0x21], 0),
            PacketCategory::ImageDataEnd
        );
        // Truncated input never panics.
        assert_eq!(
            PacketCategory::classify(&[0xC0, 3, 0x80, 0], 1),
            PacketCategory::ControlData
        );
        assert_eq!(PacketCategory::classify(&[], 1), PacketCategory::Indicator);
    }
}
