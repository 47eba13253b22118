//! Received TIFF-F to PDF by pass-through: every page checked by qpdf and decoded by poppler
//! (`pdfimages`) pixel-identical to libtiff's decode of the same TIFF.

mod common;

use common::{fixtures, libtiff_decode, read_pbm, tool};
use faxline_document::{
    Encoding, PreviewSize, RenderOptions, Resolution, decode_tiff, preview_png, render, tiff_to_pdf,
};
use std::path::Path;

/// Convert, then compare poppler's decode of every page with libtiff's decode.
fn check_pass_through(tiff: &[u8], name: &str) {
    let dir = tempfile::tempdir().unwrap();
    let tif = dir.path().join(format!("{name}.tif"));
    let pdf_path = dir.path().join(format!("{name}.pdf"));
    std::fs::write(&tif, tiff).unwrap();
    let pdf = tiff_to_pdf(tiff).unwrap();
    std::fs::write(&pdf_path, &pdf).unwrap();

    let qpdf = tool("qpdf", &["--check", pdf_path.to_str().unwrap()]);
    assert!(
        qpdf.contains("No syntax or stream encoding errors"),
        "{qpdf}"
    );

    let expected = libtiff_decode(&tif, dir.path());
    let prefix = dir.path().join("img");
    tool(
        "pdfimages",
        &[pdf_path.to_str().unwrap(), prefix.to_str().unwrap()],
    );
    for (i, want) in expected.iter().enumerate() {
        let got = read_pbm(Path::new(&format!("{}-{i:03}.pbm", prefix.display())));
        assert_eq!((got.width(), got.height()), (want.width(), want.height()));
        assert!(
            &got == want,
            "{name}: page {} differs between poppler and libtiff",
            i + 1
        );
    }
    assert!(
        !Path::new(&format!("{}-{:03}.pbm", prefix.display(), expected.len())).exists(),
        "{name}: more images than pages"
    );

    // Our own decoder (for previews) agrees with libtiff too.
    let ours = decode_tiff(tiff).unwrap();
    assert_eq!(ours.len(), expected.len());
    for ((bitmap, _), want) in ours.iter().zip(&expected) {
        assert!(
            bitmap == want,
            "{name}: preview decoder differs from libtiff"
        );
    }
}

#[test]
fn spandsp_received_mr_fill_order_2() {
    for name in [
        "t38_fax_from_agent_received.tif",
        "t38_fax_loopback_received.tif",
        "t38_fax_to_agent_received_by_fake_agent.tif",
    ] {
        let tiff = std::fs::read(fixtures().join("captures").join(name)).unwrap();
        check_pass_through(&tiff, name);
    }
}

#[test]
fn ghostscript_mh_fill_order_1() {
    let tiff = std::fs::read(fixtures().join("captures/testfax_sent.tif")).unwrap();
    check_pass_through(&tiff, "testfax_sent");
}

#[test]
fn our_own_mh_mr_mmr_fine_and_standard() {
    let text = "Inbound round trip\n".repeat(80);
    for enc in [Encoding::Mh, Encoding::Mr, Encoding::Mmr] {
        for resolution in [Resolution::Fine, Resolution::Standard] {
            let opts = RenderOptions {
                encoding: enc,
                resolution,
                ..RenderOptions::default()
            };
            let doc = render(text.as_bytes(), &opts).unwrap();
            check_pass_through(&doc.tiff, &format!("{enc:?}-{resolution:?}"));
        }
    }
}

#[test]
fn page_size_comes_from_the_resolution() {
    let doc = render(
        b"standard",
        &RenderOptions {
            resolution: Resolution::Standard,
            ..RenderOptions::default()
        },
    )
    .unwrap();
    let pdf = tiff_to_pdf(&doc.tiff).unwrap();
    let parsed = lopdf::Document::load_mem(&pdf).unwrap();
    let (_, page) = parsed.get_pages().into_iter().next().unwrap();
    let mb = parsed
        .get_dictionary(page)
        .unwrap()
        .get(b"MediaBox")
        .unwrap()
        .as_array()
        .unwrap()
        .clone();
    let w = mb[2].as_float().unwrap();
    let h = mb[3].as_float().unwrap();
    // 1728 px / 204 dpi and 1078 rows / 98 dpi: a Letter-sized page in points.
    assert!((w - 609.88).abs() < 0.1, "{w}");
    assert!((h - 792.0).abs() < 0.1, "{h}");
}

#[test]
fn garbage_tiffs_are_refused() {
    assert!(tiff_to_pdf(b"II*\0garbage").is_err());
    assert!(tiff_to_pdf(b"not a tiff at all").is_err());
    let mut tiff = std::fs::read(fixtures().join("captures/testfax_sent.tif")).unwrap();
    tiff.truncate(tiff.len() / 2);
    let _ = tiff_to_pdf(&tiff); // either a clean error or a PDF; never a panic
}

#[test]
fn previews_are_pngs_of_the_right_size() {
    let tiff = std::fs::read(fixtures().join("captures/t38_fax_loopback_received.tif")).unwrap();
    let pages = decode_tiff(&tiff).unwrap();
    let (page, dpi) = &pages[0];
    let full = preview_png(page, *dpi, PreviewSize::Full).unwrap();
    let thumb = preview_png(page, *dpi, PreviewSize::Thumbnail { width: 200 }).unwrap();
    let full = image::load_from_memory(&full).unwrap();
    let thumb = image::load_from_memory(&thumb).unwrap();
    assert_eq!((full.width(), full.height()), (1728, page.height()));
    assert_eq!(thumb.width(), 200);
    assert_eq!(thumb.height(), page.height() * 200 / 1728);
    // Standard resolution previews are stretched to keep the page's shape.
    let doc = render(
        b"x",
        &RenderOptions {
            resolution: Resolution::Standard,
            ..RenderOptions::default()
        },
    )
    .unwrap();
    let png = preview_png(&doc.pages[0], doc.dpi(), PreviewSize::Full).unwrap();
    let img = image::load_from_memory(&png).unwrap();
    assert_eq!(img.height(), doc.pages[0].height() * 2);
}
