//! `/inbound`: received faxes (only when `INBOUND_ENABLED`). The PDF can be fetched with a
//! signed link alone, or with a key holding `inbound:read` (Faxbot demands a key even with a
//! token, so its token path never works).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use bytes::Bytes;
use serde::Deserialize;

use super::extract::{
    Caller, InboundEnabled, InboundFax, InboundList, InboundPdf, InboundRead, PageNo, SignedLink,
    ValidQuery, load_inbound,
};
use super::{ClientIp, InboundFaxOut, PdfLinkOut, make_link};
use crate::document::DocKind;
use crate::error::{ApiError, ApiResult};
use crate::links::LinkKind;
use crate::server::AppState;
use crate::store::{DocumentId, DocumentStore, InboundFilter};

/// The stored PDF of a received fax; 404 when retention (or anything else) removed it.
async fn stored_pdf(st: &AppState, id: &str) -> ApiResult<Bytes> {
    st.store
        .documents()
        .get(&DocumentId::Inbound(id.to_string()))
        .await?
        .ok_or_else(|| ApiError::not_found("PDF file not found"))
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
    _caller: Caller<InboundList>,
    ValidQuery(q): ValidQuery<ListQuery>,
) -> ApiResult<Json<Vec<InboundFaxOut>>> {
    let rows = st
        .store
        .inbound()
        .list(&InboundFilter {
            to_number: q.to_number,
            status: q.status,
            mailbox: q.mailbox,
            limit: q.limit.unwrap_or(100).clamp(1, 100),
            offset: q.offset.unwrap_or(0).max(0),
        })
        .await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

pub(crate) async fn get(InboundFax { fax, .. }: InboundFax<InboundRead>) -> Json<InboundFaxOut> {
    Json(fax.into())
}

pub(crate) async fn pdf_link(
    State(st): State<AppState>,
    InboundFax { fax, caller }: InboundFax<InboundRead>,
) -> ApiResult<Json<PdfLinkOut>> {
    let id = &fax.id;
    crate::audit!("inbound_link_created", inbound_id = %id, key_id = %caller.key_id);
    Ok(Json(make_link(
        &st,
        LinkKind::Inbound,
        &format!("/inbound/{id}/pdf"),
        id,
        st.cfg.inbound_token_ttl_minutes,
    )))
}

/// With `?token=` the signed link is the credential; without, a key holding `inbound:read`.
pub(crate) async fn pdf(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(id): Path<String>,
    link: SignedLink,
    _on: InboundEnabled,
    delegated: Option<axum::Extension<crate::mcp::Delegated>>,
) -> ApiResult<Response> {
    let who = if link.presented() {
        link.not_locked(&st)?;
        link.verify(&st, LinkKind::Inbound, &id)?;
        "token".to_string()
    } else if let Some(axum::Extension(d)) = delegated {
        Caller::<InboundPdf>::delegated(&st, d.0)?.principal.key_id
    } else {
        Caller::<InboundPdf>::check(&st, &headers, ip)
            .await?
            .principal
            .key_id
    };
    let fax = load_inbound(&st, &id).await?;
    // The stored size, when the row has one (rows from before it was recorded do not).
    let response = super::streamed_pdf(
        &st,
        DocumentId::Inbound(id.clone()),
        &format!("inbound_{id}.pdf"),
        fax.size_bytes,
    )
    .await?;
    crate::audit!("inbound_pdf_served", inbound_id = %id, by = %who, ip = %ip);
    Ok(response)
}

/// Beyond Faxbot: `GET /inbound/{id}/preview/{page}[?width=N]` — a PNG of one received page (1-based),
/// 1728 pixels wide at fine resolution or a thumbnail `N` pixels wide, drawn from the stored PDF.
pub(crate) async fn preview(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    caller: Caller<InboundRead>,
    ValidQuery(q): ValidQuery<super::fax::PreviewQuery>,
    PageNo(page): PageNo,
    InboundFax { fax, .. }: InboundFax<InboundRead>,
) -> ApiResult<Response> {
    let id = &fax.id;
    let doc = stored_pdf(&st, id).await?;
    let key = crate::pages::PreviewCache::key(&format!("inbound/{id}"), page, q.width());
    let png = super::fax::render_preview(&st, key, DocKind::Pdf, doc, page, q.width()).await?;
    crate::audit!("inbound_preview_served", inbound_id = %id, page = page, key_id = %caller.key_id, ip = %ip);
    Ok(super::png_response(png))
}
