//! Configuration: one TOML file, then environment overrides. Faxbot's variable names are honoured
//! where they exist (`API_KEY`, `MAX_FILE_SIZE_MB`, `PUBLIC_API_URL`, `DATABASE_URL`,
//! `REQUIRE_API_KEY`, `FAX_DATA_DIR`, `PDF_TOKEN_TTL_MINUTES`, `INBOUND_ENABLED`, ...); Faxline's
//! own settings use `FAXLINE_*`. Unlike Faxbot, authentication stays on unless explicitly disabled,
//! and that is refused on a non-loopback address.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use faxline_protocol::Secret;

/// Minimum length of the agent secret and the server secret, in bytes.
pub const MIN_SECRET_LEN: usize = 32;
/// Minimum length of the bootstrap `API_KEY` and the internal (Asterisk hook) secret.
pub const MIN_SHARED_KEY_LEN: usize = 16;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to bind (`FAXLINE_LISTEN`).
    pub listen: SocketAddr,
    /// `sqlite://...` or `postgres://...` (`DATABASE_URL`); empty = SQLite in `data_dir`.
    pub database_url: String,
    /// Working directory for the embedded database and the server secret (`FAX_DATA_DIR`).
    pub data_dir: PathBuf,
    /// Upload limit (`MAX_FILE_SIZE_MB`).
    pub max_file_size_mb: u64,
    /// Base URL used in signed document links (`PUBLIC_API_URL`); must be https unless
    /// `allow_insecure_public_url` is set.
    pub public_api_url: Option<String>,
    /// Explicit opt-out of the https rule for local use (`FAXLINE_ALLOW_INSECURE_PUBLIC_URL`,
    /// or Faxbot's `ENFORCE_PUBLIC_HTTPS=false`).
    pub allow_insecure_public_url: bool,
    /// `REQUIRE_API_KEY`: defaults to true; false is a development setting, loopback only.
    pub require_api_key: bool,
    /// `API_KEY`: bootstrap admin key.
    pub api_key: Option<Secret>,
    /// Keys API-key hashes and document links (`FAXLINE_SERVER_SECRET`); generated and kept in
    /// `data_dir/server_secret` when absent.
    pub server_secret: Option<Secret>,
    /// Shared with the agents; signs every agent request (`FAXLINE_AGENT_SECRET`). Required.
    pub agent_secret: Option<Secret>,
    /// `ASTERISK_INBOUND_SECRET` for `POST /_internal/asterisk/inbound`; the hook is off without it.
    pub internal_secret: Option<Secret>,
    /// `INBOUND_ENABLED`.
    pub inbound_enabled: bool,
    /// Files named by the Asterisk hook must lie inside this directory
    /// (`FAXLINE_INBOUND_SPOOL_DIR`).
    pub inbound_spool_dir: Option<PathBuf>,
    /// `PDF_TOKEN_TTL_MINUTES` (minimum 1).
    pub pdf_token_ttl_minutes: u64,
    /// `INBOUND_TOKEN_TTL_MINUTES` (minimum 1).
    pub inbound_token_ttl_minutes: u64,
    /// `MAX_REQUESTS_PER_MINUTE` per key on `/fax` and `/fax/{id}`; 0 = off.
    pub max_requests_per_minute: u32,
    /// `INBOUND_LIST_RPM`.
    pub inbound_list_rpm: u32,
    /// `INBOUND_GET_RPM`.
    pub inbound_get_rpm: u32,
    /// Failed authentications per client address within a minute before a lockout.
    pub auth_failures_before_lockout: u32,
    /// Lockout length in seconds.
    pub auth_lockout_seconds: u64,
    /// Agent lease length in seconds (renewed by heartbeat and progress).
    pub lease_seconds: u64,
    /// Attempts per job before it fails for good.
    pub max_attempts: u32,
    /// `/health/ready` is not ready while no agent polled within two lease periods
    /// (`FAXLINE_READY_REQUIRES_AGENT`); false for an API whose agents are allowed to be away.
    pub ready_requires_agent: bool,
    /// Delete documents and received faxes this many days after they arrived; 0 = keep forever
    /// (`FAXLINE_RETENTION_DAYS`). Default 30, Faxbot's `INBOUND_RETENTION_DAYS`.
    pub retention_days: u32,
    /// Reverse proxies whose `X-Forwarded-For` is believed (addresses or CIDR networks,
    /// `FAXLINE_TRUSTED_PROXIES=10.0.0.5,10.1.0.0/16`). Empty (the default): the header is ignored
    /// and the connection's address is the client's.
    pub trusted_proxies: Vec<String>,
    /// A connection must deliver a request's complete headers within this many seconds; this also
    /// bounds how long an idle keep-alive connection is held. Minimum 1.
    pub header_read_timeout_seconds: u64,
    /// A request (reading its body included) must be answered within this many seconds.
    pub request_timeout_seconds: u64,
    /// Open connections allowed from one client address (trusted proxies are exempt); more are
    /// closed at once. 0 = no limit.
    pub max_connections_per_address: u32,
    /// Open connections in all; more are closed at once, so the database and the agents' calls
    /// always have file descriptors left. 0 (the default) = three quarters of the process's
    /// open-file limit.
    pub max_connections: u32,
    /// Accepted clock skew for signed agent requests, seconds.
    pub agent_replay_window_seconds: u64,
    /// The backend name reported in jobs (`FAX_BACKEND`); Faxline sends over SIP/T.38.
    pub backend: String,
    /// The failover order of line kinds (`FAXLINE_ROUTING=sip,phaxio`): a job goes out on the first line of
    /// the list that has not failed to place it and whose agents are up with a working line; when a line
    /// cannot place the call (no channel, congestion, the provider refusing before it took the fax) the job
    /// goes to the next. Empty (the default): any agent takes any job, and a failure is final. With a
    /// policy, lines outside it carry only jobs pinned to them.
    #[serde(deserialize_with = "list_or_text")]
    pub routing: Vec<String>,
    /// The line kinds a client may pin a job to with `backend` on `POST /fax` (`FAXLINE_BACKENDS`). Empty
    /// (the default): no job may choose its line.
    #[serde(deserialize_with = "list_or_text")]
    pub backends: Vec<String>,
    /// The render budget of page counts and previews: `[limits] render_memory_mb` and
    /// `render_seconds_per_page` of the shared file (`FAXLINE_LIMITS__RENDER_*`); where renders
    /// run is set by the binary.
    #[serde(skip)]
    pub render: crate::pages::RenderBudget,
    /// Where documents and received faxes live (`STORAGE_BACKEND`): `database` (the default, blobs
    /// in the job database), `local` (files under `storage_dir`) or `s3`.
    pub storage_backend: String,
    /// The `local` backend's directory (`FAXLINE_STORAGE_DIR`); default `data_dir/documents`.
    /// Made 0700; it must not be a directory any web server serves.
    pub storage_dir: Option<PathBuf>,
    /// `S3_BUCKET`.
    pub s3_bucket: Option<String>,
    /// Key prefix inside the bucket (`S3_PREFIX`).
    pub s3_prefix: String,
    /// `S3_REGION` (or `AWS_REGION` through the standard chain).
    pub s3_region: Option<String>,
    /// A self-hosted S3-compatible endpoint such as MinIO or Ceph (`S3_ENDPOINT_URL`).
    pub s3_endpoint_url: Option<String>,
    /// Path-style requests (`https://host/bucket/key`); default: on when `s3_endpoint_url` is
    /// set, off for AWS (`FAXLINE_S3_PATH_STYLE`).
    pub s3_path_style: Option<bool>,
    /// Static credentials (`S3_ACCESS_KEY_ID`); without them the standard AWS chain is used
    /// (`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, web identity, instance metadata).
    pub s3_access_key_id: Option<String>,
    /// `S3_SECRET_ACCESS_KEY` (or `s3_secret_access_key_file`).
    pub s3_secret_access_key: Option<Secret>,
    /// Server-side encryption: `kms` (SSE-KMS, with `s3_kms_key_id` if set), `s3` (SSE-S3,
    /// AES256) or `none` (the bucket's default) (`FAXLINE_S3_SSE`). Default: `kms` when a KMS key
    /// id is set, otherwise `s3`.
    pub s3_sse: Option<String>,
    /// `S3_KMS_KEY_ID`.
    pub s3_kms_key_id: Option<String>,
    /// How long one request to the object store may take before it fails
    /// (`FAXLINE_S3_TIMEOUT_SECONDS`, default 30, 1-600): retries of a failed request stop once
    /// this much time has passed since the first, so a stalled store fails an upload with 503 in at
    /// most about twice this.
    pub s3_timeout_seconds: u64,
    /// Client-side encryption at rest for every backend (`FAXLINE_STORAGE_ENCRYPTION_KEY_FILE`): a
    /// file holding a 256-bit master key (64 hex digits, e.g. `openssl rand -hex 32`, or base64).
    /// Each document is sealed with its own data key (AES-256-GCM), wrapped by this key.
    pub storage_encryption_key_file: Option<PathBuf>,
    /// Earlier master keys, still used to open what they sealed (key rotation): files as above
    /// (`FAXLINE_STORAGE_PREVIOUS_KEY_FILES`, comma-separated).
    pub storage_previous_key_files: Vec<PathBuf>,
    /// Phaxio's callback token (the console's webhook token), which signs every Phaxio callback
    /// (`PHAXIO_CALLBACK_TOKEN`, or `phaxio_callback_token_file`). Required when Phaxio's callbacks are
    /// verified and Phaxio is used (`FAX_BACKEND=phaxio`).
    pub phaxio_callback_token: Option<Secret>,
    /// Verify Phaxio's callback signatures (`PHAXIO_VERIFY_SIGNATURE`, default true). Turning it off is for
    /// local development only and is logged at every start.
    pub phaxio_verify_signature: bool,
    /// The status callback URL exactly as Phaxio is told to post to (`PHAXIO_CALLBACK_URL`); the signature
    /// covers it. Default: `PUBLIC_API_URL` + `/phaxio-callback`.
    pub phaxio_callback_url: Option<String>,
    /// The inbound callback URL exactly as configured at Phaxio (`PHAXIO_INBOUND_URL`). Default:
    /// `PUBLIC_API_URL` + `/phaxio-inbound`.
    pub phaxio_inbound_url: Option<String>,
    /// Provider webhooks whose event is older than this many seconds are refused as stale.
    pub webhook_max_age_seconds: u64,
    /// The Telnyx account's public key (base64, from the Telnyx portal), which checks the Ed25519 signature
    /// of every Telnyx webhook (`TELNYX_PUBLIC_KEY`; in the shared file also `[telnyx] public_key`). Public,
    /// so not a secret; required when Telnyx's webhooks are verified and Telnyx is used (`FAX_BACKEND=telnyx`).
    pub telnyx_public_key: Option<String>,
    /// Verify Telnyx's webhook signatures (`TELNYX_VERIFY_SIGNATURE`, default true). Turning it off is for
    /// local development only and is logged at every start.
    pub telnyx_verify_signature: bool,
    /// A Telnyx webhook signed more than this many seconds ago (or ahead) is refused
    /// (`TELNYX_WEBHOOK_MAX_AGE_SECONDS`, default 300, as Telnyx's SDKs allow).
    pub telnyx_max_age_seconds: u64,
    /// The SignalWire project's signing key (Dashboard, API credentials), which keys the HMAC-SHA1 signature
    /// of every SignalWire webhook (`SIGNALWIRE_WEBHOOK_SIGNING_KEY`, Faxbot's name, or
    /// `signalwire_signing_key_file`). Required when SignalWire's webhooks are verified and SignalWire is used.
    pub signalwire_signing_key: Option<Secret>,
    /// Verify SignalWire's webhook signatures (`SIGNALWIRE_VERIFY_SIGNATURE`, default true). Turning it off is
    /// for local development only and is logged at every start.
    pub signalwire_verify_signature: bool,
    /// The URL SignalWire posts to (`SIGNALWIRE_STATUS_CALLBACK_URL`, alias `SIGNALWIRE_CALLBACK_URL`), as
    /// its signature covers it. Default: `PUBLIC_API_URL` + `/signalwire-callback`.
    pub signalwire_callback_url: Option<String>,
    /// The SignalWire space (`SIGNALWIRE_SPACE_URL`: `example.signalwire.com`): a received fax is downloaded
    /// from this host only.
    pub signalwire_space_url: Option<String>,
    /// The SignalWire project id (`SIGNALWIRE_PROJECT_ID`), the user name of the media download.
    pub signalwire_project_id: Option<String>,
    /// The SignalWire API token (`SIGNALWIRE_API_TOKEN`, or `signalwire_api_token_file`), the password of the
    /// media download.
    pub signalwire_api_token: Option<Secret>,
    /// The user name of the Basic credentials every Sinch webhook must carry (`SINCH_INBOUND_BASIC_USER`,
    /// Faxbot's name; in the shared file also `[sinch] webhook_user`). Sinch's Fax API signs no webhook: the
    /// credentials in the callback URL are its only authentication, so they are required when Sinch is used.
    pub sinch_webhook_user: Option<String>,
    /// The Basic password of Sinch's webhooks (`SINCH_INBOUND_BASIC_PASS`, or `sinch_webhook_password_file`;
    /// in the shared file `[sinch] webhook_password(_file)`): strong, and no other secret's value.
    pub sinch_webhook_password: Option<Secret>,
    /// Require the Basic credentials on Sinch's webhooks (`SINCH_VERIFY_WEBHOOK_AUTH`, alias Faxbot's
    /// `SINCH_INBOUND_VERIFY_SIGNATURE`; default true). Turning it off is for local development only and is
    /// logged at every start.
    pub sinch_verify_auth: bool,
    /// The Sinch project (`SINCH_PROJECT_ID`): a received fax without its document attached is downloaded
    /// from the project's fax API.
    pub sinch_project_id: Option<String>,
    /// The access key's id (`SINCH_API_KEY`), the user name of that download.
    pub sinch_key_id: Option<String>,
    /// The access key's secret (`SINCH_API_SECRET`, or `sinch_key_secret_file`), its password.
    pub sinch_key_secret: Option<Secret>,
    /// Sinch's Fax API base up to `/v3` (`SINCH_BASE_URL`); downloads go to its host only.
    pub sinch_base_url: String,
    /// OAuth 2.1 bearer tokens on `/mcp`, besides `X-API-Key`: the issuer (`iss`) whose signed
    /// JWTs are accepted (`FAXLINE_API__MCP_OAUTH_ISSUER`). Unset: keys only.
    pub mcp_oauth_issuer: Option<String>,
    /// The audience (`aud`) the tokens must name: this API's resource identifier (usually its
    /// public `/mcp` URL). Required with `mcp_oauth_issuer`.
    pub mcp_oauth_audience: Option<String>,
    /// The issuer's JWKS (its public keys); default `<issuer>/.well-known/jwks.json`.
    pub mcp_oauth_jwks_url: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: String::new(),
            data_dir: PathBuf::from("faxline-data"),
            max_file_size_mb: 10,
            public_api_url: None,
            allow_insecure_public_url: false,
            require_api_key: true,
            api_key: None,
            server_secret: None,
            agent_secret: None,
            internal_secret: None,
            inbound_enabled: false,
            inbound_spool_dir: None,
            pdf_token_ttl_minutes: 60,
            inbound_token_ttl_minutes: 60,
            max_requests_per_minute: 0,
            inbound_list_rpm: 30,
            inbound_get_rpm: 60,
            auth_failures_before_lockout: 10,
            auth_lockout_seconds: 300,
            lease_seconds: 120,
            max_attempts: 3,
            ready_requires_agent: true,
            retention_days: 30,
            trusted_proxies: Vec::new(),
            header_read_timeout_seconds: 10,
            request_timeout_seconds: 120,
            max_connections_per_address: 32,
            max_connections: 0,
            agent_replay_window_seconds: 300,
            backend: "sip".to_string(),
            routing: Vec::new(),
            backends: Vec::new(),
            render: crate::pages::RenderBudget::default(),
            storage_backend: "database".to_string(),
            storage_dir: None,
            s3_bucket: None,
            s3_prefix: String::new(),
            s3_region: None,
            s3_endpoint_url: None,
            s3_path_style: None,
            s3_access_key_id: None,
            s3_secret_access_key: None,
            s3_sse: None,
            s3_kms_key_id: None,
            s3_timeout_seconds: 30,
            storage_encryption_key_file: None,
            storage_previous_key_files: Vec::new(),
            phaxio_callback_token: None,
            phaxio_verify_signature: true,
            phaxio_callback_url: None,
            phaxio_inbound_url: None,
            webhook_max_age_seconds: 86_400,
            telnyx_public_key: None,
            telnyx_verify_signature: true,
            telnyx_max_age_seconds: 300,
            signalwire_signing_key: None,
            signalwire_verify_signature: true,
            signalwire_callback_url: None,
            signalwire_space_url: None,
            signalwire_project_id: None,
            signalwire_api_token: None,
            sinch_webhook_user: None,
            sinch_webhook_password: None,
            sinch_verify_auth: true,
            sinch_project_id: None,
            sinch_key_id: None,
            sinch_key_secret: None,
            sinch_base_url: "https://fax.api.sinch.com/v3".into(),
            mcp_oauth_issuer: None,
            mcp_oauth_audience: None,
            mcp_oauth_jwks_url: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid config file {path}: {source}")]
    Parse {
        path: PathBuf,
        source: Box<toml::de::Error>,
    },
    #[error("invalid value for {name}: {reason}")]
    Env { name: &'static str, reason: String },
    #[error("{0}")]
    Invalid(String),
}

