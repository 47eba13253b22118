//! `faxline serve` end to end: the real binary, API and agent in one process on SQLite, the loopback line
//! (real SIP + UDPTL on 127.0.0.1, time-compressed): POST /fax with the bootstrap key, poll GET /fax/{id}
//! until the fax has gone through; the answering side's copy shows up as an inbound fax. And how the server
//! commands (`serve`, `agent`, `api`) stop on SIGTERM, during calls and with short grace periods.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{ADMIN_KEY, Client, Proc, free_port, wait_inbound};

/// A configuration for `faxline serve` in `dir`: SQLite, the loopback line at `speed`, `extra` appended.
fn write_config(dir: &std::path::Path, speed: u32, extra: &str) -> std::path::PathBuf {
    let config = dir.join("faxline.toml");
    std::fs::write(
        &config,
        format!(
            "[api]\ndata_dir = \"{}\"\ninbound_enabled = true\n\n[line]\nkind = \"loopback\"\nspeed = {speed}\n\n\
             [fax]\nlocal_station_id = \"+1 555 0100\"\n\n[agent]\nlease_poll_secs = 1\n{extra}",
            dir.join("data").display()
        ),
    )
    .unwrap();
    config
}

/// Starts `faxline serve` on a free port and waits until it answers; returns it and its API.
async fn start_serve(config: &std::path::Path) -> (Proc, Client) {
    start_serve_with(config, Stdio::inherit()).await
}

/// [`start_serve`], with the server's standard error going to `stderr` (piped to read its warnings).
async fn start_serve_with(config: &std::path::Path, stderr: Stdio) -> (Proc, Client) {
    common::start_serve(config, free_port(), "warn", stderr).await
}

/// Waits until the job's call is placed (the loopback line reports `calling`, then `answered`).
async fn wait_in_call(api: &Client, id: &str) {
    let start = Instant::now();
    loop {
        let job = api.job(id).await;
        if job["stage"] == "calling" || job["stage"] == "answered" {
            return;
        }
        assert!(
            job["status"] == "queued" || job["status"] == "in_progress",
            "the call ended before the test could stop the server: {job}"
        );
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the call never started: {job}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_sends_a_pdf_over_the_loopback_line() {
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), 10, "");
    let (_server, api) = start_serve(&config).await;
    let id = api.submit("+15551234567").await;
    let job = api.final_job(&id).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    assert_eq!(job["pages"], 1, "{job}");
    // A finished job shows the pages that went and a final stage, not the last call phase.
    assert_eq!(job["pages_sent"], 1, "{job}");
    assert_eq!(job["stage"], "completed", "{job}");
    // The loopback's answering side delivered its copy as an inbound fax.
    let list = wait_inbound(&api, 1).await;
    assert_eq!(list[0]["pages"], 1, "{list:?}");
}

/// SIGTERM during a call: the call finishes within the grace period, its result reaches the API (which
/// stops only after the agent), and the process exits 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_call_lets_it_finish_and_report() {
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), 10, "shutdown_grace_secs = 60\n");
    let (mut server, api) = start_serve(&config).await;
    let id = api.submit("+15551234567").await;
    wait_in_call(&api, &id).await;
    let status = server.sigterm_and_wait(Duration::from_secs(60)).await;
    assert!(status.success(), "exit status {status}");
    // Started again, the server shows the job as the agent reported it before stopping.
    let (_server, api) = start_serve(&config).await;
    let job = api.job(&id).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    assert_eq!(job["pages_sent"], 1, "{job}");
    assert_eq!(job["stage"], "completed", "{job}");
}

/// SIGTERM during a call that cannot finish within the grace period: the call is hung up, the job is
/// reported (back in the queue for the next run, with the reason), and the process exits 0 within the grace.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_a_short_grace_hangs_up_and_requeues_the_job() {
    let tmp = tempfile::tempdir().unwrap();
    // Real time: a page takes about half a minute, far longer than the 2 s grace.
    let config = write_config(tmp.path(), 1, "shutdown_grace_secs = 2\n");
    let (mut server, api) = start_serve(&config).await;
    let id = api.submit("+15551234567").await;
    wait_in_call(&api, &id).await;
    // The grace period, plus time for the process to start its shutdown and exit.
    let status = server.sigterm_and_wait(Duration::from_secs(2 + 8)).await;
    assert!(status.success(), "exit status {status}");
    let (_server, api) = start_serve(&config).await;
    let job = api.job(&id).await;
    assert_eq!(job["status"], "queued", "{job}");
    assert_eq!(job["stage"], "retry scheduled", "{job}");
    let error = job["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("agent shutdown") && error.contains("hung up"),
        "{job}"
    );
}

