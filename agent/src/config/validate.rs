//! Judging a loaded configuration: every problem at once, each naming the setting, none printing a secret.

use std::fmt;

use super::net::{HostVerdict, is_local_host, judge_host};
use super::secret::{SecretSource, weakness};
use super::{
    AGENT_SECRET_MIN_LEN, AMI_SECRET_MIN_LEN, Config, FAX_RATES, LineKind, SIP_PASSWORD_MIN_LEN,
    T38ErrorCorrection,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The agent refuses to start.
    Error,
    /// Works, but probably not what you want.
    Warning,
}

/// One thing wrong with the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub severity: Severity,
    /// The setting, as `section.key` (or an environment variable name).
    pub setting: String,
    /// What is wrong, without the value when it is a secret.
    pub message: String,
}

impl Problem {
    pub fn error(setting: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            setting: setting.into(),
            message: message.into(),
        }
    }
    pub fn warning(setting: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            setting: setting.into(),
            message: message.into(),
        }
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{sev}: {}: {}", self.setting, self.message)
    }
}

/// The `--check` report: one line per problem, errors first, then a summary line.
pub fn render_problems(problems: &[Problem]) -> String {
    let mut sorted: Vec<&Problem> = problems.iter().collect();
    sorted.sort_by_key(|a| a.severity);
    let mut out = String::new();
    for p in &sorted {
        out.push_str(&p.to_string());
        out.push('\n');
    }
    let errors = problems.iter().filter(|p| p.is_error()).count();
    let warnings = problems.len() - errors;
    if errors == 0 {
        out.push_str(&format!("configuration OK ({warnings} warning(s))\n"));
    } else {
        out.push_str(&format!(
            "configuration has {errors} error(s) and {warnings} warning(s)\n"
        ));
    }
    out
}

/// Check everything that can be checked without connecting anywhere. Returns all problems (empty = fine).
pub fn check_config(cfg: &Config) -> Vec<Problem> {
    let mut p = cfg.load_problems.clone();
    let asterisk = cfg.line.kind == LineKind::Asterisk;
    let sip = cfg.line.kind == LineKind::Sip;
    let needs_api = asterisk || sip;

    check_secrets(cfg, &mut p, needs_api);
    if asterisk {
        check_ami(cfg, &mut p);
    }
    check_api_client(cfg, &mut p, needs_api);
    if asterisk || sip {
        check_sip(cfg, &mut p, sip);
    }
    check_fax(cfg, &mut p);
    check_paths(cfg, &mut p, asterisk);
    check_retry_limits(cfg, &mut p);
    p
}

fn env_name(section: &str, key: &str) -> String {
    format!(
        "{}{}__{}",
        super::env::PREFIX,
        section.to_ascii_uppercase(),
        key.to_ascii_uppercase()
    )
}

