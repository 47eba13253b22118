//! What an operator reads when `faxline serve` starts with its log going to a file (not a terminal): one line
//! each for the API and the agent saying version, addresses, data directory, database, line and the optional
//! parts, no ANSI colour codes, and a request id on the API's log lines (the job id for the agent's requests
//! about a job).

mod common;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::ADMIN_KEY;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_logs_one_start_line_without_colours() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("faxline.toml");
    std::fs::write(
        &config,
        format!(
            "[api]\ndata_dir = \"{}\"\n\n[line]\nkind = \"loopback\"\nspeed = 10\n\n[agent]\nlease_poll_secs = 1\n",
            tmp.path().join("data").display()
        ),
    )
    .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = tmp.path().join("serve.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_faxline"))
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--config",
        ])
        .arg(&config)
        .env("API_KEY", ADMIN_KEY)
        .env_remove("FAXLINE_CONFIG")
        .env_remove("DATABASE_URL")
        .env_remove("NO_COLOR")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let start = Instant::now();
    while http.get(format!("{base}/health")).send().await.is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "serve never came up"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A refused request is logged (audit) inside its request span.
    let r = http
        .get(format!("{base}/fax"))
        .header("X-API-Key", "wrong-key-0123456789")
        .header("X-Request-Id", "probe-0042")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // A fax: the agent's requests about the job carry the job id as request id, so the API's audit line of
    // its result names the job in its span.
    let api = common::Client { base: base.clone() };
    let job = api.submit("+15551234567").await;
    assert_eq!(api.final_job(&job).await["status"], "SUCCESS");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _ = child.kill();
    let _ = child.wait();
    let mut text = String::new();
    std::fs::File::open(&log)
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    assert!(
        !text.contains('\x1b'),
        "colour codes in a log file:\n{text}"
    );
    let api: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("faxline api listening"))
        .collect();
    assert_eq!(api.len(), 1, "{text}");
    for part in [
        concat!("version=\"", env!("CARGO_PKG_VERSION"), "\""),
        &format!("addr=127.0.0.1:{port}"),
        "data_dir=",
        "db=\"sqlite\"",
        "auth_required=true",
        "inbound=",
    ] {
        assert!(api[0].contains(part), "{part} missing: {}", api[0]);
    }
    let agent: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("faxline agent starting"))
        .collect();
    assert_eq!(agent.len(), 1, "{text}");
    assert!(agent[0].contains("line=\"loopback\""), "{}", agent[0]);
    assert!(
        text.lines()
            .any(|l| l.contains("request{id=probe-0042") && l.contains("auth_failed")),
        "no request id on the refused request's audit line:\n{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.contains(&format!("request{{id={job}")) && l.contains("job_result")),
        "the job's result was not logged under its id:\n{text}"
    );
}
