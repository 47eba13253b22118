//! Faxbot-compatible `POST /_internal/asterisk/inbound` (header `X-Internal-Secret`, compared in
//! constant time). The named file must resolve inside the configured inbound spool directory:
//! traversal and symlinks pointing out are refused. The file is the TIFF-F Asterisk's
//! `ReceiveFAX` wrote (converted here to PDF by faxline-document, without re-encoding the CCITT data)
//! or a PDF.
//!
//! The text fields end up in API responses and in whatever shows them, so they are checked, not
//! stored as given: bounded length, no control characters (NUL, newlines) and no markup. A path
//! that is missing, outside the spool or not a regular file gets one and the same answer, so the
//! hook cannot be used to probe the file system.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::ClientIp;
use crate::audit::mask_number;
use crate::error::{ApiError, ApiResult};
use crate::server::AppState;
use crate::store::Inbound;
use crate::throttle::FailScope;
use faxline_protocol::time::{now_s, now_us};

#[derive(Debug, Deserialize)]
pub(crate) struct AsteriskInbound {
    tiff_path: Option<String>,
    pdf_path: Option<String>,
    to_number: Option<String>,
    from_number: Option<String>,
    faxstatus: Option<String>,
    faxpages: Option<serde_json::Value>,
    uniqueid: Option<String>,
}

pub(crate) async fn asterisk_inbound(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: Result<Json<AsteriskInbound>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<Json<Value>> {
    if !st.cfg.inbound_enabled {
        return Err(ApiError::not_found("Inbound not enabled"));
    }
    if let Some(wait) = st.auth_throttle.locked(&FailScope::Address(ip), now_s()) {
        return Err(ApiError::too_many(
            "Too many failed authentication attempts",
            wait,
        ));
    }
    let presented = headers
        .get("x-internal-secret")
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    let ok = st
        .cfg
        .internal_secret
        .as_ref()
        .is_some_and(|s| crate::auth::ct_eq(presented, s.as_bytes()));
    if !ok {
        crate::audit!("internal_auth_failed", ip = %ip);
        st.auth_throttle.fail(FailScope::Address(ip), now_s());
        return Err(ApiError::unauthorized("Unauthorized"));
    }
    let Json(req) = body.map_err(|_| ApiError::missing("body", "tiff_path"))?;
    let fields = HookFields::check(&req).inspect_err(|e| {
        crate::audit!("inbound_rejected", via = "asterisk_hook", reason = %e.detail);
    })?;
    let path = req
        .pdf_path
        .or(req.tiff_path)
        .ok_or_else(|| ApiError::missing("body", "tiff_path"))?;
    let spool = st
        .cfg
        .inbound_spool_dir
        .as_ref()
        .ok_or_else(|| ApiError::not_found("Inbound not enabled"))?;
    let data = read_confined(spool, &path).await?;
    let (data, counted) = match faxline_document::sniff(&data) {
        faxline_document::ContentKind::Pdf => (data, None),
        faxline_document::ContentKind::Tiff => {
            let converted = tokio::task::spawn_blocking(move || {
                let pages = faxline_document::read_fax_tiff(&data)?.len();
                faxline_document::tiff_to_pdf(&data).map(|pdf| (pdf, Some(pages as i64)))
            })
            .await
            .map_err(|_| ApiError::internal())?;
            converted.map_err(|e| {
                crate::audit!("inbound_rejected", via = "asterisk_hook", reason = %e);
                ApiError::bad_request("Invalid fax TIFF")
            })?
        }
        _ => {
            crate::audit!(
                "inbound_rejected",
                via = "asterisk_hook",
                reason = "not a TIFF or PDF"
            );
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Only fax TIFF or PDF files are accepted from the spool",
            ));
        }
    };
    let now = now_us();
    // As in Faxbot, Asterisk's FAXPAGES wins over the count from the file.
    let pages = fields.pages.or(counted);
    let row = Inbound {
        id: uuid::Uuid::new_v4().simple().to_string(),
        from_number: fields.from_number,
        to_number: fields.to_number,
        status: fields.status.unwrap_or_else(|| "received".into()),
        backend: "sip".into(),
        provider_sid: fields.uniqueid,
        pages,
        size_bytes: Some(data.len() as i64),
        sha256: Some(hex::encode(Sha256::digest(&data))),
        mailbox_label: None,
        error: None,
        created_at: now,
        received_at: now,
        updated_at: now,
    };
    let stored = st.store.inbound().insert(&row, &data.into()).await?;
    crate::audit!(
        "inbound_received",
        inbound_id = %stored.id,
        from = %mask_number(stored.from_number.as_deref().unwrap_or("")),
        to = %mask_number(stored.to_number.as_deref().unwrap_or("")),
        via = "asterisk_hook"
    );
    Ok(Json(json!({"id": stored.id, "status": "ok"})))
}

