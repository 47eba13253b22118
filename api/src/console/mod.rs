//! The web console for the people who fax: log in, send, outbox, inbox, users. Server-rendered HTML
//! (askama templates checked at compile time, `api/templates/console/`), one stylesheet served by
//! the binary, no script needed. Routes sit at `/` beside the API's (`/send`, `/outbox`, `/inbox`,
//! `/users`, `/login`, …; none of the API's paths is reused).
//!
//! Users and passwords: [`password`] (Argon2id) and [`crate::store::Users`]; sessions: [`session`]
//! (durable rows, idle and absolute expiry, per-session CSRF token) on
//! [`crate::store::Sessions`]; login throttling: [`throttle`]. Sending goes through the API's own
//! path ([`crate::routes::fax::submit`]); previews through its preview renderer and cache.

// Helpers here return a finished page as their error (`Result<_, Response>`), once per request, as
// axum handlers do; boxing it would buy nothing.
#![allow(clippy::result_large_err)]

pub(crate) mod account;
pub mod admin;
pub mod bulk;
pub(crate) mod drafts;
pub(crate) mod page;
pub mod password;
pub(crate) mod session;
pub mod throttle;
pub mod totp;

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::store::spool::{SpoolError, Spooled};
use askama::Template;
use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::FormRejection;
use axum::extract::{DefaultBodyLimit, Form, Multipart, Path, Query, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use serde::Deserialize;

use crate::audit::mask_number;
use crate::document::DocKind;
use crate::links::LinkKind;
use crate::routes::ClientIp;
use crate::routes::fax::{Content, Submission, render_preview, submit};
use crate::server::AppState;
use crate::store::{ConsoleUser, DocumentId, DocumentStore, InboundFilter, Job, JobFilter, Store};
use faxline_protocol::time::{now_s, now_us};
use faxline_protocol::{JobStatus, PhoneNumber};
use page::{Chrome, error_page, html, safe_next, url_encode, when};
use session::{AdminSession, LOGIN_COOKIE, SESSION_COOKIE, Session};

/// Rows per page in the outbox and inbox.
const PAGE_ROWS: i64 = 50;
/// Files one Send form may join into one fax.
const MAX_PARTS: usize = 20;
/// Numbers one Send form may fax at once.
const MAX_NUMBERS: usize = 50;
/// Pages shown as previews on one fax's page.
const MAX_PREVIEW_PAGES: i64 = 50;

/// The console's own state, beside the API's: the bound on concurrent password hashing (each
/// Argon2id run takes 19 MiB). The login throttle's counters are in the database.
pub(crate) struct ConsoleState {
    hashing: tokio::sync::Semaphore,
}

impl Default for ConsoleState {
    fn default() -> Self {
        Self {
            hashing: tokio::sync::Semaphore::new(2),
        }
    }
}

fn login_throttle(st: &AppState) -> throttle::LoginThrottle<'_> {
    throttle::LoginThrottle::new(&st.store, st.server_secret.as_bytes())
}

type Console = Extension<Arc<ConsoleState>>;

/// The console's routes (merged into the API's router).
pub(crate) fn router(upload_limit: usize) -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/login/code", post(login_code))
        .route("/logout-everywhere", post(logout_everywhere))
        .route("/account", get(account::show))
        .route("/account/totp", post(account::setup))
        .route("/account/totp/confirm", post(account::confirm))
        .route("/account/totp/disable", post(account::disable))
        .route(
            "/send",
            get(send_form)
                .post(send)
                .layer(DefaultBodyLimit::max(upload_limit)),
        )
        .route("/drafts/{id}", get(drafts::show))
        .route("/drafts/{id}/page/{page}", get(drafts::preview))
        .route("/drafts/{id}/send", post(drafts::send))
        .route("/drafts/{id}/discard", post(drafts::discard))
        .route("/outbox", get(outbox))
        .route("/outbox/{id}", get(job_page))
        .route("/outbox/{id}/cancel", post(cancel))
        .route("/outbox/{id}/retry", post(retry))
        .route("/outbox/{id}/page/{page}", get(job_preview))
        .route("/inbox", get(inbox))
        .route("/inbox/{id}", get(inbound_page))
        .route("/inbox/{id}/page/{page}", get(inbound_preview))
        .route("/inbox/{id}/pdf", get(inbound_pdf))
        .route("/inbox/{id}/read", post(mark_read))
        .route(
            "/bulk",
            get(bulk::list)
                .post(bulk::create)
                .layer(DefaultBodyLimit::max(upload_limit + 1024 * 1024)),
        )
        .route("/bulk/{id}", get(bulk::show))
        .route("/bulk/{id}/confirm", post(bulk::confirm))
        .route("/bulk/{id}/discard", post(bulk::discard))
        .route("/bulk/{id}/pause", post(bulk::pause))
        .route("/bulk/{id}/resume", post(bulk::resume))
        .route("/bulk/{id}/cancel", post(bulk::cancel))
        .route("/settings/keys", get(admin::keys).post(admin::create_key))
        .route("/settings/keys/{key_id}/rotate", post(admin::rotate_key))
        .route("/settings/keys/{key_id}/revoke", post(admin::revoke_key))
        .route("/settings/system", get(admin::system))
        .route("/users", get(users).post(add_user_form))
        .route("/users/{id}/disable", post(disable_user))
        .route("/users/{id}/enable", post(enable_user))
        .route("/users/{id}/totp-reset", post(reset_user_totp))
        .route("/users/{id}/mailboxes", post(set_user_mailboxes))
        .route("/assets/console.css", get(css))
        .layer(axum::middleware::from_fn(same_origin))
        .layer(Extension(Arc::new(ConsoleState::default())))
}

/// Refuses a state-changing request that another site's page sent (`Sec-Fetch-Site: cross-site`,
/// or an `Origin` other than this host). The CSRF token is checked as well, by each handler.
async fn same_origin(req: Request, next: Next) -> Response {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let h = req.headers();
        let cross_site = h
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v == "cross-site");
        let host = h.get(header::HOST).and_then(|v| v.to_str().ok());
        let foreign_origin = match (h.get(header::ORIGIN).and_then(|v| v.to_str().ok()), host) {
            (Some(o), Some(host)) => {
                o != format!("http://{host}") && o != format!("https://{host}")
            }
            (Some(_), None) => true,
            _ => false,
        };
        if cross_site || foreign_origin {
            crate::audit!("console_cross_origin_refused", path = %req.uri().path());
            return error_page(
                StatusCode::FORBIDDEN,
                "This request came from another site and was refused.",
            );
        }
    }
    next.run(req).await
}

async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("console.css"),
    )
        .into_response()
}

async fn home(s: Result<Session, Response>) -> Response {
    match s {
        Ok(_) => Redirect::to("/outbox").into_response(),
        Err(_) => Redirect::to("/login").into_response(),
    }
}

fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// 400 for a form that does not parse.
fn bad_form(_: FormRejection) -> Response {
    error_page(
        StatusCode::BAD_REQUEST,
        "The form was incomplete or malformed.",
    )
}

fn store_failed(e: crate::store::StoreError) -> Response {
    crate::error::ApiError::from(e).into_response()
}

// ---------------------------------------------------------------------------------------------
// Users

