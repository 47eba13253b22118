//! The optional Ghostscript backend: `gs -dSAFER` writing G4 TIFF-F, with a wall-clock limit.
//!
//! Off by default (hayro renders in-process). Useful for PDFs hayro draws badly. Ghostscript is
//! AGPL and has a CVE history, so it runs as a separate process, sandboxed by `-dSAFER`, reading a
//! private temporary copy of the input, and is killed when it overruns.

use crate::bitmap::Bitmap;
use crate::ccitt_decode;
use crate::error::DocError;
use crate::inbound::read_fax_tiff;
use crate::options::{FAX_WIDTH, GhostscriptConfig, Paper, Resolution};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Render a PDF with Ghostscript to bitmaps, one per page, at 1728 pixels across.
pub fn render(
    pdf: &[u8],
    cfg: &GhostscriptConfig,
    paper: Paper,
    res: Resolution,
    first_page: usize,
    last_page: usize,
) -> Result<Vec<Bitmap>, DocError> {
    let dir = tempdir()?;
    let input = dir.join("in.pdf");
    let output = dir.join("out.tif");
    std::fs::write(&input, pdf)?;
    let log = dir.join("stderr.txt");
    let result = run(
        cfg, &input, &output, &log, paper, res, first_page, last_page,
    );
    let pages = result.and_then(|()| {
        let tiff = std::fs::read(&output)?;
        read_fax_tiff(&tiff)?
            .into_iter()
            .enumerate()
            .map(|(i, p)| {
                ccitt_decode::decode(&p.data, p.encoding, p.width, p.height).ok_or_else(|| {
                    DocError::Ghostscript(format!("page {}: unreadable output", i + 1))
                })
            })
            .collect::<Result<Vec<_>, _>>()
    });
    let _ = std::fs::remove_dir_all(&dir);
    let pages = pages?;
    if let Some(p) = pages.iter().find(|p| p.width() != FAX_WIDTH) {
        return Err(DocError::Ghostscript(format!("page width {}", p.width())));
    }
    Ok(pages)
}

fn tempdir() -> Result<std::path::PathBuf, DocError> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let dir = std::env::temp_dir().join(format!(
        "faxline-gs-{}-{}-{}",
        std::process::id(),
        nanos,
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir(&dir)?;
    Ok(dir)
}

/// Run gs to completion or until the timeout. Its messages (stdout and stderr) go to a file, not a
/// pipe: a damaged PDF can make gs print more warnings than a pipe holds, and an unread pipe would
/// stall it until the timeout.
#[allow(clippy::too_many_arguments)]
fn run(
    cfg: &GhostscriptConfig,
    input: &std::path::Path,
    output: &std::path::Path,
    log: &std::path::Path,
    paper: Paper,
    res: Resolution,
    first_page: usize,
    last_page: usize,
) -> Result<(), DocError> {
    let paper_name = match paper {
        Paper::Letter => "letter",
        Paper::A4 => "a4",
    };
    let log_file = std::fs::File::create(log)?;
    let mut child = Command::new(&cfg.program)
        .args([
            "-dSAFER",
            "-dBATCH",
            "-dNOPAUSE",
            "-dQUIET",
            "-sDEVICE=tiffg4",
            &format!("-r{}x{}", res.x_dpi(), res.y_dpi()),
            &format!("-sPAPERSIZE={paper_name}"),
            "-dFIXEDMEDIA",
            "-dPDFFitPage",
            &format!("-dFirstPage={first_page}"),
            &format!("-dLastPage={last_page}"),
        ])
        .arg(format!("-sOutputFile={}", output.display()))
        .arg(input)
        .stdin(Stdio::null())
        .stdout(Stdio::from(log_file.try_clone()?))
        .stderr(Stdio::from(log_file))
        .spawn()
        .map_err(|e| {
            DocError::Ghostscript(format!("cannot start {}: {e}", cfg.program.display()))
        })?;
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            if status.success() {
                return Ok(());
            }
            let err = std::fs::read(log).unwrap_or_default();
            let err = String::from_utf8_lossy(&err);
            // Only the "Error: /name in --operator--" line (PostScript errors, on stdout) or the
            // first line: the stack dumps that follow can quote document content.
            let first = err
                .lines()
                .find(|l| l.starts_with("Error:"))
                .or_else(|| err.lines().next())
                .unwrap_or("")
                .trim()
                .to_string();
            return Err(DocError::Ghostscript(format!("exit {status}: {first}")));
        }
        if start.elapsed() > cfg.timeout {
            let _ = child.kill();
            let _ = child.wait();
            return Err(DocError::GhostscriptTimeout(cfg.timeout));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}