/// A comma-separated list, trimmed, empty items dropped.
fn split_list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// A list of names given as a TOML array or as one comma-separated string (`FAXLINE_API__ROUTING=sip,phaxio`).
fn list_or_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ListOrText {
        List(Vec<String>),
        Text(String),
    }
    Ok(match ListOrText::deserialize(d)? {
        ListOrText::List(l) => l,
        ListOrText::Text(t) => split_list(&t),
    })
}

/// Line kinds of `routing` or `backends`: each a known kind (`faxline_protocol::messages::LINE_KINDS`), once,
/// lower case.
fn check_line_kinds(setting: &str, kinds: &[String]) -> Result<(), ConfigError> {
    let known = faxline_protocol::messages::LINE_KINDS;
    for (i, k) in kinds.iter().enumerate() {
        if !known.contains(&k.as_str()) {
            return Err(ConfigError::Invalid(format!(
                "{setting}: {k:?} is not a kind of line (one of {})",
                known.join(", ")
            )));
        }
        if kinds[..i].contains(k) {
            return Err(ConfigError::Invalid(format!(
                "{setting}: {k:?} is listed twice"
            )));
        }
    }
    Ok(())
}

/// The secret settings of `[api]`; each may instead be read from `<name>_file`.
pub const SECRET_KEYS: &[&str] = &[
    "api_key",
    "server_secret",
    "agent_secret",
    "internal_secret",
    "s3_secret_access_key",
    "phaxio_callback_token",
    "signalwire_signing_key",
    "signalwire_api_token",
    "sinch_webhook_password",
    "sinch_key_secret",
];