/// Why a user could not be added.
#[derive(Debug, thiserror::Error)]
pub enum AddUserError {
    #[error("a username is 1 to 64 characters: lower-case letters, digits, '.', '_', '-' or '@'")]
    BadUsername,
    #[error("the role must be admin or staff")]
    BadRole,
    #[error(transparent)]
    Password(#[from] password::PasswordError),
    #[error("there is no user {0}")]
    Unknown(String),
    #[error("the username {0} is taken")]
    Taken(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// A username as stored: trimmed, lower-case, or `None` when it breaks the rule.
pub fn normalize_username(name: &str) -> Option<String> {
    let n = name.trim().to_lowercase();
    let ok = !n.is_empty()
        && n.len() <= 64
        && n.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-@".contains(&b));
    ok.then_some(n)
}

/// Adds a console user after checking the username, the role and the password's strength
/// (`faxline user add` and the Users page both come here).
pub async fn add_user(
    store: &Store,
    username: &str,
    password: &str,
    role: &str,
) -> Result<ConsoleUser, AddUserError> {
    let username = normalize_username(username).ok_or(AddUserError::BadUsername)?;
    if role != session::ROLE_ADMIN && role != session::ROLE_STAFF {
        return Err(AddUserError::BadRole);
    }
    password::check_strength(&username, password)?;
    let pw = password.to_owned();
    let hash = tokio::task::spawn_blocking(move || password::hash(&pw))
        .await
        .map_err(|e| password::PasswordError::Hash(e.to_string()))??;
    let now = now_us();
    let user = ConsoleUser {
        id: uuid::Uuid::new_v4().simple().to_string(),
        username: username.clone(),
        password_hash: hash,
        role: role.to_owned(),
        created_at: now,
        updated_at: now,
        disabled_at: None,
        totp_enabled_at: None,
    };
    if !store.users().insert(&user).await? {
        return Err(AddUserError::Taken(username));
    }
    Ok(user)
}

/// Replaces a user's password (strength-checked) and ends every session of that user. Returns the
/// username as stored and how many sessions ended.
pub async fn set_password(
    store: &Store,
    username: &str,
    password: &str,
) -> Result<(String, u64), AddUserError> {
    let username = normalize_username(username).ok_or(AddUserError::BadUsername)?;
    let user = store
        .users()
        .by_username(&username)
        .await?
        .ok_or_else(|| AddUserError::Unknown(username.clone()))?;
    password::check_strength(&username, password)?;
    let pw = password.to_owned();
    let hash = tokio::task::spawn_blocking(move || password::hash(&pw))
        .await
        .map_err(|e| password::PasswordError::Hash(e.to_string()))??;
    store
        .users()
        .set_password(&user.id, &hash, now_us())
        .await?;
    let ended = store.sessions().delete_for_user(&user.id).await?;
    Ok((username, ended))
}

/// Turns a user's two-step login off and forgets its secret (a lost phone), and ends every session
/// of that user: they log in with the password alone and may set it up again. `faxline user
/// reset-totp` and the Users page both come here. Returns the username and how many sessions ended.
pub async fn reset_totp(store: &Store, user_id: &str) -> Result<(String, u64), AddUserError> {
    let user = store
        .users()
        .get(user_id)
        .await?
        .ok_or_else(|| AddUserError::Unknown(user_id.to_owned()))?;
    store.users().clear_totp(&user.id, now_us()).await?;
    let ended = store.sessions().delete_for_user(&user.id).await?;
    Ok((user.username, ended))
}

// ---------------------------------------------------------------------------------------------
// Login and logout

#[derive(Template)]
#[template(path = "console/login.html")]
struct LoginPage {
    error: Option<String>,
    nonce: String,
    next: String,
    username: String,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

/// The login form, with a fresh login nonce (a cookie and the same value in the form: a login
/// cannot be forged from another site either).
async fn login_form(State(st): State<AppState>, q: Query<NextQuery>) -> Response {
    let nonce = hex::encode(crate::auth::random_bytes::<16>());
    let mut r = html(
        StatusCode::OK,
        &LoginPage {
            error: None,
            nonce: nonce.clone(),
            next: safe_next(q.next.as_deref()),
            username: String::new(),
        },
    );
    let secure = session::is_https(&st, &axum::http::HeaderMap::new(), false);
    r.headers_mut().append(
        header::SET_COOKIE,
        session::set_cookie(LOGIN_COOKIE, &nonce, 3600, secure),
    );
    r
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    login_nonce: String,
    next: Option<String>,
}

fn trusted(st: &AppState, peer: Option<std::net::IpAddr>) -> bool {
    peer.is_some_and(|ip| st.trusted_proxies.iter().any(|n| n.contains(&ip)))
}

fn peer_of(req_headers: &axum::http::Extensions) -> Option<std::net::IpAddr> {
    req_headers
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip())
}

/// Whether the login form's nonce matches the browser's login cookie (a login cannot be posted
/// from another site).
fn login_nonce_ok(headers: &axum::http::HeaderMap, presented: &str) -> bool {
    session::cookie(headers, LOGIN_COOKIE)
        .is_some_and(|c| c.len() == 32 && crate::auth::ct_eq(c.as_bytes(), presented.as_bytes()))
}

fn login_form_expired(ip: std::net::IpAddr, path: &'static str) -> Response {
    crate::audit!("console_csrf_refused", ip = %ip, path = path);
    error_page(
        StatusCode::FORBIDDEN,
        "The login form expired. Go back, reload the page and log in again.",
    )
}

/// 429 with `Retry-After`.
fn throttled(ip: std::net::IpAddr, wait: u64) -> Response {
    crate::audit!("console_login_throttled", ip = %ip, seconds = wait);
    let mut r = error_page(
        StatusCode::TOO_MANY_REQUESTS,
        &format!(
            "Too many failed logins. Try again in {} minute(s).",
            wait.div_ceil(60)
        ),
    );
    if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

fn no_store(mut r: Response) -> Response {
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

async fn login(
    State(st): State<AppState>,
    Extension(cs): Console,
    ClientIp(ip): ClientIp,
    ext: axum::http::Extensions,
    headers: axum::http::HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    let Form(f) = match form {
        Ok(f) => f,
        Err(e) => return bad_form(e),
    };
    let secure = session::is_https(&st, &headers, trusted(&st, peer_of(&ext)));
    if !login_nonce_ok(&headers, &f.login_nonce) {
        return login_form_expired(ip, "/login");
    }
    let next = safe_next(f.next.as_deref());
    let typed = f.username.trim().to_lowercase();
    let username = normalize_username(&f.username);
    let device = username
        .as_deref()
        .and_then(|u| session::device_for(&st, &headers, u));
    let attempt = throttle::Attempt {
        ip,
        username: &typed,
        device: device.as_deref(),
    };
    let now = now_s();
    match login_throttle(&st).check(&attempt, now).await {
        Ok(Some(wait)) => return throttled(ip, wait),
        Ok(None) => {}
        Err(e) => return store_failed(e),
    }
    let user = match &username {
        Some(u) => match st.store.users().by_username(u).await {
            Ok(user) => user,
            Err(e) => return store_failed(e),
        },
        None => None,
    };
    // Unknown users cost the same work as known ones.
    let phc = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| password::decoy_hash().to_owned());
    let verified = {
        let Ok(_permit) = cs.hashing.acquire().await else {
            return error_page(StatusCode::SERVICE_UNAVAILABLE, "Try again.");
        };
        let pw = f.password.clone();
        tokio::task::spawn_blocking(move || password::verify(&pw, &phc))
            .await
            .unwrap_or(false)
    };
    let user = user.filter(|u| verified && u.disabled_at.is_none());
    let Some(user) = user else {
        if let Err(e) = login_throttle(&st).fail(&attempt, now).await {
            return store_failed(e);
        }
        crate::audit!("console_login_failed", ip = %ip, known_device = device.is_some());
        return no_store(html(
            StatusCode::UNAUTHORIZED,
            &LoginPage {
                error: Some("Wrong username or password.".into()),
                nonce: f.login_nonce,
                next,
                username: username.unwrap_or_default(),
            },
        ));
    };
    if user.totp_enabled_at.is_some() {
        // The throttle's counters stay as they are until the code is right too: a guessed
        // password does not buy unlimited guesses at the code.
        crate::audit!("console_login_code_asked", user = %user.username, ip = %ip);
        let mut r = no_store(html(
            StatusCode::OK,
            &CodePage {
                error: None,
                nonce: f.login_nonce.clone(),
                next,
            },
        ));
        r.headers_mut().append(
            header::SET_COOKIE,
            session::mfa_cookie(&st, &user.id, &f.login_nonce, secure),
        );
        return r;
    }
    finish_login(&st, &user, &attempt, secure, &next).await
}

/// The session of a user who passed every step of the login.
async fn finish_login(
    st: &AppState,
    user: &ConsoleUser,
    attempt: &throttle::Attempt<'_>,
    secure: bool,
    next: &str,
) -> Response {
    if let Err(e) = login_throttle(st).succeed(attempt).await {
        return store_failed(e);
    }
    let cookie = match session::create(st, &user.id, secure).await {
        Ok(c) => c,
        Err(e) => return store_failed(e),
    };
    let now_u = now_us();
    if let Err(e) = st
        .store
        .sessions()
        .purge(now_u, now_u - session::IDLE_US)
        .await
    {
        tracing::warn!(error = %e, "cannot purge expired console sessions");
    }
    crate::audit!("console_login", user = %user.username, role = %user.role, ip = %attempt.ip, two_step = user.totp_enabled_at.is_some());
    let mut r = see_other(next);
    let h = r.headers_mut();
    h.append(header::SET_COOKIE, cookie);
    h.append(
        header::SET_COOKIE,
        session::set_cookie(LOGIN_COOKIE, "", 0, secure),
    );
    if user.totp_enabled_at.is_some() {
        h.append(
            header::SET_COOKIE,
            session::set_cookie(session::MFA_COOKIE, "", 0, secure),
        );
    }
    if attempt.device.is_none() {
        h.append(
            header::SET_COOKIE,
            session::device_cookie(st, &user.username, secure),
        );
    }
    r
}

/// The login's second step for users with two-step login: the code from their app.
#[derive(Template)]
#[template(path = "console/login_code.html")]
struct CodePage {
    error: Option<String>,
    nonce: String,
    next: String,
}

#[derive(Deserialize)]
struct LoginCodeForm {
    code: String,
    login_nonce: String,
    next: Option<String>,
}

/// Checks the code of a user who gave the right password (the `faxline_mfa` cookie). Throttled by
/// the same counters as passwords; a code is accepted once (see [`account::verify_code`]).
async fn login_code(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    ext: axum::http::Extensions,
    headers: axum::http::HeaderMap,
    form: Result<Form<LoginCodeForm>, FormRejection>,
) -> Response {
    let Form(f) = match form {
        Ok(f) => f,
        Err(e) => return bad_form(e),
    };
    let secure = session::is_https(&st, &headers, trusted(&st, peer_of(&ext)));
    if !login_nonce_ok(&headers, &f.login_nonce) {
        return login_form_expired(ip, "/login/code");
    }
    let next = safe_next(f.next.as_deref());
    let start_again = || {
        error_page(
            StatusCode::UNAUTHORIZED,
            "This login took too long or was not started here. Log in again.",
        )
    };
    let Some(user_id) = session::mfa_user(&st, &headers, &f.login_nonce) else {
        return start_again();
    };
    let user = match st.store.users().get(&user_id).await {
        Ok(u) => u.filter(|u| u.disabled_at.is_none() && u.totp_enabled_at.is_some()),
        Err(e) => return store_failed(e),
    };
    let Some(user) = user else {
        return start_again();
    };
    let device = session::device_for(&st, &headers, &user.username);
    let attempt = throttle::Attempt {
        ip,
        username: &user.username,
        device: device.as_deref(),
    };
    let now = now_s();
    match login_throttle(&st).check(&attempt, now).await {
        Ok(Some(wait)) => return throttled(ip, wait),
        Ok(None) => {}
        Err(e) => return store_failed(e),
    }
    match account::verify_code(&st, &user, &f.code).await {
        Ok(true) => finish_login(&st, &user, &attempt, secure, &next).await,
        Ok(false) => {
            if let Err(e) = login_throttle(&st).fail(&attempt, now).await {
                return store_failed(e);
            }
            crate::audit!("console_login_code_failed", user = %user.username, ip = %ip);
            no_store(html(
                StatusCode::UNAUTHORIZED,
                &CodePage {
                    error: Some(
                        "Wrong code, or a code already used. Wait for the next one.".into(),
                    ),
                    nonce: f.login_nonce,
                    next,
                },
            ))
        }
        Err(r) => r,
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: Option<String>,
}

/// A posted console form; each carries the session's CSRF token.
trait PostedForm {
    fn csrf(&self) -> Option<&str>;
}

macro_rules! posted_forms {
    ($($form:ty),+) => {
        $(impl PostedForm for $form {
            fn csrf(&self) -> Option<&str> {
                self.csrf.as_deref()
            }
        })+
    };
}
posted_forms!(CsrfForm, RetryForm, ReadForm, AddUserForm, MailboxesForm);

/// The form once it parsed (else 400) and carries this session's CSRF token (else 403, audited).
fn checked_form<T: PostedForm>(
    s: &Session,
    form: Result<Form<T>, FormRejection>,
) -> Result<T, Response> {
    let Form(f) = form.map_err(bad_form)?;
    s.check_csrf(f.csrf())?;
    Ok(f)
}

fn logged_out(st: &AppState, headers: &axum::http::HeaderMap) -> Response {
    let mut r = see_other("/login");
    r.headers_mut().append(
        header::SET_COOKIE,
        session::set_cookie(SESSION_COOKIE, "", 0, session::is_https(st, headers, false)),
    );
    r
}

async fn logout(
    State(st): State<AppState>,
    s: Session,
    headers: axum::http::HeaderMap,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    if let Err(r) = checked_form(&s, form) {
        return r;
    }
    if let Err(e) = st.store.sessions().delete(&s.token_hash).await {
        return store_failed(e);
    }
    crate::audit!("console_logout", user = %s.username, ip = %s.ip);
    logged_out(&st, &headers)
}

async fn logout_everywhere(
    State(st): State<AppState>,
    s: Session,
    headers: axum::http::HeaderMap,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    if let Err(r) = checked_form(&s, form) {
        return r;
    }
    let n = match st.store.sessions().delete_for_user(&s.user_id).await {
        Ok(n) => n,
        Err(e) => return store_failed(e),
    };
    crate::audit!("console_logout_everywhere", user = %s.username, sessions = n, ip = %s.ip);
    logged_out(&st, &headers)
}

// ---------------------------------------------------------------------------------------------
// Send

#[derive(Template)]
#[template(path = "console/send.html")]
struct SendPage {
    chrome: Chrome,
    error: Option<String>,
    notice: Option<String>,
    numbers: String,
    max_mb: u64,
    cover_field_max: usize,
    cover_note_max: usize,
    waiting: Vec<drafts::WaitingRow>,
}

async fn send_page(
    st: &AppState,
    s: &Session,
    status: StatusCode,
    error: Option<String>,
    numbers: String,
) -> Response {
    send_page_with(st, s, status, error, None, numbers).await
}

async fn send_page_with(
    st: &AppState,
    s: &Session,
    status: StatusCode,
    error: Option<String>,
    notice: Option<String>,
    numbers: String,
) -> Response {
    html(
        status,
        &SendPage {
            chrome: Chrome::new(s, "send"),
            error,
            notice,
            numbers,
            max_mb: st.cfg.max_file_size_mb,
            cover_field_max: faxline_document::COVER_FIELD_MAX,
            cover_note_max: faxline_document::COVER_NOTE_MAX,
            waiting: drafts::waiting(st, s).await,
        },
    )
}

async fn send_form(
    State(st): State<AppState>,
    s: Session,
    q: Query<drafts::SendQuery>,
) -> Response {
    let notice = q
        .discarded
        .map(|_| "The fax was discarded; nothing was sent.".to_owned());
    send_page_with(&st, &s, StatusCode::OK, None, notice, String::new()).await
}

/// The numbers of the Send form: split on lines, commas and semicolons, spaces and dashes
/// dropped, a number given twice kept once, order kept.
pub fn parse_numbers(text: &str) -> Result<Vec<String>, String> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for raw in text.split(['\n', '\r', ',', ';']) {
        let n: String = raw
            .chars()
            .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '(' | ')' | '.'))
            .collect();
        if n.is_empty() {
            continue;
        }
        if !PhoneNumber::is_valid(&n) {
            // Shown to the person who typed it, never logged.
            let shown: String = raw.trim().chars().take(30).collect();
            return Err(format!(
                "\"{shown}\" is not a fax number: use international form (+15551234567) or digits only"
            ));
        }
        if seen.insert(n.clone()) {
            out.push(n);
        }
    }
    if out.is_empty() {
        return Err("Enter at least one fax number.".into());
    }
    if out.len() > MAX_NUMBERS {
        return Err(format!("At most {MAX_NUMBERS} numbers per send."));
    }
    Ok(out)
}

/// Reads the Send form: its text fields and every uploaded file in order, the files and the typed
/// text together held to the one upload limit.
struct SendForm {
    csrf: Option<String>,
    to: String,
    text: String,
    cover: faxline_document::CoverPage,
    /// (file name, content spooled as it arrived), in the order the browser sent them; empty file
    /// inputs dropped.
    files: Vec<(String, Spooled)>,
}

enum FormFailure {
    TooLarge,
    Malformed,
    /// A file could not be spooled (the disk is full or unwritable).
    Unavailable,
}

/// Reads the Send form. Each file is written to a spool as it arrives (named after the draft
/// `draft_id` it may become), never gathered in memory; the fields and files together are at most
/// `limit` bytes.
async fn read_send_form(
    st: &AppState,
    mut multipart: Multipart,
    limit: usize,
    draft_id: &str,
) -> Result<SendForm, FormFailure> {
    let mut f = SendForm {
        csrf: None,
        to: String::new(),
        text: String::new(),
        cover: faxline_document::CoverPage::default(),
        files: Vec::new(),
    };
    let mut total = 0usize;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(FormFailure::TooLarge);
            }
            Err(_) => return Err(FormFailure::Malformed),
        };
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            if f.files.len() >= MAX_PARTS {
                return Err(FormFailure::TooLarge);
            }
            let file_name = crate::routes::fax::clean_filename(field.file_name());
            let mut field = field;
            let unavailable = |e: crate::store::documents::DocumentError| {
                tracing::error!(error = %e, "console: cannot spool an uploaded file");
                FormFailure::Unavailable
            };
            let mut spool = st
                .store
                .spool(
                    DocumentId::Draft(draft_id.to_owned()),
                    &st.cfg.upload_dir(),
                    (limit - total) as u64,
                )
                .await
                .map_err(unavailable)?;
            loop {
                match field.chunk().await {
                    Ok(Some(c)) => {
                        total += c.len();
                        if total > limit {
                            return Err(FormFailure::TooLarge);
                        }
                        spool.push(&c).await.map_err(|e| match e {
                            SpoolError::TooLarge => FormFailure::TooLarge,
                            SpoolError::Store(e) => unavailable(e),
                        })?;
                    }
                    Ok(None) => break,
                    Err(_) => return Err(FormFailure::TooLarge),
                }
            }
            let spooled = spool.finish().await.map_err(unavailable)?;
            if spooled.size() > 0 {
                f.files.push((file_name, spooled));
            }
        } else {
            let value = field.text().await.map_err(|_| FormFailure::Malformed)?;
            total += value.len();
            if total > limit {
                return Err(FormFailure::TooLarge);
            }
            match name.as_str() {
                "csrf" => f.csrf = Some(value),
                "to" => f.to = value,
                "text" => f.text = value,
                "cover_from" => f.cover.from = value,
                "cover_to" => f.cover.to = value,
                "cover_subject" => f.cover.subject = value,
                "cover_note" => f.cover.note = value,
                _ => {}
            }
        }
    }
    Ok(f)
}

