//! The HTTP surface: Faxbot-compatible public routes, admin key management, the signed agent
//! protocol and the Faxbot-compatible Asterisk hook.

mod admin;
mod agent;
mod cloud;
mod extract;
pub(crate) mod fax;
mod health;
mod inbound;
mod internal;
mod metrics;
mod openapi;

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequestParts};
use axum::http::request::Parts;
use axum::routing::{delete, get, post};
use serde::Serialize;

pub(crate) use extract::valid_id;

use crate::error::{ApiError, ApiResult};
use crate::server::AppState;
use crate::store::{DocumentError, DocumentId, DocumentStore, Inbound, Job, StoreError};
use faxline_protocol::time::iso;

pub(crate) fn router(state: AppState) -> Router {
    // Multipart overhead on top of the document limit; larger bodies are cut off early.
    let upload_limit = (state.cfg.max_file_bytes() + 256 * 1024) as usize;
    // A Sinch event carries the received (or sent) fax's document, base64 in JSON.
    let sinch_limit = cloud::sinch_body_limit(state.cfg.max_file_bytes());
    Router::new()
        .route("/health", get(health::health))
        .route("/health/ready", get(health::ready))
        .route("/openapi.json", get(openapi::openapi))
        .route("/metrics", get(metrics::metrics))
        .route(
            "/fax",
            post(fax::send)
                .get(fax::list)
                .layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route("/fax/{id}", get(fax::get))
        .route("/fax/{id}/cancel", post(fax::cancel))
        .route("/fax/{id}/pdf", get(fax::pdf))
        .route("/fax/{id}/preview/{page}", get(fax::preview))
        .route("/fax/{id}/pdf-link", post(fax::pdf_link))
        .route("/inbound", get(inbound::list))
        .route("/inbound/{id}", get(inbound::get))
        .route("/inbound/{id}/pdf", get(inbound::pdf))
        .route("/inbound/{id}/pdf-link", post(inbound::pdf_link))
        .route("/inbound/{id}/preview/{page}", get(inbound::preview))
        .route(
            "/admin/api-keys",
            post(admin::create_key).get(admin::list_keys),
        )
        .route("/admin/api-keys/{key_id}", delete(admin::revoke_key))
        .route("/admin/api-keys/{key_id}/rotate", post(admin::rotate_key))
        .route(
            "/_internal/asterisk/inbound",
            post(internal::asterisk_inbound),
        )
        .route("/phaxio-callback", post(cloud::phaxio_callback))
        .route(
            "/phaxio-inbound",
            post(cloud::phaxio_inbound).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route("/telnyx-callback", post(cloud::telnyx_callback))
        .route("/signalwire-callback", post(cloud::signalwire_callback))
        .route(
            "/sinch-callback",
            post(cloud::sinch_callback).layer(DefaultBodyLimit::max(sinch_limit)),
        )
        .route(
            "/sinch-inbound",
            post(cloud::sinch_inbound).layer(DefaultBodyLimit::max(sinch_limit)),
        )
        .route(
            "/agent/v1/jobs/{id}/provider-events",
            post(cloud::provider_events),
        )
        .route(
            "/agent/v1/jobs/{id}/document-link",
            post(cloud::document_link),
        )
        .route("/agent/v1/lease", post(agent::lease))
        .route("/agent/v1/jobs/{id}", get(agent::job_status))
        .route("/agent/v1/jobs/{id}/heartbeat", post(agent::heartbeat))
        .route("/agent/v1/jobs/{id}/progress", post(agent::progress))
        .route("/agent/v1/jobs/{id}/result", post(agent::result))
        .route("/agent/v1/jobs/{id}/release", post(agent::release))
        .route("/agent/v1/jobs/{id}/document", get(agent::document))
        .route(
            "/agent/v1/inbound",
            post(agent::inbound).layer(DefaultBodyLimit::max(upload_limit)),
        )
        .merge(crate::mcp::http::routes(&state))
        .merge(crate::console::router(upload_limit))
        .route_layer(axum::middleware::from_fn(crate::metrics::track))
        .fallback(|| async { crate::error::ApiError::not_found("Not Found") })
        .layer(axum::middleware::from_fn(crate::request_id::request_id))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            std::time::Duration::from_secs(state.cfg.request_timeout_seconds.max(1)),
        ))
        .with_state(state)
}

impl From<DocumentError> for ApiError {
    fn from(e: DocumentError) -> Self {
        StoreError::from(e).into()
    }
}

