//! A fast path for pages made of text and solid-colour vector shapes (most business letters,
//! manuals and forms), interpreted by hayro but drawn by us.
//!
//! [`SimplePage`] is a `hayro_interpret` device. Black text goes into a 1-bit layer through the
//! [`GlyphCache`]; everything else it accepts (solid-colour fills and strokes, coloured text,
//! clips, plain groups) is recorded in a [`ShapeList`] and later drawn by vello with the
//! parameters hayro would use. A page of text alone never rasterizes or dithers an RGBA buffer;
//! shapes are rasterized and dithered only over the box they cover, then ORed with the text.
//!
//! Raster images that are only scaled onto the page (no rotation or shear, no soft mask from the
//! graphics state, rectangular clips only, nothing already drawn beneath them but white
//! rectangles on paper) are decoded once and box-filtered straight into a grey [`ImageLayer`],
//! which the shapes are then painted over.
//!
//! Anything else (other images, shadings and patterns, soft masks, blend modes, Type 3 fonts,
//! stroked text, or a light shape painted over black text, where ORing the layers would be wrong)
//! marks the page [`unsupported`](SimplePage::unsupported) and the caller renders it with hayro.

use crate::bitmap::Bitmap;
use crate::glyph_cache::{Cached, GlyphCache, GlyphKey, quantise};
use crate::image_layer::{ImageLayer, MAX_SOURCE_PIXELS, Samples, Source, jpeg_luma};
use crate::shape_list::ShapeList;
use hayro::hayro_interpret::font::{Glyph, GlyphRun, HintingCache, OutlineGlyph};
use hayro::hayro_interpret::hayro_cmap::WritingMode;
use hayro::hayro_interpret::hayro_syntax::object::dict::keys::{I, INTERPOLATE};
use hayro::hayro_interpret::{
    BlendMode, ClipPath, Device, DrawMode, DrawProps, FillRule, Image, ImageData, ImageDrawProps,
    LumaData, Paint, SoftMask, StrokeProps,
};
use hayro::kurbo::{self, Affine, BezPath, PathEl, Point, Rect, Shape};
use hayro::vello_cpu::color::AlphaColor;
use hayro::vello_cpu::peniko::Fill;

/// hayro hints glyphs at these sizes (pixels per em), as it does when it renders the page.
const HINTING_PPEM: std::ops::RangeInclusive<f64> = 4.0..=128.0;

/// Images per page the image layer takes; a page with more goes to hayro.
const MAX_LAYER_IMAGES: usize = 256;

/// Only a white rectangle among the first this many shape operations can be taken into the image
/// layer as a background.
const MAX_WHITE_BASE_INDEX: usize = 64;

/// Grey level (Rec. 601, 0 = black) at or below which a colour is solid ink: the dither turns
/// it black with no error left over (it drops residues under 3 levels).
const INK_GREY: u32 = 2;

pub(crate) struct SimplePage<'c> {
    glyphs: &'c mut GlyphCache,
    hinting: &'c HintingCache,
    threshold: u8,
    /// The 1-bit text layer.
    pub(crate) text: Bitmap,
    /// Shapes for vello, in page order.
    pub(crate) shapes: ShapeList,
    /// Set when the page uses something this device does not draw.
    pub(crate) unsupported: bool,
    /// Active clips in device space: `Some` for axis-aligned rectangles.
    clips: Vec<Option<Rect>>,
    /// Device-space boxes of the glyphs in the text layer, for the layering check.
    text_boxes: Vec<Rect>,
    /// Raster images, when the page has any (allocated at the first).
    pub(crate) images: Option<ImageLayer>,
    /// Images drawn into the layer so far.
    images_drawn: usize,
    /// Opaque white rectangles painted where nothing was painted yet (a page background, say):
    /// shape index and the device rectangle they cover. An image on one takes it into the image
    /// layer instead of falling back to hayro.
    white_bases: Vec<(usize, Rect)>,
}

