//! `[sinch]`: the Sinch line's project, access key and timing. Environment (Faxbot's names):
//! `SINCH_PROJECT_ID`, `SINCH_API_KEY` (the access key's id), `SINCH_API_SECRET` (or `SINCH_API_SECRET_FILE`),
//! `SINCH_BASE_URL`; and Faxline's `SINCH_CALLBACK_URL`, `SINCH_FAX_FROM_E164`, `SINCH_SERVICE_ID`. The
//! webhooks' Basic credentials (`webhook_user`, `webhook_password`: Faxbot's `SINCH_INBOUND_BASIC_USER` and
//! `SINCH_INBOUND_BASIC_PASS`) are checked by the API, which is where Sinch posts; the line writes them into
//! each fax's `callbackUrl`, the only callback authentication Sinch's Fax API offers.
//!
//! Unlike Faxbot, the key id and secret never fall back to Phaxio's: one provider's credentials are not
//! another's.

use std::path::PathBuf;

use serde::Deserialize;

use crate::config::{Config, Problem, Secret, flex};

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SinchConfig {
    /// The Sinch project (`SINCH_PROJECT_ID`).
    pub project_id: Option<String>,
    /// The access key's id, the user name of every request (`SINCH_API_KEY`).
    pub key_id: Option<String>,
    /// The access key's secret, the password (`SINCH_API_SECRET`, `FAXLINE_SINCH__KEY_SECRET` or
    /// `key_secret_file`).
    pub key_secret: Option<Secret>,
    pub key_secret_file: Option<PathBuf>,
    /// The Fax API base, up to `/v3` (`SINCH_BASE_URL`; a regional host such as
    /// `https://eu1.fax.api.sinch.com/v3`, or a local stand-in in tests).
    pub base_url: String,
    /// The sending number, one of the project's, E.164 (`SINCH_FAX_FROM_E164`); unset: the service's.
    pub from_number: Option<String>,
    /// The fax service the faxes go out on (`SINCH_SERVICE_ID`); unset: the project's default service.
    pub service_id: Option<String>,
    /// Where Sinch posts each sent fax's result (`SINCH_CALLBACK_URL`): the API's public `/sinch-callback`.
    /// The line adds `?job_id=` and the webhook credentials. Unset: no webhook comes and every fax ends by the
    /// reconcile poll.
    pub callback_url: Option<String>,
    /// The user name of the webhooks' Basic credentials (`SINCH_INBOUND_BASIC_USER`), the same as the API's.
    pub webhook_user: Option<String>,
    /// The webhooks' Basic password (`SINCH_INBOUND_BASIC_PASS`, `FAXLINE_SINCH__WEBHOOK_PASSWORD` or
    /// `webhook_password_file`), the same as the API's.
    pub webhook_password: Option<Secret>,
    pub webhook_password_file: Option<PathBuf>,
    /// Ask Sinch's status API when no webhook came for this many seconds.
    #[serde(deserialize_with = "flex::scalar")]
    pub reconcile_after_seconds: u64,
    /// Give up waiting for a final status after this many seconds (the outcome is then unknown).
    #[serde(deserialize_with = "flex::scalar")]
    pub max_wait_seconds: u64,
    /// Each request to Sinch must be answered within this many seconds.
    #[serde(deserialize_with = "flex::scalar")]
    pub request_timeout_seconds: u64,
    /// Allow `http://` URLs (a local stand-in only).
    #[serde(deserialize_with = "flex::scalar")]
    pub allow_http: bool,
    /// While Sinch is unreachable or refuses the key, check it again this often (seconds; ten times this
    /// while it works). The line takes no job until a check passes.
    #[serde(deserialize_with = "flex::scalar")]
    pub health_check_seconds: u64,
}

impl Default for SinchConfig {
    fn default() -> Self {
        Self {
            project_id: None,
            key_id: None,
            key_secret: None,
            key_secret_file: None,
            base_url: "https://fax.api.sinch.com/v3".into(),
            from_number: None,
            service_id: None,
            callback_url: None,
            webhook_user: None,
            webhook_password: None,
            webhook_password_file: None,
            reconcile_after_seconds: 120,
            max_wait_seconds: 3600,
            request_timeout_seconds: 60,
            allow_http: false,
            health_check_seconds: 30,
        }
    }
}

fn https_or_allowed(url: &str, allow_http: bool) -> bool {
    let l = url.to_ascii_lowercase();
    l.starts_with("https://") || (allow_http && l.starts_with("http://"))
}

/// A project id, key id or service id: what goes into Sinch's URLs and the Basic user name.
fn plain_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// A user name or password that goes into a URL's userinfo as it is (RFC 3986 unreserved characters).
pub fn url_safe(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~'))
}

