//! Documents over real HTTP: page counts at submission, PNG previews (decoded with the image
//! crate), the Asterisk hook fed the TIFF-F a real Asterisk received (checked with poppler and
//! qpdf), and retention driven with an injected clock. On SQLite and PostgreSQL.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{ADMIN_KEY, Db, INTERNAL_SECRET, TestServer, fixture, http, send_fax};
use faxline_protocol::JobStatus;
use faxline_protocol::client::SendResult;
use serde_json::Value;

/// Letter at 204 × 196 dpi: 1728 pixels across, 792 pt / 72 × 196 rows.
const FULL_W: u32 = 1728;
const FULL_H: u32 = 2156;

async fn submit(s: &TestServer, name: &str, data: Vec<u8>) -> Value {
    let r = send_fax(s, ADMIN_KEY, "+15551234567", name, data).await;
    assert_eq!(r.status(), 202, "{name}");
    r.json().await.unwrap()
}

async fn get_json(s: &TestServer, key: &str, path: &str) -> (u16, Value) {
    let r = http()
        .get(s.url(path))
        .header("X-API-Key", key)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn preview(s: &TestServer, key: &str, path: &str) -> reqwest::Response {
    http()
        .get(s.url(path))
        .header("X-API-Key", key)
        .send()
        .await
        .unwrap()
}

/// Pages of a PDF according to poppler's pdfinfo, an independent reader.
fn pdfinfo_pages(pdf: &[u8]) -> usize {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.pdf");
    std::fs::write(&p, pdf).unwrap();
    let out = Command::new("pdfinfo").arg(&p).output().expect("pdfinfo");
    assert!(out.status.success(), "pdfinfo failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .expect("Pages line")
        .trim()
        .parse()
        .unwrap()
}

async fn pages_and_previews(db: Db) {
    let Some(s) = TestServer::start(db, |_| {}).await else {
        return;
    };
    // `pages` is filled at submission, and matches poppler's count.
    for name in ["dummy.pdf", "form-photo-a4.pdf", "gpl3-enscript.pdf"] {
        let pdf = fixture(&format!("pdf/{name}"));
        let expected = pdfinfo_pages(&pdf);
        let job = submit(&s, name, pdf).await;
        assert_eq!(job["pages"], expected, "{name}");
        let (code, again) = get_json(
            &s,
            ADMIN_KEY,
            &format!("/fax/{}", job["id"].as_str().unwrap()),
        )
        .await;
        assert_eq!(code, 200);
        assert_eq!(again["pages"], expected);
    }
    let text: String = (1..=150)
        .map(|i| format!("line {i} of the memo\n"))
        .collect();
    let memo = submit(&s, "memo.txt", text.into_bytes()).await;
    let memo_pages = memo["pages"].as_u64().expect("text pages counted");
    assert!(memo_pages >= 2, "150 lines fill more than one page");

    // Full-size preview of a PDF page: a real PNG, 1728 × 2156, with ink on it.
    let id = submit(&s, "dummy.pdf", fixture("pdf/dummy.pdf")).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = preview(&s, ADMIN_KEY, &format!("/fax/{id}/preview/1")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert!(
        r.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("no-store")
    );
    let img =
        image::load_from_memory_with_format(&r.bytes().await.unwrap(), image::ImageFormat::Png)
            .expect("PNG decodes")
            .to_luma8();
    assert_eq!(img.dimensions(), (FULL_W, FULL_H));
    let dark = img.pixels().filter(|p| p.0[0] < 128).count();
    assert!(dark > 1000, "the page has text on it ({dark} dark pixels)");
    assert!(dark < img.pixels().len() / 2, "and is mostly paper");

    // Thumbnail of the last text page; one past the end is 404.
    let r = preview(
        &s,
        ADMIN_KEY,
        &format!(
            "/fax/{}/preview/{memo_pages}?width=300",
            memo["id"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(r.status(), 200);
    let thumb = image::load_from_memory(&r.bytes().await.unwrap()).expect("PNG decodes");
    assert_eq!(thumb.width(), 300);
    assert_eq!(thumb.height(), FULL_H * 300 / FULL_W);
    let memo_id = memo["id"].as_str().unwrap();
    for bad in [
        format!("/fax/{memo_id}/preview/{}", memo_pages + 1),
        format!("/fax/{memo_id}/preview/0"),
        format!("/fax/{memo_id}/preview/x"),
        "/fax/0123456789abcdef0123456789abcdef/preview/1".to_string(),
    ] {
        let r = preview(&s, ADMIN_KEY, &bad).await;
        assert_eq!(r.status(), 404, "{bad}");
        assert!(r.json::<Value>().await.unwrap()["detail"].is_string());
    }
    let r = preview(&s, ADMIN_KEY, &format!("/fax/{id}/preview/1?width=abc")).await;
    assert_eq!(r.status(), 400);

    // Previews need a key with fax:read.
    let r = http()
        .get(s.url(&format!("/fax/{id}/preview/1")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let (_, send_only) = common::create_key(&s, &["fax:send"]).await;
    assert_eq!(
        preview(&s, &send_only, &format!("/fax/{id}/preview/1"))
            .await
            .status(),
        403
    );

    // A PDF that cannot be opened is refused at submission and nothing is stored.
    let (_, before) = get_json(&s, ADMIN_KEY, "/fax?limit=1").await;
    for (name, data) in [
        ("broken.pdf", b"%PDF-1.4\nthis is not a PDF body\n".to_vec()),
        ("locked.pdf", fixture("pdf/aes256-userpw.pdf")),
    ] {
        let r = send_fax(&s, ADMIN_KEY, "+15551234567", name, data).await;
        assert_eq!(r.status(), 400, "{name}");
        let detail = r.json::<Value>().await.unwrap()["detail"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(detail.starts_with("Cannot read the document"), "{detail}");
    }
    let (_, after) = get_json(&s, ADMIN_KEY, "/fax?limit=1").await;
    assert_eq!(before["total"], after["total"]);
}
both_stores!(previews, pages_and_previews);

fn write_spool(s: &TestServer, name: &str, data: &[u8]) -> String {
    let p = s.cfg.inbound_spool_dir.clone().unwrap().join(name);
    std::fs::write(&p, data).unwrap();
    p.display().to_string()
}

async fn hook(s: &TestServer, body: Value) -> reqwest::Response {
    http()
        .post(s.url("/_internal/asterisk/inbound"))
        .header("X-Internal-Secret", INTERNAL_SECRET)
        .json(&body)
        .send()
        .await
        .unwrap()
}

fn tool_ok(program: &str, args: &[&str], pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.pdf");
    std::fs::write(&p, pdf).unwrap();
    let out = Command::new(program)
        .args(args)
        .arg(&p)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(out.status.success(), "{program} rejected the PDF");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn asterisk_tiff(db: Db) {
    let Some(s) = TestServer::start(db, |_| {}).await else {
        return;
    };
    let (_, key) = common::create_key(&s, &["inbound:list", "inbound:read"]).await;
    // The TIFF-F Asterisk's ReceiveFAX wrote during a captured T.38 call (2 pages, 204 × 196).
    let tiff = fixture("captures/t38_fax_loopback_received.tif");
    let path = write_spool(&s, "1700000000.42.tiff", &tiff);
    let r = hook(
        &s,
        serde_json::json!({"tiff_path": path, "to_number": "+15551112222",
            "from_number": "+15553334444", "faxstatus": "SUCCESS", "uniqueid": "1700000000.42"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "ok");
    let id = v["id"].as_str().unwrap().to_string();
    let (code, row) = get_json(&s, &key, &format!("/inbound/{id}")).await;
    assert_eq!(code, 200);
    assert_eq!(
        row["pages"], 2,
        "counted from the TIFF when FAXPAGES is absent"
    );
    assert_eq!(row["fr"], "+15553334444");
    assert_eq!(row["backend"], "sip");
    let r = http()
        .get(s.url(&format!("/inbound/{id}/pdf")))
        .header("X-API-Key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let pdf = r.bytes().await.unwrap().to_vec();
    assert_eq!(row["size_bytes"], pdf.len());
    assert_eq!(pdfinfo_pages(&pdf), 2);
    tool_ok("qpdf", &["--check"], &pdf);
    let images = tool_ok("pdfimages", &["-list"], &pdf);
    assert_eq!(
        images.lines().filter(|l| l.contains("ccitt")).count(),
        2,
        "the CCITT data is passed through:\n{images}"
    );
    // Previews of the received pages: the second page full size, with ink; a thumbnail; no page 3.
    let r = preview(&s, &key, &format!("/inbound/{id}/preview/2")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    let img =
        image::load_from_memory_with_format(&r.bytes().await.unwrap(), image::ImageFormat::Png)
            .expect("PNG decodes")
            .to_luma8();
    assert_eq!(img.width(), 1728);
    let dark = img.pixels().filter(|p| p.0[0] < 128).count();
    assert!(
        dark > 1000,
        "the received page has ink ({dark} dark pixels)"
    );
    let r = preview(&s, &key, &format!("/inbound/{id}/preview/1?width=200")).await;
    assert_eq!(r.status(), 200);
    let thumb =
        image::load_from_memory_with_format(&r.bytes().await.unwrap(), image::ImageFormat::Png)
            .expect("PNG decodes");
    assert_eq!(thumb.width(), 200);
    let r = preview(&s, &key, &format!("/inbound/{id}/preview/3")).await;
    assert_eq!(r.status(), 404);

    // The same call again is stored once; FAXPAGES from Asterisk wins over the count.
    let path2 = write_spool(&s, "1700000000.43.tiff", &tiff);
    let r = hook(
        &s,
        serde_json::json!({"tiff_path": path2, "faxpages": "7", "uniqueid": "1700000000.43"}),
    )
    .await;
    let id2 = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        get_json(&s, &key, &format!("/inbound/{id2}")).await.1["pages"],
        7
    );
    let r = hook(
        &s,
        serde_json::json!({"tiff_path": path2, "uniqueid": "1700000000.43"}),
    )
    .await;
    assert_eq!(r.json::<Value>().await.unwrap()["id"], id2.as_str());

    // Not a fax file, a damaged TIFF, a TIFF outside the spool: refused, nothing stored.
    let png = write_spool(&s, "x.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
    assert_eq!(
        hook(&s, serde_json::json!({"tiff_path": png}))
            .await
            .status(),
        415
    );
    let cut = write_spool(&s, "cut.tiff", &tiff[..400]);
    let r = hook(&s, serde_json::json!({"tiff_path": cut})).await;
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap()["detail"],
        "Invalid fax TIFF"
    );
    let outside = s.dir.join("outside.tiff");
    std::fs::write(&outside, &tiff).unwrap();
    let r = hook(
        &s,
        serde_json::json!({"tiff_path": outside.display().to_string()}),
    )
    .await;
    assert_eq!(r.status(), 400);
    let (_, list) = get_json(&s, &key, "/inbound").await;
    assert_eq!(list.as_array().unwrap().len(), 2);
}
both_stores!(asterisk_hook_tiff, asterisk_tiff);

fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_micros() as i64
}

async fn pdf_via_link(s: &TestServer, id: &str) -> u16 {
    let r = http()
        .post(s.url(&format!("/fax/{id}/pdf-link")))
        .header("X-API-Key", ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let token = r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    http()
        .get(s.url(&format!("/fax/{id}/pdf?token={token}")))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn retention(db: Db) {
    let Some(s) = TestServer::start(db, |c| c.retention_days = 30).await else {
        return;
    };
    let (_, key) = common::create_key(&s, &["inbound:list", "inbound:read", "fax:read"]).await;
    let pdf = fixture("pdf/dummy.pdf");
    let done = submit(&s, "done.pdf", pdf.clone()).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let agent = s.agent("retention-agent");
    let jobs = agent.lease(Duration::from_secs(5), 1).await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].job_id, done);
    let result = SendResult {
        status: JobStatus::Success,
        error: None,
        pages: Some(1),
        provider_sid: Some("call-r".into()),
    };
    assert_eq!(
        agent.result(&jobs[0], &result).await.unwrap(),
        JobStatus::Success
    );
    let waiting = submit(&s, "waiting.pdf", pdf.clone()).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = write_spool(
        &s,
        "r.tiff",
        &fixture("captures/t38_fax_loopback_received.tif"),
    );
    let r = hook(
        &s,
        serde_json::json!({"tiff_path": path, "from_number": "+15553334444"}),
    )
    .await;
    let inbound = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let inbound_pdf = |id: String| {
        let key = key.clone();
        let url = s.url(&format!("/inbound/{id}/pdf"));
        async move {
            http()
                .get(url)
                .header("X-API-Key", key)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let (_, done_before) = get_json(&s, ADMIN_KEY, &format!("/fax/{done}")).await;
    let (_, inbound_before) = get_json(&s, &key, &format!("/inbound/{inbound}")).await;

    // Retention off, or nothing old enough yet: nothing goes.
    let now = now_us();
    assert_eq!(
        faxline_api::retention::run_once(&s.store, 0, now + 400 * 86_400_000_000)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        faxline_api::retention::run_once(&s.store, 30, now + 29 * 86_400_000_000)
            .await
            .unwrap(),
        0
    );
    assert_eq!(pdf_via_link(&s, &done).await, 200);
    assert_eq!(inbound_pdf(inbound.clone()).await, 200);

    // 31 days later: the finished job's document and the inbound PDF are deleted; the job still
    // waiting for an agent keeps its document.
    let later = now + 31 * 86_400_000_000;
    assert_eq!(
        faxline_api::retention::run_once(&s.store, 30, later)
            .await
            .unwrap(),
        2
    );
    assert_eq!(pdf_via_link(&s, &done).await, 404);
    assert_eq!(
        preview(&s, ADMIN_KEY, &format!("/fax/{done}/preview/1"))
            .await
            .status(),
        404
    );
    assert_eq!(inbound_pdf(inbound.clone()).await, 404);
    assert_eq!(pdf_via_link(&s, &waiting).await, 200);
    // The metadata is unchanged.
    assert_eq!(
        get_json(&s, ADMIN_KEY, &format!("/fax/{done}")).await,
        (200, done_before)
    );
    assert_eq!(
        get_json(&s, &key, &format!("/inbound/{inbound}")).await,
        (200, inbound_before)
    );
    // A second pass finds nothing more.
    assert_eq!(
        faxline_api::retention::run_once(&s.store, 30, later)
            .await
            .unwrap(),
        0
    );
}
both_stores!(retention_purges_documents, retention);

/// A render worker that cannot run is the server's problem, not the document's: 500, not 400;
/// text, counted in the server, is still accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_render_worker_is_not_blamed_on_the_document() {
    use faxline_doc::worker::{Isolation, WorkerCommand};
    let Some(s) = TestServer::start(Db::Sqlite, |c| {
        c.render.isolation = Isolation::Worker(WorkerCommand {
            program: "/nonexistent/faxline".into(),
            args: vec!["render-worker".into()],
        });
    })
    .await
    else {
        return;
    };
    let r = send_fax(
        &s,
        ADMIN_KEY,
        "+15551234567",
        "d.pdf",
        fixture("pdf/dummy.pdf"),
    )
    .await;
    assert_eq!(r.status(), 500);
    submit(&s, "t.txt", b"hello\n".to_vec()).await;
}
