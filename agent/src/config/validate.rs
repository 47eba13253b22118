//! Judging a loaded configuration: every problem at once, each naming the setting, none printing a secret.

use std::fmt;

use super::net::is_local_host;
use super::secret::{SecretSource, weakness};
use super::{AGENT_SECRET_MIN_LEN, Config, FAX_RATES};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The agent refuses to start.
    Error,
    /// Works, but probably not what you want.
    Warning,
}

/// One thing wrong with the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub severity: Severity,
    /// The setting, as `section.key` (or an environment variable name).
    pub setting: String,
    /// What is wrong, without the value when it is a secret.
    pub message: String,
}

impl Problem {
    pub fn error(setting: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            setting: setting.into(),
            message: message.into(),
        }
    }
    pub fn warning(setting: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            setting: setting.into(),
            message: message.into(),
        }
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{sev}: {}: {}", self.setting, self.message)
    }
}

/// The `--check` report: one line per problem, errors first, then a summary line.
pub fn render_problems(problems: &[Problem]) -> String {
    let mut sorted: Vec<&Problem> = problems.iter().collect();
    sorted.sort_by_key(|a| a.severity);
    let mut out = String::new();
    for p in &sorted {
        out.push_str(&p.to_string());
        out.push('\n');
    }
    let errors = problems.iter().filter(|p| p.is_error()).count();
    let warnings = problems.len() - errors;
    if errors == 0 {
        out.push_str(&format!("configuration OK ({warnings} warning(s))\n"));
    } else {
        out.push_str(&format!(
            "configuration has {errors} error(s) and {warnings} warning(s)\n"
        ));
    }
    out
}

/// Check everything that can be checked without connecting anywhere. Returns all problems (empty = fine).
pub fn check_config(cfg: &Config) -> Vec<Problem> {
    let mut p = cfg.load_problems.clone();
    let needs_api = cfg.line.kind.needs_api();

    check_secrets(cfg, &mut p, needs_api);
    crate::lines::check_config(cfg, &mut p);
    check_api_client(cfg, &mut p, needs_api);
    check_fax(cfg, &mut p);
    check_paths(cfg, &mut p);
    check_retry_limits(cfg, &mut p);
    check_metrics(cfg, &mut p);
    check_receive_only(cfg, &mut p);
    p
}

/// Only the lines that answer calls at the agent (Asterisk's, and the agent's own SIP line) receive anything
/// without leasing jobs; a receive-only agent on any other line would do nothing.
fn check_receive_only(cfg: &Config, p: &mut Vec<Problem>) {
    use crate::lines::LineKind;
    if cfg.agent.receive_only && !matches!(cfg.line.kind, LineKind::Asterisk | LineKind::Sip) {
        p.push(Problem::error(
            "agent.receive_only",
            format!(
                "the {} line receives no calls at the agent, so a receive-only agent on it would do nothing; \
                 use it with line.kind = \"asterisk\" or \"sip\"",
                cfg.line.kind.as_str()
            ),
        ));
    }
}

/// The metrics endpoint has no authentication: say so when it listens beyond this machine.
fn check_metrics(cfg: &Config, p: &mut Vec<Problem>) {
    if let Some(addr) = cfg.agent.metrics_listen
        && !addr.ip().is_loopback()
    {
        p.push(Problem::warning(
            "agent.metrics_listen",
            format!(
                "{addr} is not a loopback address: anyone who reaches it reads the agent's metrics \
                 (no numbers or secrets, but call counts); restrict it with a firewall"
            ),
        ));
    }
}

/// `FAXLINE_<SECTION>__<KEY>`.
pub(crate) fn env_name(section: &str, key: &str) -> String {
    format!(
        "{}{}__{}",
        super::env::PREFIX,
        section.to_ascii_uppercase(),
        key.to_ascii_uppercase()
    )
}

/// A secret that must be set when `needed`, and be strong when set.
pub(crate) fn check_required_secret(
    p: &mut Vec<Problem>,
    section: &str,
    key: &str,
    secret: Option<&super::Secret>,
    needed: bool,
    min: usize,
) {
    let name = format!("{section}.{key}");
    match secret {
        None if needed => p.push(Problem::error(
            &name,
            format!(
                "is required and has no default; set {} or {}_FILE (a secret file)",
                env_name(section, key),
                env_name(section, key)
            ),
        )),
        None => {}
        Some(s) => {
            if let Some(w) = weakness(s.expose(), min) {
                p.push(Problem::error(
                    &name,
                    format!("{w}{}", describe_source(s.source())),
                ));
            }
        }
    }
}

