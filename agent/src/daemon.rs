//! The agent daemon: leases outbound jobs from the API and sends them over a [`Line`], and delivers received
//! faxes to the API.
//!
//! - Sans-IO cores: [`job::JobMachine`] (one job: document, journal, calls, retries, report),
//!   [`call::CallTracker`] (one Asterisk call followed from AMI events), [`retry::decide`].
//! - Durable state in the spool: [`journal`] (a call is recorded before it is placed, so a restarted agent
//!   never redials blindly) and the [`inbound`] queue (received faxes wait there until the API has them).
//! - IO shell: [`runner::Daemon`] and the lines, [`ami_line::AmiLine`] (Asterisk),
//!   [`sip_line::SipLine`] (the agent's own SIP/T.38 stack to a trunk or an Asterisk peer) and
//!   [`loopback_line::LoopbackLine`] (the single-box default).

pub mod ami_line;
pub mod call;
pub mod cause;
pub mod inbound;
pub mod job;
pub mod journal;
pub mod line;
pub mod loopback_line;
pub mod outcome;
pub mod redact;
pub mod retry;
pub mod runner;
pub mod sip_line;
pub mod spool;

pub use ami_line::AmiLine;
pub use inbound::{InboundItem, InboundQueue};
pub use line::{CallRequest, Line};
pub use loopback_line::LoopbackLine;
pub use outcome::{CallOutcome, Delivery, FailureClass};
pub use runner::Daemon;
pub use sip_line::SipLine;

/// Why the daemon cannot run.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("spool directory {path}: {source}")]
    Spool {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Journal(#[from] journal::JournalError),
    #[error(transparent)]
    Queue(#[from] inbound::QueueError),
    #[error(
        "the Asterisk line needs the AMI secret (FAXLINE_AMI__SECRET or FAXLINE_AMI__SECRET_FILE)"
    )]
    NoAmiSecret,
    #[error("the SIP line cannot start: {0}")]
    SipLine(#[from] sip_line::SipLineError),
    #[error("line kind `{0}` is not run by the agent daemon; use `asterisk`, `sip` or `loopback`")]
    UnsupportedLine(&'static str),
}

/// Builds the configured line and runs the daemon until `shutdown` resolves.
pub async fn run(
    cfg: std::sync::Arc<crate::config::Config>,
    api: faxline_api::agent_client::AgentClient,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), DaemonError> {
    use crate::config::LineKind;
    // Before the first spool file: files group-readable for Asterisk, nothing for others.
    spool::set_umask();
    let inbound = InboundQueue::open(cfg.spool.queue_dir())?;
    match cfg.line.kind {
        LineKind::Asterisk => {
            let ami = ami_line::ami_config(&cfg).ok_or(DaemonError::NoAmiSecret)?;
            // In the background: Asterisk may start after the agent; jobs are leased only while logged in.
            let client = faxline_ami::Client::spawn(ami);
            let line = AmiLine::new(client, cfg.clone(), inbound.clone());
            Daemon::new(cfg, api, line, inbound)?.run(shutdown).await
        }
        LineKind::Loopback => {
            let deadline =
                std::time::Duration::from_secs(u64::from(cfg.asterisk.max_call_seconds).max(60));
            let line = LoopbackLine::new(
                cfg.line.speed,
                cfg.spool.incoming_dir(),
                deadline,
                line::fax_options(&cfg),
                Some(inbound.clone()),
            );
            Daemon::new(cfg, api, line, inbound)?.run(shutdown).await
        }
        LineKind::Sip => {
            let line = SipLine::start(&cfg, inbound.clone()).await?;
            let result = Daemon::new(cfg, api, line.clone(), inbound)?
                .run(shutdown)
                .await;
            // Calls still up after the jobs' grace period are hung up explicitly, then the endpoint stops.
            line.shutdown().await;
            result
        }
        other => Err(DaemonError::UnsupportedLine(other.as_str())),
    }
}
