//! `/admin/api-keys`: create, list, revoke, rotate (Faxbot's routes and bodies). Admin responses
//! are never cached or framed.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::extract::Admin;
use crate::auth::{self, ALL_SCOPES};
use crate::error::{ApiError, ApiResult};
use crate::server::AppState;
use crate::store::ApiKeyRow;
use faxline_protocol::time::{iso, now_us, parse_iso};

fn admin_headers(body: impl IntoResponse) -> Response {
    (
        [
            (header::X_FRAME_OPTIONS, "DENY"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub(crate) struct CreateKey {
    name: Option<String>,
    owner: Option<String>,
    scopes: Option<Vec<String>>,
    expires_at: Option<String>,
    note: Option<String>,
}

#[derive(Serialize)]
struct CreatedKey {
    key_id: String,
    token: String,
    name: Option<String>,
    owner: Option<String>,
    scopes: Vec<String>,
    expires_at: Option<String>,
}

pub(crate) async fn create_key(
    State(st): State<AppState>,
    Admin(admin): Admin,
    body: Result<Json<CreateKey>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<Response> {
    let Json(req) = body.map_err(|_| {
        ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid JSON body",
        )
    })?;
    let scopes = req.scopes.unwrap_or_default();
    for s in &scopes {
        if s != "*" && !ALL_SCOPES.contains(&s.as_str()) {
            return Err(ApiError::bad_request(format!("Unknown scope: {s}")));
        }
    }
    let expires_at = match req.expires_at.as_deref() {
        None | Some("") => None,
        Some(s) => Some(parse_iso(s).ok_or_else(|| ApiError::bad_request("Invalid expires_at"))?),
    };
    let k = auth::mint_key(st.server_secret.as_bytes(), None);
    st.store
        .keys()
        .insert(&ApiKeyRow {
            key_id: k.key_id.clone(),
            key_hash: k.hash.clone(),
            name: req.name.clone(),
            owner: req.owner.clone(),
            scopes: scopes.join(","),
            note: req.note,
            created_at: now_us(),
            last_used_at: None,
            expires_at,
            revoked_at: None,
        })
        .await?;
    crate::audit!("api_key_created", key_id = %k.key_id, by = %admin.key_id, scopes = %scopes.join(","));
    Ok(admin_headers(Json(CreatedKey {
        key_id: k.key_id.clone(),
        token: k.token,
        name: req.name,
        owner: req.owner,
        scopes,
        expires_at: expires_at.map(iso),
    })))
}

pub(crate) async fn list_keys(State(st): State<AppState>, _admin: Admin) -> ApiResult<Response> {
    let keys = st.store.keys().list().await?;
    let out: Vec<_> = keys
        .into_iter()
        .map(|k| {
            json!({
                "key_id": k.key_id,
                "name": k.name,
                "owner": k.owner,
                "scopes": auth::parse_scopes(&k.scopes),
                "created_at": iso(k.created_at),
                "last_used_at": k.last_used_at.map(iso),
                "expires_at": k.expires_at.map(iso),
                "revoked_at": k.revoked_at.map(iso),
                "note": k.note,
            })
        })
        .collect();
    Ok(admin_headers(Json(out)))
}

pub(crate) async fn revoke_key(
    State(st): State<AppState>,
    Path(key_id): Path<String>,
    Admin(admin): Admin,
) -> ApiResult<Response> {
    let revoked = st.store.keys().revoke(&key_id, now_us()).await?;
    st.forget_key(&key_id);
    if !revoked {
        return Err(ApiError::not_found("Key not found"));
    }
    crate::audit!("api_key_revoked", key_id = %key_id, by = %admin.key_id);
    Ok(admin_headers(Json(json!({"status": "ok"}))))
}

pub(crate) async fn rotate_key(
    State(st): State<AppState>,
    Path(key_id): Path<String>,
    Admin(admin): Admin,
) -> ApiResult<Response> {
    if auth::parse_token(&format!("fbk_live_{key_id}_x")).is_none() {
        return Err(ApiError::not_found("Key not found"));
    }
    let k = auth::mint_key(st.server_secret.as_bytes(), Some(&key_id));
    let rotated = st.store.keys().rotate(&key_id, &k.hash).await?;
    st.forget_key(&key_id);
    if !rotated {
        return Err(ApiError::not_found("Key not found"));
    }
    crate::audit!("api_key_rotated", key_id = %key_id, by = %admin.key_id);
    Ok(admin_headers(Json(
        json!({"key_id": key_id, "token": k.token}),
    )))
}
