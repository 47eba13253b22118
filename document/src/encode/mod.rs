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
    let mut current: Vec<u32> = Vec::new();
    let mut reference: Vec<u32> = vec![width; SENTINELS];
    for y in 0..bitmap.height() {
        bitmap.row_changes(y, &mut current);
        let changes = current.len();
        current.extend([width; SENTINELS]);
        let line = &current[..changes];
        match encoding {
            Encoding::Mh => {
                w.align_for_eol();
                w.put(EOL.0, EOL.1);
                encode_1d(&mut w, line, width);
            }
            Encoding::Mr => {
                let one_d = y % MR_K == 0;
                w.align_for_eol();
                w.put((EOL.0 << 1) | u32::from(one_d), EOL.1 + 1);
                if one_d {
                    encode_1d(&mut w, line, width);
                } else {
                    encode_2d(&mut w, &reference, &current, width);
                }
            }
            // The first reference line is the imaginary all-white line above the page.
            Encoding::Mmr => encode_2d(&mut w, &reference, &current, width),
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

/// Two-dimensional coding of `cur` against `reference` (T.4 §4.2.1.3 / T.6). Both lists end
/// with [`SENTINELS`] copies of `width`, so the scans below need no length checks: a changing
/// element "past the end of the line" is `width`, as the standard defines it.
fn encode_2d(w: &mut BitWriter, reference: &[u32], cur: &[u32], width: u32) {
    // Positions are kept plus one, so that the imaginary a0 before the line start is 0: "x > a0"
    // becomes "x >= a0p".
    let mut a0p: u32 = 0;
    let mut black = false; // colour of a0
    let mut ia1 = 0usize; // index of the first changing element on `cur` right of a0
    let mut ib = 0usize; // search start on `reference`
    while a0p <= width {
        while cur[ia1] < a0p {
            ia1 += 1;
        }
        let a1 = cur[ia1];
        // b1: first changing element on the reference line right of a0 whose new colour is the
        // opposite of a0's colour. Elements at even index turn black, odd ones turn white.
        while reference[ib] < a0p {
            ib += 1;
        }
        let ib1 = ib + usize::from((ib % 2 == 1) != black);
        let b1 = reference[ib1];
        let b2 = reference[ib1 + 1];
        if b2 < a1 {
            w.put(0b0001, 4); // pass
            a0p = b2 + 1;
        } else if a1 == b1 {
            // V0, and usually more of them: consecutive rows of a page are much alike. While the
            // next changing elements of both lines coincide, each is again V0 (b2 lies past b1,
            // so never a pass), coded as a single 1 bit.
            let (mut i, mut j) = (ia1 + 1, ib1 + 1);
            while cur[i] == reference[j] && cur[i] < width {
                i += 1;
                j += 1;
            }
            let mut n = (i - ia1) as u32;
            if n % 2 == 1 {
                black = !black;
            }
            while n > 0 {
                let k = n.min(32);
                w.put(u32::MAX >> (32 - k), k as u8);
                n -= k;
            }
            a0p = cur[i - 1] + 1;
            ia1 = i;
            ib = j;
        } else if a1.abs_diff(b1) <= 3 {
            let (c, l) = VERTICAL[(a1 + 3 - b1) as usize];
            w.put(c, l);
            a0p = a1 + 1;
            black = !black;
            ia1 += 1;
        } else {
            let a2 = cur[ia1 + 1];
            let start = a0p.saturating_sub(1);
            w.put(0b001, 3); // horizontal
            put_run(w, black, a1 - start);
            put_run(w, !black, a2 - a1);
            a0p = a2 + 1;
            ia1 += 2;
        }
    }
}

/// Vertical mode codes by a1 − b1 + 3: VL3, VL2, VL1, V0, VR1, VR2, VR3.
const VERTICAL: [(u32, u8); 7] = [
    (0b0000010, 7),
    (0b000010, 6),
    (0b010, 3),
    (0b1, 1),
    (0b011, 3),
    (0b000011, 6),
    (0b0000011, 7),
];

/// Copies of the line width after the changing elements of a line, for [`encode_2d`]: it may
/// look up to two elements past the index of b1, which may itself be one past the end.
const SENTINELS: usize = 3;

#[cfg(test)]
mod tests;
