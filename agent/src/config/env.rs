//! Environment overrides.
//!
//! Rules (documented in `faxline.example.toml`):
//! 1. `FAXLINE_<SECTION>__<KEY>=value` sets `key` in `[section]`; names are case-insensitive, `__` (two
//!    underscores) separates section and key, e.g. `FAXLINE_AMI__PORT=5038`, `FAXLINE_API_CLIENT__AGENT_ID=site1`.
//!    Lists are comma-separated (`FAXLINE_SIP__NUMBERS=+15550100,+15550101`), booleans `true/false/yes/no/1/0`.
//! 2. Every secret `x` also has `x_file`: `FAXLINE_AMI__SECRET_FILE=/run/secrets/ami_secret` reads the value
//!    from that file (a trailing newline is removed). Setting both `x` and `x_file` is an error.
//! 3. Faxbot's names are honoured for the settings they meant, with LOWER precedence than `FAXLINE_*`:
//!    see [`FAXBOT_NAMES`].
//! 4. `FAXLINE_CONFIG` names the TOML file when no path is given on the command line.
//!
//! Precedence: built-in defaults < TOML file < Faxbot names < `FAXLINE_*`.

use std::collections::BTreeMap;

/// The process environment, or a fixed set of variables (tests; no global state is touched).
#[derive(Clone, Default)]
pub struct Env {
    vars: BTreeMap<String, String>,
}

impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Names only: values may be secrets.
        f.debug_struct("Env")
            .field("names", &self.vars.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Env {
    /// Snapshot of the process environment (non-UTF-8 variables are skipped).
    pub fn from_process() -> Self {
        Self {
            vars: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
        }
    }

    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// The prefix of Faxline's own variables.
pub const PREFIX: &str = "FAXLINE_";

/// The variable naming the configuration file.
pub const CONFIG_PATH_VAR: &str = "FAXLINE_CONFIG";

/// Faxbot's environment names → (section, key). Applied before `FAXLINE_*`, so an explicit Faxline variable wins.
/// The API-side names (`API_KEY`, `MAX_FILE_SIZE_MB`, `PUBLIC_API_URL`, `DATABASE_URL`) belong to `[api]` and are
/// read by the API's configuration; `API_KEY` is also included in the agent's reused-secret check.
pub const FAXBOT_NAMES: &[(&str, &str, &str)] = &[
    ("ASTERISK_AMI_HOST", "ami", "host"),
    ("ASTERISK_AMI_PORT", "ami", "port"),
    ("ASTERISK_AMI_USERNAME", "ami", "username"),
    ("ASTERISK_AMI_PASSWORD", "ami", "secret"),
    ("ASTERISK_AMI_PASSWORD_FILE", "ami", "secret_file"),
    ("FAX_LOCAL_STATION_ID", "fax", "local_station_id"),
    ("FAX_HEADER", "fax", "header_info"),
    ("FAX_DATA_DIR", "spool", "dir"),
    ("SIP_SERVER", "sip", "trunk_host"),
    ("PHAXIO_API_KEY", "phaxio", "api_key"),
    ("PHAXIO_API_SECRET", "phaxio", "api_secret"),
    ("PHAXIO_API_SECRET_FILE", "phaxio", "api_secret_file"),
    ("PHAXIO_STATUS_CALLBACK_URL", "phaxio", "callback_url"),
    ("PHAXIO_CALLBACK_URL", "phaxio", "callback_url"),
    ("TELNYX_API_KEY", "telnyx", "api_key"),
    ("TELNYX_API_KEY_FILE", "telnyx", "api_key_file"),
    ("TELNYX_CONNECTION_ID", "telnyx", "connection_id"),
    ("TELNYX_FROM_NUMBER", "telnyx", "from_number"),
    ("SIGNALWIRE_SPACE_URL", "signalwire", "space_url"),
    ("SIGNALWIRE_PROJECT_ID", "signalwire", "project_id"),
    ("SIGNALWIRE_API_TOKEN", "signalwire", "api_token"),
    ("SIGNALWIRE_API_TOKEN_FILE", "signalwire", "api_token_file"),
    ("SIGNALWIRE_FAX_FROM_E164", "signalwire", "from_number"),
    (
        "SIGNALWIRE_STATUS_CALLBACK_URL",
        "signalwire",
        "callback_url",
    ),
    ("SIGNALWIRE_CALLBACK_URL", "signalwire", "callback_url"),
    ("SINCH_PROJECT_ID", "sinch", "project_id"),
    ("SINCH_API_KEY", "sinch", "key_id"),
    ("SINCH_API_SECRET", "sinch", "key_secret"),
    ("SINCH_API_SECRET_FILE", "sinch", "key_secret_file"),
    ("SINCH_BASE_URL", "sinch", "base_url"),
    ("SINCH_FAX_FROM_E164", "sinch", "from_number"),
    ("SINCH_SERVICE_ID", "sinch", "service_id"),
    ("SINCH_CALLBACK_URL", "sinch", "callback_url"),
    ("SINCH_INBOUND_BASIC_USER", "sinch", "webhook_user"),
    ("SINCH_INBOUND_BASIC_PASS", "sinch", "webhook_password"),
    (
        "SINCH_INBOUND_BASIC_PASS_FILE",
        "sinch",
        "webhook_password_file",
    ),
    ("SIP_USERNAME", "sip", "username"),
    ("SIP_PASSWORD", "sip", "password"),
    ("SIP_PASSWORD_FILE", "sip", "password_file"),
    ("SIP_FROM_USER", "sip", "from_user"),
    ("SIP_FROM_DOMAIN", "sip", "from_domain"),
];

/// Split `FAXLINE_SECTION__KEY` into (`section`, `key`), lowercased. `None` for other variables.
pub fn split_override(name: &str) -> Option<(String, String)> {
    let rest = name.strip_prefix(PREFIX)?;
    let (section, key) = rest.split_once("__")?;
    if section.is_empty() || key.is_empty() {
        return None;
    }
    Some((section.to_ascii_lowercase(), key.to_ascii_lowercase()))
}
