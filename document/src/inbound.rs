//! Received TIFF-F to PDF, passing the CCITT data through unchanged.
//!
//! Each TIFF page becomes one PDF page holding one image XObject with `/Filter /CCITTFaxDecode`.
//! No pixel is decoded or re-encoded: the strips are copied (bit-reversed when the TIFF is
//! LSB-first, FillOrder 2, as spandsp writes received faxes) and the decode parameters describe
//! them. The page size comes from the TIFF resolution, so a fine and a standard page both print at
//! their true size.

use crate::bitmap::Bitmap;
use crate::ccitt_decode;
use crate::encode::Encoding;
use crate::error::DocError;
use crate::options::Paper;
use lopdf::{Dictionary, Document, Object, Stream, dictionary};
use std::io::Cursor;
use tiff::decoder::{Decoder, ifd::Value};
use tiff::tags::Tag;

/// Refuse absurd page sizes before allocating anything for them.
const MAX_DIMENSION: u32 = 20_000;
/// Refuse TIFFs with more pages than this.
const MAX_PAGES: usize = 1000;

/// One page of a fax TIFF, its data already MSB-first.
#[derive(Debug, Clone)]
pub struct FaxPage {
    /// Width in pixels.
    pub width: u32,
    /// Height in rows.
    pub height: u32,
    /// MH, MR or MMR.
    pub encoding: Encoding,
    /// Horizontal and vertical resolution in dots per inch.
    pub dpi: (f64, f64),
    /// Whether a set bit means black in the decoded image (TIFF Photometric 1, BlackIsZero).
    pub black_is_zero: bool,
    /// The coded page, MSB-first (FillOrder 1).
    pub data: Vec<u8>,
    /// Whether each G3 EOL was padded to end on a byte boundary (T4Options bit 2).
    pub fill_bits: bool,
}

fn bad(msg: impl Into<String>) -> DocError {
    DocError::BadTiff(msg.into())
}

fn tag_u32(dec: &mut Decoder<Cursor<&[u8]>>, tag: Tag) -> Result<Option<u32>, DocError> {
    dec.find_tag_unsigned::<u32>(tag)
        .map_err(|e| bad(format!("tag {tag:?}: {e}")))
}

fn tag_f64(dec: &mut Decoder<Cursor<&[u8]>>, tag: Tag) -> Option<f64> {
    match dec.find_tag(tag).ok()?? {
        Value::Rational(n, d) if d != 0 => Some(f64::from(n) / f64::from(d)),
        Value::Short(v) => Some(f64::from(v)),
        Value::Unsigned(v) => Some(f64::from(v)),
        Value::Float(v) => Some(f64::from(v)),
        Value::Double(v) => Some(v),
        _ => None,
    }
}

/// Read every page of a bilevel CCITT TIFF (Compression 2 is refused: TIFF "modified Huffman"
/// without EOLs is not fax data).
pub fn read_fax_tiff(bytes: &[u8]) -> Result<Vec<FaxPage>, DocError> {
    let mut dec = Decoder::new(Cursor::new(bytes)).map_err(|e| bad(e.to_string()))?;
    let mut pages = Vec::new();
    loop {
        if pages.len() >= MAX_PAGES {
            return Err(bad(format!("more than {MAX_PAGES} pages")));
        }
        pages.push(read_page(&mut dec, bytes, pages.len() + 1)?);
        if !dec.more_images() {
            break;
        }
        dec.next_image().map_err(|e| bad(e.to_string()))?;
    }
    Ok(pages)
}