fn check_secrets(cfg: &Config, p: &mut Vec<Problem>, needs_api: bool) {
    check_required_secret(
        p,
        "api_client",
        "agent_secret",
        cfg.api_client.agent_secret.as_ref(),
        needs_api || cfg.api_client.base_url.is_some(),
        AGENT_SECRET_MIN_LEN,
    );
    // The same value in two places: one leak opens both doors (and AMI's secret is weaker protected).
    let all = cfg.secrets();
    for i in 0..all.len() {
        for j in i + 1..all.len() {
            let (a, sa) = &all[i];
            let (b, sb) = &all[j];
            let shared_by_design = [a.as_str(), b.as_str()].contains(&"api_client.agent_secret")
                && (super::AGENT_SECRET_ALIASES.contains(&a.as_str())
                    || super::AGENT_SECRET_ALIASES.contains(&b.as_str()));
            if !shared_by_design && !sa.expose().is_empty() && sa.expose() == sb.expose() {
                p.push(Problem::error(
                    a.clone(),
                    format!("is the same value as {b}; every secret must be different"),
                ));
            }
        }
    }
    // A secret equal to a user name or identifier is as good as public.
    let mut names = vec![("api_client.agent_id", cfg.api_client.agent_id.as_deref())];
    names.extend(cfg.lines.identifiers());
    for (secret_name, s) in &all {
        for (id_name, id) in &names {
            if let Some(id) = id.filter(|i| !i.is_empty())
                && s.expose().eq_ignore_ascii_case(id)
            {
                p.push(Problem::error(
                    secret_name.clone(),
                    format!("equals {id_name}; use a random value"),
                ));
            }
        }
    }
}

pub(crate) fn describe_source(s: &SecretSource) -> String {
    match s {
        SecretSource::Inline | SecretSource::Unrecorded => String::new(),
        SecretSource::Env(var) => format!(" (from {var})"),
        SecretSource::File(path) => format!(" (from {})", path.display()),
    }
}

fn check_api_client(cfg: &Config, p: &mut Vec<Problem>, needs_api: bool) {
    let c = &cfg.api_client;
    let Some(base) = &c.base_url else {
        if needs_api {
            p.push(Problem::error(
                "api_client.base_url",
                format!(
                    "is required for line kind `{}` (the agent gets its jobs from the API); set {}",
                    cfg.line.kind.as_str(),
                    env_name("api_client", "base_url")
                ),
            ));
        }
        return;
    };
    match url::Url::parse(base) {
        Err(e) => p.push(Problem::error(
            "api_client.base_url",
            format!("{base:?} is not a URL: {e}"),
        )),
        Ok(u) => {
            let host = u.host_str().unwrap_or("");
            match u.scheme() {
                "https" => {}
                "http" if c.allow_http && is_local_host(host) => {}
                "http" if c.allow_http => p.push(Problem::error(
                    "api_client.base_url",
                    format!(
                        "plain http is only allowed to a local host (loopback, private address or container name), \
                         not {host}; use https"
                    ),
                )),
                "http" => p.push(Problem::error(
                    "api_client.base_url",
                    "must use https (set api_client.allow_http = true only for a local, private connection)",
                )),
                other => p.push(Problem::error(
                    "api_client.base_url",
                    format!("unsupported scheme {other:?}; use https"),
                )),
            }
            if !u.username().is_empty() || u.password().is_some() {
                p.push(Problem::error(
                    "api_client.base_url",
                    "must not contain credentials; the agent signs requests with api_client.agent_secret",
                ));
            }
        }
    }
    match &c.agent_id {
        None => p.push(Problem::error(
            "api_client.agent_id",
            format!("is required; set {}", env_name("api_client", "agent_id")),
        )),
        Some(id) if !valid_token(id, 64) => p.push(Problem::error(
            "api_client.agent_id",
            "must be 1-64 characters of letters, digits, '_' or '-'",
        )),
        Some(_) => {}
    }
    if c.timeout_secs == 0 {
        p.push(Problem::error(
            "api_client.timeout_secs",
            "must be at least 1",
        ));
    }
}

