//! Fidelity against Ghostscript (`tiffg4 -r204x196 -dPDFFitPage -dFIXEDMEDIA`, Letter) by the
//! 1-pixel F1 score, on a representative subset of pages per corpus file (the full corpus runs in
//! `cargo run --release -p faxline-doc --example bench -- --fidelity`).

mod common;

use common::pdf;
use faxline_doc::{
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
