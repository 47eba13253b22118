//! The agent's own SIP/T.38 line (`line.kind = "sip"`): the agent is the fax endpoint, talking SIP to a trunk
//! directly or as a SIP peer of Asterisk, with the fax sessions on its own media runtime.
//!
//! Outbound, a job's call is dialled to `sip:<number>@<trunk>` and followed to its end by
//! [`faxline_sip::fax_leg`]; the fax report (pages, rate, T.38 or audio, remote ident) is the outcome, so the
//! API sees exactly what it sees from the Asterisk line. Inbound, calls for the configured numbers are
//! answered, received into the spool, and queued for upload like Asterisk's received faxes.
//!
//! Each call runs in its own task, not in the job's future: when the daemon gives up on a job (shutdown), the
//! call is hung up with a BYE instead of being abandoned in the middle of the dialog.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use faxline_sip::call::{CallConfig, FaxMedia};
use faxline_sip::called::{CalledPolicy, CalledSource, Numbers, same_number};
use faxline_sip::fax_leg::{self, LegSpec, MediaObserver, MediaPorts};
use faxline_sip::media::{MediaRuntime, SessionEvents};
use faxline_sip::registration::{self, RegistrationEvent, RegistrationHandle};
use faxline_sip::stack::{CallerIdentity, DialTarget, IncomingCall, SipCredentials, SipEndpoint};
use faxline_t38::sdp::{LocalT38Config, UdpEc};
use faxline_t38::session::{Direction, FaxOptions, SessionEvent};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub mod config;
pub mod status;

pub use config::{CalledNumberSource, CallerIdHeader, SipConfig, SipTransport, T38ErrorCorrection};

use crate::config::Config;
use crate::engine::inbound::{InboundItem, InboundQueue};
use crate::engine::line::{CallRequest, DocumentForm, Line};
use crate::engine::outcome::{CallOutcome, FailureClass};
use faxline_protocol::mask_number;
use faxline_protocol::time as timefmt;

/// How long a REGISTER binding is asked for.
const REGISTER_EXPIRES: u32 = 600;
/// How long shutdown waits for hung-up calls to finish their BYE.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(10);