fn check_fax(cfg: &Config, p: &mut Vec<Problem>) {
    let f = &cfg.fax;
    if f.local_station_id.chars().count() > 20
        || !f
            .local_station_id
            .chars()
            .all(|c| c.is_ascii_digit() || c == '+' || c == ' ')
    {
        p.push(Problem::error(
            "fax.local_station_id",
            "must be at most 20 characters of digits, '+' and spaces (T.30 station identifier)",
        ));
    }
    if f.header_info.chars().count() > 50
        || f.header_info
            .chars()
            .any(|c| c.is_control() || !c.is_ascii() || ",$;\\\"".contains(c))
    {
        p.push(Problem::error(
            "fax.header_info",
            "must be at most 50 printable ASCII characters without , $ ; \\ or \"",
        ));
    }
    for (name, rate) in [("fax.max_rate", f.max_rate), ("fax.min_rate", f.min_rate)] {
        if !FAX_RATES.contains(&rate) {
            p.push(Problem::error(
                name,
                format!("{rate} is not a fax rate (one of {FAX_RATES:?})"),
            ));
        }
    }
    if f.min_rate > f.max_rate {
        p.push(Problem::error(
            "fax.min_rate",
            "is greater than fax.max_rate",
        ));
    }
    if !(1000..=30000).contains(&f.t38_timeout_ms) {
        p.push(Problem::error("fax.t38_timeout_ms", "must be 1000..=30000"));
    }
}

fn check_paths(cfg: &Config, p: &mut Vec<Problem>) {
    if !cfg.spool.dir.is_absolute() {
        p.push(Problem::error("spool.dir", "must be an absolute path"));
    }
}

fn check_retry_limits(cfg: &Config, p: &mut Vec<Problem>) {
    let r = &cfg.retry;
    if !(1..=10).contains(&r.max_attempts) {
        p.push(Problem::error(
            "retry.max_attempts",
            "must be 1..=10 (1 = never retry)",
        ));
    }
    if r.backoff_initial_secs == 0 {
        p.push(Problem::error(
            "retry.backoff_initial_secs",
            "must be at least 1",
        ));
    }
    if r.backoff_max_secs < r.backoff_initial_secs {
        p.push(Problem::error(
            "retry.backoff_max_secs",
            "is smaller than retry.backoff_initial_secs",
        ));
    }
    if !(r.backoff_multiplier.is_finite() && (1.0..=10.0).contains(&r.backoff_multiplier)) {
        p.push(Problem::error(
            "retry.backoff_multiplier",
            "must be 1.0..=10.0",
        ));
    }
    let l = &cfg.limits;
    if !(60..=86400).contains(&l.max_call_seconds) {
        // Named as the user wrote it: the deprecated alias when that is where the value came from.
        let setting = if cfg.lines.asterisk.max_call_seconds == Some(l.max_call_seconds) {
            "asterisk.max_call_seconds"
        } else {
            "limits.max_call_seconds"
        };
        p.push(Problem::error(setting, "must be 60..=86400"));
    }
    if l.max_calls == 0 {
        p.push(Problem::error("limits.max_calls", "must be at least 1"));
    }
    if l.max_calls_per_trunk == 0 {
        p.push(Problem::error(
            "limits.max_calls_per_trunk",
            "must be at least 1",
        ));
    }
    if !(64..=65_536).contains(&l.render_memory_mb) {
        p.push(Problem::error(
            "limits.render_memory_mb",
            "must be 64..=65536 (MB)",
        ));
    }
    if !(1..=600).contains(&l.render_seconds_per_page) {
        p.push(Problem::error(
            "limits.render_seconds_per_page",
            "must be 1..=600 (seconds)",
        ));
    }
    if l.max_calls_per_trunk > l.max_calls {
        p.push(Problem::warning(
            "limits.max_calls_per_trunk",
            "is larger than limits.max_calls, so limits.max_calls applies",
        ));
    }
}

/// Identifier syntax used in config sections and dialplan-visible names.
pub(crate) fn valid_token(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

pub(crate) fn valid_host(h: &str) -> bool {
    let t = h.trim_start_matches('[').trim_end_matches(']');
    if t.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    !t.is_empty()
        && t.len() <= 253
        && !t.starts_with(['-', '.'])
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}
