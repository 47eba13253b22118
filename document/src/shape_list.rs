//! Vector shapes recorded during interpretation and drawn later by vello, only over the part of
//! the page they cover.
//!
//! Text pages often carry a few rules or boxes; rasterizing and dithering a whole 1728 × 2200
//! RGBA page for them cost as much as the text itself. Recording them first tells us the box
//! they occupy, so only that box is rasterized and dithered.

use crate::bitmap::Bitmap;
use crate::dither::{floyd_steinberg_rgba, floyd_steinberg_rows};
use crate::image_layer::ImageLayer;
use hayro::kurbo::{Affine, BezPath, Rect, Stroke};
use hayro::vello_cpu::color::palette::css::WHITE;
use hayro::vello_cpu::color::{AlphaColor, Srgb};
use hayro::vello_cpu::peniko::Fill;
use hayro::vello_cpu::{PixmapMut, RasterizerSettings, RenderContext, Resources, TargetInit};

/// White paper around the shapes, so that dithering error near their edges dies out inside the
/// rasterized box (it fades within a few pixels on paper) instead of being cut off.
const MARGIN: f64 = 8.0;

enum Op {
    Fill {
        path: BezPath,
        transform: Affine,
        rule: Fill,
        color: AlphaColor<Srgb>,
    },
    FillRect {
        rect: Rect,
        transform: Affine,
        rule: Fill,
        color: AlphaColor<Srgb>,
    },
    Stroke {
        path: BezPath,
        transform: Affine,
        stroke: Stroke,
        color: AlphaColor<Srgb>,
    },
    PushClip {
        path: BezPath,
        transform: Affine,
        rule: Fill,
    },
    PushClipRect {
        rect: Rect,
        transform: Affine,
    },
    PopClip,
    /// An operation taken back (see [`ShapeList::remove`]).
    Nop,
}

/// Drawing operations in page order, with the device-space box of what they paint.
#[derive(Default)]
pub(crate) struct ShapeList {
    ops: Vec<Op>,
    painted: Option<Rect>,
    /// The index and device box of every painting operation still in the list.
    boxes: Vec<(usize, Rect)>,
}

impl ShapeList {
    fn paint(&mut self, op: Op, bbox: Rect) {
        self.boxes.push((self.ops.len(), bbox));
        self.ops.push(op);
        self.painted = Some(self.painted.map_or(bbox, |p| p.union(bbox)));
    }

    /// Whether anything recorded so far may paint inside `bbox`.
    pub(crate) fn paints_over(&self, bbox: Rect) -> bool {
        self.painted.is_some_and(|p| p.overlaps(bbox))
            && self.boxes.iter().any(|(_, b)| b.overlaps(bbox))
    }

    /// The index the next operation gets.
    pub(crate) fn next_index(&self) -> usize {
        self.ops.len()
    }

    /// Indices of the painting operations so far that may paint inside `bbox`.
    pub(crate) fn overlapping(&self, bbox: Rect) -> Vec<usize> {
        if !self.painted.is_some_and(|p| p.overlaps(bbox)) {
            return Vec::new();
        }
        self.boxes
            .iter()
            .filter(|(_, b)| b.overlaps(bbox))
            .map(|&(i, _)| i)
            .collect()
    }

    /// Take back painting operation `index` (the caller has drawn it elsewhere).
    pub(crate) fn remove(&mut self, index: usize) {
        if let Some(op) = self.ops.get_mut(index) {
            *op = Op::Nop;
        }
        self.boxes.retain(|&(i, _)| i != index);
        self.painted = self.boxes.iter().map(|&(_, b)| b).reduce(|a, b| a.union(b));
    }

    /// Whether anything is painted.
    pub(crate) fn is_empty(&self) -> bool {
        self.painted.is_none()
    }

    pub(crate) fn fill(
        &mut self,
        path: &BezPath,
        transform: Affine,
        rule: Fill,
        color: AlphaColor<Srgb>,
        bbox: Rect,
    ) {
        let path = path.clone();
        self.paint(
            Op::Fill {
                path,
                transform,
                rule,
                color,
            },
            bbox,
        );
    }

    pub(crate) fn fill_rect(
        &mut self,
        rect: Rect,
        transform: Affine,
        rule: Fill,
        color: AlphaColor<Srgb>,
        bbox: Rect,
    ) {
        self.paint(
            Op::FillRect {
                rect,
                transform,
                rule,
                color,
            },
            bbox,
        );
    }

    pub(crate) fn stroke(
        &mut self,
        path: &BezPath,
        transform: Affine,
        stroke: Stroke,
        color: AlphaColor<Srgb>,
        bbox: Rect,
    ) {
        let path = path.clone();
        self.paint(
            Op::Stroke {
                path,
                transform,
                stroke,
                color,
            },
            bbox,
        );
    }

    pub(crate) fn push_clip(&mut self, path: &BezPath, transform: Affine, rule: Fill) {
        self.ops.push(Op::PushClip {
            path: path.clone(),
            transform,
            rule,
        });
    }

    pub(crate) fn push_clip_rect(&mut self, rect: Rect, transform: Affine) {
        self.ops.push(Op::PushClipRect { rect, transform });
    }

