//! `[ami]` and `[asterisk]`: how the agent reaches Asterisk's manager interface, what the generated dialplan
//! does, and the checks `--check` runs for the Asterisk line (the `[sip]` trunk's checks included, since
//! pjsip.conf is generated from it).

use std::path::PathBuf;

use serde::Deserialize;

use crate::config::validate::{check_required_secret, valid_token};
use crate::config::{Config, HostVerdict, Problem, Secret, classify, flex, judge_host};
use crate::lines::Check;

/// Minimum length of the AMI secret (bytes).
pub const AMI_SECRET_MIN_LEN: usize = 16;

/// `[ami]`: how the agent reaches Asterisk's manager interface, and how Asterisk exposes it (manager.conf is
/// generated from these, so the two cannot disagree).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AmiConfig {
    /// Where the agent connects. Must be loopback, private (RFC 1918 / ULA), link-local, or a single-label
    /// container name; public addresses are refused.
    pub host: String,
    #[serde(deserialize_with = "flex::scalar")]
    pub port: u16,
    /// The manager.conf user (least privilege; generated).
    pub username: String,
    /// From `FAXLINE_AMI__SECRET` / `ASTERISK_AMI_PASSWORD` or a file; never inline, never defaulted.
    pub secret: Option<Secret>,
    pub secret_file: Option<PathBuf>,
    /// The address Asterisk's manager binds to (manager.conf `bindaddr`). Default: `host` when it is an IP
    /// literal, else 127.0.0.1. Must be internal and not 0.0.0.0.
    #[serde(deserialize_with = "flex::opt_scalar")]
    pub bind_address: Option<std::net::IpAddr>,
    /// Networks allowed to log in as the agent user (manager.conf `permit`), CIDR.
    #[serde(deserialize_with = "flex::list")]
    pub permit: Vec<ipnet::IpNet>,
    #[serde(deserialize_with = "flex::scalar")]
    pub connect_timeout_secs: u64,
    /// Keepalive `Ping` period (seconds).
    #[serde(deserialize_with = "flex::scalar")]
    pub ping_interval_secs: u64,
    /// Reconnect backoff ceiling (seconds).
    #[serde(deserialize_with = "flex::scalar")]
    pub reconnect_max_secs: u64,
}

impl Default for AmiConfig {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 5038,
            username: "faxline".into(),
            secret: None,
            secret_file: None,
            bind_address: None,
            permit: vec!["127.0.0.1/32".parse().expect("static CIDR")],
            connect_timeout_secs: 5,
            ping_interval_secs: 30,
            reconnect_max_secs: 30,
        }
    }
}

impl AmiConfig {
    /// manager.conf `bindaddr`: the explicit setting, else `host` if it is an IP literal, else loopback.
    pub fn effective_bind_address(&self) -> std::net::IpAddr {
        self.bind_address
            .or_else(|| self.host.trim_matches(['[', ']']).parse().ok())
            .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST))
    }
}

/// `[asterisk]`: what only the Asterisk line needs (dialplan behaviour, paths as Asterisk sees them).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AsteriskConfig {
    /// The spool directory as mounted in the Asterisk container (default: `spool.dir`). Outgoing TIFFs are
    /// `<dir>/out/<job>.tif`, received ones `<dir>/in/<stamp>-<uniqueid>.tif`.
    #[serde(deserialize_with = "flex::opt_scalar")]
    pub spool_dir: Option<PathBuf>,
    /// How long Dial rings the far end before giving up (seconds).
    #[serde(deserialize_with = "flex::scalar")]
    pub ring_seconds: u32,
    /// Deprecated alias of `[limits] max_call_seconds` (the limit holds for every line): still accepted, with a
    /// warning, and used when `[limits]` does not set it.
    #[serde(deserialize_with = "flex::opt_scalar")]
    pub max_call_seconds: Option<u32>,
    /// When set, `--check` compares the Asterisk files in this directory with what the generator produces from
    /// this configuration and reports drift.
    #[serde(deserialize_with = "flex::opt_scalar")]
    pub config_dir: Option<PathBuf>,
    /// After a call's channels hung up, how long to wait for its `FaxResult` event before failing the job with
    /// "no fax result" (seconds).
    #[serde(deserialize_with = "flex::scalar")]
    pub result_grace_secs: u64,
    /// How long the AMI connection may stay lost during a call before the call is given up as "outcome
    /// unknown" (seconds). Such a job is failed, never redialled.
    #[serde(deserialize_with = "flex::scalar")]
    pub ami_lost_timeout_secs: u64,
}

