//! Rasterized glyphs as 1-bit masks, cached per worker and blitted into the page bitmap.
//!
//! A text page draws the same few dozen glyphs thousands of times. hayro fills every glyph
//! outline through vello's full path pipeline (flatten, strips, tiles, fine), and its own glyph
//! cache is off when anti-aliasing is off, which fax pages need. Here each distinct glyph (font
//! glyph, size and shape of its transform, quarter-pixel phase) is rasterized once by vello with
//! the same aliasing threshold as the page, stored as a 1-bit mask, and then ORed into the page:
//! Ghostscript's fax devices do the same with their character cache.

use crate::bitmap::Bitmap;
use hayro::kurbo::{Affine, BezPath, Shape};
use hayro::vello_cpu::color::palette::css::{BLACK, TRANSPARENT};
use hayro::vello_cpu::peniko::Fill;
use hayro::vello_cpu::{Pixmap, RasterizerSettings, RenderContext, Resources, TargetInit};
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::rc::Rc;

/// Positions are quantised to a quarter pixel: at 204 dpi that is 0.03 mm, far below what a fax
/// shows, and it keeps the number of cached variants per glyph at 16 at most.
const PHASES: f64 = 4.0;

/// Glyphs larger than this (in pixels) are drawn as paths: they are rare (headings, drop caps)
/// and would make large cache entries.
const MAX_SIZE: f64 = 128.0;

/// Identifies one rasterization of a glyph.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct GlyphKey {
    /// hayro's cache key of the glyph (font program and glyph id).
    pub glyph: u128,
    /// Whether the outline was hinted (then the vertical position is whole pixels).
    pub hinted: bool,
    /// The linear part of the device transform, bit for bit.
    pub linear: [u64; 4],
    /// Horizontal and vertical phase in quarter pixels.
    pub phase: (u8, u8),
}

impl Hash for GlyphKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // The glyph key is already a hash; fold the rest in cheaply.
        let mut h = (self.glyph as u64) ^ ((self.glyph >> 64) as u64);
        for v in self.linear {
            h = (h.rotate_left(5) ^ v).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
        h ^= u64::from(self.hinted) | u64::from(self.phase.0) << 8 | u64::from(self.phase.1) << 16;
        state.write_u64(h);
    }
}

/// The hasher of the cache: [`GlyphKey`] mixes itself, so this only passes the value on (the
/// default SipHash showed up in profiles at several percent of a text page).
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0.wrapping_mul(0x9e37_79b9_7f4a_7c15)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }

    fn write_u64(&mut self, v: u64) {
        self.0 ^= v;
    }
}

/// Where a glyph with device transform `t` lands: its cache key (without the glyph fields) and
/// the whole-pixel origin its mask is placed relative to.
pub(crate) fn quantise(t: Affine) -> ([u64; 4], (u8, u8), (i32, i32), Affine) {
    let [a, b, c, d, e, f] = t.as_coeffs();
    let split = |v: f64| {
        let steps = (v * PHASES).round() as i64;
        let whole = steps.div_euclid(PHASES as i64) as i32;
        let phase = steps.rem_euclid(PHASES as i64) as u8;
        (whole, phase)
    };
    let (x, px) = split(e);
    let (y, py) = split(f);
    let local = Affine::new([a, b, c, d, f64::from(px) / PHASES, f64::from(py) / PHASES]);
    (
        [a.to_bits(), b.to_bits(), c.to_bits(), d.to_bits()],
        (px, py),
        (x, y),
        local,
    )
}

/// A glyph's ink as a 1-bit mask, placed relative to the glyph origin's whole pixel.
pub(crate) struct GlyphMask {
    left: i32,
    top: i32,
    width: u32,
    height: u32,
    /// Rows of `width.div_ceil(8)` bytes, MSB first, 1 = ink.
    bits: Vec<u8>,
}

/// What the cache knows about a glyph rasterization.
#[derive(Clone)]
pub(crate) enum Cached {
    /// No ink (a space, or a glyph too thin to reach the threshold anywhere).
    Empty,
    /// Too large to cache: draw it as a path.
    TooLarge,
    Mask(Rc<GlyphMask>),
}

/// One worker's glyph masks. Not shared between threads, so no locking on the hot path.
#[derive(Default)]
pub(crate) struct GlyphCache {
    map: HashMap<GlyphKey, Cached, BuildHasherDefault<PassThrough>>,
    /// Glyphs whose font hayro cannot hint.
    unhintable: HashSet<u128>,
}

