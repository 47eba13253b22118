//! The real `faxline api` process and a document store that fails under it, with the local
//! directory backend.
//!
//! A full disk: the process runs under a file size limit (`RLIMIT_FSIZE`, set by `sh`'s `ulimit -f`,
//! with `SIGXFSZ` ignored so a write past it fails with `EFBIG` as on a full file system): an upload
//! that does not fit is a 503 and leaves neither a row nor a file, and once there is room again
//! the same upload is accepted.
//!
//! Killed (SIGKILL) between a job's document write and its row's commit: the test-only
//! failpoint of debug builds (`FAXLINE_TEST_FAILPOINT=batch-documents-written`) holds an upload
//! right after its document is written, before its row joins the group commit; the test kills the
//! process there, and after a restart no job row points at a missing document and the orphan left
//! behind is swept by the restarted process's own retention pass (the document is made older than
//! the sweep's age limit, as an hour would).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use faxline_api::store::{DocumentBackend, DocumentId, DocumentStore, Store};

const AGENT_SECRET: &str = "d83b1f6e09a4c27e5b10f9d6a3c84e27b5f01a9c";
const API_KEY: &str = "kill-test-bootstrap-key-7f3a9c1e5b";

fn binary() -> PathBuf {
    std::env::var_os("FAXLINE_TEST_BIN")
        .map(Into::into)
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_faxline").into())
}

/// `faxline api` as a child; SIGKILLed when dropped.
struct Api {
    child: Child,
    base: String,
    /// Standard error lines, read by a thread.
    stderr: std::sync::mpsc::Receiver<String>,
}

impl Api {
    fn start(config: &Path, failpoint: Option<&str>) -> Api {
        Self::start_limited(config, failpoint, None)
    }

    /// With `max_file_bytes`, under that file size limit (a multiple of 512).
    fn start_limited(config: &Path, failpoint: Option<&str>, max_file_bytes: Option<u64>) -> Api {
        let mut cmd = match max_file_bytes {
            None => Command::new(binary()),
            Some(bytes) => {
                let mut sh = Command::new("sh");
                sh.arg("-c")
                    .arg(format!(
                        "trap '' XFSZ; ulimit -f {}; exec \"$@\"",
                        bytes / 512
                    ))
                    .arg("sh")
                    .arg(binary());
                sh
            }
        };
        cmd.args(["api", "--config"])
            .arg(config)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(f) = failpoint {
            cmd.env("FAXLINE_TEST_FAILPOINT", f);
        }
        let mut child = cmd.spawn().expect("the faxline binary starts");
        let err = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let text = std::fs::read_to_string(config).unwrap();
        let listen = text
            .lines()
            .find_map(|l| l.strip_prefix("listen = "))
            .unwrap()
            .trim_matches('"')
            .to_owned();
        Api {
            child,
            base: format!("http://{listen}"),
            stderr: rx,
        }
    }

    async fn wait_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while reqwest::get(format!("{}/health", self.base))
            .await
            .map(|r| r.status() != 200)
            .unwrap_or(true)
        {
            assert!(Instant::now() < deadline, "faxline api did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits for a line on standard error containing `text`.
    fn wait_stderr(&self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(line) if line.contains(text) => return,
                Ok(_) => {}
                Err(e) => panic!("no {text:?} on faxline api's standard error: {e}"),
            }
        }
    }

    fn sigkill(mut self) {
        self.child.kill().unwrap();
        let status = self.child.wait().unwrap();
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(9), "{status:?}");
    }
}

