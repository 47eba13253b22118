//! The web console in a real browser: Debian's `chromium` driven over WebDriver (`chromium-driver`,
//! Selenium from PyPI in a venv under the target directory) against a live `faxline serve` on the
//! loopback line. The first admin is made with `faxline user add`; the browser logs in, sends a PDF
//! and a text file joined behind a cover page,
//! watches it reach SUCCESS, opens the received copy in the inbox, and screenshots every page at
//! desktop and phone widths into `target/tmp/console-screens/`. Then a 20-recipient bulk send from a
//! CSV: the server is killed (SIGKILL) while faxes of the batch are on the line and restarted; the batch
//! finishes with one job per recipient and at most one received copy per number on the loopback's
//! answering side: the queue resumes, nobody is faxed twice, and a call cut by the kill ends "outcome
//! unknown" instead of being redialled blindly. Last, two-step login: set up on the Account page and
//! used at the next login; `faxline user reset-totp` turns it off, and it is set up again.
//!
//! Without chromium, chromedriver or Python the test says so and passes, except under `CI=true`,
//! where it fails.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{ADMIN_KEY, Proc, missing, run};

const SELENIUM: &str = "selenium==4.51.0";
const PASSWORD: &str = "kestrel-9Vw!lantern-31";

/// A Python with Selenium, in a venv under the target directory.
fn python_with_selenium() -> Option<PathBuf> {
    common::python_venv("console-browser-venv", SELENIUM)
}

