//! Phaxio as the tests play it: the callback token, the public URL of `/phaxio-inbound`, the fields
//! of a received fax, and a post of one the way Phaxio sends it (multipart, the PDF as `file`).

use faxline_api::config::{Config, Secret};
use serde_json::{Value, json};

use super::{TestServer, http};

pub const TOKEN: &str = "9f2c7a41d08e6b35c1a7f90e24d6b8c3";
pub const CALLBACK: &str = "https://fax.example.org/phaxio-callback";
pub const INBOUND: &str = "https://fax.example.org/phaxio-inbound";

/// Phaxio as the line, with signed callbacks.
pub fn phaxio_on(cfg: &mut Config) {
    cfg.backend = "phaxio".into();
    cfg.phaxio_callback_token = Some(Secret::new(TOKEN));
}

/// An RFC 3339 time `secs_ago` seconds ago.
pub fn rfc3339(secs_ago: i64) -> String {
    let t = faxline_protocol::time::now_us() - secs_ago * 1_000_000;
    format!("{}Z", faxline_protocol::time::iso(t))
}

/// The fields of a received fax `sid`, completed ten seconds ago.
pub fn inbound_fields(sid: u64) -> Vec<(String, String)> {
    let fax = json!({
        "id": sid, "direction": "received", "status": "success", "num_pages": 1, "is_test": false,
        "from_number": "+15550001111", "to_number": "+15550002222",
        "created_at": rfc3339(20), "completed_at": rfc3339(10),
    });
    vec![
        ("success".into(), "true".into()),
        ("is_test".into(), "false".into()),
        ("direction".into(), "received".into()),
        ("fax".into(), fax.to_string()),
    ]
}

/// Posts a received fax to `/phaxio-inbound` with `sig` as its signature; the status and the
/// JSON answer (`Null` when there is none).
pub async fn post_inbound(
    s: &TestServer,
    fields: &[(String, String)],
    file: &[u8],
    sig: &str,
) -> (u16, Value) {
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in fields {
        form = form.text(k.clone(), v.clone());
    }
    form = form.part(
        "file",
        reqwest::multipart::Part::bytes(file.to_vec())
            .file_name("fax.pdf")
            .mime_str("application/pdf")
            .unwrap(),
    );
    let r = http()
        .post(s.url("/phaxio-inbound"))
        .header("X-Phaxio-Signature", sig)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}