async fn send(
    State(st): State<AppState>,
    s: Session,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let Ok(multipart) = multipart else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "The form was incomplete or malformed.",
        );
    };
    let limit = st.cfg.max_file_bytes() as usize;
    let draft_id = uuid::Uuid::new_v4().simple().to_string();
    let form = match read_send_form(&st, multipart, limit, &draft_id).await {
        Ok(f) => f,
        Err(FormFailure::TooLarge) => {
            return send_page(
                &st,
                &s,
                StatusCode::PAYLOAD_TOO_LARGE,
                Some(format!(
                    "The documents are larger than {} MB in all (or more than {MAX_PARTS} files).",
                    st.cfg.max_file_size_mb
                )),
                String::new(),
            )
            .await;
        }
        Err(FormFailure::Malformed) => {
            return error_page(StatusCode::BAD_REQUEST, "The form was malformed.");
        }
        Err(FormFailure::Unavailable) => {
            return send_page(
                &st,
                &s,
                StatusCode::SERVICE_UNAVAILABLE,
                Some(
                    "The documents could not be received (storage is unavailable); try again."
                        .into(),
                ),
                String::new(),
            )
            .await;
        }
    };
    if let Err(r) = s.check_csrf(form.csrf.as_deref()) {
        return r;
    }
    let SendForm {
        to,
        text,
        cover,
        files,
        ..
    } = form;
    let numbers = match parse_numbers(&to) {
        Ok(n) => n,
        Err(e) => return send_page(&st, &s, StatusCode::BAD_REQUEST, Some(e), to).await,
    };
    // The typed text, if any, is the last part, after the files.
    let text = (!text.trim().is_empty()).then(|| bytes::Bytes::from(text.into_bytes()));
    if files.is_empty() && text.is_none() {
        return send_page(
            &st,
            &s,
            StatusCode::BAD_REQUEST,
            Some("Choose a document to send, or type a text.".into()),
            to,
        )
        .await;
    }
    let cover = (!cover.is_empty()).then_some(cover);
    let (parts, with_cover) = (files.len() + usize::from(text.is_some()), cover.is_some());
    let (file_name, content) = match compose_document(&st, files, text, cover).await {
        Ok(d) => d,
        Err((status, msg)) => {
            crate::audit!("console_send_refused", user = %s.username, parts = parts, cover = with_cover, status = status.as_u16(), ip = %s.ip);
            return send_page(&st, &s, status, Some(msg), to).await;
        }
    };
    // Nothing is queued yet: the document as it will be faxed becomes a draft, whose pages the
    // user sees before pressing Send (see [`drafts`]).
    let prepared = drafts::Prepared {
        id: draft_id,
        numbers,
        file_name,
        content,
        parts,
        cover: with_cover,
        bulk_batch: None,
    };
    match drafts::create(&st, &s, prepared).await {
        Ok(id) => see_other(&format!("/drafts/{id}")),
        Err((status, msg)) => send_page(&st, &s, status, Some(msg), to).await,
    }
}

