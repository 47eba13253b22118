//! The lines, one folder each, and the one place that registers them: [`LineKind`] (the `[line] kind`), the
//! lines' configuration sections ([`LineSections`]), their checks ([`check_config`], [`check_connectivity`]) and
//! their construction ([`run`]). Adding a line means adding its folder and its arms here; nothing else in the
//! agent names a line.
//!
//! Shared by the telephony lines: [`q850`] (what a hang-up cause means for a job) and [`t30`] (what a failed
//! fax session means).

pub mod asterisk;
pub mod cloud;
pub mod loopback;
pub mod phaxio;
pub mod q850;
pub mod signalwire;
pub mod sinch;
pub mod sip;
pub mod t30;
pub mod telnyx;

use std::path::PathBuf;
use std::sync::Arc;

use serde::Deserialize;

use crate::config::{Config, Problem, Secret};
use crate::engine::{Daemon, DaemonError, InboundQueue, spool};
use faxline_protocol::client::AgentClient;

/// Which line carries the faxes (`[line] kind`, and `faxline send --line`, which offers only the lines it can
/// drive on its own: loopback and the simulator).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    /// The agent calls its own answering endpoint over real SIP/UDPTL on 127.0.0.1 (the embedded default).
    #[default]
    Loopback,
    /// The in-process line simulator (loss, delay) for tests and demos; `faxline send` only.
    Sim,
    /// Asterisk owns the trunk and runs res_fax; the agent drives it over AMI.
    #[value(skip)]
    Asterisk,
    /// The agent's own SIP/T.38 stack talks to the trunk directly.
    #[value(skip)]
    Sip,
    /// Phaxio's cloud fax API (`[phaxio]`).
    #[value(skip)]
    Phaxio,
    /// Telnyx's cloud fax API (`[telnyx]`).
    #[value(skip)]
    Telnyx,
    /// Sinch's cloud fax API (`[sinch]`).
    #[value(skip)]
    Sinch,
    /// SignalWire's cloud fax API (`[signalwire]`).
    #[value(skip)]
    #[serde(rename = "signalwire")]
    SignalWire,
}

impl LineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LineKind::Loopback => "loopback",
            LineKind::Sim => "sim",
            LineKind::Asterisk => "asterisk",
            LineKind::Sip => "sip",
            LineKind::Phaxio => "phaxio",
            LineKind::Telnyx => "telnyx",
            LineKind::Sinch => "sinch",
            LineKind::SignalWire => "signalwire",
        }
    }

    /// Whether the line takes its jobs from a remote API (the embedded lines run next to their API).
    pub fn needs_api(self) -> bool {
        match self {
            LineKind::Asterisk
            | LineKind::Sip
            | LineKind::Phaxio
            | LineKind::Telnyx
            | LineKind::Sinch
            | LineKind::SignalWire => true,
            LineKind::Loopback | LineKind::Sim => false,
        }
    }
}

/// The configuration sections the lines own.
pub const SECTIONS: &[&str] = &[
    "ami",
    "asterisk",
    "sip",
    "phaxio",
    "telnyx",
    "signalwire",
    "sinch",
];

/// The `[line] kind`s that are cloud providers (Faxbot's `FAX_BACKEND` names them the same way).
pub const CLOUD_KINDS: &[&str] = &["phaxio", "telnyx", "signalwire", "sinch"];

/// The lines' secret settings: (section, key). Each also has `<key>_file`.
pub const SECRET_SETTINGS: &[(&str, &str)] = &[
    ("ami", "secret"),
    ("sip", "password"),
    ("phaxio", "api_secret"),
    ("telnyx", "api_key"),
    ("signalwire", "api_token"),
    ("sinch", "key_secret"),
    ("sinch", "webhook_password"),
];

/// The lines' sections of the configuration, each defined by its line.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LineSections {
    pub ami: asterisk::AmiConfig,
    pub asterisk: asterisk::AsteriskConfig,
    /// The trunk: the SIP line's, and the source of Asterisk's pjsip.conf.
    pub sip: sip::SipConfig,
    /// The Phaxio line's account.
    pub phaxio: phaxio::PhaxioConfig,
    /// The Telnyx line's account.
    pub telnyx: telnyx::TelnyxConfig,
    /// The SignalWire line's space and project.
    pub signalwire: signalwire::SignalWireConfig,
    /// The Sinch line's project and access key.
    pub sinch: sinch::SinchConfig,
}

