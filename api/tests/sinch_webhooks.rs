//! Sinch's webhooks on the real API over HTTP: `/sinch-callback` (a sent fax's `FAX_COMPLETED`, named by the
//! `?job_id=` the line put into its `callbackUrl`) and `/sinch-inbound` (Faxbot's route, `INCOMING_FAX`).
//! Sinch's Fax API signs no webhook; the Basic credentials in the callback URL are its authentication, so
//! they are required: missing or wrong credentials are 401 and change nothing, replays are refused, bodies
//! in both of Sinch's content types (JSON with the document base64, multipart with the document as a `file`
//! part) are read, and a received fax without its document is downloaded from a local stand-in of Sinch's
//! `GET /v3/projects/{projectId}/faxes/{id}/file` with the project's access key. The start-up refusal
//! without credentials and the local-development opt-out.

mod common;

use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::{ADMIN_KEY, Db, TestServer, fixture, http, one_page_pdf, send_fax};
use faxline_api::cloud::sinch;
use faxline_api::config::{Config, Secret};
use faxline_protocol::JobStatus;
use serde_json::{Value, json};

const USER: &str = "sinch-hooks";
const PASSWORD: &str = "6d1f0b9e4c7a2f58e3b1d0c9a7f6e5d4";
const PROJECT: &str = "9a8b7c6d-0000-4000-8000-00000000cafe";
const KEY_ID: &str = "2f3e4d5c-1111-4111-8111-0000000000aa";
const KEY_SECRET: &str = "kS3cr3t-test-9f8e7d6c5b4a";

fn sinch_on(cfg: &mut Config) {
    cfg.backend = "sinch".into();
    cfg.sinch_webhook_user = Some(USER.into());
    cfg.sinch_webhook_password = Some(Secret::new(PASSWORD));
}

fn good_auth() -> String {
    sinch::basic_header(USER, PASSWORD)
}

/// A `FAX_COMPLETED` event as JSON.
fn completed(fax_id: &str, status: &str) -> String {
    let mut fax = json!({"id": fax_id, "direction": "OUTBOUND", "status": status,
        "to": "+15551230000", "from": "+15550009999", "numberOfPages": 2,
        "createTime": "2026-12-05T01:00:00Z", "completedTime": "2026-12-05T01:01:00Z"});
    if status == "FAILURE" {
        fax["errorType"] = "CALL_ERROR".into();
        fax["errorCode"] = 17.into();
        fax["errorMessage"] = "Busy".into();
    }
    json!({"event": "FAX_COMPLETED", "eventTime": "2026-12-05T01:01:00Z", "fax": fax}).to_string()
}