/// The one document of a Send: the parts (files in order, then the typed text) and the optional
/// cover page made into one (see [`crate::pages::compose`]), with its file name. Each part's type
/// is checked first, so a wrong file is named by its place in the list; the error is a status and
/// a message for the form (file names and sizes only, never content). One file and nothing else is
/// the document as it was spooled; joining parts or adding a cover renders them, which reads each
/// part whole (together at most the upload limit).
async fn compose_document(
    st: &AppState,
    mut files: Vec<(String, Spooled)>,
    text: Option<bytes::Bytes>,
    cover: Option<faxline_document::CoverPage>,
) -> Result<(String, Content), (StatusCode, String)> {
    let refused = |i: usize, name: &str, e: crate::document::SniffError| {
        let status = match e {
            crate::document::SniffError::Empty => StatusCode::BAD_REQUEST,
            crate::document::SniffError::Unsupported => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        };
        (status, format!("Document {} ({name}): {e}.", i + 1))
    };
    for (i, (name, spooled)) in files.iter().enumerate() {
        spooled.kind().map_err(|e| refused(i, name, e))?;
    }
    if let Some(t) = &text {
        crate::document::sniff(t).map_err(|e| refused(files.len(), TEXT_PART, e))?;
    }
    if files.len() == 1
        && text.is_none()
        && cover.is_none()
        && let Some((name, spooled)) = files.pop()
    {
        let id = spooled.id().owner().to_owned();
        return Ok((name, Content::Spooled(id, Box::new(spooled))));
    }
    let mut parts: Vec<(String, bytes::Bytes)> = Vec::with_capacity(files.len() + 1);
    for (name, spooled) in files {
        let read = tokio::task::spawn_blocking(move || spooled.read_plain()).await;
        match read {
            Ok(Ok(content)) => parts.push((name, content)),
            Ok(Err(e)) => {
                tracing::error!(error = %e, "console: cannot read back a spooled file");
                return Err(compose_failed());
            }
            Err(_) => return Err(compose_failed()),
        }
    }
    if let Some(t) = text {
        parts.push((TEXT_PART.to_owned(), t));
    }
    let file_name = match (parts.as_slice(), &cover) {
        ([(name, _)], None) => name.clone(),
        _ => "fax.pdf".to_owned(),
    };
    let contents: Vec<bytes::Bytes> = parts.iter().map(|(_, c)| c.clone()).collect();
    let budget = st.cfg.render.clone();
    let composed = tokio::task::spawn_blocking(move || {
        crate::pages::compose(&budget, &contents, cover.as_ref())
    })
    .await
    .map_err(|_| compose_failed())?;
    match composed {
        Ok(doc) => Ok((file_name, Content::Bytes(doc))),
        Err(e) if e.is_worker_failure() => {
            tracing::error!(error = %e, "composing a console send failed");
            Err(compose_failed())
        }
        Err(crate::pages::ComposeError::Part { index, source }) => Err((
            StatusCode::BAD_REQUEST,
            format!(
                "Document {index} ({}) cannot be read: {source}.",
                parts[index - 1].0
            ),
        )),
        Err(e) => Err((StatusCode::BAD_REQUEST, format!("Not sent: {e}."))),
    }
}

