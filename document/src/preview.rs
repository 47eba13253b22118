//! PNG previews of fax pages, full size and thumbnail.

use crate::bitmap::Bitmap;
use crate::error::DocError;
use image::{GrayImage, ImageFormat, imageops};
use std::io::Cursor;

/// Which preview to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreviewSize {
    /// Every fax pixel; rows are doubled when the vertical resolution is half the horizontal one
    /// (standard resolution), so the page keeps its shape.
    Full,
    /// Scaled (area-averaged, in grey) to fit this width.
    Thumbnail {
        /// Width in pixels.
        width: u32,
    },
}

/// A PNG of one page. `dpi` is (horizontal, vertical), used to keep the aspect ratio.
pub fn preview_png(page: &Bitmap, dpi: (f64, f64), size: PreviewSize) -> Result<Vec<u8>, DocError> {
    let stretch = ((dpi.0 / dpi.1).round() as u32).clamp(1, 4);
    let (w, h) = (page.width(), page.height());
    let mut img = GrayImage::from_pixel(w, h * stretch, image::Luma([255]));
    for y in 0..h {
        let row = page.row(y);
        for x in 0..w {
            if row[(x / 8) as usize] & (0x80 >> (x % 8)) != 0 {
                for k in 0..stretch {
                    img.put_pixel(x, y * stretch + k, image::Luma([0]));
                }
            }
        }
    }
    let img = match size {
        PreviewSize::Full => img,
        PreviewSize::Thumbnail { width } => {
            let width = width.clamp(1, w);
            let height =
                ((u64::from(img.height()) * u64::from(width)) / u64::from(w)).max(1) as u32;
            imageops::thumbnail(&img, width, height)
        }
    };
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png)
        .map_err(|e| DocError::Write {
            what: "PNG",
            detail: e.to_string(),
        })?;
    Ok(out.into_inner())
}