/// `FAXLINE_API__<KEY>=value` sets `key` in `[api]`. The value is read as a TOML value when it is one
/// (`8080`, `true`), else as a string.
fn apply_section_env(api: &mut toml::Table, get: &dyn Fn(&str) -> Option<String>) {
    let keys: Vec<String> = Config::field_names()
        .iter()
        .map(|k| (*k).to_owned())
        .chain(SECRET_KEYS.iter().map(|k| format!("{k}_file")))
        .collect();
    for key in keys {
        let var = format!("FAXLINE_API__{}", key.to_ascii_uppercase());
        let Some(value) = get(&var) else { continue };
        let parsed = format!("v = {value}")
            .parse::<toml::Table>()
            .ok()
            .and_then(|mut t| t.remove("v"))
            .filter(|v| !v.is_table() && !v.is_array())
            .filter(|_| !SECRET_KEYS.contains(&key.as_str()) && !key.ends_with("_file"));
        api.insert(key, parsed.unwrap_or(toml::Value::String(value)));
    }
}

/// Replaces `<secret>_file` keys by the file's contents (one trailing newline removed).
fn resolve_secret_files(api: &mut toml::Table, origin: &Path) -> Result<(), ConfigError> {
    for key in SECRET_KEYS {
        let file_key = format!("{key}_file");
        let Some(v) = api.remove(&file_key) else {
            continue;
        };
        let Some(p) = v.as_str().filter(|p| !p.is_empty()) else {
            return Err(ConfigError::Invalid(format!(
                "{}: api.{file_key} must be a path",
                origin.display()
            )));
        };
        if api.contains_key(*key) {
            return Err(ConfigError::Invalid(format!(
                "api.{key} is set both directly and by api.{file_key}; set only one"
            )));
        }
        api.insert((*key).to_owned(), toml::Value::String(read_secret_file(p)?));
    }
    Ok(())
}

fn read_secret_file(p: &str) -> Result<String, ConfigError> {
    let mut s = std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
        path: PathBuf::from(p),
        source,
    })?;
    while s.ends_with('\n') || s.ends_with('\r') {
        s.pop();
    }
    Ok(s)
}

fn parse_bool(name: &'static str, v: &str) -> Result<bool, ConfigError> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" | "" => Ok(false),
        other => Err(ConfigError::Env {
            name,
            reason: format!("not a boolean: {other:?}"),
        }),
    }
}

fn parse_num<T: std::str::FromStr>(name: &'static str, v: &str) -> Result<T, ConfigError> {
    v.trim().parse().map_err(|_| ConfigError::Env {
        name,
        reason: format!("not a number: {v:?}"),
    })
}

fn non_empty(v: String) -> Option<String> {
    if v.trim().is_empty() { None } else { Some(v) }
}