/// The file name of the typed text's part.
const TEXT_PART: &str = "message.txt";

fn compose_failed() -> (StatusCode, String) {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "The documents could not be prepared; try again.".to_owned(),
    )
}

// ---------------------------------------------------------------------------------------------
// Outbox

struct JobRow {
    id: String,
    to: String,
    status: String,
    status_class: &'static str,
    pages: String,
    stage: String,
    line: String,
    created: String,
    updated: String,
    bitrate: String,
    remote: String,
    error: String,
    file_name: String,
}

fn status_class(s: JobStatus) -> &'static str {
    match s {
        JobStatus::Success => "ok",
        JobStatus::Failed | JobStatus::FailedLowercase => "bad",
        JobStatus::Queued | JobStatus::InProgress => "busy",
        _ => "",
    }
}

fn active(s: JobStatus) -> bool {
    matches!(s, JobStatus::Queued | JobStatus::InProgress)
}

impl From<&Job> for JobRow {
    fn from(j: &Job) -> Self {
        let dash = || "—".to_string();
        let pages = match (j.pages_sent, j.pages) {
            (Some(s), Some(t)) if active(j.status) => format!("{s} of {t}"),
            (_, Some(t)) => t.to_string(),
            _ => dash(),
        };
        // The line that carried (or carries) the job, the agent while it holds the lease, and the mode.
        let parts: Vec<&str> = [&j.line, &j.lease_agent, &j.fax_mode]
            .into_iter()
            .filter_map(|p| p.as_deref())
            .collect();
        let line = if parts.is_empty() {
            dash()
        } else {
            parts.join(" · ")
        };
        Self {
            id: j.id.clone(),
            to: j.to_number.clone(),
            status: j.status.as_str().to_owned(),
            status_class: status_class(j.status),
            pages,
            stage: j.stage.clone().unwrap_or_else(dash),
            line,
            created: when(j.created_at),
            updated: when(j.updated_at),
            bitrate: j.bitrate.map(|b| format!("{b} bit/s")).unwrap_or_else(dash),
            remote: j.remote_ident.clone().unwrap_or_else(dash),
            error: j.error.clone().unwrap_or_else(dash),
            file_name: j.file_name.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "console/outbox.html")]
struct OutboxPage {
    chrome: Chrome,
    notice: Option<String>,
    statuses: Vec<(&'static str, &'static str)>,
    status: String,
    to: String,
    total: i64,
    rows: Vec<JobRow>,
    refresh: bool,
    prev: Option<String>,
    next: Option<String>,
}

#[derive(Deserialize)]
struct OutboxQuery {
    status: Option<String>,
    to: Option<String>,
    page: Option<i64>,
    sent: Option<u32>,
}

const STATUSES: &[(&str, &str)] = &[
    ("", "any"),
    ("queued", "queued"),
    ("in_progress", "sending"),
    ("SUCCESS", "sent"),
    ("FAILED", "failed"),
    ("cancelled", "cancelled"),
];

async fn outbox(State(st): State<AppState>, s: Session, q: Query<OutboxQuery>) -> Response {
    let status = q
        .status
        .clone()
        .filter(|v| STATUSES.iter().any(|(k, _)| k == v && !k.is_empty()));
    let to: Option<String> =
        q.to.as_deref()
            .map(|t| {
                t.chars()
                    .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '…' | '.'))
                    .collect()
            })
            .filter(|t: &String| !t.is_empty());
    let page = q.page.unwrap_or(0).clamp(0, 10_000);
    // A few digits search the ends of numbers (as they appear masked, `…4567`); more is one number.
    let suffix = to
        .as_deref()
        .filter(|t| t.len() <= 6 && t.bytes().all(|b| b.is_ascii_digit()));
    let listed = match suffix {
        Some(digits) => {
            st.store
                .outbox()
                .ending_with(digits, status.as_deref(), PAGE_ROWS, page * PAGE_ROWS)
                .await
        }
        None => {
            st.store
                .jobs()
                .list(&JobFilter {
                    owner_key_id: None,
                    status: status.clone(),
                    to_number: to.clone(),
                    limit: PAGE_ROWS,
                    offset: page * PAGE_ROWS,
                })
                .await
        }
    };
    let (total, jobs) = match listed {
        Ok(r) => r,
        Err(e) => return store_failed(e),
    };
    let link = |p: i64| {
        format!(
            "/outbox?status={}&to={}&page={p}",
            url_encode(status.as_deref().unwrap_or("")),
            url_encode(to.as_deref().unwrap_or(""))
        )
    };
    html(
        StatusCode::OK,
        &OutboxPage {
            chrome: Chrome::new(&s, "outbox"),
            notice: q.sent.map(|n| format!("{n} fax(es) queued.")),
            statuses: STATUSES.to_vec(),
            status: status.clone().unwrap_or_default(),
            to: to.clone().unwrap_or_default(),
            total,
            refresh: jobs.iter().any(|j| active(j.status)),
            rows: jobs.iter().map(JobRow::from).collect(),
            prev: (page > 0).then(|| link(page - 1)),
            next: ((page + 1) * PAGE_ROWS < total).then(|| link(page + 1)),
        },
    )
}

