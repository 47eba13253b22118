//! PDF and text to TIFF-F, checked by libtiff's own tools and decoder.

mod common;

use common::{fixtures, libtiff_decode, pdf, tool};
use faxline_document::{
    ContentKind, DocError, Encoding, FAX_WIDTH, Paper, RenderOptions, Resolution, render,
};
use std::time::Duration;

fn check_with_libtiff(doc: &faxline_document::FaxDocument, name: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("{name}.tif"));
    std::fs::write(&path, &doc.tiff).unwrap();
    let info = tool("tiffinfo", &["-D", path.to_str().unwrap()]);
    assert!(!info.contains("rror"), "tiffinfo reports errors:\n{info}");
    assert_eq!(info.matches("Image Width: 1728").count(), doc.page_count());
    let expect_comp = match doc.encoding {
        Encoding::Mmr => "CCITT Group 4",
        _ => "CCITT Group 3",
    };
    assert_eq!(
        info.matches(expect_comp).count(),
        doc.page_count(),
        "{info}"
    );
    let pages = libtiff_decode(&path, dir.path());
    assert_eq!(pages.len(), doc.page_count());
    for (i, (ours, theirs)) in doc.pages.iter().zip(&pages).enumerate() {
        assert!(
            ours == theirs,
            "{name}: page {} decodes differently in libtiff",
            i + 1
        );
    }
}

#[test]
fn pdf_renders_to_g4_tiff_that_libtiff_decodes_bit_exactly() {
    let doc = render(&pdf("gs-man-groff.pdf"), &RenderOptions::default()).unwrap();
    assert_eq!(doc.kind, ContentKind::Pdf);
    assert_eq!(doc.page_count(), 5);
    for p in &doc.pages {
        assert_eq!((p.width(), p.height()), (FAX_WIDTH, 2156));
        // Text pages: a few percent black, not blank and not flooded.
        let black = p.black_pixels() as f64 / (1728.0 * 2156.0);
        assert!((0.001..0.2).contains(&black), "black fraction {black}");
    }
    check_with_libtiff(&doc, "groff-g4");
}

#[test]
fn mh_and_mr_standard_a4_are_valid_for_libtiff() {
    for enc in [Encoding::Mh, Encoding::Mr] {
        let opts = RenderOptions {
            encoding: enc,
            resolution: Resolution::Standard,
            paper: Paper::A4,
            ..RenderOptions::default()
        };
        let doc = render(&pdf("form-photo-a4.pdf"), &opts).unwrap();
        assert_eq!(doc.pages[0].height(), Paper::A4.rows(Resolution::Standard));
        check_with_libtiff(&doc, &format!("form-{enc:?}"));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.tif");
        std::fs::write(&path, &doc.tiff).unwrap();
        let info = tool("tiffinfo", &[path.to_str().unwrap()]);
        assert!(info.contains("Resolution: 204, 98 pixels/inch"), "{info}");
        assert!(info.contains("EOL padding"), "{info}");
    }
}

#[test]
fn tiffcp_rewrites_our_multipage_file() {
    let text = (1..=130).map(|i| format!("line {i}\n")).collect::<String>();
    let doc = render(text.as_bytes(), &RenderOptions::default()).unwrap();
    assert_eq!(doc.kind, ContentKind::Text);
    assert_eq!(doc.page_count(), 3);
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.tif");
    let b = dir.path().join("b.tif");
    std::fs::write(&a, &doc.tiff).unwrap();
    tool(
        "tiffcp",
        &["-c", "g3:2d:fill", a.to_str().unwrap(), b.to_str().unwrap()],
    );
    let pages = libtiff_decode(&b, dir.path());
    assert_eq!(pages.len(), 3);
    assert!(pages.iter().zip(&doc.pages).all(|(x, y)| x == y));
    let info = tool("tiffinfo", &[a.to_str().unwrap()]);
    assert!(info.contains("Page Number: 0-3"), "{info}");
}

#[test]
fn text_handles_utf8_form_feeds_and_missing_glyphs() {
    let text = "Grüße — naïve café\n\tTabbed\n你好世界 🙂\u{c}Second page\n";
    let doc = render(text.as_bytes(), &RenderOptions::default()).unwrap();
    assert_eq!(doc.page_count(), 2);
    assert!(doc.pages.iter().all(|p| p.black_pixels() > 100));
    check_with_libtiff(&doc, "text");
}

#[test]
fn password_protected_pdfs_are_refused_clearly() {
    for name in ["aes256-userpw.pdf", "dummy-encrypted.pdf"] {
        let err = render(&pdf(name), &RenderOptions::default()).unwrap_err();
        assert!(
            matches!(
                err,
                DocError::PasswordProtected | DocError::BadEncryption | DocError::CorruptPdf
            ),
            "{name}: {err:?}"
        );
        assert!(!err.to_string().is_empty());
    }
    let err = render(&pdf("aes256-userpw.pdf"), &RenderOptions::default()).unwrap_err();
    assert!(matches!(err, DocError::PasswordProtected), "{err:?}");
    assert!(err.to_string().contains("password"));
}

#[test]
fn empty_user_password_pdf_renders() {
    let doc = render(&pdf("rc4-128-emptyuser.pdf"), &RenderOptions::default()).unwrap();
    assert!(doc.page_count() >= 1);
    assert!(doc.pages[0].black_pixels() > 1000);
}

