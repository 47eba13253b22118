//! SignalWire's webhooks on the real API over HTTP (`/signalwire-callback`, Faxbot's route): only correctly
//! signed (Twilio-style HMAC-SHA1 over the public URL and the sorted fields), first-seen webhooks for a known
//! job are stored; missing, forged, tampered and replayed ones are 401 and change nothing. Received faxes are
//! downloaded from a local stand-in of the SignalWire space (Basic auth, PDF or TIFF, only from the space's
//! host, no redirects). The start-up refusal without the key, the local-development opt-out, and the
//! signature cross-checked both ways against Twilio's official Python SDK (`twilio` on PyPI, whose
//! `RequestValidator` SignalWire's signatures satisfy) and SignalWire's own (`signalwire` on PyPI).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::{ADMIN_KEY, Db, TestServer, fixture, http, one_page_pdf, send_fax};
use faxline_api::cloud::signalwire;
use faxline_api::config::{Config, Secret};
use faxline_protocol::JobStatus;
use serde_json::{Value, json};

/// The Twilio SDK this test checks against.
const SDK: &str = "twilio==9.13.0";
/// SignalWire's own Python SDK (its `RequestValidator` checks form webhooks the Twilio way, with the
/// Twilio SDK version it pins).
const SIGNALWIRE_SDK: &str = "signalwire==2.1.1";
const KEY: &str = "PSK_test_0b4e2f6a9c13d57e8f0a2b4c";
const PROJECT: &str = "a1b2c3d4-0000-4000-8000-00000000beef";
const TOKEN: &str = "PT_test_token_5e6f7a8b9c0d";
const CALLBACK: &str = "https://fax.example.org/signalwire-callback";

fn signalwire_on(cfg: &mut Config) {
    cfg.backend = "signalwire".into();
    cfg.signalwire_signing_key = Some(Secret::new(KEY));
}

fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn status_fields(sid: &str, status: &str) -> Vec<(String, String)> {
    let mut f = fields(&[
        ("AccountSid", PROJECT),
        ("ApiVersion", "2010-04-01"),
        ("Direction", "outbound"),
        ("FaxSid", sid),
        ("FaxStatus", status),
        ("From", "+15550009999"),
        ("To", "+15551230000"),
    ]);
    if status == "delivered" {
        f.push(("NumPages".into(), "2".into()));
    }
    if status == "failed" {
        f.push(("ErrorCode".into(), "15002".into()));
        f.push(("ErrorMessage".into(), "Fax transmission failed".into()));
    }
    f
}

