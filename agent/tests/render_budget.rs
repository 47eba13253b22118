//! Hostile documents against the render budget, through the real `faxline` binary: the render
//! worker alone (a bomb the pre-scan cannot see dies in the worker, not in the caller), and
//! `faxline serve` end to end (bombs refused with 400 at submission, the one that gets through ends
//! FAILED with the reason, previews refused and cached, the server answering throughout with its
//! own peak memory far below what the documents ask for).

mod common;
#[path = "../../document/tests/hostile/mod.rs"]
mod hostile;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{ADMIN_KEY, Client, fixtures};
use faxline_document::worker::{Isolation, Job, Output, WorkerCommand};
use faxline_document::{DocError, RenderOptions};

fn worker() -> Isolation {
    Isolation::Worker(WorkerCommand {
        program: env!("CARGO_BIN_EXE_faxline").into(),
        args: vec!["render-worker".into()],
    })
}

/// A 20000×20000 inline image lives inside the content stream, where the pre-scan does not look;
/// in-process it takes ~500 MB. Under a 256 MB budget the worker hits its address-space limit
/// and dies alone.
#[test]
fn the_worker_contains_what_the_pre_scan_cannot_see() {
    let pdf = hostile::inline_image_bomb();
    let opts = RenderOptions {
        memory_limit: 256 << 20,
        ..RenderOptions::default()
    };
    let err = worker().run(Job::Render, &pdf, &opts).unwrap_err();
    assert!(matches!(err, DocError::OverBudget(_)), "{err:?}");
    assert!(err.to_string().contains("render budget"), "{err}");
}

/// A normal document through the worker is exactly what an in-process render makes; a refusal
/// keeps its type across the process boundary.
#[test]
fn the_worker_renders_like_the_library() {
    let pdf = std::fs::read(fixtures().join("pdf/dummy.pdf")).unwrap();
    let opts = RenderOptions::default();
    let local = faxline_document::render(&pdf, &opts).unwrap();
    let started = Instant::now();
    let Output::Tiff { tiff, pages } = worker().run(Job::Render, &pdf, &opts).unwrap() else {
        panic!("not a TIFF");
    };
    eprintln!("render of dummy.pdf in the worker: {:?}", started.elapsed());
    assert_eq!((pages, &tiff), (1, &local.tiff));
    assert_eq!(
        worker().run(Job::Count, &pdf, &opts).unwrap(),
        Output::Pages(1)
    );
    let err = worker()
        .run(
            Job::Preview {
                page: 3,
                width: None,
            },
            &pdf,
            &opts,
        )
        .unwrap_err();
    assert!(
        matches!(err, DocError::NoSuchPage { page: 3, pages: 1 }),
        "{err:?}"
    );
    let err = worker()
        .run(Job::Count, &hostile::image_bomb(), &opts)
        .unwrap_err();
    assert!(err.to_string().contains("60000×60000"), "{err}");
}

/// Page counts go to pooled workers, which answer one request after another: refusals and
/// answers keep coming in order, and a bomb that kills its pooled worker is still reported.
#[test]
fn pooled_page_counts_answer_in_order() {
    let pdf = std::fs::read(fixtures().join("pdf/dummy.pdf")).unwrap();
    let five = std::fs::read(fixtures().join("pdf/gs-man-groff.pdf")).unwrap();
    let bomb = hostile::image_bomb();
    let opts = RenderOptions {
        memory_limit: 256 << 20,
        ..RenderOptions::default()
    };
    let started = Instant::now();
    for _ in 0..10 {
        assert_eq!(
            worker().run(Job::Count, &pdf, &opts).unwrap(),
            Output::Pages(1)
        );
        assert!(matches!(
            worker().run(Job::Count, &bomb, &opts),
            Err(DocError::OverBudget(_))
        ));
        assert_eq!(
            worker().run(Job::Count, &five, &opts).unwrap(),
            Output::Pages(5)
        );
    }
    eprintln!("30 pooled page counts: {:?}", started.elapsed());
    // The inline image bomb is counted (counting does not render it); rendering it kills its worker.
    let inline = hostile::inline_image_bomb();
    assert_eq!(
        worker().run(Job::Count, &inline, &opts).unwrap(),
        Output::Pages(1)
    );
    assert!(matches!(
        worker().run(Job::Render, &inline, &opts),
        Err(DocError::OverBudget(_))
    ));
    assert_eq!(
        worker().run(Job::Count, &pdf, &opts).unwrap(),
        Output::Pages(1)
    );
}

