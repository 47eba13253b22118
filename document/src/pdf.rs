//! PDF pages to fax bitmaps with hayro: fit to paper, centre, rasterize grey, dither, encode.
//!
//! Pages render on worker threads (one per core). hayro runs in-process and cannot be interrupted,
//! so the page time limit is enforced by the caller waiting on the workers: when a page overruns,
//! [`render_pdf`] returns [`DocError::PageTimeout`] at once and the stuck worker is abandoned. That
//! thread may keep running in the background until hayro finishes the page; it then notices the
//! cancellation and exits without touching shared state. Plain `std` threads are used instead of
//! rayon here because an abandoned rayon worker would block the global pool.

use crate::bitmap::Bitmap;
use crate::dither::floyd_steinberg_rgba;
use crate::encode::{Encoding, encode};
use crate::error::DocError;
use crate::glyph_cache::GlyphCache;
use crate::options::{FAX_WIDTH, Paper, RenderOptions, Resolution};
use crate::simple_page::SimplePage;
use crate::{Progress, RenderedPage};
use hayro::hayro_interpret::font::HintingCache;
use hayro::hayro_interpret::util::{RectExt, TransformExt};
use hayro::hayro_interpret::{Context, InterpreterCache, InterpreterSettings, interpret_page};
use hayro::hayro_syntax::{DecryptionError, LoadPdfError, Pdf};
use hayro::kurbo::{Affine, Rect};
use hayro::vello_cpu::color::palette::css::WHITE;
use hayro::vello_cpu::{Pixmap, RasterizerSettings, RenderContext, Resources, TargetInit};
use hayro::{RenderCache, RenderSettings, render_into};
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

/// Open a PDF (with the empty user password, which many "protected" files use). Any shared byte
/// buffer will do, so callers holding `Bytes` need not copy the document.
pub(crate) fn open<T: AsRef<[u8]> + Send + Sync + 'static>(bytes: Arc<T>) -> Result<Pdf, DocError> {
    Pdf::new(bytes).map_err(|e| match e {
        LoadPdfError::Decryption(DecryptionError::PasswordProtected) => DocError::PasswordProtected,
        LoadPdfError::Decryption(_) => DocError::BadEncryption,
        LoadPdfError::Invalid => DocError::CorruptPdf,
    })
}

/// Vector shapes and text are drawn without anti-aliasing: a pixel is ink when more than
/// 112/255 (44 %) of it is covered. A fax page is 1-bit, and Ghostscript's fax devices draw the
/// same way; with anti-aliasing every glyph edge became a grey pixel whose dithering error spread
/// into the paper (stray dots, and half the render time on text pages). Below 50 %, so a
/// one-pixel line (hayro widens hairlines to one pixel) always keeps a pixel even when it
/// straddles two. Images and grey fills are still dithered.
const ALIASING_THRESHOLD: u8 = 112;

/// Where a page lands on the fax page.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Placement {
    /// Output width and height in pixels.
    pub width: u32,
    pub height: u32,
    /// Page space (y-down, points, after the page's own rotation) to device pixels.
    pub transform: Affine,
}

/// Fit a `w × h` pt page into the paper, centred, at the resolution; landscape pages are turned
/// to portrait first (as Ghostscript's `-dPDFFitPage` does), so they are not shrunk to half size.
pub(crate) fn place(w: f64, h: f64, paper: Paper, res: Resolution) -> Placement {
    let (pw, ph) = paper.size_pt();
    let (rotate, w, h) = if w > h { (true, h, w) } else { (false, w, h) };
    let fit = (pw / w).min(ph / h);
    let sx = fit * f64::from(res.x_dpi()) / 72.0;
    let sy = fit * f64::from(res.y_dpi()) / 72.0;
    let paper_w_px = pw / 72.0 * f64::from(res.x_dpi());
    let height = paper.rows(res);
    // Paper wider than the fax line (Letter: 1734 px) loses its rightmost pixels, as Ghostscript's
    // fax devices do (AdjustWidth); narrower paper (A4: 1687 px) is centred on the line.
    let crop_left = ((paper_w_px - f64::from(FAX_WIDTH)) / 2.0).min(0.0);
    let ox = (paper_w_px - w * sx) / 2.0 - crop_left;
    let oy = (f64::from(height) - h * sy) / 2.0;
    let mut t = Affine::translate((ox, oy)) * Affine::scale_non_uniform(sx, sy);
    if rotate {
        // Turned counter-clockwise, like Ghostscript: landscape (x, y) goes to portrait
        // (y, h − x), so the top of the landscape page ends up on the left.
        t *= Affine::new([0.0, -1.0, 1.0, 0.0, 0.0, h]);
    }
    Placement {
        width: FAX_WIDTH,
        height,
        transform: t,
    }
}