impl Config {
    /// Reads `path` (if any), then applies the process environment.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_with(path, |k| std::env::var(k).ok())
    }

    /// [`Config::load`] with an injectable environment lookup (tests).
    pub fn load_with(
        path: Option<&Path>,
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let text = match path {
            Some(p) => std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
                path: p.to_path_buf(),
                source,
            })?,
            None => String::new(),
        };
        let origin = path.map_or_else(|| PathBuf::from("(no file)"), Path::to_path_buf);
        let mut cfg = Self::from_toml_str(&text, &origin, &get)?;
        cfg.apply_env(get)?;
        Ok(cfg)
    }

    /// Reads a file without applying the environment.
    pub fn from_toml_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_toml_str(&text, path, &|_: &str| None)
    }

    /// Parses the API's settings out of the shared `faxline` configuration file.
    ///
    /// The file is the one every `faxline` command reads: the API's settings live in its `[api]` section and
    /// every other section (the agent's and its lines') is ignored here. A file without sections is read the
    /// old way, all keys at the top level. `FAXLINE_API__<KEY>` variables (from
    /// `get`) override `[api]` keys, and each secret can be read from a file (`<secret>_file`, or
    /// `FAXLINE_API__<SECRET>_FILE`).
    pub fn from_toml_str(
        text: &str,
        origin: &Path,
        get: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let parse_err = |source: toml::de::Error| ConfigError::Parse {
            path: origin.to_path_buf(),
            source: Box::new(source),
        };
        let mut table: toml::Table = text.parse().map_err(parse_err)?;
        // Any table makes it the shared file: `[api]` is ours, every other section belongs to the agent
        // (which knows and checks its sections and its lines'; `faxline api` checks them too).
        let sectioned = table.values().any(toml::Value::is_table);
        let shared_limits = table.get("limits").cloned();
        // The Telnyx line's section may carry the account's public key, which only the API uses.
        let telnyx_key = table
            .get("telnyx")
            .and_then(|t| t.get("public_key"))
            .and_then(toml::Value::as_str)
            .map(str::to_owned);
        // The SignalWire line's section names the space and project, and where its token is, which the API
        // needs to download received faxes.
        let signalwire = |k: &str| {
            table
                .get("signalwire")
                .and_then(|t| t.get(k))
                .and_then(toml::Value::as_str)
                .map(str::to_owned)
        };
        let sw_space = signalwire("space_url");
        let sw_project = signalwire("project_id");
        let sw_token_file = signalwire("api_token_file");
        // The Sinch line's section: the webhooks' credentials, and the project's access key for downloads.
        let sinch = |k: &str| {
            table
                .get("sinch")
                .and_then(|t| t.get(k))
                .and_then(toml::Value::as_str)
                .map(str::to_owned)
        };
        let sinch_section = [
            "webhook_user",
            "webhook_password",
            "webhook_password_file",
            "project_id",
            "key_id",
            "key_secret",
            "key_secret_file",
            "base_url",
        ]
        .map(sinch);
        let mut api = if sectioned {
            if let Some(k) = table
                .iter()
                .find(|(k, v)| k.as_str() != "api" && !v.is_table())
                .map(|(k, _)| k.clone())
            {
                return Err(ConfigError::Invalid(format!(
                    "{}: `{k}` is outside any section; the API's settings belong under [api]",
                    origin.display()
                )));
            }
            match table.remove("api") {
                Some(toml::Value::Table(t)) => t,
                Some(_) => {
                    return Err(ConfigError::Invalid(format!(
                        "{}: `api` must be a table ([api])",
                        origin.display()
                    )));
                }
                None => toml::Table::new(),
            }
        } else {
            table
        };
        apply_section_env(&mut api, get);
        resolve_secret_files(&mut api, origin)?;
        let api_sets_sinch_base = api.contains_key("sinch_base_url");
        let merged = toml::to_string(&api).map_err(|e| ConfigError::Invalid(e.to_string()))?;
        let mut cfg: Self = toml::from_str(&merged).map_err(parse_err)?;
        if cfg.telnyx_public_key.is_none() {
            cfg.telnyx_public_key = telnyx_key.and_then(non_empty);
        }
        if cfg.signalwire_space_url.is_none() {
            cfg.signalwire_space_url = sw_space.and_then(non_empty);
        }
        if cfg.signalwire_project_id.is_none() {
            cfg.signalwire_project_id = sw_project.and_then(non_empty);
        }
        if cfg.signalwire_api_token.is_none()
            && let Some(p) = sw_token_file.and_then(non_empty)
        {
            cfg.signalwire_api_token = non_empty(read_secret_file(&p)?).map(Secret::new);
        }
        let [
            sinch_user,
            sinch_password,
            sinch_password_file,
            sinch_project,
            sinch_key_id,
            sinch_key_secret,
            sinch_key_secret_file,
            sinch_base,
        ] = sinch_section;
        if cfg.sinch_webhook_user.is_none() {
            cfg.sinch_webhook_user = sinch_user.and_then(non_empty);
        }
        if cfg.sinch_webhook_password.is_none() {
            cfg.sinch_webhook_password = match sinch_password_file.and_then(non_empty) {
                Some(p) => non_empty(read_secret_file(&p)?),
                None => sinch_password.and_then(non_empty),
            }
            .map(Secret::new);
        }
        if cfg.sinch_project_id.is_none() {
            cfg.sinch_project_id = sinch_project.and_then(non_empty);
        }
        if cfg.sinch_key_id.is_none() {
            cfg.sinch_key_id = sinch_key_id.and_then(non_empty);
        }
        if cfg.sinch_key_secret.is_none() {
            cfg.sinch_key_secret = match sinch_key_secret_file.and_then(non_empty) {
                Some(p) => non_empty(read_secret_file(&p)?),
                None => sinch_key_secret.and_then(non_empty),
            }
            .map(Secret::new);
        }
        if let Some(b) = sinch_base.and_then(non_empty)
            && !api_sets_sinch_base
        {
            cfg.sinch_base_url = b;
        }
        // The render budget is shared with the agent, in `[limits]` (validated by the agent's check).
        if let Some(toml::Value::Table(limits)) = shared_limits {
            let num = |k: &str| match limits.get(k) {
                Some(toml::Value::Integer(n)) => u64::try_from(*n).ok(),
                Some(toml::Value::String(s)) => s.trim().parse().ok(),
                _ => None,
            };
            if let Some(n) = num("render_memory_mb") {
                cfg.render.memory_mb = n;
            }
            if let Some(n) = num("render_seconds_per_page") {
                cfg.render.seconds_per_page = n;
            }
        }
        Ok(cfg)
    }

    /// The setting names of `[api]` (for `FAXLINE_API__<KEY>` overrides).
    pub fn field_names() -> &'static [&'static str] {
        &[
            "listen",
            "database_url",
            "data_dir",
            "max_file_size_mb",
            "public_api_url",
            "allow_insecure_public_url",
            "require_api_key",
            "api_key",
            "server_secret",
            "agent_secret",
            "internal_secret",
            "inbound_enabled",
            "inbound_spool_dir",
            "pdf_token_ttl_minutes",
            "inbound_token_ttl_minutes",
            "max_requests_per_minute",
            "inbound_list_rpm",
            "inbound_get_rpm",
            "auth_failures_before_lockout",
            "auth_lockout_seconds",
            "lease_seconds",
            "max_attempts",
            "ready_requires_agent",
            "retention_days",
            "trusted_proxies",
            "header_read_timeout_seconds",
            "request_timeout_seconds",
            "max_connections_per_address",
            "max_connections",
            "agent_replay_window_seconds",
            "backend",
            "routing",
            "backends",
            "storage_backend",
            "storage_dir",
            "s3_bucket",
            "s3_prefix",
            "s3_region",
            "s3_endpoint_url",
            "s3_path_style",
            "s3_access_key_id",
            "s3_secret_access_key",
            "s3_sse",
            "s3_kms_key_id",
            "s3_timeout_seconds",
            "storage_encryption_key_file",
            "storage_previous_key_files",
            "phaxio_callback_token",
            "phaxio_verify_signature",
            "phaxio_callback_url",
            "phaxio_inbound_url",
            "webhook_max_age_seconds",
            "telnyx_public_key",
            "telnyx_verify_signature",
            "telnyx_max_age_seconds",
            "signalwire_signing_key",
            "signalwire_verify_signature",
            "signalwire_callback_url",
            "signalwire_space_url",
            "signalwire_project_id",
            "signalwire_api_token",
            "sinch_webhook_user",
            "sinch_webhook_password",
            "sinch_verify_auth",
            "sinch_project_id",
            "sinch_key_id",
            "sinch_key_secret",
            "sinch_base_url",
            "mcp_oauth_issuer",
            "mcp_oauth_audience",
            "mcp_oauth_jwks_url",
        ]
    }

    /// Applies overrides from an environment lookup (injectable for tests).
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        if let Some(v) = get("FAXLINE_LISTEN") {
            self.listen = parse_num("FAXLINE_LISTEN", &v)?;
        }
        if let Some(v) = get("FAXLINE_LIMITS__RENDER_MEMORY_MB") {
            self.render.memory_mb = parse_num("FAXLINE_LIMITS__RENDER_MEMORY_MB", &v)?;
        }
        if let Some(v) = get("FAXLINE_LIMITS__RENDER_SECONDS_PER_PAGE") {
            self.render.seconds_per_page =
                parse_num("FAXLINE_LIMITS__RENDER_SECONDS_PER_PAGE", &v)?;
        }
        if let Some(v) = get("DATABASE_URL").and_then(non_empty) {
            self.database_url = v;
        }
        if let Some(v) = get("FAX_DATA_DIR").and_then(non_empty) {
            self.data_dir = PathBuf::from(v);
        }
        if let Some(v) = get("MAX_FILE_SIZE_MB") {
            self.max_file_size_mb = parse_num("MAX_FILE_SIZE_MB", &v)?;
        }
        if let Some(v) = get("PUBLIC_API_URL") {
            self.public_api_url = non_empty(v);
        }
        if let Some(v) = get("ENFORCE_PUBLIC_HTTPS") {
            self.allow_insecure_public_url = !parse_bool("ENFORCE_PUBLIC_HTTPS", &v)?;
        }
        if let Some(v) = get("FAXLINE_ALLOW_INSECURE_PUBLIC_URL") {
            self.allow_insecure_public_url = parse_bool("FAXLINE_ALLOW_INSECURE_PUBLIC_URL", &v)?;
        }
        if let Some(v) = get("REQUIRE_API_KEY") {
            self.require_api_key = parse_bool("REQUIRE_API_KEY", &v)?;
        }
        if let Some(v) = get("API_KEY") {
            self.api_key = non_empty(v).map(Secret::new);
        }
        if let Some(v) = get("FAXLINE_SERVER_SECRET") {
            self.server_secret = non_empty(v).map(Secret::new);
        }
        // Docker-style secret files for the secrets' Faxbot/Faxline names.
        for (var, slot) in [
            ("API_KEY_FILE", &mut self.api_key),
            ("FAXLINE_SERVER_SECRET_FILE", &mut self.server_secret),
            ("FAXLINE_AGENT_SECRET_FILE", &mut self.agent_secret),
            ("ASTERISK_INBOUND_SECRET_FILE", &mut self.internal_secret),
        ] {
            if let Some(p) = get(var).and_then(non_empty) {
                *slot = non_empty(read_secret_file(&p)?).map(Secret::new);
            }
        }
        if let Some(v) = get("FAXLINE_AGENT_SECRET") {
            self.agent_secret = non_empty(v).map(Secret::new);
        }
        if let Some(v) = get("ASTERISK_INBOUND_SECRET") {
            self.internal_secret = non_empty(v).map(Secret::new);
        }
        if let Some(v) = get("INBOUND_ENABLED") {
            self.inbound_enabled = parse_bool("INBOUND_ENABLED", &v)?;
        }
        if let Some(v) = get("FAXLINE_INBOUND_SPOOL_DIR") {
            self.inbound_spool_dir = non_empty(v).map(PathBuf::from);
        }
        if let Some(v) = get("PDF_TOKEN_TTL_MINUTES") {
            self.pdf_token_ttl_minutes = parse_num("PDF_TOKEN_TTL_MINUTES", &v)?;
        }
        if let Some(v) = get("INBOUND_TOKEN_TTL_MINUTES") {
            self.inbound_token_ttl_minutes = parse_num("INBOUND_TOKEN_TTL_MINUTES", &v)?;
        }
        if let Some(v) = get("MAX_REQUESTS_PER_MINUTE") {
            self.max_requests_per_minute = parse_num("MAX_REQUESTS_PER_MINUTE", &v)?;
        }
        if let Some(v) = get("INBOUND_LIST_RPM") {
            self.inbound_list_rpm = parse_num("INBOUND_LIST_RPM", &v)?;
        }
        if let Some(v) = get("INBOUND_GET_RPM") {
            self.inbound_get_rpm = parse_num("INBOUND_GET_RPM", &v)?;
        }
        if let Some(v) = get("FAXLINE_RETENTION_DAYS") {
            self.retention_days = parse_num("FAXLINE_RETENTION_DAYS", &v)?;
        }
        if let Some(v) = get("FAXLINE_TRUSTED_PROXIES") {
            self.trusted_proxies = v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
        }
        if let Some(v) = get("FAXLINE_LEASE_SECONDS") {
            self.lease_seconds = parse_num("FAXLINE_LEASE_SECONDS", &v)?;
        }
        if let Some(v) = get("FAXLINE_READY_REQUIRES_AGENT") {
            self.ready_requires_agent = parse_bool("FAXLINE_READY_REQUIRES_AGENT", &v)?;
        }
        if let Some(v) = get("FAXLINE_MAX_ATTEMPTS") {
            self.max_attempts = parse_num("FAXLINE_MAX_ATTEMPTS", &v)?;
        }
        if let Some(v) = get("FAX_BACKEND").and_then(non_empty) {
            self.backend = v;
        }
        if let Some(v) = get("FAXLINE_ROUTING") {
            self.routing = split_list(&v);
        }
        if let Some(v) = get("FAXLINE_BACKENDS") {
            self.backends = split_list(&v);
        }
        // Document storage, under Faxbot's names where it has them.
        if let Some(v) = get("STORAGE_BACKEND").and_then(non_empty) {
            self.storage_backend = v;
        }
        if let Some(v) = get("FAXLINE_STORAGE_DIR") {
            self.storage_dir = non_empty(v).map(PathBuf::from);
        }
        for (var, slot) in [
            ("S3_BUCKET", &mut self.s3_bucket),
            ("S3_REGION", &mut self.s3_region),
            ("S3_ENDPOINT_URL", &mut self.s3_endpoint_url),
            ("S3_KMS_KEY_ID", &mut self.s3_kms_key_id),
            ("S3_ACCESS_KEY_ID", &mut self.s3_access_key_id),
            ("FAXLINE_S3_SSE", &mut self.s3_sse),
        ] {
            if let Some(v) = get(var) {
                *slot = non_empty(v);
            }
        }
        if let Some(v) = get("S3_PREFIX") {
            self.s3_prefix = v;
        }
        if let Some(v) = get("FAXLINE_S3_TIMEOUT_SECONDS") {
            self.s3_timeout_seconds = parse_num("FAXLINE_S3_TIMEOUT_SECONDS", &v)?;
        }
        if let Some(v) = get("FAXLINE_S3_PATH_STYLE") {
            self.s3_path_style = Some(parse_bool("FAXLINE_S3_PATH_STYLE", &v)?);
        }
        if let Some(v) = get("FAXLINE_STORAGE_PREVIOUS_KEY_FILES") {
            self.storage_previous_key_files = v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(PathBuf::from)
                .collect();
        }
        if let Some(v) = get("FAXLINE_STORAGE_ENCRYPTION_KEY_FILE") {
            self.storage_encryption_key_file = non_empty(v).map(PathBuf::from);
        }
        if let Some(p) = get("S3_SECRET_ACCESS_KEY_FILE").and_then(non_empty) {
            self.s3_secret_access_key = non_empty(read_secret_file(&p)?).map(Secret::new);
        }
        if let Some(v) = get("S3_SECRET_ACCESS_KEY") {
            self.s3_secret_access_key = non_empty(v).map(Secret::new);
        }
        // Phaxio, under Faxbot's names.
        if let Some(p) = get("PHAXIO_CALLBACK_TOKEN_FILE").and_then(non_empty) {
            self.phaxio_callback_token = non_empty(read_secret_file(&p)?).map(Secret::new);
        }
        if let Some(v) = get("PHAXIO_CALLBACK_TOKEN") {
            self.phaxio_callback_token = non_empty(v).map(Secret::new);
        }
        for var in ["PHAXIO_INBOUND_VERIFY_SIGNATURE", "PHAXIO_VERIFY_SIGNATURE"] {
            if let Some(v) = get(var) {
                self.phaxio_verify_signature = parse_bool(var, &v)?;
            }
        }
        for var in ["PHAXIO_STATUS_CALLBACK_URL", "PHAXIO_CALLBACK_URL"] {
            if let Some(v) = get(var) {
                self.phaxio_callback_url = non_empty(v);
            }
        }
        if let Some(v) = get("PHAXIO_INBOUND_URL") {
            self.phaxio_inbound_url = non_empty(v);
        }
        if let Some(v) = get("TELNYX_PUBLIC_KEY") {
            self.telnyx_public_key = non_empty(v);
        }
        if let Some(v) = get("TELNYX_VERIFY_SIGNATURE") {
            self.telnyx_verify_signature = parse_bool("TELNYX_VERIFY_SIGNATURE", &v)?;
        }
        if let Some(v) = get("TELNYX_WEBHOOK_MAX_AGE_SECONDS") {
            self.telnyx_max_age_seconds = parse_num("TELNYX_WEBHOOK_MAX_AGE_SECONDS", &v)?;
        }
        // SignalWire, under Faxbot's names.
        if let Some(p) = get("SIGNALWIRE_WEBHOOK_SIGNING_KEY_FILE").and_then(non_empty) {
            self.signalwire_signing_key = non_empty(read_secret_file(&p)?).map(Secret::new);
        }
        if let Some(v) = get("SIGNALWIRE_WEBHOOK_SIGNING_KEY") {
            self.signalwire_signing_key = non_empty(v).map(Secret::new);
        }
        if let Some(v) = get("SIGNALWIRE_VERIFY_SIGNATURE") {
            self.signalwire_verify_signature = parse_bool("SIGNALWIRE_VERIFY_SIGNATURE", &v)?;
        }
        for var in ["SIGNALWIRE_STATUS_CALLBACK_URL", "SIGNALWIRE_CALLBACK_URL"] {
            if let Some(v) = get(var) {
                self.signalwire_callback_url = non_empty(v);
            }
        }
        if let Some(v) = get("SIGNALWIRE_SPACE_URL") {
            self.signalwire_space_url = non_empty(v);
        }
        if let Some(v) = get("SIGNALWIRE_PROJECT_ID") {
            self.signalwire_project_id = non_empty(v);
        }
        if let Some(p) = get("SIGNALWIRE_API_TOKEN_FILE").and_then(non_empty) {
            self.signalwire_api_token = non_empty(read_secret_file(&p)?).map(Secret::new);
        }
        if let Some(v) = get("SIGNALWIRE_API_TOKEN") {
            self.signalwire_api_token = non_empty(v).map(Secret::new);
        }
        // Sinch, under Faxbot's names (its API key and secret never fall back to Phaxio's, as Faxbot's did).
        if let Some(v) = get("SINCH_INBOUND_BASIC_USER") {
            self.sinch_webhook_user = non_empty(v);
        }
        if let Some(p) = get("SINCH_INBOUND_BASIC_PASS_FILE").and_then(non_empty) {
            self.sinch_webhook_password = non_empty(read_secret_file(&p)?).map(Secret::new);
        }
        if let Some(v) = get("SINCH_INBOUND_BASIC_PASS") {
            self.sinch_webhook_password = non_empty(v).map(Secret::new);
        }
        for var in [
            "SINCH_INBOUND_VERIFY_SIGNATURE",
            "SINCH_VERIFY_WEBHOOK_AUTH",
        ] {
            if let Some(v) = get(var) {
                self.sinch_verify_auth = parse_bool(var, &v)?;
            }
        }
        if let Some(v) = get("SINCH_PROJECT_ID") {
            self.sinch_project_id = non_empty(v);
        }
        if let Some(v) = get("SINCH_API_KEY") {
            self.sinch_key_id = non_empty(v);
        }
        if let Some(p) = get("SINCH_API_SECRET_FILE").and_then(non_empty) {
            self.sinch_key_secret = non_empty(read_secret_file(&p)?).map(Secret::new);
        }
        if let Some(v) = get("SINCH_API_SECRET") {
            self.sinch_key_secret = non_empty(v).map(Secret::new);
        }
        if let Some(v) = get("SINCH_BASE_URL").and_then(non_empty) {
            self.sinch_base_url = v;
        }
        Ok(())
    }

    /// Every secret judged by the one rule set ([`faxline_protocol::secret_strength::weakness`], shared with the agent),
    /// and no two the same.
    fn check_secrets(&self) -> Result<(), ConfigError> {
        let named = [
            (
                "the agent secret (FAXLINE_AGENT_SECRET)",
                &self.agent_secret,
                MIN_SECRET_LEN,
            ),
            (
                "the server secret (FAXLINE_SERVER_SECRET)",
                &self.server_secret,
                MIN_SECRET_LEN,
            ),
            ("API_KEY", &self.api_key, MIN_SHARED_KEY_LEN),
            (
                "ASTERISK_INBOUND_SECRET",
                &self.internal_secret,
                MIN_SHARED_KEY_LEN,
            ),
            (
                "PHAXIO_CALLBACK_TOKEN",
                &self.phaxio_callback_token,
                MIN_SHARED_KEY_LEN,
            ),
            (
                "SIGNALWIRE_SIGNING_KEY",
                &self.signalwire_signing_key,
                MIN_SHARED_KEY_LEN,
            ),
            (
                "SIGNALWIRE_API_TOKEN",
                &self.signalwire_api_token,
                MIN_SHARED_KEY_LEN,
            ),
            (
                "SINCH_INBOUND_BASIC_PASS",
                &self.sinch_webhook_password,
                MIN_SHARED_KEY_LEN,
            ),
            (
                "SINCH_API_SECRET",
                &self.sinch_key_secret,
                MIN_SHARED_KEY_LEN,
            ),
        ];
        for (name, secret, min) in &named {
            if let Some(s) = secret
                && let Some(w) = faxline_protocol::secret_strength::weakness(s.expose(), *min)
            {
                return Err(ConfigError::Invalid(format!("{name} {w}")));
            }
        }
        let values: Vec<(&str, &str)> = named
            .iter()
            .filter_map(|(n, s, _)| s.as_ref().map(|s| (*n, s.expose())))
            .collect();
        if let Some((a, b)) = faxline_protocol::secret_strength::reused(&values).first() {
            return Err(ConfigError::Invalid(format!(
                "{a} is the same value as {b}; every secret must be different"
            )));
        }
        Ok(())
    }

    /// `trusted_proxies` parsed; a bare address is a /32 (or /128) network.
    pub fn trusted_proxy_nets(&self) -> Result<Vec<ipnet::IpNet>, ConfigError> {
        self.trusted_proxies
            .iter()
            .map(|s| {
                s.parse::<ipnet::IpNet>()
                    .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| {
                        ConfigError::Invalid(format!(
                            "trusted_proxies: {s:?} is not an IP address or CIDR network"
                        ))
                    })
            })
            .collect()
    }

    /// The upload limit in bytes.
    pub fn max_file_bytes(&self) -> u64 {
        self.max_file_size_mb.saturating_mul(1 << 20)
    }

    /// Where uploads are spooled on their way to a database or S3 backend (`data_dir/uploads`,
    /// private; the local backend spools in its own directory).
    pub fn upload_dir(&self) -> std::path::PathBuf {
        self.data_dir.join("uploads")
    }

    /// Where documents live, from the `storage_*` and `s3_*` settings; clear errors for an unknown
    /// backend, a missing bucket or half-given credentials.
    pub fn document_backend(&self) -> Result<crate::store::DocumentBackend, ConfigError> {
        use crate::store::{DocumentBackend, S3Settings, ServerSideEncryption};
        match self.storage_backend.trim().to_ascii_lowercase().as_str() {
            "" | "database" | "db" => Ok(DocumentBackend::Database),
            "local" => Ok(DocumentBackend::Local(
                self.storage_dir
                    .clone()
                    .unwrap_or_else(|| self.data_dir.join("documents")),
            )),
            "s3" => {
                let bucket = self
                    .s3_bucket
                    .clone()
                    .filter(|b| !b.trim().is_empty())
                    .ok_or_else(|| {
                        ConfigError::Invalid(
                            "storage_backend = \"s3\" needs a bucket (s3_bucket / S3_BUCKET)"
                                .into(),
                        )
                    })?;
                if self.s3_access_key_id.is_some() != self.s3_secret_access_key.is_some() {
                    return Err(ConfigError::Invalid(
                        "s3_access_key_id and s3_secret_access_key go together; set both, or neither to use the standard AWS credential chain"
                            .into(),
                    ));
                }
                let encryption = match self.s3_sse.as_deref().map(str::trim) {
                    None | Some("") if self.s3_kms_key_id.is_some() => {
                        ServerSideEncryption::Kms(self.s3_kms_key_id.clone())
                    }
                    None | Some("") | Some("s3") | Some("AES256") => ServerSideEncryption::S3,
                    Some("kms") | Some("aws:kms") => {
                        ServerSideEncryption::Kms(self.s3_kms_key_id.clone())
                    }
                    Some("none") if self.s3_kms_key_id.is_none() => ServerSideEncryption::None,
                    Some(other) => {
                        return Err(ConfigError::Invalid(format!(
                            "s3_sse must be kms, s3 or none (none without s3_kms_key_id), got {other:?}"
                        )));
                    }
                };
                if !(1..=600).contains(&self.s3_timeout_seconds) {
                    return Err(ConfigError::Invalid(format!(
                        "s3_timeout_seconds must be 1-600, got {}",
                        self.s3_timeout_seconds
                    )));
                }
                if let Some(e) = &self.s3_endpoint_url
                    && !(e.starts_with("http://") || e.starts_with("https://"))
                {
                    return Err(ConfigError::Invalid(format!(
                        "s3_endpoint_url must be an http(s) URL, got {e:?}"
                    )));
                }
                Ok(DocumentBackend::S3(S3Settings {
                    bucket,
                    prefix: self.s3_prefix.clone(),
                    region: self.s3_region.clone(),
                    endpoint_url: self.s3_endpoint_url.clone(),
                    path_style: self.s3_path_style.unwrap_or(self.s3_endpoint_url.is_some()),
                    access_key_id: self.s3_access_key_id.clone(),
                    secret_access_key: self.s3_secret_access_key.clone(),
                    encryption,
                    timeout: std::time::Duration::from_secs(self.s3_timeout_seconds),
                }))
            }
            other => Err(ConfigError::Invalid(format!(
                "storage_backend must be database, local or s3, got {other:?}"
            ))),
        }
    }

    /// The client-side encryption keys: `storage_encryption_key_file` seals, it and
    /// `storage_previous_key_files` open; `None` when off.
    pub fn document_key(&self) -> Result<Option<crate::store::Keyring>, ConfigError> {
        let read = |path: &PathBuf| {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                path: path.clone(),
                source,
            })?;
            crate::store::MasterKey::parse(&text)
                .map_err(|e| ConfigError::Invalid(format!("{}: {e}", path.display())))
        };
        let Some(path) = &self.storage_encryption_key_file else {
            if self.storage_previous_key_files.is_empty() {
                return Ok(None);
            }
            return Err(ConfigError::Invalid(
                "storage_previous_key_files is set without storage_encryption_key_file".into(),
            ));
        };
        let previous = self
            .storage_previous_key_files
            .iter()
            .map(read)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(crate::store::Keyring::new(read(path)?, previous)))
    }

    /// The database URL, defaulting to SQLite inside `data_dir`.
    pub fn effective_database_url(&self) -> String {
        if self.database_url.is_empty() {
            format!("sqlite://{}", self.data_dir.join("faxline.db").display())
        } else {
            self.database_url.clone()
        }
    }

    /// Whether the Phaxio callback routes take callbacks: Phaxio is the backend, or its token (or the
    /// explicit opt-out of verification) is configured.
    pub fn phaxio_enabled(&self) -> bool {
        self.backend.eq_ignore_ascii_case("phaxio")
            || self.phaxio_callback_token.is_some()
            || !self.phaxio_verify_signature
    }

    /// The URL Phaxio posts to for `route` (`/phaxio-callback` or `/phaxio-inbound`), as its signature covers
    /// it: the configured one, else under `PUBLIC_API_URL`.
    pub fn phaxio_url(&self, route: &str) -> Option<String> {
        let configured = match route {
            "/phaxio-callback" => self.phaxio_callback_url.clone(),
            _ => self.phaxio_inbound_url.clone(),
        };
        configured.or_else(|| {
            self.public_api_url
                .as_deref()
                .map(|b| format!("{}{route}", b.trim_end_matches('/')))
        })
    }

    /// Whether the Telnyx webhook route takes webhooks: Telnyx is the backend, or its public key (or the
    /// explicit opt-out of verification) is configured.
    pub fn telnyx_enabled(&self) -> bool {
        self.backend.eq_ignore_ascii_case("telnyx")
            || self.telnyx_public_key.is_some()
            || !self.telnyx_verify_signature
    }

    /// The verified Telnyx public key, when verification is on and the key configured.
    pub fn telnyx_key(&self) -> Option<ed25519_dalek::VerifyingKey> {
        crate::cloud::telnyx::public_key(self.telnyx_public_key.as_deref()?).ok()
    }

    /// Whether the SignalWire webhook route takes webhooks: SignalWire is the backend, or its signing key (or
    /// the explicit opt-out of verification) is configured.
    pub fn signalwire_enabled(&self) -> bool {
        self.backend.eq_ignore_ascii_case("signalwire")
            || self.signalwire_signing_key.is_some()
            || !self.signalwire_verify_signature
    }

    /// The URL SignalWire posts to, as its signature covers it (without the query, which the request
    /// carries): the configured one, else under `PUBLIC_API_URL`.
    pub fn signalwire_url(&self) -> Option<String> {
        self.signalwire_callback_url.clone().or_else(|| {
            self.public_api_url
                .as_deref()
                .map(|b| format!("{}/signalwire-callback", b.trim_end_matches('/')))
        })
    }

    /// The host of the SignalWire space (`SIGNALWIRE_SPACE_URL` may be a host or a URL), lower case.
    pub fn signalwire_host(&self) -> Option<String> {
        let space = self.signalwire_space_url.as_deref()?.trim();
        let with_scheme = if space.contains("://") {
            space.to_owned()
        } else {
            format!("https://{space}")
        };
        url::Url::parse(&with_scheme)
            .ok()?
            .host_str()
            .map(str::to_ascii_lowercase)
    }

    /// Whether the Sinch webhook routes take webhooks: Sinch is the backend, or its webhook credentials (or
    /// the explicit opt-out of their check) are configured.
    pub fn sinch_enabled(&self) -> bool {
        self.backend.eq_ignore_ascii_case("sinch")
            || self.sinch_webhook_password.is_some()
            || !self.sinch_verify_auth
    }

    /// The host of Sinch's Fax API (`SINCH_BASE_URL`), lower case: received faxes are downloaded from it only.
    pub fn sinch_host(&self) -> Option<String> {
        url::Url::parse(self.sinch_base_url.trim())
            .ok()?
            .host_str()
            .map(str::to_ascii_lowercase)
    }

    /// The Sinch webhooks' credentials, when configured.
    pub fn sinch_credentials(&self) -> Option<(&str, &str)> {
        Some((
            self.sinch_webhook_user.as_deref()?,
            self.sinch_webhook_password.as_ref()?.expose(),
        ))
    }

    fn check_sinch(&self) -> Result<(), ConfigError> {
        let lower = self.sinch_base_url.to_ascii_lowercase();
        if self.sinch_enabled()
            && !(lower.starts_with("https://")
                || (lower.starts_with("http://") && self.allow_insecure_public_url))
        {
            return Err(ConfigError::Invalid(format!(
                "SINCH_BASE_URL must be an https URL (allow_insecure_public_url for local use), got {:?}",
                self.sinch_base_url
            )));
        }
        if !self.sinch_enabled() || !self.sinch_verify_auth {
            return Ok(());
        }
        let unreserved = |s: &str| {
            !s.is_empty()
                && s.len() <= 128
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~'))
        };
        let (Some(user), Some(password)) = (&self.sinch_webhook_user, &self.sinch_webhook_password)
        else {
            return Err(ConfigError::Invalid(
                "Sinch's webhooks carry no signature, so they are authenticated by HTTP Basic credentials in \
                 the callback URLs, and SINCH_INBOUND_BASIC_USER and SINCH_INBOUND_BASIC_PASS are not both set: \
                 choose a user name and a strong password (`openssl rand -hex 32`; or [sinch] webhook_user and \
                 webhook_password_file), give the same to the line and put them in the incoming-fax URL of \
                 the Sinch fax service; SINCH_VERIFY_WEBHOOK_AUTH=false turns the check off for local \
                 development only"
                    .into(),
            ));
        };
        if !unreserved(user) || !unreserved(password.expose()) {
            return Err(ConfigError::Invalid(
                "SINCH_INBOUND_BASIC_USER and SINCH_INBOUND_BASIC_PASS must be letters, digits, `-`, `.`, `_` \
                 or `~` (at most 128): they travel in the callback URL"
                    .into(),
            ));
        }
        if password.expose().eq_ignore_ascii_case(user) {
            return Err(ConfigError::Invalid(
                "SINCH_INBOUND_BASIC_PASS equals SINCH_INBOUND_BASIC_USER; use a random value"
                    .into(),
            ));
        }
        Ok(())
    }

    fn check_signalwire(&self) -> Result<(), ConfigError> {
        if self.backend.eq_ignore_ascii_case("signalwire") && self.public_api_url.is_none() {
            return Err(ConfigError::Invalid(
                "SignalWire fetches each fax's document from a signed link under PUBLIC_API_URL: set it to \
                 the public https address of this API"
                    .into(),
            ));
        }
        if self.signalwire_space_url.is_some() && self.signalwire_host().is_none() {
            return Err(ConfigError::Invalid(
                "SIGNALWIRE_SPACE_URL must be the space's host (example.signalwire.com)".into(),
            ));
        }
        if !self.signalwire_enabled() || !self.signalwire_verify_signature {
            return Ok(());
        }
        if self.signalwire_signing_key.is_none() {
            return Err(ConfigError::Invalid(
                "SignalWire's webhooks are verified but SIGNALWIRE_WEBHOOK_SIGNING_KEY is not set: copy the \
                 project's signing key from the SignalWire Dashboard (API credentials) into \
                 SIGNALWIRE_WEBHOOK_SIGNING_KEY (or signalwire_signing_key_file); \
                 SIGNALWIRE_VERIFY_SIGNATURE=false turns verification off for local development only"
                    .into(),
            ));
        }
        let Some(url) = self.signalwire_url() else {
            return Err(ConfigError::Invalid(
                "SignalWire's webhook signature covers the URL it posts to: set PUBLIC_API_URL (or \
                 SIGNALWIRE_STATUS_CALLBACK_URL) to the public address SignalWire calls"
                    .into(),
            ));
        };
        let lower = url.to_ascii_lowercase();
        if !(lower.starts_with("https://")
            || (lower.starts_with("http://") && self.allow_insecure_public_url))
        {
            return Err(ConfigError::Invalid(format!(
                "The SignalWire callback URL must use https (allow_insecure_public_url for local use), got {url:?}"
            )));
        }
        Ok(())
    }

    fn check_telnyx(&self) -> Result<(), ConfigError> {
        if self.backend.eq_ignore_ascii_case("telnyx") && self.public_api_url.is_none() {
            return Err(ConfigError::Invalid(
                "Telnyx fetches each fax's document from a signed link under PUBLIC_API_URL: set it to the \
                 public https address of this API"
                    .into(),
            ));
        }
        if !self.telnyx_enabled() || !self.telnyx_verify_signature {
            return Ok(());
        }
        let Some(key) = &self.telnyx_public_key else {
            return Err(ConfigError::Invalid(
                "Telnyx's webhooks are verified but TELNYX_PUBLIC_KEY is not set: copy the public key from \
                 the Telnyx portal (Keys & Credentials) into TELNYX_PUBLIC_KEY (or [telnyx] public_key); \
                 TELNYX_VERIFY_SIGNATURE=false turns verification off for local development only"
                    .into(),
            ));
        };
        crate::cloud::telnyx::public_key(key)
            .map_err(|e| ConfigError::Invalid(format!("TELNYX_PUBLIC_KEY: {e}")))?;
        if !(1..=3600).contains(&self.telnyx_max_age_seconds) {
            return Err(ConfigError::Invalid(
                "TELNYX_WEBHOOK_MAX_AGE_SECONDS must be 1..=3600".into(),
            ));
        }
        Ok(())
    }

    fn check_phaxio(&self) -> Result<(), ConfigError> {
        if !self.phaxio_enabled() || !self.phaxio_verify_signature {
            return Ok(());
        }
        if self.phaxio_callback_token.is_none() {
            return Err(ConfigError::Invalid(
                "Phaxio's callbacks are verified but PHAXIO_CALLBACK_TOKEN is not set: copy the webhook token \
                 from the Phaxio console into PHAXIO_CALLBACK_TOKEN (or phaxio_callback_token_file); \
                 PHAXIO_VERIFY_SIGNATURE=false turns verification off for local development only"
                    .into(),
            ));
        }
        if self.phaxio_url("/phaxio-callback").is_none() {
            return Err(ConfigError::Invalid(
                "Phaxio's callback signature covers the URL it posts to: set PUBLIC_API_URL (or \
                 PHAXIO_CALLBACK_URL and PHAXIO_INBOUND_URL) to the public address Phaxio calls"
                    .into(),
            ));
        }
        for url in [&self.phaxio_callback_url, &self.phaxio_inbound_url]
            .into_iter()
            .flatten()
        {
            let lower = url.to_ascii_lowercase();
            if !(lower.starts_with("https://")
                || (lower.starts_with("http://") && self.allow_insecure_public_url))
            {
                return Err(ConfigError::Invalid(format!(
                    "Phaxio callback URLs must use https (allow_insecure_public_url for local use), got {url:?}"
                )));
            }
        }
        Ok(())
    }

    /// Refuses unsafe configurations. Called before the server starts; `serve` calls it too.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.render.validate()?;
        if self.agent_secret.is_none() {
            return Err(ConfigError::Invalid(
                "the agent secret is missing (set agent_secret or FAXLINE_AGENT_SECRET, at least 32 random bytes, e.g. `openssl rand -hex 32`)"
                    .into(),
            ));
        }
        self.check_secrets()?;
        if !self.require_api_key && !self.listen.ip().is_loopback() {
            return Err(ConfigError::Invalid(format!(
                "require_api_key = false is a development setting and is refused on the non-loopback address {}",
                self.listen
            )));
        }
        if let Some(url) = &self.public_api_url {
            let lower = url.to_ascii_lowercase();
            if !lower.starts_with("https://") {
                if !lower.starts_with("http://") {
                    return Err(ConfigError::Invalid(format!(
                        "PUBLIC_API_URL must be an http(s) URL, got {url:?}"
                    )));
                }
                if !self.allow_insecure_public_url {
                    return Err(ConfigError::Invalid(
                        "PUBLIC_API_URL must use https (set allow_insecure_public_url / FAXLINE_ALLOW_INSECURE_PUBLIC_URL=true for local use)"
                            .into(),
                    ));
                }
            }
        }
        crate::mcp::oauth::check_config(self).map_err(ConfigError::Invalid)?;
        if self.inbound_enabled
            && self.internal_secret.is_some()
            && self.inbound_spool_dir.is_none()
        {
            return Err(ConfigError::Invalid(
                "ASTERISK_INBOUND_SECRET is set but no inbound_spool_dir confines the files it may read"
                    .into(),
            ));
        }
        self.check_phaxio()?;
        self.check_telnyx()?;
        self.check_signalwire()?;
        self.check_sinch()?;
        self.trusted_proxy_nets()?;
        if self.header_read_timeout_seconds == 0 || self.request_timeout_seconds == 0 {
            return Err(ConfigError::Invalid(
                "header_read_timeout_seconds and request_timeout_seconds must be at least 1".into(),
            ));
        }
        if self.max_file_size_mb == 0 {
            return Err(ConfigError::Invalid(
                "max_file_size_mb must be at least 1".into(),
            ));
        }
        self.document_backend()?;
        self.document_key()?;
        check_line_kinds("routing (FAXLINE_ROUTING)", &self.routing)?;
        check_line_kinds("backends (FAXLINE_BACKENDS)", &self.backends)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> Config {
        Config {
            agent_secret: Some(Secret::new("9f2c1e7ab04d83f6e15c2a9b7d60e4f38c1a5b92")),
            ..Config::default()
        }
    }

    #[test]
    fn agent_secret_rules() {
        assert!(Config::default().validate().is_err());
        let mut c = good();
        assert!(c.validate().is_ok());
        c.agent_secret = Some(Secret::new("short"));
        assert!(c.validate().is_err());
        let mut c = good();
        c.server_secret = c.agent_secret.clone();
        assert!(c.validate().unwrap_err().to_string().contains("same value"));
    }

    #[test]
    fn weak_secrets_are_refused_as_the_agent_refuses_them() {
        let weak = [
            ("agent", "a".repeat(40)),
            ("agent", "password".repeat(5)),
            ("api_key", "a".repeat(16)),
            ("api_key", "changeme-changeme-123".to_string()),
            ("internal", "abcdefghijklmnopqrstuvwxyz".to_string()),
            ("server", "0123456789".repeat(4)),
        ];
        for (which, value) in weak {
            let mut c = good();
            let s = Some(Secret::new(value.clone()));
            match which {
                "agent" => c.agent_secret = s,
                "api_key" => c.api_key = s,
                "internal" => c.internal_secret = s,
                _ => c.server_secret = s,
            }
            let e = c.validate().expect_err(&value).to_string();
            assert!(!e.contains(&value), "the secret is in the message: {e}");
        }
        let mut c = good();
        c.api_key = Some(Secret::new("Zq7-vL2pX9_mR4tK8wN1"));
        c.internal_secret = c.api_key.clone();
        assert!(c.validate().unwrap_err().to_string().contains("same value"));
        c.internal_secret = Some(Secret::new("u8Kp3-Wz9q_Lm2Rt6"));
        assert!(c.validate().is_ok());
    }

    #[test]
    fn signalwire_secrets_are_judged_like_the_others() {
        let mut c = good();
        c.signalwire_signing_key = Some(Secret::new("changeme"));
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("SIGNALWIRE_SIGNING_KEY"), "{e}");
        assert!(!e.contains("changeme"), "the secret is in the message: {e}");
        let mut c = good();
        c.signalwire_api_token = Some(Secret::new("PT-short"));
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("SIGNALWIRE_API_TOKEN"), "{e}");
        // The signing key and the API token are separate credentials: one value for both is refused.
        let mut c = good();
        c.signalwire_signing_key = Some(Secret::new("PSK_r7Vq2LxN9pW4kT8mZ3sB6"));
        c.signalwire_api_token = c.signalwire_signing_key.clone();
        assert!(c.validate().unwrap_err().to_string().contains("same value"));
    }

    #[test]
    fn auth_off_only_on_loopback() {
        let mut c = good();
        c.require_api_key = false;
        assert!(c.validate().is_ok());
        c.listen = "0.0.0.0:8080".parse().unwrap();
        assert!(c.validate().is_err());
    }

    #[test]
    fn public_url_https_unless_opted_out() {
        let mut c = good();
        c.public_api_url = Some("http://fax.example.org".into());
        assert!(c.validate().is_err());
        c.allow_insecure_public_url = true;
        assert!(c.validate().is_ok());
    }

    #[test]
    fn env_overrides_with_faxbot_names() {
        let mut c = good();
        let env = |k: &str| match k {
            "MAX_FILE_SIZE_MB" => Some("3".to_string()),
            "REQUIRE_API_KEY" => Some("false".to_string()),
            "INBOUND_ENABLED" => Some("true".to_string()),
            "API_KEY" => Some("bootstrap-key-0123456789".to_string()),
            _ => None,
        };
        c.apply_env(env).unwrap();
        assert_eq!(c.max_file_size_mb, 3);
        assert!(!c.require_api_key);
        assert!(c.inbound_enabled);
        assert_eq!(c.api_key.unwrap().expose(), "bootstrap-key-0123456789");
        let mut c = good();
        assert!(c.apply_env(|_| Some("x".into())).is_err());
    }

    #[test]
    fn storage_from_faxbot_names() {
        use crate::store::{DocumentBackend, ServerSideEncryption};
        assert!(matches!(
            good().document_backend().unwrap(),
            DocumentBackend::Database
        ));
        let mut c = good();
        let env = |k: &str| {
            match k {
                "STORAGE_BACKEND" => Some("s3"),
                "S3_BUCKET" => Some("faxes"),
                "S3_PREFIX" => Some("clinic/a"),
                "S3_REGION" => Some("eu-central-1"),
                "S3_ENDPOINT_URL" => Some("http://127.0.0.1:9000"),
                "S3_KMS_KEY_ID" => Some("key-1"),
                _ => None,
            }
            .map(str::to_string)
        };
        c.apply_env(env).unwrap();
        let DocumentBackend::S3(s) = c.document_backend().unwrap() else {
            panic!("not s3");
        };
        assert_eq!(s.bucket, "faxes");
        assert_eq!(s.prefix, "clinic/a");
        assert_eq!(s.region.as_deref(), Some("eu-central-1"));
        assert_eq!(s.endpoint_url.as_deref(), Some("http://127.0.0.1:9000"));
        assert!(
            s.path_style,
            "a self-hosted endpoint is path-style by default"
        );
        assert_eq!(
            s.encryption,
            ServerSideEncryption::Kms(Some("key-1".into()))
        );
        assert!(c.validate().is_ok());

        // Without a KMS key: SSE-S3. Without a bucket, half credentials, or an unknown backend: refused.
        let mut c = good();
        c.storage_backend = "s3".into();
        assert!(c.document_backend().is_err());
        c.s3_bucket = Some("b".into());
        let DocumentBackend::S3(s) = c.document_backend().unwrap() else {
            panic!("not s3");
        };
        assert_eq!(s.encryption, ServerSideEncryption::S3);
        assert!(!s.path_style);
        c.s3_access_key_id = Some("id".into());
        assert!(c.validate().is_err());
        c.s3_access_key_id = None;
        c.s3_sse = Some("rot13".into());
        assert!(c.document_backend().is_err());
        c.storage_backend = "ftp".into();
        assert!(c.validate().is_err());

        let mut c = good();
        c.apply_env(|k| (k == "STORAGE_BACKEND").then(|| "local".to_string()))
            .unwrap();
        let DocumentBackend::Local(dir) = c.document_backend().unwrap() else {
            panic!("not local");
        };
        assert_eq!(dir, c.data_dir.join("documents"));
    }

    #[test]
    fn shared_file_reads_the_api_section_and_ignores_agent_sections() {
        let text = "[agent]\nlease_poll_secs = 5\n[ami]\nport = 5038\n[api]\nmax_file_size_mb = 7\nlisten = \"127.0.0.1:9000\"\n";
        let c = Config::from_toml_str(text, Path::new("t.toml"), &|_| None).unwrap();
        assert_eq!(c.max_file_size_mb, 7);
        assert_eq!(c.listen.port(), 9000);
        // Agent sections only: API defaults.
        let c = Config::from_toml_str("[ami]\nport = 1\n", Path::new("t.toml"), &|_| None).unwrap();
        assert_eq!(c.max_file_size_mb, 10);
        // The old flat form still works.
        let c = Config::from_toml_str("max_file_size_mb = 4\n", Path::new("t.toml"), &|_| None)
            .unwrap();
        assert_eq!(c.max_file_size_mb, 4);
        // Flat API keys next to agent sections are ambiguous: refused with a hint.
        let e = Config::from_toml_str(
            "max_file_size_mb = 4\n[ami]\nport = 1\n",
            Path::new("t.toml"),
            &|_| None,
        )
        .unwrap_err();
        assert!(e.to_string().contains("[api]"), "{e}");
        // Unknown keys inside [api] are still refused.
        assert!(
            Config::from_toml_str("[api]\nnope = 1\n", Path::new("t.toml"), &|_| None).is_err()
        );
    }

    #[test]
    fn section_env_overrides_and_secret_files() {
        let dir = std::env::temp_dir().join(format!("faxline-apicfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let secret = dir.join("agent_secret");
        std::fs::write(&secret, format!("{}\n", "s".repeat(40))).unwrap();
        let secret_s = secret.display().to_string();
        let env = move |k: &str| match k {
            "FAXLINE_API__MAX_FILE_SIZE_MB" => Some("9".to_string()),
            "FAXLINE_API__PUBLIC_API_URL" => Some("https://fax.example.org".to_string()),
            "FAXLINE_API__AGENT_SECRET_FILE" => Some(secret_s.clone()),
            _ => None,
        };
        let c = Config::from_toml_str("[api]\nmax_file_size_mb = 3\n", Path::new("t.toml"), &env)
            .unwrap();
        assert_eq!(c.max_file_size_mb, 9);
        assert_eq!(c.public_api_url.as_deref(), Some("https://fax.example.org"));
        assert_eq!(c.agent_secret.unwrap().expose(), "s".repeat(40));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn routing_and_backends_name_known_lines_once() {
        let mut c = good();
        c.routing = vec!["sip".into(), "phaxio".into()];
        c.backends = vec!["phaxio".into()];
        c.validate().unwrap();
        c.routing = vec!["sip".into(), "fax2000".into()];
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("routing") && e.contains("fax2000"), "{e}");
        c.routing = vec!["sip".into(), "sip".into()];
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("listed twice"), "{e}");
        c.routing.clear();
        c.backends = vec!["Phaxio".into()];
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("backends") && e.contains("Phaxio"), "{e}");
        // From the environment (a comma-separated list), from the file (an array), and as FAXLINE_API__*.
        let env = |k: &str| match k {
            "FAXLINE_ROUTING" => Some("sip, telnyx".to_owned()),
            "FAXLINE_API__BACKENDS" => Some("sip,phaxio".to_owned()),
            _ => None,
        };
        let mut c = Config::from_toml_str(
            "[api]\nrouting = [\"asterisk\"]\nbackends = [\"telnyx\"]\n",
            Path::new("test.toml"),
            &env,
        )
        .unwrap();
        assert_eq!(c.routing, ["asterisk"]);
        c.apply_env(env).unwrap();
        assert_eq!(c.routing, ["sip", "telnyx"]);
        assert_eq!(c.backends, ["sip", "phaxio"]);
    }

    #[test]
    fn trusted_proxies_parse_addresses_and_networks() {
        let mut c = good();
        c.apply_env(|k| (k == "FAXLINE_TRUSTED_PROXIES").then(|| "10.0.0.5, 10.1.0.0/16".into()))
            .unwrap();
        let nets = c.trusted_proxy_nets().unwrap();
        assert!(nets[0].contains(&"10.0.0.5".parse::<std::net::IpAddr>().unwrap()));
        assert!(nets[1].contains(&"10.1.2.3".parse::<std::net::IpAddr>().unwrap()));
        assert!(c.validate().is_ok());
        c.trusted_proxies = vec!["proxy.local".into()];
        assert!(c.validate().is_err());
    }

    #[test]
    fn the_example_file_sets_the_hardening_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../faxline.example.toml");
        let c = Config::from_toml_file(&path).unwrap();
        let d = Config::default();
        assert_eq!(c.retention_days, d.retention_days);
        assert_eq!(c.header_read_timeout_seconds, d.header_read_timeout_seconds);
        assert_eq!(c.request_timeout_seconds, d.request_timeout_seconds);
        assert_eq!(c.max_connections_per_address, d.max_connections_per_address);
        assert_eq!(
            c.auth_failures_before_lockout,
            d.auth_failures_before_lockout
        );
        assert!(c.trusted_proxies.is_empty());
    }

    #[test]
    fn the_render_budget_comes_from_the_shared_limits_section() {
        let text = "[limits]\nmax_calls = 2\nrender_memory_mb = 1024\nrender_seconds_per_page = 5\n[api]\n";
        let c = Config::from_toml_str(text, Path::new("t.toml"), &|_| None).unwrap();
        assert_eq!((c.render.memory_mb, c.render.seconds_per_page), (1024, 5));
        assert_eq!(c.render.options().memory_limit, 1024 << 20);
        let c = Config::from_toml_str("[api]\n", Path::new("t.toml"), &|_| None).unwrap();
        assert_eq!((c.render.memory_mb, c.render.seconds_per_page), (512, 20));
        let mut c = Config::load_with(None, |k| {
            (k == "FAXLINE_LIMITS__RENDER_MEMORY_MB").then(|| "32".to_string())
        })
        .unwrap();
        assert_eq!(c.render.memory_mb, 32);
        c.agent_secret = good().agent_secret;
        let e = c.validate().unwrap_err();
        assert!(e.to_string().contains("render_memory_mb"), "{e}");
    }

    #[test]
    fn secrets_are_not_debug_printed() {
        let c = good();
        assert!(!format!("{c:?}").contains("9f2c1e7a"));
    }
}
