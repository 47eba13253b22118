//! The configuration of the `faxline` binary: one TOML file, environment overrides, secrets from the
//! environment or secret files, and the checks behind `faxline agent --check`.
//!
//! Loading ([`Config::load`]) only parses and merges; judging ([`check_config`]) is separate so that `--check`
//! can print every problem at once instead of stopping at the first. The lines' sections (`[ami]`, `[asterisk]`,
//! `[sip]`) are defined and checked by their lines ([`Config::lines`], [`crate::lines`]); the `[api]` section
//! belongs to the API crate and is kept here as a raw table ([`Config::api`]).

mod env;
pub(crate) mod flex;
mod net;
mod secret;
pub(crate) mod validate;

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::lines::{LineKind, LineSections};

pub use env::{CONFIG_PATH_VAR, Env, FAXBOT_NAMES, PREFIX as ENV_PREFIX};
pub use net::{AddrClass, HostVerdict, classify, is_local_host, judge_host};
pub use secret::{Secret, SecretSource, Weakness, weakness};
pub use validate::{Problem, Severity, check_config, render_problems};

/// Minimum length of the agent's API secret (bytes).
pub const AGENT_SECRET_MIN_LEN: usize = 32;

/// Why the configuration could not be loaded at all (syntax, types, unknown settings, unreadable file).
/// Everything that parses but is wrong is a [`Problem`] from [`check_config`] instead.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{origin}: {message}")]
    Parse { origin: String, message: String },
    #[error("environment variable {var}: unknown section `{section}` (known: {known})")]
    UnknownEnvSection {
        var: String,
        section: String,
        known: String,
    },
    #[error("environment variable {var}: `{key}` must be a plain key, not a nested one")]
    NestedEnvKey { var: String, key: String },
}

/// The whole configuration.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub agent: AgentConfig,
    pub line: LineConfig,
    /// The lines' own sections (`[ami]`, `[asterisk]`, `[sip]`), each defined and checked by its line.
    #[serde(skip)]
    pub lines: LineSections,
    pub fax: FaxConfig,
    pub spool: SpoolConfig,
    pub retry: RetryConfig,
    pub limits: LimitsConfig,
    pub api_client: ApiClientConfig,
    /// The API server's section, parsed by `faxline-api`. Raw here; the agent only scans it for secrets that
    /// must not be reused.
    pub api: RawSection,
    /// Problems found while loading (unreadable secret files, secret given twice, inline secrets…), reported by
    /// [`check_config`] together with everything else.
    #[serde(skip)]
    pub load_problems: Vec<Problem>,
    /// Secrets configured outside the agent's sections that must not be reused: (setting name, value).
    #[serde(skip)]
    pub foreign_secrets: Vec<(String, Secret)>,
    /// The file this configuration was read from, if any.
    #[serde(skip)]
    pub source_path: Option<PathBuf>,
}

/// A section owned by another crate, kept as parsed TOML (environment overrides applied, as strings). Its
/// `Debug` shows key names only, because it may hold secrets.
#[derive(Clone, Default, Deserialize)]
#[serde(transparent)]
pub struct RawSection(pub toml::Table);

impl std::fmt::Debug for RawSection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

/// `[agent]`: the daemon itself.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AgentConfig {
    /// `tracing` filter, e.g. `info` or `faxline_agent=debug,info`.
    pub log_level: String,
    pub log_format: LogFormat,
    /// How often to ask the API for work when idle (seconds).
    #[serde(deserialize_with = "flex::scalar")]
    pub lease_poll_secs: u64,
    /// On shutdown (SIGTERM, SIGINT), the time running calls get (seconds): they may finish until a reserve of
    /// a quarter of it (at least 2 s, at most 10 s) is left, then they are hung up and their results reported
    /// within the reserve. 0: stop at once (the call journal reconciles at the next start).
    #[serde(deserialize_with = "flex::scalar")]
    pub shutdown_grace_secs: u64,
    /// Where the agent serves Prometheus metrics (`GET /metrics`, no authentication); off when absent. Keep it on
    /// loopback or a monitoring network: `faxline agent --check` warns about any other address. `faxline
    /// serve` shows the agent's metrics on the API's `/metrics` as well.
    #[serde(deserialize_with = "flex::opt_scalar")]
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// Answer inbound calls only: lease no outbound jobs (the agent still polls the API at `lease_poll_secs`, so
    /// readiness sees it and its line). For a receiving host beside sending ones on one API, e.g. a site whose
    /// trunk only delivers its DIDs.
    #[serde(deserialize_with = "flex::scalar")]
    pub receive_only: bool,
}

