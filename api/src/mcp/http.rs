//! `/mcp`: the MCP Streamable HTTP transport on the API. Stateless (no sessions to share between
//! API instances): every POST carries its own credentials, checked here first so a wrong or missing
//! key gets the API's 401 before any MCP processing, then again by the REST routes each tool calls
//! (with the scope and ownership checks of the route).

use std::sync::Arc;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};

use super::{Documents, FaxMcp, InProcess};
use crate::error::ApiError;
use crate::server::AppState;

/// The `/mcp` route, behind the API's authentication.
pub(crate) fn routes(state: &AppState) -> Router<AppState> {
    let backend = Arc::new(InProcess::new(state.clone()));
    // A base64 document is a third larger than the file; JSON-RPC framing on top.
    let body_limit = (state.cfg.max_file_bytes() as usize / 3 + 1) * 4 + 64 * 1024;
    let mut config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .with_max_request_body_bytes(body_limit);
    // Host checks guard an unauthenticated local server against DNS rebinding; with keys required
    // every request authenticates, so the API's own host names (whatever they are) are accepted.
    if state.cfg.require_api_key {
        config = config.disable_allowed_hosts();
    }
    let service = StreamableHttpService::new(
        move || Ok(FaxMcp::new(backend.clone(), Documents::Base64Only, "http")),
        Arc::new(NeverSessionManager::default()),
        config,
    );
    let auth = McpAuth {
        st: state.clone(),
        oauth: super::oauth::OAuth::from_config(&state.cfg).map(Arc::new),
    };
    let mut router = Router::new().route_service("/mcp", service).route_layer(
        axum::middleware::from_fn_with_state(auth.clone(), authenticate),
    );
    if let Some(oauth) = auth.oauth {
        // RFC 9728: where MCP clients learn which authorization server issues tokens for us.
        let metadata = axum::Json(serde_json::json!({
            "resource": oauth.audience,
            "authorization_servers": [oauth.issuer],
            "bearer_methods_supported": ["header"],
            "scopes_supported": ["fax:send", "fax:read", "fax:admin", "inbound:list", "inbound:read"],
        }));
        let get = axum::routing::get(move || {
            let m = metadata.clone();
            async move { m }
        });
        router = router
            .route("/.well-known/oauth-protected-resource", get.clone())
            .route("/.well-known/oauth-protected-resource/mcp", get);
    }
    router
}

#[derive(Clone)]
struct McpAuth {
    st: AppState,
    oauth: Option<Arc<super::oauth::OAuth>>,
}

/// `Authorization: Bearer` (when OAuth is configured and no `X-API-Key` is sent), else the API's
/// `X-API-Key` check (401 "Invalid or missing API key", lockouts and audit included). The caller
/// is remembered in the request for the tools (and, for a token, for the REST requests they make).
async fn authenticate(State(auth): State<McpAuth>, mut req: Request, next: Next) -> Response {
    let st = &auth.st;
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let ip = crate::routes::client_ip(peer, req.headers(), &st.trusted_proxies);
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|t| t.trim().to_owned());
    let has_key = req.headers().contains_key("x-api-key");
    if let (Some(oauth), Some(token), false) = (&auth.oauth, bearer, has_key) {
        return match oauth.verify(&token).await {
            Ok(principal) => {
                crate::audit!("oauth_token_accepted", key_id = %principal.key_id, ip = %ip);
                req.extensions_mut().insert(principal.clone());
                req.extensions_mut().insert(super::Delegated(principal));
                next.run(req).await
            }
            Err(e) => {
                crate::audit!("auth_failed", ip = %ip, reason = %e);
                crate::metrics::auth_failed("oauth");
                challenge(
                    st,
                    ApiError::unauthorized("Invalid bearer token"),
                    Some("invalid_token"),
                )
            }
        };
    }
    match st.authenticate(req.headers(), ip).await {
        Ok(principal) => {
            req.extensions_mut().insert(principal);
            next.run(req).await
        }
        Err(e) if auth.oauth.is_some() && e.status == StatusCode::UNAUTHORIZED => {
            challenge(st, e, None)
        }
        Err(e) => e.into_response(),
    }
}

/// A 401 with the `WWW-Authenticate` challenge that points MCP clients at the protected-resource
/// metadata (RFC 9728), from which they find the authorization server.
fn challenge(st: &AppState, e: ApiError, error: Option<&str>) -> Response {
    let mut value = String::from("Bearer");
    if let Some(base) = st.cfg.public_api_url.as_deref() {
        value.push_str(&format!(
            " resource_metadata=\"{}/.well-known/oauth-protected-resource\"",
            base.trim_end_matches('/')
        ));
    }
    if let Some(error) = error {
        value.push_str(&format!(", error=\"{error}\""));
    }
    let mut resp = e.into_response();
    if let Ok(v) = HeaderValue::from_str(value.replacen("Bearer, ", "Bearer ", 1).as_str()) {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    resp
}