fn is_ink(c: AlphaColor<hayro::vello_cpu::color::Srgb>) -> bool {
    let [r, g, b, a] = c.to_rgba8().to_u8_array();
    a == 255 && (u32::from(r) * 77 + u32::from(g) * 150 + u32::from(b) * 29) >> 8 <= INK_GREY
}

fn solid(paint: &Paint<'_>) -> Option<AlphaColor<hayro::vello_cpu::color::Srgb>> {
    match paint {
        Paint::Color(c) => {
            let [r, g, b, a] = c.to_rgba().to_rgba8();
            Some(AlphaColor::from_rgba8(r, g, b, a))
        }
        Paint::Pattern(_) => None,
    }
}

/// The rectangle a closed path of four axis-aligned edges describes.
fn as_rect(path: &BezPath) -> Option<Rect> {
    let mut pts: Vec<Point> = Vec::with_capacity(5);
    for el in path.elements() {
        match *el {
            PathEl::MoveTo(p) if pts.is_empty() => pts.push(p),
            PathEl::LineTo(p) if !pts.is_empty() => pts.push(p),
            PathEl::ClosePath => {}
            _ => return None,
        }
    }
    if pts.len() == 5 && pts[4] == pts[0] {
        pts.pop();
    }
    if pts.len() != 4 {
        return None;
    }
    let aligned = (0..4).all(|i| {
        let (p, q) = (pts[i], pts[(i + 1) % 4]);
        p.x == q.x || p.y == q.y
    });
    aligned.then(|| path.bounding_box())
}

/// Largest scale of a transform's linear part.
fn max_factor(t: &Affine) -> f64 {
    let [a, b, c, d, _, _] = t.as_coeffs();
    a.hypot(b).max(c.hypot(d))
}

impl<'c> SimplePage<'c> {
    /// A device for a `width × height` page.
    pub(crate) fn new(
        width: u32,
        height: u32,
        glyphs: &'c mut GlyphCache,
        hinting: &'c HintingCache,
        threshold: u8,
    ) -> Self {
        Self {
            glyphs,
            hinting,
            threshold,
            text: Bitmap::new(width, height),
            shapes: ShapeList::default(),
            unsupported: false,
            clips: Vec::new(),
            text_boxes: Vec::new(),
            images: None,
            images_drawn: 0,
            white_bases: Vec::new(),
        }
    }

    /// Clip the page to its crop box, as `hayro::render_into` does.
    pub(crate) fn push_crop(&mut self, crop_box: Rect, transform: Affine, axis_aligned: bool) {
        self.shapes.push_clip_rect(crop_box, transform);
        self.clips
            .push(axis_aligned.then(|| transform.transform_rect_bbox(crop_box)));
    }

    fn fail(&mut self) {
        self.unsupported = true;
    }

    /// Check the drawing state shared by every operation; `None` if the page is beyond us.
    fn accept(
        &mut self,
        props: &DrawProps<'_>,
    ) -> Option<AlphaColor<hayro::vello_cpu::color::Srgb>> {
        if self.unsupported || props.soft_mask.is_some() || props.blend_mode != BlendMode::Normal {
            self.fail();
            return None;
        }
        let color = solid(&props.paint);
        if color.is_none() {
            self.fail();
        }
        color
    }

    /// A shape of `color` covering device box `bbox` goes into vello: unless it is ink, it must
    /// not cover text already in the text layer (ORing the layers would show that text through).
    fn note_vello(&mut self, color: AlphaColor<hayro::vello_cpu::color::Srgb>, bbox: Rect) {
        if !is_ink(color) && self.text_boxes.iter().any(|b| b.overlaps(bbox)) {
            self.fail();
        }
    }

