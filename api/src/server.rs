//! Assembling and running the API: startup checks, the shared state, background tasks
//! (lease sweeper, retention) and the axum server.

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use axum::Router;
use axum::http::HeaderMap;
use tokio::net::TcpListener;
use tokio::sync::Notify;

use crate::auth::{self, Principal};
use crate::config::{Config, ConfigError, MIN_SECRET_LEN, Secret};
use crate::error::{ApiError, ApiResult};
use crate::store::{ApiKeyRow, Store, StoreError};
use crate::throttle::{AuthThrottle, FailScope, RateLimiter};
use faxline_protocol::auth::NonceCache;
use faxline_protocol::messages::LineHealth;
use faxline_protocol::time::{now_s, now_us};

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("server secret file {path}: {source}")]
    SecretFile {
        path: String,
        source: std::io::Error,
    },
    #[error("data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
}

/// How long a key row read from the database is trusted, in microseconds. Saves a query per
/// request; revoking or rotating a key drops it from this instance's cache at once, so the delay
/// applies only to other API instances sharing a PostgreSQL database.
pub const KEY_CACHE_US: i64 = 1_000_000;

/// Preview renders allowed at once; more wait their turn.
pub const PREVIEW_CONCURRENCY: usize = 2;

/// Bytes of PNGs the preview cache keeps (thumbnails are a few KB, full pages 30–100 KB).
pub const PREVIEW_CACHE_BYTES: usize = 32 * 1024 * 1024;

/// Shared by every handler.
#[derive(Clone)]
pub(crate) struct AppState(pub(crate) Arc<Inner>);