/// Why the SIP line cannot start.
#[derive(Debug, thiserror::Error)]
pub enum SipLineError {
    #[error("sip.trunk_host is not set")]
    NoTrunk,
    #[error("cannot resolve the trunk {0}: {1}")]
    Resolve(String, String),
    #[error(transparent)]
    Stack(#[from] faxline_sip::stack::StackError),
}

/// The SIP line. Cheap to clone; all clones share one endpoint.
#[derive(Clone)]
pub struct SipLine {
    inner: Arc<Inner>,
}

struct Inner {
    endpoint: SipEndpoint,
    runtime: Arc<MediaRuntime>,
    ports: MediaPorts,
    /// `host:port` of the trunk, for the Request-URI.
    trunk: String,
    from_user: String,
    from_domain: Option<String>,
    /// The identity headers with our caller id, if any.
    identity: Option<CallerIdentity>,
    credentials: Option<SipCredentials>,
    call: CallConfig,
    fax: FaxOptions,
    received_dir: PathBuf,
    inbound: InboundQueue,
    /// Calls at once, both directions; inbound calls beyond it get 486.
    max_calls: usize,
    active: AtomicUsize,
    /// False while a required registration is not in place.
    registered: Arc<AtomicBool>,
    registration: std::sync::Mutex<Option<RegistrationHandle>>,
    /// Cancelled at shutdown: every running call hangs up.
    shutdown: CancellationToken,
    tasks: TaskTracker,
    deadline: Duration,
}

impl SipLine {
    /// Binds the SIP endpoint on `sip.bind_address:sip.bind_port`, starts the media threads, registers with
    /// the trunk when `sip.register` is set, and starts answering calls for `sip.numbers`.
    pub async fn start(cfg: &Config, inbound: InboundQueue) -> Result<Self, SipLineError> {
        let s = &cfg.lines.sip;
        let trunk_host = s.trunk_host.clone().ok_or(SipLineError::NoTrunk)?;
        let trunk_addr = resolve(&trunk_host, s.trunk_port)?;
        let external = external_address(cfg, trunk_addr)?;
        let media_ip = match external {
            Some(ip) => ip,
            None => local_address(cfg, trunk_addr)?,
        };
        let (endpoint, incoming) = SipEndpoint::bind_with_external(
            SocketAddr::new(s.bind_address, s.bind_port),
            external.map(|ip| SocketAddr::new(ip, s.bind_port)),
            called_policy(cfg),
        )
        .await?;
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
        let runtime = Arc::new(MediaRuntime::start(threads, cfg.line.speed.max(1)));
        let speed = cfg.line.speed.max(1);
        let scaled = move |d: Duration| d / speed;
        let mut call = CallConfig::new(media_ip, 0, 0);
        call.t38 = t38_config(cfg);
        call.t38_wait = scaled(Duration::from_millis(u64::from(s.t38_reinvite_wait_ms)));
        call.t38_answer_timeout = scaled(Duration::from_millis(u64::from(cfg.fax.t38_timeout_ms)));
        call.ced = scaled(call.ced);
        call.audio_fallback = cfg.fax.audio_fallback;
        call.max_duration = Duration::from_secs(u64::from(cfg.limits.max_call_seconds).max(60));
        // The far end rings in real time, whatever `speed` says.
        call.ring_timeout = Duration::from_secs(u64::from(s.ring_seconds));
        let credentials = match (&s.username, &s.password) {
            (Some(u), Some(p)) => Some(SipCredentials {
                username: u.clone(),
                password: p.expose().to_owned(),
            }),
            _ => None,
        };
        let from_user = s
            .from_user
            .clone()
            .or_else(|| s.caller_id.clone())
            .or_else(|| s.username.clone())
            .unwrap_or_else(|| "faxline".into());
        let identity = caller_identity(s.caller_id.as_deref(), &from_user, s.caller_id_header);
        let registered = Arc::new(AtomicBool::new(!s.register));
        // The registrar's domain, as the REGISTER's From and To carry it.
        let registrar =
            format_host_port(s.registrar.as_deref().unwrap_or(&trunk_host), s.trunk_port);
        let registration = if s.register {
            let trunk =
                endpoint.trunk_registration(&format!("sip:{registrar}"), credentials.clone())?;
            let (tx, rx) = mpsc::unbounded_channel();
            metrics::gauge!("faxline_agent_sip_registered").set(0.0);
            tokio::spawn(follow_registration(rx, registered.clone()));
            Some(registration::start(trunk, REGISTER_EXPIRES, tx))
        } else {
            None
        };
        let inner = Arc::new(Inner {
            endpoint,
            runtime,
            ports: MediaPorts::new(
                s.bind_address,
                s.udptl_port_min..=s.udptl_port_max,
                s.rtp_port_min..=s.rtp_port_max,
            ),
            trunk: format_host_port(&trunk_host, s.trunk_port),
            from_user,
            from_domain: from_domain(s.from_domain.as_deref(), s.register, &registrar),
            identity,
            credentials,
            call,
            fax: crate::lines::t30::fax_options(cfg),
            received_dir: cfg.spool.incoming_dir(),
            inbound,
            max_calls: cfg.limits.max_calls.max(1) as usize,
            active: AtomicUsize::new(0),
            registered,
            registration: std::sync::Mutex::new(registration),
            shutdown: CancellationToken::new(),
            tasks: TaskTracker::new(),
            deadline: Duration::from_secs(u64::from(cfg.limits.max_call_seconds).max(60) + 60),
        });
        tracing::info!(
            sip = %inner.endpoint.local_addr(),
            media = %media_ip,
            trunk = %inner.trunk,
            register = s.register,
            "SIP line ready"
        );
        let accepting = inner.clone();
        inner.tasks.spawn(accept_calls(accepting, incoming));
        inner.tasks.spawn(sample_media_timing(
            Arc::downgrade(&inner.runtime),
            inner.shutdown.clone(),
        ));
        Ok(Self { inner })
    }

    /// The bound SIP address.
    pub fn local_addr(&self) -> SocketAddr {
        self.inner.endpoint.local_addr()
    }

    /// Hangs up every call (BYE), unregisters, and stops the endpoint and the media threads.
    pub async fn shutdown(self) {
        let inner = &self.inner;
        inner.shutdown.cancel();
        inner.tasks.close();
        if tokio::time::timeout(SHUTDOWN_WAIT, inner.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!("SIP calls did not end within {SHUTDOWN_WAIT:?} of shutdown");
        }
        let registration = inner.registration.lock().ok().and_then(|mut r| r.take());
        if let Some(r) = registration {
            r.stop().await;
        }
        inner.endpoint.shutdown();
    }
}

/// Publishes the media threads' punctuality every few seconds until shutdown.
async fn sample_media_timing(runtime: std::sync::Weak<MediaRuntime>, stop: CancellationToken) {
    loop {
        let Some(rt) = runtime.upgrade() else { return };
        crate::metrics::media_timing("sip", &rt.tick_stats());
        drop(rt);
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
        }
    }
}