    /// Remember an opaque white axis-aligned rectangle `rect` (user space) painted with
    /// `transform` onto untouched paper, under rectangular clips only.
    fn note_white_base(
        &mut self,
        color: AlphaColor<hayro::vello_cpu::color::Srgb>,
        rect: Option<Rect>,
        transform: Affine,
        bbox: Rect,
    ) {
        let [_, b, c, _, _, _] = transform.as_coeffs();
        // Backgrounds come first: looking only among the first operations keeps the overlap
        // checks linear on pages of thousands of shapes.
        if color.to_rgba8().to_u8_array() != [255; 4]
            || b != 0.0
            || c != 0.0
            || self.shapes.next_index() >= MAX_WHITE_BASE_INDEX
        {
            return;
        }
        if let (Some(rect), Some(clip)) = (rect, self.text_clip())
            && !self.shapes.paints_over(bbox)
        {
            let mut device = transform.transform_rect_bbox(rect);
            if let Some(clip) = clip {
                device = device.intersect(clip);
            }
            self.white_bases.push((self.shapes.next_index(), device));
        }
    }

    fn fill(&mut self, path: &BezPath, props: &DrawProps<'_>, rule: FillRule) {
        let Some(color) = self.accept(props) else {
            return;
        };
        let bbox = props
            .transform
            .transform_rect_bbox(path.control_box())
            .inflate(1.0, 1.0);
        self.note_vello(color, bbox);
        self.note_white_base(color, as_rect(path), props.transform, bbox);
        self.shapes
            .fill(path, props.transform, fill_rule(rule), color, bbox);
    }

    /// Stroke as hayro does: at least one device pixel wide (the PDF rule for thin lines), and
    /// square caps / bevel joins for lines that thin, where round ones look the same.
    fn stroke(&mut self, path: &BezPath, props: &DrawProps<'_>, sp: &StrokeProps) {
        let Some(color) = self.accept(props) else {
            return;
        };
        let factor = max_factor(&props.transform);
        let mut width = f64::from(sp.line_width).max(0.01 / factor);
        let device_width = width * factor;
        if device_width < 1.0 {
            width /= device_width;
        }
        let thin = device_width <= 1.0;
        let cap = match sp.line_cap {
            kurbo::Cap::Round if thin => kurbo::Cap::Square,
            cap => cap,
        };
        let join = match sp.line_join {
            kurbo::Join::Round if thin => kurbo::Join::Bevel,
            join => join,
        };
        let stroke = kurbo::Stroke {
            width,
            join,
            miter_limit: f64::from(sp.miter_limit),
            start_cap: cap,
            end_cap: cap,
            dash_pattern: sp.dash_array.iter().map(|&n| f64::from(n)).collect(),
            dash_offset: f64::from(sp.dash_offset),
        };
        let extent = width / 2.0 * stroke.miter_limit.max(std::f64::consts::SQRT_2);
        let bbox = props
            .transform
            .transform_rect_bbox(path.control_box().inflate(extent, extent))
            .inflate(1.0, 1.0);
        self.note_vello(color, bbox);
        self.shapes
            .stroke(path, props.transform, stroke, color, bbox);
    }

    /// The glyph outline and the device transform to fill it with, hinted like hayro.
    fn outline(
        &self,
        glyph: &OutlineGlyph,
        transform: Affine,
        hint: bool,
    ) -> (BezPath, Affine, bool) {
        let [a, b, c, d, e, f] = transform.as_coeffs();
        let ppem = d.abs() * 1000.0;
        if hint
            && b == 0.0
            && HINTING_PPEM.contains(&ppem)
            && let Some(hinted) = glyph.hinted_outline(ppem as f32, self.hinting)
        {
            return (hinted, Affine::new([a, b, c, d, e, f.round()]), true);
        }
        (glyph.outline(), transform, false)
    }

    /// The clip rectangle for text, if every active clip is a rectangle.
    fn text_clip(&self) -> Option<Option<Rect>> {
        let mut r: Option<Rect> = None;
        for c in &self.clips {
            let c = (*c)?;
            r = Some(r.map_or(c, |r| r.intersect(c)));
        }
        Some(r)
    }

    fn fill_text(&mut self, run: &GlyphRun<'_, '_>, props: &DrawProps<'_>) {
        let Some(color) = self.accept(props) else {
            return;
        };
        let horizontal = run.writing_mode() == WritingMode::Horizontal;
        let clip = self.text_clip();
        let cacheable = horizontal && is_ink(color) && clip.is_some();
        for pg in run.glyphs() {
            let Glyph::Outline(glyph) = &**pg else {
                self.fail(); // Type 3
                return;
            };
            let id = glyph.identifier().cache_key();
            let device = props.transform * pg.transform();
            if cacheable && self.cached_glyph(glyph, id, device, clip.flatten()) {
                continue;
            }
            self.vello_glyph(glyph, device, color, horizontal);
        }
    }

