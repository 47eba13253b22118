//! The Account page: a user's own two-step login (TOTP). Set up shows the secret once (otpauth URI
//! and base32 text) and stores it sealed but unconfirmed; it takes effect only when a valid code
//! from the user's app confirms it. Turning it off needs a current code too, so a session left open
//! on a shared computer cannot remove it. Admins reset a user's two-step login on the Users page
//! (or `faxline user reset-totp`), for a lost phone.

use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::page::{Chrome, error_page, html, when};
use super::session::Session;
use super::totp;
use super::{CsrfForm, PostedForm, checked_form, store_failed};
use crate::server::AppState;
use crate::store::ConsoleUser;
use faxline_protocol::time::{now_s, now_us};

/// What set up shows, once.
struct Setup {
    uri: String,
    base32: String,
}

#[derive(Template)]
#[template(path = "console/account.html")]
struct AccountPage {
    chrome: Chrome,
    role: String,
    totp_since: Option<String>,
    setup: Option<Setup>,
    error: Option<String>,
    notice: Option<String>,
}

async fn account_page(
    st: &AppState,
    s: &Session,
    status: StatusCode,
    setup: Option<Setup>,
    error: Option<String>,
    notice: Option<String>,
) -> Response {
    let user = match st.store.users().get(&s.user_id).await {
        Ok(Some(u)) => u,
        Ok(None) => return error_page(StatusCode::NOT_FOUND, "There is no such user."),
        Err(e) => return store_failed(e),
    };
    html(
        status,
        &AccountPage {
            chrome: Chrome::new(s, "account"),
            role: user.role,
            totp_since: user.totp_enabled_at.map(when),
            setup,
            error,
            notice,
        },
    )
}

pub(super) async fn show(State(st): State<AppState>, s: Session) -> Response {
    account_page(&st, &s, StatusCode::OK, None, None, None).await
}

/// Whether `code` is a current code of `user`'s secret that was not used before; an accepted code
/// is recorded (and confirms a secret only set up). The login's second step, confirming and turning
/// off all come here.
pub(super) async fn verify_code(
    st: &AppState,
    user: &ConsoleUser,
    code: &str,
) -> Result<bool, Response> {
    let t = st
        .store
        .users()
        .totp(&user.id)
        .await
        .map_err(store_failed)?;
    let Some(sealed) = t.and_then(|t| t.totp_secret) else {
        return Ok(false);
    };
    let secret = match totp::open(&st.server_secret, &user.id, &sealed) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(user = %user.username, error = %e, "console two-step login secret unreadable");
            return Err(error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Your two-step login cannot be checked. Ask an administrator to reset it.",
            ));
        }
    };
    let Some(step) = totp::check(&secret, &user.username, code, now_s().max(0) as u64) else {
        return Ok(false);
    };
    st.store
        .users()
        .use_totp_step(&user.id, &sealed, step as i64, now_us())
        .await
        .map_err(store_failed)
}

async fn current_user(st: &AppState, s: &Session) -> Result<ConsoleUser, Response> {
    st.store
        .users()
        .get(&s.user_id)
        .await
        .map_err(store_failed)?
        .ok_or_else(|| error_page(StatusCode::NOT_FOUND, "There is no such user."))
}

/// Starts set up: a new secret, stored sealed and unconfirmed, shown once. Starting again replaces
/// an unconfirmed one. Refused while two-step login is on (turning it off takes a code), so a
/// session left open cannot swap the secret.
pub(super) async fn setup(
    State(st): State<AppState>,
    s: Session,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    if let Err(r) = checked_form(&s, form) {
        return r;
    }
    let user = match current_user(&st, &s).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    if user.totp_enabled_at.is_some() {
        return account_page(
            &st,
            &s,
            StatusCode::CONFLICT,
            None,
            Some("Two-step login is on. Turn it off first to set up another phone.".into()),
            None,
        )
        .await;
    }
    let secret = totp::new_secret();
    let shown = totp::otpauth_uri(&secret, &user.username)
        .and_then(|uri| Ok((uri, totp::seal(&st.server_secret, &user.id, &secret)?)));
    let (uri, sealed) = match shown {
        Ok(v) => v,
        Err(e) => {
            tracing::error!(error = %e, "cannot set up two-step login");
            return error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Two-step login cannot be set up.",
            );
        }
    };
    match st
        .store
        .users()
        .set_totp_pending(&user.id, &sealed, now_us())
        .await
    {
        Ok(true) => {}
        Ok(false) => return error_page(StatusCode::NOT_FOUND, "There is no such user."),
        Err(e) => return store_failed(e),
    }
    crate::audit!("console_totp_setup_started", user = %s.username, ip = %s.ip);
    account_page(
        &st,
        &s,
        StatusCode::OK,
        Some(Setup {
            uri,
            base32: totp::base32_grouped(&secret),
        }),
        None,
        None,
    )
    .await
}

#[derive(Deserialize)]
pub(super) struct CodeForm {
    csrf: Option<String>,
    code: String,
}

impl PostedForm for CodeForm {
    fn csrf(&self) -> Option<&str> {
        self.csrf.as_deref()
    }
}

/// Confirms set up with a code from the app: from now on login asks for a code.
pub(super) async fn confirm(
    State(st): State<AppState>,
    s: Session,
    form: Result<Form<CodeForm>, FormRejection>,
) -> Response {
    let f = match checked_form(&s, form) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let user = match current_user(&st, &s).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    if user.totp_enabled_at.is_some() {
        return account_page(&st, &s, StatusCode::OK, None, None, None).await;
    }
    match verify_code(&st, &user, &f.code).await {
        Ok(true) => {
            crate::audit!("console_totp_enabled", user = %s.username, ip = %s.ip);
            account_page(
                &st,
                &s,
                StatusCode::OK,
                None,
                None,
                Some("Two-step login is on: from now on, log in with your password and a code from the app.".into()),
            )
            .await
        }
        Ok(false) => {
            crate::audit!("console_totp_confirm_failed", user = %s.username, ip = %s.ip);
            account_page(
                &st,
                &s,
                StatusCode::BAD_REQUEST,
                None,
                Some("That code is not right (check the phone's clock), or set up again. Two-step login is still off.".into()),
                None,
            )
            .await
        }
        Err(r) => r,
    }
}

/// Turns the user's own two-step login off; a current code is required.
pub(super) async fn disable(
    State(st): State<AppState>,
    s: Session,
    form: Result<Form<CodeForm>, FormRejection>,
) -> Response {
    let f = match checked_form(&s, form) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let user = match current_user(&st, &s).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    if user.totp_enabled_at.is_none() {
        return account_page(&st, &s, StatusCode::OK, None, None, None).await;
    }
    match verify_code(&st, &user, &f.code).await {
        Ok(true) => {}
        Ok(false) => {
            crate::audit!("console_totp_disable_refused", user = %s.username, ip = %s.ip);
            return account_page(
                &st,
                &s,
                StatusCode::BAD_REQUEST,
                None,
                Some("That code is not right; two-step login stays on.".into()),
                None,
            )
            .await;
        }
        Err(r) => return r,
    }
    if let Err(e) = st.store.users().clear_totp(&user.id, now_us()).await {
        return store_failed(e);
    }
    crate::audit!("console_totp_disabled", user = %s.username, ip = %s.ip);
    account_page(
        &st,
        &s,
        StatusCode::OK,
        None,
        None,
        Some("Two-step login is off.".into()),
    )
    .await
}
