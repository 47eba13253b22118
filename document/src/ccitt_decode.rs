//! Decoding CCITT fax data back to bitmaps (for previews of received faxes and of Ghostscript
//! output), through `hayro-ccitt`, the decoder hayro itself uses for PDF `CCITTFaxDecode`.

use crate::bitmap::{Bitmap, fill_bits};
use crate::encode::Encoding;
use hayro_ccitt::{DecodeSettings, Decoder, DecoderContext, EncodingMode};

struct Rows {
    bitmap: Bitmap,
    y: u32,
}

impl Decoder for Rows {
    fn push_row(&mut self, changes: &[u32]) {
        if self.y >= self.bitmap.height() {
            return;
        }
        let width = self.bitmap.width();
        let row = self.bitmap.row_mut(self.y);
        for pair in changes.chunks(2) {
            let end = pair.get(1).copied().unwrap_or(width).min(width);
            fill_bits(row, pair[0].min(width), end);
        }
        self.y += 1;
    }
}

/// Decode one page of MSB-first CCITT data. Rows the data does not cover stay white; `None` if
/// the data is broken before the first row.
pub fn decode(data: &[u8], encoding: Encoding, width: u32, height: u32) -> Option<Bitmap> {
    let settings = DecodeSettings {
        columns: width,
        rows: height,
        end_of_block: true,
        end_of_line: encoding != Encoding::Mmr,
        rows_are_byte_aligned: false,
        encoding: match encoding {
            Encoding::Mh => EncodingMode::Group3_1D,
            Encoding::Mr => EncodingMode::Group3_2D,
            Encoding::Mmr => EncodingMode::Group4,
        },
        strict: false,
    };
    let mut ctx = DecoderContext::new(settings);
    let mut rows = Rows {
        bitmap: Bitmap::new(width, height),
        y: 0,
    };
    let result = hayro_ccitt::decode(data, &mut rows, &mut ctx);
    if result.is_err() && rows.y == 0 {
        return None;
    }
    Some(rows.bitmap)
}