impl Line for SipLine {
    fn kind(&self) -> &'static str {
        "sip"
    }

    fn document_form(&self) -> DocumentForm {
        DocumentForm::FaxTiff
    }

    fn ready(&self) -> bool {
        self.inner.registered.load(Ordering::Relaxed) && !self.inner.shutdown.is_cancelled()
    }

    fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        if !self.inner.registered.load(Ordering::Relaxed) {
            p.push("SIP trunk not registered".to_owned());
        }
        if self.inner.shutdown.is_cancelled() {
            p.push("the SIP line is shutting down".to_owned());
        }
        p
    }

    async fn place(&self, req: CallRequest) -> CallOutcome {
        let Some(number) = dialable(&req.to) else {
            return CallOutcome::failed(FailureClass::Rejected, "the number has no digits");
        };
        let Some(tiff) = req.document.fax_tiff().map(std::path::Path::to_path_buf) else {
            return CallOutcome::failed(FailureClass::Document, "the SIP line sends fax TIFF only");
        };
        let inner = self.inner.clone();
        if inner.shutdown.is_cancelled() {
            return CallOutcome::failed(FailureClass::Shutdown, "the agent is shutting down");
        }
        let target = DialTarget {
            uri: format!("sip:{number}@{}", inner.trunk),
            from_user: inner.from_user.clone(),
            from_domain: inner.from_domain.clone(),
            credentials: inner.credentials.clone(),
            identity: inner.identity.clone(),
        };
        let mut fax = inner.fax.clone();
        if let Some(ecm) = req.ecm {
            fax.ecm = ecm;
        }
        // The call's own token: cancelled at shutdown, or when this future is dropped.
        let hangup = inner.shutdown.child_token();
        let guard = hangup.clone().drop_guard();
        // The end of the shutdown grace period hangs this call up (BYE, or CANCEL while it rings).
        let shutdown_hangup = {
            let call = hangup.clone();
            let stop = req.hangup.clone();
            tokio::spawn(async move {
                tokio::select! {
                    () = stop.cancelled() => call.cancel(),
                    () = call.cancelled() => {}
                }
            })
        };
        let progress = req.progress.clone();
        progress.publish("calling");
        let pages = req.progress.clone();
        let spec = LegSpec {
            config: inner.call.clone(),
            direction: Direction::Send { tiff },
            fax,
            label: req.token.clone(),
            loss: None,
            session_events: Some(SessionEvents::new(move |ev| match ev {
                SessionEvent::Trained { bit_rate, .. } => {
                    pages.publish(&format!("trained at {bit_rate} bit/s"))
                }
                SessionEvent::PageStarted(n) => pages.publish(&format!("sending page {n}")),
                SessionEvent::PageDone { page, .. } => {
                    pages.publish_pages(&format!("page {page} sent"), *page)
                }
                SessionEvent::Negotiating | SessionEvent::Completed(_) => {}
            })),
            observer: Some(MediaObserver::new(move |m| {
                progress.publish(match m {
                    FaxMedia::T38 { .. } => "sending (T.38)",
                    FaxMedia::Audio { .. } => "sending (audio)",
                })
            })),
            hangup: Some(hangup),
        };
        tracing::info!(job = %req.job_id, token = %req.token, to = %mask_number(&req.to), "SIP call");
        inner.active.fetch_add(1, Ordering::SeqCst);
        let runner = inner.clone();
        let task = inner.tasks.spawn(async move {
            let r = fax_leg::place(
                runner.runtime.clone(),
                &runner.ports,
                &runner.endpoint,
                target,
                spec,
            )
            .await;
            runner.active.fetch_sub(1, Ordering::SeqCst);
            r
        });
        let ended = tokio::time::timeout(inner.deadline, task).await;
        if let Ok(Ok(Ok(report))) = &ended {
            crate::metrics::media_ended("sip", "outbound", report);
        }
        let outcome = match ended {
            Ok(Ok(Ok(report))) if req.hangup.is_cancelled() && !report.is_success() => {
                CallOutcome::Failed {
                    class: FailureClass::Shutdown,
                    detail: "the agent shut down during the call; it was hung up before the fax completed"
                        .into(),
                    pages: report.report().map(|r| r.pages).filter(|p| *p > 0),
                    unplaced: false,
                }
            }
            Ok(Ok(Ok(report))) => status::outbound_outcome(&report),
            Ok(Ok(Err(e))) => CallOutcome::failed(FailureClass::ChannelUnavailable, e.to_string()),
            Ok(Err(_)) => CallOutcome::failed(FailureClass::Unknown, "the call task failed"),
            Err(_) => CallOutcome::failed(FailureClass::Timeout, "the call did not end in time"),
        };
        drop(guard);
        shutdown_hangup.abort();
        outcome
    }
}