/// Posts a JSON body to `route` with the given `Authorization`.
async fn post_json(s: &TestServer, route: &str, body: &str, auth: Option<String>) -> (u16, Value) {
    let mut rb = http()
        .post(s.url(route))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(a) = auth {
        rb = rb.header("authorization", a);
    }
    let r = rb.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Posts a multipart event as Sinch does by default: `event`, `eventTime`, `fax` (JSON text), `file`.
async fn post_form(
    s: &TestServer,
    route: &str,
    event: &str,
    fax: &Value,
    file: Option<Vec<u8>>,
    auth: Option<String>,
) -> (u16, Value) {
    let mut form = reqwest::multipart::Form::new()
        .text("event", event.to_owned())
        .text("eventTime", "2026-12-05T01:01:00Z")
        .text("fax", fax.to_string());
    if let Some(f) = file {
        form = form.part(
            "file",
            reqwest::multipart::Part::bytes(f)
                .file_name("fax.pdf")
                .mime_str("application/pdf")
                .unwrap(),
        );
    }
    let mut rb = http().post(s.url(route)).multipart(form);
    if let Some(a) = auth {
        rb = rb.header("authorization", a);
    }
    let r = rb.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn ready(s: &TestServer) -> Value {
    http()
        .get(s.url("/health/ready"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn leased_job(s: &TestServer) -> String {
    let r = send_fax(s, ADMIN_KEY, "+15551230000", "doc.pdf", one_page_pdf()).await;
    assert_eq!(r.status(), 202);
    let job = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let leased = s
        .agent("cloud1")
        .lease(Duration::from_secs(5), 1)
        .await
        .unwrap();
    assert_eq!(leased.len(), 1);
    job
}

async fn status_webhooks(db: Db) {
    let Some(s) = TestServer::start(db, sinch_on).await else {
        return;
    };
    // What an operator checks after a deploy.
    assert_eq!(
        ready(&s).await["providers"]["sinch"],
        json!({"webhooks": true, "verification": "basic_auth", "verification_required": true,
            "key_configured": true,
            "callback_url": "https://fax.example.org/sinch-callback",
            "inbound_url": "https://fax.example.org/sinch-inbound"})
    );
    let job = leased_job(&s).await;
    let agent = s.agent("cloud1");
    let sid = "01HFAXS3ND0000000000000001";
    // The line's long poll names the fax: from then on its events reach it.
    agent
        .provider_events(&job, "sinch", sid, 0, Duration::ZERO)
        .await
        .unwrap();
    let route = format!("/sinch-callback?job_id={job}");
    let good = completed(sid, "COMPLETED");

    // Refused, each with 401 and nothing stored.
    for (auth, reason) in [
        (None, "Missing Basic credentials"),
        (
            Some(format!("Bearer {PASSWORD}")),
            "Missing Basic credentials",
        ),
        (
            Some("Basic not-base64!".into()),
            "Missing Basic credentials",
        ),
        (
            Some(sinch::basic_header(
                USER,
                "6d1f0b9e4c7a2f58e3b1d0c9a7f6e5d5",
            )),
            "Invalid webhook credentials",
        ),
        (
            Some(sinch::basic_header("someone", PASSWORD)),
            "Invalid webhook credentials",
        ),
        (
            Some(sinch::basic_header(KEY_ID, KEY_SECRET)),
            "Invalid webhook credentials",
        ),
    ] {
        let (st, answer) = post_json(&s, &route, &good, auth.clone()).await;
        assert_eq!(
            (st, answer["detail"].as_str()),
            (401, Some(reason)),
            "{auth:?}"
        );
    }
    let none = agent
        .provider_events(&job, "sinch", sid, 0, Duration::ZERO)
        .await
        .unwrap();
    assert!(
        none.is_empty(),
        "a refused webhook stored something: {none:?}"
    );

    // Authenticated but wrong in content: malformed 400, a job Faxline does not know 404, not a form 415.
    for bad in [
        "{not json".to_owned(),
        json!({"event": "FAX_COMPLETED"}).to_string(),
        completed("../../etc", "COMPLETED"),
        completed(sid, "SENT"),
        json!({"event": "INCOMING_FAX", "fax": {"id": "x1"}, "file": "@@@"}).to_string(),
    ] {
        let (st, answer) = post_json(&s, &route, &bad, Some(good_auth())).await;
        assert_eq!(st, 400, "{bad}: {answer}");
    }
    assert_eq!(
        post_json(
            &s,
            "/sinch-callback?job_id=0123456789abcdef0123456789abcdef",
            &good,
            Some(good_auth())
        )
        .await
        .0,
        404
    );
    assert_eq!(
        post_json(&s, "/sinch-callback", &good, Some(good_auth()))
            .await
            .0,
        404,
        "no job named"
    );
    let r = http()
        .post(s.url(&route))
        .header("authorization", good_auth())
        .header("content-type", "text/plain")
        .body(good.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 415);
    // An event Faxline does not act on is acknowledged, so Sinch does not retry it.
    let other =
        json!({"event": "FAX_DELETED", "fax": {"id": sid, "status": "COMPLETED"}}).to_string();
    assert_eq!(
        post_json(&s, &route, &other, Some(good_auth())).await,
        (200, json!({"status": "ignored"}))
    );

    // The genuine end reaches the waiting agent, with its pages.
    let (st, body) = post_json(&s, &route, &good, Some(good_auth())).await;
    assert_eq!((st, &body), (200, &json!({"status": "ok"})));
    let events = agent
        .provider_events(&job, "sinch", sid, 0, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].status, JobStatus::Success);
    assert_eq!(events[0].pages, Some(2));

    // The same webhook again (Sinch retries; or someone replays it) is refused, nothing added.
    let (st, body) = post_json(&s, &route, &good, Some(good_auth())).await;
    assert_eq!(
        (st, body["detail"].as_str()),
        (401, Some("Replayed webhook"))
    );
    assert_eq!(
        agent
            .provider_events(&job, "sinch", sid, 0, Duration::ZERO)
            .await
            .unwrap()
            .len(),
        1
    );
    // The job itself is the agent's to finish.
    let j: Value = http()
        .get(s.url(&format!("/fax/{job}")))
        .header("X-API-Key", ADMIN_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(j["status"], "in_progress");

    // Sinch's default content type, multipart with the sent document attached: a failure with its reason.
    let job2 = leased_job(&s).await;
    let sid2 = "01HFAXS3ND0000000000000002";
    agent
        .provider_events(&job2, "sinch", sid2, 0, Duration::ZERO)
        .await
        .unwrap();
    let fax: Value =
        serde_json::from_str::<Value>(&completed(sid2, "FAILURE")).unwrap()["fax"].clone();
    let route2 = format!("/sinch-callback?job_id={job2}");
    let (st, body) = post_form(
        &s,
        &route2,
        "FAX_COMPLETED",
        &fax,
        Some(one_page_pdf()),
        None,
    )
    .await;
    assert_eq!(
        (st, body["detail"].as_str()),
        (401, Some("Missing Basic credentials"))
    );
    let (st, body) = post_form(
        &s,
        &route2,
        "FAX_COMPLETED",
        &fax,
        Some(one_page_pdf()),
        Some(good_auth()),
    )
    .await;
    assert_eq!(st, 200, "{body}");
    let events = agent
        .provider_events(&job2, "sinch", sid2, 0, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].status, JobStatus::Failed);
    assert_eq!(events[0].error.as_deref(), Some("Busy (CALL_ERROR 17)"));
    let seen = events[0].seq;
    // An event naming another job's fax does not reach this job's line.
    let cross = format!("/sinch-callback?job_id={job}");
    let (st, _) = post_json(&s, &cross, &completed(sid2, "COMPLETED"), Some(good_auth())).await;
    assert_eq!(st, 200);
    let events = agent
        .provider_events(&job2, "sinch", sid2, seen, Duration::ZERO)
        .await
        .unwrap();
    assert!(events.is_empty(), "{events:?}");
}
both_stores!(status_webhooks_on, status_webhooks);

/// A stand-in of Sinch's `GET /v3/projects/{projectId}/faxes/{id}/file`: each fax id answers as named, only
/// with the project's access key.
async fn sinch_files() -> std::net::SocketAddr {
    use axum::extract::Path;
    use axum::routing::get;
    let want = format!(
        "Basic {}",
        STANDARD.encode(format!("{KEY_ID}:{KEY_SECRET}"))
    );
    let file = move |Path((project, id)): Path<(String, String)>, h: HeaderMap| {
        let want = want.clone();
        async move {
            if h.get("authorization").and_then(|v| v.to_str().ok()) != Some(want.as_str()) {
                return (
                    StatusCode::UNAUTHORIZED,
                    br#"{"code":"401","error":"Unauthorized"}"#.to_vec(),
                );
            }
            if project != PROJECT {
                return (StatusCode::NOT_FOUND, b"{}".to_vec());
            }
            match id.as_str() {
                "in-pdf" => (StatusCode::OK, one_page_pdf()),
                "in-tif" => (StatusCode::OK, fixture("tiff/dummy_std_2p.tif")),
                "in-text" => (StatusCode::OK, b"hello, not a fax".to_vec()),
                "in-broken" => (StatusCode::INTERNAL_SERVER_ERROR, Vec::new()),
                _ => (
                    StatusCode::NOT_FOUND,
                    br#"{"code":"404","error":"Not found"}"#.to_vec(),
                ),
            }
        }
    };
    let app = axum::Router::new().route("/v3/projects/{project}/faxes/{id}/file", get(file));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    addr
}

fn incoming_fax(id: &str, status: &str) -> Value {
    json!({"id": id, "direction": "INBOUND", "status": status, "from": "+15550001111",
        "to": "+15550002222", "numberOfPages": 1, "createTime": "2026-12-05T01:00:00Z"})
}

fn incoming_json(id: &str, file: Option<&[u8]>) -> String {
    let mut e = json!({"event": "INCOMING_FAX", "eventTime": "2026-12-05T01:01:00Z",
        "fax": incoming_fax(id, "COMPLETED")});
    if let Some(f) = file {
        e["file"] = STANDARD.encode(f).into();
        e["fileType"] = "PDF".into();
    }
    e.to_string()
}

async fn inbound_list(s: &TestServer) -> Vec<Value> {
    http()
        .get(s.url("/inbound"))
        .header("X-API-Key", ADMIN_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn inbound_pdf(s: &TestServer, id: &str) -> Vec<u8> {
    let r = http()
        .get(s.url(&format!("/inbound/{id}/pdf")))
        .header("X-API-Key", ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.bytes().await.unwrap().to_vec()
}

async fn inbound_faxes(db: Db) {
    let files = sinch_files().await;
    let Some(s) = TestServer::start(db, |c| {
        sinch_on(c);
        c.sinch_project_id = Some(PROJECT.into());
        c.sinch_key_id = Some(KEY_ID.into());
        c.sinch_key_secret = Some(Secret::new(KEY_SECRET));
        c.sinch_base_url = format!("http://127.0.0.1:{}/v3", files.port());
        // The stand-in answers plain http on loopback.
        c.allow_insecure_public_url = true;
        c.max_file_size_mb = 1;
    })
    .await
    else {
        return;
    };
    let route = "/sinch-inbound";

    // Unauthenticated or forged: 401 before anything is read or fetched.
    let with_pdf = incoming_json("in-1", Some(&one_page_pdf()));
    assert_eq!(post_json(&s, route, &with_pdf, None).await.0, 401);
    assert_eq!(
        post_json(&s, route, &with_pdf, Some(sinch::basic_header(USER, "x")))
            .await
            .0,
        401
    );
    assert!(inbound_list(&s).await.is_empty());

    // The document in the event (JSON, base64): stored like any inbound fax.
    let (st, body) = post_json(&s, route, &with_pdf, Some(good_auth())).await;
    assert_eq!(st, 200, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    let list = inbound_list(&s).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["backend"], "sinch");
    assert_eq!(list[0]["fr"], "+15550001111");
    assert_eq!(list[0]["to"], "+15550002222");
    assert_eq!(inbound_pdf(&s, &id).await, one_page_pdf());
    // Again: a replay.
    let (st, body) = post_json(&s, route, &with_pdf, Some(good_auth())).await;
    assert_eq!(
        (st, body["detail"].as_str()),
        (401, Some("Replayed webhook"))
    );

    // Multipart with the PDF as the `file` part (Sinch's default): spooled as it arrives, stored as it
    // came; a TIFF part is stored as PDF; anything else, or more than the upload limit, is refused.
    let (st, body) = post_form(
        &s,
        route,
        "INCOMING_FAX",
        &incoming_fax("in-2", "COMPLETED"),
        Some(one_page_pdf()),
        Some(good_auth()),
    )
    .await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(
        inbound_pdf(&s, body["id"].as_str().unwrap()).await,
        one_page_pdf()
    );
    let (st, body) = post_form(
        &s,
        route,
        "INCOMING_FAX",
        &incoming_fax("in-2-tif", "COMPLETED"),
        Some(common::fixture("tiff/dummy_std_2p.tif")),
        Some(good_auth()),
    )
    .await;
    assert_eq!(st, 200, "{body}");
    assert!(
        inbound_pdf(&s, body["id"].as_str().unwrap())
            .await
            .starts_with(b"%PDF")
    );
    for (fax_id, file, want) in [
        ("in-2-gif", b"GIF89a not a fax".to_vec(), 415),
        ("in-2-huge", vec![b'%'; 1024 * 1024 + 10], 413),
    ] {
        let (st, body) = post_form(
            &s,
            route,
            "INCOMING_FAX",
            &incoming_fax(fax_id, "COMPLETED"),
            Some(file),
            Some(good_auth()),
        )
        .await;
        assert_eq!(st, want, "{fax_id}: {body}");
    }
    assert_eq!(inbound_list(&s).await.len(), 3);

    // Without the document: downloaded from Sinch with the access key (PDF, or TIFF stored as PDF).
    let (st, body) = post_json(&s, route, &incoming_json("in-pdf", None), Some(good_auth())).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(
        inbound_pdf(&s, body["id"].as_str().unwrap()).await,
        one_page_pdf()
    );
    let (st, body) = post_json(&s, route, &incoming_json("in-tif", None), Some(good_auth())).await;
    assert_eq!(st, 200, "{body}");
    assert!(
        inbound_pdf(&s, body["id"].as_str().unwrap())
            .await
            .starts_with(b"%PDF")
    );
    assert_eq!(inbound_list(&s).await.len(), 5);

    // Trouble at Sinch or in the document: a clear error, nothing stored, so Sinch retries where it may clear.
    for (fax_id, want) in [("in-text", 415), ("in-broken", 502), ("in-missing", 502)] {
        let (st, body) =
            post_json(&s, route, &incoming_json(fax_id, None), Some(good_auth())).await;
        assert_eq!(st, want, "{fax_id}: {body}");
    }
    let (st, _) = post_json(
        &s,
        route,
        &incoming_json("in-3", Some(b"GIF89a not a fax")),
        Some(good_auth()),
    )
    .await;
    assert_eq!(st, 415);
    // Larger than the upload limit (1 MB): refused.
    let huge = vec![b'%'; 1024 * 1024 + 10];
    let (st, _) = post_json(
        &s,
        route,
        &incoming_json("in-4", Some(&huge)),
        Some(good_auth()),
    )
    .await;
    assert_eq!(st, 413);
    assert_eq!(inbound_list(&s).await.len(), 5);

    // A failed reception is kept as a failed inbound fax, without a document.
    let failed =
        json!({"event": "INCOMING_FAX", "fax": incoming_fax("in-5", "FAILURE")}).to_string();
    let (st, body) = post_json(&s, route, &failed, Some(good_auth())).await;
    assert_eq!(st, 200, "{body}");
    let list = inbound_list(&s).await;
    assert_eq!(list.len(), 6);
    assert!(list.iter().any(|f| f["status"] == "failed"), "{list:?}");

    // Sinch's download refused with a wrong access key: 502, nothing stored.
    drop(s);
    let Some(s) = TestServer::start(Db::Sqlite, |c| {
        sinch_on(c);
        c.sinch_project_id = Some(PROJECT.into());
        c.sinch_key_id = Some(KEY_ID.into());
        c.sinch_key_secret = Some(Secret::new("wrong-key-secret-0000"));
        c.sinch_base_url = format!("http://127.0.0.1:{}/v3", files.port());
        c.allow_insecure_public_url = true;
    })
    .await
    else {
        return;
    };
    let (st, body) = post_json(&s, route, &incoming_json("in-pdf", None), Some(good_auth())).await;
    assert_eq!(st, 502, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("HTTP 401"),
        "{body}"
    );
    assert!(inbound_list(&s).await.is_empty());
}
both_stores!(inbound_faxes_on, inbound_faxes);

#[tokio::test]
async fn authentication_is_required_unless_explicitly_off() {
    let mut cfg = Config {
        agent_secret: Some(Secret::new(common::AGENT_SECRET)),
        public_api_url: Some("https://fax.example.org".into()),
        backend: "sinch".into(),
        ..Config::default()
    };
    let err = cfg.validate().unwrap_err().to_string();
    assert!(err.contains("SINCH_INBOUND_BASIC_USER"), "{err}");
    cfg.sinch_webhook_user = Some(USER.into());
    assert!(cfg.validate().is_err(), "a user without a password");
    // Weak, reused, equal to the user, or not fit for a URL: refused, without the value in the message.
    for (pw, want) in [
        ("password1234567890", ""),
        ("aaaaaaaaaaaaaaaaaaaaaaaa", ""),
        ("9c4f2a7e1b8d3f60", "same value"),
        ("7Hq2/Lx9+Vw4#Pm8:Tz6", "letters, digits"),
    ] {
        cfg.sinch_webhook_password = Some(Secret::new(pw));
        cfg.phaxio_callback_token = Some(Secret::new("9c4f2a7e1b8d3f60"));
        let err = cfg.validate().unwrap_err().to_string();
        assert!(err.contains(want), "{pw}: {err}");
        assert!(!err.contains(pw), "the secret is in the message: {err}");
    }
    cfg.phaxio_callback_token = None;
    cfg.sinch_webhook_password = Some(Secret::new(PASSWORD));
    cfg.validate().unwrap();
    cfg.sinch_webhook_user = Some(PASSWORD.into());
    assert!(cfg.validate().is_err(), "the password as the user name");
    cfg.sinch_webhook_user = Some(USER.into());
    cfg.sinch_base_url = "http://fax.api.sinch.com/v3".into();
    assert!(cfg.validate().unwrap_err().to_string().contains("https"));

    // Faxbot's names in the environment, and the line's `[sinch]` section of the shared file.
    let c = Config::load_with(None, |k| match k {
        "FAX_BACKEND" => Some("sinch".into()),
        "SINCH_INBOUND_BASIC_USER" => Some(USER.into()),
        "SINCH_INBOUND_BASIC_PASS" => Some(PASSWORD.into()),
        "SINCH_INBOUND_VERIFY_SIGNATURE" => Some("false".into()),
        "SINCH_PROJECT_ID" => Some(PROJECT.into()),
        "SINCH_API_KEY" => Some(KEY_ID.into()),
        "SINCH_API_SECRET" => Some(KEY_SECRET.into()),
        "SINCH_BASE_URL" => Some("https://eu1.fax.api.sinch.com/v3".into()),
        // Faxbot fell back to Phaxio's credentials; Faxline does not.
        "PHAXIO_API_SECRET" => Some("phaxio-secret-not-sinchs".into()),
        _ => None,
    })
    .unwrap();
    assert!(!c.sinch_verify_auth);
    assert_eq!(c.sinch_credentials(), Some((USER, PASSWORD)));
    assert_eq!(c.sinch_key_secret.as_ref().unwrap().expose(), KEY_SECRET);
    assert_eq!(c.sinch_host().as_deref(), Some("eu1.fax.api.sinch.com"));
    let dir = tempfile::tempdir().unwrap();
    let pw_file = dir.path().join("sinch_webhook_password");
    std::fs::write(&pw_file, format!("{PASSWORD}\n")).unwrap();
    let file = dir.path().join("faxline.toml");
    std::fs::write(
        &file,
        format!(
            "[api]\nbackend = \"sinch\"\n\n[line]\nkind = \"sinch\"\n\n[sinch]\nproject_id = \"{PROJECT}\"\n\
             key_id = \"{KEY_ID}\"\nwebhook_user = \"{USER}\"\nwebhook_password_file = \"{}\"\n",
            pw_file.display()
        ),
    )
    .unwrap();
    let c = Config::load_with(Some(&file), |_| None).unwrap();
    assert_eq!(c.sinch_credentials(), Some((USER, PASSWORD)));
    assert_eq!(c.sinch_project_id.as_deref(), Some(PROJECT));
    assert!(c.sinch_verify_auth);
    assert_eq!(c.sinch_base_url, "https://fax.api.sinch.com/v3");

    // With authentication explicitly off (local development), webhooks without credentials are taken, and
    // readiness warns.
    let Some(s) = TestServer::start(Db::Sqlite, |c| {
        c.backend = "sinch".into();
        c.sinch_verify_auth = false;
    })
    .await
    else {
        return;
    };
    let r = ready(&s).await;
    assert_eq!(r["providers"]["sinch"]["verification_required"], false);
    assert_eq!(r["providers"]["sinch"]["key_configured"], false);
    assert!(
        r["warnings"]
            .to_string()
            .contains("SINCH_VERIFY_WEBHOOK_AUTH"),
        "{r}"
    );
    let job = leased_job(&s).await;
    let (st, body) = post_json(
        &s,
        &format!("/sinch-callback?job_id={job}"),
        &completed("f1", "COMPLETED"),
        None,
    )
    .await;
    assert_eq!(st, 200, "{body}");
}

#[tokio::test]
async fn the_sinch_routes_are_off_when_sinch_is_not_configured() {
    let Some(s) = TestServer::start(Db::Sqlite, |_| {}).await else {
        return;
    };
    for route in ["/sinch-callback", "/sinch-inbound"] {
        let (st, body) = post_json(&s, route, "{}", Some(good_auth())).await;
        assert_eq!(
            (st, body["detail"].as_str()),
            (404, Some("Sinch is not configured")),
            "{route}"
        );
    }
    assert_eq!(ready(&s).await["providers"]["sinch"]["webhooks"], false);
}
