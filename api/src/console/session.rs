//! Console sessions: the cookie, its durable row, idle and absolute expiry, the per-session CSRF
//! token, and the extractors handlers take ([`Session`] for any user, [`AdminSession`] for admins).

use std::net::IpAddr;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use sha2::{Digest, Sha256};

use super::page::error_page;
use crate::server::AppState;
use crate::store::NewSession;
use faxline_protocol::time::now_us;

pub const SESSION_COOKIE: &str = "faxline_session";
pub const DEVICE_COOKIE: &str = "faxline_device";
pub const LOGIN_COOKIE: &str = "faxline_login";
/// Between a right password and the code of a user with two-step login (see [`mfa_cookie`]).
pub const MFA_COOKIE: &str = "faxline_mfa";
/// How long the code may take after the password.
const MFA_MAX_AGE_S: i64 = 5 * 60;
/// A session unused this long ends.
pub const IDLE_US: i64 = 30 * 60 * 1_000_000;
/// A session ends this long after login, however active.
pub const ABSOLUTE_US: i64 = 12 * 3600 * 1_000_000;
/// Activity is written at most this often per session.
const TOUCH_EVERY_US: i64 = 60 * 1_000_000;
/// How long a browser is remembered as one a user logged in from (see `throttle`).
const DEVICE_MAX_AGE_S: i64 = 180 * 24 * 3600;

pub const ROLE_ADMIN: &str = "admin";
pub const ROLE_STAFF: &str = "staff";

/// The value of cookie `name` in the request, if any.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_string())
}

/// Whether cookies get `Secure`: the console is reached over HTTPS (the public URL is https, or a
/// trusted proxy says so).
pub fn is_https(st: &AppState, headers: &HeaderMap, ip_is_trusted_proxy: bool) -> bool {
    let public = st
        .cfg
        .public_api_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"));
    let forwarded = ip_is_trusted_proxy
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"));
    public || forwarded
}

/// A `Set-Cookie` value: `HttpOnly`, `SameSite=Strict`, `Path=/`, `Secure` on HTTPS. `max_age` 0
/// deletes the cookie.
pub fn set_cookie(name: &str, value: &str, max_age_s: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_s}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
}

/// The stored form of a session token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new session for `user_id`: its row, and the cookie to send. Returns `(cookie, csrf)`.
pub async fn create(
    st: &AppState,
    user_id: &str,
    secure: bool,
) -> Result<HeaderValue, crate::store::StoreError> {
    let token = hex::encode(crate::auth::random_bytes::<32>());
    let csrf = hex::encode(crate::auth::random_bytes::<32>());
    let now = now_us();
    let hash = token_hash(&token);
    st.store
        .sessions()
        .insert(&NewSession {
            token_hash: &hash,
            user_id,
            csrf_token: &csrf,
            now,
            expires_at: now + ABSOLUTE_US,
        })
        .await?;
    Ok(set_cookie(
        SESSION_COOKIE,
        &token,
        ABSOLUTE_US / 1_000_000,
        secure,
    ))
}

/// A device cookie for `username`: `<id>.<mac>`, the MAC binding the id to the username.
pub fn device_cookie(st: &AppState, username: &str, secure: bool) -> HeaderValue {
    let id = hex::encode(crate::auth::random_bytes::<16>());
    let mac = crate::auth::hash_secret(
        st.server_secret.as_bytes(),
        &format!("console-device:{username}"),
        &id,
    );
    set_cookie(
        DEVICE_COOKIE,
        &format!("{id}.{mac}"),
        DEVICE_MAX_AGE_S,
        secure,
    )
}

/// The device id of the request's device cookie when it was issued for `username`.
pub fn device_for(st: &AppState, headers: &HeaderMap, username: &str) -> Option<String> {
    let value = cookie(headers, DEVICE_COOKIE)?;
    let (id, mac) = value.split_once('.')?;
    crate::auth::verify_secret(
        st.server_secret.as_bytes(),
        &format!("console-device:{username}"),
        id,
        mac,
    )
    .then(|| id.to_string())
}

fn mfa_mac(st: &AppState, nonce: &str, user_and_expiry: &str) -> String {
    crate::auth::hash_secret(
        st.server_secret.as_bytes(),
        &format!("console-mfa:{nonce}"),
        user_and_expiry,
    )
}

