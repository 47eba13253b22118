//! Shared helpers for the integration tests: fixture paths and independent decoders (libtiff's
//! command-line tools, poppler), never our own code.
#![allow(dead_code)]

use faxline_document::Bitmap;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::Command;
use tiff::decoder::Decoder;
use tiff::tags::Tag;

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

pub fn pdf(name: &str) -> Vec<u8> {
    std::fs::read(fixtures().join("pdf").join(name)).expect("fixture PDF")
}

/// Run a tool, returning stdout+stderr; panics with the output when it fails.
pub fn tool(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd} not runnable: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{cmd} {args:?} failed:\n{text}");
    text
}

pub fn have(cmd: &str) -> bool {
    Command::new(cmd).arg("--version").output().is_ok()
        || Command::new(cmd).arg("-v").output().is_ok()
}

/// Decode every page of a TIFF with libtiff: `tiffcp -c none`, then read the uncompressed strips.
/// Returns bitmaps with 1 = black.
pub fn libtiff_decode(tiff_path: &Path, dir: &Path) -> Vec<Bitmap> {
    let raw = dir.join(format!(
        "{}-raw.tif",
        tiff_path.file_stem().unwrap().to_string_lossy()
    ));
    tool(
        "tiffcp",
        &[
            "-c",
            "none",
            tiff_path.to_str().unwrap(),
            raw.to_str().unwrap(),
        ],
    );
    let bytes = std::fs::read(&raw).unwrap();
    let mut dec = Decoder::new(Cursor::new(&bytes[..])).unwrap();
    let mut pages = Vec::new();
    loop {
        let w = dec.get_tag_u32(Tag::ImageWidth).unwrap();
        let h = dec.get_tag_u32(Tag::ImageLength).unwrap();
        assert_eq!(dec.get_tag_u32(Tag::Compression).unwrap(), 1);
        let photometric = dec.get_tag_u32(Tag::PhotometricInterpretation).unwrap();
        let fill = dec
            .find_tag_unsigned::<u32>(Tag::FillOrder)
            .unwrap()
            .unwrap_or(1);
        let offs = dec.get_tag_u64_vec(Tag::StripOffsets).unwrap();
        let counts = dec.get_tag_u64_vec(Tag::StripByteCounts).unwrap();
        let mut data = Vec::new();
        for (o, c) in offs.iter().zip(&counts) {
            data.extend_from_slice(&bytes[*o as usize..(*o + *c) as usize]);
        }
        if fill == 2 {
            data.iter_mut().for_each(|b| *b = b.reverse_bits());
        }
        if photometric == 1 {
            data.iter_mut().for_each(|b| *b = !*b);
        }
        let stride = w.div_ceil(8) as usize;
        data.truncate(stride * h as usize);
        if !w.is_multiple_of(8) {
            for y in 0..h as usize {
                data[y * stride + stride - 1] &= 0xffu8 << (8 - w % 8);
            }
        }
        pages.push(Bitmap::from_packed(w, h, data).expect("size"));
        if !dec.more_images() {
            break;
        }
        dec.next_image().unwrap();
    }
    pages
}

/// Parse a binary PBM (P4), 1 = black.
pub fn read_pbm(path: &Path) -> Bitmap {
    let bytes = std::fs::read(path).unwrap();
    let mut fields = Vec::new();
    let mut i = 0;
    while fields.len() < 3 {
        while bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if bytes[i] == b'#' {
            while bytes[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        let start = i;
        while !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        fields.push(String::from_utf8_lossy(&bytes[start..i]).to_string());
    }
    assert_eq!(fields[0], "P4");
    let (w, h): (u32, u32) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    let data = bytes[i + 1..].to_vec();
    Bitmap::from_packed(w, h, data).expect("PBM size")
}