#[derive(Template)]
#[template(path = "console/job.html")]
struct JobPage {
    chrome: Chrome,
    j: JobRow,
    pages: Vec<i64>,
    can_cancel: bool,
    can_retry: bool,
    form_id: String,
    refresh: bool,
}

fn valid_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

async fn load_job(st: &AppState, id: &str) -> Result<Job, Response> {
    let job = if valid_id(id) {
        st.store.jobs().get(id).await.map_err(store_failed)?
    } else {
        None
    };
    job.ok_or_else(|| error_page(StatusCode::NOT_FOUND, "There is no such fax."))
}

async fn job_page(State(st): State<AppState>, s: Session, Path(id): Path<String>) -> Response {
    let job = match load_job(&st, &id).await {
        Ok(j) => j,
        Err(r) => return r,
    };
    crate::audit!("console_job_viewed", job_id = %job.id, user = %s.username);
    html(
        StatusCode::OK,
        &JobPage {
            chrome: Chrome::new(&s, "outbox"),
            pages: (1..=job.pages.unwrap_or(0).clamp(0, MAX_PREVIEW_PAGES)).collect(),
            can_cancel: job.status == JobStatus::Queued,
            can_retry: matches!(
                job.status,
                JobStatus::Failed | JobStatus::FailedLowercase | JobStatus::Cancelled
            ),
            form_id: hex::encode(crate::auth::random_bytes::<16>()),
            refresh: active(job.status),
            j: JobRow::from(&job),
        },
    )
}

async fn cancel(
    State(st): State<AppState>,
    s: Session,
    Path(id): Path<String>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    if let Err(r) = checked_form(&s, form) {
        return r;
    }
    if let Err(r) = load_job(&st, &id).await {
        return r;
    }
    match st.store.jobs().cancel(&id, now_us()).await {
        Ok(crate::store::CancelOutcome::Cancelled(job)) => {
            crate::audit!("job_cancelled", job_id = %job.id, to = %mask_number(&job.to_number), key_id = %s.actor(), ip = %s.ip);
            see_other(&format!("/outbox/{id}"))
        }
        Ok(crate::store::CancelOutcome::NotQueued(job)) => error_page(
            StatusCode::CONFLICT,
            &format!(
                "This fax can no longer be cancelled (it is {}).",
                job.status
            ),
        ),
        Ok(crate::store::CancelOutcome::NotFound) => {
            error_page(StatusCode::NOT_FOUND, "There is no such fax.")
        }
        Err(e) => store_failed(e),
    }
}

#[derive(Deserialize)]
struct RetryForm {
    csrf: Option<String>,
    form_id: Option<String>,
}

/// Sends a failed or cancelled fax again as a new job (same number, same document), through the
/// same submit path; the form's id makes a double click queue it once.
async fn retry(
    State(st): State<AppState>,
    s: Session,
    Path(id): Path<String>,
    form: Result<Form<RetryForm>, FormRejection>,
) -> Response {
    let f = match checked_form(&s, form) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let job = match load_job(&st, &id).await {
        Ok(j) => j,
        Err(r) => return r,
    };
    if active(job.status) || job.status == JobStatus::Success {
        return error_page(
            StatusCode::CONFLICT,
            &format!(
                "Only a failed or cancelled fax can be sent again (this one is {}).",
                job.status
            ),
        );
    }
    // The document is copied a piece at a time into the new job's spool, as an upload would be.
    let doc = match st
        .store
        .documents()
        .get_stream(&DocumentId::Job(id.clone()))
        .await
    {
        Ok(Some(d)) => d,
        Ok(None) => {
            return error_page(
                StatusCode::GONE,
                "The document of this fax is no longer kept; send it again from the Send page.",
            );
        }
        Err(e) => return crate::error::ApiError::from(e).into_response(),
    };
    let new_id = uuid::Uuid::new_v4().simple().to_string();
    let spooled = crate::routes::spool_pieces(
        &st,
        DocumentId::Job(new_id.clone()),
        st.cfg.max_file_bytes(),
        doc,
        crate::error::ApiError::from,
        || {
            crate::error::ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "The document is larger than the upload limit ({} MB) now",
                    st.cfg.max_file_size_mb
                ),
            )
        },
    )
    .await;
    let spooled = match spooled {
        Ok(s) => s,
        Err(e) => return error_page(e.status, &format!("Not sent again: {}", e.detail)),
    };
    let form_id = f
        .form_id
        .filter(|v| v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit()));
    let result = submit(
        &st,
        Submission {
            to: job.to_number.clone(),
            file_name: job.file_name.clone(),
            content: Content::Spooled(new_id, Box::new(spooled)),
            owner: Some(s.actor()),
            actor: s.actor(),
            idempotency_key: form_id.map(|f| format!("{}:retry:{id}:{f}", s.actor())),
            // A job pinned to a line is sent again on that line.
            backend: job.requested_backend.clone(),
        },
    )
    .await;
    match result {
        Ok(new) => {
            crate::audit!("job_retried", job_id = %id, new_job_id = %new.id, to = %mask_number(&new.to_number), key_id = %s.actor(), ip = %s.ip);
            see_other(&format!("/outbox/{}", new.id))
        }
        Err(e) => error_page(e.status, &format!("Not sent again: {}", e.detail)),
    }
}

#[derive(Deserialize)]
struct WidthQuery {
    width: Option<u32>,
}

async fn job_preview(
    State(st): State<AppState>,
    s: Session,
    Path((id, page)): Path<(String, usize)>,
    q: Query<WidthQuery>,
) -> Response {
    let job = match load_job(&st, &id).await {
        Ok(j) => j,
        Err(r) => return r,
    };
    let Some(kind) = DocKind::parse(&job.doc_kind) else {
        return error_page(StatusCode::NOT_FOUND, "Document not found");
    };
    let doc = match st.store.documents().get(&DocumentId::Job(id.clone())).await {
        Ok(Some(d)) => d,
        Ok(None) => return error_page(StatusCode::NOT_FOUND, "The document is no longer kept."),
        Err(e) => return crate::error::ApiError::from(e).into_response(),
    };
    let key = crate::pages::PreviewCache::key(&format!("fax/{id}"), page, q.width);
    match render_preview(&st, key, kind, doc, page.max(1), q.width).await {
        Ok(png) => {
            crate::audit!("preview_served", job_id = %id, page = page, key_id = %s.actor(), ip = %s.ip);
            crate::routes::png_response(png)
        }
        Err(e) => e.into_response(),
    }
}

// ---------------------------------------------------------------------------------------------
// Inbox

struct InboxRow {
    id: String,
    from: String,
    to: String,
    pages: String,
    received: String,
    unread: bool,
}

