//! Axis-aligned raster images drawn straight into an 8-bit grey page layer.
//!
//! A page dominated by a photograph spent most of its time in hayro's general image pipeline:
//! resampling to RGBA, painting through vello over the whole page, then converting back to grey
//! before dithering. An image that is only scaled (and perhaps mirrored) onto the page needs none
//! of that: each device pixel is the box-filtered average of the source pixels whose centres fall
//! inside it (the nearest source pixel when the image is enlarged, as hayro does without
//! `/Interpolate`), converted to grey (Rec. 601, the dither's own weights) on the way. Every
//! source pixel is read once when the image is reduced, and nothing larger than the page is
//! allocated. The [`SimplePage`](crate::simple_page::SimplePage) device decides which images come
//! here; anything unusual goes to hayro.

use hayro::hayro_interpret::hayro_syntax::object::dict::keys::{
    BITS_PER_COMPONENT, BPC, COLORSPACE, CS, D, DCT_DECODE, DCT_DECODE_ABBREVIATION, DECODE,
    DECODE_PARMS, DEVICE_GRAY, DEVICE_RGB, DP, F, FILTER, G, MASK, RGB, SMASK, SMASK_IN_DATA,
};
use hayro::hayro_interpret::hayro_syntax::object::{Array, Name, Stream};
use hayro::kurbo::{Affine, Rect};
use zune_jpeg::JpegDecoder;
use zune_jpeg::zune_core::bytestream::ZCursor;
use zune_jpeg::zune_core::colorspace::ColorSpace;
use zune_jpeg::zune_core::options::DecoderOptions;

/// The page's aliasing threshold (see `pdf`), for the image's edges.
const ALIASING_THRESHOLD: u8 = 112;

/// Images declaring more pixels than this are left to the general path (and to the render
/// budget's pre-scan, which refuses far smaller ones by default) before anything is decoded.
pub(crate) const MAX_SOURCE_PIXELS: u64 = 1 << 28;