/// The proof that `user_id` gave the right password in this browser (its login nonce), asked for
/// a code next: `<user id>.<expiry>.<mac>`, signed with the server secret so any API instance
/// takes it, expiring after five minutes. No session exists until the code is right.
pub fn mfa_cookie(st: &AppState, user_id: &str, nonce: &str, secure: bool) -> HeaderValue {
    let body = format!(
        "{user_id}.{}",
        faxline_protocol::time::now_s() + MFA_MAX_AGE_S
    );
    let mac = mfa_mac(st, nonce, &body);
    set_cookie(MFA_COOKIE, &format!("{body}.{mac}"), MFA_MAX_AGE_S, secure)
}

/// The user id of the request's unexpired [`mfa_cookie`] made with `nonce`.
pub fn mfa_user(st: &AppState, headers: &HeaderMap, nonce: &str) -> Option<String> {
    let value = cookie(headers, MFA_COOKIE)?;
    let (body, mac) = value.rsplit_once('.')?;
    let (user_id, exp) = body.split_once('.')?;
    let exp: i64 = exp.parse().ok()?;
    let expected = mfa_mac(st, nonce, body);
    (exp > faxline_protocol::time::now_s()
        && crate::auth::ct_eq(expected.as_bytes(), mac.as_bytes()))
    .then(|| user_id.to_string())
}

/// A logged-in console user (any role), with the session's CSRF token.
#[derive(Debug, Clone)]
pub struct Session {
    pub token_hash: String,
    pub user_id: String,
    pub username: String,
    pub role: String,
    pub csrf: String,
    pub ip: IpAddr,
}

impl Session {
    pub fn is_admin(&self) -> bool {
        self.role == ROLE_ADMIN
    }

    /// Who, for the audit log and job ownership.
    pub fn actor(&self) -> String {
        format!("user:{}", self.username)
    }

    /// Refuses a form whose CSRF token is not this session's (403, audited).
    pub fn check_csrf(&self, presented: Option<&str>) -> Result<(), Response> {
        let ok = presented.is_some_and(|t| crate::auth::ct_eq(t.as_bytes(), self.csrf.as_bytes()));
        if ok {
            return Ok(());
        }
        crate::audit!("console_csrf_refused", user = %self.username, ip = %self.ip);
        Err(error_page(
            StatusCode::FORBIDDEN,
            "This form has expired or did not come from this console. Go back, reload the page and try again.",
        ))
    }
}

/// Why there is no session: the browser goes to the login page (GET) or is refused (other methods).
fn no_session(parts: &Parts) -> Response {
    if parts.method == axum::http::Method::GET {
        let next = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        let to = format!("/login?next={}", super::page::url_encode(next));
        Redirect::to(&to).into_response()
    } else {
        error_page(
            StatusCode::UNAUTHORIZED,
            "Your session has ended. Log in again.",
        )
    }
}

impl FromRequestParts<AppState> for Session {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Response> {
        if let Some(s) = parts.extensions.get::<Self>() {
            return Ok(s.clone());
        }
        let crate::routes::ClientIp(ip) = crate::routes::ClientIp::from_request_parts(parts, st)
            .await
            .unwrap_or_else(|never| match never {});
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE).filter(|t| t.len() == 64) else {
            return Err(no_session(parts));
        };
        let hash = token_hash(&token);
        let row = st
            .store
            .sessions()
            .get(&hash)
            .await
            .map_err(|e| crate::error::ApiError::from(e).into_response())?;
        let Some(row) = row else {
            return Err(no_session(parts));
        };
        let now = now_us();
        let expired = row.expires_at <= now || now - row.last_seen_at >= IDLE_US;
        if expired || row.disabled_at.is_some() {
            let reason = if expired { "expired" } else { "user disabled" };
            let _ = st.store.sessions().delete(&hash).await;
            crate::audit!("console_session_ended", user = %row.username, reason = reason);
            return Err(no_session(parts));
        }
        if now - row.last_seen_at >= TOUCH_EVERY_US
            && let Err(e) = st.store.sessions().touch(&hash, now).await
        {
            tracing::warn!(error = %e, "cannot record session activity");
        }
        let s = Session {
            token_hash: hash,
            user_id: row.user_id,
            username: row.username,
            role: row.role,
            csrf: row.csrf_token,
            ip,
        };
        parts.extensions.insert(s.clone());
        Ok(s)
    }
}

/// A logged-in admin; other users get 403.
pub struct AdminSession(pub Session);

impl FromRequestParts<AppState> for AdminSession {
    type Rejection = Response;
    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Response> {
        let s = Session::from_request_parts(parts, st).await?;
        if !s.is_admin() {
            crate::audit!("console_admin_denied", user = %s.username, path = %parts.uri.path());
            return Err(error_page(
                StatusCode::FORBIDDEN,
                "Only an administrator may open this page.",
            ));
        }
        Ok(AdminSession(s))
    }
}