impl Default for AgentConfig {
    fn default() -> Self {
        Self {
            log_level: "info".into(),
            log_format: LogFormat::Text,
            lease_poll_secs: 5,
            shutdown_grace_secs: 120,
            metrics_listen: None,
            receive_only: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Text,
    Json,
}

/// `[line]`: which line carries the faxes.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LineConfig {
    pub kind: LineKind,
    /// Time compression of the loopback line (1 = real time; tests and demos use more).
    #[serde(deserialize_with = "flex::scalar")]
    pub speed: u32,
}

impl Default for LineConfig {
    fn default() -> Self {
        Self {
            kind: LineKind::Loopback,
            speed: 1,
        }
    }
}

/// `[fax]`: T.30 settings shared by both kinds of line.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaxConfig {
    /// TSI/CSI: up to 20 characters of digits, `+` and spaces (T.30).
    pub local_station_id: String,
    /// Page header text (up to 50 characters).
    pub header_info: String,
    /// Error correction mode.
    #[serde(deserialize_with = "flex::scalar")]
    pub ecm: bool,
    /// Fall back to G.711 audio fax when T.38 is refused (SendFAX/ReceiveFAX `f`).
    #[serde(deserialize_with = "flex::scalar")]
    pub audio_fallback: bool,
    #[serde(deserialize_with = "flex::scalar")]
    pub max_rate: u32,
    #[serde(deserialize_with = "flex::scalar")]
    pub min_rate: u32,
    /// How long to wait for T.38 negotiation (res_fax `t38timeout`, milliseconds).
    #[serde(deserialize_with = "flex::scalar")]
    pub t38_timeout_ms: u32,
    /// FAXStatus progress events (res_fax `statusevents`, app option `s`).
    #[serde(deserialize_with = "flex::scalar")]
    pub status_events: bool,
}

impl Default for FaxConfig {
    fn default() -> Self {
        Self {
            local_station_id: String::new(),
            header_info: String::new(),
            ecm: true,
            audio_fallback: true,
            max_rate: 14400,
            min_rate: 4800,
            t38_timeout_ms: 5000,
            status_events: true,
        }
    }
}

/// The fax modem rates T.30/res_fax accept.
pub const FAX_RATES: &[u32] = &[2400, 4800, 7200, 9600, 12000, 14400];

/// `[spool]`: where documents wait. `out/` outgoing TIFFs, `in/` received TIFFs, `queue/` inbound faxes not yet
/// delivered to the API (durable).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SpoolConfig {
    #[serde(deserialize_with = "flex::scalar")]
    pub dir: PathBuf,
    /// Delete a received TIFF once the API has accepted its PDF.
    #[serde(deserialize_with = "flex::scalar")]
    pub delete_after_upload: bool,
    /// Delete an outgoing TIFF once its job reached a final state.
    #[serde(deserialize_with = "flex::scalar")]
    pub delete_after_send: bool,
}

impl Default for SpoolConfig {
    fn default() -> Self {
        Self {
            dir: PathBuf::from("/var/spool/faxline"),
            delete_after_upload: true,
            delete_after_send: true,
        }
    }
}

impl SpoolConfig {
    pub fn outgoing_dir(&self) -> PathBuf {
        self.dir.join("out")
    }
    pub fn incoming_dir(&self) -> PathBuf {
        self.dir.join("in")
    }
    pub fn queue_dir(&self) -> PathBuf {
        self.dir.join("queue")
    }
}