/// A pooled count of a document larger than a pipe holds, from memory and read from a file a
/// piece at a time (as the API pipes a spooled upload), answers as in process; a file that
/// fails mid-read gives an error, not a hang or a worker out of step for the next count.
#[test]
fn pooled_page_counts_of_large_documents() {
    use std::io::Read;
    let opts = RenderOptions {
        memory_limit: 256 << 20,
        ..RenderOptions::default()
    };
    let path = fixtures().join("pdf/libtasn1.pdf");
    let big = std::fs::read(&path).unwrap();
    assert!(big.len() > 4 * 65536);
    let expected = faxline_document::count_pages(&big, &opts).unwrap();
    for _ in 0..3 {
        assert_eq!(
            worker().run(Job::Count, &big, &opts).unwrap(),
            Output::Pages(expected)
        );
        let open = || -> std::io::Result<Box<dyn Read + Send>> {
            Ok(Box::new(std::fs::File::open(&path)?))
        };
        assert_eq!(
            worker()
                .run_reader(Job::Count, big.len(), &open, &opts)
                .unwrap(),
            Output::Pages(expected)
        );
        // Claims more bytes than the file has: the read comes up short.
        let short = || -> std::io::Result<Box<dyn Read + Send>> {
            Ok(Box::new(std::fs::File::open(&path)?))
        };
        assert!(
            worker()
                .run_reader(Job::Count, big.len() + 70_000, &short, &opts)
                .is_err()
        );
    }
    let pdf = std::fs::read(fixtures().join("pdf/dummy.pdf")).unwrap();
    assert_eq!(
        worker().run(Job::Count, &pdf, &opts).unwrap(),
        Output::Pages(1)
    );
}

/// Kills the server however the test ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The server's peak resident memory so far (VmHWM), in MB.
fn peak_mb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb / 1024
}

async fn post(base: &str, name: &str, mime: &str, body: Vec<u8>) -> (u16, String) {
    let form = reqwest::multipart::Form::new()
        .text("to", "+15551234567")
        .part(
            "file",
            reqwest::multipart::Part::bytes(body)
                .file_name(name.to_owned())
                .mime_str(mime)
                .unwrap(),
        );
    let r = reqwest::Client::new()
        .post(format!("{base}/fax"))
        .header("X-API-Key", ADMIN_KEY)
        .multipart(form)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn healthy(base: &str) {
    let r = reqwest::get(format!("{base}/health")).await.unwrap();
    assert!(r.status().is_success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_survives_hostile_documents_within_its_budget() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("faxline.toml");
    std::fs::write(
        &config,
        format!(
            "[api]\ndata_dir = \"{}\"\n\n[line]\nkind = \"loopback\"\nspeed = 10\n\n\
             [agent]\nlease_poll_secs = 1\n\n[limits]\nrender_memory_mb = 256\nrender_seconds_per_page = 10\n",
            tmp.path().join("data").display()
        ),
    )
    .unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let base = format!("http://127.0.0.1:{port}");
    let server = Server(
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
    let pid = server.0.id();
    let start = Instant::now();
    while reqwest::get(format!("{base}/health")).await.is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "serve never came up"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let baseline = peak_mb(pid);
    eprintln!("serve peak at start: {baseline} MB");

    // Refused at submission, with the reason.
    for (name, mime, body, reason) in [
        (
            "image.pdf",
            "application/pdf",
            hostile::image_bomb(),
            "60000×60000",
        ),
        (
            "content.pdf",
            "application/pdf",
            hostile::content_bomb(300),
            "stream decodes",
        ),
        (
            "line.txt",
            "text/plain",
            hostile::one_long_line(9 << 20),
            "more than 100 pages",
        ),
    ] {
        let (status, text) = post(&base, name, mime, body).await;
        assert_eq!(status, 400, "{name}: {text}");
        assert!(text.contains(reason), "{name}: {text}");
        healthy(&base).await;
        eprintln!("serve peak after {name}: {} MB", peak_mb(pid));
    }

    // Counted fine (the bomb is inside the content stream), then over the budget where rendered.
    let (status, text) = post(
        &base,
        "inline.pdf",
        "application/pdf",
        hostile::inline_image_bomb(),
    )
    .await;
    assert_eq!(status, 202, "{text}");
    let id = serde_json::from_str::<serde_json::Value>(&text).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let api = Client { base: base.clone() };
    let preview = format!("{base}/fax/{id}/preview/1");
    for _ in 0..2 {
        // The second answer comes from the preview cache.
        let r = reqwest::Client::new()
            .get(&preview)
            .header("X-API-Key", ADMIN_KEY)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 422);
        assert!(r.text().await.unwrap().contains("render budget"));
        healthy(&base).await;
    }
    let job = api.final_job(&id).await;
    assert_eq!(job["status"], "FAILED", "{job}");
    assert!(job.to_string().contains("render budget"), "{job}");
    eprintln!(
        "serve peak after inline.pdf (render, 2 previews): {} MB",
        peak_mb(pid)
    );

    // Still serving: a normal fax goes through.
    let ok = api.submit("+15551234567").await;
    let job = api.final_job(&ok).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    let peak = peak_mb(pid);
    eprintln!("serve peak at the end: {peak} MB");
    // The documents asked for gigabytes; the server itself stays near its idle size.
    assert!(peak < 200, "serve peaked at {peak} MB");
}