/// Longest accepted phone number or caller id (`fr`, `to_number`).
const MAX_NUMBER_LEN: usize = 64;
/// Longest accepted `faxstatus` and `uniqueid`.
const MAX_TOKEN_LEN: usize = 128;
/// More pages than any fax a line could carry in a day.
const MAX_PAGES: i64 = 10_000;

/// The hook's text and number fields, checked.
#[derive(Debug)]
struct HookFields {
    from_number: Option<String>,
    to_number: Option<String>,
    status: Option<String>,
    uniqueid: Option<String>,
    pages: Option<i64>,
}

impl HookFields {
    fn check(req: &AsteriskInbound) -> ApiResult<Self> {
        Ok(Self {
            from_number: clean_text("from_number", req.from_number.as_deref(), MAX_NUMBER_LEN)?,
            to_number: clean_text("to_number", req.to_number.as_deref(), MAX_NUMBER_LEN)?,
            status: clean_text("faxstatus", req.faxstatus.as_deref(), MAX_TOKEN_LEN)?,
            uniqueid: clean_text("uniqueid", req.uniqueid.as_deref(), MAX_TOKEN_LEN)?,
            pages: page_count(req.faxpages.as_ref())?,
        })
    }
}

/// `None` for absent or blank; an error for control characters, markup or excess length.
fn clean_text(name: &str, v: Option<&str>, max: usize) -> ApiResult<Option<String>> {
    let Some(v) = v.map(|v| v.trim_matches(' ')).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if v.len() > max {
        return Err(ApiError::bad_request(format!(
            "{name} is longer than {max} bytes"
        )));
    }
    if v.chars()
        .any(|c| c.is_control() || matches!(c, '<' | '>' | '&' | '"' | '\'' | '`' | '\\'))
    {
        return Err(ApiError::bad_request(format!(
            "{name} contains control characters or markup"
        )));
    }
    Ok(Some(v.to_string()))
}

/// `faxpages`: a whole number from 0 to [`MAX_PAGES`], as a JSON number or a string (Asterisk's
/// dialplan sends strings); absent or blank means unknown.
fn page_count(v: Option<&Value>) -> ApiResult<Option<i64>> {
    let n = match v {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        Some(_) => None,
    };
    match n {
        Some(n) if (0..=MAX_PAGES).contains(&n) => Ok(Some(n)),
        _ => Err(ApiError::bad_request(format!(
            "faxpages must be a whole number from 0 to {MAX_PAGES}"
        ))),
    }
}

/// Reads `path` only if its canonical form lies inside the canonical spool directory.
async fn read_confined(spool: &std::path::Path, path: &str) -> ApiResult<Vec<u8>> {
    // One answer for missing, outside, not a file and unreadable; the audit log says which.
    let refuse = |why: &'static str| {
        crate::audit!("internal_path_refused", reason = why);
        ApiError::bad_request("File is not available in the inbound spool directory")
    };
    let spool = tokio::fs::canonicalize(spool).await.map_err(|_| {
        tracing::error!("inbound spool directory is missing");
        ApiError::internal()
    })?;
    let real = tokio::fs::canonicalize(path)
        .await
        .map_err(|_| refuse("missing"))?;
    if !real.starts_with(&spool) || real == spool {
        return Err(refuse("outside the spool"));
    }
    let meta = tokio::fs::metadata(&real)
        .await
        .map_err(|_| refuse("missing"))?;
    if !meta.is_file() {
        return Err(refuse("not a file"));
    }
    tokio::fs::read(&real)
        .await
        .map_err(|_| refuse("unreadable"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_fields_are_bounded_and_plain() {
        assert_eq!(
            clean_text("fr", Some(" +1555 "), 64).unwrap().as_deref(),
            Some("+1555")
        );
        assert_eq!(clean_text("fr", Some(""), 64).unwrap(), None);
        for bad in ["a\0b", "a\nb", "<script>", "a&b", "x\r"] {
            assert!(clean_text("fr", Some(bad), 64).is_err(), "{bad:?}");
        }
        assert!(clean_text("fr", Some(&"1".repeat(65)), 64).is_err());
    }

    #[test]
    fn page_counts_are_whole_and_not_negative() {
        assert_eq!(page_count(Some(&serde_json::json!("3"))).unwrap(), Some(3));
        assert_eq!(page_count(Some(&serde_json::json!(0))).unwrap(), Some(0));
        assert_eq!(page_count(Some(&serde_json::json!(""))).unwrap(), None);
        assert_eq!(page_count(None).unwrap(), None);
        for bad in [
            serde_json::json!(-1),
            serde_json::json!("-2"),
            serde_json::json!(1.5),
            serde_json::json!("x"),
            serde_json::json!(10_001),
            serde_json::json!([1]),
        ] {
            assert!(page_count(Some(&bad)).is_err(), "{bad}");
        }
    }
}
