//! The published Faxbot Python SDK (`faxbot==1.1.0` from PyPI) against a live Faxline server.
//! The SDK is installed into a venv under the target directory on first run; without Python or
//! network access this test fails (it never skips silently). `FAXLINE_PYTHON` may point at an
//! interpreter that already has `faxbot==1.1.0`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{ADMIN_KEY, Db, TestServer, create_key, http};
use serde_json::Value;

fn run(cmd: &mut Command) -> std::process::Output {
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("cannot run {cmd:?}: {e} (Python 3 with venv/pip is required for this test)")
    });
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A Python interpreter with faxbot 1.1.0.
fn python_with_sdk() -> PathBuf {
    if let Ok(p) = std::env::var("FAXLINE_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("faxbot-sdk-venv");
    let py = venv.join("bin/python");
    let has_sdk = py.exists()
        && Command::new(&py)
            .args([
                "-c",
                "import importlib.metadata as m; assert m.version('faxbot') == '1.1.0'",
            ])
            .status()
            .is_ok_and(|s| s.success());
    if !has_sdk {
        run(Command::new("python3").args(["-m", "venv"]).arg(&venv));
        run(Command::new(&py).args(["-m", "pip", "install", "--quiet", "faxbot==1.1.0"]));
    }
    py
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faxbot_python_sdk_works_unchanged() {
    let py = tokio::task::spawn_blocking(python_with_sdk).await.unwrap();
    let s = TestServer::start(Db::Sqlite, |_| {}).await.unwrap();
    let (_, key) = create_key(&s, &["fax:send", "fax:read"]).await;
    let work = tempfile::tempdir().unwrap();
    let pdf = work.path().join("doc.pdf");
    std::fs::write(&pdf, common::one_page_pdf()).unwrap();
    let txt = work.path().join("note.txt");
    std::fs::write(&txt, "Faxline test page\nLine two\n").unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sdk/faxbot_client.py");
    let base = s.base.clone();
    let out = tokio::task::spawn_blocking(move || {
        run(Command::new(&py)
            .arg(script)
            .arg(base)
            .arg(key)
            .arg(&pdf)
            .arg(&txt))
    })
    .await
    .unwrap();
    let ids: Value = serde_json::from_slice(&out.stdout).expect("SDK script output");
    for field in ["pdf_job", "txt_job"] {
        let id = ids[field].as_str().unwrap();
        let r = http()
            .get(s.url(&format!("/fax/{id}")))
            .header("X-API-Key", ADMIN_KEY)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{field} stored");
    }
}