/// `[retry]`: which failed attempts are retried, how often, and how long to wait. At most one live call per job
/// is an invariant of the agent, independent of these settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetryConfig {
    /// Total attempts per job including the first (1 = never retry).
    #[serde(deserialize_with = "flex::scalar")]
    pub max_attempts: u32,
    #[serde(deserialize_with = "flex::list")]
    pub retry_on: Vec<RetryReason>,
    #[serde(deserialize_with = "flex::scalar")]
    pub backoff_initial_secs: u64,
    #[serde(deserialize_with = "flex::scalar")]
    pub backoff_max_secs: u64,
    #[serde(deserialize_with = "flex::scalar")]
    pub backoff_multiplier: f64,
    /// After a failure during the fax transfer, retry once with ECM off (telephony.md §6.7).
    #[serde(deserialize_with = "flex::scalar")]
    pub retry_without_ecm: bool,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            retry_on: vec![
                RetryReason::Busy,
                RetryReason::NoAnswer,
                RetryReason::Congestion,
                RetryReason::ChannelUnavailable,
            ],
            backoff_initial_secs: 60,
            backoff_max_secs: 1800,
            backoff_multiplier: 2.0,
            retry_without_ecm: true,
        }
    }
}

impl RetryConfig {
    /// Delay before attempt `n` (2 = first retry).
    pub fn backoff(&self, attempt: u32) -> std::time::Duration {
        let exp = attempt.saturating_sub(2).min(63) as i32;
        let secs = self.backoff_initial_secs as f64 * self.backoff_multiplier.max(1.0).powi(exp);
        std::time::Duration::from_secs_f64(secs.min(self.backoff_max_secs as f64).max(0.0))
    }
}

/// Failure classes a job may be retried for. A call whose outcome is unknown (AMI lost mid-call, agent killed)
/// is deliberately not a retry reason: retrying could send the fax twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetryReason {
    Busy,
    NoAnswer,
    Congestion,
    ChannelUnavailable,
    /// T.38 refused and no audio fallback, or negotiation failed.
    Negotiation,
    /// The call connected but the fax transfer failed (training, ECM, timeouts).
    TransferFailed,
}

/// `[limits]`: concurrency, the length of a call, and the budget of every render of an untrusted document (read
/// by the API too).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Hard limit on one call on any line, answered or not (seconds): a watchdog against calls that never end.
    /// `[asterisk] max_call_seconds` is its deprecated alias.
    #[serde(deserialize_with = "flex::scalar")]
    pub max_call_seconds: u32,
    /// Calls at once on this host (all lines).
    #[serde(deserialize_with = "flex::scalar")]
    pub max_calls: u32,
    /// Calls at once on the trunk (carriers limit channels).
    #[serde(deserialize_with = "flex::scalar")]
    pub max_calls_per_trunk: u32,
    /// Memory one render may use, in MB (the render worker's address-space limit above its own size).
    #[serde(deserialize_with = "flex::scalar")]
    pub render_memory_mb: u64,
    /// Time one page may take to render, in seconds.
    #[serde(deserialize_with = "flex::scalar")]
    pub render_seconds_per_page: u64,
    /// Where renders run: set by the `faxline` binary to its own `render-worker`; in-process otherwise.
    #[serde(skip)]
    pub render_isolation: faxline_document::worker::Isolation,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_call_seconds: 3600,
            max_calls: 8,
            max_calls_per_trunk: 4,
            render_memory_mb: 512,
            render_seconds_per_page: 20,
            render_isolation: faxline_document::worker::Isolation::InProcess,
        }
    }
}

impl LimitsConfig {
    /// The render options of the budget.
    pub fn render_options(&self) -> faxline_document::RenderOptions {
        faxline_document::RenderOptions {
            memory_limit: self.render_memory_mb.saturating_mul(1024 * 1024),
            page_timeout: std::time::Duration::from_secs(self.render_seconds_per_page),
            ..faxline_document::RenderOptions::default()
        }
    }
}

/// `[api_client]`: how the agent reaches the Faxline API.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiClientConfig {
    /// Base URL of the API. HTTPS, unless `allow_http` and the host is local (loopback, private, container name).
    pub base_url: Option<String>,
    pub agent_id: Option<String>,
    /// HMAC key shared with the API; at least 32 random bytes; from env or a file.
    pub agent_secret: Option<Secret>,
    pub agent_secret_file: Option<PathBuf>,
    /// Allow `http://` to a local host (e.g. the API container on the compose network).
    #[serde(deserialize_with = "flex::scalar")]
    pub allow_http: bool,
    #[serde(deserialize_with = "flex::scalar")]
    pub timeout_secs: u64,
}

