//! Telnyx's webhooks on the real API over HTTP: only correctly signed (Ed25519 over `timestamp|raw body`),
//! fresh, first-seen webhooks for a known job are stored; missing, forged, tampered, stale, future-dated and
//! replayed ones are 401 and change nothing. The start-up refusal without the key, the local-development
//! opt-out, and the signature scheme cross-checked both ways against Telnyx's official Python SDK
//! (`telnyx` on PyPI, whose webhook verifier uses PyNaCl).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::{ADMIN_KEY, Db, TestServer, http, one_page_pdf, send_fax};
use ed25519_dalek::SigningKey;
use faxline_api::cloud::telnyx;
use faxline_api::config::{Config, Secret};
use faxline_protocol::JobStatus;
use serde_json::{Value, json};

/// The Telnyx SDK this test checks against (and the PyNaCl its verifier imports).
const SDK: &str = "telnyx==4.189.0";
const PYNACL: &str = "pynacl==1.6.2";

fn key() -> SigningKey {
    SigningKey::from_bytes(&[0x5a; 32])
}

fn public_key_b64() -> String {
    STANDARD.encode(key().verifying_key().to_bytes())
}

fn telnyx_on(cfg: &mut Config) {
    cfg.backend = "telnyx".into();
    cfg.telnyx_public_key = Some(public_key_b64());
}

fn now() -> i64 {
    faxline_protocol::time::now_s()
}

fn webhook(event_id: &str, event_type: &str, job: &str, fax_id: &str) -> String {
    let mut payload = json!({"fax_id": fax_id, "connection_id": "234423", "direction": "outbound",
        "from": "+15550009999", "to": "+15551230000", "status": event_type.trim_start_matches("fax."),
        "client_state": faxline_protocol::telnyx::client_state(job)});
    if event_type == "fax.delivered" {
        payload["page_count"] = 2.into();
    }
    if event_type == "fax.failed" {
        payload["failure_reason"] = "user_busy".into();
    }
    json!({"data": {"record_type": "event", "id": event_id, "event_type": event_type,
        "occurred_at": "2026-12-04T10:00:00.000000Z", "payload": payload}, "meta": {"attempt": 1}})
    .to_string()
}

