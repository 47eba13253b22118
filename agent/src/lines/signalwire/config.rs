//! `[signalwire]`: the SignalWire line's space, project and timing. Environment (Faxbot's names):
//! `SIGNALWIRE_SPACE_URL`, `SIGNALWIRE_PROJECT_ID`, `SIGNALWIRE_API_TOKEN` (or `SIGNALWIRE_API_TOKEN_FILE`),
//! `SIGNALWIRE_FAX_FROM_E164`, `SIGNALWIRE_STATUS_CALLBACK_URL` (alias `SIGNALWIRE_CALLBACK_URL`). The
//! webhooks' signatures are verified by the API, which is where SignalWire posts
//! (`SIGNALWIRE_WEBHOOK_SIGNING_KEY` there).

use std::path::PathBuf;

use serde::Deserialize;

use crate::config::{Config, Problem, Secret, flex};

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SignalWireConfig {
    /// The space's host (`example.signalwire.com`, `SIGNALWIRE_SPACE_URL`).
    pub space_url: Option<String>,
    /// The project id, the user name of every request (`SIGNALWIRE_PROJECT_ID`).
    pub project_id: Option<String>,
    /// The project's API token, the password (`SIGNALWIRE_API_TOKEN`, `FAXLINE_SIGNALWIRE__API_TOKEN` or
    /// `api_token_file`).
    pub api_token: Option<Secret>,
    pub api_token_file: Option<PathBuf>,
    /// The sending number, one of the project's, E.164 (`SIGNALWIRE_FAX_FROM_E164`).
    pub from_number: Option<String>,
    /// Where SignalWire posts each fax's status (the API's `/signalwire-callback`, exactly as the API's
    /// signature check expects it). Unset: under the API's public URL, where the document links are.
    pub callback_url: Option<String>,
    /// The Compatibility API base (a local stand-in in tests). Unset:
    /// `https://<space_url>/api/laml/2010-04-01`.
    pub base_url: Option<String>,
    /// `standard`, `fine` or `superfine`; unset: SignalWire's default.
    pub quality: Option<String>,
    /// Ask SignalWire's fax resource when no webhook came for this many seconds.
    #[serde(deserialize_with = "flex::scalar")]
    pub reconcile_after_seconds: u64,
    /// Give up waiting for a final status after this many seconds (the outcome is then unknown).
    #[serde(deserialize_with = "flex::scalar")]
    pub max_wait_seconds: u64,
    /// Each request to SignalWire must be answered within this many seconds.
    #[serde(deserialize_with = "flex::scalar")]
    pub request_timeout_seconds: u64,
    /// Allow an `http://` `base_url` (a local stand-in only).
    #[serde(deserialize_with = "flex::scalar")]
    pub allow_http: bool,
    /// While SignalWire is unreachable or refuses the credentials, check it again this often (seconds; ten
    /// times this while it works). The line takes no job until a check passes.
    #[serde(deserialize_with = "flex::scalar")]
    pub health_check_seconds: u64,
}

impl Default for SignalWireConfig {
    fn default() -> Self {
        Self {
            space_url: None,
            project_id: None,
            api_token: None,
            api_token_file: None,
            from_number: None,
            callback_url: None,
            base_url: None,
            quality: None,
            reconcile_after_seconds: 120,
            max_wait_seconds: 3600,
            request_timeout_seconds: 60,
            allow_http: false,
            health_check_seconds: 30,
        }
    }
}

/// SignalWire's (Twilio-compatible) fax qualities.
pub const QUALITIES: &[&str] = &["standard", "fine", "superfine"];

impl SignalWireConfig {
    /// The Compatibility API base: `base_url`, else the space's.
    pub fn api_base(&self) -> Option<String> {
        if let Some(b) = &self.base_url {
            return Some(b.trim_end_matches('/').to_owned());
        }
        let space = self.space_url.as_deref()?.trim();
        let host = space
            .trim_start_matches("https://")
            .trim_end_matches('/')
            .to_owned();
        (!host.is_empty() && !host.contains('/') && !host.contains("://"))
            .then(|| format!("https://{host}/api/laml/2010-04-01"))
    }
}

/// The SignalWire line's checks.
pub fn check(cfg: &Config, p: &mut Vec<Problem>) {
    let c = &cfg.lines.signalwire;
    if c.api_token.is_none() {
        p.push(Problem::error(
            "signalwire.api_token",
            "is required for the SignalWire line (SIGNALWIRE_API_TOKEN, FAXLINE_SIGNALWIRE__API_TOKEN or signalwire.api_token_file)",
        ));
    }
    if c.project_id.as_deref().is_none_or(str::is_empty) {
        p.push(Problem::error(
            "signalwire.project_id",
            "is required for the SignalWire line (SIGNALWIRE_PROJECT_ID)",
        ));
    }
    match c.from_number.as_deref() {
        Some(n)
            if n.starts_with('+')
                && (8..=16).contains(&n.len())
                && n[1..].chars().all(|c| c.is_ascii_digit()) => {}
        Some(_) => p.push(Problem::error(
            "signalwire.from_number",
            "must be an E.164 number (+ and 7 to 15 digits), one of the SignalWire project's",
        )),
        None => p.push(Problem::error(
            "signalwire.from_number",
            "is required for the SignalWire line: the sending number (SIGNALWIRE_FAX_FROM_E164)",
        )),
    }
    match c.api_base() {
        None => p.push(Problem::error(
            "signalwire.space_url",
            "is required for the SignalWire line: the space's host, example.signalwire.com (SIGNALWIRE_SPACE_URL)",
        )),
        Some(base) => {
            let base = base.to_ascii_lowercase();
            if !(base.starts_with("https://") || (c.allow_http && base.starts_with("http://"))) {
                p.push(Problem::error(
                    "signalwire.base_url",
                    format!("{base:?} must be an https URL (allow_http is for a local stand-in only)"),
                ));
            }
        }
    }
    if let Some(u) = &c.callback_url {
        let lower = u.to_ascii_lowercase();
        if !(lower.starts_with("https://") || (c.allow_http && lower.starts_with("http://"))) {
            p.push(Problem::error(
                "signalwire.callback_url",
                format!("{u:?} must be an https URL"),
            ));
        }
    }
    if let Some(q) = &c.quality
        && !QUALITIES.contains(&q.as_str())
    {
        p.push(Problem::error(
            "signalwire.quality",
            format!("{q:?} is not one of {}", QUALITIES.join(", ")),
        ));
    }
    if !(1..=3600).contains(&c.health_check_seconds) {
        p.push(Problem::error(
            "signalwire.health_check_seconds",
            "must be 1..=3600",
        ));
    }
    if c.reconcile_after_seconds == 0 || c.max_wait_seconds < 60 {
        p.push(Problem::error(
            "signalwire.reconcile_after_seconds",
            "must be at least 1, and signalwire.max_wait_seconds at least 60",
        ));
    }
}
