//! CCITT fax coding of bitmaps: T.4 one-dimensional (MH), T.4 two-dimensional (MR) and T.6 (MMR/G4).
//!
//! Our own encoder rather than the `fax` crate's: that crate has no MH/MR encoder, and its G4
//! encoder walks pixel by pixel (about 5.7 ms per fine page), while this one codes from the
//! changing-element lists, which a text page produces in well under a millisecond. The `fax` crate's
//! G4 encoder and decoder serve as independent checks in the tests, next to libtiff.

mod bits;
mod codes;

use crate::bitmap::Bitmap;
use bits::BitWriter;
use codes::{BLACK_MAKEUP, BLACK_TERM, EXT_MAKEUP, WHITE_MAKEUP, WHITE_TERM};

/// The fax compression of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// T.4 modified Huffman, one-dimensional (TIFF Compression 3, T4Options 4: fill bits).
    Mh,
    /// T.4 modified READ, two-dimensional with K = 4 (TIFF Compression 3, T4Options 5).
    Mr,
    /// T.6 modified modified READ, "Group 4" (TIFF Compression 4). The default.
    Mmr,
}

impl Encoding {
    /// TIFF Compression tag value.
    pub fn tiff_compression(self) -> u16 {
        match self {
            Encoding::Mh | Encoding::Mr => 3,
            Encoding::Mmr => 4,
        }
    }
}

/// The T.4 end-of-line code.
const EOL: (u32, u8) = (1, 12);
/// Rows coded 2-D between 1-D rows in MR mode (T.4 allows K = 4 at fine resolution).
const MR_K: u32 = 4;

/// Encode a page. G3 (MH/MR) output has an EOL before every row, aligned so each EOL ends on a byte
/// boundary (TIFF "fill bits"), and ends with RTC; G4 output ends with EOFB. Bit order MSB-first
/// (TIFF FillOrder 1).
pub fn encode(bitmap: &Bitmap, encoding: Encoding) -> Vec<u8> {
    let width = bitmap.width();
    let mut w = BitWriter::with_capacity(bitmap.height() as usize * 16);
    let mut reference: Vec<u32> = Vec::new();
    let mut current: Vec<u32> = Vec::new();
    for y in 0..bitmap.height() {
        bitmap.row_changes(y, &mut current);
        match encoding {
            Encoding::Mh => {
                w.align_for_eol();
                w.put(EOL.0, EOL.1);
                encode_1d(&mut w, &current, width);
            }
            Encoding::Mr => {
                let one_d = y % MR_K == 0;
                w.align_for_eol();
                w.put((EOL.0 << 1) | u32::from(one_d), EOL.1 + 1);
                if one_d {
                    encode_1d(&mut w, &current, width);
                } else {
                    encode_2d(&mut w, &reference, &current, width);
                }
            }
            Encoding::Mmr => {
                if y == 0 {
                    // The imaginary all-white line above the page.
                    reference.clear();
                }
                encode_2d(&mut w, &reference, &current, width);
            }
        }
        std::mem::swap(&mut reference, &mut current);
    }
    match encoding {
        Encoding::Mh => {
            w.align_for_eol();
            for _ in 0..6 {
                w.put(EOL.0, EOL.1);
            }
        }
        Encoding::Mr => {
            w.align_for_eol();
            for _ in 0..6 {
                w.put((EOL.0 << 1) | 1, EOL.1 + 1);
            }
        }
        Encoding::Mmr => {
            w.put(EOL.0, EOL.1);
            w.put(EOL.0, EOL.1);
        }
    }
    w.finish()
}

fn put_run(w: &mut BitWriter, black: bool, mut run: u32) {
    let (term, makeup) = if black {
        (&BLACK_TERM, &BLACK_MAKEUP)
    } else {
        (&WHITE_TERM, &WHITE_MAKEUP)
    };
    while run > 2560 {
        let (c, l) = EXT_MAKEUP[12];
        w.put(u32::from(c), l);
        run -= 2560;
    }
    if run >= 64 {
        let idx = (run / 64) as usize; // 1..=40
        let (c, l) = if idx <= 27 {
            makeup[idx - 1]
        } else {
            EXT_MAKEUP[idx - 28]
        };
        w.put(u32::from(c), l);
        run %= 64;
    }
    let (c, l) = term[run as usize];
    w.put(u32::from(c), l);
}

/// One-dimensional coding: alternating white and black runs, starting white.
fn encode_1d(w: &mut BitWriter, changes: &[u32], width: u32) {
    let mut pos = 0;
    let mut black = false;
    for &c in changes {
        put_run(w, black, c - pos);
        pos = c;
        black = !black;
    }
    put_run(w, black, width - pos);
}

/// Two-dimensional coding of `cur` against `reference` (T.4 §4.2.1.3 / T.6).
fn encode_2d(w: &mut BitWriter, reference: &[u32], cur: &[u32], width: u32) {
    // Changing element after index i on a line, or `width` past the end.
    let at = |line: &[u32], i: usize| line.get(i).copied().unwrap_or(width);
    let mut a0: i64 = -1;
    let mut black = false; // colour of a0
    let mut ia1 = 0usize; // index of the first changing element on `cur` right of a0
    let mut ib = 0usize; // search start on `reference`
    while a0 < i64::from(width) {
        while ia1 < cur.len() && i64::from(cur[ia1]) <= a0 {
            ia1 += 1;
        }
        let a1 = at(cur, ia1);
        // b1: first changing element on the reference line right of a0 whose new colour is the
        // opposite of a0's colour. Elements at even index turn black, odd ones turn white.
        while ib < reference.len() && i64::from(reference[ib]) <= a0 {
            ib += 1;
        }
        let mut ib1 = ib;
        if (ib1 % 2 == 1) != black {
            ib1 += 1;
        }
        let b1 = at(reference, ib1);
        let b2 = at(reference, ib1 + 1);
        if b2 < a1 {
            w.put(0b0001, 4); // pass
            a0 = i64::from(b2);
        } else if a1.abs_diff(b1) <= 3 {
            let (c, l) = match i64::from(a1) - i64::from(b1) {
                0 => (0b1, 1),
                1 => (0b011, 3),
                2 => (0b000011, 6),
                3 => (0b0000011, 7),
                -1 => (0b010, 3),
                -2 => (0b000010, 6),
                _ => (0b0000010, 7),
            };
            w.put(c, l);
            a0 = i64::from(a1);
            black = !black;
            ia1 += 1;
        } else {
            let a2 = at(cur, ia1 + 1);
            let start = a0.max(0) as u32;
            w.put(0b001, 3); // horizontal
            put_run(w, black, a1 - start);
            put_run(w, !black, a2 - a1);
            a0 = i64::from(a2);
            ia1 += 2;
        }
    }
}

#[cfg(test)]
mod tests;