/// A secret slot while loading: (section, key, the value, its `<key>_file`).
pub(crate) type SecretSlot<'a> = (
    &'static str,
    &'static str,
    &'a mut Option<Secret>,
    &'a Option<PathBuf>,
);

impl LineSections {
    /// The secrets in [`SECRET_SETTINGS`] order, to resolve while loading.
    pub(crate) fn secret_slots(&mut self) -> [SecretSlot<'_>; 7] {
        [
            ("ami", "secret", &mut self.ami.secret, &self.ami.secret_file),
            (
                "sip",
                "password",
                &mut self.sip.password,
                &self.sip.password_file,
            ),
            (
                "phaxio",
                "api_secret",
                &mut self.phaxio.api_secret,
                &self.phaxio.api_secret_file,
            ),
            (
                "telnyx",
                "api_key",
                &mut self.telnyx.api_key,
                &self.telnyx.api_key_file,
            ),
            (
                "signalwire",
                "api_token",
                &mut self.signalwire.api_token,
                &self.signalwire.api_token_file,
            ),
            (
                "sinch",
                "key_secret",
                &mut self.sinch.key_secret,
                &self.sinch.key_secret_file,
            ),
            (
                "sinch",
                "webhook_password",
                &mut self.sinch.webhook_password,
                &self.sinch.webhook_password_file,
            ),
        ]
    }

    /// The configured secrets with their setting names.
    pub fn secrets(&self) -> Vec<(String, &Secret)> {
        let mut v = Vec::new();
        if let Some(s) = &self.ami.secret {
            v.push(("ami.secret".into(), s));
        }
        if let Some(s) = &self.sip.password {
            v.push(("sip.password".into(), s));
        }
        if let Some(s) = &self.phaxio.api_secret {
            v.push(("phaxio.api_secret".into(), s));
        }
        if let Some(s) = &self.telnyx.api_key {
            v.push(("telnyx.api_key".into(), s));
        }
        if let Some(s) = &self.signalwire.api_token {
            v.push(("signalwire.api_token".into(), s));
        }
        if let Some(s) = &self.sinch.key_secret {
            v.push(("sinch.key_secret".into(), s));
        }
        if let Some(s) = &self.sinch.webhook_password {
            v.push(("sinch.webhook_password".into(), s));
        }
        v
    }

    /// User names and identifiers no secret may equal.
    pub fn identifiers(&self) -> Vec<(&'static str, Option<&str>)> {
        vec![
            ("ami.username", Some(self.ami.username.as_str())),
            ("sip.username", self.sip.username.as_deref()),
            ("sinch.key_id", self.sinch.key_id.as_deref()),
            ("sinch.project_id", self.sinch.project_id.as_deref()),
            ("sinch.webhook_user", self.sinch.webhook_user.as_deref()),
        ]
    }
}

/// Deprecated settings of the lines' sections, moved to where they belong now.
pub(crate) fn apply_deprecated(
    cfg: &mut Config,
    limits_sets_call_limit: bool,
    p: &mut Vec<Problem>,
) {
    asterisk::config::apply_deprecated(cfg, limits_sets_call_limit, p);
}

/// The configured line's checks (and the trunk password's, whichever line runs).
pub fn check_config(cfg: &Config, p: &mut Vec<Problem>) {
    sip::config::check_password(cfg, p);
    match cfg.line.kind {
        LineKind::Asterisk => asterisk::config::check(cfg, p),
        LineKind::Sip => sip::config::check(cfg, p, true),
        LineKind::Phaxio => phaxio::config::check(cfg, p),
        LineKind::Telnyx => telnyx::config::check(cfg, p),
        LineKind::SignalWire => signalwire::config::check(cfg, p),
        LineKind::Sinch => sinch::config::check(cfg, p),
        LineKind::Loopback | LineKind::Sim => {}
    }
}

/// Whether the configured line answers inbound calls from the outside (the loopback line's copies are its own).
pub fn answers_calls(cfg: &Config) -> bool {
    match cfg.line.kind {
        LineKind::Sip => !cfg.lines.sip.numbers.is_empty(),
        LineKind::Asterisk => true,
        // A cloud provider's received faxes reach the API by its webhook, not through the agent.
        LineKind::Loopback
        | LineKind::Sim
        | LineKind::Phaxio
        | LineKind::Telnyx
        | LineKind::Sinch
        | LineKind::SignalWire => false,
    }
}

/// One connectivity check's verdict for `faxline agent --check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub level: CheckLevel,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckLevel {
    Ok,
    Warning,
    Error,
}