impl Default for ApiClientConfig {
    fn default() -> Self {
        Self {
            base_url: None,
            agent_id: None,
            agent_secret: None,
            agent_secret_file: None,
            allow_http: false,
            timeout_secs: 30,
        }
    }
}

/// The agent's own sections besides the lines' ([`crate::lines::SECTIONS`]), for env override validation.
pub const SECTIONS: &[&str] = &[
    "agent",
    "line",
    "fax",
    "spool",
    "retry",
    "limits",
    "api_client",
    "api",
];

/// Whether `name` is a section of the agent's configuration (its own or a line's).
pub fn is_section(name: &str) -> bool {
    SECTIONS.contains(&name) || crate::lines::SECTIONS.contains(&name)
}

/// The sections of a configuration file that no part of `faxline` reads (a typo such as `[amy]` would
/// otherwise be ignored in silence). The API reads only `[api]`, so commands that load the file for the
/// API alone ask this.
pub fn unknown_sections(text: &str) -> Result<Vec<String>, toml::de::Error> {
    let table: toml::Table = text.parse()?;
    Ok(table
        .iter()
        .filter(|(k, v)| v.is_table() && !is_section(k))
        .map(|(k, _)| k.clone())
        .collect())
}

/// Every section name, for messages.
fn all_sections() -> String {
    let mut all: Vec<&str> = SECTIONS.to_vec();
    all.extend_from_slice(crate::lines::SECTIONS);
    all.join(", ")
}

/// The secret settings: (section, key). Each also has `<key>_file`.
pub fn secret_settings() -> impl Iterator<Item = (&'static str, &'static str)> {
    [("api_client", "agent_secret")]
        .into_iter()
        .chain(crate::lines::SECRET_SETTINGS.iter().copied())
}