#[test]
fn bad_input_gets_typed_errors() {
    let opts = RenderOptions::default();
    assert!(matches!(
        render(b"\x89PNG\r\n\x1a\n\0\0", &opts),
        Err(DocError::UnsupportedType)
    ));
    assert!(matches!(render(b"", &opts), Err(DocError::UnsupportedType)));
    let tif = std::fs::read(fixtures().join("captures/testfax_sent.tif")).unwrap();
    assert!(matches!(
        render(&tif, &opts),
        Err(DocError::UnsupportedType)
    ));

    // Truncated and garbled PDFs.
    let good = pdf("dummy.pdf");
    for cut in [10, good.len() / 3, good.len() / 2] {
        match render(&good[..cut], &opts) {
            Err(DocError::CorruptPdf | DocError::NoPages | DocError::RenderFailed { .. }) => {}
            Ok(doc) => assert!(doc.page_count() >= 1),
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    let mut garbled = good.clone();
    for i in (200..garbled.len()).step_by(7) {
        garbled[i] ^= 0x5a;
    }
    let _ = render(&garbled, &opts); // any result, but no panic
    assert!(matches!(
        render(b"%PDF-1.4\nthis is not a pdf\n%%EOF\n", &opts),
        Err(DocError::CorruptPdf)
    ));

    // Size and page limits.
    let small = RenderOptions {
        max_bytes: 100,
        ..RenderOptions::default()
    };
    assert!(matches!(
        render(&good, &small),
        Err(DocError::TooLarge { .. })
    ));
    let few = RenderOptions {
        max_pages: 3,
        ..RenderOptions::default()
    };
    assert!(matches!(
        render(&pdf("gs-man-groff.pdf"), &few),
        Err(DocError::TooManyPages { pages: 5, limit: 3 })
    ));
    assert!(matches!(
        render("x\n".repeat(1000).as_bytes(), &few),
        Err(DocError::TextTooLong { limit: 3 })
    ));
}

#[test]
fn zero_page_pdf_is_refused() {
    use lopdf::{Document, Object, dictionary};
    let mut doc = Document::with_version("1.4");
    let pages = doc.add_object(
        dictionary! { "Type" => "Pages", "Kids" => Vec::<Object>::new(), "Count" => 0 },
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages });
    doc.trailer.set("Root", catalog);
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).unwrap();
    let err = render(&bytes, &RenderOptions::default()).unwrap_err();
    assert!(
        matches!(err, DocError::NoPages | DocError::CorruptPdf),
        "{err:?}"
    );
}

#[test]
fn a_page_over_the_time_limit_stops_the_render() {
    let opts = RenderOptions {
        page_timeout: Duration::from_nanos(1),
        ..RenderOptions::default()
    };
    let err = render(&pdf("form-photo-a4.pdf"), &opts).unwrap_err();
    assert!(matches!(err, DocError::PageTimeout { .. }), "{err:?}");
}

#[test]
fn landscape_pages_turn_like_ghostscript() {
    let bytes = std::fs::read(fixtures().join("doc/landscape-letter.pdf")).unwrap();
    let doc = render(&bytes, &RenderOptions::default()).unwrap();
    let page = &doc.pages[0];
    // The square fills the bottom-left corner: about 141 × 136 pixels.
    assert!(page.get(5, 2150) && page.get(135, 2025));
    assert!(!page.get(1700, 5) && !page.get(5, 5) && !page.get(1700, 2150));
    let black = page.black_pixels();
    assert!((17_000..21_000).contains(&black), "{black}");
}

#[test]
fn hairlines_survive_without_anti_aliasing() {
    // Zero-width (thinnest possible) and 0.2 pt rules at sub-pixel offsets on a Letter page: with
    // anti-aliasing off, every one must still leave a line of ink.
    use lopdf::{Document, Object, Stream, dictionary};
    let mut ops = String::new();
    let mut ys = Vec::new();
    for k in 0..12 {
        let y = 100.0 + f64::from(k) * 50.0 + f64::from(k) * 0.061;
        let w = if k % 2 == 0 { 0.0 } else { 0.2 };
        ops.push_str(&format!("{w} w 100 {y:.3} m 500 {y:.3} l S\n"));
        ys.push(y);
    }
    let mut doc = Document::with_version("1.4");
    let content = doc.add_object(Stream::new(dictionary! {}, ops.into_bytes()));
    let pages_id = doc.new_object_id();
    let page = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => content,
        "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(
            dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 },
        ),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).unwrap();

    let page = &render(&bytes, &RenderOptions::default()).unwrap().pages[0];
    for y in ys {
        // PDF y (up, points) to fax rows (down, 196 dpi); look two rows either side.
        let row = ((792.0 - y) / 72.0 * 196.0).round() as u32;
        let ink: u64 = (row - 2..=row + 2)
            .map(|r| {
                page.row(r)
                    .iter()
                    .map(|b| u64::from(b.count_ones()))
                    .sum::<u64>()
            })
            .sum();
        // The rule is 400 pt = 1133 pixels long.
        assert!(ink >= 1100, "rule at y={y} pt: {ink} black pixels");
    }
}
