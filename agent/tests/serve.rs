//! `faxline serve` end to end: the real binary, API and agent in one process on SQLite, the loopback line
//! (real SIP + UDPTL on 127.0.0.1, time-compressed): POST /fax with the bootstrap key, poll GET /fax/{id}
//! until the fax has gone through; the answering side's copy shows up as an inbound fax.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{ADMIN_KEY, Client, wait_inbound};

/// Kills the server however the test ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_sends_a_pdf_over_the_loopback_line() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("faxline.toml");
    std::fs::write(
        &config,
        format!(
            "[api]\ndata_dir = \"{}\"\ninbound_enabled = true\n\n[line]\nkind = \"loopback\"\nspeed = 10\n\n\
             [fax]\nlocal_station_id = \"+1 555 0100\"\n\n[agent]\nlease_poll_secs = 1\n",
            tmp.path().join("data").display()
        ),
    )
    .unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let base = format!("http://127.0.0.1:{port}");
    let _server = Server(
        Command::new(env!("CARGO_BIN_EXE_faxline"))
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
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let http = reqwest::Client::new();
    let start = Instant::now();
    while http.get(format!("{base}/health")).send().await.is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "serve never came up"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let api = Client { base };
    let id = api.submit("+15551234567").await;
    let job = api.final_job(&id).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    assert_eq!(job["pages"], 1, "{job}");
    // The loopback's answering side delivered its copy as an inbound fax.
    let list = wait_inbound(&api, 1).await;
    assert_eq!(list[0]["pages"], 1, "{list:?}");
}