/// Posts `body` with the given timestamp and signature headers.
async fn post(s: &TestServer, body: &str, ts: Option<String>, sig: Option<String>) -> (u16, Value) {
    let mut rb = http()
        .post(s.url("/telnyx-callback"))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(ts) = ts {
        rb = rb.header("telnyx-timestamp", ts);
    }
    if let Some(sig) = sig {
        rb = rb.header("telnyx-signature-ed25519", sig);
    }
    let r = rb.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Posts `body` signed now with the account's key.
async fn post_signed(s: &TestServer, body: &str) -> (u16, Value) {
    let t = now();
    let sig = telnyx::signature(&key(), t, body.as_bytes());
    post(s, body, Some(t.to_string()), Some(sig)).await
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

async fn status_webhooks(db: Db) {
    let Some(s) = TestServer::start(db, telnyx_on).await else {
        return;
    };
    // What an operator checks after a deploy.
    assert_eq!(
        ready(&s).await["providers"]["telnyx"],
        json!({"webhooks": true, "verification_required": true, "key_configured": true,
            "callback_url": "https://fax.example.org/telnyx-callback"})
    );
    let r = send_fax(&s, ADMIN_KEY, "+15551230000", "doc.pdf", one_page_pdf()).await;
    assert_eq!(r.status(), 202);
    let job = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let agent = s.agent("cloud1");
    assert_eq!(
        agent.lease(Duration::from_secs(5), 1).await.unwrap().len(),
        1
    );
    // The agent's signed link to the document: this job's PDF under PUBLIC_API_URL.
    let link = agent.document_link(&job).await.unwrap();
    assert!(
        link.url
            .starts_with(&format!("https://fax.example.org/fax/{job}/pdf?token=")),
        "{}",
        link.url
    );
    assert!(link.expires_at > now());
    let token = link.url.split_once("?token=").unwrap().1;
    let pdf = http()
        .get(s.url(&format!("/fax/{job}/pdf?token={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(pdf.status(), 200);
    assert_eq!(
        pdf.bytes().await.unwrap().as_ref(),
        one_page_pdf().as_slice()
    );
    // Only for the agent holding the lease.
    assert!(s.agent("intruder").document_link(&job).await.is_err());

    let sid = "f8338808-3dc6-4f2b-942a-5d1f39255784";
    agent
        .provider_events(&job, "telnyx", sid, 0, Duration::ZERO)
        .await
        .unwrap();
    let good = webhook(
        "95479a2e-b947-470a-a88f-2da6dd07ae0f",
        "fax.delivered",
        &job,
        sid,
    );
    let t = now();
    let sig = telnyx::signature(&key(), t, good.as_bytes());

    // Refused, each with 401 and nothing stored.
    let cases: Vec<(Option<String>, Option<String>, String, &str)> = vec![
        (
            None,
            None,
            good.clone(),
            "Missing telnyx-signature-ed25519 or telnyx-timestamp",
        ),
        (
            Some(t.to_string()),
            None,
            good.clone(),
            "Missing telnyx-signature-ed25519 or telnyx-timestamp",
        ),
        (
            Some(t.to_string()),
            Some(telnyx::signature(
                &SigningKey::from_bytes(&[1; 32]),
                t,
                good.as_bytes(),
            )),
            good.clone(),
            "Invalid webhook signature",
        ),
        // Another body (a success turned into a failure) under the genuine signature.
        (
            Some(t.to_string()),
            Some(sig.clone()),
            good.replace("fax.delivered", "fax.failed"),
            "Invalid webhook signature",
        ),
        // The genuine signature moved to another timestamp.
        (
            Some((t - 1).to_string()),
            Some(sig.clone()),
            good.clone(),
            "Invalid webhook signature",
        ),
        (
            Some(t.to_string()),
            Some("not base64!".into()),
            good.clone(),
            "Invalid webhook signature",
        ),
        // Well past the 300 s tolerance: the server reads its own clock later than `t`, so a
        // second ticking over on a slow machine must not move a case across the edge (the exact
        // edges are unit-tested with an injected clock in `cloud::telnyx`).
        (
            Some((t - 400).to_string()),
            Some(telnyx::signature(&key(), t - 400, good.as_bytes())),
            good.clone(),
            "Stale webhook",
        ),
        (
            Some((t + 400).to_string()),
            Some(telnyx::signature(&key(), t + 400, good.as_bytes())),
            good.clone(),
            "Webhook timestamp is in the future",
        ),
    ];
    for (ts, sig, body, reason) in cases {
        let (st, answer) = post(&s, &body, ts, sig).await;
        assert_eq!((st, answer["detail"].as_str()), (401, Some(reason)));
    }
    let none = agent
        .provider_events(&job, "telnyx", sid, 0, Duration::ZERO)
        .await
        .unwrap();
    assert!(
        none.is_empty(),
        "a refused webhook stored something: {none:?}"
    );

    // Signed but wrong in content: malformed 400, a job Faxline does not know 404.
    assert_eq!(post_signed(&s, "{not json").await.0, 400);
    assert_eq!(
        post_signed(&s, &good.replace(sid, "../../etc")).await.0,
        400
    );
    let unknown = webhook(
        "95479a2e-b947-470a-a88f-000000000001",
        "fax.delivered",
        "0123456789abcdef0123456789abcdef",
        sid,
    );
    assert_eq!(post_signed(&s, &unknown).await.0, 404);
    // An event Faxline does not act on is acknowledged, so Telnyx does not retry it.
    let other = webhook(
        "95479a2e-b947-470a-a88f-000000000002",
        "fax.email.delivered",
        &job,
        sid,
    );
    assert_eq!(
        post_signed(&s, &other).await,
        (200, json!({"status": "ignored"}))
    );

    // The progress and the genuine end reach the waiting agent.
    let progress = webhook(
        "95479a2e-b947-470a-a88f-000000000003",
        "fax.sending.started",
        &job,
        sid,
    );
    assert_eq!(post_signed(&s, &progress).await.0, 200);
    let (st, body) = post(&s, &good, Some(t.to_string()), Some(sig.clone())).await;
    assert_eq!((st, &body), (200, &json!({"status": "ok"})));
    let events = agent
        .provider_events(&job, "telnyx", sid, 0, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0].status, JobStatus::InProgress);
    assert_eq!(events[1].status, JobStatus::Success);
    assert_eq!(events[1].pages, Some(2));

    // The same webhook again is a replay: 401, nothing added.
    let (st, body) = post(&s, &good, Some(t.to_string()), Some(sig)).await;
    assert_eq!(
        (st, body["detail"].as_str()),
        (401, Some("Replayed webhook"))
    );
    let all = agent
        .provider_events(&job, "telnyx", sid, 0, Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(all.len(), 2);
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

#[tokio::test]
async fn verification_is_required_unless_explicitly_off() {
    let mut cfg = Config {
        agent_secret: Some(Secret::new(common::AGENT_SECRET)),
        public_api_url: Some("https://fax.example.org".into()),
        backend: "telnyx".into(),
        ..Config::default()
    };
    let err = cfg.validate().unwrap_err().to_string();
    assert!(err.contains("TELNYX_PUBLIC_KEY"), "{err}");
    cfg.telnyx_public_key = Some("bm90IGEga2V5".into());
    let err = cfg.validate().unwrap_err().to_string();
    assert!(err.contains("32 bytes"), "{err}");
    cfg.telnyx_public_key = Some(public_key_b64());
    cfg.validate().unwrap();
    // Telnyx fetches documents from links under PUBLIC_API_URL, which must be https unless allowed.
    cfg.public_api_url = None;
    assert!(
        cfg.validate()
            .unwrap_err()
            .to_string()
            .contains("PUBLIC_API_URL")
    );
    cfg.public_api_url = Some("http://fax.example.org".into());
    assert!(cfg.validate().unwrap_err().to_string().contains("https"));
    // The environment, and the line's `[telnyx] public_key` in the shared file.
    let c = Config::load_with(None, |k| match k {
        "FAX_BACKEND" => Some("telnyx".into()),
        "TELNYX_PUBLIC_KEY" => Some(public_key_b64()),
        "TELNYX_VERIFY_SIGNATURE" => Some("false".into()),
        "TELNYX_WEBHOOK_MAX_AGE_SECONDS" => Some("120".into()),
        _ => None,
    })
    .unwrap();
    assert!(!c.telnyx_verify_signature);
    assert_eq!(c.telnyx_max_age_seconds, 120);
    assert!(c.telnyx_key().is_some());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("faxline.toml");
    std::fs::write(
        &file,
        format!(
            "[api]\nbackend = \"telnyx\"\n\n[line]\nkind = \"telnyx\"\n\n[telnyx]\npublic_key = \"{}\"\n",
            public_key_b64()
        ),
    )
    .unwrap();
    let c = Config::load_with(Some(&file), |_| None).unwrap();
    assert_eq!(c.telnyx_public_key, Some(public_key_b64()));

    // With verification explicitly off (local development), unsigned webhooks are taken, and readiness
    // warns.
    let Some(s) = TestServer::start(Db::Sqlite, |c| {
        c.backend = "telnyx".into();
        c.telnyx_verify_signature = false;
    })
    .await
    else {
        return;
    };
    let r = ready(&s).await;
    assert_eq!(r["providers"]["telnyx"]["verification_required"], false);
    assert_eq!(r["providers"]["telnyx"]["key_configured"], false);
    assert!(
        r["warnings"]
            .to_string()
            .contains("TELNYX_VERIFY_SIGNATURE"),
        "{r}"
    );
    let job = send_fax(&s, ADMIN_KEY, "+15551230000", "doc.pdf", one_page_pdf())
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = webhook(
        "95479a2e-b947-470a-a88f-000000000009",
        "fax.queued",
        &job,
        "f1",
    );
    assert_eq!(post(&s, &body, None, None).await.0, 200);
}

#[tokio::test]
async fn the_telnyx_route_is_off_when_telnyx_is_not_configured() {
    let Some(s) = TestServer::start(Db::Sqlite, |_| {}).await else {
        return;
    };
    let (st, body) = post_signed(&s, "{}").await;
    assert_eq!(
        (st, body["detail"].as_str()),
        (404, Some("Telnyx is not configured"))
    );
    assert_eq!(ready(&s).await["providers"]["telnyx"]["webhooks"], false);
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

/// A venv with Telnyx's SDK and PyNaCl under the target directory (installed on first use); `None` (skip)
/// outside CI when there is no `python3` with `venv`. `.ci/deps` installs python3-venv, so CI runs it.
fn python_with_sdk() -> Option<PathBuf> {
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
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("telnyx-sdk-venv");
    let py = venv.join("bin/python");
    let (package, version) = SDK.split_once("==").unwrap();
    let installed = py.exists()
        && Command::new(&py)
            .args([
                "-c",
                &format!(
                    "import importlib.metadata as m, nacl; assert m.version('{package}') == '{version}'"
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
            SDK,
            PYNACL,
        ]));
    }
    Some(py)
}

/// The SDK's verifier (`telnyx.lib.webhook_verification.verify_webhook_signature`) checks what we sign, and
/// a webhook signed in Python with PyNaCl is taken by our route (and the same body with one byte changed is
/// not).
const PY: &str = r#"
import json, sys, time, base64
from nacl.signing import SigningKey
from telnyx.lib.webhook_verification import verify_webhook_signature, WebhookVerificationError
d = json.load(sys.stdin)
# Ours, checked by the SDK; then the same signature over another body must fail there too.
verify_webhook_signature(d["body"], {"Telnyx-Signature-Ed25519": d["signature"], "Telnyx-Timestamp": d["timestamp"]}, d["public_key"])
try:
    verify_webhook_signature(d["body"] + " ", {"telnyx-signature-ed25519": d["signature"], "telnyx-timestamp": d["timestamp"]}, d["public_key"])
    tampered_accepted = True
except WebhookVerificationError:
    tampered_accepted = False
# Theirs: PyNaCl signs `timestamp|body` with the account's key.
key = SigningKey(bytes.fromhex(d["seed_hex"]))
ts = str(int(time.time()))
sig = key.sign(f"{ts}|{d['body2']}".encode()).signature
print(json.dumps({"sdk_verified_ours": True, "tampered_accepted": tampered_accepted,
                  "timestamp": ts, "signature": base64.b64encode(sig).decode()}))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheme_matches_telnyxs_official_python_sdk() {
    let Some(py) = tokio::task::spawn_blocking(python_with_sdk).await.unwrap() else {
        return;
    };
    let Some(s) = TestServer::start(Db::Sqlite, telnyx_on).await else {
        return;
    };
    let job = send_fax(&s, ADMIN_KEY, "+15551230000", "doc.pdf", one_page_pdf())
        .await
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = webhook(
        "95479a2e-b947-470a-a88f-0000000000a1",
        "fax.queued",
        &job,
        "f1",
    );
    let body2 = webhook(
        "95479a2e-b947-470a-a88f-0000000000a2",
        "fax.queued",
        &job,
        "f1",
    );
    let t = now();
    let input = json!({
        "body": body, "body2": body2, "timestamp": t.to_string(),
        "signature": telnyx::signature(&key(), t, body.as_bytes()),
        "public_key": public_key_b64(), "seed_hex": hex::encode(key().to_bytes()),
    });
    let out = tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut child = Command::new(&py)
            .args(["-c", PY])
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
        "the SDK refused our signature:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["sdk_verified_ours"], true);
    assert_eq!(
        v["tampered_accepted"], false,
        "the SDK check is not vacuous"
    );
    let ts = v["timestamp"].as_str().unwrap().to_owned();
    let sig = v["signature"].as_str().unwrap().to_owned();
    let tampered = body2.replace("fax.queued", "fax.failed");
    assert_eq!(
        post(&s, &tampered, Some(ts.clone()), Some(sig.clone()))
            .await
            .0,
        401,
        "Python's signature covers the body"
    );
    assert_eq!(
        post(&s, &body2, Some(ts), Some(sig)).await,
        (200, json!({"status": "ok"})),
        "our route takes a webhook PyNaCl signed"
    );
}