pub(crate) struct Inner {
    pub cfg: Config,
    pub store: Store,
    pub server_secret: Secret,
    pub agent_secret: Secret,
    pub auth_throttle: AuthThrottle,
    /// `trusted_proxies`, parsed (see [`crate::routes`]'s `ClientIp`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub rate: RateLimiter,
    pub nonces: NonceCache,
    /// Woken when a job is queued, so long-polling agents return at once.
    pub job_added: Notify,
    /// Woken when a provider webhook event is stored, so cloud lines waiting for it return at once.
    pub provider_event: Notify,
    /// Bounds concurrent preview renders (each rasterizes a full page on the blocking pool).
    pub previews: tokio::sync::Semaphore,
    /// Answers of recent preview requests (see [`crate::pages::PreviewCache`]).
    pub preview_cache: crate::pages::PreviewCache,
    key_touch: Mutex<HashMap<String, i64>>,
    /// Recently read key rows by key id, with the time they were read (see [`KEY_CACHE_US`]).
    key_cache: Mutex<HashMap<String, (i64, ApiKeyRow)>>,
    agent_touch: Mutex<HashMap<String, i64>>,
    /// The line report each agent's row last got from this instance, so an unchanged report is written only
    /// as often as a plain contact (see `AppState::agent_polled`).
    agent_lines: Mutex<HashMap<String, Option<LineHealth>>>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// A configured, migrated API ready to serve.
pub struct App {
    state: AppState,
    first_admin_key: Option<String>,
}

impl App {
    /// Validates the configuration, opens and migrates the database, loads or creates the server
    /// secret and mints the first admin key when there is no key at all.
    pub async fn start(cfg: Config) -> Result<Self, ServeError> {
        cfg.validate()?;
        crate::metrics::handle();
        if !cfg.require_api_key {
            tracing::warn!(
                listen = %cfg.listen,
                "AUTHENTICATION IS DISABLED (require_api_key = false): development use only"
            );
        }
        // Database, secrets and spool live here: owner only.
        crate::private_fs::private_dir(&cfg.data_dir).map_err(|source| ServeError::DataDir {
            path: cfg.data_dir.display().to_string(),
            source,
        })?;
        crate::private_fs::private_dir(&cfg.upload_dir()).map_err(|source| {
            ServeError::DataDir {
                path: cfg.upload_dir().display().to_string(),
                source,
            }
        })?;
        // Uploads a killed process left half-spooled (an hour old: another process sharing the
        // directory may be spooling now).
        match crate::store::spool::sweep_stale(
            &cfg.upload_dir(),
            std::time::Duration::from_secs(3600),
        ) {
            Ok(0) => {}
            Ok(n) => tracing::info!(files = n, "deleted stale upload files"),
            Err(e) => tracing::warn!(error = %e, "cannot sweep stale upload files"),
        }
        let server_secret = match &cfg.server_secret {
            Some(s) => s.clone(),
            None => load_or_create_secret(&cfg.data_dir.join("server_secret"))?,
        };
        let agent_secret = cfg
            .agent_secret
            .clone()
            .ok_or_else(|| ConfigError::Invalid("the agent secret is missing".into()))?;
        if agent_secret == server_secret {
            return Err(ConfigError::Invalid(
                "the agent secret must differ from the server secret".into(),
            )
            .into());
        }
        let store = Store::connect_encrypted(
            &cfg.effective_database_url(),
            &cfg.document_backend()?,
            cfg.document_key()?,
        )
        .await?;
        let mut first_admin_key = None;
        if cfg.api_key.is_none() && store.keys().count().await? == 0 {
            let k = auth::mint_key(server_secret.as_bytes(), None);
            store
                .keys()
                .insert(&ApiKeyRow {
                    key_id: k.key_id.clone(),
                    key_hash: k.hash.clone(),
                    name: Some("first admin key".into()),
                    owner: None,
                    scopes: auth::ALL_SCOPES.join(","),
                    note: Some("generated at first start".into()),
                    created_at: now_us(),
                    last_used_at: None,
                    expires_at: None,
                    revoked_at: None,
                })
                .await?;
            crate::audit!("api_key_created", key_id = %k.key_id, reason = "first start");
            first_admin_key = Some(k.token);
        }
        let inner = Arc::new(Inner {
            auth_throttle: AuthThrottle::new(
                cfg.auth_failures_before_lockout,
                cfg.auth_lockout_seconds,
            ),
            trusted_proxies: cfg.trusted_proxy_nets()?,
            rate: RateLimiter::default(),
            nonces: NonceCache::default(),
            job_added: Notify::new(),
            provider_event: Notify::new(),
            previews: tokio::sync::Semaphore::new(PREVIEW_CONCURRENCY),
            preview_cache: crate::pages::PreviewCache::new(PREVIEW_CACHE_BYTES),
            key_touch: Mutex::new(HashMap::new()),
            key_cache: Mutex::new(HashMap::new()),
            agent_touch: Mutex::new(HashMap::new()),
            agent_lines: Mutex::new(HashMap::new()),
            server_secret,
            agent_secret,
            store,
            cfg,
        });
        spawn_maintenance(Arc::downgrade(&inner));
        Ok(Self {
            state: AppState(inner),
            first_admin_key,
        })
    }

    /// The token of the admin key minted at first start (show it once, then drop it).
    pub fn first_admin_key(&self) -> Option<&str> {
        self.first_admin_key.as_deref()
    }

    pub fn store(&self) -> &Store {
        &self.state.store
    }

    pub fn config(&self) -> &Config {
        &self.state.cfg
    }

    /// The whole HTTP surface, for embedding (serve it with
    /// `into_make_service_with_connect_info::<SocketAddr>()` so throttling sees client addresses;
    /// [`App::run`] adds the connection limits of [`crate::conn`]).
    pub fn router(&self) -> Router {
        crate::routes::router(self.state.clone())
    }