impl Check {
    pub fn ok(text: impl Into<String>) -> Self {
        Self {
            level: CheckLevel::Ok,
            text: text.into(),
        }
    }
    pub fn warning(text: impl Into<String>) -> Self {
        Self {
            level: CheckLevel::Warning,
            text: text.into(),
        }
    }
    pub fn error(text: impl Into<String>) -> Self {
        Self {
            level: CheckLevel::Error,
            text: text.into(),
        }
    }
}

/// The configured line's connectivity checks (AMI login, trunk and ports).
pub async fn check_connectivity(cfg: &Config) -> Vec<Check> {
    match cfg.line.kind {
        LineKind::Asterisk => asterisk::config::check_connectivity(cfg).await,
        LineKind::Sip => sip::config::check_connectivity(cfg),
        LineKind::Phaxio => phaxio::check_connectivity(cfg).await,
        LineKind::Telnyx => telnyx::check_connectivity(cfg).await,
        LineKind::SignalWire => signalwire::check_connectivity(cfg).await,
        LineKind::Sinch => sinch::check_connectivity(cfg).await,
        LineKind::Loopback | LineKind::Sim => Vec::new(),
    }
}

/// Why the configured line cannot run.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Daemon(#[from] DaemonError),
    #[error(
        "the Asterisk line needs the AMI secret (FAXLINE_AMI__SECRET or FAXLINE_AMI__SECRET_FILE)"
    )]
    NoAmiSecret,
    #[error("the SIP line cannot start: {0}")]
    SipLine(#[from] sip::SipLineError),
    #[error(transparent)]
    PhaxioLine(#[from] phaxio::PhaxioLineError),
    #[error(transparent)]
    TelnyxLine(#[from] telnyx::TelnyxLineError),
    #[error(transparent)]
    SignalWireLine(#[from] signalwire::SignalWireLineError),
    #[error(transparent)]
    SinchLine(#[from] sinch::SinchLineError),
    #[error("line kind `{0}` is not run by the agent daemon; use `asterisk`, `sip` or `loopback`")]
    UnsupportedLine(&'static str),
}

/// Builds the configured line and runs the engine with it until `shutdown` resolves.
pub async fn run(
    cfg: Arc<Config>,
    api: AgentClient,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), StartError> {
    // Before the first spool file: files group-readable for Asterisk, nothing for others.
    spool::set_umask();
    let inbound = InboundQueue::open(cfg.spool.queue_dir()).map_err(DaemonError::from)?;
    match cfg.line.kind {
        LineKind::Asterisk => {
            let ami = asterisk::ami_config(&cfg).ok_or(StartError::NoAmiSecret)?;
            // In the background: Asterisk may start after the agent; jobs are leased only while logged in.
            let client = faxline_ami::Client::spawn(ami);
            let line = asterisk::AmiLine::new(client, cfg.clone(), inbound.clone());
            Ok(Daemon::new(cfg, api, line, inbound)?.run(shutdown).await?)
        }
        LineKind::Loopback => {
            let line = loopback::LoopbackLine::from_config(&cfg, Some(inbound.clone()));
            Ok(Daemon::new(cfg, api, line, inbound)?.run(shutdown).await?)
        }
        LineKind::Sip => {
            let line = sip::SipLine::start(&cfg, inbound.clone()).await?;
            let result = Daemon::new(cfg, api, line.clone(), inbound)?
                .run(shutdown)
                .await;
            // Calls still up after the jobs' grace period are hung up explicitly, then the endpoint stops.
            line.shutdown().await;
            Ok(result?)
        }
        LineKind::Phaxio => {
            let line = phaxio::line(&cfg, api.clone())?;
            Ok(Daemon::new(cfg, api, line, inbound)?.run(shutdown).await?)
        }
        LineKind::Telnyx => {
            let line = telnyx::line(&cfg, api.clone())?;
            Ok(Daemon::new(cfg, api, line, inbound)?.run(shutdown).await?)
        }
        LineKind::SignalWire => {
            let line = signalwire::line(&cfg, api.clone())?;
            Ok(Daemon::new(cfg, api, line, inbound)?.run(shutdown).await?)
        }
        LineKind::Sinch => {
            let line = sinch::line(&cfg, api.clone())?;
            Ok(Daemon::new(cfg, api, line, inbound)?.run(shutdown).await?)
        }
        other => Err(StartError::UnsupportedLine(other.as_str())),
    }
}