/// Answers offered calls while the line runs; beyond `max_calls` they get 486 Busy Here.
async fn accept_calls(inner: Arc<Inner>, mut incoming: mpsc::UnboundedReceiver<IncomingCall>) {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    loop {
        let call = tokio::select! {
            c = incoming.recv() => match c { Some(c) => c, None => break },
            _ = inner.shutdown.cancelled() => break,
        };
        if inner.active.load(Ordering::SeqCst) >= inner.max_calls {
            tracing::warn!(to = %mask_number(&call.called), source = %call.called_from, status = 486,
                max_calls = inner.max_calls, "inbound call refused: all lines busy");
            call.leg
                .send(faxline_sip::call::SipCommand::Reject { code: 486 });
            continue;
        }
        inner.active.fetch_add(1, Ordering::SeqCst);
        let id = format!(
            "sip_{}_{}",
            timefmt::now_us(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let runner = inner.clone();
        inner.tasks.spawn(async move {
            receive(&runner, call, id).await;
            runner.active.fetch_sub(1, Ordering::SeqCst);
        });
    }
}

/// Receives one inbound fax and queues what arrived for the API (a partial fax as `failed`, with its pages).
async fn receive(inner: &Inner, call: IncomingCall, id: String) {
    let _active = crate::metrics::ActiveCall::start("sip");
    let tiff = inner.received_dir.join(format!("{id}.tif"));
    let (from, to) = (call.caller.clone(), call.called.clone());
    tracing::info!(call = %id, from = %from.as_deref().map(mask_number).unwrap_or_default(),
        to = %mask_number(&to), source = %call.called_from, "inbound SIP call");
    let spec = LegSpec {
        config: inner.call.clone(),
        direction: Direction::Receive { tiff: tiff.clone() },
        fax: inner.fax.clone(),
        label: id.clone(),
        loss: None,
        session_events: None,
        observer: None,
        hangup: Some(inner.shutdown.child_token()),
    };
    let report = match fax_leg::answer(inner.runtime.clone(), &inner.ports, call, spec).await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(call = %id, to = %mask_number(&to), error = %e, "inbound call failed: it could not be answered");
            return;
        }
    };
    crate::metrics::media_ended("sip", "inbound", &report);
    let pages = report.report().map_or(0, |r| r.pages);
    if pages == 0 || !tiff.is_file() {
        tracing::info!(call = %id, end = ?report.call.end, "inbound call ended without a page");
        let _ = tokio::fs::remove_file(&tiff).await;
        return;
    }
    let status = if report.is_success() {
        "received"
    } else {
        "failed"
    };
    let item = InboundItem {
        id: id.clone(),
        file: tiff,
        from,
        to: Some(to),
        pages: Some(pages),
        status: status.into(),
        received_at: timefmt::iso(timefmt::now_us()),
    };
    match inner.inbound.enqueue(&item) {
        Ok(()) => {
            tracing::info!(call = %id, pages, status, mode = ?report.mode(), "inbound fax queued")
        }
        Err(e) => {
            tracing::error!(call = %id, error = %e, "cannot queue the received fax; it stays in the spool")
        }
    }
}

/// Which numbers the line answers and where it looks for them (`[sip] numbers`, `called_number_sources`).
fn called_policy(cfg: &Config) -> CalledPolicy {
    let s = &cfg.lines.sip;
    CalledPolicy {
        numbers: if s.numbers.is_empty() {
            Numbers::Any
        } else {
            Numbers::Listed(s.numbers.clone())
        },
        sources: s
            .called_number_sources
            .iter()
            .map(|source| match source {
                CalledNumberSource::RequestUri => CalledSource::RequestUri,
                CalledNumberSource::To => CalledSource::To,
                CalledNumberSource::PCalledPartyId => CalledSource::PCalledPartyId,
                CalledNumberSource::Diversion => CalledSource::Diversion,
                CalledNumberSource::HistoryInfo => CalledSource::HistoryInfo,
            })
            .collect(),
    }
}