    /// Draw a black glyph from the cache into the text layer; `false` if it has to be drawn as a
    /// path instead (too large, or only partly inside the clip).
    fn cached_glyph(
        &mut self,
        glyph: &OutlineGlyph,
        id: u128,
        device: Affine,
        clip: Option<Rect>,
    ) -> bool {
        let [a, b, c, d, e, f] = device.as_coeffs();
        // Hinted like hayro: then the baseline sits on a whole pixel. Fonts hayro cannot hint
        // (it has no hinter for them) are remembered after the first failure. Upright text that
        // is not hinted is put on a whole-pixel baseline too (as Ghostscript's character cache
        // does): a shift of under half a pixel, and four times fewer rasterizations.
        let hinted =
            b == 0.0 && HINTING_PPEM.contains(&(d.abs() * 1000.0)) && !self.glyphs.unhintable(id);
        let t = if b == 0.0 {
            Affine::new([a, b, c, d, e, f.round()])
        } else {
            device
        };
        let (linear, phase, (x, y), local) = quantise(t);
        let key = GlyphKey {
            glyph: id,
            hinted,
            linear,
            phase,
        };
        let cached = match self.glyphs.get(&key) {
            Some(c) => c,
            None => {
                let (outline, _, really_hinted) = self.outline(glyph, device, true);
                if really_hinted != hinted {
                    self.glyphs.mark_unhintable(id);
                    return self.cached_glyph(glyph, id, device, clip);
                }
                self.glyphs.insert(key, &outline, local, self.threshold)
            }
        };
        let mask = match cached {
            Cached::Empty => return true,
            Cached::TooLarge => return false,
            Cached::Mask(mask) => mask,
        };
        let (x0, y0, x1, y1) = mask.bounds(x, y);
        let bbox = Rect::new(f64::from(x0), f64::from(y0), f64::from(x1), f64::from(y1));
        if let Some(c) = clip
            && !c.contains_rect(bbox)
        {
            // Wholly outside: nothing to draw. Partly: vello clips it.
            return !c.overlaps(bbox);
        }
        mask.blit(&mut self.text, x, y);
        self.text_boxes.push(bbox);
        true
    }

