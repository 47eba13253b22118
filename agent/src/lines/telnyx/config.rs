//! `[telnyx]`: the Telnyx line's account and timing. Environment: `TELNYX_API_KEY` (or `TELNYX_API_KEY_FILE`),
//! `TELNYX_CONNECTION_ID`, `TELNYX_FROM_NUMBER`. The webhooks' signatures are verified by the API, which is
//! where Telnyx posts; `public_key` here is read by the API only (`TELNYX_PUBLIC_KEY`).

use std::path::PathBuf;

use serde::Deserialize;

use crate::config::{Config, Problem, Secret, flex};

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelnyxConfig {
    /// The account's API key (`TELNYX_API_KEY`, `FAXLINE_TELNYX__API_KEY` or `api_key_file`).
    pub api_key: Option<Secret>,
    pub api_key_file: Option<PathBuf>,
    /// The Programmable Fax application (connection) the faxes go out on (`TELNYX_CONNECTION_ID`).
    pub connection_id: Option<String>,
    /// The sending number, one of the account's, E.164 (`TELNYX_FROM_NUMBER`).
    pub from_number: Option<String>,
    /// The account's webhook public key: the API verifies the webhooks with it (see the API's
    /// `TELNYX_PUBLIC_KEY`); the line does not use it.
    pub public_key: Option<String>,
    /// Telnyx's API base (a local stand-in in tests).
    pub base_url: String,
    /// `normal`, `high`, `very_high`, `ultra_light` or `ultra_dark`; unset: Telnyx's default.
    pub quality: Option<String>,
    /// Ask Telnyx's status API when no webhook event came for this many seconds.
    #[serde(deserialize_with = "flex::scalar")]
    pub reconcile_after_seconds: u64,
    /// Give up waiting for a final status after this many seconds (the outcome is then unknown).
    #[serde(deserialize_with = "flex::scalar")]
    pub max_wait_seconds: u64,
    /// Each request to Telnyx must be answered within this many seconds.
    #[serde(deserialize_with = "flex::scalar")]
    pub request_timeout_seconds: u64,
    /// Allow an `http://` `base_url` (a local stand-in only).
    #[serde(deserialize_with = "flex::scalar")]
    pub allow_http: bool,
    /// While Telnyx is unreachable or refuses the key, check it again this often (seconds; ten times this
    /// while it works). The line takes no job until a check passes.
    #[serde(deserialize_with = "flex::scalar")]
    pub health_check_seconds: u64,
}

impl Default for TelnyxConfig {
    fn default() -> Self {
        Self {
            api_key: None,
            api_key_file: None,
            connection_id: None,
            from_number: None,
            public_key: None,
            base_url: "https://api.telnyx.com/v2".into(),
            quality: None,
            reconcile_after_seconds: 120,
            max_wait_seconds: 3600,
            request_timeout_seconds: 60,
            allow_http: false,
            health_check_seconds: 30,
        }
    }
}

/// Telnyx's documented fax qualities.
pub const QUALITIES: &[&str] = &["normal", "high", "very_high", "ultra_light", "ultra_dark"];

/// The Telnyx line's checks.
pub fn check(cfg: &Config, p: &mut Vec<Problem>) {
    let c = &cfg.lines.telnyx;
    if c.api_key.is_none() {
        p.push(Problem::error(
            "telnyx.api_key",
            "is required for the Telnyx line (TELNYX_API_KEY, FAXLINE_TELNYX__API_KEY or telnyx.api_key_file)",
        ));
    }
    if c.connection_id.as_deref().is_none_or(str::is_empty) {
        p.push(Problem::error(
            "telnyx.connection_id",
            "is required for the Telnyx line: the Programmable Fax application's id (TELNYX_CONNECTION_ID)",
        ));
    }
    match c.from_number.as_deref() {
        Some(n)
            if n.starts_with('+')
                && (8..=16).contains(&n.len())
                && n[1..].chars().all(|c| c.is_ascii_digit()) => {}
        Some(_) => p.push(Problem::error(
            "telnyx.from_number",
            "must be an E.164 number (+ and 7 to 15 digits), one of the Telnyx account's",
        )),
        None => p.push(Problem::error(
            "telnyx.from_number",
            "is required for the Telnyx line: the sending number (TELNYX_FROM_NUMBER)",
        )),
    }
    let base = c.base_url.to_ascii_lowercase();
    if !(base.starts_with("https://") || (c.allow_http && base.starts_with("http://"))) {
        p.push(Problem::error(
            "telnyx.base_url",
            format!(
                "{:?} must be an https URL (allow_http is for a local stand-in only)",
                c.base_url
            ),
        ));
    }
    if let Some(q) = &c.quality
        && !QUALITIES.contains(&q.as_str())
    {
        p.push(Problem::error(
            "telnyx.quality",
            format!("{q:?} is not one of {}", QUALITIES.join(", ")),
        ));
    }
    if !(1..=3600).contains(&c.health_check_seconds) {
        p.push(Problem::error(
            "telnyx.health_check_seconds",
            "must be 1..=3600",
        ));
    }
    if c.reconcile_after_seconds == 0 || c.max_wait_seconds < 60 {
        p.push(Problem::error(
            "telnyx.reconcile_after_seconds",
            "must be at least 1, and telnyx.max_wait_seconds at least 60",
        ));
    }
}