fn check_secrets(cfg: &Config, p: &mut Vec<Problem>, needs_api: bool) {
    let asterisk = cfg.line.kind == LineKind::Asterisk;
    let required = [
        (
            "ami",
            "secret",
            cfg.ami.secret.as_ref(),
            asterisk,
            AMI_SECRET_MIN_LEN,
        ),
        (
            "api_client",
            "agent_secret",
            cfg.api_client.agent_secret.as_ref(),
            needs_api || cfg.api_client.base_url.is_some(),
            AGENT_SECRET_MIN_LEN,
        ),
    ];
    for (section, key, secret, needed, min) in required {
        let name = format!("{section}.{key}");
        match secret {
            None if needed => p.push(Problem::error(
                &name,
                format!(
                    "is required and has no default; set {} or {}_FILE (a secret file)",
                    env_name(section, key),
                    env_name(section, key)
                ),
            )),
            None => {}
            Some(s) => {
                if let Some(w) = weakness(s.expose(), min) {
                    p.push(Problem::error(
                        &name,
                        format!("{w}{}", describe_source(s.source())),
                    ));
                }
            }
        }
    }
    if let Some(s) = &cfg.sip.password
        && let Some(w) = weakness(s.expose(), SIP_PASSWORD_MIN_LEN)
    {
        let sev_err = !matches!(
            w,
            super::Weakness::TooShort { .. } | super::Weakness::LowEntropy
        );
        let msg = format!("{w}{}", describe_source(s.source()));
        p.push(if sev_err {
            Problem::error("sip.password", msg)
        } else {
            Problem::warning(
                "sip.password",
                format!("{msg}; ask the carrier for a longer one"),
            )
        });
    }
    // Asterisk's config files treat ';' as a comment and trim whitespace: such secrets would silently change.
    if asterisk {
        for (name, s) in [
            ("ami.secret", cfg.ami.secret.as_ref()),
            ("sip.password", cfg.sip.password.as_ref()),
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
    }
    // The same value in two places: one leak opens both doors (and AMI's secret is weaker protected).
    let all = cfg.secrets();
    for i in 0..all.len() {
        for j in i + 1..all.len() {
            let (a, sa) = &all[i];
            let (b, sb) = &all[j];
            let shared_by_design = [a.as_str(), b.as_str()].contains(&"api_client.agent_secret")
                && (super::AGENT_SECRET_ALIASES.contains(&a.as_str())
                    || super::AGENT_SECRET_ALIASES.contains(&b.as_str()));
            if !shared_by_design && !sa.expose().is_empty() && sa.expose() == sb.expose() {
                p.push(Problem::error(
                    a.clone(),
                    format!("is the same value as {b}; every secret must be different"),
                ));
            }
        }
    }
    // A secret equal to a user name or identifier is as good as public.
    let names = [
        ("ami.username", Some(cfg.ami.username.as_str())),
        ("api_client.agent_id", cfg.api_client.agent_id.as_deref()),
        ("sip.username", cfg.sip.username.as_deref()),
    ];
    for (secret_name, s) in &all {
        for (id_name, id) in names {
            if let Some(id) = id.filter(|i| !i.is_empty())
                && s.expose().eq_ignore_ascii_case(id)
            {
                p.push(Problem::error(
                    secret_name.clone(),
                    format!("equals {id_name}; use a random value"),
                ));
            }
        }
    }
}

fn describe_source(s: &SecretSource) -> String {
    match s {
        SecretSource::Inline => String::new(),
        SecretSource::Env(var) => format!(" (from {var})"),
        SecretSource::File(path) => format!(" (from {})", path.display()),
    }
}

fn check_ami(cfg: &Config, p: &mut Vec<Problem>) {
    match judge_host(&cfg.ami.host) {
        HostVerdict::Internal | HostVerdict::LocalName => {}
        HostVerdict::NotInternal(ip, class) => {
            let what = if cfg.ami.host.trim_matches(['[', ']']) == ip.to_string() {
                format!("{ip} is a {class:?} address")
            } else {
                format!("{} resolves to {ip}, a {class:?} address", cfg.ami.host)
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
                cfg.ami.host
            ),
        )),
        HostVerdict::Invalid => p.push(Problem::error(
            "ami.host",
            format!("{:?} is not a host name or IP address", cfg.ami.host),
        )),
    }
    if cfg.ami.port == 0 {
        p.push(Problem::error("ami.port", "must not be 0"));
    }
    let bind = cfg.ami.effective_bind_address();
    let class = super::net::classify(bind);
    if !class.is_internal() {
        p.push(Problem::error(
            "ami.bind_address",
            format!(
                "{bind} ({class:?}) would expose the AMI beyond the private network; bind it to a loopback or \
                 private address"
            ),
        ));
    }
    if cfg.ami.permit.is_empty() {
        p.push(Problem::error(
            "ami.permit",
            "is empty; list the networks the agent connects from (e.g. 127.0.0.1/32)",
        ));
    }
    for net in &cfg.ami.permit {
        let class = super::net::classify(net.network());
        if !class.is_internal() || net.prefix_len() == 0 {
            p.push(Problem::error(
                "ami.permit",
                format!(
                    "{net} is not a private network; only internal clients may log in to the AMI"
                ),
            ));
        }
    }
    if !valid_token(&cfg.ami.username, 32) {
        p.push(Problem::error(
            "ami.username",
            "must be 1-32 characters of letters, digits, '_' or '-' (it is a manager.conf section name)",
        ));
    } else if ["admin", "manager", "root", "asterisk"].contains(&cfg.ami.username.as_str()) {
        p.push(Problem::warning(
            "ami.username",
            "is a common default name; a dedicated name such as `faxline` makes audit logs clearer",
        ));
    }
    if cfg.ami.ping_interval_secs == 0 || cfg.ami.ping_interval_secs > 300 {
        p.push(Problem::error("ami.ping_interval_secs", "must be 1..=300"));
    }
    if cfg.ami.connect_timeout_secs == 0 {
        p.push(Problem::error(
            "ami.connect_timeout_secs",
            "must be at least 1",
        ));
    }
}