impl Config {
    /// Load the configuration: built-in defaults, then the TOML file (`path`, else `FAXLINE_CONFIG`, else none),
    /// then Faxbot's environment names, then `FAXLINE_<SECTION>__<KEY>`; then resolve secrets from `*_file`.
    /// Only fatal errors are returned; everything else is collected for [`check_config`].
    pub fn load(path: Option<&Path>, env: &Env) -> Result<Config, ConfigError> {
        let path: Option<PathBuf> = path
            .map(Path::to_path_buf)
            .or_else(|| env.get(CONFIG_PATH_VAR).map(PathBuf::from));
        let (text, origin) = match &path {
            Some(p) => (
                std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
                    path: p.clone(),
                    source,
                })?,
                p.display().to_string(),
            ),
            None => (String::new(), "built-in defaults".to_owned()),
        };
        let mut cfg = Self::from_toml_str(&text, &origin, env)?;
        cfg.source_path = path;
        Ok(cfg)
    }

    /// Like [`Config::load`] with the TOML text given directly (`origin` names it in messages).
    pub fn from_toml_str(text: &str, origin: &str, env: &Env) -> Result<Config, ConfigError> {
        let mut table: toml::Table =
            text.parse()
                .map_err(|e: toml::de::Error| ConfigError::Parse {
                    origin: origin.to_owned(),
                    message: e.to_string(),
                })?;

        let mut load_problems = Vec::new();
        // Secrets written in the file itself are refused (they end up committed).
        for (section, key) in secret_settings() {
            if table
                .get(section)
                .and_then(|s| s.as_table())
                .is_some_and(|s| s.contains_key(key))
            {
                load_problems.push(Problem::error(
                    format!("{section}.{key}"),
                    format!(
                        "is written in {origin}; secrets must come from the environment ({}{}__{}) or a file ({key}_file)",
                        env::PREFIX,
                        section.to_ascii_uppercase(),
                        key.to_ascii_uppercase()
                    ),
                ));
            }
        }

        // Where each overridden setting came from, to attribute secrets.
        let mut from_env: std::collections::BTreeMap<(String, String), String> = Default::default();
        for (var, section, key) in FAXBOT_NAMES {
            if let Some(value) = env.get(var) {
                set(&mut table, section, key, value);
                from_env.insert(((*section).into(), (*key).into()), (*var).into());
            }
        }
        // Faxbot's FAX_BACKEND names the cloud providers the same way; its `sip` is Asterisk (kept as configured).
        if let Some(kind) = env
            .get("FAX_BACKEND")
            .map(|v| v.trim().to_ascii_lowercase())
            .filter(|v| crate::lines::CLOUD_KINDS.contains(&v.as_str()))
        {
            set(&mut table, "line", "kind", &kind);
            from_env.insert(("line".into(), "kind".into()), "FAX_BACKEND".into());
        }
        for (var, value) in env.iter() {
            let Some((section, key)) = env::split_override(var) else {
                continue;
            };
            if !is_section(&section) {
                return Err(ConfigError::UnknownEnvSection {
                    var: var.to_owned(),
                    section,
                    known: all_sections(),
                });
            }
            if key.contains("__") {
                return Err(ConfigError::NestedEnvKey {
                    var: var.to_owned(),
                    key,
                });
            }
            set(&mut table, &section, &key, value);
            // A FAXLINE_ variable replaces a Faxbot one for the same setting.
            from_env.insert((section, key), var.to_owned());
        }

        // The lines' sections are read by their own type; the rest must be the agent's.
        let limits_sets_call_limit = table
            .get("limits")
            .and_then(|s| s.as_table())
            .is_some_and(|s| s.contains_key("max_call_seconds"));
        let mut line_table = toml::Table::new();
        for name in crate::lines::SECTIONS {
            if let Some(section) = table.remove(*name) {
                line_table.insert((*name).to_owned(), section);
            }
        }
        let origin = if from_env.is_empty() {
            origin.to_owned()
        } else {
            format!("{origin} with environment overrides")
        };
        let mut cfg: Config = from_table(&table, &origin)?;
        cfg.lines = from_table(&line_table, &origin)?;

        // Attribute and resolve secrets.
        let attribute = |section: &str, key: &str| -> SecretSource {
            match from_env.get(&(section.to_owned(), key.to_owned())) {
                Some(var) => SecretSource::Env(var.clone()),
                None => SecretSource::Inline,
            }
        };
        for (section, key, slot, file) in cfg.lines.secret_slots() {
            resolve_secret(
                slot,
                file,
                attribute(section, key),
                &format!("{section}.{key}"),
                &mut load_problems,
            );
        }
        resolve_secret(
            &mut cfg.api_client.agent_secret,
            &cfg.api_client.agent_secret_file,
            attribute("api_client", "agent_secret"),
            "api_client.agent_secret",
            &mut load_problems,
        );
        crate::lines::apply_deprecated(&mut cfg, limits_sets_call_limit, &mut load_problems);

        cfg.foreign_secrets = foreign_secrets(&cfg.api.0, env, &mut load_problems);
        cfg.load_problems = load_problems;
        Ok(cfg)
    }

    /// Every configured secret with its setting name (the lines', the agent's, then the foreign ones).
    pub fn secrets(&self) -> Vec<(String, &Secret)> {
        let mut v: Vec<(String, &Secret)> = self.lines.secrets();
        if let Some(s) = &self.api_client.agent_secret {
            v.push(("api_client.agent_secret".into(), s));
        }
        for (name, s) in &self.foreign_secrets {
            v.push((name.clone(), s));
        }
        v
    }
}

/// Deserializes through text so errors name the key (`in [ami] … key `port``).
fn from_table<T: serde::de::DeserializeOwned>(
    table: &toml::Table,
    origin: &str,
) -> Result<T, ConfigError> {
    let text = toml::to_string(table).map_err(|e| ConfigError::Parse {
        origin: origin.to_owned(),
        message: e.to_string(),
    })?;
    toml::from_str(&text).map_err(|e: toml::de::Error| ConfigError::Parse {
        origin: origin.to_owned(),
        message: e.message().to_owned() + &describe_span(&text, e.span()),
    })
}

fn describe_span(text: &str, span: Option<std::ops::Range<usize>>) -> String {
    let Some(span) = span else {
        return String::new();
    };
    // Name the table and line of the merged document, never its value (it may be a secret).
    let before = &text[..span.start.min(text.len())];
    let table = before
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('['))
        .map(str::trim)
        .unwrap_or("(top level)");
    let key = text[before.rfind('\n').map_or(0, |i| i + 1)..]
        .split('=')
        .next()
        .unwrap_or("")
        .trim();
    format!(" (setting `{key}` in {table})")
}

