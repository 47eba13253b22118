//! Document → TIFF-F against Ghostscript on the same files in the same run, plus text pages and
//! inbound TIFF → PDF; with `--fidelity [DIR]`, the 1-pixel F1 of every corpus page against
//! Ghostscript, and PNG previews of every page written to DIR.
//!
//! `cargo run --release -p faxline-doc --example bench [-- --fidelity /tmp/previews]`

use faxline_doc::{
    GhostscriptConfig, Paper, PreviewSize, RenderOptions, Resolution, f1_1px, preview_png, render,
    render_pdf_ghostscript, render_pdf_pages, tiff_to_pdf,
};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const CORPUS: &[&str] = &[
    "dummy.pdf",
    "no-json.pdf",
    "rc4-128-emptyuser.pdf",
    "image-mask.pdf",
    "multiple-images.pdf",
    "form-photo-a4.pdf",
    "gs-man-groff.pdf",
    "gpl3-enscript.pdf",
    "shared-mime-info-spec.pdf",
    "libtasn1.pdf",
];

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/pdf")
}

/// Best of `runs` wall-clock times.
fn best<F: FnMut()>(runs: usize, mut f: F) -> Duration {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

/// CPU time (user + system) of this process so far, from /proc (Linux).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks: u64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0)
        + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
    Duration::from_millis(ticks * 10) // USER_HZ is 100 on Linux
}

fn gs_file(path: &Path, out: &Path) {
    let status = Command::new("gs")
        .args([
            "-dSAFER",
            "-dBATCH",
            "-dNOPAUSE",
            "-dQUIET",
            "-sDEVICE=tiffg4",
            "-r204x196",
            "-sPAPERSIZE=letter",
            "-dFIXEDMEDIA",
            "-dPDFFitPage",
        ])
        .arg(format!("-sOutputFile={}", out.display()))
        .arg(path)
        .status()
        .expect("gs runs");
    assert!(status.success());
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--fidelity") {
        let dir = args.get(i + 1).map(PathBuf::from);
        fidelity(dir.as_deref());
        return;
    }
    let runs = 5;
    let tmp = std::env::temp_dir().join(format!("faxline-bench-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let opts = RenderOptions::default();
    let single = RenderOptions {
        threads: Some(1),
        ..RenderOptions::default()
    };

    println!(
        "| file | pages | gs tiffg4 (ms) | faxline, all cores (ms) | speed-up | faxline, 1 thread (ms/page) |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for name in CORPUS {
        let path = corpus_dir().join(name);
        let bytes = std::fs::read(&path).unwrap();
        let pages = render(&bytes, &opts).unwrap().page_count();
        let out = tmp.join("gs.tif");
        let gs = best(runs, || gs_file(&path, &out));
        let ours = best(runs, || {
            render(&bytes, &opts).unwrap();
        });
        let one = best(runs, || {
            render(&bytes, &single).unwrap();
        });
        println!(
            "| {name} | {pages} | {:.1} | {:.1} | {:.1}× | {:.2} |",
            ms(gs),
            ms(ours),
            gs.as_secs_f64() / ours.as_secs_f64(),
            ms(one) / pages as f64
        );
    }

    // Text: CPU time per page, one document of 50 dense pages.
    let line = "The quick brown fox jumps over the lazy dog; 0123456789 ÄÖÜ äöü ß — fax text. ";
    let text: String = (0..50 * 60)
        .map(|i| format!("{:05} {}\n", i, &line[..70]))
        .collect();
    let doc = render(text.as_bytes(), &opts).unwrap();
    let n = doc.page_count();
    let c0 = cpu_time();
    let w = best(runs, || {
        render(text.as_bytes(), &opts).unwrap();
    });
    let cpu = (cpu_time() - c0) / runs as u32;
    println!();
    println!("| text → TIFF-F | pages | wall (ms) | CPU per page (ms) |");
    println!("|---|---:|---:|---:|");
    println!(
        "| 60 lines × 75 columns per page | {n} | {:.1} | {:.2} |",
        ms(w),
        ms(cpu) / n as f64
    );

    // Inbound: TIFF → PDF pass-through on the received captures and on a 36-page G4 file.
    let tasn = render(
        &std::fs::read(corpus_dir().join("libtasn1.pdf")).unwrap(),
        &opts,
    )
    .unwrap();
    let capture =
        std::fs::read(corpus_dir().join("../captures/t38_fax_loopback_received.tif")).unwrap();
    println!();
    println!("| TIFF → PDF | pages | ms | ms per page |");
    println!("|---|---:|---:|---:|");
    for (label, tiff, pages) in [
        ("libtasn1 G4 (ours)", &tasn.tiff, tasn.page_count()),
        ("spandsp MR FillOrder 2", &capture, 2),
    ] {
        let t = best(20, || {
            tiff_to_pdf(tiff).unwrap();
        });
        println!(
            "| {label} | {pages} | {:.2} | {:.3} |",
            ms(t),
            ms(t) / pages as f64
        );
    }
    let _ = std::fs::remove_dir_all(&tmp);
}

fn fidelity(previews: Option<&Path>) {
    let gs = GhostscriptConfig::default();
    println!("| file | pages | mean 1-px F1 | min page F1 (page) |");
    println!("|---|---:|---:|---:|");
    for name in CORPUS {
        let bytes = std::fs::read(corpus_dir().join(name)).unwrap();
        let doc = render(&bytes, &RenderOptions::default()).unwrap();
        let n = doc.page_count();
        let theirs =
            render_pdf_ghostscript(&bytes, &gs, Paper::Letter, Resolution::Fine, 0, n - 1).unwrap();
        let ours = render_pdf_pages(
            &bytes,
            &(0..n).collect::<Vec<_>>(),
            &RenderOptions::default(),
        )
        .unwrap();
        let scores: Vec<f64> = ours
            .iter()
            .zip(&theirs)
            .map(|(a, b)| f1_1px(a, b))
            .collect();
        let (min_i, min) = scores
            .iter()
            .copied()
            .enumerate()
            .fold(
                (0, 1.0f64),
                |acc, (i, s)| if s < acc.1 { (i, s) } else { acc },
            );
        let mean = scores.iter().sum::<f64>() / scores.len() as f64;
        println!(
            "| {name} | {n} | {:.2}% | {:.2}% ({}) |",
            mean * 100.0,
            min * 100.0,
            min_i + 1
        );
        if let Some(dir) = previews {
            std::fs::create_dir_all(dir).unwrap();
            let stem = name.trim_end_matches(".pdf");
            for (i, page) in doc.pages.iter().enumerate() {
                let png =
                    preview_png(page, doc.dpi(), PreviewSize::Thumbnail { width: 600 }).unwrap();
                std::fs::write(dir.join(format!("{stem}-{}.png", i + 1)), png).unwrap();
                let png = preview_png(&theirs[i], doc.dpi(), PreviewSize::Thumbnail { width: 600 })
                    .unwrap();
                std::fs::write(dir.join(format!("{stem}-{}-gs.png", i + 1)), png).unwrap();
            }
        }
    }
}
