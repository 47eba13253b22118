//! Test harness: a real API server on 127.0.0.1 (port 0) backed by SQLite in a temp dir or by a
//! fresh PostgreSQL database (when `FAXLINE_TEST_DATABASE_URL` is set). Documents go to the
//! backend named by `FAXLINE_TEST_STORAGE` (`database`, the default; `local`; `s3`, a fresh bucket
//! on the test S3 server of [`s3`]), so `.ci/test` runs the API suites once per backend;
//! `FAXLINE_TEST_STORAGE_ENCRYPTION=1` adds client-side encryption.
#![allow(dead_code)]

pub mod phaxio_webhook;
pub mod s3;

use std::net::SocketAddr;
use std::path::PathBuf;

use faxline_api::config::{Config, Secret};
use tokio::sync::oneshot;

pub const AGENT_SECRET: &str = "c41f9e07a2d6b85e13f0c7a94d2e6b18f53a0c97";
pub const ADMIN_KEY: &str = "bootstrap-admin-key-0123456789";
pub const INTERNAL_SECRET: &str = "internal-secret-0123456789";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// A fresh PostgreSQL database for one test. Fails loudly when the variable is missing, unless
/// `FAXLINE_SKIP_POSTGRES=1` (then `None`).
pub async fn pg_database() -> Option<String> {
    let Ok(url) = std::env::var("FAXLINE_TEST_DATABASE_URL") else {
        if std::env::var("FAXLINE_SKIP_POSTGRES").as_deref() == Ok("1") {
            eprintln!("FAXLINE_SKIP_POSTGRES=1: PostgreSQL test skipped");
            return None;
        }
        panic!(
            "FAXLINE_TEST_DATABASE_URL is not set: PostgreSQL tests need a server \
             (e.g. postgres://faxline:faxline@127.0.0.1/faxline_test), or set FAXLINE_SKIP_POSTGRES=1"
        );
    };
    use sqlx::Connection;
    let name = format!("faxline_t_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(&url)
        .await
        .expect("connect to FAXLINE_TEST_DATABASE_URL");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .expect("CREATE DATABASE (the role needs CREATEDB)");
    let mut u = reqwest::Url::parse(&url).expect("database URL");
    u.set_path(&format!("/{name}"));
    Some(u.to_string())
}

pub struct TestServer {
    pub addr: SocketAddr,
    pub base: String,
    pub dir: PathBuf,
    pub cfg: Config,
    /// The running server's store, to drive background tasks (retention) directly.
    pub store: faxline_api::store::Store,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<()>>,
    _tmp: Option<tempfile::TempDir>,
}

pub fn base_config(dir: &std::path::Path, database_url: String) -> Config {
    let spool = dir.join("spool");
    std::fs::create_dir_all(&spool).unwrap();
    let mut cfg = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        database_url,
        data_dir: dir.to_path_buf(),
        api_key: Some(Secret::new(ADMIN_KEY)),
        agent_secret: Some(Secret::new(AGENT_SECRET)),
        internal_secret: Some(Secret::new(INTERNAL_SECRET)),
        inbound_enabled: true,
        inbound_spool_dir: Some(spool),
        public_api_url: Some("https://fax.example.org".into()),
        ..Config::default()
    };
    let storage = std::env::var("FAXLINE_TEST_STORAGE").unwrap_or_default();
    use_storage(&mut cfg, &storage);
    if std::env::var("FAXLINE_TEST_STORAGE_ENCRYPTION").as_deref() == Ok("1") {
        let key = dir.join("storage.key");
        std::fs::write(&key, "7e".repeat(32)).unwrap();
        cfg.storage_encryption_key_file = Some(key);
    }
    cfg
}

/// Puts `cfg`'s documents in `backend` (`database`/empty, `local`, `s3`: a fresh bucket).
pub fn use_storage(cfg: &mut Config, backend: &str) {
    match backend {
        "" | "database" => cfg.storage_backend = "database".into(),
        "local" => {
            cfg.storage_backend = "local".into();
            cfg.storage_dir = Some(cfg.data_dir.join("documents"));
        }
        "s3" => {
            let s = s3::settings(faxline_api::store::ServerSideEncryption::S3);
            cfg.storage_backend = "s3".into();
            cfg.s3_bucket = Some(s.bucket);
            cfg.s3_prefix = s.prefix;
            cfg.s3_region = s.region;
            cfg.s3_endpoint_url = s.endpoint_url;
            cfg.s3_path_style = Some(true);
            cfg.s3_access_key_id = s.access_key_id;
            cfg.s3_secret_access_key = s.secret_access_key;
            cfg.s3_sse = Some("s3".into());
        }
        other => panic!("FAXLINE_TEST_STORAGE must be database, local or s3, got {other:?}"),
    }
}

impl TestServer {
    /// `None` only for PostgreSQL with `FAXLINE_SKIP_POSTGRES=1`.
    pub async fn start(db: Db, tweak: impl FnOnce(&mut Config)) -> Option<Self> {
        let tmp = tempfile::tempdir().unwrap();
        let url = match db {
            Db::Sqlite => format!("sqlite://{}", tmp.path().join("faxline.db").display()),
            Db::Postgres => pg_database().await?,
        };
        let mut cfg = base_config(tmp.path(), url);
        tweak(&mut cfg);
        let mut s = Self::start_with(cfg).await;
        s._tmp = Some(tmp);
        Some(s)
    }

