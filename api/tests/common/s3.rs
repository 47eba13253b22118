//! A real S3-protocol server on 127.0.0.1 for the storage tests: moto's server (installed by
//! `.ci/s3-server` into a venv), shared by every test of a process. `FAXLINE_TEST_S3_ENDPOINT`
//! points at one already running (`.ci/test` starts one for the whole suite); otherwise the first
//! test starts one on a free port, which ends with the test process (its shell wrapper waits on
//! our end of a pipe). Each test gets a bucket of its own.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use faxline_api::config::Secret;
use faxline_api::store::{S3Settings, ServerSideEncryption};

/// The server's access key and secret (moto accepts any).
pub const ACCESS_KEY: &str = "faxline-test";
pub const SECRET_KEY: &str = "faxline-test-secret";

struct Started {
    endpoint: String,
    /// Held for the life of the process: closing it stops the server.
    _child: Mutex<(Child, ChildStdin)>,
}

static SERVER: OnceLock<String> = OnceLock::new();
static OWN: OnceLock<Started> = OnceLock::new();

/// The endpoint (`http://127.0.0.1:PORT`), starting the server if needed.
pub fn endpoint() -> String {
    SERVER
        .get_or_init(|| {
            if let Ok(e) = std::env::var("FAXLINE_TEST_S3_ENDPOINT")
                && !e.is_empty()
            {
                wait_ready(&e);
                return e;
            }
            OWN.get_or_init(start).endpoint.clone()
        })
        .clone()
}

fn start() -> Started {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.ci/s3-server");
    let out = Command::new(&script)
        .env(
            "FAXLINE_S3_SERVER_VENV",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("s3-server-venv"),
        )
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {}: {e} (Python 3 with venv/pip is needed)",
                script.display()
            )
        });
    assert!(out.status.success(), "{} failed", script.display());
    let server = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // The wrapper stops the server when our end of its standard input closes (this process ends).
    let mut child = Command::new("sh")
        .args([
            "-c",
            r#""$0" -H 127.0.0.1 -p "$1" >/dev/null 2>&1 & pid=$!; cat >/dev/null; kill $pid"#,
        ])
        .arg(&server)
        .arg(port.to_string())
        .stdin(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {server}: {e}"));
    let stdin = child.stdin.take().unwrap();
    let endpoint = format!("http://127.0.0.1:{port}");
    wait_ready(&endpoint);
    Started {
        endpoint,
        _child: Mutex::new((child, stdin)),
    }
}

/// One plain HTTP/1.1 request (moto does not check signatures on bucket management); the status.
fn request(endpoint: &str, method: &str, path: &str) -> std::io::Result<u16> {
    let host = endpoint.trim_start_matches("http://");
    let mut c = TcpStream::connect(host)?;
    c.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        c,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    let mut head = [0u8; 12];
    c.read_exact(&mut head)?;
    let text = String::from_utf8_lossy(&head);
    text.get(9..12)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line {text:?}")))
}

fn wait_ready(endpoint: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if request(endpoint, "GET", "/moto-api/").is_ok_and(|s| s == 200) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the S3 server at {endpoint} did not answer within 60 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A new empty bucket; its name.
pub fn bucket() -> String {
    let e = endpoint();
    let name = format!("faxline-{}", uuid::Uuid::new_v4().simple());
    let status = request(&e, "PUT", &format!("/{name}")).expect("create bucket");
    assert_eq!(status, 200, "create bucket {name}");
    name
}

/// Settings for a fresh bucket on the test server, with `encryption`.
pub fn settings(encryption: ServerSideEncryption) -> S3Settings {
    S3Settings {
        bucket: bucket(),
        prefix: "faxline/docs".into(),
        region: Some("us-east-1".into()),
        endpoint_url: Some(endpoint()),
        path_style: true,
        access_key_id: Some(ACCESS_KEY.into()),
        secret_access_key: Some(Secret::new(SECRET_KEY)),
        encryption,
        timeout: faxline_api::store::DEFAULT_S3_TIMEOUT,
    }
}

/// A client of its own for `settings`' bucket, to look at objects behind the store's back.
pub fn client(settings: &S3Settings) -> object_store::aws::AmazonS3 {
    object_store::aws::AmazonS3Builder::new()
        .with_bucket_name(&settings.bucket)
        .with_region("us-east-1")
        .with_endpoint(endpoint())
        .with_allow_http(true)
        .with_access_key_id(ACCESS_KEY)
        .with_secret_access_key(SECRET_KEY)
        .build()
        .unwrap()
}

/// The response headers of a (signed) HEAD of `key`, or `None` for 404.
pub async fn head_object(settings: &S3Settings, key: &str) -> Option<reqwest::header::HeaderMap> {
    use object_store::signer::Signer;
    let url = client(settings)
        .signed_url(
            reqwest::Method::HEAD,
            &object_store::path::Path::from(key),
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    let r = reqwest::Client::new()
        .head(url.as_str())
        .send()
        .await
        .unwrap();
    match r.status().as_u16() {
        404 => None,
        200 => Some(r.headers().clone()),
        s => panic!("HEAD {key}: {s}"),
    }
}

/// The raw content of `key`, or `None` when there is none.
pub async fn raw_object(settings: &S3Settings, key: &str) -> Option<bytes::Bytes> {
    use object_store::ObjectStoreExt;
    match client(settings)
        .get(&object_store::path::Path::from(key))
        .await
    {
        Ok(r) => Some(r.bytes().await.unwrap()),
        Err(object_store::Error::NotFound { .. }) => None,
        Err(e) => panic!("GET {key}: {e}"),
    }
}

/// Every key in the bucket, to find what a test left behind.
pub async fn keys(settings: &S3Settings) -> Vec<String> {
    use futures::TryStreamExt;
    use object_store::ObjectStore;
    client(settings)
        .list(None)
        .map_ok(|m| m.location.to_string())
        .try_collect()
        .await
        .unwrap()
}
