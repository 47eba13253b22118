//! Limits on what a PDF may make the renderer allocate, checked before anything is rendered.
//!
//! hayro decodes a stream whole and an image at its declared size, so a small file can ask for
//! gigabytes: a 60000×60000 1-bit image in a few hundred KB, or a content stream that inflates a
//! thousandfold. Before rendering, every stream object is looked at once: an image's declared
//! `/Width`×`/Height` must fit the pixel limit, and a stream's decoded size must fit the stream
//! limit. Flate data (the usual case) is measured by inflating it into a counter that stops one byte
//! past the limit, so nothing is allocated; other chains are bounded by their worst-case expansion.
//! What this cannot see (inline images, object streams decoded while the file is opened) is
//! caught by the render worker's memory limit (see `worker`).

use crate::error::DocError;
use hayro::hayro_syntax::Filter;
use hayro::hayro_syntax::Pdf;
use hayro::hayro_syntax::object::{Name, Object, Stream};
use std::io::Read;

/// Decoded-size limits derived from a memory budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PdfLimits {
    /// Most pixels one image may declare.
    pub max_image_pixels: u64,
    /// Most bytes one stream may decode to.
    pub max_stream_bytes: u64,
}

impl PdfLimits {
    /// hayro holds a decoded image at up to about 8 bytes per pixel while converting it, and a
    /// content stream is held whole while interpreted: images get an eighth of the budget in
    /// pixels, a stream a quarter of it in bytes.
    pub fn for_memory(bytes: u64) -> Self {
        Self {
            max_image_pixels: bytes / 8,
            max_stream_bytes: bytes / 4,
        }
    }
}

/// Checks every stream of the PDF against the limits.
pub(crate) fn check(pdf: &Pdf, limits: PdfLimits) -> Result<(), DocError> {
    for obj in pdf.objects() {
        if let Object::Stream(stream) = obj {
            check_stream(&stream, limits)?;
        }
    }
    Ok(())
}

fn check_stream(stream: &Stream<'_>, limits: PdfLimits) -> Result<(), DocError> {
    let dict = stream.dict();
    let is_image = dict
        .get::<Name<'_>>(b"Subtype")
        .is_some_and(|n| n.as_ref() == b"Image");
    if is_image {
        let w = u64::from(dict.get::<u32>(b"Width").unwrap_or(0));
        let h = u64::from(dict.get::<u32>(b"Height").unwrap_or(0));
        if w.saturating_mul(h) > limits.max_image_pixels {
            return Err(DocError::OverBudget(format!(
                "an image of {w}×{h} pixels is over the limit of {} megapixels",
                limits.max_image_pixels / 1_000_000
            )));
        }
    }
    let filters = stream.filters();
    // Image codecs decode to the declared image size, checked above.
    let Some(first) = filters.iter().position(|f| {
        !matches!(
            f,
            Filter::Crypt
                | Filter::CcittFaxDecode
                | Filter::Jbig2Decode
                | Filter::DctDecode
                | Filter::JpxDecode
        )
    }) else {
        return Ok(());
    };
    let raw = stream.raw_data();
    // Inflating is most of what a page count costs. A stream that could not pass the limit even
    // at every filter's worst expansion (Flate: 1032 to 1) needs no measuring: a typical PDF's
    // streams are far below it, while anything that can decode past the limit is measured below.
    let worst = filters[first..].iter().fold(raw.len() as u64, |n, f| {
        n.saturating_mul(worst_expansion(*f))
    });
    if worst <= limits.max_stream_bytes {
        return Ok(());
    }
    let mut size = match filters[first] {
        Filter::FlateDecode => inflated_size(&raw, limits.max_stream_bytes),
        f => (raw.len() as u64).saturating_mul(worst_expansion(f)),
    };
    for f in &filters[first + 1..] {
        size = size.saturating_mul(worst_expansion(*f));
    }
    if size > limits.max_stream_bytes {
        return Err(DocError::OverBudget(format!(
            "a stream decodes to more than {} MB",
            limits.max_stream_bytes / 1_000_000
        )));
    }
    Ok(())
}

/// The most a filter can multiply its input by.
fn worst_expansion(f: Filter) -> u64 {
    match f {
        Filter::FlateDecode => 1032,
        // 12-bit codes, each at most 4096 bytes out.
        Filter::LzwDecode => 2731,
        Filter::RunLengthDecode => 64,
        _ => 1,
    }
}

/// Bytes the zlib (or bare deflate) data inflates to, counted up to `limit + 1` without storing
/// them. Data that turns corrupt half-way counts what came out before (hayro keeps that much too).
fn inflated_size(raw: &[u8], limit: u64) -> u64 {
    let count = |r: &mut dyn Read| {
        let mut buf = [0u8; 16 * 1024];
        let mut n = 0u64;
        while n <= limit {
            match r.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(k) => n += k as u64,
            }
        }
        n
    };
    let n = count(&mut flate2::read::ZlibDecoder::new(raw));
    if n > 0 {
        return n;
    }
    count(&mut flate2::read::DeflateDecoder::new(raw))
}
