//! Faxbot-compatible `POST /_internal/asterisk/inbound` (header `X-Internal-Secret`, compared in
//! constant time). The named file must resolve inside the configured inbound spool directory:
//! traversal and symlinks pointing out are refused. The file is the TIFF-F Asterisk's
//! `ReceiveFAX` wrote (converted here to PDF by faxline-doc, without re-encoding the CCITT data)
//! or a PDF.

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
use crate::timefmt::{now_s, now_us};

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
    if let Some(wait) = st.auth_throttle.locked(ip, now_s()) {
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
        st.auth_throttle.fail(ip, now_s());
        return Err(ApiError::unauthorized("Unauthorized"));
    }
    let Json(req) = body.map_err(|_| ApiError::missing("body", "tiff_path"))?;
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
    let (data, counted) = match faxline_doc::sniff(&data) {
        faxline_doc::DocKind::Pdf => (data, None),
        faxline_doc::DocKind::Tiff => {
            let converted = tokio::task::spawn_blocking(move || {
                let pages = faxline_doc::read_fax_tiff(&data)?.len();
                faxline_doc::tiff_to_pdf(&data).map(|pdf| (pdf, Some(pages as i64)))
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
    let pages = match req.faxpages {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
    .or(counted);
    let row = Inbound {
        id: uuid::Uuid::new_v4().simple().to_string(),
        from_number: req.from_number,
        to_number: req.to_number,
        status: req
            .faxstatus
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "received".into()),
        backend: "sip".into(),
        provider_sid: req.uniqueid.filter(|s| !s.is_empty()),
        pages,
        size_bytes: Some(data.len() as i64),
        sha256: Some(hex::encode(Sha256::digest(&data))),
        mailbox_label: None,
        error: None,
        created_at: now,
        received_at: now,
        updated_at: now,
    };
    let stored = st.store.insert_inbound(&row, &data).await?;
    crate::audit!(
        "inbound_received",
        inbound_id = %stored.id,
        from = %mask_number(stored.from_number.as_deref().unwrap_or("")),
        to = %mask_number(stored.to_number.as_deref().unwrap_or("")),
        via = "asterisk_hook"
    );
    Ok(Json(json!({"id": stored.id, "status": "ok"})))
}

/// Reads `path` only if its canonical form lies inside the canonical spool directory.
async fn read_confined(spool: &std::path::Path, path: &str) -> ApiResult<Vec<u8>> {
    let refuse = || ApiError::bad_request("File is outside the inbound spool directory");
    let spool = tokio::fs::canonicalize(spool).await.map_err(|_| {
        tracing::error!("inbound spool directory is missing");
        ApiError::internal()
    })?;
    let real = tokio::fs::canonicalize(path)
        .await
        .map_err(|_| ApiError::not_found("File not found"))?;
    if !real.starts_with(&spool) || real == spool {
        crate::audit!("internal_path_refused");
        return Err(refuse());
    }
    let meta = tokio::fs::metadata(&real)
        .await
        .map_err(|_| ApiError::not_found("File not found"))?;
    if !meta.is_file() {
        return Err(refuse());
    }
    tokio::fs::read(&real)
        .await
        .map_err(|_| ApiError::not_found("File not found"))
}