/// A second stop request while the first waits for a call ends the process at once (exit 130); the call
/// journal covers the call that was cut.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_sigterm_exits_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    // Real time and a long grace: the first SIGTERM alone would wait for the call for most of a minute.
    let config = write_config(tmp.path(), 1, "shutdown_grace_secs = 60\n");
    let (mut server, api) = start_serve(&config).await;
    let id = api.submit("+15551234567").await;
    wait_in_call(&api, &id).await;
    server.sigterm();
    // The first request is being handled: the API still answers while the call runs.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(api.job(&id).await["status"], "in_progress");
    assert!(
        server.0.try_wait().unwrap().is_none(),
        "exited on the first SIGTERM"
    );
    let status = server.sigterm_and_wait(Duration::from_secs(10)).await;
    assert_eq!(status.code(), Some(130), "{status}");
}

/// `faxline agent` on its own (here on the loopback line, with the API in the test process): SIGTERM during a
/// call that cannot finish within the 2 s grace hangs it up, reports the job back to the queue with the reason,
/// and exits 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_command_stops_on_sigterm_and_reports_the_call() {
    let tmp = tempfile::tempdir().unwrap();
    let api = common::Api::start(tmp.path(), "127.0.0.1:0").await;
    let config = tmp.path().join("agent.toml");
    std::fs::write(
        &config,
        format!(
            "[agent]\nlease_poll_secs = 1\nshutdown_grace_secs = 2\n\n[line]\nkind = \"loopback\"\n\n\
             [spool]\ndir = \"{}\"\n\n[api_client]\nbase_url = \"{}\"\nallow_http = true\nagent_id = \"site1\"\n",
            tmp.path().join("spool").display(),
            api.base
        ),
    )
    .unwrap();
    let mut agent = Proc(
        Command::new(env!("CARGO_BIN_EXE_faxline"))
            .arg("agent")
            .arg("--config")
            .arg(&config)
            .env("FAXLINE_API_CLIENT__AGENT_SECRET", common::AGENT_SECRET)
            .env_remove("FAXLINE_CONFIG")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let id = api.submit("+15551234567").await;
    wait_in_call(&api, &id).await;
    let status = agent.sigterm_and_wait(Duration::from_secs(2 + 8)).await;
    assert!(status.success(), "exit status {status}");
    let job = api.job(&id).await;
    assert_eq!(job["status"], "queued", "{job}");
    assert!(
        job["error"]
            .as_str()
            .unwrap_or_default()
            .contains("agent shutdown"),
        "{job}"
    );
}

/// `faxline api` on its own exits 0 on SIGTERM.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_command_stops_on_sigterm() {
    let tmp = tempfile::tempdir().unwrap();
    let config = write_config(tmp.path(), 1, "");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut server = Proc(
        Command::new(env!("CARGO_BIN_EXE_faxline"))
            .args(["api", "--listen", &format!("127.0.0.1:{port}"), "--config"])
            .arg(&config)
            .env("API_KEY", ADMIN_KEY)
            .env("FAXLINE_AGENT_SECRET", common::AGENT_SECRET)
            .env_remove("FAXLINE_CONFIG")
            .env_remove("DATABASE_URL")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    let start = Instant::now();
    while reqwest::get(format!("{base}/health")).await.is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "api never came up"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = server.sigterm_and_wait(Duration::from_secs(10)).await;
    assert!(status.success(), "exit status {status}");
}