    /// Draw a raster image into the image layer, or mark the page for hayro when it is beyond
    /// the layer: a stencil mask, a rotated or sheared image, a non-rectangular clip, an enlarged
    /// image with `/Interpolate`, an alpha channel of another size than the image, or anything
    /// but white rectangles on paper drawn beneath it already (the layers are combined image,
    /// then shapes, then text).
    fn image(&mut self, image: &Image<'_, '_>, props: &ImageDrawProps<'_>) {
        if self.unsupported || props.soft_mask.is_some() || props.blend_mode != BlendMode::Normal {
            return self.fail();
        }
        let Image::Raster(raster) = image else {
            return self.fail();
        };
        let [a, b, c, d, _, _] = props.transform.as_coeffs();
        let declared = u64::from(raster.width()) * u64::from(raster.height());
        let dict = raster.stream().dict();
        let interpolate = dict
            .get::<bool>(I)
            .or_else(|| dict.get::<bool>(INTERPOLATE))
            .unwrap_or(false);
        let enlarged = a.abs() > 1.0 || d.abs() > 1.0;
        if b != 0.0
            || c != 0.0
            || a == 0.0
            || d == 0.0
            || declared > MAX_SOURCE_PIXELS
            || (interpolate && enlarged)
        {
            return self.fail();
        }
        let Some(clip) = self.text_clip() else {
            return self.fail();
        };
        // Each image is checked against the shapes and text so far: bounded, so a page of
        // thousands of tiny images stays linear (hayro draws those).
        self.images_drawn += 1;
        if self.images_drawn > MAX_LAYER_IMAGES {
            return self.fail();
        }
        let (width, height) = (self.text.width(), self.text.height());
        let layer = self
            .images
            .get_or_insert_with(|| ImageLayer::new(width, height));
        // The declared size decides where the image goes, before anything is decoded.
        let Some(target) = layer.target(props.transform, raster.width(), raster.height(), clip)
        else {
            return; // nothing visible
        };
        let (x0, y0, x1, y1) = target;
        let bbox = Rect::new(f64::from(x0), f64::from(y0), f64::from(x1), f64::from(y1));
        if self.text_boxes.iter().any(|t| t.overlaps(bbox)) {
            return self.fail();
        }
        // Shapes beneath: only white rectangles on untouched paper, which the layer takes over
        // (an image on one since then is in the layer already, drawn over it).
        let mut lifted = Vec::new();
        for i in self.shapes.overlapping(bbox) {
            match self.white_bases.iter().find(|(j, _)| *j == i) {
                Some(&(_, r)) => lifted.push((i, r)),
                None => return self.fail(),
            }
        }
        for (i, r) in lifted {
            self.shapes.remove(i);
            layer.fill_white(r);
        }
        if let Some(grey) = jpeg_luma(raster.stream(), raster.width(), raster.height()) {
            let src = Source {
                samples: Samples::Grey(&grey),
                alpha: None,
                width: raster.width(),
                height: raster.height(),
            };
            if !layer.draw(&src, props.transform, target) {
                self.fail();
            }
            return;
        }
        let hint = Some((x1 - x0, y1 - y0));
        let mut drawn = false;
        raster.with_rgba(
            |data, alpha| {
                drawn = draw_decoded(
                    layer,
                    &data,
                    alpha.as_ref(),
                    props.transform,
                    raster,
                    target,
                );
            },
            hint,
        );
        if !drawn {
            self.fail();
        }
    }

    /// A glyph filled as a path in vello, as hayro draws uncached glyphs.
    fn vello_glyph(
        &mut self,
        glyph: &OutlineGlyph,
        device: Affine,
        color: AlphaColor<hayro::vello_cpu::color::Srgb>,
        hint: bool,
    ) {
        let (outline, transform, _) = self.outline(glyph, device, hint);
        let bbox = transform
            .transform_rect_bbox(outline.control_box())
            .inflate(1.0, 1.0);
        self.note_vello(color, bbox);
        self.shapes
            .fill(&outline, transform, Fill::NonZero, color, bbox);
    }
}

/// Draw decoded image data into the layer; `false` when the general path has to do it.
fn draw_decoded(
    layer: &mut ImageLayer,
    data: &ImageData,
    alpha: Option<&LumaData>,
    transform: Affine,
    raster: &hayro::hayro_interpret::RasterImage<'_>,
    target: (u32, u32, u32, u32),
) -> bool {
    let (w, h) = (data.width(), data.height());
    if w == 0 || h == 0 || alpha.is_some_and(|al| (al.width, al.height) != (w, h)) {
        return false;
    }
    // The decoder may deliver another size than declared (a reduced decode or a wrong
    // dictionary): stretch it over the declared area, as hayro does.
    let t = transform
        * Affine::scale_non_uniform(
            f64::from(raster.width()) / f64::from(w),
            f64::from(raster.height()) / f64::from(h),
        );
    let [a, _, _, d, _, _] = t.as_coeffs();
    if data.interpolate() && (a.abs() > 1.0 || d.abs() > 1.0) {
        return false;
    }
    let samples = match data {
        ImageData::Rgb(rgb) => Samples::Rgb(&rgb.data),
        ImageData::Luma(l) => Samples::Grey(&l.data),
    };
    let src = Source {
        samples,
        alpha: alpha.map(|al| al.data.as_slice()),
        width: w,
        height: h,
    };
    layer.draw(&src, t, target)
}

fn fill_rule(rule: FillRule) -> Fill {
    match rule {
        FillRule::NonZero => Fill::NonZero,
        FillRule::EvenOdd => Fill::EvenOdd,
    }
}