impl GlyphCache {
    pub(crate) fn unhintable(&self, glyph: u128) -> bool {
        self.unhintable.contains(&glyph)
    }

    pub(crate) fn mark_unhintable(&mut self, glyph: u128) {
        self.unhintable.insert(glyph);
    }

    pub(crate) fn get(&self, key: &GlyphKey) -> Option<Cached> {
        self.map.get(key).cloned()
    }

    /// Rasterize `outline` under `local` (the linear transform plus the sub-pixel phase) with
    /// vello at `threshold` and remember it.
    pub(crate) fn insert(
        &mut self,
        key: GlyphKey,
        outline: &BezPath,
        local: Affine,
        threshold: u8,
    ) -> Cached {
        let entry = rasterize(outline, local, threshold);
        self.map.insert(key, entry.clone());
        entry
    }
}

fn rasterize(outline: &BezPath, local: Affine, threshold: u8) -> Cached {
    if outline.elements().is_empty() {
        return Cached::Empty;
    }
    let bbox = (local * outline.clone()).bounding_box();
    if !(bbox.width() <= MAX_SIZE && bbox.height() <= MAX_SIZE) {
        return Cached::TooLarge; // also catches NaN from a degenerate transform
    }
    if bbox.is_zero_area() {
        return Cached::Empty;
    }
    // One pixel of margin on each side: coverage is computed per whole pixel.
    let left = bbox.x0.floor() - 1.0;
    let top = bbox.y0.floor() - 1.0;
    let width = (bbox.x1.ceil() + 1.0 - left) as u16;
    let height = (bbox.y1.ceil() + 1.0 - top) as u16;
    let mut ctx = RenderContext::new(width, height);
    ctx.set_aliasing_threshold(Some(threshold));
    ctx.set_fill_rule(Fill::NonZero);
    ctx.set_paint(BLACK);
    ctx.set_transform(Affine::translate((-left, -top)) * local);
    ctx.fill_path(outline);
    ctx.flush();
    let mut pixmap = Pixmap::new(width, height);
    ctx.render_with(
        &mut pixmap,
        &mut Resources::default(),
        RasterizerSettings {
            target_init: TargetInit::Clear(TRANSPARENT),
            ..Default::default()
        },
    );
    let (w, h) = (u32::from(width), u32::from(height));
    let stride = w.div_ceil(8) as usize;
    let mut bits = vec![0u8; stride * h as usize];
    let mut any = false;
    for (y, row) in pixmap
        .data_as_u8_slice()
        .chunks_exact(w as usize * 4)
        .enumerate()
    {
        for (x, px) in row.chunks_exact(4).enumerate() {
            if px[3] >= 128 {
                bits[y * stride + x / 8] |= 0x80 >> (x % 8);
                any = true;
            }
        }
    }
    if !any {
        return Cached::Empty;
    }
    Cached::Mask(Rc::new(GlyphMask {
        left: left as i32,
        top: top as i32,
        width: w,
        height: h,
        bits,
    }))
}

impl GlyphMask {
    /// A mask from horizontal runs `(dx, dy, len)` relative to the glyph origin; `None` if the
    /// runs have no pixels.
    pub(crate) fn from_runs(runs: &[(i32, i32, u32)]) -> Option<Self> {
        let runs = || runs.iter().filter(|r| r.2 > 0);
        let left = runs().map(|r| r.0).min()?;
        let top = runs().map(|r| r.1).min()?;
        let right = runs().map(|r| r.0 + r.2 as i32).max()?;
        let bottom = runs().map(|r| r.1 + 1).max()?;
        let (width, height) = ((right - left) as u32, (bottom - top) as u32);
        let stride = width.div_ceil(8) as usize;
        let mut bits = vec![0u8; stride * height as usize];
        for &(dx, dy, len) in runs() {
            let row = &mut bits[(dy - top) as usize * stride..][..stride];
            let start = (dx - left) as u32;
            crate::bitmap::fill_bits(row, start, start + len);
        }
        Some(Self {
            left,
            top,
            width,
            height,
            bits,
        })
    }

    /// The pixel box the mask covers when the glyph origin is at whole pixel `(x, y)`:
    /// (x0, y0, x1, y1), end-exclusive.
    pub(crate) fn bounds(&self, x: i32, y: i32) -> (i32, i32, i32, i32) {
        let x0 = x + self.left;
        let y0 = y + self.top;
        (x0, y0, x0 + self.width as i32, y0 + self.height as i32)
    }

