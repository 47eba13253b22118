//! `faxline agent [--config FILE] [--check]`: the daemon next to Asterisk, on its own SIP line, or on the
//! loopback line. `--check` validates the configuration, then connectivity: spool writable, AMI login (Asterisk
//! line), the trunk's address and the SIP and media ports (SIP line), API reachable with this agent's signature
//! accepted; it prints every problem and fails if any is an error.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use faxline_agent::config::{Config, Env};
use faxline_agent::engine;
use faxline_agent::lines::{self, CheckLevel};
use faxline_protocol::Secret as ApiSecret;
use faxline_protocol::client::{AgentClient, AgentClientError};

#[derive(Debug, clap::Args)]
pub struct AgentArgs {
    /// The configuration file (TOML); environment variables override it.
    #[arg(long, env = "FAXLINE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Validate the configuration and connectivity (spool, AMI, API), print every problem, and exit.
    #[arg(long)]
    pub check: bool,
}

/// The agent's API client from `[api_client]`.
pub fn api_client(cfg: &Config) -> anyhow::Result<AgentClient> {
    let base = cfg
        .api_client
        .base_url
        .as_deref()
        .context("api_client.base_url is not set")?;
    let id = cfg
        .api_client
        .agent_id
        .as_deref()
        .context("api_client.agent_id is not set")?;
    let secret = cfg
        .api_client
        .agent_secret
        .as_ref()
        .context("api_client.agent_secret is not set")?;
    AgentClient::new(base, id, ApiSecret::new(secret.expose())).context("api_client")
}

/// Connectivity checks; each line is `ok …`, `warning …` or `error …`. Returns false if any failed.
pub async fn check_connectivity(cfg: &Config) -> bool {
    let mut ok = true;
    let spool_dirs = [
        cfg.spool.dir.clone(),
        cfg.spool.outgoing_dir(),
        cfg.spool.incoming_dir(),
        cfg.spool.queue_dir(),
        engine::runner::journal_dir(cfg),
    ];
    for dir in spool_dirs {
        match engine::spool::check_writable(&dir) {
            Ok(()) => println!("ok      spool {} is writable", dir.display()),
            Err(e) => {
                ok = false;
                println!("error   spool {} is not writable: {e}", dir.display());
            }
        }
    }
    for check in lines::check_connectivity(cfg).await {
        let label = match check.level {
            CheckLevel::Ok => "ok     ",
            CheckLevel::Warning => "warning",
            CheckLevel::Error => {
                ok = false;
                "error  "
            }
        };
        println!("{label} {}", check.text);
    }
    match api_client(cfg) {
        Err(e) => {
            ok = false;
            println!("error   API: {e:#}");
        }
        Ok(client) => match client.check_signature().await {
            Ok(()) => println!(
                "ok      API {} reachable, agent signature accepted",
                cfg.api_client.base_url.as_deref().unwrap_or("")
            ),
            Err(AgentClientError::Api { status: 401, .. }) => {
                ok = false;
                println!(
                    "error   API reachable but the agent signature was refused (401): api_client.agent_secret \
                     must equal the API's agent secret, and the clocks must agree"
                );
            }
            Err(e) => {
                ok = false;
                println!(
                    "error   API {}: {e}",
                    cfg.api_client.base_url.as_deref().unwrap_or("")
                );
            }
        },
    }
    ok
}

/// Builds the line and runs the daemon until `shutdown`. Documents are rendered by this binary's
/// `render-worker`, under `[limits]`'s render budget.
pub async fn run_daemon(
    cfg: Arc<Config>,
    api: AgentClient,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let mut cfg = Arc::unwrap_or_clone(cfg);
    cfg.limits.render_isolation = faxline_document::worker::Isolation::Worker(
        faxline_document::worker::WorkerCommand::current_exe()
            .context("locating the faxline binary")?,
    );
    // The one start-up line: what runs where, and which optional parts are on.
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        api = cfg.api_client.base_url.as_deref().unwrap_or("(none)"),
        agent_id = cfg.api_client.agent_id.as_deref().unwrap_or("(none)"),
        line = cfg.line.kind.as_str(),
        spool = %cfg.spool.dir.display(),
        max_calls = cfg.limits.max_calls,
        metrics_listen = ?cfg.agent.metrics_listen,
        "faxline agent starting"
    );
    // Installed before the line starts, so its first events are counted.
    faxline_agent::metrics::handle();
    if let Some(addr) = cfg.agent.metrics_listen {
        let bound = faxline_agent::metrics::spawn_listener(addr)
            .await
            .with_context(|| format!("binding [agent] metrics_listen {addr}"))?;
        tracing::info!(addr = %bound, "agent metrics on http://{bound}/metrics");
    }
    lines::run(Arc::new(cfg), api, shutdown).await?;
    Ok(())
}

pub async fn run(args: AgentArgs) -> anyhow::Result<()> {
    let env = Env::from_process();
    let (cfg, problems) = super::check::check(args.config.as_deref(), &env)?;
    let config_ok = super::check::print_report(&problems, &mut std::io::stdout().lock())?;
    if args.check {
        let conn_ok = check_connectivity(&cfg).await;
        if config_ok && conn_ok {
            return Ok(());
        }
        bail!("the agent is not ready (see above)");
    }
    if !config_ok {
        bail!("the configuration is not usable");
    }
    let signals = super::signal::StopSignals::install().context("installing signal handlers")?;
    let api = api_client(&cfg)?;
    let shutdown = async {
        let signal = signals.recv().await;
        tracing::info!(
            signal,
            "stopping: no new jobs; running calls finish or are hung up within the grace period and their results reported"
        );
    };
    run_daemon(Arc::new(cfg), api, shutdown).await
}