/// A plain JPEG image (`/DCTDecode` alone, `DeviceGray` or `DeviceRGB`, 8 bits, no decode
/// array, decode parameters or masks) decoded straight to grey: the JPEG's own luma channel, so
/// colour conversion and chroma upsampling are skipped and a third of the memory is used. The
/// header is read first; nothing is decoded when the image is larger than [`MAX_SOURCE_PIXELS`]
/// or its size differs from the dictionary's. `None` for anything else (hayro decodes it).
pub(crate) fn jpeg_luma(stream: &Stream<'_>, width: u32, height: u32) -> Option<Vec<u8>> {
    let dict = stream.dict();
    let filter = dict
        .get::<Name<'_>>(FILTER)
        .or_else(|| dict.get::<Name<'_>>(F))
        .or_else(|| {
            let filters = dict
                .get::<Array<'_>>(FILTER)
                .or_else(|| dict.get::<Array<'_>>(F))?;
            let mut names = filters.iter::<Name<'_>>();
            let first = names.next()?;
            names.next().is_none().then_some(first)
        })?;
    if !(filter.as_ref() == DCT_DECODE || filter.as_ref() == DCT_DECODE_ABBREVIATION)
        || [D, DECODE, DP, DECODE_PARMS, SMASK, MASK, SMASK_IN_DATA]
            .iter()
            .any(|k| dict.contains_key(k))
        || dict
            .get::<u8>(BPC)
            .or_else(|| dict.get::<u8>(BITS_PER_COMPONENT))
            .is_some_and(|b| b != 8)
        || u64::from(width) * u64::from(height) > MAX_SOURCE_PIXELS
    {
        return None;
    }
    let cs = dict
        .get::<Name<'_>>(CS)
        .or_else(|| dict.get::<Name<'_>>(COLORSPACE))?;
    let components = match cs.as_ref() {
        n if n == DEVICE_GRAY || n == G => 1,
        n if n == DEVICE_RGB || n == RGB => 3,
        _ => return None,
    };
    let data = stream.raw_data();
    let options = DecoderOptions::default()
        .set_max_width(u16::MAX as usize)
        .set_max_height(u16::MAX as usize);
    let mut decoder = JpegDecoder::new_with_options(ZCursor::new(&*data), options);
    decoder.decode_headers().ok()?;
    let info = decoder.info()?;
    let expected = if components == 1 {
        ColorSpace::Luma
    } else {
        ColorSpace::YCbCr
    };
    if decoder.input_colorspace()? != expected
        || usize::from(info.components) != components
        || (u32::from(info.width), u32::from(info.height)) != (width, height)
    {
        return None;
    }
    decoder.set_options(options.jpeg_set_out_colorspace(ColorSpace::Luma));
    let grey = decoder.decode().ok()?;
    (grey.len() == width as usize * height as usize).then_some(grey)
}

/// Source samples: one grey or three RGB bytes per pixel, rows top to bottom.
#[derive(Clone, Copy)]
pub(crate) enum Samples<'a> {
    Grey(&'a [u8]),
    Rgb(&'a [u8]),
}

/// A decoded image as it is drawn.
#[derive(Clone, Copy)]
pub(crate) struct Source<'a> {
    pub samples: Samples<'a>,
    /// Optional alpha, one byte per pixel, the same size as the image.
    pub alpha: Option<&'a [u8]>,
    pub width: u32,
    pub height: u32,
}

/// The grey page layer images are drawn into (255 = paper).
pub(crate) struct ImageLayer {
    width: u32,
    height: u32,
    grey: Vec<u8>,
    /// Device pixel box that images touched: (x0, y0, x1, y1), exclusive ends.
    painted: Option<(u32, u32, u32, u32)>,
}

/// For each device pixel along one axis, the range of source samples it averages.
fn spans(device: (i64, i64), offset: f64, scale: f64, source_len: u32) -> Vec<(u32, u32)> {
    let n = i64::from(source_len);
    let clamp = |v: f64| (v.clamp(0.0, n as f64) as i64).clamp(0, n);
    (device.0..device.1)
        .map(|d| {
            let (u0, u1) = (
                (d as f64 - offset) / scale,
                (d as f64 + 1.0 - offset) / scale,
            );
            let (lo, hi) = if u0 <= u1 { (u0, u1) } else { (u1, u0) };
            // Samples whose centres (i + 0.5) lie in [lo, hi).
            let (s, e) = (clamp((lo - 0.5).ceil()), clamp((hi - 0.5).ceil()));
            if e > s {
                (s as u32, e as u32)
            } else {
                // Enlarged: the sample under the pixel centre.
                let c = ((d as f64 + 0.5 - offset) / scale).floor() as i64;
                let c = c.clamp(0, n - 1);
                (c as u32, c as u32 + 1)
            }
        })
        .collect()
}

/// Rec. 601 luma with the dither's integer weights.
#[inline]
fn luma(r: u8, g: u8, b: u8) -> u32 {
    (u32::from(r) * 77 + u32::from(g) * 150 + u32::from(b) * 29) >> 8
}

impl ImageLayer {
    pub(crate) fn new(width: u32, height: u32) -> Self {
        Self {
            width,
            height,
            grey: vec![255; width as usize * height as usize],
            painted: None,
        }
    }

    /// The device pixels an image drawn with `transform` (image pixel space, y down, to device)
    /// covers inside `clip`: pixels whose centres are inside both, as (x0, y0, x1, y1).
    pub(crate) fn target(
        &self,
        transform: Affine,
        width: u32,
        height: u32,
        clip: Option<Rect>,
    ) -> Option<(u32, u32, u32, u32)> {
        let mut r =
            transform.transform_rect_bbox(Rect::new(0.0, 0.0, f64::from(width), f64::from(height)));
        r = r.intersect(Rect::new(
            0.0,
            0.0,
            f64::from(self.width),
            f64::from(self.height),
        ));
        if let Some(c) = clip {
            r = r.intersect(c);
        }
        self.pixel_box(r)
    }

    /// The pixels a device rectangle covers, as (x0, y0, x1, y1).
    fn pixel_box(&self, r: Rect) -> Option<(u32, u32, u32, u32)> {
        // A pixel is in when the image covers more than the aliasing threshold of it (112/255),
        // as vello decides for the image's rectangle on the general path.
        let cover = 1.0 - f64::from(ALIASING_THRESHOLD) / 255.0;
        let px = |v: f64, cut: f64| (v - cut).ceil().max(0.0) as u32;
        let (x0, y0) = (px(r.x0, cover), px(r.y0, cover));
        let (x1, y1) = (
            px(r.x1, 1.0 - cover).min(self.width),
            px(r.y1, 1.0 - cover).min(self.height),
        );
        (r.is_finite() && x1 > x0 && y1 > y0).then_some((x0, y0, x1, y1))
    }

    /// Draw `src` with `transform` = `[a 0 0 d e f]` (image pixel space to device) into the
    /// device box `target` (from [`target`](Self::target)). `false` if the transform is not
    /// axis-aligned or the sample buffers are shorter than the image.
    pub(crate) fn draw(
        &mut self,
        src: &Source<'_>,
        transform: Affine,
        target: (u32, u32, u32, u32),
    ) -> bool {
        let [a, b, c, d, e, f] = transform.as_coeffs();
        let pixels = src.width as usize * src.height as usize;
        let len_ok = match src.samples {
            Samples::Grey(s) => s.len() >= pixels,
            Samples::Rgb(s) => s.len() / 3 >= pixels,
        } && src.alpha.is_none_or(|al| al.len() >= pixels);
        if b != 0.0
            || c != 0.0
            || a == 0.0
            || d == 0.0
            || !len_ok
            || pixels == 0
            || !transform.is_finite()
        {
            return false;
        }
        let (x0, y0, x1, y1) = target;
        let cols = spans((i64::from(x0), i64::from(x1)), e, a, src.width);
        let rows = spans((i64::from(y0), i64::from(y1)), f, d, src.height);
        let widest = |v: &[(u32, u32)]| v.iter().map(|&(s, e)| u64::from(e - s)).max();
        let (Some(col_max), Some(row_max)) = (widest(&cols), widest(&rows)) else {
            return false;
        };
        // Sums stay in u32: 255 × 255 per sample with alpha, times the samples of one pixel
        // (an image reduced more than ~250 times in area goes to the general path).
        if col_max * row_max * 255 * 255 >= u64::from(u32::MAX) {
            return false;
        }
        let w = src.width as usize;
        // 2^24 / n, rounded, for the sample counts of a pixel that occur (division by lookup).
        let recip = |n: u32| ((1u64 << 24) + u64::from(n) / 2) / u64::from(n);
        let mut recips = vec![0u64; (col_max * row_max) as usize + 1];
        for (n, r) in recips.iter_mut().enumerate().skip(1) {
            *r = recip(n as u32);
        }
        // Per device column: grey sum (premultiplied by alpha when there is alpha), alpha sum.
        let mut sum = vec![0u32; cols.len()];
        let mut alpha_sum = vec![0u32; cols.len()];
        let mut grey_row = vec![0u8; w];
        // The source columns the visible part uses.
        let (src_x0, src_x1) = (
            cols.iter().map(|c| c.0).min().unwrap_or(0) as usize,
            cols.iter().map(|c| c.1).max().unwrap_or(0) as usize,
        );
        // Without alpha: per source column, the sum over the pixel's source rows, and its
        // running total along the row (a device pixel's sum is a difference of two totals).
        if (src_x1 - src_x0) as u64 * row_max * 255 >= u64::from(u32::MAX) {
            return false;
        }
        let mut column = vec![0u32; src_x1 - src_x0];
        let mut prefix = vec![0u32; src_x1 - src_x0 + 1];
        for (dy, &(sy0, sy1)) in rows.iter().enumerate() {
            sum.fill(0);
            alpha_sum.fill(0);
            column.fill(0);
            for sy in sy0 as usize..sy1 as usize {
                let base = sy * w;
                let grey: &[u8] = match src.samples {
                    Samples::Grey(s) => &s[base..base + w],
                    Samples::Rgb(s) => {
                        for (g, p) in grey_row
                            .iter_mut()
                            .zip(s[base * 3..(base + w) * 3].chunks_exact(3))
                        {
                            *g = luma(p[0], p[1], p[2]) as u8;
                        }
                        &grey_row
                    }
                };
                match src.alpha {
                    None => {
                        // Columns first (contiguous, vectorised); rows are reduced below.
                        for (c, &g) in column.iter_mut().zip(&grey[src_x0..src_x1]) {
                            *c += u32::from(g);
                        }
                    }
                    Some(al) => {
                        let al = &al[base..base + w];
                        for ((acc, asum), &(s, e)) in
                            sum.iter_mut().zip(alpha_sum.iter_mut()).zip(&cols)
                        {
                            let range = s as usize..e as usize;
                            for (&g, &av) in grey[range.clone()].iter().zip(&al[range]) {
                                *acc += u32::from(g) * u32::from(av);
                                *asum += u32::from(av);
                            }
                        }
                    }
                }
            }
            if src.alpha.is_none() {
                let mut running = 0u32;
                for (p, &c) in prefix[1..].iter_mut().zip(&column) {
                    running += c;
                    *p = running;
                }
                for (acc, &(s, e)) in sum.iter_mut().zip(&cols) {
                    *acc = prefix[e as usize - src_x0] - prefix[s as usize - src_x0];
                }
            }
            let y = y0 as usize + dy;
            let out = &mut self.grey[y * self.width as usize + x0 as usize..][..cols.len()];
            let n_rows = sy1 - sy0;
            for (i, (o, &(s, e))) in out.iter_mut().zip(&cols).enumerate() {
                let n = n_rows * (e - s);
                let r = recips[n as usize];
                *o = match src.alpha {
                    None => ((u64::from(sum[i]) * r + (1 << 23)) >> 24).min(255) as u8,
                    Some(_) => {
                        // Premultiplied average over what was there: C + D × (1 − A), with
                        // sum = n × C × 255 and alpha_sum = n × A × 255.
                        let total = u64::from(n) * 255;
                        let cov = u64::from(alpha_sum[i]).min(total);
                        let c = u64::from(sum[i]) + u64::from(*o) * (total - cov);
                        ((c + total / 2) / total).min(255) as u8
                    }
                };
            }
        }
        self.painted = Some(match self.painted {
            None => (x0, y0, x1, y1),
            Some((a0, b0, a1, b1)) => (a0.min(x0), b0.min(y0), a1.max(x1), b1.max(y1)),
        });
        true
    }

    /// Paint device rectangle `r` white (paper), as vello fills it: an opaque white rectangle
    /// painted before the images on it, taken over from the shapes.
    pub(crate) fn fill_white(&mut self, r: Rect) {
        let page = Rect::new(0.0, 0.0, f64::from(self.width), f64::from(self.height));
        if let Some((x0, y0, x1, y1)) = self.pixel_box(r.intersect(page)) {
            for y in y0..y1 {
                let start = y as usize * self.width as usize;
                self.grey[start + x0 as usize..start + x1 as usize].fill(255);
            }
        }
    }

    /// The device box images touched, if any.
    pub(crate) fn painted(&self) -> Option<Rect> {
        self.painted.map(|(x0, y0, x1, y1)| {
            Rect::new(f64::from(x0), f64::from(y0), f64::from(x1), f64::from(y1))
        })
    }

    /// Grey row `y` from `x0` to `x1`.
    pub(crate) fn row(&self, y: u32, x0: u32, x1: u32) -> &[u8] {
        let start = y as usize * self.width as usize;
        &self.grey[start + x0 as usize..start + x1 as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer_of(src: &Source<'_>, t: Affine, w: u32, h: u32) -> ImageLayer {
        let mut l = ImageLayer::new(w, h);
        let target = l.target(t, src.width, src.height, None).expect("visible");
        assert!(l.draw(src, t, target));
        l
    }

    #[test]
    fn reduction_averages_boxes() {
        // 4 × 2 grey image, halved: each device pixel is the mean of a 2 × 2 block.
        let g = [0u8, 100, 200, 255, 0, 100, 200, 255];
        let src = Source {
            samples: Samples::Grey(&g),
            alpha: None,
            width: 4,
            height: 2,
        };
        let l = layer_of(&src, Affine::new([0.5, 0.0, 0.0, 0.5, 0.0, 0.0]), 2, 1);
        assert_eq!(l.row(0, 0, 2), &[50, 228]);
        assert_eq!(l.painted(), Some(Rect::new(0.0, 0.0, 2.0, 1.0)));
    }

    #[test]
    fn enlargement_takes_the_nearest_sample_and_mirroring_works() {
        let g = [10u8, 20];
        let src = Source {
            samples: Samples::Grey(&g),
            alpha: None,
            width: 2,
            height: 1,
        };
        let l = layer_of(&src, Affine::new([2.0, 0.0, 0.0, 2.0, 1.0, 0.0]), 6, 2);
        assert_eq!(l.row(0, 0, 6), &[255, 10, 10, 20, 20, 255]);
        // Mirrored horizontally: x = 5 − 2u.
        let l = layer_of(&src, Affine::new([-2.0, 0.0, 0.0, 2.0, 5.0, 0.0]), 6, 2);
        assert_eq!(l.row(1, 0, 6), &[255, 20, 20, 10, 10, 255]);
    }

    #[test]
    fn rgb_turns_grey_and_alpha_blends_over_paper() {
        let rgb = [255u8, 0, 0, 0, 0, 255];
        let alpha = [255u8, 0];
        let src = Source {
            samples: Samples::Rgb(&rgb),
            alpha: Some(&alpha),
            width: 2,
            height: 1,
        };
        let l = layer_of(&src, Affine::IDENTITY, 2, 1);
        assert_eq!(l.row(0, 0, 2), &[76, 255]);
    }

    #[test]
    fn clipped_and_offpage_parts_are_not_drawn() {
        let g = [0u8; 16];
        let src = Source {
            samples: Samples::Grey(&g),
            alpha: None,
            width: 4,
            height: 4,
        };
        let l = ImageLayer::new(8, 8);
        let t = Affine::new([4.0, 0.0, 0.0, 4.0, -8.0, 0.0]);
        assert_eq!(l.target(t, 4, 4, None), Some((0, 0, 8, 8)));
        let clip = Rect::new(2.0, 2.0, 4.0, 4.0);
        assert_eq!(l.target(t, 4, 4, Some(clip)), Some((2, 2, 4, 4)));
        let far = Affine::translate((100.0, 0.0));
        assert_eq!(l.target(far, 4, 4, None), None);
        // Short sample buffers and rotations are refused.
        let mut l = ImageLayer::new(8, 8);
        let short = Source {
            samples: Samples::Grey(&g[..3]),
            ..src
        };
        assert!(!l.draw(&short, Affine::IDENTITY, (0, 0, 4, 4)));
        assert!(!l.draw(&src, Affine::rotate(0.5), (0, 0, 4, 4)));
        assert_eq!(l.painted(), None);
    }
}
