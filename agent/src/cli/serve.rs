//! `faxline serve [--listen ADDR] [--config FILE]`: the single-box default — the API (SQLite unless
//! `[api] database_url` says otherwise) and the agent in one process. The agent's line is `[line] kind`
//! (default `loopback`: calls go over real SIP/T.38 on 127.0.0.1 to Faxline's own answering endpoint) and it
//! talks to the in-process API over the same signed agent protocol a separate agent would use.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use faxline_agent::config::{Config as AgentConfig, Env, Secret as AgentSecret, SecretSource};
use faxline_api::config::Secret;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (overrides `[api] listen` and FAXLINE_LISTEN).
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// TOML configuration file (the same file `faxline api` and `faxline agent` read).
    #[arg(long, env = "FAXLINE_CONFIG")]
    pub config: Option<PathBuf>,
}

/// The agent secret of a single box: the configured one, else one generated once and kept (mode 0600) in
/// the data directory. It never leaves this machine; the API still verifies every agent request with it.
fn single_box_agent_secret(data_dir: &Path) -> anyhow::Result<Secret> {
    let path = data_dir.join("agent_secret");
    if let Ok(s) = std::fs::read_to_string(&path) {
        let s = s.trim().to_owned();
        if s.len() >= faxline_api::config::MIN_SECRET_LEN {
            return Ok(Secret::new(s));
        }
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let s = hex_string(&faxline_api::auth::random_bytes::<32>());
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    use std::io::Write;
    let mut f = opts
        .open(&path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(s.as_bytes())?;
    f.sync_all()?;
    Ok(Secret::new(s))
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let signals = super::signal::StopSignals::install().context("installing signal handlers")?;
    // The API.
    let mut api_cfg = faxline_api::Config::load(args.config.as_deref())
        .context("loading the configuration ([api])")?;
    if let Some(listen) = args.listen {
        api_cfg.listen = listen;
    }
    // The agent's configuration (the same file): a cloud line makes its provider the API's backend, so the
    // provider's webhooks are taken (and their verification key required) with one configuration.
    let env = Env::from_process();
    let mut cfg =
        AgentConfig::load(args.config.as_deref(), &env).context("loading the configuration")?;
    if faxline_agent::lines::CLOUD_KINDS.contains(&cfg.line.kind.as_str()) {
        api_cfg.backend = cfg.line.kind.as_str().to_owned();
    }
    if api_cfg.agent_secret.is_none() {
        api_cfg.agent_secret = Some(single_box_agent_secret(&api_cfg.data_dir)?);
    }
    api_cfg.validate().context("refusing to start")?;
    api_cfg.render.isolation = faxline_document::worker::Isolation::Worker(
        faxline_document::worker::WorkerCommand::current_exe()
            .context("locating the faxline binary")?,
    );
    let agent_secret = api_cfg.agent_secret.clone().context("agent secret")?;
    let inbound_enabled = api_cfg.inbound_enabled;
    let data_dir = api_cfg.data_dir.clone();
    let listener = tokio::net::TcpListener::bind(api_cfg.listen)
        .await
        .with_context(|| format!("binding {}", api_cfg.listen))?;
    let bound = listener.local_addr()?;
    // One recorder for the process: the API's `/metrics` shows the agent's series too.
    faxline_api::metrics::adopt(faxline_agent::metrics::handle().clone());
    let app = faxline_api::App::start(api_cfg)
        .await
        .context("starting the API")?;
    if let Some(token) = app.first_admin_key() {
        println!("faxline: first admin API key (shown once, store it now): {token}");
    }

    // The agent, pointed at the in-process API.
    let local = if bound.ip().is_unspecified() {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        bound.ip()
    };
    cfg.api_client.base_url = Some(format!("http://{}", SocketAddr::new(local, bound.port())));
    cfg.api_client.allow_http = true;
    if cfg.api_client.agent_id.is_none() {
        cfg.api_client.agent_id = Some("local".into());
    }
    cfg.api_client.agent_secret = Some(AgentSecret::with_source(
        agent_secret.expose(),
        SecretSource::File(data_dir.join("agent_secret")),
    ));
    if cfg.spool.dir == faxline_agent::config::SpoolConfig::default().dir {
        cfg.spool.dir = data_dir.join("spool");
    }
    // A line that answers calls while the API discards what they receive would tell senders their fax arrived.
    if faxline_agent::lines::answers_calls(&cfg) && !inbound_enabled {
        tracing::warn!(
            line = cfg.line.kind.as_str(),
            "the line answers inbound calls but [api] inbound_enabled is false: received faxes will be \
             acknowledged and discarded; set inbound_enabled = true (INBOUND_ENABLED=true) or stop answering"
        );
    }
    let api = super::agent::api_client(&cfg)?;
    println!(
        "faxline serve: listening on http://{bound}, line {}",
        cfg.line.kind.as_str()
    );

    // Shutdown order: the agent first (no new jobs, running calls finish or are hung up within its grace
    // period, every result reported to the API), then the API, which the agent needs until its last report.
    let (api_stop, api_stopped) = tokio::sync::oneshot::channel::<()>();
    let api_task = tokio::spawn(app.run(listener, async move {
        let _ = api_stopped.await;
    }));
    let (agent_stop, agent_stopped) = tokio::sync::oneshot::channel::<()>();
    let agent = super::agent::run_daemon(Arc::new(cfg), api, async move {
        let _ = agent_stopped.await;
    });
    tokio::pin!(agent);
    let agent_result = tokio::select! {
        r = &mut agent => r,
        signal = signals.recv() => {
            tracing::info!(
                signal,
                "stopping: no new jobs; running calls finish or are hung up within the grace period, their \
                 results are reported, then the API stops"
            );
            let _ = agent_stop.send(());
            agent.await
        }
    };
    let _ = api_stop.send(());
    api_task
        .await
        .context("the API task")?
        .context("running the API")?;
    if agent_result.is_ok() {
        tracing::info!("stopped");
    }
    agent_result
}