impl Default for AsteriskConfig {
    fn default() -> Self {
        Self {
            spool_dir: None,
            ring_seconds: 60,
            max_call_seconds: None,
            config_dir: None,
            result_grace_secs: 10,
            ami_lost_timeout_secs: 120,
        }
    }
}

/// The spool directory as Asterisk sees it (`asterisk.spool_dir`, else `spool.dir`).
pub fn spool_dir(cfg: &Config) -> PathBuf {
    cfg.lines
        .asterisk
        .spool_dir
        .clone()
        .unwrap_or_else(|| cfg.spool.dir.clone())
}

/// Moves the deprecated `[asterisk] max_call_seconds` to `[limits]` (unless `[limits]` sets it itself), with a
/// warning either way.
pub(crate) fn apply_deprecated(
    cfg: &mut Config,
    limits_sets_it: bool,
    problems: &mut Vec<Problem>,
) {
    let Some(seconds) = cfg.lines.asterisk.max_call_seconds else {
        return;
    };
    if limits_sets_it {
        problems.push(Problem::warning(
            "asterisk.max_call_seconds",
            "is deprecated and ignored because limits.max_call_seconds is set; remove it",
        ));
    } else {
        cfg.limits.max_call_seconds = seconds;
        problems.push(Problem::warning(
            "asterisk.max_call_seconds",
            "is deprecated: the call time limit holds for every line; set limits.max_call_seconds \
             (FAXLINE_LIMITS__MAX_CALL_SECONDS) instead",
        ));
    }
}

/// The Asterisk line's configuration checks.
pub fn check(cfg: &Config, p: &mut Vec<Problem>) {
    check_required_secret(
        p,
        "ami",
        "secret",
        cfg.lines.ami.secret.as_ref(),
        true,
        AMI_SECRET_MIN_LEN,
    );
    // Asterisk's config files treat ';' as a comment and trim whitespace: such secrets would silently change.
    for (name, s) in [
        ("ami.secret", cfg.lines.ami.secret.as_ref()),
        ("sip.password", cfg.lines.sip.password.as_ref()),
    ] {
        if let Some(s) = s {
            let v = s.expose();
            if v.contains(';') || v.chars().any(char::is_control) || v.trim() != v {
                p.push(Problem::error(
                    name,
                    "contains ';', a control character or leading/trailing spaces, which Asterisk's \
                     configuration files cannot carry; generate one with `openssl rand -hex 32`",
                ));
            }
        }
    }
    check_ami(cfg, p);
    crate::lines::sip::config::check(cfg, p, false);
    let ast = spool_dir(cfg);
    let text = ast.to_string_lossy();
    if !ast.is_absolute()
        || !text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-".contains(c))
    {
        p.push(Problem::error(
            "asterisk.spool_dir",
            "must be an absolute path of letters, digits and / . _ - (it is written into the dialplan)",
        ));
    }
    let a = &cfg.lines.asterisk;
    if !(5..=300).contains(&a.ring_seconds) {
        p.push(Problem::error("asterisk.ring_seconds", "must be 5..=300"));
    }
    if let Some(dir) = &a.config_dir {
        p.extend(super::dialplan::check_generated(cfg, dir));
    }
}

