//! Fidelity against Ghostscript (`tiffg4 -r204x196 -dPDFFitPage -dFIXEDMEDIA`, Letter) by the
//! 1-pixel F1 score, on a representative subset of pages per corpus file (the full corpus runs in
//! `cargo run --release -p faxline-document --example bench -- --fidelity`); and the tone of dithered
//! pages against poppler's grey rendering.
//!
//! Why mixed pages score lower: Ghostscript turns grey into a clustered-dot halftone with a
//! lighter tone curve, we diffuse the error (Floyd–Steinberg). In a photo the two patterns only
//! match loosely, whatever the geometry. The tone test shows which of the two keeps the
//! document's grey level.

mod common;

use common::pdf;
use faxline_document::{
    GhostscriptConfig, Paper, RenderOptions, Resolution, f1_1px, render_pdf_ghostscript,
    render_pdf_pages,
};

/// (file, 0-based pages, kind): text pages must reach 99.5 %, mixed pages 97 %.
const SUBSET: &[(&str, &[usize], bool)] = &[
    ("libtasn1.pdf", &[0, 7, 35], true),
    ("shared-mime-info-spec.pdf", &[0, 6], true),
    ("gs-man-groff.pdf", &[0, 4], true),
    ("gpl3-enscript.pdf", &[0], true),
    ("no-json.pdf", &[0], true),
    ("dummy.pdf", &[0], true),
    ("rc4-128-emptyuser.pdf", &[0], true),
    ("form-photo-a4.pdf", &[0, 1], false),
    ("image-mask.pdf", &[0], false),
    ("multiple-images.pdf", &[0], false),
    ("photo-letter.pdf", &[0], false),
];

#[test]
fn hayro_matches_ghostscript_on_the_corpus_subset() {
    if std::process::Command::new("gs")
        .arg("--version")
        .output()
        .is_err()
    {
        panic!("ghostscript (gs) is required for the fidelity test; CI installs it");
    }
    let gs = GhostscriptConfig::default();
    let mut report = Vec::new();
    let mut failures = Vec::new();
    for &(name, pages, text) in SUBSET {
        let bytes = pdf(name);
        let ours = render_pdf_pages(&bytes, pages, &RenderOptions::default()).unwrap();
        for (k, &p) in pages.iter().enumerate() {
            let theirs =
                render_pdf_ghostscript(&bytes, &gs, Paper::Letter, Resolution::Fine, p, p).unwrap();
            assert_eq!(theirs.len(), 1, "{name} page {}", p + 1);
            let f1 = f1_1px(&ours[k], &theirs[0]);
            let need = if text { 0.995 } else { 0.97 };
            report.push(format!(
                "{name} p{}: {:.2}% (need {:.1}%)",
                p + 1,
                f1 * 100.0,
                need * 100.0
            ));
            if f1 < need {
                failures.push(report.last().unwrap().clone());
            }
        }
    }
    println!("{}", report.join("\n"));
    assert!(
        failures.is_empty(),
        "below target:\n{}",
        failures.join("\n")
    );
}

/// Parse a binary PGM (P5, 8-bit) as (width, height, pixels).
fn read_pgm(path: &std::path::Path) -> (usize, usize, Vec<u8>) {
    let bytes = std::fs::read(path).unwrap();
    let mut fields = Vec::new();
    let mut i = 0;
    while fields.len() < 4 {
        while bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let start = i;
        while !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        fields.push(String::from_utf8_lossy(&bytes[start..i]).to_string());
    }
    assert_eq!(fields[0], "P5");
    assert_eq!(fields[3], "255");
    let (w, h) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    (w, h, bytes[i + 1..i + 1 + w * h].to_vec())
}

#[test]
fn dithered_pages_keep_the_documents_grey_level() {
    // Letter pages (no fitting involved), rendered in grey by poppler at the fax resolution: the
    // mean darkness of its first 1728 columns is the ink our 1-bit page should carry.
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "multiple-images.pdf",
        "photo-letter.pdf",
        "gs-man-groff.pdf",
    ] {
        let path = common::fixtures().join("pdf").join(name);
        let prefix = dir.path().join("p");
        common::tool(
            "pdftoppm",
            &[
                "-gray",
                "-rx",
                "204",
                "-ry",
                "196",
                "-f",
                "1",
                "-l",
                "1",
                "-singlefile",
                path.to_str().unwrap(),
                prefix.to_str().unwrap(),
            ],
        );
        let (w, h, grey) = read_pgm(&dir.path().join("p.pgm"));
        assert!(w >= 1728 && (2150..2160).contains(&h), "{w}x{h}");
        let cols = 1728;
        let darkness: f64 = (0..h.min(2156))
            .flat_map(|y| grey[y * w..y * w + cols].iter())
            .map(|&v| 1.0 - f64::from(v) / 255.0)
            .sum::<f64>()
            / (cols * h.min(2156)) as f64;
        let ours = render_pdf_pages(&pdf(name), &[0], &RenderOptions::default()).unwrap();
        let ink = ours[0].black_pixels() as f64 / (1728.0 * 2156.0);
        let gs = render_pdf_ghostscript(
            &pdf(name),
            &GhostscriptConfig::default(),
            Paper::Letter,
            Resolution::Fine,
            0,
            0,
        )
        .unwrap();
        let gs_ink = gs[0].black_pixels() as f64 / (1728.0 * 2156.0);
        println!(
            "{name}: poppler grey {:.2} %, ours {:.2} %, gs {:.2} % of the page",
            darkness * 100.0,
            ink * 100.0,
            gs_ink * 100.0
        );
        // Within a tenth of the document's own ink, or 0.3 % of the page for near-blank pages.
        let tolerance = (darkness * 0.1).max(0.003);
        assert!(
            (ink - darkness).abs() <= tolerance,
            "{name}: ours {ink:.4} vs poppler {darkness:.4}"
        );
    }
}
