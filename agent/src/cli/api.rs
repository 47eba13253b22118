//! `faxline api [--listen ADDR] [--config FILE] [--check]`: runs the REST API and agent protocol.
//! Configuration comes from one TOML file plus environment overrides (Faxbot's names where they
//! exist: `API_KEY`, `DATABASE_URL`, `MAX_FILE_SIZE_MB`, `PUBLIC_API_URL`, `REQUIRE_API_KEY`,
//! `FAX_DATA_DIR`, `PDF_TOKEN_TTL_MINUTES`, `INBOUND_ENABLED`, ...; Faxline's as `FAXLINE_*`).

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, bail};

#[derive(Debug, clap::Args)]
pub struct ApiArgs {
    /// Address to listen on (overrides the config file and FAXLINE_LISTEN).
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// TOML configuration file.
    #[arg(long, env = "FAXLINE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Validate the configuration and the database connection, then exit.
    #[arg(long)]
    pub check: bool,
}

/// Loads the configuration (file, then environment, then `--listen`).
pub fn load_config(args: &ApiArgs) -> anyhow::Result<faxline_api::Config> {
    if let Some(path) = &args.config {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let unknown = faxline_agent::config::unknown_sections(&text)
            .with_context(|| format!("parsing {}", path.display()))?;
        if !unknown.is_empty() {
            bail!(
                "{}: no part of faxline reads the section(s) [{}]",
                path.display(),
                unknown.join("], [")
            );
        }
    }
    let mut cfg =
        faxline_api::Config::load(args.config.as_deref()).context("loading the configuration")?;
    if let Some(listen) = args.listen {
        cfg.listen = listen;
    }
    cfg.validate().context("refusing to start")?;
    // Page counts and previews run in this binary's render worker, under the render budget.
    cfg.render.isolation = faxline_document::worker::Isolation::Worker(
        faxline_document::worker::WorkerCommand::current_exe()
            .context("locating the faxline binary")?,
    );
    Ok(cfg)
}

pub async fn run(args: ApiArgs) -> anyhow::Result<()> {
    let cfg = load_config(&args)?;
    if args.check {
        let app = faxline_api::App::start(cfg)
            .await
            .context("starting the API")?;
        if let Some(token) = app.first_admin_key() {
            println!("faxline: first admin API key (shown once, store it now): {token}");
        }
        println!(
            "configuration ok; database {} reachable and migrated",
            app.store().backend_name()
        );
        return Ok(());
    }
    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .with_context(|| format!("binding {}", cfg.listen))?;
    let signals = super::signal::StopSignals::install().context("installing signal handlers")?;
    let shutdown = async {
        let signal = signals.recv().await;
        tracing::info!(signal, "shutting down");
    };
    faxline_api::serve_with_shutdown(cfg, listener, shutdown)
        .await
        .context("running the API")
}