    /// OR the mask into `page` with the glyph origin at whole pixel `(x, y)`; pixels outside the
    /// page are dropped.
    pub(crate) fn blit(&self, page: &mut Bitmap, x: i32, y: i32) {
        let (x0, y0, x1, y1) = self.bounds(x, y);
        let (pw, ph) = (page.width() as i32, page.height() as i32);
        let stride = self.width.div_ceil(8) as usize;
        if x0 >= 0 && x1 <= pw {
            // Inside horizontally: whole bytes, shifted.
            let shift = (x0 & 7) as u32;
            let byte0 = (x0 >> 3) as usize;
            for sy in y0.max(0)..y1.min(ph) {
                let src = &self.bits[(sy - y0) as usize * stride..][..stride];
                let dst = page.row_mut(sy as u32);
                for (i, &b) in src.iter().enumerate() {
                    if b == 0 {
                        continue;
                    }
                    dst[byte0 + i] |= b >> shift;
                    if shift != 0 {
                        // The spill lands on a byte inside the row whenever it carries ink,
                        // because ink never lies past x1 <= width.
                        if let Some(next) = dst.get_mut(byte0 + i + 1) {
                            *next |= b << (8 - shift);
                        }
                    }
                }
            }
        } else {
            for sy in y0.max(0)..y1.min(ph) {
                let src = &self.bits[(sy - y0) as usize * stride..][..stride];
                for sx in x0.max(0)..x1.min(pw) {
                    let i = (sx - x0) as usize;
                    if src[i / 8] & (0x80 >> (i % 8)) != 0 {
                        page.set_black(sx as u32, sy as u32);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hayro::kurbo::Rect;

    fn square() -> BezPath {
        Rect::new(0.0, 0.0, 10.0, 10.0).to_path(0.1)
    }

    #[test]
    fn a_square_fills_its_pixels_and_blits_where_placed() {
        let mut cache = GlyphCache::default();
        let (linear, phase, (x, y), local) = quantise(Affine::translate((20.25, 30.0)));
        assert_eq!(phase, (1, 0));
        let key = GlyphKey {
            glyph: 1,
            hinted: false,
            linear,
            phase,
        };
        let Cached::Mask(mask) = cache.insert(key, &square(), local, 112) else {
            panic!("a 10 px square has ink");
        };
        let mut page = Bitmap::new(64, 64);
        mask.blit(&mut page, x, y);
        // Covers x 20.25..30.25: pixels 20..=29 are ≥ 75 % covered, 30 only 25 %.
        for px in 0..64 {
            assert_eq!(page.get(px, 35), (20..30).contains(&px), "x {px}");
        }
        for py in 0..64 {
            assert_eq!(page.get(25, py), (30..40).contains(&py), "y {py}");
        }
        assert_eq!(page.black_pixels(), 100);
        assert!(cache.get(&key).is_some());
    }

    #[test]
    fn blits_clip_at_the_page_edges() {
        let mut cache = GlyphCache::default();
        let (linear, phase, _, local) = quantise(Affine::IDENTITY);
        let key = GlyphKey {
            glyph: 2,
            hinted: false,
            linear,
            phase,
        };
        let Cached::Mask(mask) = cache.insert(key, &square(), local, 112) else {
            panic!("ink");
        };
        let mut page = Bitmap::new(16, 16);
        mask.blit(&mut page, -5, -5);
        mask.blit(&mut page, 11, 11);
        assert_eq!(page.black_pixels(), 25 + 25);
        assert!(page.get(0, 0) && page.get(4, 4) && !page.get(5, 5));
        assert!(page.get(15, 15) && page.get(11, 11) && !page.get(10, 10));
    }

    #[test]
    fn empty_and_huge_outlines() {
        let mut cache = GlyphCache::default();
        let key = GlyphKey {
            glyph: 3,
            hinted: false,
            linear: [0; 4],
            phase: (0, 0),
        };
        assert!(matches!(
            cache.insert(key, &BezPath::new(), Affine::IDENTITY, 112),
            Cached::Empty
        ));
        let big = Rect::new(0.0, 0.0, 300.0, 10.0).to_path(0.1);
        assert!(matches!(
            cache.insert(key, &big, Affine::IDENTITY, 112),
            Cached::TooLarge
        ));
    }
}
