//! Grey to bilevel: Floyd–Steinberg error diffusion in integer arithmetic.
//!
//! Plain thresholding loses light grey fills and turns dark grey solid, so the error is diffused.
//! Fax pages are mostly paper, so the loop is built to do no work there:
//! - a residue of under [`PAPER_SLACK`] grey levels in pure paper (or pure ink) is dropped.
//!   Integer FS conserves error exactly, so without this a field of ±1 errors would creep on
//!   across blank paper for the rest of the page; with it, error dies out a few pixels from ink;
//! - the span of the next row that received error is tracked, so clearing and scanning touch only
//!   that span;
//! - runs of white pixels with no incoming error are skipped with a vectorised search, and a
//!   white row with no incoming error costs one comparison pass (for RGBA input, before any
//!   conversion to grey).
//!
//! Otherwise it is the textbook algorithm (one direction, 7/3/5/1), which the tests compare with.

use crate::bitmap::Bitmap;

/// Dither an 8-bit grey image (0 = black, 255 = white, `width * height` bytes) to a bitmap.
pub fn floyd_steinberg(grey: &[u8], width: u32, height: u32) -> Bitmap {
    let w = width as usize;
    dither(width, height, |y, row| {
        let src = &grey[y * w..(y + 1) * w];
        if white_prefix(src) == src.len() {
            return false;
        }
        row.copy_from_slice(src);
        true
    })
}

/// Dither rows of grey that `fill_row(y, row)` writes (every row, `width` bytes each).
pub(crate) fn floyd_steinberg_rows(
    width: u32,
    height: u32,
    mut fill_row: impl FnMut(usize, &mut [u8]),
) -> Bitmap {
    dither(width, height, |y, row| {
        fill_row(y, row);
        white_prefix(row) != row.len()
    })
}

/// Dither premultiplied RGBA8 pixels over opaque white (`width * height * 4` bytes), converting
/// to grey (Rec. 601 luma) only the rows that have ink.
pub(crate) fn floyd_steinberg_rgba(rgba: &[u8], width: u32, height: u32) -> Bitmap {
    let w = width as usize;
    dither(width, height, |y, row| {
        let src = &rgba[y * w * 4..(y + 1) * w * 4];
        if white_prefix(src) == src.len() {
            return false;
        }
        for (g, px) in row.iter_mut().zip(src.chunks_exact(4)) {
            *g = if px == [255, 255, 255, 255] {
                255
            } else {
                ((u32::from(px[0]) * 77 + u32::from(px[1]) * 150 + u32::from(px[2]) * 29) >> 8)
                    as u8
            };
        }
        true
    })
}

/// Error (in grey levels) that pure paper and pure ink absorb: under 1.2 % of a dot.
const PAPER_SLACK: i32 = 3;

/// Length of the run of 255 bytes at the start of `s`. Compares 256, then 32 bytes at a time (a
/// fold the compiler vectorises; a plain `position` with its early exit goes byte by byte).
fn white_prefix(s: &[u8]) -> usize {
    let mut i = 0;
    for chunk in s.chunks_exact(256) {
        if chunk.iter().fold(0xff, |a, &b| a & b) != 0xff {
            break;
        }
        i += 256;
    }
    for chunk in s[i..].chunks_exact(32) {
        if chunk.iter().fold(0xff, |a, &b| a & b) != 0xff {
            break;
        }
        i += 32;
    }
    i + s[i..].iter().position(|&v| v != 255).unwrap_or(s.len() - i)
}

