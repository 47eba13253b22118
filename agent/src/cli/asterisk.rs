//! `faxline asterisk generate --out DIR [--config FILE]`: writes the Asterisk configuration (dialplan, PJSIP,
//! AMI user, res_fax, UDPTL, RTP, modules, logger) that matches this agent's configuration, so an operator who
//! changes `faxline.toml` regenerates `asterisk/` instead of editing it. `faxline agent --check` reports drift
//! between the two and names this command.

use std::path::PathBuf;

use anyhow::Context;
use faxline_agent::config::{Config, Env};
use faxline_agent::lines::asterisk::dialplan;

#[derive(Debug, clap::Args)]
pub struct AsteriskArgs {
    #[command(subcommand)]
    pub command: AsteriskCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum AsteriskCommand {
    /// Write the Asterisk configuration generated from the agent's configuration into DIR. Secrets are never
    /// written: the files carry placeholders the Asterisk container fills at start.
    Generate {
        /// The configuration file (TOML); environment variables override it.
        #[arg(long, env = "FAXLINE_CONFIG")]
        config: Option<PathBuf>,
        /// The directory to write (created if missing; existing files are replaced).
        #[arg(long)]
        out: PathBuf,
    },
}

pub fn run(args: AsteriskArgs) -> anyhow::Result<()> {
    match args.command {
        AsteriskCommand::Generate { config, out } => {
            let cfg = Config::load(config.as_deref(), &Env::from_process())
                .context("cannot load the configuration")?;
            dialplan::write_all(&cfg, &out).with_context(|| {
                format!("cannot write the Asterisk files into {}", out.display())
            })?;
            for f in dialplan::generate(&cfg) {
                println!("wrote {}", out.join(f.name).display());
            }
            Ok(())
        }
    }
}