    pub(crate) fn pop_clip(&mut self) {
        self.ops.push(Op::PopClip);
    }

    /// The pixel box to rasterize on a `width × height` page: what is painted (with the images
    /// beneath) plus a margin.
    fn region(
        &self,
        width: u32,
        height: u32,
        images: Option<&ImageLayer>,
    ) -> Option<(u32, u32, u32, u32)> {
        let page = Rect::new(0.0, 0.0, f64::from(width), f64::from(height));
        let painted = match (self.painted, images.and_then(ImageLayer::painted)) {
            (Some(a), Some(b)) => a.union(b),
            (a, b) => a.or(b)?,
        };
        let r = painted.inflate(MARGIN, MARGIN).intersect(page);
        if !(r.width() > 0.0 && r.height() > 0.0) {
            return None;
        }
        let (x0, y0) = (r.x0.floor() as u32, r.y0.floor() as u32);
        let (x1, y1) = (r.x1.ceil() as u32, r.y1.ceil() as u32);
        Some((x0, y0, x1.min(width), y1.min(height)))
    }

    /// Rasterize and dither the shapes (over the images, when there are any) over the box they
    /// cover and OR them into `page`, with the worker's render context (resized to that box)
    /// and RGBA buffer (at least a page).
    pub(crate) fn draw_into(
        &self,
        page: &mut Bitmap,
        threshold: u8,
        ctx: &mut RenderContext,
        buffer: &mut [u8],
        images: Option<&ImageLayer>,
    ) {
        let Some((x0, y0, x1, y1)) = self.region(page.width(), page.height(), images) else {
            return;
        };
        let origin = (x0, y0);
        if let Some(layer) = images
            && self.is_empty()
        {
            // Images alone: dither the grey layer directly.
            let dithered = floyd_steinberg_rows(x1 - x0, y1 - y0, |y, row| {
                row.copy_from_slice(layer.row(y0 + y as u32, x0, x1));
            });
            page.or_at(&dithered, x0, y0);
            return;
        }
        let (w, h) = ((x1 - x0) as u16, (y1 - y0) as u16);
        ctx.reset_and_resize(w, h);
        ctx.set_aliasing_threshold(Some(threshold));
        let shift = Affine::translate((-f64::from(origin.0), -f64::from(origin.1)));
        let mut clips = 0usize;
        for op in &self.ops {
            match op {
                Op::Fill {
                    path,
                    transform,
                    rule,
                    color,
                } => {
                    ctx.set_fill_rule(*rule);
                    ctx.set_transform(shift * *transform);
                    ctx.set_paint(*color);
                    ctx.fill_path(path);
                }
                Op::FillRect {
                    rect,
                    transform,
                    rule,
                    color,
                } => {
                    ctx.set_fill_rule(*rule);
                    ctx.set_transform(shift * *transform);
                    ctx.set_paint(*color);
                    ctx.fill_rect(rect);
                }
                Op::Stroke {
                    path,
                    transform,
                    stroke,
                    color,
                } => {
                    ctx.set_transform(shift * *transform);
                    ctx.set_stroke(stroke.clone());
                    ctx.set_paint(*color);
                    ctx.stroke_path(path);
                }
                Op::PushClip {
                    path,
                    transform,
                    rule,
                } => {
                    ctx.set_fill_rule(*rule);
                    ctx.set_transform(shift * *transform);
                    ctx.push_clip_path(path);
                    clips += 1;
                }
                Op::PushClipRect { rect, transform } => {
                    ctx.set_fill_rule(Fill::NonZero);
                    ctx.set_transform(shift * *transform);
                    ctx.push_clip_rect(rect);
                    clips += 1;
                }
                Op::Nop => {}
                Op::PopClip => {
                    if clips > 0 {
                        ctx.pop_clip();
                        clips -= 1;
                    }
                }
            }
        }
        for _ in 0..clips {
            ctx.pop_clip();
        }
        ctx.flush();
        let len = usize::from(w) * usize::from(h) * 4;
        let target_init = match images {
            Some(layer) => {
                // The images beneath, opaque grey, for the shapes to be painted over.
                for (y, row) in buffer[..len]
                    .chunks_exact_mut(usize::from(w) * 4)
                    .enumerate()
                {
                    let grey = layer.row(y0 + y as u32, x0, x1);
                    for (px, &g) in row.chunks_exact_mut(4).zip(grey) {
                        px.copy_from_slice(&[g, g, g, 255]);
                    }
                }
                TargetInit::SrcOver
            }
            None => TargetInit::Clear(WHITE),
        };
        let Some(target) = PixmapMut::new(w, h, &mut buffer[..len]) else {
            return;
        };
        ctx.render_with(
            target,
            &mut Resources::default(),
            RasterizerSettings {
                target_init,
                ..Default::default()
            },
        );
        // Premultiplied over an opaque white background, so alpha is 255.
        let shapes = floyd_steinberg_rgba(&buffer[..len], u32::from(w), u32::from(h));
        page.or_at(&shapes, origin.0, origin.1);
    }
}
