//! The 1-pixel F1 score used to compare our rendering with Ghostscript's.

use crate::bitmap::Bitmap;

fn black_near(m: &Bitmap, x: u32, y: u32) -> bool {
    let (x, y) = (i64::from(x), i64::from(y));
    (-1..=1).any(|dy| {
        (-1..=1).any(|dx| x + dx >= 0 && y + dy >= 0 && m.get((x + dx) as u32, (y + dy) as u32))
    })
}

/// (matched, total) black pixels of `p` that have a black pixel of `q` within one pixel.
fn matched(p: &Bitmap, q: &Bitmap) -> (u64, u64) {
    let (mut total, mut hit) = (0u64, 0u64);
    for y in 0..p.height() {
        for (i, &byte) in p.row(y).iter().enumerate() {
            if byte == 0 {
                continue;
            }
            for bit in 0..8u32 {
                if byte & (0x80 >> bit) != 0 {
                    total += 1;
                    if black_near(q, i as u32 * 8 + bit, y) {
                        hit += 1;
                    }
                }
            }
        }
    }
    (hit, total)
}

/// F1 of two bilevel images where a black pixel counts as matched if the other image has a black
/// pixel within one pixel (the 8-neighbourhood). 1.0 for two blank pages.
pub fn f1_1px(a: &Bitmap, b: &Bitmap) -> f64 {
    let (ha, ta) = matched(a, b);
    let (hb, tb) = matched(b, a);
    if ta == 0 && tb == 0 {
        return 1.0;
    }
    let precision = if ta == 0 { 0.0 } else { ha as f64 / ta as f64 };
    let recall = if tb == 0 { 0.0 } else { hb as f64 / tb as f64 };
    if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    }
}