/// The client's address: the connection's, or, when the connection comes from one of the
/// configured `trusted_proxies`, the nearest untrusted address in `X-Forwarded-For` (read from the
/// right, as each proxy appends the address it saw). Without trusted proxies the header is ignored.
pub(crate) struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = Infallible;
    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Infallible> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        Ok(ClientIp(client_ip(
            peer,
            &parts.headers,
            &st.trusted_proxies,
        )))
    }
}

/// See [`ClientIp`]. A malformed entry stops the walk at the last trusted hop before it.
pub(crate) fn client_ip(
    peer: IpAddr,
    headers: &axum::http::HeaderMap,
    trusted: &[ipnet::IpNet],
) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Ok(ip) = hop.parse::<IpAddr>() else {
            break;
        };
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    client
}

/// Faxbot's FaxJobOut, field order as serialised, then Faxline's additions (always present, `null`
/// when unknown): progress while sending and the delivery details the agent reported.
#[derive(Debug, Serialize)]
pub(crate) struct FaxJobOut {
    id: String,
    to: String,
    status: faxline_protocol::JobStatus,
    error: Option<String>,
    pages: Option<i64>,
    backend: String,
    provider_sid: Option<String>,
    created_at: String,
    updated_at: String,
    /// Pages sent so far (as reported by the agent).
    pages_sent: Option<i64>,
    /// The last call phase the agent reported (e.g. `T.38 Negotiated`).
    stage: Option<String>,
    /// Image bit rate of the transfer, bit/s.
    bitrate: Option<i64>,
    /// `T38` or `audio`.
    mode: Option<String>,
    /// The far end's station identifier (CSI).
    remote_ident: Option<String>,
    /// The kind of line that carried the job (or carries it now; the last one leased it): `asterisk`, `sip`,
    /// `phaxio`, …; `null` before any agent leased it. `backend` shows it under Faxbot's name.
    line: Option<String>,
    /// The line the client pinned the job to (`backend` on `POST /fax`), if any.
    requested_backend: Option<String>,
    /// The lines that could not place the job, in order (the routing policy sent it on to the next).
    lines_tried: Vec<String>,
}

impl From<Job> for FaxJobOut {
    fn from(j: Job) -> Self {
        let lines_tried = j.lines_tried();
        // Faxbot's `backend`: what carries the job, else what it was pinned to, else the configured name.
        let backend = j
            .line
            .as_deref()
            .or(j.requested_backend.as_deref())
            .map(|l| crate::routing::faxbot_backend(l).to_owned())
            .unwrap_or(j.backend);
        Self {
            id: j.id,
            to: j.to_number,
            status: j.status,
            error: j.error,
            pages: j.pages,
            backend,
            provider_sid: j.provider_sid,
            created_at: iso(j.created_at),
            updated_at: iso(j.updated_at),
            pages_sent: j.pages_sent,
            stage: j.stage,
            bitrate: j.bitrate,
            mode: j.fax_mode,
            remote_ident: j.remote_ident,
            line: j.line,
            requested_backend: j.requested_backend,
            lines_tried,
        }
    }
}

/// Faxbot's InboundFaxOut (`fr` is the sender).
#[derive(Debug, Serialize)]
pub(crate) struct InboundFaxOut {
    id: String,
    fr: Option<String>,
    to: Option<String>,
    status: String,
    backend: String,
    pages: Option<i64>,
    size_bytes: Option<i64>,
    created_at: String,
    received_at: String,
    updated_at: String,
    mailbox: Option<String>,
}

impl From<Inbound> for InboundFaxOut {
    fn from(i: Inbound) -> Self {
        Self {
            id: i.id,
            fr: i.from_number,
            to: i.to_number,
            status: i.status,
            backend: i.backend,
            pages: i.pages,
            size_bytes: i.size_bytes,
            created_at: iso(i.created_at),
            received_at: iso(i.received_at),
            updated_at: iso(i.updated_at),
            mailbox: i.mailbox_label,
        }
    }
}

