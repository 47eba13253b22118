//! Shared by the agent's integration tests: the real API in-process (SQLite in a temp dir, real HTTP on
//! 127.0.0.1) with a bootstrap admin key and the agent secret.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use faxline_api::config::Config as ApiConfig;
use faxline_protocol::Secret;
use tokio::sync::oneshot;

/// Random-looking (the `faxline` binary refuses weak secrets); never used anywhere real.
pub const AGENT_SECRET: &str = "b7e41c09d2f85a36e0c47b1d9a2f6e83c5d07a14";
pub const ADMIN_KEY: &str = "bootstrap-admin-key-0123456789";

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

/// The API running in this test process; its HTTP client methods come through [`Client`].
pub struct Api {
    client: Client,
    stop: Option<oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<()>>,
}

impl std::ops::Deref for Api {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

/// An API client with the bootstrap admin key, for an API in this process or in a `faxline` child process.
pub struct Client {
    pub base: String,
}

impl Api {
    /// Starts the API on `addr` (port 0 = any) with its database in `dir`.
    pub async fn start(dir: &Path, addr: &str) -> Api {
        Self::start_with(dir, addr, |_, _| {}).await
    }

    /// [`Api::start`] with the configuration changed by `tweak`, which also gets the API's base URL.
    pub async fn start_with(
        dir: &Path,
        addr: &str,
        tweak: impl FnOnce(&mut ApiConfig, &str),
    ) -> Api {
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let mut cfg = ApiConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            database_url: format!("sqlite://{}", dir.join("faxline.db").display()),
            data_dir: dir.to_path_buf(),
            api_key: Some(Secret::new(ADMIN_KEY)),
            agent_secret: Some(Secret::new(AGENT_SECRET)),
            inbound_enabled: true,
            lease_seconds: 4,
            // The tests poll GET /inbound every 100 ms; Faxbot's 30 requests a minute answered 429 to a slow run
            // (the per-minute limits are the same throttle as `max_requests_per_minute`, tested in the API).
            inbound_list_rpm: 0,
            ..ApiConfig::default()
        };
        tweak(&mut cfg, &base);
        let app = faxline_api::App::start(cfg).await.expect("api starts");
        let (tx, rx) = oneshot::channel();
        let handle = tokio::spawn(async move {
            app.run(listener, async {
                let _ = rx.await;
            })
            .await
            .expect("api runs");
        });
        Api {
            client: Client { base },
            stop: Some(tx),
            handle: Some(handle),
        }
    }

    pub async fn stop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            let _ = h.await;
        }
    }
}

pub async fn wait_inbound(api: &Client, n: usize) -> Vec<serde_json::Value> {
    let start = Instant::now();
    loop {
        let list = api.inbound().await;
        if list.len() >= n {
            return list;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "inbound never arrived"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

impl Client {
    pub fn http() -> reqwest::Client {
        reqwest::Client::new()
    }

    pub async fn submit(&self, to: &str) -> String {
        let pdf = std::fs::read(fixtures().join("pdf/dummy.pdf")).unwrap();
        let form = reqwest::multipart::Form::new()
            .text("to", to.to_owned())
            .part(
                "file",
                reqwest::multipart::Part::bytes(pdf)
                    .file_name("doc.pdf")
                    .mime_str("application/pdf")
                    .unwrap(),
            );
        let r = Self::http()
            .post(format!("{}/fax", self.base))
            .header("X-API-Key", ADMIN_KEY)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
        let v: serde_json::Value = r.json().await.unwrap();
        v["id"].as_str().unwrap().to_owned()
    }

    pub async fn job(&self, id: &str) -> serde_json::Value {
        Self::http()
            .get(format!("{}/fax/{id}", self.base))
            .header("X-API-Key", ADMIN_KEY)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Polls until the job is final.
    pub async fn final_job(&self, id: &str) -> serde_json::Value {
        let start = Instant::now();
        loop {
            let j = self.job(id).await;
            if ["SUCCESS", "FAILED", "failed", "cancelled"]
                .contains(&j["status"].as_str().unwrap_or(""))
            {
                return j;
            }
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "job never ended: {j}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn inbound(&self) -> Vec<serde_json::Value> {
        let r = Self::http()
            .get(format!("{}/inbound", self.base))
            .header("X-API-Key", ADMIN_KEY)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let body = r.text().await.unwrap();
        assert!(status.is_success(), "GET /inbound: {status} {body}");
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET /inbound: {e}: {body}"))
    }
}

/// A child process (a `faxline` command, Prometheus, …), killed when the test ends however it ends.
pub struct Proc(pub std::process::Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Proc {
    /// Sends SIGTERM (what Docker, systemd and Kubernetes send).
    pub fn sigterm(&self) {
        let pid = self.0.id().to_string();
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(sent.success());
    }

    /// Sends SIGTERM and waits for the process to exit.
    pub async fn sigterm_and_wait(&mut self, limit: Duration) -> std::process::ExitStatus {
        self.sigterm();
        let start = Instant::now();
        loop {
            if let Some(status) = self.0.try_wait().unwrap() {
                return status;
            }
            assert!(
                start.elapsed() < limit,
                "the process did not exit within {limit:?} of SIGTERM"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A TCP port free on 127.0.0.1 right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `faxline serve --listen 127.0.0.1:<port> --config <config>` with the bootstrap admin key, logging at
/// `log_level` (no colours) to `stderr`; returns once `/health` answers.
pub async fn start_serve(
    config: &Path,
    port: u16,
    log_level: &str,
    stderr: std::process::Stdio,
) -> (Proc, Client) {
    let base = format!("http://127.0.0.1:{port}");
    let server = Proc(
        std::process::Command::new(env!("CARGO_BIN_EXE_faxline"))
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--config",
            ])
            .arg(config)
            .env("API_KEY", ADMIN_KEY)
            .env_remove("FAXLINE_CONFIG")
            .env_remove("DATABASE_URL")
            .env("RUST_LOG", log_level)
            .env("NO_COLOR", "1")
            .stdout(std::process::Stdio::null())
            .stderr(stderr)
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
    (server, Client { base })
}

/// Runs a command that must succeed; its output (a failure shows the command and what it printed).
pub fn run(cmd: &mut std::process::Command) -> std::process::Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Something a test needs is not installed: outside CI the test is skipped (returns `true`), in CI it
/// fails, because `.ci/deps` installs everything.
pub fn missing(what: &str) -> bool {
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{what} is required in CI (.ci/deps installs it)"
    );
    eprintln!("SKIPPED: {what} is not available");
    true
}

/// A Python interpreter in the venv `name` under the target directory with `requirement`
/// (`package==version`) installed, installing it on first use or when another version is there; `None`
/// (skip) outside CI when there is no `python3` with `venv`.
pub fn python_venv(name: &str, requirement: &str) -> Option<PathBuf> {
    let has_python = std::process::Command::new("python3")
        .args(["-c", "import venv"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_python && missing("python3 with venv") {
        return None;
    }
    let (package, version) = requirement
        .split_once("==")
        .expect("a pinned requirement: package==version");
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let py = venv.join("bin/python");
    let installed = py.exists()
        && std::process::Command::new(&py)
            .args([
                "-c",
                &format!(
                    "import importlib.metadata as m; assert m.version('{package}') == '{version}'"
                ),
            ])
            .status()
            .is_ok_and(|s| s.success());
    if !installed {
        run(std::process::Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv));
        run(std::process::Command::new(&py).args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            requirement,
        ]));
    }
    Some(py)
}
