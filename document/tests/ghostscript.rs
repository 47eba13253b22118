//! The optional Ghostscript backend: it renders through `render`, always runs with `-dSAFER` (and
//! the sandbox holds), and a gs that hangs is killed at the time limit with a typed error.
//!
//! The hang is real: a PostScript infinite loop, which gs runs because it picks the interpreter by
//! content. A wrapper script (`exec gs "$@"`, so the pid stays the same) records gs's pid and
//! arguments, so the test can check the exact command line and that the process is gone.

mod common;

use common::pdf;
use faxline_document::{
    Backend, DocError, GhostscriptConfig, Paper, RenderOptions, Resolution, render,
    render_pdf_ghostscript,
};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A `gs` wrapper writing its pid and arguments next to itself.
fn wrapper(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let script = dir.join("gs-wrapper");
    let body = format!(
        "#!/bin/sh\necho $$ > '{d}/pid'\nprintf '%s\\n' \"$@\" > '{d}/args'\nexec gs \"$@\"\n",
        d = dir.display()
    );
    std::fs::write(&script, body).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

fn require_gs() {
    assert!(
        std::process::Command::new("gs")
            .arg("--version")
            .output()
            .is_ok(),
        "ghostscript (gs) is required for these tests; CI installs it"
    );
}

/// Whether a process is still alive (a zombie or a missing /proc entry counts as gone).
fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat
                .rsplit(')')
                .next()
                .unwrap_or("")
                .split_whitespace()
                .next();
            !matches!(state, Some("Z" | "X") | None)
        }
        Err(_) => false,
    }
}

#[test]
fn ghostscript_backend_renders_with_safer_and_fit_to_page() {
    require_gs();
    let dir = tempfile::tempdir().unwrap();
    let opts = RenderOptions {
        backend: Backend::Ghostscript(GhostscriptConfig {
            program: wrapper(dir.path()),
            timeout: Duration::from_secs(60),
        }),
        ..RenderOptions::default()
    };
    let doc = render(&pdf("form-photo-a4.pdf"), &opts).unwrap();
    assert_eq!(doc.page_count(), 2);
    assert!(
        doc.pages
            .iter()
            .all(|p| p.width() == 1728 && p.height() == 2156)
    );
    assert!(doc.pages[0].black_pixels() > 10_000);
    let args = std::fs::read_to_string(dir.path().join("args")).unwrap();
    let args: Vec<&str> = args.lines().collect();
    for want in [
        "-dSAFER",
        "-dBATCH",
        "-dNOPAUSE",
        "-sDEVICE=tiffg4",
        "-r204x196",
        "-sPAPERSIZE=letter",
        "-dFIXEDMEDIA",
        "-dPDFFitPage",
    ] {
        assert!(args.contains(&want), "{want} missing from {args:?}");
    }
    assert!(!args.iter().any(|a| a.contains("NOSAFER")), "{args:?}");
}

#[test]
fn safer_refuses_file_access_from_the_document() {
    require_gs();
    // PostScript that tries to read a file outside the sandbox; under -dSAFER gs stops with
    // invalidfileaccess, which must come back as a typed error, not as a page.
    let ps = b"%!PS\n(/etc/hostname) (r) file 100 string readstring pop pop\nshowpage\n";
    let err = render_pdf_ghostscript(
        ps,
        &GhostscriptConfig::default(),
        Paper::Letter,
        Resolution::Fine,
        0,
        0,
    )
    .unwrap_err();
    match err {
        DocError::Ghostscript(msg) => assert!(msg.contains("invalidfileaccess"), "{msg}"),
        other => panic!("expected a Ghostscript error, got {other:?}"),
    }
}

#[test]
fn a_hanging_ghostscript_is_killed_at_the_timeout() {
    require_gs();
    let dir = tempfile::tempdir().unwrap();
    let cfg = GhostscriptConfig {
        program: wrapper(dir.path()),
        timeout: Duration::from_millis(1500),
    };
    let hang = b"%!PS\n{ } loop\n";
    let start = Instant::now();
    let err =
        render_pdf_ghostscript(hang, &cfg, Paper::Letter, Resolution::Fine, 0, 0).unwrap_err();
    let took = start.elapsed();
    assert!(
        matches!(err, DocError::GhostscriptTimeout(t) if t == cfg.timeout),
        "{err:?}"
    );
    assert!(err.to_string().contains("stopped"), "{err}");
    assert!(
        took >= cfg.timeout && took < cfg.timeout + Duration::from_secs(5),
        "{took:?}"
    );
    let pid: u32 = std::fs::read_to_string(dir.path().join("pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(!alive(pid), "gs (pid {pid}) still runs after the timeout");
}

#[test]
fn the_time_limit_covers_a_normal_document_too() {
    require_gs();
    // gs needs tens of milliseconds just to start; a 1 ms limit must stop it with the typed error,
    // never return a partial document.
    let opts = RenderOptions {
        backend: Backend::Ghostscript(GhostscriptConfig {
            program: "gs".into(),
            timeout: Duration::from_millis(1),
        }),
        ..RenderOptions::default()
    };
    let err = render(&pdf("gs-man-groff.pdf"), &opts).unwrap_err();
    assert!(matches!(err, DocError::GhostscriptTimeout(_)), "{err:?}");
}

#[test]
fn a_missing_ghostscript_is_a_typed_error() {
    let opts = RenderOptions {
        backend: Backend::Ghostscript(GhostscriptConfig {
            program: "/nonexistent/gs".into(),
            timeout: Duration::from_secs(5),
        }),
        ..RenderOptions::default()
    };
    let err = render(&pdf("dummy.pdf"), &opts).unwrap_err();
    assert!(matches!(err, DocError::Ghostscript(_)), "{err:?}");
}
