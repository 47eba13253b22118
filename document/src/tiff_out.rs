//! Writing multi-page TIFF-F (TIFF Class F): one IFD and one strip per page, with the tags fax
//! software expects (spandsp reads them through libtiff).

use crate::bitmap::Bitmap;
use crate::encode::{Encoding, encode};
use crate::error::DocError;
use crate::options::Resolution;
use rayon::prelude::*;
use std::io::Cursor;
use tiff::encoder::{Rational, TiffEncoder};
use tiff::tags::Tag;

const T4_OPTIONS: u16 = 292;
const T6_OPTIONS: u16 = 293;
const PAGE_NUMBER: u16 = 297;
const CLEAN_FAX_DATA: u16 = 327;

fn write_err(e: tiff::TiffError) -> DocError {
    DocError::Write {
        what: "TIFF",
        detail: e.to_string(),
    }
}

/// Encode pages (in parallel) and write them as one TIFF-F file.
pub fn write_tiff(
    pages: &[Bitmap],
    resolution: Resolution,
    encoding: Encoding,
) -> Result<Vec<u8>, DocError> {
    let strips: Vec<Vec<u8>> = pages.par_iter().map(|p| encode(p, encoding)).collect();
    write_encoded(pages, &strips, resolution, encoding)
}

/// Write pages whose strips are already encoded.
pub(crate) fn write_encoded(
    pages: &[Bitmap],
    strips: &[Vec<u8>],
    resolution: Resolution,
    encoding: Encoding,
) -> Result<Vec<u8>, DocError> {
    let total: usize = strips.iter().map(Vec::len).sum();
    let mut out = Cursor::new(Vec::with_capacity(total + pages.len() * 256 + 16));
    let mut tiff = TiffEncoder::new(&mut out).map_err(write_err)?;
    let n = pages.len() as u16;
    for (i, (page, strip)) in pages.iter().zip(strips).enumerate() {
        let mut dir = tiff.image_directory().map_err(write_err)?;
        let offset = dir.write_data(strip.as_slice()).map_err(write_err)?;
        let offset = u32::try_from(offset).map_err(|_| DocError::Write {
            what: "TIFF",
            detail: "file over 4 GiB".into(),
        })?;
        dir.write_tag(Tag::NewSubfileType, 2u32)
            .map_err(write_err)?; // one page of many
        dir.write_tag(Tag::ImageWidth, page.width())
            .map_err(write_err)?;
        dir.write_tag(Tag::ImageLength, page.height())
            .map_err(write_err)?;
        dir.write_tag(Tag::BitsPerSample, 1u16).map_err(write_err)?;
        dir.write_tag(Tag::Compression, encoding.tiff_compression())
            .map_err(write_err)?;
        dir.write_tag(Tag::PhotometricInterpretation, 0u16)
            .map_err(write_err)?; // WhiteIsZero
        dir.write_tag(Tag::FillOrder, 1u16).map_err(write_err)?;
        dir.write_tag(Tag::StripOffsets, offset)
            .map_err(write_err)?;
        dir.write_tag(Tag::Orientation, 1u16).map_err(write_err)?;
        dir.write_tag(Tag::SamplesPerPixel, 1u16)
            .map_err(write_err)?;
        dir.write_tag(Tag::RowsPerStrip, page.height())
            .map_err(write_err)?;
        dir.write_tag(Tag::StripByteCounts, strip.len() as u32)
            .map_err(write_err)?;
        dir.write_tag(
            Tag::XResolution,
            Rational {
                n: resolution.x_dpi(),
                d: 1,
            },
        )
        .map_err(write_err)?;
        dir.write_tag(
            Tag::YResolution,
            Rational {
                n: resolution.y_dpi(),
                d: 1,
            },
        )
        .map_err(write_err)?;
        dir.write_tag(Tag::PlanarConfiguration, 1u16)
            .map_err(write_err)?;
        dir.write_tag(Tag::ResolutionUnit, 2u16)
            .map_err(write_err)?; // inch
        dir.write_tag(Tag::Software, "faxline").map_err(write_err)?;
        match encoding {
            // 2-D coding bit, and fill bits so every EOL ends on a byte boundary.
            Encoding::Mh => dir.write_tag(Tag::Unknown(T4_OPTIONS), 4u32),
            Encoding::Mr => dir.write_tag(Tag::Unknown(T4_OPTIONS), 5u32),
            Encoding::Mmr => dir.write_tag(Tag::Unknown(T6_OPTIONS), 0u32),
        }
        .map_err(write_err)?;
        dir.write_tag(Tag::Unknown(PAGE_NUMBER), &[i as u16, n][..])
            .map_err(write_err)?;
        dir.write_tag(Tag::Unknown(CLEAN_FAX_DATA), 0u16)
            .map_err(write_err)?; // we wrote every row ourselves
        dir.finish().map_err(write_err)?;
    }
    Ok(out.into_inner())
}