/// The host of our From URI: `from_domain`, else while registering the registrar's `host:port` (as in the
/// REGISTER's From), else none (our SIP address).
fn from_domain(configured: Option<&str>, register: bool, registrar: &str) -> Option<String> {
    configured
        .map(str::to_owned)
        .or_else(|| register.then(|| registrar.to_owned()))
}

/// The identity headers for `caller_id` (`[sip] caller_id_header`); `from_user` is the From user part.
fn caller_identity(
    caller_id: Option<&str>,
    from_user: &str,
    header: CallerIdHeader,
) -> Option<CallerIdentity> {
    let user = caller_id?.to_owned();
    let (pai, rpid) = match header {
        CallerIdHeader::Auto => (!same_number(&user, from_user) && user != from_user, false),
        CallerIdHeader::Pai => (true, false),
        CallerIdHeader::Rpid => (false, true),
        CallerIdHeader::Both => (true, true),
        CallerIdHeader::None => (false, false),
    };
    (pai || rpid).then_some(CallerIdentity { user, pai, rpid })
}

/// What we offer and accept for T.38, from `[sip]`.
fn t38_config(cfg: &Config) -> LocalT38Config {
    let s = &cfg.lines.sip;
    LocalT38Config {
        max_bit_rate: cfg.fax.max_rate,
        ec_preference: match s.t38_ec {
            T38ErrorCorrection::Redundancy => vec![UdpEc::Redundancy, UdpEc::Fec],
            T38ErrorCorrection::Fec => vec![UdpEc::Fec, UdpEc::Redundancy],
            T38ErrorCorrection::None => Vec::new(),
        },
        redundancy_depth: s.t38_redundancy_depth,
        fec_span: s.t38_fec_span,
        fec_entries: s.t38_redundancy_depth,
        far_max_datagram_override: s.t38_max_datagram.map(u32::from),
        ..LocalT38Config::default()
    }
}

/// The public address to put in SIP headers and SDP: `sip.external_address`, unless the trunk is on one of
/// `sip.local_nets` (then it reaches us directly, as pjsip's `local_net` decides).
fn external_address(cfg: &Config, trunk: SocketAddr) -> Result<Option<IpAddr>, SipLineError> {
    let s = &cfg.lines.sip;
    let Some(ext) = &s.external_address else {
        return Ok(None);
    };
    if s.local_nets.iter().any(|n| n.contains(&trunk.ip())) {
        return Ok(None);
    }
    resolve(ext, 0).map(|a| Some(a.ip()))
}

/// Our own address towards the trunk: the bind address, or the one the kernel would use to reach it.
fn local_address(cfg: &Config, trunk: SocketAddr) -> Result<IpAddr, SipLineError> {
    let s = &cfg.lines.sip;
    if !s.bind_address.is_unspecified() {
        return Ok(s.bind_address);
    }
    let probe = std::net::UdpSocket::bind(SocketAddr::new(s.bind_address, 0))
        .and_then(|u| u.connect(trunk).map(|()| u))
        .and_then(|u| u.local_addr())
        .map_err(|e| SipLineError::Resolve(trunk.to_string(), e.to_string()))?;
    Ok(probe.ip())
}

fn resolve(host: &str, port: u16) -> Result<SocketAddr, SipLineError> {
    (host, port)
        .to_socket_addrs()
        .map_err(|e| SipLineError::Resolve(host.to_owned(), e.to_string()))?
        .next()
        .ok_or_else(|| SipLineError::Resolve(host.to_owned(), "no address".into()))
}

fn format_host_port(host: &str, port: u16) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// The user part to dial: digits with an optional leading `+`; `None` without digits.
fn dialable(to: &str) -> Option<String> {
    let plus = to.trim_start().starts_with('+');
    let digits: String = to.chars().filter(char::is_ascii_digit).collect();
    (!digits.is_empty()).then(|| if plus { format!("+{digits}") } else { digits })
}