impl<'a> Device<'a> for SimplePage<'_> {
    fn draw_path(&mut self, path: &BezPath, props: DrawProps<'a>, draw_mode: &DrawMode) {
        match draw_mode {
            DrawMode::Fill(rule) => self.fill(path, &props, *rule),
            DrawMode::Stroke(s) => self.stroke(path, &props, s),
            DrawMode::FillAndStroke(rule, s) => {
                self.fill(path, &props, *rule);
                self.stroke(path, &props, s);
            }
            DrawMode::Invisible => {}
        }
    }

    fn push_clip_path(&mut self, clip_path: &ClipPath) {
        self.shapes
            .push_clip(&clip_path.path, Affine::IDENTITY, fill_rule(clip_path.fill));
        self.clips.push(as_rect(&clip_path.path));
    }

    fn push_clip_rect(&mut self, rect: &Rect) {
        self.shapes.push_clip_rect(*rect, Affine::IDENTITY);
        self.clips.push(Some(*rect));
    }

    fn push_transparency_group(
        &mut self,
        opacity: f32,
        mask: Option<SoftMask<'a>>,
        blend_mode: BlendMode,
    ) {
        // An isolated group at full opacity, normal blending and no mask composites exactly like
        // its content drawn directly.
        if opacity < 1.0 || mask.is_some() || blend_mode != BlendMode::Normal {
            self.fail();
        }
    }

    fn draw_glyph_run(&mut self, run: &GlyphRun<'_, 'a>, props: DrawProps<'a>, mode: &DrawMode) {
        match mode {
            DrawMode::Fill(_) => self.fill_text(run, &props),
            DrawMode::Invisible => {}
            DrawMode::Stroke(_) | DrawMode::FillAndStroke(..) => self.fail(),
        }
    }

    fn draw_image(&mut self, image: Image<'a, '_>, props: ImageDrawProps<'a>) {
        self.image(&image, &props);
    }

    fn pop_clip(&mut self) {
        if self.clips.pop().is_some() {
            self.shapes.pop_clip();
        }
    }

    fn pop_transparency_group(&mut self) {}

    fn draw_rect(&mut self, rect: &Rect, props: DrawProps<'a>, draw_mode: &DrawMode) {
        // Filled through vello's rectangle path, as hayro does.
        let fill = |this: &mut Self, rule: FillRule| {
            let Some(color) = this.accept(&props) else {
                return;
            };
            let bbox = props.transform.transform_rect_bbox(*rect).inflate(1.0, 1.0);
            this.note_vello(color, bbox);
            this.note_white_base(color, Some(*rect), props.transform, bbox);
            this.shapes
                .fill_rect(*rect, props.transform, fill_rule(rule), color, bbox);
        };
        match draw_mode {
            DrawMode::Fill(rule) => fill(self, *rule),
            DrawMode::Stroke(s) => self.stroke(&rect.to_path(0.1), &props, s),
            DrawMode::FillAndStroke(rule, s) => {
                fill(self, *rule);
                self.stroke(&rect.to_path(0.1), &props, s);
            }
            DrawMode::Invisible => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rectangles_are_recognised() {
        assert_eq!(
            as_rect(&Rect::new(1.0, 2.0, 3.0, 4.0).to_path(0.1)),
            Some(Rect::new(1.0, 2.0, 3.0, 4.0))
        );
        let mut tri = BezPath::new();
        tri.move_to((0.0, 0.0));
        tri.line_to((5.0, 5.0));
        tri.line_to((0.0, 5.0));
        tri.close_path();
        assert_eq!(as_rect(&tri), None);
    }

    #[test]
    fn ink_is_black_and_opaque() {
        assert!(is_ink(AlphaColor::from_rgba8(0, 0, 0, 255)));
        assert!(is_ink(AlphaColor::from_rgba8(2, 2, 2, 255)));
        assert!(!is_ink(AlphaColor::from_rgba8(0, 0, 0, 128)));
        assert!(!is_ink(AlphaColor::from_rgba8(0, 0, 255, 255)));
    }
}
