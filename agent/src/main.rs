//! The `faxline` command: one binary for sending, serving and converting faxes.
#![forbid(unsafe_code)]

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

mod cli {
    pub mod agent;
    pub mod api;
    pub mod check;
    pub mod decode;
    pub mod render;
    pub mod send;
    pub mod serve;
}

/// Faxline: a self-hosted fax platform.
#[derive(Debug, Parser)]
#[command(name = "faxline", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Send a document now over the configured line, with progress.
    Send(cli::send::SendArgs),
    /// Run the REST API (the system of record for jobs and inbound faxes).
    Api(cli::api::ApiArgs),
    /// The agent daemon next to Asterisk (or on the loopback line); `--check` validates config and connectivity.
    Agent(cli::agent::AgentArgs),
    /// API and agent in one process: the single-box default (SQLite, loopback line).
    Serve(cli::serve::ServeArgs),
    /// Render a PDF or text file to fax TIFF-F.
    Render(cli::render::RenderArgs),
    /// Convert a received fax TIFF to PDF.
    Decode(cli::decode::DecodeArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("warn,faxline=info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match cli.command {
        Command::Send(args) => cli::send::run(args),
        Command::Api(args) => tokio::runtime::Runtime::new()?.block_on(cli::api::run(args)),
        Command::Agent(args) => tokio::runtime::Runtime::new()?.block_on(cli::agent::run(args)),
        Command::Serve(args) => tokio::runtime::Runtime::new()?.block_on(cli::serve::run(args)),
        Command::Render(args) => cli::render::run(args),
        Command::Decode(args) => cli::decode::run(args),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// clap checks the whole command tree (unique names, valid defaults) only when asked.
    #[test]
    fn command_line_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
