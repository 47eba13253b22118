//! Runs the API through the `faxline api` CLI module (agent/src/cli/api.rs), so the module is
//! compiled and exercised here until the lead wires it into `faxline`. Used by bench/run.sh.
//!
//! `cargo run --release -p faxline-api --example serve -- --config api.toml`

#[path = "../../agent/src/cli/api.rs"]
mod api_cli;
/// The stop signals `api_cli` uses (SIGTERM and SIGINT).
#[path = "../../agent/src/cli/signal.rs"]
mod signal;

use clap::Parser;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    api: api_cli::ApiArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
    api_cli::run(Cli::parse().api).await
}
