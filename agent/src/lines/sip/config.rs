//! `[sip]`: the trunk and its T.38 parameters. The agent's own SIP line uses all of it; the Asterisk line
//! generates pjsip.conf from it, so its checks run for both (`own_stack` says which).

use std::path::PathBuf;

use serde::Deserialize;

use crate::config::validate::{env_name, valid_host};
use crate::config::{Config, Problem, Secret, Weakness, flex, weakness};
use faxline_protocol::PhoneNumber;

/// Length of a SIP trunk password below which `--check` warns (carriers choose these).
pub const SIP_PASSWORD_MIN_LEN: usize = 12;

/// `[sip]`: the trunk and T.38 parameters, used by the agent's own SIP line and for Asterisk's pjsip.conf.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SipConfig {
    /// The carrier's SIP host (name or address), without scheme.
    pub trunk_host: Option<String>,
    #[serde(deserialize_with = "flex::scalar")]
    pub trunk_port: u16,
    pub transport: SipTransport,
    /// REGISTER to the trunk (some carriers authenticate by IP instead).
    #[serde(deserialize_with = "flex::scalar")]
    pub register: bool,
    /// The registrar host when it differs from `trunk_host`.
    pub registrar: Option<String>,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub password_file: Option<PathBuf>,
    pub from_user: Option<String>,
    pub from_domain: Option<String>,
    /// Caller ID (number) presented on outbound faxes: the From user unless `from_user` is set, and in the
    /// identity headers `caller_id_header` chooses.
    pub caller_id: Option<String>,
    /// Which identity headers carry `caller_id` on the agent's own SIP line: `auto` (default:
    /// `P-Asserted-Identity` when `caller_id` differs from the From user), `pai`, `rpid` (`Remote-Party-ID`),
    /// `both` or `none`.
    pub caller_id_header: CallerIdHeader,
    /// How long an outbound call on the agent's own SIP line rings before it is cancelled as "no answer"
    /// (seconds, 5..=300).
    #[serde(deserialize_with = "flex::scalar")]
    pub ring_seconds: u32,
    /// Numbers (DIDs) accepted inbound. Empty: accept any number the trunk delivers.
    #[serde(deserialize_with = "flex::list")]
    pub numbers: Vec<String>,
    /// Where an inbound INVITE's called number is looked for, in order (the agent's own SIP line): a
    /// registrar delivers to the registered contact with the number only in `To`.
    #[serde(deserialize_with = "flex::list")]
    pub called_number_sources: Vec<CalledNumberSource>,
    /// Local SIP bind address and port.
    #[serde(deserialize_with = "flex::scalar")]
    pub bind_address: std::net::IpAddr,
    #[serde(deserialize_with = "flex::scalar")]
    pub bind_port: u16,
    /// Public address behind NAT (pjsip `external_media_address`/`external_signaling_address`).
    pub external_address: Option<String>,
    /// Networks that are NOT behind the NAT (pjsip `local_net`), CIDR.
    #[serde(deserialize_with = "flex::list")]
    pub local_nets: Vec<ipnet::IpNet>,
    /// RTP ports for G.711 (before T.38, and audio fallback).
    #[serde(deserialize_with = "flex::scalar")]
    pub rtp_port_min: u16,
    #[serde(deserialize_with = "flex::scalar")]
    pub rtp_port_max: u16,
    #[serde(deserialize_with = "flex::scalar")]
    pub udptl_port_min: u16,
    #[serde(deserialize_with = "flex::scalar")]
    pub udptl_port_max: u16,
    /// UDPTL error correction (telephony.md §3.2, §6.4: redundancy survives loss that kills `none`).
    pub t38_ec: T38ErrorCorrection,
    /// Redundancy depth (secondary IFPs per packet) or FEC entries, 1..=5.
    #[serde(deserialize_with = "flex::scalar")]
    pub t38_redundancy_depth: u8,
    /// FEC span, 1..=5.
    #[serde(deserialize_with = "flex::scalar")]
    pub t38_fec_span: u8,
    /// Override of the far end's T38FaxMaxDatagram (bytes); unset = use the SDP value.
    #[serde(deserialize_with = "flex::opt_scalar")]
    pub t38_max_datagram: Option<u16>,
    /// Send UDPTL to where the far end's packets come from (symmetric latching; pjsip `t38_udptl_nat`).
    #[serde(deserialize_with = "flex::scalar")]
    pub t38_nat: bool,
    /// As sender, how long to wait for the far end's T.38 re-INVITE before sending our own (milliseconds).
    #[serde(deserialize_with = "flex::scalar")]
    pub t38_reinvite_wait_ms: u32,
    /// Asterisk's qualify interval for the trunk (pjsip.conf AOR `qualify_frequency`, seconds; 0 = off, for
    /// carriers that do not answer OPTIONS). A trunk that fails qualify is not dialled by Asterisk, and the
    /// agent reports it in readiness.
    #[serde(deserialize_with = "flex::scalar")]
    pub qualify_seconds: u32,
}