    /// Serves on `listener` until `shutdown` completes, then closes the database.
    pub async fn run(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let router = self.router();
        let cfg = &self.state.cfg;
        // The one start-up line: what runs where, and which optional parts are on.
        tracing::info!(
            version = env!("CARGO_PKG_VERSION"),
            addr = %listener
                .local_addr()
                .map(|a| a.to_string())
                .unwrap_or_default(),
            data_dir = %cfg.data_dir.display(),
            db = self.store().backend_name(),
            auth_required = cfg.require_api_key,
            inbound = cfg.inbound_enabled,
            asterisk_hook = cfg.internal_secret.is_some(),
            retention_days = cfg.retention_days,
            ready_requires_agent = cfg.ready_requires_agent,
            metrics = "/metrics (scope metrics:read)",
            "faxline api listening"
        );
        if cfg.phaxio_enabled() && !cfg.phaxio_verify_signature {
            tracing::warn!(
                provider = "phaxio",
                "webhook signature verification is OFF (PHAXIO_VERIFY_SIGNATURE=false): anyone who can reach \
                 /phaxio-callback and /phaxio-inbound can forge fax results and inbound faxes; local development only"
            );
        }
        if cfg.signalwire_enabled() && !cfg.signalwire_verify_signature {
            tracing::warn!(
                provider = "signalwire",
                "webhook signature verification is OFF (SIGNALWIRE_VERIFY_SIGNATURE=false): anyone who can reach \
                 /signalwire-callback can forge fax results and inbound faxes; local development only"
            );
        }
        if cfg.sinch_enabled() && !cfg.sinch_verify_auth {
            tracing::warn!(
                provider = "sinch",
                "webhook authentication is OFF (SINCH_VERIFY_WEBHOOK_AUTH=false): anyone who can reach \
                 /sinch-callback and /sinch-inbound can forge fax results and inbound faxes; local development only"
            );
        }
        if cfg.telnyx_enabled() && !cfg.telnyx_verify_signature {
            tracing::warn!(
                provider = "telnyx",
                "webhook signature verification is OFF (TELNYX_VERIFY_SIGNATURE=false): anyone who can reach \
                 /telnyx-callback can forge fax results and inbound faxes; local development only"
            );
        }
        let limits = crate::conn::ConnLimits {
            header_read_timeout: Duration::from_secs(
                self.state.cfg.header_read_timeout_seconds.max(1),
            ),
            per_address: self.state.cfg.max_connections_per_address,
            total: self.state.cfg.max_connections,
            exempt: self.state.trusted_proxies.clone(),
        };
        crate::conn::serve(listener, router, limits, shutdown).await?;
        self.state.store.close().await;
        Ok(())
    }
}

/// Starts the API on `listener` and serves forever. Prints the first admin key once.
pub async fn serve(cfg: Config, listener: TcpListener) -> Result<(), ServeError> {
    serve_with_shutdown(cfg, listener, std::future::pending()).await
}

/// As [`serve`], stopping gracefully when `shutdown` completes.
pub async fn serve_with_shutdown(
    cfg: Config,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let app = App::start(cfg).await?;
    if let Some(token) = app.first_admin_key() {
        println!("faxline: first admin API key (shown once, store it now): {token}");
    }
    app.run(listener, shutdown).await
}

fn load_or_create_secret(path: &Path) -> Result<Secret, ServeError> {
    let err = |source| ServeError::SecretFile {
        path: path.display().to_string(),
        source,
    };
    match std::fs::read_to_string(path) {
        Ok(s) => {
            let s = s.trim().to_string();
            if let Some(w) = faxline_protocol::secret_strength::weakness(&s, MIN_SECRET_LEN) {
                return Err(ConfigError::Invalid(format!(
                    "the server secret in {} {w}",
                    path.display()
                ))
                .into());
            }
            Ok(Secret::new(s))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(err)?;
            }
            let secret = hex::encode(auth::random_bytes::<32>());
            write_private_file(path, secret.as_bytes()).map_err(err)?;
            tracing::info!(path = %path.display(), "generated a new server secret");
            Ok(Secret::new(secret))
        }
        Err(e) => Err(err(e)),
    }
}

