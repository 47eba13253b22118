//! Grey to bilevel: Floyd–Steinberg error diffusion in integer arithmetic.
//!
//! Plain thresholding loses light grey fills and turns dark grey solid, so the error is diffused.
//! Fax pages are mostly white: a white pixel that carries no error is skipped without work, and a
//! row that is entirely white with no incoming error is skipped as a whole.

use crate::bitmap::Bitmap;

/// Dither an 8-bit grey image (0 = black, 255 = white, `width * height` bytes) to a bitmap.
pub fn floyd_steinberg(grey: &[u8], width: u32, height: u32) -> Bitmap {
    let w = width as usize;
    let mut out = Bitmap::new(width, height);
    // Errors in 1/16 units, with one guard cell on each side.
    let mut cur = vec![0i32; w + 2];
    let mut next = vec![0i32; w + 2];
    let mut next_dirty = false;
    for y in 0..height as usize {
        let src = &grey[y * w..(y + 1) * w];
        let cur_dirty = std::mem::replace(&mut next_dirty, false);
        if !cur_dirty && src.iter().all(|&v| v == 255) {
            std::mem::swap(&mut cur, &mut next);
            continue;
        }
        let row = out.row_mut(y as u32);
        let mut right = 0i32; // error carried to the right neighbour, 1/16 units
        for x in 0..w {
            let g = src[x];
            let acc = cur[x + 1] + right;
            if g == 255 && acc == 0 {
                right = 0;
                continue;
            }
            let v = i32::from(g) + ((acc + 8) >> 4);
            let (black, e) = if v < 128 { (true, v) } else { (false, v - 255) };
            if black {
                row[x >> 3] |= 0x80 >> (x & 7);
            }
            if e != 0 {
                right = 7 * e;
                next[x] += 3 * e;
                next[x + 1] += 5 * e;
                next[x + 2] += e;
                next_dirty = true;
            } else {
                right = 0;
            }
        }
        cur.fill(0);
        std::mem::swap(&mut cur, &mut next);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn white_stays_white_and_black_stays_black() {
        let g = [255u8; 64 * 8];
        assert_eq!(floyd_steinberg(&g, 64, 8).black_pixels(), 0);
        let g = [0u8; 64 * 8];
        assert_eq!(floyd_steinberg(&g, 64, 8).black_pixels(), 64 * 8);
    }

    #[test]
    fn grey_levels_keep_their_density() {
        for level in [32u8, 128, 200, 240] {
            let g = vec![level; 200 * 200];
            let b = floyd_steinberg(&g, 200, 200);
            let density = b.black_pixels() as f64 / 40000.0;
            let expected = 1.0 - f64::from(level) / 255.0;
            assert!(
                (density - expected).abs() < 0.02,
                "level {level}: {density} vs {expected}"
            );
        }
    }
}