impl Default for SipConfig {
    fn default() -> Self {
        Self {
            trunk_host: None,
            trunk_port: 5060,
            transport: SipTransport::Udp,
            register: false,
            registrar: None,
            username: None,
            password: None,
            password_file: None,
            from_user: None,
            from_domain: None,
            caller_id: None,
            caller_id_header: CallerIdHeader::Auto,
            ring_seconds: 60,
            numbers: Vec::new(),
            called_number_sources: vec![
                CalledNumberSource::RequestUri,
                CalledNumberSource::To,
                CalledNumberSource::PCalledPartyId,
            ],
            bind_address: std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
            bind_port: 5060,
            external_address: None,
            local_nets: Vec::new(),
            rtp_port_min: 10000,
            rtp_port_max: 10999,
            udptl_port_min: 4000,
            udptl_port_max: 4999,
            t38_ec: T38ErrorCorrection::Redundancy,
            t38_redundancy_depth: 3,
            t38_fec_span: 3,
            t38_max_datagram: None,
            t38_nat: true,
            t38_reinvite_wait_ms: 5000,
            qualify_seconds: 60,
        }
    }
}

/// `[sip] caller_id_header`: where the caller's number goes besides From.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallerIdHeader {
    /// `P-Asserted-Identity` when `caller_id` is set and differs from the From user; nothing otherwise.
    Auto,
    /// `P-Asserted-Identity` (RFC 3325).
    Pai,
    /// `Remote-Party-ID`.
    Rpid,
    /// Both headers.
    Both,
    /// Neither: the number is only in From (when it is the From user).
    None,
}

/// `[sip] called_number_sources`: a place in an inbound INVITE where the called number may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CalledNumberSource {
    /// The Request-URI user, when it is a number or one of `numbers`.
    RequestUri,
    /// The `To` user.
    To,
    /// `P-Called-Party-ID` (RFC 3455).
    PCalledPartyId,
    /// The first `Diversion` entry (RFC 5806): the number the call was diverted from.
    Diversion,
    /// The first `History-Info` entry (RFC 7044): the number first dialled.
    HistoryInfo,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SipTransport {
    Udp,
    Tcp,
    Tls,
}

impl SipTransport {
    pub fn as_str(self) -> &'static str {
        match self {
            SipTransport::Udp => "udp",
            SipTransport::Tcp => "tcp",
            SipTransport::Tls => "tls",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum T38ErrorCorrection {
    None,
    Redundancy,
    Fec,
}

impl T38ErrorCorrection {
    /// The pjsip `t38_udptl_ec` value.
    pub fn as_str(self) -> &'static str {
        match self {
            T38ErrorCorrection::None => "none",
            T38ErrorCorrection::Redundancy => "redundancy",
            T38ErrorCorrection::Fec => "fec",
        }
    }
}

pub fn check(cfg: &Config, p: &mut Vec<Problem>, own_stack: bool) {
    let s = &cfg.lines.sip;
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
    if own_stack && s.transport != SipTransport::Udp {
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
        if let Err(e) = PhoneNumber::parse(n) {
            p.push(Problem::error(
                "sip.numbers",
                format!("{} is not a number: {e}", faxline_protocol::mask_number(n)),
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
    if s.qualify_seconds > 86_400 {
        p.push(Problem::error(
            "sip.qualify_seconds",
            "must be 0 (off) ..= 86400",
        ));
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
            CallerIdHeader::Pai | CallerIdHeader::Rpid | CallerIdHeader::Both
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
        if !crate::config::classify(net.network()).is_internal() {
            p.push(Problem::warning(
                "sip.local_nets",
                format!("{net} is not a private network"),
            ));
        }
    }
}

/// The trunk password's strength, judged whichever line runs (it is written into pjsip.conf or used by the
/// agent itself): carriers choose short ones, so those only warn.
pub fn check_password(cfg: &Config, p: &mut Vec<Problem>) {
    if let Some(s) = &cfg.lines.sip.password
        && let Some(w) = weakness(s.expose(), SIP_PASSWORD_MIN_LEN)
    {
        let sev_err = !matches!(w, Weakness::TooShort { .. } | Weakness::LowEntropy);
        let msg = format!(
            "{w}{}",
            crate::config::validate::describe_source(s.source())
        );
        p.push(if sev_err {
            Problem::error("sip.password", msg)
        } else {
            Problem::warning(
                "sip.password",
                format!("{msg}; ask the carrier for a longer one"),
            )
        });
    }
}

/// `--check` connectivity of the SIP line: the trunk resolves, and the SIP port and the first media ports can be
/// bound.
pub fn check_connectivity(cfg: &Config) -> Vec<crate::lines::Check> {
    use crate::lines::Check;
    use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
    let s = &cfg.lines.sip;
    let mut out = Vec::new();
    if let Some(host) = &s.trunk_host {
        match (host.as_str(), s.trunk_port)
            .to_socket_addrs()
            .map(|mut a| a.next())
        {
            Ok(Some(addr)) => out.push(Check::ok(format!("SIP trunk {host} resolves to {addr}"))),
            Ok(None) | Err(_) => {
                out.push(Check::error(format!("SIP trunk {host} does not resolve")))
            }
        }
    }
    for (what, port) in [
        ("SIP port", s.bind_port),
        ("first UDPTL port", s.udptl_port_min),
        ("first RTP port", s.rtp_port_min),
    ] {
        let addr = SocketAddr::new(s.bind_address, port);
        match UdpSocket::bind(addr) {
            Ok(_) => out.push(Check::ok(format!("{what} {addr} is free"))),
            Err(e) => out.push(Check::error(format!("{what} {addr} cannot be bound: {e}"))),
        }
    }
    out
}