/// A line that answers inbound calls while the API discards received faxes (`inbound_enabled = false`, the API's
/// default) would let senders believe their fax arrived: `serve` says so at start.
#[tokio::test]
async fn serve_warns_when_its_line_answers_calls_the_api_would_discard() {
    let dir = tempfile::tempdir().unwrap();
    let free_udp = || {
        std::net::UdpSocket::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    let (trunk_port, sip_port) = (free_udp(), free_udp());
    let config = dir.path().join("faxline.toml");
    std::fs::write(
        &config,
        format!(
            "[api]\ndata_dir = \"{}\"\ninbound_enabled = false\n\n[line]\nkind = \"sip\"\n\n\
             [sip]\ntrunk_host = \"127.0.0.1\"\ntrunk_port = {trunk_port}\nbind_address = \"127.0.0.1\"\n\
             bind_port = {sip_port}\nnumbers = [\"+15550100\"]\nudptl_port_min = 46000\nudptl_port_max = 46019\n\
             rtp_port_min = 46020\nrtp_port_max = 46039\n",
            dir.path().join("data").display()
        ),
    )
    .unwrap();
    let (mut server, _api) = start_serve_with(&config, Stdio::piped()).await;
    let status = server.sigterm_and_wait(Duration::from_secs(20)).await;
    assert!(status.success(), "{status:?}");
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut server.0.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(
        stderr.contains("inbound_enabled is false"),
        "no warning about discarded inbound faxes:\n{stderr}"
    );
}

/// A cloud-only site is one `faxline serve` with one configuration file: the Phaxio line makes Phaxio the API's
/// backend, so the API refuses to start without the webhook key (naming it), starts with it and shows the
/// provider's flags in readiness, and starts with verification explicitly off only with a warning.
#[tokio::test]
async fn serve_runs_a_cloud_only_site_and_requires_the_webhook_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("faxline.toml");
    std::fs::write(
        &config,
        format!(
            "[api]\ndata_dir = \"{}\"\npublic_api_url = \"https://fax.example.org\"\n\n[line]\nkind = \"phaxio\"\n\n\
             [phaxio]\napi_key = \"phaxio-key\"\ncallback_url = \"https://fax.example.org/phaxio-callback\"\n",
            dir.path().join("data").display()
        ),
    )
    .unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let serve = |envs: &[(&str, &str)]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_faxline"));
        c.args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--config",
        ])
        .arg(&config)
        .env("API_KEY", ADMIN_KEY)
        .env("PHAXIO_API_SECRET", "5d1e9b0c7a3f48e2b6c09d4a1f7e3b85")
        .env_remove("FAXLINE_CONFIG")
        .env_remove("DATABASE_URL")
        .env_remove("PHAXIO_CALLBACK_TOKEN")
        .env_remove("PHAXIO_VERIFY_SIGNATURE")
        .env("RUST_LOG", "warn")
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
        for (k, v) in envs {
            c.env(k, v);
        }
        Proc(c.spawn().unwrap())
    };
    let up = |base: String| async move {
        let start = Instant::now();
        while reqwest::get(format!("{base}/health")).await.is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "serve never came up"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let base = format!("http://127.0.0.1:{port}");

    // No webhook key: refused at start, naming it.
    let mut s = serve(&[]);
    let start = Instant::now();
    let status = loop {
        if let Some(status) = s.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "serve started without the key"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(!status.success());
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut s.0.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(stderr.contains("PHAXIO_CALLBACK_TOKEN"), "{stderr}");

    // With it: ready to take Phaxio's signed callbacks.
    let mut s = serve(&[("PHAXIO_CALLBACK_TOKEN", "a4e07c92b15d3f68e0b9c1d7f2a54e36")]);
    up(base.clone()).await;
    let ready: serde_json::Value = reqwest::get(format!("{base}/health/ready"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["backend"], "phaxio", "{ready}");
    assert_eq!(ready["providers"]["phaxio"]["verification_required"], true);
    assert_eq!(ready["providers"]["phaxio"]["key_configured"], true);
    assert!(s.sigterm_and_wait(Duration::from_secs(30)).await.success());

    // Verification off (local development): starts, and says so.
    let mut s = serve(&[("PHAXIO_VERIFY_SIGNATURE", "false")]);
    up(base.clone()).await;
    assert!(s.sigterm_and_wait(Duration::from_secs(30)).await.success());
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut s.0.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(stderr.contains("verification is OFF"), "{stderr}");
}
