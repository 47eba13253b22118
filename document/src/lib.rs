//! Fax documents: rendering PDF and text to TIFF-F, decoding received TIFF-F to PDF, previews.
//!
//! Outbound: [`render`] takes the bytes of a PDF or UTF-8 text (the type is decided by content,
//! see [`sniff`]), fits every page to the paper at 1728 pixels across, turns it bilevel and
//! encodes it (G4 by default, MH or MR on request) into a multi-page TIFF-F ready for spandsp.
//! PDF pages are rasterized in-process by hayro on one worker per core (or by Ghostscript when
//! configured, see [`Backend`]); text is laid out in a monospace font compiled into the binary.
//!
//! Inbound: [`tiff_to_pdf`] wraps the CCITT data of a received fax in a PDF without re-encoding it,
//! and [`decode_tiff`] + [`preview_png`] make PNG previews.
//!
//! Every bad input ends in a [`DocError`], never a panic. A pre-scan refuses the decompression
//! bombs it can see; what it cannot (a render that would run too long or allocate too much) is
//! bounded by rendering untrusted documents in a child process under a memory and time budget,
//! see [`worker`]. The functions here do no IO beyond what they say: [`render_file`] reads its
//! path; the Ghostscript backend (through a private temporary directory) and the worker run child
//! processes.
#![forbid(unsafe_code)]

mod bitmap;
mod ccitt_decode;
mod dither;
mod encode;
mod error;
mod fidelity;
mod ghostscript;
mod glyph_cache;
mod image_layer;
mod inbound;
mod join;
mod options;
mod pdf;
mod prescan;
mod preview;
mod shape_list;
mod simple_page;
mod sniff;
mod text;
mod tiff_out;
pub mod worker;

pub use bitmap::Bitmap;
pub use dither::floyd_steinberg;
pub use encode::{Encoding, encode};
pub use error::DocError;
pub use fidelity::f1_1px;
pub use inbound::{FaxPage, decode_tiff, read_fax_tiff, tiff_to_pdf, tiff_to_pdf_to};
pub use join::{
    COVER_FIELD_MAX, COVER_NOTE_MAX, CoverError, CoverPage, cover_tiff, join_to_pdf, render_cover,
};
pub use options::{Backend, FAX_WIDTH, GhostscriptConfig, Paper, RenderOptions, Resolution};
pub use prescan::PdfLimits;
pub use preview::{PreviewSize, preview_png};
pub use sniff::{ContentKind, sniff};
pub use text::render_text;
pub use tiff_out::write_tiff;

use rayon::prelude::*;
use std::path::Path;
use std::sync::Arc;

/// How far a render has got, for progress bars.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Pages finished.
    pub pages_done: usize,
    /// Pages in the document.
    pub pages_total: usize,
}

/// One rendered page: the bitmap and its encoded strip.
#[derive(Debug, Clone)]
pub(crate) struct RenderedPage {
    pub bitmap: Bitmap,
    pub encoded: Vec<u8>,
}

/// A document ready to fax.
#[derive(Debug, Clone)]
pub struct FaxDocument {
    /// What the input was.
    pub kind: ContentKind,
    /// The page images, 1728 pixels wide.
    pub pages: Vec<Bitmap>,
    /// The whole document as multi-page TIFF-F.
    pub tiff: Vec<u8>,
    /// The resolution the pages were made at.
    pub resolution: Resolution,
    /// The coding of the TIFF strips.
    pub encoding: Encoding,
}

impl FaxDocument {
    /// Number of pages.
    pub fn page_count(&self) -> usize {
        self.pages.len()
    }

    /// (horizontal, vertical) dots per inch.
    pub fn dpi(&self) -> (f64, f64) {
        (
            f64::from(self.resolution.x_dpi()),
            f64::from(self.resolution.y_dpi()),
        )
    }
}

/// Render a PDF or text document to fax pages and TIFF-F.
pub fn render(bytes: &[u8], opts: &RenderOptions) -> Result<FaxDocument, DocError> {
    render_with_progress(bytes, opts, &|_| {})
}

