//! The MCP server with the official MCP Python SDK (`mcp` from PyPI) as the client, against a live
//! `faxline serve` on the loopback line: `faxline mcp` on stdio (the SDK starts it as a subprocess, with
//! the API's URL and a key in its environment) and `/mcp` on the API (Streamable HTTP with `X-API-Key`).
//! The script (`tests/mcp/mcp_client.py`) lists the tools, sends a PDF, polls it to SUCCESS, reads its
//! page image and the received copy (PDF resource and page image), and checks the refusals (a key
//! without `fax:send`, malformed arguments). Here: 401 on `/mcp` without or with a wrong key, and the
//! audit trail.
//!
//! The SDK is installed into a venv under the target directory on first run (`FAXLINE_MCP_PYTHON` may
//! name an interpreter that has it). Without Python the test is skipped, except with `CI=true`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{ADMIN_KEY, Client, Proc, fixtures, run};
use serde_json::Value;

/// The SDK version the test is written against.
const MCP_SDK: &str = "mcp==2.3.0";

/// A Python interpreter with the MCP SDK, or `None` (skip) outside CI when there is no Python 3.
fn python_with_sdk() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("FAXLINE_MCP_PYTHON") {
        return Some(PathBuf::from(p));
    }
    common::python_venv("mcp-sdk-venv", MCP_SDK)
}

/// `faxline serve` on the loopback line (time-compressed) with inbound on; its stderr into `log`.
async fn start_serve(dir: &Path, log: &Path) -> (Proc, Client) {
    let config = dir.join("faxline.toml");
    std::fs::write(
        &config,
        format!(
            "[api]\ndata_dir = \"{}\"\ninbound_enabled = true\n\n[line]\nkind = \"loopback\"\nspeed = 10\n\n\
             [fax]\nlocal_station_id = \"+1 555 0100\"\n\n[agent]\nlease_poll_secs = 1\n",
            dir.join("data").display()
        ),
    )
    .unwrap();
    let log = Stdio::from(std::fs::File::create(log).unwrap());
    common::start_serve(&config, common::free_port(), "info", log).await
}

async fn create_key(api: &Client, scopes: &[&str]) -> String {
    let r = reqwest::Client::new()
        .post(format!("{}/admin/api-keys", api.base))
        .header("X-API-Key", ADMIN_KEY)
        .json(&serde_json::json!({"name": "mcp test", "scopes": scopes}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    v["token"].as_str().unwrap().to_owned()
}

/// Runs the SDK script; its last line of output is its summary.
async fn sdk(py: &Path, args: Vec<String>) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp/mcp_client.py");
    let py = py.to_owned();
    let out = tokio::task::spawn_blocking(move || run(Command::new(py).arg(script).args(args)))
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.lines().last().unwrap_or(""))
        .unwrap_or_else(|e| panic!("SDK script summary: {e}: {stdout}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_python_sdk_over_stdio_and_http() {
    let Some(py) = tokio::task::spawn_blocking(python_with_sdk).await.unwrap() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("serve.log");
    let (_server, api) = start_serve(tmp.path(), &log).await;
    let key = create_key(
        &api,
        &["fax:send", "fax:read", "inbound:list", "inbound:read"],
    )
    .await;
    let read_only = create_key(&api, &["fax:read"]).await;
    let pdf = fixtures().join("pdf/dummy.pdf").display().to_string();

    // stdio: the SDK starts `faxline mcp`, which calls the API over HTTP with the key.
    let stdio = sdk(
        &py,
        vec![
            "stdio".into(),
            env!("CARGO_BIN_EXE_faxline").into(),
            api.base.clone(),
            key.clone(),
            read_only.clone(),
            pdf.clone(),
        ],
    )
    .await;
    // Streamable HTTP on the API itself.
    let http = sdk(
        &py,
        vec![
            "http".into(),
            format!("{}/mcp", api.base),
            key.clone(),
            read_only.clone(),
            pdf,
        ],
    )
    .await;

    // What the tools sent is what the REST API shows.
    for summary in [&stdio, &http] {
        let job = api.job(summary["job"].as_str().unwrap()).await;
        assert_eq!(job["status"], "SUCCESS", "{job}");
        assert_eq!(job["to"], "+15551234567", "{job}");
        // The received fax forwarded by reference became a job of its own.
        let forwarded = api.job(summary["forwarded"].as_str().unwrap()).await;
        assert_eq!(forwarded["to"], "+15551234567", "{forwarded}");
        assert_ne!(forwarded["id"], job["id"]);
    }
    assert_ne!(stdio["job"], http["job"]);

    // `/mcp` without a key, or with a wrong one: the API's 401, before any MCP processing.
    let init = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "curl", "version": "1"}}});
    let http = reqwest::Client::new();
    for key in [
        None,
        Some("fbk_live_nosuchkey_0123456789abcdef"),
        Some("garbage"),
    ] {
        let mut req = http
            .post(format!("{}/mcp", api.base))
            .header("Accept", "application/json, text/event-stream")
            .json(&init);
        if let Some(k) = key {
            req = req.header("X-API-Key", k);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 401, "{key:?}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["detail"], "Invalid or missing API key", "{key:?}");
    }
    // With the key, the same request initializes.
    let r = http
        .post(format!("{}/mcp", api.base))
        .header("Accept", "application/json, text/event-stream")
        .header("X-API-Key", &key)
        .json(&init)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("\"serverInfo\"") && body.contains("faxline"),
        "{body}"
    );

    // The audit log has each tool call and the API's own entries for the requests behind it; no
    // full number and no key appears anywhere in the log.
    let text = std::fs::read_to_string(&log).unwrap();
    for needle in [
        "mcp_tool_called",
        "tool=\"send_fax\"",
        "transport=\"http\"",
        "outcome=\"refused\"",
        "job_created",
        "api_key_denied_scope",
    ] {
        assert!(text.contains(needle), "{needle} missing from the log");
    }
    assert!(!text.contains("5551234567"), "a full number in the log");
    assert!(
        !text.contains(&key) && !text.contains(&read_only),
        "a key in the log"
    );
}