fn faxline(args: &[&str], config: &Path, password: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_faxline"))
        .args(args)
        .arg("--config")
        .arg(config)
        .arg("--password-file")
        .arg(password)
        .env_remove("FAXLINE_CONFIG")
        .env_remove("DATABASE_URL")
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_in_a_real_browser() {
    let chromium = std::env::var("FAXLINE_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let driver =
        std::env::var("FAXLINE_CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    if !Path::new(&chromium).exists() && missing("chromium") {
        return;
    }
    if !Path::new(&driver).exists() && missing("chromium-driver") {
        return;
    }
    let Some(py) = tokio::task::spawn_blocking(python_with_selenium)
        .await
        .unwrap()
    else {
        missing("python3 with venv");
        return;
    };

    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("faxline.toml");
    std::fs::write(
        &config,
        format!(
            "[api]\ndata_dir = \"{}\"\ninbound_enabled = true\nlease_seconds = 15\n\n[line]\nkind = \"loopback\"\nspeed = 10\n\n\
             [fax]\nlocal_station_id = \"+1 555 0100\"\n\n[agent]\nlease_poll_secs = 1\n",
            tmp.path().join("data").display()
        ),
    )
    .unwrap();

    // `faxline user add`: weak passwords are refused, the first user becomes the admin.
    let weak = tmp.path().join("weak");
    std::fs::write(&weak, "password123\n").unwrap();
    let out = faxline(&["user", "add", "frontdesk"], &config, &weak);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("password"), "{err}");
    let good = tmp.path().join("good");
    std::fs::write(&good, format!("{PASSWORD}\n")).unwrap();
    let out = faxline(&["user", "add", "frontdesk"], &config, &good);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "added admin user frontdesk"
    );
    let out = faxline(&["user", "add", "frontdesk"], &config, &good);
    assert!(!out.status.success(), "a taken username is refused");
    // A staff user, so the Users page shows a staff row (mailboxes form) in the screenshots.
    let out = faxline(&["user", "add", "ann", "--role", "staff"], &config, &good);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "added staff user ann"
    );

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = start_server(&config, port).await;
    let http = reqwest::Client::new();

    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("console-screens");
    let _ = std::fs::remove_dir_all(&shots);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/console/browser.py");
    let pdf = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/pdf/dummy.pdf");
    let out = {
        let (py, base, shots) = (py.clone(), base.clone(), shots.clone());
        tokio::task::spawn_blocking(move || {
            run(Command::new(py)
                .arg(script)
                .arg(base)
                .arg("frontdesk")
                .arg(PASSWORD)
                .arg(pdf)
                .arg(shots)
                .env("FAXLINE_CHROMIUM", chromium)
                .env("FAXLINE_CHROMEDRIVER", driver))
        })
        .await
        .unwrap()
    };
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout).expect("the script's report");
    assert_eq!(seen["job_status"], "SUCCESS", "{seen}");

    // What the browser saw agrees with the API.
    let job_id = seen["job_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let job: serde_json::Value = http
        .get(format!("{base}/fax/{job_id}"))
        .header("X-API-Key", ADMIN_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(job["status"], "SUCCESS", "{job}");
    assert_eq!(job["to"], "+15551234567");
    assert_eq!(job["pages"], 3, "cover page, the PDF, the text file: {job}");
    let inbound: serde_json::Value = http
        .get(format!("{base}/inbound"))
        .header("X-API-Key", ADMIN_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let fax_id = seen["fax_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap();
    assert!(
        inbound
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["id"] == fax_id),
        "{inbound}"
    );

    // Every page at both widths, each a real PNG of the window's size.
    let screens = seen["screens"].as_array().unwrap();
    assert_eq!(screens.len(), 22, "{screens:?}");
    // The preview before sending: three pages at the preview width.
    assert_eq!(
        seen["draft_preview_widths"],
        serde_json::json!([400, 400, 400]),
        "{seen}"
    );
    for name in [
        "login",
        "draft",
        "draft-pages",
        "send",
        "outbox",
        "job",
        "inbox",
        "fax",
        "users",
        "keys",
        "system",
    ] {
        for size in ["desktop", "phone"] {
            let p = shots.join(format!("{name}-{size}.png"));
            let img = image::open(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            let expected_width = if size == "desktop" { 1280 } else { 390 };
            assert!(
                img.width().abs_diff(expected_width) <= 20,
                "{} is {} wide",
                p.display(),
                img.width()
            );
            // Not a blank page: more than a handful of distinct colours.
            let rgb = img.to_rgb8();
            let mut colours = std::collections::HashSet::new();
            for px in rgb.pixels().step_by(7) {
                colours.insert(px.0);
                if colours.len() > 8 {
                    break;
                }
            }
            assert!(colours.len() > 8, "{} looks blank", p.display());
        }
    }

    // Bulk: 20 recipients from a CSV; the server is killed in the middle and restarted.
    let csv = tmp.path().join("recipients.csv");
    let mut rows = String::from("number,name\n");
    let numbers: Vec<String> = (0..20).map(|i| format!("+1555200{i:04}")).collect();
    for (i, n) in numbers.iter().enumerate() {
        rows += &format!("{n},Practice {i}\n");
    }
    std::fs::write(&csv, rows).unwrap();
    let started = run_script(&py, &base, &shots, &["bulk-start", csv.to_str().unwrap()]).await;
    let batch_url = started["batch_url"].as_str().unwrap().to_string();
    let bulk_jobs = |jobs: &serde_json::Value| -> Vec<serde_json::Value> {
        jobs["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|j| j["to"].as_str().unwrap().starts_with("+1555200"))
            .cloned()
            .collect()
    };
    let list = |http: reqwest::Client, base: String| async move {
        http.get(format!("{base}/fax?limit=100"))
            .header("X-API-Key", ADMIN_KEY)
            .send()
            .await
            .unwrap()
            .json::<serde_json::Value>()
            .await
            .unwrap()
    };
    let t = Instant::now();
    // Jobs of the batch that may be on the line when the server is killed.
    let mut open_at_kill;
    loop {
        let jobs = list(http.clone(), base.clone()).await;
        let bulk = bulk_jobs(&jobs);
        open_at_kill = bulk
            .iter()
            .filter(|j| j["status"] == "in_progress" || j["status"] == "queued")
            .count();
        let done = bulk.iter().filter(|j| j["status"] == "SUCCESS").count();
        // Kill in the middle of the batch, while a fax of it is on the line or about to be
        // (a poll can miss the seconds a call is on the line; waiting for one to be seen made
        // this wait flaky).
        if done >= 5 && open_at_kill > 0 {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(240),
            "bulk send too slow: {jobs}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    server.0.kill().unwrap(); // SIGKILL: no graceful anything
    server.0.wait().unwrap();
    server = start_server(&config, port).await;
    let before = bulk_jobs(&list(http.clone(), base.clone()).await).len();
    assert!(before < 20, "killed in the middle ({before} jobs created)");
    let finished = run_script(&py, &base, &shots, &["bulk-finish", &batch_url]).await;
    assert_eq!(finished["state"], "done");
    let jobs = bulk_jobs(&list(http.clone(), base.clone()).await);
    assert_eq!(jobs.len(), 20, "one job per recipient: {jobs:?}");
    let mut to: Vec<&str> = jobs.iter().map(|j| j["to"].as_str().unwrap()).collect();
    to.sort();
    to.dedup();
    assert_eq!(to, numbers.iter().map(String::as_str).collect::<Vec<_>>());
    // The answering side of the loopback received at most one fax per number, and one per success.
    let received: serde_json::Value = http
        .get(format!("{base}/inbound?limit=100"))
        .header("X-API-Key", ADMIN_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for n in &numbers {
        let copies = received
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["to"] == n.as_str())
            .count();
        let job = jobs.iter().find(|j| j["to"] == n.as_str()).unwrap();
        assert!(copies <= 1, "{n} was faxed {copies} times");
        if job["status"] == "SUCCESS" {
            assert_eq!(copies, 1, "{n}: {job}");
        }
    }
    let successes = jobs.iter().filter(|j| j["status"] == "SUCCESS").count();
    // A call cut by the kill ends as "outcome unknown" rather than be dialled again blindly (it may have
    // gone through): only the calls that were on the line then may end so; every other one is delivered.
    assert!(
        successes >= 20 - open_at_kill,
        "{successes} of 20 delivered, {open_at_kill} open at the kill: {jobs:?}"
    );
    for j in jobs.iter().filter(|j| j["status"] != "SUCCESS") {
        assert_eq!(j["status"], "FAILED", "{j}");
        assert!(
            j["error"].as_str().unwrap().starts_with("outcome unknown"),
            "{j}"
        );
    }
    eprintln!(
        "bulk: killed with {before} of 20 jobs created ({open_at_kill} open); \
         {successes} of 20 delivered, none twice"
    );
    for name in ["batch", "bulk"] {
        for size in ["desktop", "phone"] {
            let p = shots.join(format!("{name}-{size}.png"));
            assert!(image::open(&p).is_ok(), "{}", p.display());
        }
    }

    // Two-step login: set up in the browser and used at the next login; after `faxline user
    // reset-totp` the password alone logs in again (the script's first login) and it is set up anew.
    for round in 0..2 {
        let seen = run_script(&py, &base, &shots, &["two-step"]).await;
        assert_eq!(seen["two_step"], "on", "round {round}: {seen}");
        let out = Command::new(env!("CARGO_BIN_EXE_faxline"))
            .args(["user", "reset-totp", "frontdesk", "--config"])
            .arg(&config)
            .env_remove("FAXLINE_CONFIG")
            .env_remove("DATABASE_URL")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            String::from_utf8_lossy(&out.stdout).starts_with("two-step login of frontdesk reset"),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    for name in ["account-setup", "login-code"] {
        for size in ["desktop", "phone"] {
            let p = shots.join(format!("{name}-{size}.png"));
            assert!(image::open(&p).is_ok(), "{}", p.display());
        }
    }
    drop(server);
    eprintln!("screenshots in {}", shots.display());
}

async fn start_server(config: &Path, port: u16) -> Proc {
    common::start_serve(config, port, "warn", Stdio::inherit())
        .await
        .0
}

/// Runs the browser script in `mode`; its JSON report.
async fn run_script(py: &Path, base: &str, shots: &Path, mode: &[&str]) -> serde_json::Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/console/browser.py");
    let pdf = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/pdf/dummy.pdf");
    let mut cmd = Command::new(py);
    cmd.arg(script)
        .arg(base)
        .arg("frontdesk")
        .arg(PASSWORD)
        .arg(pdf)
        .arg(shots)
        .args(mode);
    let out = tokio::task::spawn_blocking(move || run(&mut cmd))
        .await
        .unwrap();
    serde_json::from_slice(&out.stdout).expect("the script's report")
}