/// Keeps `registered` up to date: jobs are leased only while a required registration holds.
async fn follow_registration(
    mut events: mpsc::UnboundedReceiver<RegistrationEvent>,
    registered: Arc<AtomicBool>,
) {
    while let Some(ev) = events.recv().await {
        match ev {
            RegistrationEvent::Registered { .. } => registered.store(true, Ordering::Relaxed),
            RegistrationEvent::Failed { .. } | RegistrationEvent::Unregistered => {
                registered.store(false, Ordering::Relaxed)
            }
        }
        let up = registered.load(Ordering::Relaxed);
        metrics::gauge!("faxline_agent_sip_registered").set(if up { 1.0 } else { 0.0 });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_dialled_as_digits_with_an_optional_plus() {
        assert_eq!(
            dialable("+1 (555) 123-4567").as_deref(),
            Some("+15551234567")
        );
        assert_eq!(dialable("555 0100").as_deref(), Some("5550100"));
        assert_eq!(dialable("ext"), None);
    }

    #[test]
    fn configured_numbers_match_by_digits() {
        assert!(same_number("+15550100", "15550100"));
        assert!(!same_number("+15550100", "15550101"));
        assert!(!same_number("", ""));
    }

    #[test]
    fn the_external_address_is_used_unless_the_trunk_is_on_a_local_net() {
        let mut cfg = Config::default();
        let trunk: SocketAddr = "192.168.1.20:5060".parse().unwrap();
        assert_eq!(external_address(&cfg, trunk).unwrap(), None);
        cfg.lines.sip.external_address = Some("203.0.113.10".into());
        assert_eq!(
            external_address(&cfg, trunk).unwrap(),
            Some("203.0.113.10".parse().unwrap())
        );
        cfg.lines.sip.local_nets = vec!["192.168.0.0/16".parse().unwrap()];
        assert_eq!(external_address(&cfg, trunk).unwrap(), None);
        cfg.lines.sip.bind_address = "192.168.1.5".parse().unwrap();
        assert_eq!(
            local_address(&cfg, trunk).unwrap(),
            "192.168.1.5".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn caller_id_goes_into_the_chosen_identity_headers() {
        use CallerIdHeader as H;
        let id = |c: Option<&str>, from: &str, h| caller_identity(c, from, h);
        // Auto: P-Asserted-Identity only when the number is not already the From user.
        assert_eq!(id(Some("+15550100"), "+15550100", H::Auto), None);
        assert_eq!(id(Some("+15550100"), "15550100", H::Auto), None);
        assert_eq!(
            id(Some("+15550100"), "trunkuser", H::Auto),
            Some(CallerIdentity {
                user: "+15550100".into(),
                pai: true,
                rpid: false
            })
        );
        let both = id(Some("+15550100"), "+15550100", H::Both).unwrap();
        assert!(both.pai && both.rpid);
        let rpid = id(Some("+15550100"), "trunkuser", H::Rpid).unwrap();
        assert!(!rpid.pai && rpid.rpid);
        assert_eq!(id(Some("+15550100"), "trunkuser", H::None), None);
        assert_eq!(id(None, "trunkuser", H::Pai), None);
    }

    #[test]
    fn the_from_domain_defaults_to_the_registrars_while_registering() {
        let registrar = "registrar.example:5080";
        assert_eq!(
            from_domain(None, true, registrar).as_deref(),
            Some(registrar)
        );
        assert_eq!(from_domain(None, false, registrar), None);
        assert_eq!(
            from_domain(Some("carrier.example"), true, registrar).as_deref(),
            Some("carrier.example")
        );
    }

    #[test]
    fn called_number_sources_follow_the_configuration() {
        let mut cfg = Config::default();
        assert_eq!(
            called_policy(&cfg),
            CalledPolicy::new(Numbers::Any),
            "the default sources are the SIP crate's"
        );
        cfg.lines.sip.numbers = vec!["+15550100".into()];
        cfg.lines.sip.called_number_sources = vec![
            CalledNumberSource::HistoryInfo,
            CalledNumberSource::Diversion,
        ];
        assert_eq!(
            called_policy(&cfg),
            CalledPolicy {
                numbers: Numbers::Listed(vec!["+15550100".into()]),
                sources: vec![CalledSource::HistoryInfo, CalledSource::Diversion],
            }
        );
    }

    #[test]
    fn ipv6_trunks_are_bracketed() {
        assert_eq!(format_host_port("::1", 5060), "[::1]:5060");
        assert_eq!(
            format_host_port("trunk.example", 5080),
            "trunk.example:5080"
        );
    }
}