/// `--check` connectivity of the Asterisk line: the spool is shared with Asterisk, and the AMI login works.
pub async fn check_connectivity(cfg: &Config) -> Vec<Check> {
    let mut out = Vec::new();
    for dir in [cfg.spool.outgoing_dir(), cfg.spool.incoming_dir()] {
        if let Some(problem) = crate::engine::spool::shared_dir_problem(&dir) {
            out.push(Check::warning(format!(
                "spool {} is not shared with Asterisk: {problem}",
                dir.display()
            )));
        }
    }
    let Some(c) = super::ami_config(cfg) else {
        out.push(Check::error(
            "AMI: no secret configured (FAXLINE_AMI__SECRET or ami.secret_file)",
        ));
        return out;
    };
    let addr = c.addr.clone();
    let login = tokio::time::timeout(
        std::time::Duration::from_secs(cfg.lines.ami.connect_timeout_secs.max(1) + 10),
        faxline_ami::Client::connect(c),
    )
    .await;
    match login {
        Ok(Ok(client)) => {
            out.push(Check::ok(format!(
                "AMI login to {addr} as {}",
                cfg.lines.ami.username
            )));
            let _ = client.logoff().await;
        }
        Ok(Err(e)) => out.push(Check::error(format!("AMI login to {addr}: {e}"))),
        Err(_) => out.push(Check::error(format!("AMI login to {addr}: timed out"))),
    }
    out
}

fn check_ami(cfg: &Config, p: &mut Vec<Problem>) {
    match judge_host(&cfg.lines.ami.host) {
        HostVerdict::Internal | HostVerdict::LocalName => {}
        HostVerdict::NotInternal(ip, class) => {
            let what = if cfg.lines.ami.host.trim_matches(['[', ']']) == ip.to_string() {
                format!("{ip} is a {class:?} address")
            } else {
                format!("{} resolves to {ip}, a {class:?} address", cfg.lines.ami.host)
            };
            p.push(Problem::error(
                "ami.host",
                format!(
                    "{what}; the AMI must only be reached on loopback or a private network (RFC 1918, fc00::/7, \
                     link-local)"
                ),
            ))
        }
        HostVerdict::Unresolvable => p.push(Problem::error(
            "ami.host",
            format!(
                "{} does not resolve, so it cannot be verified to be private; use an IP address or a container name",
                cfg.lines.ami.host
            ),
        )),
        HostVerdict::Invalid => p.push(Problem::error(
            "ami.host",
            format!("{:?} is not a host name or IP address", cfg.lines.ami.host),
        )),
    }
    if cfg.lines.ami.port == 0 {
        p.push(Problem::error("ami.port", "must not be 0"));
    }
    let bind = cfg.lines.ami.effective_bind_address();
    let class = classify(bind);
    if !class.is_internal() {
        p.push(Problem::error(
            "ami.bind_address",
            format!(
                "{bind} ({class:?}) would expose the AMI beyond the private network; bind it to a loopback or \
                 private address"
            ),
        ));
    }
    if cfg.lines.ami.permit.is_empty() {
        p.push(Problem::error(
            "ami.permit",
            "is empty; list the networks the agent connects from (e.g. 127.0.0.1/32)",
        ));
    }
    for net in &cfg.lines.ami.permit {
        let class = classify(net.network());
        if !class.is_internal() || net.prefix_len() == 0 {
            p.push(Problem::error(
                "ami.permit",
                format!(
                    "{net} is not a private network; only internal clients may log in to the AMI"
                ),
            ));
        }
    }
    if !valid_token(&cfg.lines.ami.username, 32) {
        p.push(Problem::error(
            "ami.username",
            "must be 1-32 characters of letters, digits, '_' or '-' (it is a manager.conf section name)",
        ));
    } else if ["admin", "manager", "root", "asterisk"].contains(&cfg.lines.ami.username.as_str()) {
        p.push(Problem::warning(
            "ami.username",
            "is a common default name; a dedicated name such as `faxline` makes audit logs clearer",
        ));
    }
    if cfg.lines.ami.ping_interval_secs == 0 || cfg.lines.ami.ping_interval_secs > 300 {
        p.push(Problem::error("ami.ping_interval_secs", "must be 1..=300"));
    }
    if cfg.lines.ami.connect_timeout_secs == 0 {
        p.push(Problem::error(
            "ami.connect_timeout_secs",
            "must be at least 1",
        ));
    }
}