/// Temp file (mode 0600) + fsync + rename, so the secret is never half-written.
fn write_private_file(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp)?;
    f.write_all(data)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Returns expired leases to the queue every few seconds (agents also trigger it when they
/// poll) and applies retention ([`crate::retention`]) at start and hourly. Stops when the app is
/// dropped.
fn spawn_maintenance(inner: Weak<Inner>) {
    tokio::spawn(async move {
        let mut tick = 0u64;
        loop {
            tokio::time::sleep(Duration::from_secs(5)).await;
            let Some(st) = inner.upgrade() else { return };
            match st
                .store
                .jobs()
                .requeue_expired(now_us(), st.cfg.max_attempts)
                .await
            {
                Ok(n) if n > 0 => crate::audit!("leases_expired", jobs = n),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "lease sweep failed"),
            }
            // The console's bulk-send queue (resumes by itself after a restart).
            crate::console::bulk::tick(&AppState(st.clone())).await;
            // Expired Send drafts (and documents finished bulk sends still keep), every minute.
            if tick.is_multiple_of(12) {
                crate::console::drafts::sweep(&AppState(st.clone())).await;
            }
            if tick.is_multiple_of(720) {
                let _ =
                    crate::retention::run_once(&st.store, st.cfg.retention_days, now_us()).await;
                let _ = crate::retention::purge_provider_events(
                    &st.store,
                    st.cfg.webhook_max_age_seconds,
                    now_us(),
                )
                .await;
            }
            tick += 1;
        }
    });
}

impl AppState {
    /// Checks `X-API-Key`. A key id the database knows is judged in its own
    /// [`FailScope::Key`] (that key from this address); everything else (unknown ids, malformed
    /// tokens, the bootstrap `API_KEY`) in [`FailScope::Address`]. So one client's guesses lock out
    /// only its guesses: other keys from the same address keep working, and the agent protocol,
    /// which has its own scope, is never touched.
    pub(crate) async fn authenticate(
        &self,
        headers: &HeaderMap,
        ip: IpAddr,
    ) -> ApiResult<Principal> {
        let now = now_s();
        let presented = headers.get("x-api-key").and_then(|v| v.to_str().ok());
        let Some(token) = presented.filter(|t| !t.is_empty()) else {
            if !self.cfg.require_api_key {
                return Ok(Principal {
                    key_id: "anonymous".into(),
                    scopes: vec![],
                    admin: false,
                    anonymous: true,
                });
            }
            crate::audit!("auth_failed", ip = %ip, reason = "missing key");
            crate::metrics::auth_failed("api_key");
            return Err(ApiError::unauthorized("Invalid or missing API key"));
        };
        let parsed = auth::parse_token(token);
        let known = match &parsed {
            Some(p) => self.key_row(p.key_id).await?,
            None => None,
        };
        let scope = match (&parsed, &known) {
            (Some(p), Some(_)) => FailScope::Key {
                key_id: p.key_id.to_string(),
                ip,
            },
            _ => FailScope::Address(ip),
        };
        if let Some(wait) = self.auth_throttle.locked(&scope, now) {
            return Err(ApiError::too_many(
                "Too many failed authentication attempts",
                wait,
            ));
        }
        if let (Some(p), Some(row)) = (&parsed, known) {
            if auth::verify_secret(
                self.server_secret.as_bytes(),
                p.key_id,
                p.secret,
                &row.key_hash,
            ) {
                let now_u = now_us();
                let live = row.revoked_at.is_none() && row.expires_at.is_none_or(|e| e > now_u);
                if live {
                    self.touch_key(&row.key_id, now_u);
                    let scopes = auth::parse_scopes(&row.scopes);
                    let admin = scopes.iter().any(|s| s == auth::SCOPE_KEYS_MANAGE);
                    return Ok(Principal {
                        key_id: row.key_id,
                        scopes,
                        admin,
                        anonymous: false,
                    });
                }
            }
        } else if let Some(env_key) = &self.cfg.api_key
            && auth::ct_eq(token.as_bytes(), env_key.as_bytes())
        {
            return Ok(Principal {
                key_id: "env".into(),
                scopes: vec!["*".into()],
                admin: true,
                anonymous: false,
            });
        }
        let key_id = parsed.map(|p| p.key_id.to_string());
        crate::audit!("auth_failed", ip = %ip, key_id = ?key_id, reason = "invalid key");
        crate::metrics::auth_failed("api_key");
        if let Some(wait) = self.auth_throttle.fail(scope, now) {
            crate::audit!("auth_lockout", ip = %ip, key_id = ?key_id, seconds = wait);
        }
        Err(ApiError::unauthorized("Invalid or missing API key"))
    }