/// The Sinch line's checks.
pub fn check(cfg: &Config, p: &mut Vec<Problem>) {
    let c = &cfg.lines.sinch;
    match c.project_id.as_deref() {
        Some(id) if plain_id(id) => {}
        Some(_) => p.push(Problem::error(
            "sinch.project_id",
            "must be the project's id (letters, digits, - and _)",
        )),
        None => p.push(Problem::error(
            "sinch.project_id",
            "is required for the Sinch line (SINCH_PROJECT_ID)",
        )),
    }
    match c.key_id.as_deref() {
        Some(id) if plain_id(id) => {}
        Some(_) => p.push(Problem::error(
            "sinch.key_id",
            "must be the access key's id (letters, digits, - and _)",
        )),
        None => p.push(Problem::error(
            "sinch.key_id",
            "is required for the Sinch line: the access key's id (SINCH_API_KEY)",
        )),
    }
    if c.key_secret.is_none() {
        p.push(Problem::error(
            "sinch.key_secret",
            "is required for the Sinch line (SINCH_API_SECRET, FAXLINE_SINCH__KEY_SECRET or sinch.key_secret_file)",
        ));
    }
    if !https_or_allowed(&c.base_url, c.allow_http) {
        p.push(Problem::error(
            "sinch.base_url",
            format!(
                "{:?} must be an https URL (allow_http is for a local stand-in only)",
                c.base_url
            ),
        ));
    }
    if let Some(n) = c.from_number.as_deref()
        && !(n.starts_with('+')
            && (8..=16).contains(&n.len())
            && n[1..].chars().all(|c| c.is_ascii_digit()))
    {
        p.push(Problem::error(
            "sinch.from_number",
            "must be an E.164 number (+ and 7 to 15 digits), one of the Sinch project's",
        ));
    }
    if let Some(s) = c.service_id.as_deref()
        && !plain_id(s)
    {
        p.push(Problem::error(
            "sinch.service_id",
            "must be the fax service's id (letters, digits, - and _)",
        ));
    }
    match &c.callback_url {
        None => p.push(Problem::warning(
            "sinch.callback_url",
            "is not set (SINCH_CALLBACK_URL): Sinch will not call back, and every fax ends only by the \
             reconcile poll after sinch.reconcile_after_seconds",
        )),
        Some(u) => {
            let parsed = url::Url::parse(u).ok();
            if !https_or_allowed(u, c.allow_http) || parsed.is_none() {
                p.push(Problem::error(
                    "sinch.callback_url",
                    format!(
                        "{u:?} must be the API's public https URL of /sinch-callback (the webhook credentials travel in it)"
                    ),
                ));
            } else if parsed.is_some_and(|p| !p.username().is_empty() || p.password().is_some()) {
                p.push(Problem::error(
                    "sinch.callback_url",
                    "must not carry credentials itself; set sinch.webhook_user and sinch.webhook_password",
                ));
            }
            if c.webhook_user.as_deref().is_none_or(str::is_empty) || c.webhook_password.is_none() {
                p.push(Problem::error(
                    "sinch.webhook_user",
                    "and sinch.webhook_password are required with sinch.callback_url: the API refuses Sinch's \
                     webhooks without them (SINCH_INBOUND_BASIC_USER, SINCH_INBOUND_BASIC_PASS)",
                ));
            }
        }
    }
    if let Some(u) = c.webhook_user.as_deref()
        && !url_safe(u)
    {
        p.push(Problem::error(
            "sinch.webhook_user",
            "must be letters, digits, `-`, `.`, `_` or `~` (at most 128): it travels in the callback URL",
        ));
    }
    if let Some(s) = &c.webhook_password
        && !url_safe(s.expose())
    {
        p.push(Problem::error(
            "sinch.webhook_password",
            "must be letters, digits, `-`, `.`, `_` or `~` (at most 128; e.g. `openssl rand -hex 32`): it \
             travels in the callback URL, where other characters would need an encoding Sinch may not undo",
        ));
    }
    // Chosen by the operator (unlike the access key, which Sinch generates): as strong as the API requires.
    crate::config::validate::check_required_secret(
        p,
        "sinch",
        "webhook_password",
        c.webhook_password.as_ref(),
        false,
        16,
    );
    if !(1..=3600).contains(&c.health_check_seconds) {
        p.push(Problem::error(
            "sinch.health_check_seconds",
            "must be 1..=3600",
        ));
    }
    if c.reconcile_after_seconds == 0 || c.max_wait_seconds < 60 {
        p.push(Problem::error(
            "sinch.reconcile_after_seconds",
            "must be at least 1, and sinch.max_wait_seconds at least 60",
        ));
    }
}
