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
        let cfg = ApiConfig {
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
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
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