/// Writes a document that arrives as a stream of pieces (a multipart field, a download) to a spool
/// named `id`, counted against `limit` as it arrives: over it, `too_large()` (nothing is kept; the
/// spool is deleted on drop); a piece that cannot be read, `unreadable(e)`.
pub(crate) async fn spool_pieces<E>(
    st: &AppState,
    id: DocumentId,
    limit: u64,
    pieces: impl futures::Stream<Item = Result<axum::body::Bytes, E>>,
    unreadable: impl Fn(E) -> ApiError,
    too_large: impl Fn() -> ApiError,
) -> ApiResult<crate::store::spool::Spooled> {
    use crate::store::spool::SpoolError;
    use futures::StreamExt;
    let mut spool = st.store.spool(id, &st.cfg.upload_dir(), limit).await?;
    let mut pieces = std::pin::pin!(pieces);
    while let Some(piece) = pieces.next().await {
        spool
            .push(&piece.map_err(&unreadable)?)
            .await
            .map_err(|e| match e {
                SpoolError::TooLarge => too_large(),
                SpoolError::Store(e) => e.into(),
            })?;
    }
    Ok(spool.finish().await?)
}

/// A stored PDF sent as it is read from the store (`GET /fax/{id}/pdf`, `GET /inbound/{id}/pdf`),
/// with `len` as its Content-Length when known. A read error midway is logged with the document's
/// id and cuts the body short, so the client sees a short download rather than a corrupt one.
pub(crate) async fn streamed_pdf(
    st: &AppState,
    id: DocumentId,
    filename: &str,
    len: Option<i64>,
) -> ApiResult<axum::response::Response> {
    let doc = st
        .store
        .documents()
        .get_stream(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("PDF file not found"))?;
    let doc = futures::StreamExt::inspect(doc, move |piece| {
        if let Err(e) = piece {
            tracing::error!(document = ?id, error = %e, "document read failed while sending it");
        }
    });
    let mut response = pdf_response(filename, axum::body::Body::from_stream(doc));
    if let Some(len) = len.and_then(|n| axum::http::HeaderValue::from_str(&n.to_string()).ok()) {
        response
            .headers_mut()
            .insert(axum::http::header::CONTENT_LENGTH, len);
    }
    Ok(response)
}

/// A PDF download with Faxbot's no-cache headers.
fn pdf_response(filename: &str, body: impl Into<axum::body::Body>) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    (
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
            (
                header::CACHE_CONTROL,
                "no-cache, no-store, must-revalidate".to_string(),
            ),
            (header::PRAGMA, "no-cache".to_string()),
            (header::EXPIRES, "0".to_string()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
        ],
        body.into(),
    )
        .into_response()
}

/// A PNG preview; documents are private, so nothing may cache it.
pub(crate) fn png_response(body: Vec<u8>) -> axum::response::Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    (
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "no-cache, no-store, must-revalidate"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::client_ip;
    use axum::http::HeaderMap;

    #[test]
    fn forwarded_for_only_from_trusted_proxies() {
        let proxy = "10.0.0.5".parse().unwrap();
        let trusted = vec!["10.0.0.0/24".parse().unwrap()];
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            "203.0.113.9, 198.51.100.7, 10.0.0.4".parse().unwrap(),
        );
        // Not configured: the header is ignored.
        assert_eq!(client_ip(proxy, &h, &[]), proxy);
        // From an untrusted peer: ignored too.
        let stranger = "192.0.2.1".parse().unwrap();
        assert_eq!(client_ip(stranger, &h, &trusted), stranger);
        // Through trusted proxies: the nearest untrusted hop, not the client-chosen first entry.
        assert_eq!(
            client_ip(proxy, &h, &trusted),
            "198.51.100.7".parse::<std::net::IpAddr>().unwrap()
        );
        h.insert("x-forwarded-for", "junk".parse().unwrap());
        assert_eq!(client_ip(proxy, &h, &trusted), proxy);
    }
}

/// A signed link for a document.
#[derive(Debug, Serialize)]
pub(crate) struct PdfLinkOut {
    url: String,
    token: String,
    expires_at: String,
}

pub(crate) fn make_link(
    st: &AppState,
    kind: crate::links::LinkKind,
    path: &str,
    id: &str,
    ttl_minutes: u64,
) -> PdfLinkOut {
    let exp = faxline_protocol::time::now_s() + (ttl_minutes.max(1) * 60) as i64;
    let token = crate::links::sign(st.server_secret.as_bytes(), kind, id, exp);
    let base = st
        .cfg
        .public_api_url
        .as_deref()
        .unwrap_or("")
        .trim_end_matches('/');
    PdfLinkOut {
        url: format!("{base}{path}?token={token}"),
        token,
        expires_at: iso(exp * 1_000_000),
    }
}