    /// The key row, from the cache when it was read within [`KEY_CACHE_US`].
    async fn key_row(&self, key_id: &str) -> ApiResult<Option<ApiKeyRow>> {
        let now = now_us();
        {
            let cache = self.key_cache.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((at, row)) = cache.get(key_id)
                && now - at < KEY_CACHE_US
            {
                return Ok(Some(row.clone()));
            }
        }
        let row = self.store.keys().get(key_id).await?;
        if let Some(r) = &row {
            let mut cache = self.key_cache.lock().unwrap_or_else(|p| p.into_inner());
            if cache.len() > 10_000 {
                cache.clear();
            }
            cache.insert(key_id.to_string(), (now, r.clone()));
        }
        Ok(row)
    }

    /// Drops a revoked or rotated key from the cache.
    pub(crate) fn forget_key(&self, key_id: &str) {
        self.key_cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key_id);
    }

    /// Records `last_used_at` at most once a minute per key (a write per request would make
    /// the embedded database the bottleneck).
    fn touch_key(&self, key_id: &str, now: i64) {
        if !due(&self.key_touch, key_id, now, 60_000_000) {
            return;
        }
        let st = self.clone();
        let key_id = key_id.to_string();
        tokio::spawn(async move {
            if let Err(e) = st.store.keys().touch(&key_id, now).await {
                tracing::warn!(error = %e, "cannot record key use");
            }
        });
    }

    /// An agent polled for work: it is seen, and its line report (absent from older agents) stored with it in
    /// the database, so every instance's readiness sees it. A changed report is written at once; an unchanged
    /// one with the agent's contact, at most every 5 s.
    pub(crate) async fn agent_polled(&self, agent_id: &str, line: Option<LineHealth>) {
        let now = now_us();
        let changed = {
            let mut m = self.agent_lines.lock().unwrap_or_else(|p| p.into_inner());
            if m.get(agent_id) == Some(&line) {
                false
            } else {
                if m.len() > 10_000 {
                    m.clear();
                }
                m.insert(agent_id.to_owned(), line.clone());
                true
            }
        };
        if !(changed || due(&self.agent_touch, agent_id, now, 5_000_000)) {
            return;
        }
        if changed {
            // The contact is written with it; the next plain contact waits its turn.
            due(&self.agent_touch, agent_id, now, 0);
        }
        if let Err(e) = self
            .store
            .agents()
            .report_line(agent_id, now, line.as_ref())
            .await
        {
            tracing::warn!(error = %e, "cannot record the agent's line report");
            // Try again on the next poll.
            self.agent_lines
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(agent_id);
        }
    }

    /// Records that an agent was seen, at most every 5 s per agent.
    pub(crate) async fn touch_agent(&self, agent_id: &str) {
        let now = now_us();
        if due(&self.agent_touch, agent_id, now, 5_000_000)
            && let Err(e) = self.store.agents().touch(agent_id, now).await
        {
            tracing::warn!(error = %e, "cannot record agent contact");
        }
    }
}

fn due(map: &Mutex<HashMap<String, i64>>, key: &str, now: i64, every_us: i64) -> bool {
    let mut m = map.lock().unwrap_or_else(|p| p.into_inner());
    match m.get(key) {
        Some(last) if now - *last < every_us => false,
        _ => {
            if m.len() > 10_000 {
                m.clear();
            }
            m.insert(key.to_string(), now);
            true
        }
    }
}