impl InboxRow {
    fn new(f: &crate::store::Inbound, read: bool) -> Self {
        Self {
            id: f.id.clone(),
            from: f
                .from_number
                .clone()
                .unwrap_or_else(|| "unknown sender".into()),
            to: f.to_number.clone().unwrap_or_else(|| "—".into()),
            pages: f.pages.map(|p| p.to_string()).unwrap_or_else(|| "?".into()),
            received: when(f.received_at),
            unread: !read,
        }
    }
}

#[derive(Template)]
#[template(path = "console/inbox.html")]
struct InboxPage {
    chrome: Chrome,
    enabled: bool,
    unread: i64,
    /// Staff: their mailboxes' numbers (empty: none assigned); admins: `None` (every fax).
    mailboxes: Option<String>,
    rows: Vec<InboxRow>,
    prev: Option<String>,
    next: Option<String>,
}

#[derive(Deserialize)]
struct PageQuery {
    page: Option<i64>,
}

async fn inbox(State(st): State<AppState>, s: Session, q: Query<PageQuery>) -> Response {
    let page = q.page.unwrap_or(0).clamp(0, 10_000);
    let (limit, offset) = (PAGE_ROWS + 1, page * PAGE_ROWS);
    // Admins see every fax; staff only those to their mailboxes (filtered in the query).
    let (rows, unread, mailboxes) = if s.is_admin() {
        let rows = st
            .store
            .inbound()
            .list(&InboundFilter {
                limit,
                offset,
                ..Default::default()
            })
            .await;
        (rows, st.store.inbox().unread().await, None)
    } else {
        let boxes = st.store.mailboxes();
        let mine = match boxes.of_user(&s.user_id).await {
            Ok(m) => m,
            Err(e) => return store_failed(e),
        };
        (
            boxes.inbound(&s.user_id, limit, offset).await,
            boxes.unread(&s.user_id).await,
            Some(mine.join(", ")),
        )
    };
    let (rows, unread) = match (rows, unread) {
        (Ok(r), Ok(u)) => (r, u),
        (Err(e), _) | (_, Err(e)) => return store_failed(e),
    };
    let more = rows.len() as i64 > PAGE_ROWS;
    let rows: Vec<_> = rows.into_iter().take(PAGE_ROWS as usize).collect();
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let read = match st.store.inbox().read_among(&ids).await {
        Ok(r) => r,
        Err(e) => return store_failed(e),
    };
    html(
        StatusCode::OK,
        &InboxPage {
            chrome: Chrome::new(&s, "inbox"),
            enabled: st.cfg.inbound_enabled,
            unread,
            mailboxes,
            rows: rows
                .iter()
                .map(|f| InboxRow::new(f, read.contains(&f.id)))
                .collect(),
            prev: (page > 0).then(|| format!("/inbox?page={}", page - 1)),
            next: more.then(|| format!("/inbox?page={}", page + 1)),
        },
    )
}

/// A received fax this session may see: any for admins; for staff, only one to a number of their
/// mailboxes (else 404, as for a fax that does not exist). Every inbox route loads through here.
async fn load_inbound(
    st: &AppState,
    s: &Session,
    id: &str,
) -> Result<crate::store::Inbound, Response> {
    let row = if valid_id(id) {
        st.store.inbound().get(id).await.map_err(store_failed)?
    } else {
        None
    };
    let missing = || error_page(StatusCode::NOT_FOUND, "There is no such received fax.");
    let fax = row.ok_or_else(missing)?;
    if s.is_admin() {
        return Ok(fax);
    }
    let allowed = match fax.to_number.as_deref() {
        Some(n) => st
            .store
            .mailboxes()
            .holds(&s.user_id, n)
            .await
            .map_err(store_failed)?,
        None => false,
    };
    if !allowed {
        crate::audit!("console_inbound_denied", inbound_id = %fax.id, user = %s.username);
        return Err(missing());
    }
    Ok(fax)
}

#[derive(Template)]
#[template(path = "console/fax.html")]
struct FaxPage {
    chrome: Chrome,
    f: InboxRow,
    pages: Vec<i64>,
}

async fn inbound_page(State(st): State<AppState>, s: Session, Path(id): Path<String>) -> Response {
    let fax = match load_inbound(&st, &s, &id).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let read = match st
        .store
        .inbox()
        .read_among(std::slice::from_ref(&fax.id))
        .await
    {
        Ok(r) => !r.is_empty(),
        Err(e) => return store_failed(e),
    };
    crate::audit!("console_inbound_viewed", inbound_id = %fax.id, user = %s.username);
    html(
        StatusCode::OK,
        &FaxPage {
            chrome: Chrome::new(&s, "inbox"),
            pages: (1..=fax.pages.unwrap_or(1).clamp(1, MAX_PREVIEW_PAGES)).collect(),
            f: InboxRow::new(&fax, read),
        },
    )
}

async fn inbound_preview(
    State(st): State<AppState>,
    s: Session,
    Path((id, page)): Path<(String, usize)>,
    q: Query<WidthQuery>,
) -> Response {
    if let Err(r) = load_inbound(&st, &s, &id).await {
        return r;
    }
    let doc = match st
        .store
        .documents()
        .get(&DocumentId::Inbound(id.clone()))
        .await
    {
        Ok(Some(d)) => d,
        Ok(None) => return error_page(StatusCode::NOT_FOUND, "The PDF is no longer kept."),
        Err(e) => return crate::error::ApiError::from(e).into_response(),
    };
    let key = crate::pages::PreviewCache::key(&format!("inbound/{id}"), page, q.width);
    match render_preview(&st, key, DocKind::Pdf, doc, page.max(1), q.width).await {
        Ok(png) => {
            crate::audit!("inbound_preview_served", inbound_id = %id, page = page, key_id = %s.actor(), ip = %s.ip);
            crate::routes::png_response(png)
        }
        Err(e) => e.into_response(),
    }
}

/// Sends the browser to a signed, expiring link to the PDF (the API's `/inbound/{id}/pdf?token=`).
async fn inbound_pdf(State(st): State<AppState>, s: Session, Path(id): Path<String>) -> Response {
    if let Err(r) = load_inbound(&st, &s, &id).await {
        return r;
    }
    if !st.cfg.inbound_enabled {
        return error_page(StatusCode::NOT_FOUND, "Receiving faxes is switched off.");
    }
    let exp = now_s() + (st.cfg.inbound_token_ttl_minutes.max(1) * 60) as i64;
    let token = crate::links::sign(st.server_secret.as_bytes(), LinkKind::Inbound, &id, exp);
    crate::audit!("inbound_link_created", inbound_id = %id, key_id = %s.actor());
    see_other(&format!("/inbound/{id}/pdf?token={token}"))
}

#[derive(Deserialize)]
struct ReadForm {
    csrf: Option<String>,
    read: Option<String>,
}

async fn mark_read(
    State(st): State<AppState>,
    s: Session,
    Path(id): Path<String>,
    form: Result<Form<ReadForm>, FormRejection>,
) -> Response {
    let f = match checked_form(&s, form) {
        Ok(f) => f,
        Err(r) => return r,
    };
    if let Err(r) = load_inbound(&st, &s, &id).await {
        return r;
    }
    let read = f.read.as_deref() != Some("0");
    if let Err(e) = st.store.inbox().set_read(&id, read.then(now_us)).await {
        return store_failed(e);
    }
    crate::audit!("console_inbound_marked", inbound_id = %id, read = read, user = %s.username);
    see_other(&format!("/inbox/{id}"))
}

// ---------------------------------------------------------------------------------------------
// Users (admins)