/// A worker's reusable raster state: the render context and pixmap of a fax page (about 15 MB)
/// are allocated once per worker, not per page.
struct Canvas {
    ctx: RenderContext,
    pixmap: Pixmap,
}

impl Canvas {
    fn new(width: u32, height: u32) -> Self {
        Self {
            ctx: RenderContext::new(width as u16, height as u16),
            pixmap: Pixmap::new(width as u16, height as u16),
        }
    }

    /// Render one page and dither it to a bitmap: through [`SimplePage`] when the page is simple
    /// enough, else with hayro.
    fn render<'a>(
        &mut self,
        pdf_page: &'a hayro::hayro_syntax::page::Page<'a>,
        caches: &mut Caches<'a>,
        settings: &InterpreterSettings,
        paper: Paper,
        res: Resolution,
    ) -> Bitmap {
        let (w, h) = pdf_page.render_dimensions();
        let p = place(f64::from(w), f64::from(h), paper, res);
        if (
            u32::from(self.pixmap.width()),
            u32::from(self.pixmap.height()),
        ) != (p.width, p.height)
        {
            *self = Canvas::new(p.width, p.height);
        }
        self.ctx.reset_and_resize(p.width as u16, p.height as u16);
        let transform = p.transform * pdf_page.initial_transform(true).to_kurbo();
        if let Some(bitmap) = self.render_simple(pdf_page, caches, settings, transform) {
            return bitmap;
        }
        self.render_general(pdf_page, caches, settings, p, transform)
    }

    /// Render a page with hayro and dither it.
    fn render_general<'a>(
        &mut self,
        pdf_page: &'a hayro::hayro_syntax::page::Page<'a>,
        caches: &Caches<'a>,
        settings: &InterpreterSettings,
        p: Placement,
        transform: Affine,
    ) -> Bitmap {
        self.ctx.reset_and_resize(p.width as u16, p.height as u16);
        render_into(
            pdf_page,
            &caches.hayro,
            settings,
            &RenderSettings {
                aliasing_threshold: Some(ALIASING_THRESHOLD),
                ..RenderSettings::default()
            },
            &mut self.ctx,
            transform,
        );
        self.ctx.flush();
        self.dither()
    }

    /// Rasterize what is in the context and dither it.
    fn dither(&mut self) -> Bitmap {
        self.ctx.render_with(
            &mut self.pixmap,
            &mut Resources::default(),
            RasterizerSettings {
                target_init: TargetInit::Clear(WHITE),
                ..Default::default()
            },
        );
        // Premultiplied over an opaque white background, so alpha is 255.
        floyd_steinberg_rgba(
            self.pixmap.data_as_u8_slice(),
            u32::from(self.pixmap.width()),
            u32::from(self.pixmap.height()),
        )
    }

    /// The [`SimplePage`] path; `None` if the page needs hayro.
    fn render_simple<'a>(
        &mut self,
        pdf_page: &'a hayro::hayro_syntax::page::Page<'a>,
        caches: &mut Caches<'a>,
        settings: &InterpreterSettings,
        transform: Affine,
    ) -> Option<Bitmap> {
        let target = Rect::new(
            0.0,
            0.0,
            f64::from(self.ctx.width()),
            f64::from(self.ctx.height()),
        );
        let mut state = Context::new(
            transform,
            target,
            &caches.interpreter,
            pdf_page.xref(),
            settings.clone(),
        );
        let mut device = SimplePage::new(
            u32::from(self.ctx.width()),
            u32::from(self.ctx.height()),
            &mut caches.glyphs,
            &caches.hinting,
            ALIASING_THRESHOLD,
        );
        // The crop box clip, when it matters, exactly as `hayro::render_into` sets it.
        let crop_box = pdf_page.intersected_crop_box().to_kurbo();
        let [a, b, c, d, _, _] = transform.as_coeffs();
        let axis_aligned = (b == 0.0 && c == 0.0) || (a == 0.0 && d == 0.0);
        let mapped = transform
            .transform_rect_bbox(crop_box)
            .inflate(1.0 / 256.0, 1.0 / 256.0);
        if !axis_aligned || !mapped.contains_rect(target) {
            device.push_crop(crop_box, transform, axis_aligned);
        }
        interpret_page(pdf_page, &mut state, &mut device);
        if device.unsupported {
            return None;
        }
        let SimplePage {
            mut text,
            shapes,
            images,
            ..
        } = device;
        if !shapes.is_empty() || images.is_some() {
            shapes.draw_into(
                &mut text,
                ALIASING_THRESHOLD,
                &mut self.ctx,
                self.pixmap.data_as_u8_slice_mut(),
                images.as_ref(),
            );
        }
        Some(text)
    }
}