/// Read a file and [`render`] it.
pub fn render_file(path: &Path, opts: &RenderOptions) -> Result<FaxDocument, DocError> {
    let size = std::fs::metadata(path)?.len();
    if size > opts.max_bytes as u64 {
        return Err(DocError::TooLarge {
            size: usize::try_from(size).unwrap_or(usize::MAX),
            limit: opts.max_bytes,
        });
    }
    render(&std::fs::read(path)?, opts)
}

/// [`render`], calling `progress` after every finished page (from the calling thread).
pub fn render_with_progress(
    bytes: &[u8],
    opts: &RenderOptions,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<FaxDocument, DocError> {
    if bytes.len() > opts.max_bytes {
        return Err(DocError::TooLarge {
            size: bytes.len(),
            limit: opts.max_bytes,
        });
    }
    let kind = sniff(bytes);
    let pages: Vec<RenderedPage> = match kind {
        ContentKind::Pdf => render_pdf(bytes, opts, progress)?,
        ContentKind::Text => {
            let text = std::str::from_utf8(bytes).map_err(|_| DocError::UnsupportedType)?;
            let bitmaps = render_text(text, opts.paper, opts.resolution, opts.max_pages)?;
            let total = bitmaps.len();
            let pages = bitmaps
                .into_par_iter()
                .map(|bitmap| RenderedPage {
                    encoded: encode(&bitmap, opts.encoding),
                    bitmap,
                })
                .collect();
            progress(Progress {
                pages_done: total,
                pages_total: total,
            });
            pages
        }
        ContentKind::Tiff | ContentKind::Unknown => return Err(DocError::UnsupportedType),
    };
    let (bitmaps, strips): (Vec<Bitmap>, Vec<Vec<u8>>) =
        pages.into_iter().map(|p| (p.bitmap, p.encoded)).unzip();
    let tiff = tiff_out::write_encoded(&bitmaps, &strips, opts.resolution, opts.encoding)?;
    tracing::debug!(
        pages = bitmaps.len(),
        bytes = tiff.len(),
        ?kind,
        "document rendered"
    );
    Ok(FaxDocument {
        kind,
        pages: bitmaps,
        tiff,
        resolution: opts.resolution,
        encoding: opts.encoding,
    })
}

fn render_pdf(
    bytes: &[u8],
    opts: &RenderOptions,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Vec<RenderedPage>, DocError> {
    let shared = Arc::new(bytes.to_vec());
    let page_count = checked_pdf_pages(shared.clone(), opts)?;
    match &opts.backend {
        Backend::Hayro => {
            let all = Arc::new((0..page_count).collect());
            pdf::render_pdf(shared, all, opts, progress)
        }
        Backend::Ghostscript(cfg) => {
            let bitmaps =
                ghostscript::render(bytes, cfg, opts.paper, opts.resolution, 1, page_count)?;
            progress(Progress {
                pages_done: bitmaps.len(),
                pages_total: page_count,
            });
            Ok(bitmaps
                .into_par_iter()
                .map(|bitmap| RenderedPage {
                    encoded: encode(&bitmap, opts.encoding),
                    bitmap,
                })
                .collect())
        }
    }
}

/// Opens a PDF, checks its page count against the limit and pre-scans it against the memory
/// budget ([`PdfLimits`]); the number of pages.
fn checked_pdf_pages<T: AsRef<[u8]> + Send + Sync + 'static>(
    bytes: Arc<T>,
    opts: &RenderOptions,
) -> Result<usize, DocError> {
    let pdf = pdf::open(bytes)?;
    let page_count = pdf.pages().len();
    if page_count == 0 {
        return Err(DocError::NoPages);
    }
    if page_count > opts.max_pages {
        return Err(DocError::TooManyPages {
            pages: page_count,
            limit: opts.max_pages,
        });
    }
    prescan::check(&pdf, PdfLimits::for_memory(opts.memory_limit))?;
    Ok(page_count)
}

/// The number of pages a PDF or text document will render to, with every check [`render`] makes
/// before rendering (type, size, page limit, the PDF pre-scan) but without rasterizing: text is
/// laid out, a PDF's page tree read and its streams measured.
pub fn count_pages(bytes: &[u8], opts: &RenderOptions) -> Result<usize, DocError> {
    if bytes.len() > opts.max_bytes {
        return Err(DocError::TooLarge {
            size: bytes.len(),
            limit: opts.max_bytes,
        });
    }
    match sniff(bytes) {
        ContentKind::Pdf => checked_pdf_pages(Arc::new(bytes.to_vec()), opts),
        ContentKind::Text => {
            let text = std::str::from_utf8(bytes).map_err(|_| DocError::UnsupportedType)?;
            text::count_pages(text, opts.paper, opts.resolution, opts.max_pages)
        }
        ContentKind::Tiff | ContentKind::Unknown => Err(DocError::UnsupportedType),
    }
}

/// The number of pages of a PDF, opened exactly as [`render`] opens it (the empty user password is
/// tried); only the cross-reference table and page tree are parsed.
pub fn pdf_page_count<T: AsRef<[u8]> + Send + Sync + 'static>(
    bytes: Arc<T>,
) -> Result<usize, DocError> {
    Ok(pdf::open(bytes)?.pages().len())
}