struct UserRow {
    id: String,
    username: String,
    role: String,
    created: String,
    disabled: bool,
    two_step: bool,
    is_self: bool,
    /// Staff: the numbers of their mailboxes, comma-separated.
    mailboxes: String,
}

#[derive(Template)]
#[template(path = "console/users.html")]
struct UsersPage {
    chrome: Chrome,
    users: Vec<UserRow>,
    error: Option<String>,
    notice: Option<String>,
}

async fn users_page(
    st: &AppState,
    s: &Session,
    status: StatusCode,
    error: Option<String>,
    notice: Option<String>,
) -> Response {
    let (users, boxes) = match (
        st.store.users().list().await,
        st.store.mailboxes().all().await,
    ) {
        (Ok(u), Ok(b)) => (u, b),
        (Err(e), _) | (_, Err(e)) => return store_failed(e),
    };
    html(
        status,
        &UsersPage {
            chrome: Chrome::new(s, "users"),
            users: users
                .into_iter()
                .map(|u| UserRow {
                    is_self: u.id == s.user_id,
                    mailboxes: boxes
                        .iter()
                        .filter(|b| b.user_id == u.id)
                        .map(|b| b.to_number.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    id: u.id,
                    username: u.username,
                    role: u.role,
                    created: when(u.created_at),
                    disabled: u.disabled_at.is_some(),
                    two_step: u.totp_enabled_at.is_some(),
                })
                .collect(),
            error,
            notice,
        },
    )
}

async fn users(State(st): State<AppState>, AdminSession(s): AdminSession) -> Response {
    users_page(&st, &s, StatusCode::OK, None, None).await
}

#[derive(Deserialize)]
struct AddUserForm {
    csrf: Option<String>,
    username: String,
    password: String,
    role: String,
}

async fn add_user_form(
    State(st): State<AppState>,
    Extension(cs): Console,
    AdminSession(s): AdminSession,
    form: Result<Form<AddUserForm>, FormRejection>,
) -> Response {
    let f = match checked_form(&s, form) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let added = {
        let Ok(_permit) = cs.hashing.acquire().await else {
            return error_page(StatusCode::SERVICE_UNAVAILABLE, "Try again.");
        };
        add_user(&st.store, &f.username, &f.password, &f.role).await
    };
    match added {
        Ok(u) => {
            crate::audit!("console_user_created", user = %u.username, role = %u.role, by = %s.username);
            users_page(
                &st,
                &s,
                StatusCode::OK,
                None,
                Some(format!("User {} added.", u.username)),
            )
            .await
        }
        Err(AddUserError::Store(e)) => store_failed(e),
        Err(e) => users_page(&st, &s, StatusCode::BAD_REQUEST, Some(e.to_string()), None).await,
    }
}

async fn set_user_disabled(
    st: AppState,
    s: Session,
    id: String,
    form: Result<Form<CsrfForm>, FormRejection>,
    disable: bool,
) -> Response {
    if let Err(r) = checked_form(&s, form) {
        return r;
    }
    if id == s.user_id {
        return users_page(
            &st,
            &s,
            StatusCode::BAD_REQUEST,
            Some("You cannot disable yourself.".into()),
            None,
        )
        .await;
    }
    let now = now_us();
    match st
        .store
        .users()
        .set_disabled(&id, disable.then_some(now), now)
        .await
    {
        Ok(true) => {}
        Ok(false) => return error_page(StatusCode::NOT_FOUND, "There is no such user."),
        Err(e) => return store_failed(e),
    }
    if disable && let Err(e) = st.store.sessions().delete_for_user(&id).await {
        return store_failed(e);
    }
    crate::audit!("console_user_disabled", user_id = %id, disabled = disable, by = %s.username);
    see_other("/users")
}

async fn disable_user(
    State(st): State<AppState>,
    AdminSession(s): AdminSession,
    Path(id): Path<String>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    set_user_disabled(st, s, id, form, true).await
}

async fn enable_user(
    State(st): State<AppState>,
    AdminSession(s): AdminSession,
    Path(id): Path<String>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    set_user_disabled(st, s, id, form, false).await
}

#[derive(Deserialize)]
struct MailboxesForm {
    csrf: Option<String>,
    numbers: String,
}

/// Replaces a staff user's mailboxes: the inbound numbers whose faxes they see (empty: none).
async fn set_user_mailboxes(
    State(st): State<AppState>,
    AdminSession(s): AdminSession,
    Path(id): Path<String>,
    form: Result<Form<MailboxesForm>, FormRejection>,
) -> Response {
    let f = match checked_form(&s, form) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let user = match st.store.users().get(&id).await {
        Ok(Some(u)) => u,
        Ok(None) => return error_page(StatusCode::NOT_FOUND, "There is no such user."),
        Err(e) => return store_failed(e),
    };
    if user.role != session::ROLE_STAFF {
        return users_page(
            &st,
            &s,
            StatusCode::BAD_REQUEST,
            Some("Administrators see every received fax; mailboxes are for staff.".into()),
            None,
        )
        .await;
    }
    let numbers = if f.numbers.trim().is_empty() {
        Vec::new()
    } else {
        match parse_numbers(&f.numbers) {
            Ok(n) => n,
            Err(e) => return users_page(&st, &s, StatusCode::BAD_REQUEST, Some(e), None).await,
        }
    };
    if let Err(e) = st.store.mailboxes().set(&user.id, &numbers).await {
        return store_failed(e);
    }
    let masked: Vec<String> = numbers.iter().map(|n| mask_number(n)).collect();
    crate::audit!("console_mailboxes_set", user = %user.username, numbers = %masked.join(","), by = %s.username);
    users_page(
        &st,
        &s,
        StatusCode::OK,
        None,
        Some(format!(
            "{} now sees the faxes to {} number(s).",
            user.username,
            numbers.len()
        )),
    )
    .await
}

async fn reset_user_totp(
    State(st): State<AppState>,
    AdminSession(s): AdminSession,
    Path(id): Path<String>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    if let Err(r) = checked_form(&s, form) {
        return r;
    }
    match reset_totp(&st.store, &id).await {
        Ok((username, ended)) => {
            crate::audit!("console_totp_reset", user = %username, sessions_ended = ended, by = %s.username);
            users_page(
                &st,
                &s,
                StatusCode::OK,
                None,
                Some(format!(
                    "Two-step login of {username} reset; they log in with the password alone and may set it up again."
                )),
            )
            .await
        }
        Err(AddUserError::Unknown(_)) => {
            error_page(StatusCode::NOT_FOUND, "There is no such user.")
        }
        Err(AddUserError::Store(e)) => store_failed(e),
        Err(e) => error_page(StatusCode::BAD_REQUEST, &e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_split_cleaned_and_checked() {
        assert_eq!(
            parse_numbers("+1 555 123 4567\n+15551234567, 555-987-6543").unwrap(),
            vec!["+15551234567".to_string(), "5559876543".to_string()]
        );
        assert!(parse_numbers("  \n").is_err());
        let e = parse_numbers("+15551234567\n+1555123456x").unwrap_err();
        assert!(e.starts_with("\"+1555123456x\" is not a fax number"), "{e}");
        assert!(parse_numbers(&"+15551234567,".repeat(3)).is_ok());
        let many: Vec<String> = (0..=MAX_NUMBERS)
            .map(|i| format!("+1555000{i:04}"))
            .collect();
        assert!(parse_numbers(&many.join("\n")).is_err());
    }

    #[test]
    fn usernames() {
        assert_eq!(normalize_username(" Ann.Lee "), Some("ann.lee".into()));
        assert_eq!(normalize_username("a b"), None);
        assert_eq!(normalize_username(""), None);
    }
}