/// The error-diffusion core. `fill_row(y, row)` writes row `y` in grey into `row` and returns
/// true, or returns false (leaving `row` alone) when the row is entirely white.
fn dither(width: u32, height: u32, mut fill_row: impl FnMut(usize, &mut [u8]) -> bool) -> Bitmap {
    let w = width as usize;
    let mut out = Bitmap::new(width, height);
    let mut row = vec![255u8; w];
    // Errors in 1/16 units; pixel x's incoming error is at index x + 1 (one guard cell each side).
    let mut cur = vec![0i32; w + 2];
    let mut next = vec![0i32; w + 2];
    // Index range of `cur` / `next` that may hold non-zero error (empty when start >= end).
    let mut cur_span = (0usize, 0usize);
    for y in 0..height as usize {
        let has_ink = fill_row(y, &mut row);
        if !has_ink {
            if cur_span.0 >= cur_span.1 {
                continue; // white row, no incoming error: nothing to do
            }
            row.fill(255);
        }
        let mut next_span = (usize::MAX, 0usize);
        let out_row = out.row_mut(y as u32);
        // Pixels with possible incoming error: x + 1 in cur_span.
        let (err_lo, err_hi) = (
            cur_span.0.saturating_sub(1),
            cur_span.1.saturating_sub(1).min(w),
        );
        let mut right = 0i32; // error carried to the right neighbour, 1/16 units
        let mut x = 0usize;
        while x < w {
            if right == 0 && row[x] == 255 && cur[x + 1] == 0 {
                if x < err_lo || x >= err_hi {
                    // Outside the error span: skip to the next ink or the start of the span.
                    let limit = if x < err_lo { err_lo } else { w };
                    x += white_prefix(&row[x..limit]).max(1);
                } else {
                    // Inside it: skip blocks of 8 white pixels that carry no error.
                    x += 1;
                    while x + 8 <= err_hi
                        && row[x..x + 8].iter().fold(0xff, |a, &b| a & b) == 0xff
                        && cur[x + 1..x + 9].iter().fold(0, |a, &b| a | b) == 0
                    {
                        x += 8;
                    }
                }
                continue;
            }
            let g = row[x];
            let acc = cur[x + 1] + right;
            let v = i32::from(g) + ((acc + 8) >> 4);
            // Branch-free: in a photograph black and white follow no pattern a predictor learns.
            let black = i32::from(v < 128);
            let mut e = v - 255 + 255 * black;
            out_row[x >> 3] |= (black as u8) << (7 - (x & 7));
            // The last few 1/255ths in pure paper or ink are dropped (see the module comment).
            if (g == 255 || g == 0) && e.abs() < PAPER_SLACK {
                e = 0;
            }
            if e != 0 {
                right = 7 * e;
                next[x] += 3 * e;
                next[x + 1] += 5 * e;
                next[x + 2] += e;
                next_span = (next_span.0.min(x), x + 3);
            } else {
                right = 0;
            }
            x += 1;
        }
        if cur_span.0 < cur_span.1 {
            cur[cur_span.0..cur_span.1].fill(0);
        }
        std::mem::swap(&mut cur, &mut next);
        cur_span = if next_span.0 == usize::MAX {
            (0, 0)
        } else {
            next_span
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook algorithm (floating point, whole image, no skipping), for comparison.
    fn reference(grey: &[u8], w: usize, h: usize) -> Vec<bool> {
        let mut e = vec![0f64; w * h];
        let mut out = vec![false; w * h];
        for y in 0..h {
            for x in 0..w {
                let v = f64::from(grey[y * w + x]) + e[y * w + x];
                let black = v < 127.5;
                out[y * w + x] = black;
                let err = v - if black { 0.0 } else { 255.0 };
                let mut add = |dx: isize, dy: usize, f: f64| {
                    let nx = x as isize + dx;
                    if nx >= 0 && (nx as usize) < w && y + dy < h {
                        e[(y + dy) * w + nx as usize] += err * f;
                    }
                };
                add(1, 0, 7.0 / 16.0);
                add(-1, 1, 3.0 / 16.0);
                add(0, 1, 5.0 / 16.0);
                add(1, 1, 1.0 / 16.0);
            }
        }
        out
    }

    #[test]
    fn white_stays_white_and_black_stays_black() {
        let g = [255u8; 64 * 8];
        assert_eq!(floyd_steinberg(&g, 64, 8).black_pixels(), 0);
        let g = [0u8; 64 * 8];
        assert_eq!(floyd_steinberg(&g, 64, 8).black_pixels(), 64 * 8);
    }

    #[test]
    fn grey_levels_keep_their_density() {
        for level in [16u8, 32, 128, 200, 240, 250] {
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

    #[test]
    fn grey_fills_on_paper_match_the_textbook_density() {
        // A light and a dark box on white paper, with white rows and columns around them: the
        // skipping must not change how much ink the boxes get.
        let (w, h) = (300usize, 200usize);
        let mut g = vec![255u8; w * h];
        for y in 20..90 {
            for x in 30..270 {
                g[y * w + x] = 230;
            }
        }
        for y in 110..180 {
            for x in 30..270 {
                g[y * w + x] = 90;
            }
        }
        let ours = floyd_steinberg(&g, w as u32, h as u32);
        let theirs = reference(&g, w, h);
        for (y0, y1) in [(20, 90), (110, 180)] {
            let count = |f: &dyn Fn(usize, usize) -> bool| {
                (y0..y1)
                    .flat_map(|y| (30..270).map(move |x| (x, y)))
                    .filter(|&(x, y)| f(x, y))
                    .count() as f64
            };
            let a = count(&|x, y| ours.get(x as u32, y as u32));
            let b = count(&|x, y| theirs[y * w + x]);
            assert!((a - b).abs() / b < 0.03, "box {y0}: {a} vs {b}");
        }
        // No ink outside the boxes.
        for y in (0..20).chain(90..110).chain(180..200) {
            assert!(ours.row(y as u32).iter().all(|&b| b == 0), "row {y}");
        }
    }

    #[test]
    fn rgba_and_grey_paths_agree() {
        let (w, h) = (97u32, 61u32);
        let mut grey = vec![255u8; (w * h) as usize];
        let mut rgba = vec![255u8; (w * h * 4) as usize];
        for y in 0..h as usize {
            for x in 0..w as usize {
                if (x * 7 + y * 3) % 11 < 5 && y > 10 {
                    let v = ((x * 37 + y * 11) % 256) as u8;
                    grey[y * w as usize + x] = v;
                    rgba[(y * w as usize + x) * 4..][..3].copy_from_slice(&[v, v, v]);
                }
            }
        }
        assert_eq!(
            floyd_steinberg(&grey, w, h),
            floyd_steinberg_rgba(&rgba, w, h)
        );
    }
}