fn read_page(
    dec: &mut Decoder<Cursor<&[u8]>>,
    bytes: &[u8],
    number: usize,
) -> Result<FaxPage, DocError> {
    let width = tag_u32(dec, Tag::ImageWidth)?.ok_or_else(|| bad("no ImageWidth"))?;
    let height = tag_u32(dec, Tag::ImageLength)?.ok_or_else(|| bad("no ImageLength"))?;
    if width == 0 || height == 0 || width > MAX_DIMENSION || height > MAX_DIMENSION {
        return Err(bad(format!("page {number}: size {width}x{height}")));
    }
    if tag_u32(dec, Tag::BitsPerSample)?.unwrap_or(1) != 1 {
        return Err(bad(format!("page {number}: not bilevel")));
    }
    let compression = tag_u32(dec, Tag::Compression)?.unwrap_or(1);
    let t4 = tag_u32(dec, Tag::Unknown(292))?.unwrap_or(0);
    let encoding = match compression {
        3 if t4 & 1 == 1 => Encoding::Mr,
        3 => Encoding::Mh,
        4 => Encoding::Mmr,
        c => {
            return Err(bad(format!(
                "page {number}: compression {c} is not fax (MH, MR or MMR)"
            )));
        }
    };
    if t4 & 2 != 0 {
        return Err(bad(format!("page {number}: uncompressed G3 mode")));
    }
    let fill_order = tag_u32(dec, Tag::FillOrder)?.unwrap_or(1);
    let black_is_zero = tag_u32(dec, Tag::PhotometricInterpretation)?.unwrap_or(0) == 1;
    let offsets = dec
        .find_tag_unsigned_vec::<u64>(Tag::StripOffsets)
        .map_err(|e| bad(e.to_string()))?
        .ok_or_else(|| bad("no StripOffsets (tiled fax TIFFs are not supported)"))?;
    let counts = dec
        .find_tag_unsigned_vec::<u64>(Tag::StripByteCounts)
        .map_err(|e| bad(e.to_string()))?
        .ok_or_else(|| bad("no StripByteCounts"))?;
    if offsets.len() != counts.len() || offsets.is_empty() {
        return Err(bad(format!("page {number}: strip tables disagree")));
    }
    if encoding == Encoding::Mmr && offsets.len() > 1 {
        // Each G4 strip restarts the reference line; joining them would corrupt the page.
        return Err(bad(format!("page {number}: multi-strip G4")));
    }
    let mut data = Vec::with_capacity(counts.iter().sum::<u64>().min(bytes.len() as u64) as usize);
    for (&off, &len) in offsets.iter().zip(&counts) {
        let end = off.checked_add(len).filter(|&e| e <= bytes.len() as u64);
        let end = end.ok_or_else(|| bad(format!("page {number}: strip outside the file")))?;
        data.extend_from_slice(&bytes[off as usize..end as usize]);
    }
    if fill_order == 2 {
        for b in &mut data {
            *b = b.reverse_bits();
        }
    }
    let unit = tag_u32(dec, Tag::ResolutionUnit)?.unwrap_or(2);
    let to_dpi = |v: f64| if unit == 3 { v * 2.54 } else { v };
    let xdpi = tag_f64(dec, Tag::XResolution)
        .map(to_dpi)
        .filter(|v| (10.0..=2000.0).contains(v))
        .unwrap_or(204.0);
    let ydpi = tag_f64(dec, Tag::YResolution)
        .map(to_dpi)
        .filter(|v| (10.0..=2000.0).contains(v))
        .unwrap_or(if height < 1500 { 98.0 } else { 196.0 });
    Ok(FaxPage {
        width,
        height,
        encoding,
        dpi: (xdpi, ydpi),
        black_is_zero,
        data,
        fill_bits: t4 & 4 != 0,
    })
}

/// Convert a fax TIFF to a PDF, one page per TIFF page, without re-encoding.
pub fn tiff_to_pdf(bytes: &[u8]) -> Result<Vec<u8>, DocError> {
    let pages = read_fax_tiff(bytes)?;
    fax_pages_to_pdf(&pages, bytes.len(), None)
}

/// [`tiff_to_pdf`] written to `out` (a file, say) and flushed, instead of returned, so the PDF is
/// not held in memory beside the pages it is made of; the number of pages. A failed write is
/// [`DocError::Write`].
pub fn tiff_to_pdf_to(bytes: &[u8], out: &mut impl std::io::Write) -> Result<usize, DocError> {
    let pages = read_fax_tiff(bytes)?;
    write_fax_pages_pdf(&pages, None, out)?;
    out.flush().map_err(|e| DocError::Write {
        what: "PDF",
        detail: e.to_string(),
    })?;
    Ok(pages.len())
}

/// Wrap already coded fax pages in a PDF, one page each, without re-encoding (`hint`: the
/// expected size, to allocate once). Without `paper` each PDF page is the image's true size; with
/// it, the page is the paper and the image sits where the renderer ([`crate::pdf`]'s placement)
/// maps it back onto the same fax pixels, so rendering the PDF again gives the pages unchanged.
pub(crate) fn fax_pages_to_pdf(
    pages: &[FaxPage],
    hint: usize,
    paper: Option<Paper>,
) -> Result<Vec<u8>, DocError> {
    let mut out = Vec::with_capacity(hint + 1024 * pages.len());
    write_fax_pages_pdf(pages, paper, &mut out)?;
    Ok(out)
}

