//! `[phaxio]`: the Phaxio line's account and timing. Faxbot's names work: `PHAXIO_API_KEY`,
//! `PHAXIO_API_SECRET`, `PHAXIO_CALLBACK_URL` (alias `PHAXIO_STATUS_CALLBACK_URL`). The callback's signature
//! is verified by the API (`[api] phaxio_callback_token`), which is where Phaxio posts.

use std::path::PathBuf;

use serde::Deserialize;

use crate::config::{Config, Problem, Secret, flex};

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PhaxioConfig {
    /// The account's API key (`PHAXIO_API_KEY`).
    pub api_key: Option<String>,
    /// The account's API secret (`PHAXIO_API_SECRET`, `FAXLINE_PHAXIO__API_SECRET` or `api_secret_file`).
    pub api_secret: Option<Secret>,
    pub api_secret_file: Option<PathBuf>,
    /// Phaxio's API base (a local stand-in in tests).
    pub base_url: String,
    /// Where Phaxio posts each fax's status (`PHAXIO_CALLBACK_URL`): the API's public `/phaxio-callback`.
    /// Without it no webhook comes and every job ends by the reconcile poll.
    pub callback_url: Option<String>,
    /// Ask Phaxio's status API when no webhook event came for this many seconds.
    #[serde(deserialize_with = "flex::scalar")]
    pub reconcile_after_seconds: u64,
    /// Give up waiting for a final status after this many seconds (the outcome is then unknown).
    #[serde(deserialize_with = "flex::scalar")]
    pub max_wait_seconds: u64,
    /// Each request to Phaxio must be answered within this many seconds.
    #[serde(deserialize_with = "flex::scalar")]
    pub request_timeout_seconds: u64,
    /// Allow an `http://` `base_url` (a local stand-in only).
    #[serde(deserialize_with = "flex::scalar")]
    pub allow_http: bool,
    /// While Phaxio is unreachable or refuses the credentials, check it again this often (seconds; ten
    /// times this while it works). The line takes no job until a check passes.
    #[serde(deserialize_with = "flex::scalar")]
    pub health_check_seconds: u64,
}

impl Default for PhaxioConfig {
    fn default() -> Self {
        Self {
            api_key: None,
            api_secret: None,
            api_secret_file: None,
            base_url: "https://api.phaxio.com/v2.1".into(),
            callback_url: None,
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

/// The Phaxio line's checks.
pub fn check(cfg: &Config, p: &mut Vec<Problem>) {
    let c = &cfg.lines.phaxio;
    if c.api_key.as_deref().is_none_or(str::is_empty) {
        p.push(Problem::error(
            "phaxio.api_key",
            "is required for the Phaxio line (PHAXIO_API_KEY)",
        ));
    }
    if c.api_secret.is_none() {
        p.push(Problem::error(
            "phaxio.api_secret",
            "is required for the Phaxio line (PHAXIO_API_SECRET, FAXLINE_PHAXIO__API_SECRET or phaxio.api_secret_file)",
        ));
    }
    if !https_or_allowed(&c.base_url, c.allow_http) {
        p.push(Problem::error(
            "phaxio.base_url",
            format!(
                "{:?} must be an https URL (allow_http is for a local stand-in only)",
                c.base_url
            ),
        ));
    }
    match &c.callback_url {
        None => p.push(Problem::warning(
            "phaxio.callback_url",
            "is not set (PHAXIO_CALLBACK_URL): Phaxio will not call back, and every fax ends only by the \
             reconcile poll after phaxio.reconcile_after_seconds",
        )),
        Some(u) if !https_or_allowed(u, c.allow_http) => p.push(Problem::error(
            "phaxio.callback_url",
            format!("{u:?} must be the API's public https URL of /phaxio-callback"),
        )),
        Some(_) => {}
    }
    if !(1..=3600).contains(&c.health_check_seconds) {
        p.push(Problem::error(
            "phaxio.health_check_seconds",
            "must be 1..=3600",
        ));
    }
    if c.reconcile_after_seconds == 0 || c.max_wait_seconds < 60 {
        p.push(Problem::error(
            "phaxio.reconcile_after_seconds",
            "must be at least 1, and phaxio.max_wait_seconds at least 60",
        ));
    }
}