/// A worker's caches for one document: hayro's, and those of the [`SimplePage`] path.
struct Caches<'a> {
    hayro: RenderCache<'a>,
    interpreter: InterpreterCache<'a>,
    glyphs: GlyphCache,
    hinting: HintingCache,
}

enum Msg {
    Started(usize),
    Done(usize, Option<RenderedPage>),
}

/// Render the given pages (0-based) of a PDF in parallel, dithered and encoded, in that order.
pub(crate) fn render_pdf(
    bytes: Arc<Vec<u8>>,
    indices: Arc<Vec<usize>>,
    opts: &RenderOptions,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Vec<RenderedPage>, DocError> {
    let page_count = indices.len();
    if page_count == 0 {
        return Ok(Vec::new());
    }
    let threads = opts
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, page_count);
    let next = Arc::new(AtomicUsize::new(0));
    let cancel = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel::<Msg>();
    for _ in 0..threads {
        let (bytes, indices) = (bytes.clone(), indices.clone());
        let (next, cancel, tx) = (next.clone(), cancel.clone(), tx.clone());
        let (paper, res, enc) = (opts.paper, opts.resolution, opts.encoding);
        std::thread::Builder::new()
            .name("faxline-render".into())
            .spawn(move || worker(bytes, &indices, paper, res, enc, &next, &cancel, &tx))
            .map_err(DocError::Io)?;
    }
    drop(tx);

    let mut pages: Vec<Option<RenderedPage>> = (0..page_count).map(|_| None).collect();
    let mut running: HashMap<usize, Instant> = HashMap::new();
    let mut done = 0;
    let result = loop {
        if done == page_count {
            break Ok(());
        }
        let wait = running
            .values()
            .map(|start| (*start + opts.page_timeout).saturating_duration_since(Instant::now()))
            .min()
            .unwrap_or(opts.page_timeout)
            .max(Duration::from_millis(1));
        match rx.recv_timeout(wait) {
            Ok(Msg::Started(i)) => {
                running.insert(i, Instant::now());
            }
            Ok(Msg::Done(i, page)) => {
                running.remove(&i);
                match page {
                    Some(p) => pages[i] = Some(p),
                    None => {
                        break Err(DocError::RenderFailed {
                            page: indices[i] + 1,
                        });
                    }
                }
                done += 1;
                progress(Progress {
                    pages_done: done,
                    pages_total: page_count,
                });
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Some((&i, _)) = running
                    .iter()
                    .find(|(_, start)| start.elapsed() >= opts.page_timeout)
                {
                    break Err(DocError::PageTimeout {
                        page: indices[i] + 1,
                        limit: opts.page_timeout,
                    });
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let missing = pages.iter().position(Option::is_none).unwrap_or(0);
                break Err(DocError::RenderFailed {
                    page: indices[missing] + 1,
                });
            }
        }
    };
    if let Err(e) = result {
        cancel.store(true, Ordering::Relaxed);
        tracing::warn!(error = %e, "PDF rendering stopped");
        return Err(e);
    }
    Ok(pages.into_iter().flatten().collect())
}

#[allow(clippy::too_many_arguments)]
fn worker(
    bytes: Arc<Vec<u8>>,
    indices: &[usize],
    paper: Paper,
    res: Resolution,
    enc: Encoding,
    next: &AtomicUsize,
    cancel: &AtomicBool,
    tx: &mpsc::Sender<Msg>,
) {
    let Ok(pdf) = open(bytes) else {
        return; // the caller opened it already; a failure here shows up as Disconnected
    };
    let mut caches = Caches {
        hayro: RenderCache::new(),
        interpreter: InterpreterCache::new(),
        glyphs: GlyphCache::default(),
        hinting: HintingCache::new(),
    };
    let settings = InterpreterSettings::default();
    let mut canvas = Canvas::new(FAX_WIDTH, paper.rows(res));
    let pdf_pages = pdf.pages();
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= indices.len() || cancel.load(Ordering::Relaxed) {
            return;
        }
        if tx.send(Msg::Started(i)).is_err() {
            return;
        }
        let rendered = catch_unwind(AssertUnwindSafe(|| {
            let page = pdf_pages.get(indices[i])?;
            let bitmap = canvas.render(page, &mut caches, &settings, paper, res);
            let encoded = encode(&bitmap, enc);
            Some(RenderedPage { bitmap, encoded })
        }))
        .unwrap_or_else(|_| {
            // hayro panicked half-way through a page: start the next one on a fresh canvas.
            canvas = Canvas::new(FAX_WIDTH, paper.rows(res));
            None
        });
        if cancel.load(Ordering::Relaxed) || tx.send(Msg::Done(i, rendered)).is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fidelity::f1_1px;

    /// A page rendered by the simple path (`None` if it declined) and by hayro.
    fn both_paths(bytes: Vec<u8>) -> (Option<Bitmap>, Bitmap) {
        let pdf = open(Arc::new(bytes)).expect("opens");
        let pages = pdf.pages();
        let page = pages.first().expect("a page");
        let mut caches = Caches {
            hayro: RenderCache::new(),
            interpreter: InterpreterCache::new(),
            glyphs: GlyphCache::default(),
            hinting: HintingCache::new(),
        };
        let settings = InterpreterSettings::default();
        let (paper, res) = (Paper::Letter, Resolution::Fine);
        let mut canvas = Canvas::new(FAX_WIDTH, paper.rows(res));
        let (w, h) = page.render_dimensions();
        let p = place(f64::from(w), f64::from(h), paper, res);
        let transform = p.transform * page.initial_transform(true).to_kurbo();
        let simple = canvas.render_simple(page, &mut caches, &settings, transform);
        let general = canvas.render_general(page, &caches, &settings, p, transform);
        (simple, general)
    }

    /// Mean and largest difference of the ink density of 16 × 16 blocks, where either has ink.
    fn tone_difference(a: &Bitmap, b: &Bitmap) -> (f64, f64) {
        let (mut sum, mut max, mut n) = (0.0, 0.0f64, 0u32);
        for by in 0..a.height() / 16 {
            for bx in 0..a.width() / 16 {
                let density = |m: &Bitmap| {
                    let mut k = 0u32;
                    for y in by * 16..by * 16 + 16 {
                        for x in bx * 16..bx * 16 + 16 {
                            k += u32::from(m.get(x, y));
                        }
                    }
                    f64::from(k) / 256.0
                };
                let (da, db) = (density(a), density(b));
                if da > 0.0 || db > 0.0 {
                    sum += (da - db).abs();
                    max = max.max((da - db).abs());
                    n += 1;
                }
            }
        }
        (sum / f64::from(n.max(1)), max)
    }

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/../fixtures/pdf/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .expect("fixture")
    }

    /// A one-page PDF drawing an 8-bit grey image `w × h` (inline, so no object is needed)
    /// with the content-stream prefix `cm`.
    fn inline_image_pdf(cm: &str, w: usize, h: usize) -> Vec<u8> {
        // At most 64 KiB of samples: hayro pads what is missing.
        let pixels: Vec<u8> = (0..(w * h).min(1 << 16))
            .map(|i| ((i * 37) % 256) as u8)
            .collect();
        let mut content = format!("q {cm} cm BI /W {w} /H {h} /CS /G /BPC 8 ID ").into_bytes();
        content.extend_from_slice(&pixels);
        content.extend_from_slice(b"\nEI Q\n");
        let mut out = b"%PDF-1.4\n".to_vec();
        let mut offsets = Vec::new();
        let mut obj = |out: &mut Vec<u8>, body: &[u8]| {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n", offsets.len()).as_bytes());
            out.extend_from_slice(body);
            out.extend_from_slice(b"\nendobj\n");
        };
        obj(&mut out, b"<< /Type /Catalog /Pages 2 0 R >>");
        obj(&mut out, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
        obj(
            &mut out,
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        );
        let mut stream = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
        stream.extend_from_slice(&content);
        stream.extend_from_slice(b"\nendstream");
        obj(&mut out, &stream);
        let xref = out.len();
        out.extend_from_slice(
            format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1).as_bytes(),
        );
        for o in &offsets {
            out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
        }
        out.extend_from_slice(
            format!(
                "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
                offsets.len() + 1
            )
            .as_bytes(),
        );
        out
    }

    /// The photograph page goes through the image layer, and its tone matches hayro's rendering
    /// block by block (the dither patterns differ, the grey they represent does not).
    #[test]
    fn a_photo_page_takes_the_image_layer_and_matches_hayro() {
        let (simple, general) = both_paths(fixture("photo-letter.pdf"));
        let simple = simple.expect("the photo page stays on the simple path");
        let (mean, max) = tone_difference(&simple, &general);
        let f1 = f1_1px(&simple, &general);
        let ink = |b: &Bitmap| b.black_pixels() as f64 / f64::from(b.width() * b.height());
        eprintln!(
            "tone difference mean {mean:.4} max {max:.4}, 1-px F1 {f1:.4}, ink {:.4} / {:.4}",
            ink(&simple),
            ink(&general)
        );
        assert!(mean < 0.02 && max < 0.12, "mean {mean}, max {max}");
        assert!(f1 > 0.95, "F1 {f1}");
        assert!((ink(&simple) - ink(&general)).abs() < 0.005);
    }

    /// Upright, mirrored and enlarged inline images are drawn by the layer; a rotated one, or
    /// one under a non-rectangular clip, goes to hayro.
    #[test]
    fn only_axis_aligned_images_take_the_image_layer() {
        for cm in [
            "300 0 0 200 100 300",
            "-300 0 0 -200 400 500",
            "500 0 0 500 50 50",
        ] {
            let (simple, general) = both_paths(inline_image_pdf(cm, 40, 30));
            let simple = simple.unwrap_or_else(|| panic!("{cm}: simple path"));
            let (mean, _) = tone_difference(&simple, &general);
            assert!(mean < 0.03, "{cm}: mean tone difference {mean}");
        }
        let rotated = inline_image_pdf("212 212 -212 212 300 200", 40, 30);
        assert!(
            both_paths(rotated).0.is_none(),
            "a rotated image falls back"
        );
        let clipped = inline_image_pdf("0 0 m 300 600 l 600 0 l h W n 300 0 0 200 100 300", 40, 30);
        assert!(
            both_paths(clipped).0.is_none(),
            "a triangular clip falls back"
        );
    }

    /// Images on a white page background (as office suites export pages) take the layer, which
    /// takes the background over; an image on a grey fill goes to hayro (the fill would end up
    /// on top). multiple-images.pdf is such a page.
    #[test]
    fn images_on_a_white_background_take_the_layer_others_fall_back() {
        // The prefix closes the test's `q` and paints a page-sized fill first.
        let on = |fill: &str| {
            inline_image_pdf(
                &format!("Q {fill} rg 0 0 612 792 re f q 300 0 0 200 100 300"),
                40,
                30,
            )
        };
        let (simple, general) = both_paths(on("1 1 1"));
        let simple = simple.expect("white background: simple path");
        let (mean, _) = tone_difference(&simple, &general);
        assert!(mean < 0.03, "mean tone difference {mean}");
        assert!(both_paths(on("0.5 0.5 0.5")).0.is_none());
        let (simple, general) = both_paths(fixture("multiple-images.pdf"));
        let simple = simple.expect("multiple-images.pdf: simple path");
        let (mean, max) = tone_difference(&simple, &general);
        assert!(mean < 0.03 && max < 0.25, "mean {mean}, max {max}");
    }

    /// Odd geometry neither panics nor falls over: enormous, tiny, flipped, off-page images.
    #[test]
    fn odd_image_geometry_is_harmless() {
        for (cm, w, h) in [
            ("1e9 0 0 1e9 -5e8 -5e8", 3, 2),
            ("0.0001 0 0 0.0001 10 10", 40, 30),
            ("612 0 0 -792 0 792", 40, 30),
            ("100 0 0 100 -1000 -1000", 4, 4),
            ("612 0 0 792 0 0", 1, 1),
            ("1e-300 0 0 1e-300 0 0", 5000, 5000),
        ] {
            let (simple, general) = both_paths(inline_image_pdf(cm, w, h));
            if let Some(simple) = simple {
                assert_eq!(
                    (simple.width(), simple.height()),
                    (general.width(), general.height())
                );
            }
        }
    }

    /// An inline image (which the budget's pre-scan cannot see) claiming 100000 × 100000 pixels
    /// is refused by the layer from its dictionary, before anything is decoded; hayro then
    /// sizes it by the data actually present.
    #[test]
    fn a_huge_declared_image_is_not_decoded_by_the_layer() {
        let (simple, _) = both_paths(inline_image_pdf("600 0 0 700 6 50", 100_000, 100_000));
        assert!(simple.is_none());
    }
}