fn check_api_client(cfg: &Config, p: &mut Vec<Problem>, needs_api: bool) {
    let c = &cfg.api_client;
    let Some(base) = &c.base_url else {
        if needs_api {
            p.push(Problem::error(
                "api_client.base_url",
                format!(
                    "is required for line kind `{}` (the agent gets its jobs from the API); set {}",
                    cfg.line.kind.as_str(),
                    env_name("api_client", "base_url")
                ),
            ));
        }
        return;
    };
    match url::Url::parse(base) {
        Err(e) => p.push(Problem::error(
            "api_client.base_url",
            format!("{base:?} is not a URL: {e}"),
        )),
        Ok(u) => {
            let host = u.host_str().unwrap_or("");
            match u.scheme() {
                "https" => {}
                "http" if c.allow_http && is_local_host(host) => {}
                "http" if c.allow_http => p.push(Problem::error(
                    "api_client.base_url",
                    format!(
                        "plain http is only allowed to a local host (loopback, private address or container name), \
                         not {host}; use https"
                    ),
                )),
                "http" => p.push(Problem::error(
                    "api_client.base_url",
                    "must use https (set api_client.allow_http = true only for a local, private connection)",
                )),
                other => p.push(Problem::error(
                    "api_client.base_url",
                    format!("unsupported scheme {other:?}; use https"),
                )),
            }
            if !u.username().is_empty() || u.password().is_some() {
                p.push(Problem::error(
                    "api_client.base_url",
                    "must not contain credentials; the agent signs requests with api_client.agent_secret",
                ));
            }
        }
    }
    match &c.agent_id {
        None => p.push(Problem::error(
            "api_client.agent_id",
            format!("is required; set {}", env_name("api_client", "agent_id")),
        )),
        Some(id) if !valid_token(id, 64) => p.push(Problem::error(
            "api_client.agent_id",
            "must be 1-64 characters of letters, digits, '_' or '-'",
        )),
        Some(_) => {}
    }
    if c.timeout_secs == 0 {
        p.push(Problem::error(
            "api_client.timeout_secs",
            "must be at least 1",
        ));
    }
}