impl Drop for Api {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn post_fax(
    base: &str,
) -> impl std::future::Future<Output = reqwest::Result<reqwest::Response>> + use<> {
    let pdf =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/pdf/dummy.pdf"))
            .unwrap();
    post_pdf(base, pdf)
}

fn post_pdf(
    base: &str,
    pdf: Vec<u8>,
) -> impl std::future::Future<Output = reqwest::Result<reqwest::Response>> + use<> {
    let form = reqwest::multipart::Form::new()
        .text("to", "+15551234567")
        .part(
            "file",
            reqwest::multipart::Part::bytes(pdf).file_name("doc.pdf"),
        );
    reqwest::Client::new()
        .post(format!("{base}/fax"))
        .header("X-API-Key", API_KEY)
        .multipart(form)
        .send()
}

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A valid one-page PDF of about `size` bytes: a line drawing whose content stream is padded
/// with comment lines.
fn padded_pdf(size: usize) -> Vec<u8> {
    let line = format!("%{}\n", "x".repeat(62));
    let mut content = line.repeat(size / line.len());
    content.push_str("0 0 m 100 100 l S\n");
    let mut pdf = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>".to_owned(),
        format!(
            "<< /Length {} >>\nstream\n{content}endstream",
            content.len()
        ),
    ];
    for (n, body) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", n + 1).as_bytes());
    }
    let xref = pdf.len();
    let mut table = String::from("xref\n0 5\n0000000000 65535 f \n");
    for o in offsets {
        table.push_str(&format!("{o:010} 00000 n \n"));
    }
    table.push_str(&format!(
        "trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    ));
    pdf.extend_from_slice(table.as_bytes());
    pdf
}

fn write_config(tmp: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let data = tmp.join("data");
    let docs = data.join("documents");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = tmp.join("faxline.toml");
    std::fs::write(
        &config,
        format!(
            "[api]\nlisten = \"127.0.0.1:{port}\"\ndata_dir = \"{}\"\nagent_secret = \"{AGENT_SECRET}\"\n\
             api_key = \"{API_KEY}\"\nstorage_backend = \"local\"\nstorage_dir = \"{}\"\n",
            data.display(),
            docs.display()
        ),
    )
    .unwrap();
    (config, data, docs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_disk_is_a_503_and_leaves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (config, data, docs) = write_config(tmp.path());
    // 2 MiB per file: room for the database and small documents, not for a 3 MiB one.
    let api = Api::start_limited(&config, None, Some(2 << 20));
    api.wait_healthy().await;
    let small = post_fax(&api.base).await.unwrap();
    assert_eq!(small.status(), 202);
    let small_id = small.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let big = padded_pdf(3 << 20);
    let r = post_pdf(&api.base, big.clone()).await.unwrap();
    assert_eq!(r.status(), 503);
    assert!(r.headers().contains_key("retry-after"));
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["detail"], "Document storage unavailable", "{body}");
    // Only the small job's file: no partial or temporary file of the big one.
    assert_eq!(files(&docs.join("jobs")), vec![small_id.clone()]);
    drop(api);

    let url = format!("sqlite://{}", data.join("faxline.db").display());
    let store = Store::connect_with(&url, &DocumentBackend::Local(docs.clone()))
        .await
        .unwrap();
    let (total, jobs) = store
        .jobs()
        .list(&faxline_api::store::JobFilter {
            owner_key_id: None,
            status: None,
            to_number: None,
            limit: 10,
            offset: 0,
        })
        .await
        .unwrap();
    assert_eq!(total, 1);
    assert_eq!(jobs[0].id, small_id);
    store.close().await;

    // Room again: the same upload is accepted and stored whole.
    let api = Api::start(&config, None);
    api.wait_healthy().await;
    let r = post_pdf(&api.base, big.clone()).await.unwrap();
    assert_eq!(r.status(), 202);
    let id = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(std::fs::read(docs.join("jobs").join(&id)).unwrap(), big);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_between_document_and_row_leaves_an_orphan_that_is_swept() {
    let tmp = tempfile::tempdir().unwrap();
    let (config, data, docs) = write_config(tmp.path());

    let api = Api::start(&config, Some("batch-documents-written"));
    api.wait_healthy().await;
    let pending = tokio::spawn(post_fax(&api.base));
    api.wait_stderr("failpoint batch-documents-written reached");
    // The document is on disk; its row is not committed. Kill the process right there.
    let written = files(&docs.join("jobs"));
    assert_eq!(written.len(), 1, "{written:?}");
    let orphan = written[0].clone();
    api.sigkill();
    let answer = pending.await.unwrap();
    assert!(
        answer.as_ref().map(|r| r.status() != 202).unwrap_or(true),
        "a 202 before the commit: {answer:?}"
    );

    // No row for the document (so no row without its document).
    let url = format!("sqlite://{}", data.join("faxline.db").display());
    let store = Store::connect_with(&url, &DocumentBackend::Local(docs.clone()))
        .await
        .unwrap();
    assert!(store.jobs().get(&orphan).await.unwrap().is_none());
    store.close().await;

    // An hour later, as far as the sweep can tell.
    std::fs::File::options()
        .write(true)
        .open(docs.join("jobs").join(&orphan))
        .unwrap()
        .set_modified(SystemTime::now() - Duration::from_secs(2 * 3600))
        .unwrap();
    let api = Api::start(&config, None);
    api.wait_healthy().await;
    // Retention runs a few seconds after start, the orphan sweep first.
    let deadline = Instant::now() + Duration::from_secs(60);
    while docs.join("jobs").join(&orphan).exists() {
        assert!(Instant::now() < deadline, "the orphan was not swept");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // And the restarted process stores jobs with their documents.
    let r = post_fax(&api.base).await.unwrap();
    assert_eq!(r.status(), 202);
    let id = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(files(&docs.join("jobs")), vec![id.clone()]);
    drop(api);
    let store = Store::connect_with(&url, &DocumentBackend::Local(docs.clone()))
        .await
        .unwrap();
    assert!(store.jobs().get(&id).await.unwrap().is_some());
    assert!(
        store
            .documents()
            .get(&DocumentId::Job(id))
            .await
            .unwrap()
            .is_some()
    );
    store.close().await;
}