/// [`fax_pages_to_pdf`], written to `out`.
fn write_fax_pages_pdf(
    pages: &[FaxPage],
    paper: Option<Paper>,
    out: &mut impl std::io::Write,
) -> Result<(), DocError> {
    let mut doc = Document::with_version("1.4");
    let pages_id = doc.new_object_id();
    let mut kids = Vec::with_capacity(pages.len());
    for page in pages {
        let k: i64 = match page.encoding {
            Encoding::Mh => 0,
            Encoding::Mr => 1,
            Encoding::Mmr => -1,
        };
        let mut parms = dictionary! {
            "K" => k,
            "Columns" => i64::from(page.width),
            "Rows" => i64::from(page.height),
            "BlackIs1" => page.black_is_zero,
        };
        if page.encoding != Encoding::Mmr {
            parms.set("EndOfLine", true);
            parms.set("EncodedByteAlign", false);
        }
        let image = Stream::new(
            dictionary! {
                "Type" => "XObject",
                "Subtype" => "Image",
                "Width" => i64::from(page.width),
                "Height" => i64::from(page.height),
                "ColorSpace" => "DeviceGray",
                "BitsPerComponent" => 1,
                "Filter" => "CCITTFaxDecode",
                "DecodeParms" => parms,
            },
            page.data.clone(),
        )
        .with_compression(false);
        let image_id = doc.add_object(image);
        let w_pt = f64::from(page.width) / page.dpi.0 * 72.0;
        let h_pt = f64::from(page.height) / page.dpi.1 * 72.0;
        let (box_w, box_h, x_pt, y_pt) = match paper {
            None => (w_pt, h_pt, 0.0, 0.0),
            Some(paper) => {
                let (pw, ph) = paper.size_pt();
                // Paper wider than the fax line is cropped on the right, narrower is centred on
                // it: the image's left edge goes where the renderer puts fax pixel 0.
                let paper_w_px = pw / 72.0 * page.dpi.0;
                let crop_left = ((paper_w_px - f64::from(page.width)) / 2.0).min(0.0);
                (pw, ph, crop_left / page.dpi.0 * 72.0, ph - h_pt)
            }
        };
        let content = format!("q {w_pt:.4} 0 0 {h_pt:.4} {x_pt:.4} {y_pt:.4} cm /Im0 Do Q\n");
        let content_id = doc.add_object(
            Stream::new(Dictionary::new(), content.into_bytes()).with_compression(false),
        );
        let page_id = doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "MediaBox" => vec![0.into(), 0.into(), Object::Real(box_w as f32), Object::Real(box_h as f32)],
            "Resources" => dictionary! { "XObject" => dictionary! { "Im0" => image_id } },
            "Contents" => content_id,
        });
        kids.push(Object::Reference(page_id));
    }
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    doc.save_to(out).map_err(|e| DocError::Write {
        what: "PDF",
        detail: e.to_string(),
    })?;
    Ok(())
}

/// A decoded page and its resolution in dots per inch (x, y).
pub type DecodedPage = (Bitmap, (f64, f64));

/// Decode every page of a fax TIFF to bitmaps (for previews), with each page's resolution.
pub fn decode_tiff(bytes: &[u8]) -> Result<Vec<DecodedPage>, DocError> {
    read_fax_tiff(bytes)?
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let mut b = ccitt_decode::decode(&p.data, p.encoding, p.width, p.height)
                .ok_or_else(|| bad(format!("page {}: undecodable CCITT data", i + 1)))?;
            if p.black_is_zero {
                invert(&mut b);
            }
            Ok((b, p.dpi))
        })
        .collect()
}

fn invert(b: &mut Bitmap) {
    let (w, stride) = (b.width(), b.stride());
    for y in 0..b.height() {
        let row = b.row_mut(y);
        for byte in row.iter_mut() {
            *byte = !*byte;
        }
        // Keep the padding bits white.
        if w % 8 != 0 {
            row[stride - 1] &= 0xffu8 << (8 - w % 8);
        }
    }
}
