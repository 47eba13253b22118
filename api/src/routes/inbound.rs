//! `/inbound`: received faxes (only when `INBOUND_ENABLED`). The PDF can be fetched with a
//! signed link alone, or with a key holding `inbound:read` (Faxbot demands a key even with a
//! token, so its token path never works).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;

use super::{ClientIp, InboundFaxOut, PdfLinkOut, make_link, pdf_response, valid_id};
use crate::auth::{SCOPE_INBOUND_LIST, SCOPE_INBOUND_READ};
use crate::document::DocKind;
use crate::error::{ApiError, ApiResult};
use crate::links::{self, LinkError, LinkKind};
use crate::server::AppState;
use crate::store::InboundFilter;
use crate::throttle::FailScope;
use faxline_protocol::time::now_s;

/// The stored PDF of an inbound fax; 404 for an unknown (or malformed) id or a deleted file.
async fn inbound_pdf(st: &AppState, id: &str) -> ApiResult<Vec<u8>> {
    let row = if valid_id(id) {
        st.store.get_inbound(id).await?
    } else {
        None
    };
    row.ok_or_else(|| ApiError::not_found("Inbound fax not found"))?;
    st.store
        .inbound_document(id)
        .await?
        .ok_or_else(|| ApiError::not_found("PDF file not found"))
}

fn enabled(st: &AppState) -> ApiResult<()> {
    if st.cfg.inbound_enabled {
        Ok(())
    } else {
        Err(ApiError::not_found("Inbound not enabled"))
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    to_number: Option<String>,
    status: Option<String>,
    mailbox: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// A JSON array, newest first, at most 100 (as Faxbot), with `limit`/`offset` for paging.
pub(crate) async fn list(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    q: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<Vec<InboundFaxOut>>> {
    enabled(&st)?;
    st.require(
        &headers,
        ip,
        SCOPE_INBOUND_LIST,
        "/inbound",
        st.cfg.inbound_list_rpm,
    )
    .await?;
    let Query(q) = q.map_err(|_| ApiError::bad_request("Invalid query parameters"))?;
    let rows = st
        .store
        .list_inbound(&InboundFilter {
            to_number: q.to_number,
            status: q.status,
            mailbox: q.mailbox,
            limit: q.limit.unwrap_or(100).clamp(1, 100),
            offset: q.offset.unwrap_or(0).max(0),
        })
        .await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

pub(crate) async fn get(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Json<InboundFaxOut>> {
    enabled(&st)?;
    st.require(
        &headers,
        ip,
        SCOPE_INBOUND_READ,
        "/inbound/{id}",
        st.cfg.inbound_get_rpm,
    )
    .await?;
    let row = if valid_id(&id) {
        st.store.get_inbound(&id).await?
    } else {
        None
    };
    Ok(Json(
        row.ok_or_else(|| ApiError::not_found("Inbound fax not found"))?
            .into(),
    ))
}

pub(crate) async fn pdf_link(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Json<PdfLinkOut>> {
    enabled(&st)?;
    let p = st
        .require(
            &headers,
            ip,
            SCOPE_INBOUND_READ,
            "/inbound/{id}",
            st.cfg.inbound_get_rpm,
        )
        .await?;
    let row = if valid_id(&id) {
        st.store.get_inbound(&id).await?
    } else {
        None
    };
    row.ok_or_else(|| ApiError::not_found("Inbound fax not found"))?;
    crate::audit!("inbound_link_created", inbound_id = %id, key_id = %p.key_id);
    Ok(Json(make_link(
        &st,
        LinkKind::Inbound,
        &format!("/inbound/{id}/pdf"),
        &id,
        st.cfg.inbound_token_ttl_minutes,
    )))
}

#[derive(Debug, Deserialize)]
pub(crate) struct TokenQuery {
    token: Option<String>,
}

pub(crate) async fn pdf(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<TokenQuery>,
) -> ApiResult<Response> {
    enabled(&st)?;
    let who = match q.token {
        Some(token) => {
            if let Some(wait) = st.auth_throttle.locked(&FailScope::Address(ip), now_s()) {
                return Err(ApiError::too_many(
                    "Too many failed authentication attempts",
                    wait,
                ));
            }
            if let Err(e) = links::verify(
                st.server_secret.as_bytes(),
                LinkKind::Inbound,
                &id,
                &token,
                now_s(),
            ) {
                crate::audit!("inbound_token_rejected", inbound_id = %id, ip = %ip, reason = %e);
                if e == LinkError::Invalid {
                    st.auth_throttle.fail(FailScope::Address(ip), now_s());
                }
                return Err(ApiError::forbidden(e.to_string()));
            }
            "token".to_string()
        }
        None => {
            st.require(
                &headers,
                ip,
                SCOPE_INBOUND_READ,
                "/inbound/{id}/pdf",
                st.cfg.inbound_get_rpm,
            )
            .await?
            .key_id
        }
    };
    let doc = inbound_pdf(&st, &id).await?;
    crate::audit!("inbound_pdf_served", inbound_id = %id, by = %who, ip = %ip);
    Ok(pdf_response(&format!("inbound_{id}.pdf"), doc))
}

/// Beyond Faxbot: `GET /inbound/{id}/preview/{page}[?width=N]` — a PNG of one received page (1-based),
/// 1728 pixels wide at fine resolution or a thumbnail `N` pixels wide, drawn from the stored PDF.
pub(crate) async fn preview(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path((id, page)): Path<(String, String)>,
    q: Result<Query<super::fax::PreviewQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    enabled(&st)?;
    let p = st
        .require(
            &headers,
            ip,
            SCOPE_INBOUND_READ,
            "/inbound/{id}",
            st.cfg.inbound_get_rpm,
        )
        .await?;
    let Query(q) = q.map_err(|_| ApiError::bad_request("Invalid query parameters"))?;
    let page: usize = page
        .parse()
        .ok()
        .filter(|&n| n >= 1)
        .ok_or_else(|| ApiError::not_found("Page not found"))?;
    let doc = inbound_pdf(&st, &id).await?;
    let key = crate::pages::PreviewCache::key(&format!("inbound/{id}"), page, q.width());
    let png = super::fax::render_preview(&st, key, DocKind::Pdf, doc, page, q.width()).await?;
    crate::audit!("inbound_preview_served", inbound_id = %id, page = page, key_id = %p.key_id, ip = %ip);
    Ok(super::png_response(png))
}