fn set(table: &mut toml::Table, section: &str, key: &str, value: &str) {
    let entry = table
        .entry(section.to_owned())
        .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    if !entry.is_table() {
        *entry = toml::Value::Table(toml::Table::new());
    }
    if let Some(t) = entry.as_table_mut() {
        t.insert(key.to_owned(), toml::Value::String(value.to_owned()));
    }
}

fn read_secret_file(path: &Path) -> std::io::Result<String> {
    let mut s = std::fs::read_to_string(path)?;
    while s.ends_with('\n') || s.ends_with('\r') {
        s.pop();
    }
    Ok(s)
}

fn resolve_secret(
    slot: &mut Option<Secret>,
    file: &Option<PathBuf>,
    source: SecretSource,
    name: &str,
    problems: &mut Vec<Problem>,
) {
    // The deserialized secret does not know where it came from; attach it.
    if let Some(s) = slot.take() {
        *slot = Some(Secret::with_source(s.expose().to_owned(), source));
    }
    let Some(path) = file else { return };
    if slot.is_some() {
        problems.push(Problem::error(
            name,
            format!("is set both directly and by {name}_file; set only one"),
        ));
        return;
    }
    match read_secret_file(path) {
        Ok(value) => *slot = Some(Secret::with_source(value, SecretSource::File(path.clone()))),
        Err(e) => problems.push(Problem::error(
            format!("{name}_file"),
            format!("cannot read {}: {e}", path.display()),
        )),
    }
}

/// The API server's secret variables (Faxbot's and Faxline's names) checked against reuse.
pub const FOREIGN_SECRET_VARS: &[&str] = &[
    "API_KEY",
    "FAXLINE_AGENT_SECRET",
    "FAXLINE_SERVER_SECRET",
    "ASTERISK_INBOUND_SECRET",
];

/// Settings that hold the agent secret on the API's side: equal to `api_client.agent_secret` by design.
pub const AGENT_SECRET_ALIASES: &[&str] = &[
    "FAXLINE_AGENT_SECRET",
    "FAXLINE_AGENT_SECRET_FILE",
    "api.agent_secret",
    "api.agent_secret_file",
];

/// Secrets held by other parts of the system that the agent's secrets must not equal: the API's bootstrap key
/// (`API_KEY` / `API_KEY_FILE`, Faxbot's name) and any string in `[api]` whose key names a secret.
fn foreign_secrets(
    api: &toml::Table,
    env: &Env,
    problems: &mut Vec<Problem>,
) -> Vec<(String, Secret)> {
    let mut out = Vec::new();
    // The API server's secrets under its own environment names (api/src/config.rs), and their *_FILE forms.
    for name in FOREIGN_SECRET_VARS {
        if let Some(v) = env.get(name).filter(|v| !v.is_empty()) {
            out.push((
                (*name).to_owned(),
                Secret::with_source(v, SecretSource::Env((*name).into())),
            ));
        }
        let file_var = format!("{name}_FILE");
        if let Some(p) = env.get(&file_var).filter(|v| !v.is_empty()) {
            match read_secret_file(Path::new(p)) {
                Ok(v) => out.push((
                    file_var,
                    Secret::with_source(v, SecretSource::File(p.into())),
                )),
                Err(e) => problems.push(Problem::warning(
                    file_var,
                    format!("cannot read {p}: {e} (reuse check skipped)"),
                )),
            }
        }
    }
    for (key, value) in api {
        let k = key.to_ascii_lowercase();
        let secretish = ["secret", "password", "token", "api_key", "key"]
            .iter()
            .any(|m| k.ends_with(m));
        if !secretish {
            continue;
        }
        if let Some(s) = value.as_str().filter(|s| !s.is_empty()) {
            out.push((
                format!("api.{key}"),
                Secret::with_source(s, SecretSource::Inline),
            ));
        }
    }
    for (key, value) in api {
        let k = key.to_ascii_lowercase();
        let Some(stem) = k.strip_suffix("_file") else {
            continue;
        };
        let secretish = ["secret", "password", "token", "key"]
            .iter()
            .any(|m| stem.ends_with(m));
        if let (true, Some(p)) = (secretish, value.as_str())
            && let Ok(v) = read_secret_file(Path::new(p))
        {
            out.push((
                format!("api.{key}"),
                Secret::with_source(v, SecretSource::File(p.into())),
            ));
        }
    }
    out
}