    pub async fn start_with(cfg: Config) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = faxline_api::App::start(cfg.clone())
            .await
            .expect("api starts");
        let store = app.store().clone();
        let (tx, rx) = oneshot::channel();
        let handle = tokio::spawn(async move {
            app.run(listener, async {
                let _ = rx.await;
            })
            .await
            .expect("api runs");
        });
        Self {
            addr,
            base: format!("http://{addr}"),
            dir: cfg.data_dir.clone(),
            cfg,
            store,
            shutdown: Some(tx),
            handle: Some(handle),
            _tmp: None,
        }
    }

    /// Stops the server and starts a new one on the same database.
    pub async fn restart(mut self) -> Self {
        self.stop().await;
        let mut next = Self::start_with(self.cfg.clone()).await;
        next._tmp = self._tmp.take();
        next
    }

    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            h.await.unwrap();
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn agent(&self, id: &str) -> faxline_protocol::client::AgentClient {
        faxline_protocol::client::AgentClient::new(&self.base, id, Secret::new(AGENT_SECRET))
            .unwrap()
    }
}

pub fn http() -> reqwest::Client {
    reqwest::Client::new()
}

pub fn fixture(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("fixture {}: {e}", p.display()))
}

pub fn one_page_pdf() -> Vec<u8> {
    fixture("pdf/dummy.pdf")
}

/// POST /fax with a key.
pub async fn send_fax(
    s: &TestServer,
    key: &str,
    to: &str,
    name: &str,
    data: Vec<u8>,
) -> reqwest::Response {
    let form = reqwest::multipart::Form::new()
        .text("to", to.to_string())
        .part(
            "file",
            reqwest::multipart::Part::bytes(data).file_name(name.to_string()),
        );
    http()
        .post(s.url("/fax"))
        .header("X-API-Key", key)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// Creates a DB key with the given scopes through the admin API.
pub async fn create_key(s: &TestServer, scopes: &[&str]) -> (String, String) {
    let r = http()
        .post(s.url("/admin/api-keys"))
        .header("X-API-Key", ADMIN_KEY)
        .json(&serde_json::json!({"name": "t", "scopes": scopes}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    (
        v["key_id"].as_str().unwrap().to_string(),
        v["token"].as_str().unwrap().to_string(),
    )
}

/// Runs a scenario on SQLite and (if configured) PostgreSQL.
#[macro_export]
macro_rules! both_stores {
    ($name:ident, $body:path) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $body(common::Db::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $body(common::Db::Postgres).await
            }
        }
    };
}

/// A document as the database backend holds it, read behind the store's back: its head row's content
/// and its further pieces in order, joined, and how many rows that was (0: no document).
pub async fn database_document(url: &str, id: &faxline_api::store::DocumentId) -> (Vec<u8>, usize) {
    use faxline_api::store::DocumentId;
    use sqlx::Connection;
    let (table, key, pieces) = match id {
        DocumentId::Job(_) => ("fax_documents", "job_id", "fax_document_pieces"),
        DocumentId::Inbound(_) => ("inbound_documents", "inbound_id", "inbound_document_pieces"),
        DocumentId::Draft(_) => ("draft_documents", "draft_id", "draft_document_pieces"),
        DocumentId::Bulk(_) => ("bulk_documents", "batch_id", "bulk_document_pieces"),
    };
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT content FROM (SELECT content, 0 AS seq FROM {table} WHERE {key} = $1 \
         UNION ALL SELECT content, seq FROM {pieces} WHERE {key} = $1) AS d ORDER BY seq"
    ));
    let rows: Vec<Vec<u8>> = if url.starts_with("sqlite") {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql)
            .bind(id.owner())
            .fetch_all(&mut c)
            .await
            .unwrap()
    } else {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql)
            .bind(id.owner())
            .fetch_all(&mut c)
            .await
            .unwrap()
    };
    (rows.concat(), rows.len())
}

/// Text inside the large PDF that must never be found in a stored (sealed) object.
pub const MARKER: &[u8] = b"STREAMED-PATIENT-RECORD";

/// A valid 1-page PDF of about `size` bytes: the page draws a line, an unreferenced stream pads
/// it with pseudo-random bytes and [`MARKER`]s.
pub fn large_pdf(size: usize) -> Vec<u8> {
    let mut pad = Vec::with_capacity(size);
    let mut x: u32 = 0x1234_5678;
    while pad.len() < size {
        if pad.len() % 4096 == 0 {
            pad.extend_from_slice(MARKER);
        }
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        pad.push((x >> 24) as u8);
    }
    let content = b"0 0 m 300 300 l S";
    let mut pdf = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    let mut obj = |pdf: &mut Vec<u8>, body: &[u8]| {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n", offsets.len()).as_bytes());
        pdf.extend_from_slice(body);
        pdf.extend_from_slice(b"\nendobj\n");
    };
    obj(&mut pdf, b"<< /Type /Catalog /Pages 2 0 R >>");
    obj(&mut pdf, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
    obj(
        &mut pdf,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
    );
    let mut stream = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
    stream.extend_from_slice(content);
    stream.extend_from_slice(b"\nendstream");
    obj(&mut pdf, &stream);
    let mut stream = format!("<< /Length {} >>\nstream\n", pad.len()).into_bytes();
    stream.extend_from_slice(&pad);
    stream.extend_from_slice(b"\nendstream");
    obj(&mut pdf, &stream);
    let xref = pdf.len();
    pdf.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len() + 1).as_bytes(),
    );
    for o in &offsets {
        pdf.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            offsets.len() + 1
        )
        .as_bytes(),
    );
    pdf
}