/// Posts the form to the route with `query`, under `header` = `sig` when given.
async fn post(
    s: &TestServer,
    query: &str,
    form: &[(String, String)],
    sig: Option<(&str, String)>,
) -> (u16, String) {
    let path = if query.is_empty() {
        "/signalwire-callback".to_owned()
    } else {
        format!("/signalwire-callback?{query}")
    };
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let mut rb = http()
        .post(s.url(&path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    if let Some((h, v)) = sig {
        rb = rb.header(h, v);
    }
    let r = rb.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.text().await.unwrap_or_default())
}

/// Posts the form signed with the project's key for the public callback URL.
async fn post_signed(s: &TestServer, query: &str, form: &[(String, String)]) -> (u16, String) {
    let url = if query.is_empty() {
        CALLBACK.to_owned()
    } else {
        format!("{CALLBACK}?{query}")
    };
    let sig = signalwire::signature(KEY.as_bytes(), &url, form);
    post(s, query, form, Some(("X-SignalWire-Signature", sig))).await
}

fn detail(body: &str) -> Option<String> {
    serde_json::from_str::<Value>(body).ok()?["detail"]
        .as_str()
        .map(str::to_owned)
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
    r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A refused request: its query, its form, its signature header, the 401's reason.
type RefusedCase = (
    String,
    Vec<(String, String)>,
    Option<(&'static str, String)>,
    &'static str,
);

async fn status_webhooks(db: Db) {
    let Some(s) = TestServer::start(db, signalwire_on).await else {
        return;
    };
    assert_eq!(
        ready(&s).await["providers"]["signalwire"],
        json!({"webhooks": true, "verification_required": true, "key_configured": true,
            "callback_url": CALLBACK})
    );
    let job = leased_job(&s).await;
    let agent = s.agent("cloud1");
    assert_eq!(
        agent.lease(Duration::from_secs(5), 1).await.unwrap().len(),
        1
    );
    let sid = "b3877c40-da60-4998-90ad-b792e98472af";
    agent
        .provider_events(&job, "signalwire", sid, 0, Duration::ZERO)
        .await
        .unwrap();
    let query = format!("job_id={job}");
    let good = status_fields(sid, "delivered");
    let url = format!("{CALLBACK}?{query}");
    let sig = signalwire::signature(KEY.as_bytes(), &url, &good);

    // Refused, each with 401 and nothing stored.
    let mut tampered = good.clone();
    tampered[4].1 = "failed".into();
    let mut added = good.clone();
    added.push(("ErrorMessage".into(), "x".into()));
    let other_job = "0123456789abcdef0123456789abcdef";
    let cases: Vec<RefusedCase> = vec![
        (
            query.clone(),
            good.clone(),
            None,
            "Missing X-SignalWire-Signature",
        ),
        (
            query.clone(),
            good.clone(),
            Some((
                "X-SignalWire-Signature",
                signalwire::signature(b"another project's key", &url, &good),
            )),
            "Invalid webhook signature",
        ),
        // A success turned into a failure, or a field added, under the genuine signature.
        (
            query.clone(),
            tampered,
            Some(("X-SignalWire-Signature", sig.clone())),
            "Invalid webhook signature",
        ),
        (
            query.clone(),
            added,
            Some(("X-SignalWire-Signature", sig.clone())),
            "Invalid webhook signature",
        ),
        // The genuine signature moved to another job (the query is signed).
        (
            format!("job_id={other_job}"),
            good.clone(),
            Some(("X-SignalWire-Signature", sig.clone())),
            "Invalid webhook signature",
        ),
        // Signed for the URL as seen behind a proxy, not the public one SignalWire called.
        (
            query.clone(),
            good.clone(),
            Some((
                "X-SignalWire-Signature",
                signalwire::signature(
                    KEY.as_bytes(),
                    &s.url(&format!("/signalwire-callback?{query}")),
                    &good,
                ),
            )),
            "Invalid webhook signature",
        ),
        (
            query.clone(),
            good.clone(),
            Some(("X-SignalWire-Signature", "not base64!".into())),
            "Invalid webhook signature",
        ),
    ];
    for (q, form, sig, reason) in cases {
        let (st, body) = post(&s, &q, &form, sig).await;
        assert_eq!(
            (st, detail(&body).as_deref()),
            (401, Some(reason)),
            "{body}"
        );
    }
    let none = agent
        .provider_events(&job, "signalwire", sid, 0, Duration::ZERO)
        .await
        .unwrap();
    assert!(
        none.is_empty(),
        "a refused webhook stored something: {none:?}"
    );

    // Signed but wrong in content: malformed 400, a job Faxline does not know 404.
    assert_eq!(
        post_signed(&s, &query, &fields(&[("FaxStatus", "delivered")]))
            .await
            .0,
        400
    );
    assert_eq!(
        post_signed(&s, &query, &status_fields("../../etc", "delivered"))
            .await
            .0,
        400
    );
    assert_eq!(
        post_signed(&s, &query, &status_fields(sid, "exploded"))
            .await
            .0,
        400
    );
    assert_eq!(
        post_signed(
            &s,
            &format!("job_id={other_job}"),
            &status_fields(sid, "delivered")
        )
        .await
        .0,
        404
    );
    assert_eq!(
        post_signed(&s, "", &status_fields(sid, "delivered"))
            .await
            .0,
        404
    );
    let (st, body) = http()
        .post(s.url("/signalwire-callback"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .map(|r| (r.status().as_u16(), ()))
        .unwrap();
    assert_eq!((st, body), (415, ()));

    // The progress (under the Twilio-compatible header) and the genuine end reach the waiting agent.
    let progress = status_fields(sid, "sending");
    let psig = signalwire::signature(KEY.as_bytes(), &url, &progress);
    assert_eq!(
        post(&s, &query, &progress, Some(("X-Twilio-Signature", psig)))
            .await
            .0,
        200
    );
    let (st, body) = post(
        &s,
        &query,
        &good,
        Some(("X-SignalWire-Signature", sig.clone())),
    )
    .await;
    assert_eq!(
        (st, serde_json::from_str::<Value>(&body).unwrap()),
        (200, json!({"status": "ok"}))
    );
    let events = agent
        .provider_events(&job, "signalwire", sid, 0, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0].status, JobStatus::InProgress);
    assert_eq!(events[1].status, JobStatus::Success);
    assert_eq!(events[1].pages, Some(2));

    // The same webhook again is a replay: 401, nothing added.
    let (st, body) = post(&s, &query, &good, Some(("X-SignalWire-Signature", sig))).await;
    assert_eq!(
        (st, detail(&body).as_deref()),
        (401, Some("Replayed webhook"))
    );
    assert_eq!(
        agent
            .provider_events(&job, "signalwire", sid, 0, Duration::ZERO)
            .await
            .unwrap()
            .len(),
        2
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
}
both_stores!(status_webhooks_on, status_webhooks);

/// A stand-in of the SignalWire space's media: each path answers as named, only with the project's Basic
/// credentials.
async fn media_space() -> std::net::SocketAddr {
    use axum::routing::get;
    let want = format!("Basic {}", STANDARD.encode(format!("{PROJECT}:{TOKEN}")));
    let authed = move |headers: HeaderMap| {
        let want = want.clone();
        async move { headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(&want) }
    };
    let pdf = {
        let authed = authed.clone();
        move |h: HeaderMap| async move {
            if authed(h).await {
                (StatusCode::OK, one_page_pdf())
            } else {
                (StatusCode::UNAUTHORIZED, b"unauthorized".to_vec())
            }
        }
    };
    let tiff = {
        let authed = authed.clone();
        move |h: HeaderMap| async move {
            if authed(h).await {
                (StatusCode::OK, fixture("tiff/dummy_std_2p.tif"))
            } else {
                (StatusCode::UNAUTHORIZED, Vec::new())
            }
        }
    };
    let app = axum::Router::new()
        .route("/media/fax.pdf", get(pdf))
        .route("/media/fax.tif", get(tiff))
        .route("/media/text", get(|| async { "hello, not a fax" }))
        .route(
            "/media/moved",
            get(|| async {
                (
                    StatusCode::FOUND,
                    [("location", "http://localhost:9/media/fax.pdf")],
                )
            }),
        )
        .route(
            "/media/broken",
            get(|| async { StatusCode::INTERNAL_SERVER_ERROR }),
        )
        .route("/media/huge", get(|| async { vec![b'%'; 3 * 1024 * 1024] }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    addr
}

fn received(sid: &str, media_url: &str) -> Vec<(String, String)> {
    fields(&[
        ("AccountSid", PROJECT),
        ("Direction", "inbound"),
        ("FaxSid", sid),
        ("FaxStatus", "received"),
        ("From", "+15550001111"),
        ("To", "+15550002222"),
        ("NumPages", "1"),
        ("MediaUrl", media_url),
    ])
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

async fn inbound_faxes(db: Db) {
    let space = media_space().await;
    let Some(s) = TestServer::start(db, |c| {
        signalwire_on(c);
        c.signalwire_space_url = Some(format!("127.0.0.1:{}", space.port()));
        c.signalwire_project_id = Some(PROJECT.into());
        c.signalwire_api_token = Some(Secret::new(TOKEN));
        // The stand-in answers plain http on loopback.
        c.allow_insecure_public_url = true;
        c.max_file_size_mb = 1;
    })
    .await
    else {
        return;
    };
    let media = |p: &str| format!("http://127.0.0.1:{}/media/{p}", space.port());

    // An incoming fax: SignalWire is told to receive it and post the result back here.
    let (st, body) = post_signed(
        &s,
        "",
        &fields(&[("FaxSid", "in1"), ("Direction", "inbound")]),
    )
    .await;
    assert_eq!(st, 200);
    assert!(
        body.contains(&format!("<Receive action=\"{CALLBACK}\" method=\"POST\"/>")),
        "{body}"
    );

    // Unsigned or forged: 401 before anything is fetched.
    let good = received("in1", &media("fax.pdf"));
    assert_eq!(post(&s, "", &good, None).await.0, 401);
    let forged = signalwire::signature(b"forger", CALLBACK, &good);
    assert_eq!(
        post(&s, "", &good, Some(("X-SignalWire-Signature", forged)))
            .await
            .0,
        401
    );
    // Bad links, each refused with nothing stored (and retried by SignalWire where it may clear).
    for (link, want) in [
        // Another host than the space (the credentials would go there).
        (
            format!("http://localhost:{}/media/fax.pdf", space.port()),
            400,
        ),
        ("ftp://127.0.0.1/fax.pdf".to_owned(), 400),
        ("not a url".to_owned(), 400),
        (media("text"), 415),
        (media("moved"), 502),
        (media("broken"), 502),
        (media("huge"), 413),
    ] {
        let (st, body) = post_signed(&s, "", &received("in2", &link)).await;
        assert_eq!(st, want, "{link}: {body}");
    }
    assert!(inbound_list(&s).await.is_empty());

    // The genuine one is downloaded with the project's credentials and stored like any inbound fax.
    let (st, body) = post_signed(&s, "", &good).await;
    assert_eq!(st, 200, "{body}");
    let id = serde_json::from_str::<Value>(&body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let list = inbound_list(&s).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["backend"], "signalwire");
    let pdf = http()
        .get(s.url(&format!("/inbound/{id}/pdf")))
        .header("X-API-Key", ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(pdf.status(), 200);
    assert_eq!(
        pdf.bytes().await.unwrap().as_ref(),
        one_page_pdf().as_slice()
    );
    // Again: a replay, refused before the link is fetched.
    let (st, body) = post_signed(&s, "", &good).await;
    assert_eq!(
        (st, detail(&body).as_deref()),
        (401, Some("Replayed webhook"))
    );
    // A TIFF is stored as a PDF.
    let (st, body) = post_signed(&s, "", &received("in3", &media("fax.tif"))).await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(inbound_list(&s).await.len(), 2);
    // A failed reception is kept as a failed inbound fax, without a document.
    let failed = fields(&[
        ("FaxSid", "in4"),
        ("FaxStatus", "failed"),
        ("Direction", "inbound"),
        ("From", "+15550001111"),
        ("To", "+15550002222"),
    ]);
    let (st, body) = post_signed(&s, "", &failed).await;
    assert_eq!(st, 200, "{body}");
    let list = inbound_list(&s).await;
    assert_eq!(list.len(), 3);
    assert!(list.iter().any(|f| f["status"] == "failed"), "{list:?}");
}
both_stores!(inbound_faxes_on, inbound_faxes);

#[tokio::test]
async fn verification_is_required_unless_explicitly_off() {
    let mut cfg = Config {
        agent_secret: Some(Secret::new(common::AGENT_SECRET)),
        public_api_url: Some("https://fax.example.org".into()),
        backend: "signalwire".into(),
        ..Config::default()
    };
    let err = cfg.validate().unwrap_err().to_string();
    assert!(err.contains("SIGNALWIRE_WEBHOOK_SIGNING_KEY"), "{err}");
    cfg.signalwire_signing_key = Some(Secret::new(KEY));
    cfg.validate().unwrap();
    // SignalWire fetches documents from links under PUBLIC_API_URL, which must be https unless allowed.
    cfg.public_api_url = None;
    assert!(
        cfg.validate()
            .unwrap_err()
            .to_string()
            .contains("PUBLIC_API_URL")
    );
    cfg.public_api_url = Some("http://fax.example.org".into());
    assert!(cfg.validate().unwrap_err().to_string().contains("https"));
    // Faxbot's variables.
    let c = Config::load_with(None, |k| match k {
        "FAX_BACKEND" => Some("signalwire".into()),
        "SIGNALWIRE_WEBHOOK_SIGNING_KEY" => Some(KEY.into()),
        "SIGNALWIRE_VERIFY_SIGNATURE" => Some("false".into()),
        "SIGNALWIRE_CALLBACK_URL" => Some("https://edge.example.org/sw".into()),
        "SIGNALWIRE_SPACE_URL" => Some("Example.SignalWire.com".into()),
        "SIGNALWIRE_PROJECT_ID" => Some(PROJECT.into()),
        "SIGNALWIRE_API_TOKEN" => Some(TOKEN.into()),
        _ => None,
    })
    .unwrap();
    assert!(!c.signalwire_verify_signature);
    assert_eq!(
        c.signalwire_url().as_deref(),
        Some("https://edge.example.org/sw")
    );
    assert_eq!(
        c.signalwire_host().as_deref(),
        Some("example.signalwire.com")
    );
    assert_eq!(
        c.signalwire_signing_key.as_ref().map(|k| k.expose()),
        Some(KEY)
    );
    assert_eq!(
        c.signalwire_api_token.as_ref().map(|k| k.expose()),
        Some(TOKEN)
    );
    // The line's `[signalwire]` section in the shared file names the space, the project and the token's file.
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("signalwire_token");
    std::fs::write(&token_file, format!("{TOKEN}\n")).unwrap();
    let file = dir.path().join("faxline.toml");
    std::fs::write(
        &file,
        format!(
            "[api]\nbackend = \"signalwire\"\n\n[line]\nkind = \"signalwire\"\n\n[signalwire]\n\
             space_url = \"example.signalwire.com\"\nproject_id = \"{PROJECT}\"\napi_token_file = \"{}\"\n",
            token_file.display()
        ),
    )
    .unwrap();
    let c = Config::load_with(Some(&file), |_| None).unwrap();
    assert_eq!(
        c.signalwire_host().as_deref(),
        Some("example.signalwire.com")
    );
    assert_eq!(c.signalwire_project_id.as_deref(), Some(PROJECT));
    assert_eq!(
        c.signalwire_api_token.as_ref().map(|k| k.expose()),
        Some(TOKEN)
    );

    // With verification explicitly off (local development), unsigned webhooks are taken, and readiness
    // warns.
    let Some(s) = TestServer::start(Db::Sqlite, |c| {
        c.backend = "signalwire".into();
        c.signalwire_verify_signature = false;
    })
    .await
    else {
        return;
    };
    let r = ready(&s).await;
    assert_eq!(r["providers"]["signalwire"]["verification_required"], false);
    assert_eq!(r["providers"]["signalwire"]["key_configured"], false);
    assert!(
        r["warnings"]
            .to_string()
            .contains("SIGNALWIRE_VERIFY_SIGNATURE"),
        "{r}"
    );
    let job = leased_job(&s).await;
    assert_eq!(
        post(
            &s,
            &format!("job_id={job}"),
            &status_fields("s1", "queued"),
            None
        )
        .await
        .0,
        200
    );
}

#[tokio::test]
async fn the_signalwire_route_is_off_when_signalwire_is_not_configured() {
    let Some(s) = TestServer::start(Db::Sqlite, |_| {}).await else {
        return;
    };
    let (st, body) = post_signed(&s, "", &status_fields("s1", "queued")).await;
    assert_eq!(
        (st, detail(&body).as_deref()),
        (404, Some("SignalWire is not configured"))
    );
    assert_eq!(
        ready(&s).await["providers"]["signalwire"]["webhooks"],
        false
    );
}

fn run(cmd: &mut Command) -> std::process::Output {
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

/// A venv named `name` with `sdk` under the target directory (installed on first use); `None` (skip) outside
/// CI when there is no `python3` with `venv`. `.ci/deps` installs python3-venv, so CI runs it.
fn python_with_sdk(name: &str, sdk: &str) -> Option<PathBuf> {
    let has_python = Command::new("python3")
        .args(["-c", "import venv, ensurepip"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_python {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "python3 with venv is required in CI (.ci/deps installs it)"
        );
        eprintln!("SKIPPED: python3 with venv is not available");
        return None;
    }
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let py = venv.join("bin/python");
    let (package, version) = sdk.split_once("==").unwrap();
    let installed = py.exists()
        && Command::new(&py)
            .args([
                "-c",
                &format!(
                    "import importlib.metadata as m; assert m.version('{package}') == '{version}'"
                ),
            ])
            .status()
            .is_ok_and(|s| s.success());
    if !installed {
        run(Command::new("python3").args(["-m", "venv"]).arg(&venv));
        run(Command::new(&py).args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            sdk,
        ]));
    }
    Some(py)
}

/// The SDK's `RequestValidator.validate` accepts what we sign (and not the same signature over a changed
/// field), and its `compute_signature` makes a signature our route takes.
const PY: &str = r#"
import json, sys
from twilio.request_validator import RequestValidator
d = json.load(sys.stdin)
v = RequestValidator(d["key"])
params = dict(d["fields"])
ours_ok = v.validate(d["url"], params, d["signature"])
tampered = dict(params, FaxStatus="failed")
tampered_ok = v.validate(d["url"], tampered, d["signature"])
theirs = v.compute_signature(d["url2"], dict(d["fields2"]))
print(json.dumps({"sdk_verified_ours": ours_ok, "tampered_accepted": tampered_ok, "signature": theirs}))
"#;

/// The same with SignalWire's SDK: `validate` with the form as a dict, `build_signature_with_compatibility`.
const PY_SIGNALWIRE: &str = r#"
import json, sys
from signalwire.request_validator import RequestValidator
d = json.load(sys.stdin)
v = RequestValidator(d["key"])
params = dict(d["fields"])
ours_ok = v.validate(d["url"], params, d["signature"])
tampered_ok = v.validate(d["url"], dict(params, FaxStatus="failed"), d["signature"])
theirs = v.build_signature_with_compatibility(d["url2"], dict(d["fields2"]))
print(json.dumps({"sdk_verified_ours": ours_ok, "tampered_accepted": tampered_ok, "signature": theirs}))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_signature_matches_twilios_official_python_sdk() {
    cross_check("twilio-sdk-venv", SDK, PY, "1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_signature_matches_signalwires_official_python_sdk() {
    cross_check("signalwire-sdk-venv", SIGNALWIRE_SDK, PY_SIGNALWIRE, "3").await;
}

/// Signs with ours and validates with the SDK (and a tampered form is refused there), then posts a
/// webhook the SDK signed to our route (and the same signature over a changed form is refused).
async fn cross_check(venv: &'static str, sdk: &'static str, script: &'static str, n: &str) {
    let Some(py) = tokio::task::spawn_blocking(move || python_with_sdk(venv, sdk))
        .await
        .unwrap()
    else {
        return;
    };
    let Some(s) = TestServer::start(Db::Sqlite, signalwire_on).await else {
        return;
    };
    let job = leased_job(&s).await;
    let query = format!("job_id={job}");
    let url = format!("{CALLBACK}?{query}");
    let ours = status_fields(&format!("c0ffee00-0000-4000-8000-00000000000{n}"), "queued");
    let theirs = status_fields(&format!("c0ffee00-0000-4000-8000-10000000000{n}"), "queued");
    let input = json!({
        "key": KEY, "url": url, "fields": ours,
        "signature": signalwire::signature(KEY.as_bytes(), &url, &ours),
        "url2": url, "fields2": theirs,
    });
    let out = tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut child = Command::new(&py)
            .args(["-c", script])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.to_string().as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "the SDK check failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["sdk_verified_ours"], true,
        "the SDK refused our signature"
    );
    assert_eq!(
        v["tampered_accepted"], false,
        "the SDK check is not vacuous"
    );
    let sig = v["signature"].as_str().unwrap().to_owned();
    let mut tampered = theirs.clone();
    tampered[4].1 = "delivered".into();
    assert_eq!(
        post(
            &s,
            &query,
            &tampered,
            Some(("X-SignalWire-Signature", sig.clone()))
        )
        .await
        .0,
        401,
        "the SDK's signature covers the fields"
    );
    let (st, body) = post(&s, &query, &theirs, Some(("X-SignalWire-Signature", sig))).await;
    assert_eq!(
        (st, serde_json::from_str::<Value>(&body).unwrap()),
        (200, json!({"status": "ok"})),
        "our route takes a webhook the SDK signed"
    );
}