fn check_sip(cfg: &Config, p: &mut Vec<Problem>, own_stack: bool) {
    let s = &cfg.sip;
    match &s.trunk_host {
        None => p.push(Problem::error(
            "sip.trunk_host",
            "is required: the carrier's SIP host (name or address)",
        )),
        Some(h) if !valid_host(h) => p.push(Problem::error(
            "sip.trunk_host",
            format!("{h:?} is not a host name or address (no scheme, no port: use sip.trunk_port)"),
        )),
        Some(_) => {}
    }
    if own_stack && s.transport != super::SipTransport::Udp {
        p.push(Problem::error(
            "sip.transport",
            "the agent's own SIP line speaks UDP only (tcp and tls apply to Asterisk's pjsip.conf)",
        ));
    }
    if own_stack
        && cfg.line.speed > 1
        && !s
            .trunk_host
            .as_deref()
            .and_then(|h| h.parse::<std::net::IpAddr>().ok())
            .is_some_and(|ip| ip.is_loopback())
    {
        p.push(Problem::error(
            "line.speed",
            "time compression only works between two Faxline endpoints on this host: with the sip line, \
             line.speed > 1 needs a loopback sip.trunk_host (real trunks run in real time)",
        ));
    }
    if let Some(r) = &s.registrar
        && !valid_host(r)
    {
        p.push(Problem::error(
            "sip.registrar",
            format!("{r:?} is not a host name or address"),
        ));
    }
    if s.register && s.username.is_none() {
        p.push(Problem::error(
            "sip.username",
            "is required when sip.register = true",
        ));
    }
    if s.username.is_some() && s.password.is_none() {
        p.push(Problem::error(
            "sip.password",
            format!(
                "is required when sip.username is set; set {} or {}_FILE",
                env_name("sip", "password"),
                env_name("sip", "password")
            ),
        ));
    }
    for (name, v) in [
        ("sip.username", &s.username),
        ("sip.from_user", &s.from_user),
        ("sip.caller_id", &s.caller_id),
    ] {
        if let Some(v) = v
            && (v.is_empty()
                || !v
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-_.*#".contains(c)))
        {
            p.push(Problem::error(
                name,
                "may contain only letters, digits and + - _ . * #",
            ));
        }
    }
    if let Some(d) = &s.from_domain
        && !valid_host(d)
    {
        p.push(Problem::error(
            "sip.from_domain",
            format!("{d:?} is not a domain"),
        ));
    }
    for n in &s.numbers {
        if !valid_number(n) {
            p.push(Problem::error(
                "sip.numbers",
                format!("{n:?} is not a number: use digits with an optional leading '+'"),
            ));
        }
    }
    if let Some(e) = &s.external_address {
        if !valid_host(e) {
            p.push(Problem::error(
                "sip.external_address",
                format!("{e:?} is not a host name or address"),
            ));
        }
    } else {
        // Behind NAT without an external address the SDP carries the private address (one-way UDPTL).
        let _ = own_stack;
        if s.bind_address.is_unspecified() {
            p.push(Problem::warning(
                "sip.external_address",
                "is not set; behind NAT the SDP will advertise a private address and UDPTL will be one-way \
                 (set it to the public address, and sip.local_nets to your private networks)",
            ));
        }
    }
    if s.udptl_port_min < 1024 || s.udptl_port_min > s.udptl_port_max {
        p.push(Problem::error(
            "sip.udptl_port_min",
            format!(
                "the UDPTL range {}..={} is invalid (needs 1024 <= min <= max)",
                s.udptl_port_min, s.udptl_port_max
            ),
        ));
    } else {
        let ports = u32::from(s.udptl_port_max - s.udptl_port_min) + 1;
        if ports < cfg.limits.max_calls * 2 {
            p.push(Problem::error(
                "sip.udptl_port_max",
                format!(
                    "the UDPTL range has {ports} ports; limits.max_calls = {} needs at least {}",
                    cfg.limits.max_calls,
                    cfg.limits.max_calls * 2
                ),
            ));
        }
    }
    if s.rtp_port_min < 1024 || s.rtp_port_min >= s.rtp_port_max {
        p.push(Problem::error(
            "sip.rtp_port_min",
            format!(
                "the RTP range {}..={} is invalid (needs 1024 <= min < max)",
                s.rtp_port_min, s.rtp_port_max
            ),
        ));
    } else if s.rtp_port_min <= s.udptl_port_max && s.udptl_port_min <= s.rtp_port_max {
        p.push(Problem::error(
            "sip.rtp_port_min",
            "the RTP and UDPTL port ranges overlap",
        ));
    }
    if s.bind_port == 0 || s.trunk_port == 0 {
        p.push(Problem::error("sip.bind_port", "SIP ports must not be 0"));
    }
    if (s.udptl_port_min..=s.udptl_port_max).contains(&s.bind_port) {
        p.push(Problem::error(
            "sip.bind_port",
            "lies inside the UDPTL port range",
        ));
    }
    if !(1..=5).contains(&s.t38_redundancy_depth) {
        p.push(Problem::error("sip.t38_redundancy_depth", "must be 1..=5"));
    }
    if !(1..=5).contains(&s.t38_fec_span) {
        p.push(Problem::error("sip.t38_fec_span", "must be 1..=5"));
    }
    if s.t38_ec == T38ErrorCorrection::None {
        p.push(Problem::warning(
            "sip.t38_ec",
            "is `none`: a single lost UDPTL packet can fail a page; `redundancy` is recommended",
        ));
    }
    if let Some(m) = s.t38_max_datagram {
        if !(100..=1400).contains(&m) {
            p.push(Problem::error(
                "sip.t38_max_datagram",
                "must be 100..=1400 bytes (unset it to use the far end's SDP value)",
            ));
        } else if m < 272 && s.t38_ec != T38ErrorCorrection::None {
            p.push(Problem::warning(
                "sip.t38_max_datagram",
                "is small for error correction; redundancy depth will be reduced to fit",
            ));
        }
    }
    if !(5..=300).contains(&s.ring_seconds) {
        p.push(Problem::error("sip.ring_seconds", "must be 5..=300"));
    }
    if s.called_number_sources.is_empty() {
        p.push(Problem::error(
            "sip.called_number_sources",
            "must name at least one of request_uri, to, p_called_party_id, diversion, history_info",
        ));
    }
    // The INVITE's From domain defaults to the registrar's while registering, as the REGISTER's does;
    // another domain is usually a mistake that proxies punish.
    let registrar = s.registrar.as_deref().or(s.trunk_host.as_deref());
    if s.register
        && let (Some(d), Some(r)) = (&s.from_domain, registrar)
        && !d.eq_ignore_ascii_case(r)
    {
        p.push(Problem::warning(
            "sip.from_domain",
            format!(
                "{d:?} differs from the registrar {r:?} we register with: proxies that check the From \
                 domain or take the digest realm from it refuse or mis-challenge such calls; remove \
                 from_domain to use the registrar's"
            ),
        ));
    }
    if s.caller_id.is_none()
        && matches!(
            s.caller_id_header,
            crate::config::CallerIdHeader::Pai
                | crate::config::CallerIdHeader::Rpid
                | crate::config::CallerIdHeader::Both
        )
    {
        p.push(Problem::error(
            "sip.caller_id_header",
            "names identity headers but sip.caller_id is not set",
        ));
    }
    if !(1000..=30000).contains(&s.t38_reinvite_wait_ms) {
        p.push(Problem::error(
            "sip.t38_reinvite_wait_ms",
            "must be 1000..=30000",
        ));
    }
    for net in &s.local_nets {
        if !super::net::classify(net.network()).is_internal() {
            p.push(Problem::warning(
                "sip.local_nets",
                format!("{net} is not a private network"),
            ));
        }
    }
}

fn check_fax(cfg: &Config, p: &mut Vec<Problem>) {
    let f = &cfg.fax;
    if f.local_station_id.chars().count() > 20
        || !f
            .local_station_id
            .chars()
            .all(|c| c.is_ascii_digit() || c == '+' || c == ' ')
    {
        p.push(Problem::error(
            "fax.local_station_id",
            "must be at most 20 characters of digits, '+' and spaces (T.30 station identifier)",
        ));
    }
    if f.header_info.chars().count() > 50
        || f.header_info
            .chars()
            .any(|c| c.is_control() || !c.is_ascii() || ",$;\\\"".contains(c))
    {
        p.push(Problem::error(
            "fax.header_info",
            "must be at most 50 printable ASCII characters without , $ ; \\ or \"",
        ));
    }
    for (name, rate) in [("fax.max_rate", f.max_rate), ("fax.min_rate", f.min_rate)] {
        if !FAX_RATES.contains(&rate) {
            p.push(Problem::error(
                name,
                format!("{rate} is not a fax rate (one of {FAX_RATES:?})"),
            ));
        }
    }
    if f.min_rate > f.max_rate {
        p.push(Problem::error(
            "fax.min_rate",
            "is greater than fax.max_rate",
        ));
    }
    if !(1000..=30000).contains(&f.t38_timeout_ms) {
        p.push(Problem::error("fax.t38_timeout_ms", "must be 1000..=30000"));
    }
}

fn check_paths(cfg: &Config, p: &mut Vec<Problem>, asterisk: bool) {
    if !cfg.spool.dir.is_absolute() {
        p.push(Problem::error("spool.dir", "must be an absolute path"));
    }
    let ast = cfg.asterisk_spool_dir();
    if asterisk {
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
        let a = &cfg.asterisk;
        if !(5..=300).contains(&a.ring_seconds) {
            p.push(Problem::error("asterisk.ring_seconds", "must be 5..=300"));
        }
        if !(60..=86400).contains(&a.max_call_seconds) {
            p.push(Problem::error(
                "asterisk.max_call_seconds",
                "must be 60..=86400",
            ));
        }
        if let Some(dir) = &a.config_dir {
            p.extend(crate::asterisk_gen::check_generated(cfg, dir));
        }
    }
}

fn check_retry_limits(cfg: &Config, p: &mut Vec<Problem>) {
    let r = &cfg.retry;
    if !(1..=10).contains(&r.max_attempts) {
        p.push(Problem::error(
            "retry.max_attempts",
            "must be 1..=10 (1 = never retry)",
        ));
    }
    if r.backoff_initial_secs == 0 {
        p.push(Problem::error(
            "retry.backoff_initial_secs",
            "must be at least 1",
        ));
    }
    if r.backoff_max_secs < r.backoff_initial_secs {
        p.push(Problem::error(
            "retry.backoff_max_secs",
            "is smaller than retry.backoff_initial_secs",
        ));
    }
    if !(r.backoff_multiplier.is_finite() && (1.0..=10.0).contains(&r.backoff_multiplier)) {
        p.push(Problem::error(
            "retry.backoff_multiplier",
            "must be 1.0..=10.0",
        ));
    }
    let l = &cfg.limits;
    if l.max_calls == 0 {
        p.push(Problem::error("limits.max_calls", "must be at least 1"));
    }
    if l.max_calls_per_trunk == 0 {
        p.push(Problem::error(
            "limits.max_calls_per_trunk",
            "must be at least 1",
        ));
    }
    if !(64..=65_536).contains(&l.render_memory_mb) {
        p.push(Problem::error(
            "limits.render_memory_mb",
            "must be 64..=65536 (MB)",
        ));
    }
    if !(1..=600).contains(&l.render_seconds_per_page) {
        p.push(Problem::error(
            "limits.render_seconds_per_page",
            "must be 1..=600 (seconds)",
        ));
    }
    if l.max_calls_per_trunk > l.max_calls {
        p.push(Problem::warning(
            "limits.max_calls_per_trunk",
            "is larger than limits.max_calls, so limits.max_calls applies",
        ));
    }
}

/// Identifier syntax used in config sections and dialplan-visible names.
pub(crate) fn valid_token(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// A phone number as the dialplan accepts it: optional '+', then 1-32 digits.
pub fn valid_number(s: &str) -> bool {
    let digits = s.strip_prefix('+').unwrap_or(s);
    !digits.is_empty() && digits.len() <= 32 && digits.chars().all(|c| c.is_ascii_digit())
}

fn valid_host(h: &str) -> bool {
    let t = h.trim_start_matches('[').trim_end_matches(']');
    if t.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    !t.is_empty()
        && t.len() <= 253
        && !t.starts_with(['-', '.'])
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}