/// Render selected pages (0-based) of a PDF with hayro, for previews and comparisons. Page
/// numbers past the end are an error ([`DocError::RenderFailed`]).
pub fn render_pdf_pages(
    bytes: &[u8],
    pages: &[usize],
    opts: &RenderOptions,
) -> Result<Vec<Bitmap>, DocError> {
    let shared = Arc::new(bytes.to_vec());
    let count = checked_pdf_pages(shared.clone(), opts)?;
    if let Some(&bad) = pages.iter().find(|&&p| p >= count) {
        return Err(DocError::RenderFailed { page: bad + 1 });
    }
    let rendered = pdf::render_pdf(shared, Arc::new(pages.to_vec()), opts, &|_| {})?;
    Ok(rendered.into_iter().map(|p| p.bitmap).collect())
}

/// Render one page (1-based) of a PDF or text document, for previews: a PDF renders only that
/// page, text is laid out whole (at most `max_pages` pages) and the page drawn.
pub fn render_page(bytes: &[u8], page: usize, opts: &RenderOptions) -> Result<Bitmap, DocError> {
    if bytes.len() > opts.max_bytes {
        return Err(DocError::TooLarge {
            size: bytes.len(),
            limit: opts.max_bytes,
        });
    }
    let pages = count_pages(bytes, opts)?;
    if page == 0 || page > pages {
        return Err(DocError::NoSuchPage { page, pages });
    }
    match sniff(bytes) {
        ContentKind::Pdf => {
            let shared = Arc::new(bytes.to_vec());
            let mut rendered = pdf::render_pdf(shared, Arc::new(vec![page - 1]), opts, &|_| {})?;
            rendered
                .pop()
                .map(|p| p.bitmap)
                .ok_or(DocError::RenderFailed { page })
        }
        _ => {
            let text = std::str::from_utf8(bytes).map_err(|_| DocError::UnsupportedType)?;
            let mut all = render_text(text, opts.paper, opts.resolution, opts.max_pages)?;
            Ok(all.swap_remove(page - 1))
        }
    }
}

/// Render selected pages (0-based) of a PDF with Ghostscript, for comparisons and the fallback.
pub fn render_pdf_ghostscript(
    bytes: &[u8],
    cfg: &GhostscriptConfig,
    paper: Paper,
    resolution: Resolution,
    first_page: usize,
    last_page: usize,
) -> Result<Vec<Bitmap>, DocError> {
    ghostscript::render(bytes, cfg, paper, resolution, first_page + 1, last_page + 1)
}
