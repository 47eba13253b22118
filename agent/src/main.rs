//! The `faxline` command: one binary for sending, serving and converting faxes.
#![forbid(unsafe_code)]

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

mod cli {
    pub mod agent;
    #[cfg(feature = "server")]
    pub mod api;
    pub mod asterisk;
    pub mod check;
    pub mod decode;
    #[cfg(feature = "server")]
    pub mod mcp;
    pub mod render;
    pub mod send;
    #[cfg(feature = "server")]
    pub mod serve;
    pub mod signal;
    #[cfg(feature = "server")]
    pub mod storage;
    #[cfg(feature = "server")]
    pub mod user;
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
    #[cfg(feature = "server")]
    Api(cli::api::ApiArgs),
    /// The agent daemon next to Asterisk (or on the loopback line); `--check` validates config and connectivity.
    Agent(cli::agent::AgentArgs),
    /// API and agent in one process: the single-box default (SQLite, loopback line).
    #[cfg(feature = "server")]
    Serve(cli::serve::ServeArgs),
    /// Document storage: `migrate` moves documents from the database to the configured backend.
    #[cfg(feature = "server")]
    Storage(cli::storage::StorageArgs),
    /// An MCP server on stdio for a local AI assistant: send and read faxes through the API with FAXLINE_API_KEY.
    #[cfg(feature = "server")]
    Mcp(cli::mcp::McpArgs),
    /// Web console users: `add NAME` (the first admin), `set-password NAME`.
    #[cfg(feature = "server")]
    User(cli::user::UserArgs),
    /// Render a PDF or text file to fax TIFF-F.
    Render(cli::render::RenderArgs),
    /// Convert a received fax TIFF to PDF.
    Decode(cli::decode::DecodeArgs),
    /// The Asterisk configuration: `generate --out DIR` writes it from the agent's configuration.
    Asterisk(cli::asterisk::AsteriskArgs),
    /// Internal: one render of an untrusted document under the render budget, request on stdin,
    /// answer on stdout (started by `serve`, `api` and `agent`; see `faxline_document::worker`).
    #[command(hide = true)]
    RenderWorker,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();

    init_logging(&cli.command);
    match cli.command {
        Command::Send(args) => cli::send::run(args),
        #[cfg(feature = "server")]
        Command::Api(args) => tokio::runtime::Runtime::new()?.block_on(cli::api::run(args)),
        Command::Agent(args) => tokio::runtime::Runtime::new()?.block_on(cli::agent::run(args)),
        #[cfg(feature = "server")]
        Command::Serve(args) => tokio::runtime::Runtime::new()?.block_on(cli::serve::run(args)),
        #[cfg(feature = "server")]
        Command::Storage(args) => tokio::runtime::Runtime::new()?.block_on(cli::storage::run(args)),
        #[cfg(feature = "server")]
        Command::Mcp(args) => tokio::runtime::Runtime::new()?.block_on(cli::mcp::run(args)),
        #[cfg(feature = "server")]
        Command::User(args) => tokio::runtime::Runtime::new()?.block_on(cli::user::run(args)),
        Command::Render(args) => cli::render::run(args),
        Command::Decode(args) => cli::decode::run(args),
        Command::Asterisk(args) => cli::asterisk::run(args),
        Command::RenderWorker => {
            // The worker limits itself before it reads the document.
            let code =
                faxline_document::worker::serve(std::io::stdin().lock(), std::io::stdout().lock());
            std::process::exit(code)
        }
    }
}

/// Logging to stderr. `RUST_LOG` wins; the servers otherwise take `[agent] log_level` and `log_format` from their
/// configuration (a configuration that does not load is reported by the command itself); the one-shot tools log
/// warnings and their own progress only.
fn init_logging(command: &Command) {
    use faxline_agent::config::{Config, Env, LogFormat};
    let config = match command {
        Command::Agent(a) => Some(a.config.as_deref()),
        #[cfg(feature = "server")]
        Command::Serve(a) => Some(a.config.as_deref()),
        #[cfg(feature = "server")]
        Command::Api(a) => Some(a.config.as_deref()),
        _ => None,
    };
    let loaded = config.and_then(|path| Config::load(path, &Env::from_process()).ok());
    let level = std::env::var("RUST_LOG").ok().or_else(|| {
        loaded
            .as_ref()
            .map(|c| c.agent.log_level.clone())
            .or_else(|| config.map(|_| "info".to_owned()))
    });
    let level = level.unwrap_or_else(|| "warn,faxline=info".to_owned());
    let json = loaded
        .as_ref()
        .is_some_and(|c| c.agent.log_format == LogFormat::Json);
    // Colours only for a person at a terminal (and not with NO_COLOR): escape codes in journald or a log file
    // are noise.
    use std::io::IsTerminal;
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(log_filter(&level))
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// The filter for `level`, with the SIP stack and the MCP SDK held at `warn` unless named explicitly: rsipstack
/// logs whole SIP messages at `info`, and their URIs and headers carry full phone numbers; rmcp logs whole MCP
/// requests (tool arguments: numbers, documents) at `debug`.
fn log_filter(level: &str) -> EnvFilter {
    let mut filter = EnvFilter::try_new(level).unwrap_or_else(|e| {
        eprintln!("invalid log filter {level:?} ({e}); using \"info\"");
        EnvFilter::new("info")
    });
    for quiet in ["rsipstack", "rmcp"] {
        if !level.contains(quiet) {
            filter =
                filter.add_directive(format!("{quiet}=warn").parse().expect("a valid directive"));
        }
    }
    filter
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// clap checks the whole command tree (unique names, valid defaults) only when asked.
    #[test]
    fn command_line_is_consistent() {
        super::Cli::command().debug_assert();
    }

    #[test]
    fn the_sip_stack_never_logs_messages_unless_asked() {
        let f = super::log_filter("info").to_string();
        assert!(f.contains("rsipstack=warn"), "{f}");
        let f = super::log_filter("info,rsipstack=debug").to_string();
        assert!(!f.contains("rsipstack=warn"), "{f}");
        // Nor the MCP SDK, which logs tool arguments at debug.
        let f = super::log_filter("debug").to_string();
        assert!(f.contains("rmcp=warn"), "{f}");
    }
}
