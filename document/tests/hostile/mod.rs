//! Hostile documents, generated: decompression bombs and a text file of one huge line. Shared with
//! the agent's end-to-end tests (`#[path]`), so every test builds exactly the same files.
#![allow(dead_code)]

use flate2::Compression;
use flate2::write::ZlibEncoder;
use std::io::Write;

/// `len` zero bytes (rounded down to whole MiB), zlib-compressed; about 1000:1.
pub fn zeros_flate(len: usize) -> Vec<u8> {
    let mut e = ZlibEncoder::new(Vec::new(), Compression::best());
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..len >> 20 {
        e.write_all(&chunk).expect("in memory");
    }
    e.finish().expect("in memory")
}

/// A one-page PDF from object bodies (object 1 = catalog, 2 = pages, 3 = page; the rest as
/// given, numbered from 4), with a correct cross-reference table.
pub fn pdf(page_extra: &str, objects: &[Vec<u8>]) -> Vec<u8> {
    let mut bodies: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        format!("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] {page_extra} >>")
            .into_bytes(),
    ];
    bodies.extend(objects.iter().cloned());
    let mut out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in bodies.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", bodies.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            bodies.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// A stream object body.
pub fn stream(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut s = format!("<< {dict} /Length {} >>\nstream\n", data.len()).into_bytes();
    s.extend_from_slice(data);
    s.extend_from_slice(b"\nendstream");
    s
}

/// One 60000×60000 1-bit image (450 MB decoded; the data holds only the first 64 MiB of rows, as
/// hayro pads the rest) drawn over the page: a few hundred KB.
pub fn image_bomb() -> Vec<u8> {
    let content = b"q 612 0 0 792 0 0 cm /Im0 Do Q".to_vec();
    pdf(
        "/Contents 4 0 R /Resources << /XObject << /Im0 5 0 R >> >>",
        &[
            stream("", &content),
            stream(
                "/Type /XObject /Subtype /Image /Width 60000 /Height 60000 /ColorSpace /DeviceGray /BitsPerComponent 1 /Filter /FlateDecode",
                &zeros_flate(64 << 20),
            ),
        ],
    )
}

/// A content stream that inflates to `mib` MiB of whitespace (NUL is whitespace in PDF).
pub fn content_bomb(mib: usize) -> Vec<u8> {
    pdf(
        "/Contents 4 0 R",
        &[stream("/Filter /FlateDecode", &zeros_flate(mib << 20))],
    )
}

/// An inline image the pre-scan cannot see (it lives inside the content stream): 20000×20000
/// 8-bit grey, 400 MB decoded from 400 KB of Flate (hayro peaks at ~500 MB rendering it).
pub fn inline_image_bomb() -> Vec<u8> {
    let data = zeros_flate(400 << 20);
    let mut content =
        b"q 612 0 0 792 0 0 cm BI /W 20000 /H 20000 /BPC 8 /CS /G /F /Fl ID ".to_vec();
    content.extend_from_slice(&data);
    content.extend_from_slice(b"\nEI Q");
    pdf("/Contents 4 0 R", &[stream("", &content)])
}

/// A text file of one line of `len` bytes, no newline.
pub fn one_long_line(len: usize) -> Vec<u8> {
    b"lorem ipsum dolor sit amet "
        .iter()
        .copied()
        .cycle()
        .take(len)
        .collect()
}
