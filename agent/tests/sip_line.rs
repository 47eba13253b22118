//! The agent's own SIP/T.38 line (`line.kind = "sip"`) against a SIP trunk stand-in on 127.0.0.1, with the
//! real API in-process (SQLite). The trunk is a separate SIP user agent (its own endpoint, media runtime and
//! spandsp terminal): it answers the agent's calls and receives the fax, refuses calls with a chosen status,
//! and calls the agent to deliver an inbound fax. Both ends tick ten times faster than real time.

mod common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use common::{AGENT_SECRET, Api, fixtures, wait_inbound};
use faxline_agent::config::{Config, Secret as AgentSecret, SecretSource};
use faxline_agent::lines::LineKind;
use faxline_protocol::Secret;
use faxline_protocol::client::AgentClient;
use faxline_sip::call::{CallConfig, SipCommand};
use faxline_sip::called::{CalledPolicy, Numbers};
use faxline_sip::fax_leg::{self, LegReport, LegSpec, MediaPorts};
use faxline_sip::media::{MediaRuntime, SessionEvents};
use faxline_sip::stack::{DialTarget, IncomingCall, SipEndpoint};
use faxline_t38::session::{Direction, FaxOptions, SessionEvent};
use tokio::sync::mpsc;

const SPEED: u32 = 10;
const AGENT_NUMBER: &str = "+15550100";
const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Call timings of a party ticking `SPEED` times faster than real time.
fn fast_call_config() -> CallConfig {
    let mut c = CallConfig::new(LOCAL, 0, 0);
    c.t38_wait /= SPEED;
    c.ced /= SPEED;
    c.t38_answer_timeout /= SPEED;
    c
}

/// The carrier side: a SIP endpoint with its own media runtime and ports.
struct Trunk {
    endpoint: SipEndpoint,
    incoming: mpsc::UnboundedReceiver<IncomingCall>,
    runtime: Arc<MediaRuntime>,
    ports: MediaPorts,
    /// The receiving session's events, as text.
    events: Arc<std::sync::Mutex<Vec<String>>>,
}

impl Trunk {
    async fn start(media: std::ops::RangeInclusive<u16>) -> Trunk {
        let (endpoint, incoming) =
            SipEndpoint::bind((LOCAL, 0).into(), CalledPolicy::new(Numbers::Any))
                .await
                .unwrap();
        Trunk {
            endpoint,
            incoming,
            runtime: Arc::new(MediaRuntime::start(1, SPEED)),
            ports: MediaPorts::new(LOCAL, media.clone(), media),
            events: Arc::default(),
        }
    }

    fn addr(&self) -> SocketAddr {
        self.endpoint.local_addr()
    }

    async fn next_call(&mut self) -> IncomingCall {
        tokio::time::timeout(Duration::from_secs(60), self.incoming.recv())
            .await
            .expect("the agent calls the trunk")
            .unwrap()
    }

    /// Answers the next call and receives its fax into `tiff`; returns the called and calling numbers.
    async fn receive(&mut self, tiff: &Path) -> ((String, Option<String>), LegReport) {
        let call = self.next_call().await;
        let seen = (call.called.clone(), call.caller.clone());
        let spec = LegSpec {
            config: fast_call_config(),
            direction: Direction::Receive {
                tiff: tiff.to_path_buf(),
            },
            fax: FaxOptions {
                local_ident: "TRUNK RX".into(),
                ..FaxOptions::default()
            },
            label: "trunk-rx".into(),
            loss: None,
            session_events: Some({
                let seen = self.events.clone();
                SessionEvents::new(move |ev| {
                    let text = match ev {
                        SessionEvent::Trained { bit_rate, .. } => format!("trained {bit_rate}"),
                        SessionEvent::PageStarted(n) => format!("page {n} started"),
                        SessionEvent::PageDone { page, .. } => format!("page {page} done"),
                        SessionEvent::Negotiating => "negotiating".into(),
                        SessionEvent::Completed(_) => "completed".into(),
                    };
                    seen.lock().unwrap().push(text);
                })
            }),
            observer: None,
            hangup: None,
        };
        let report = fax_leg::answer(self.runtime.clone(), &self.ports, call, spec)
            .await
            .unwrap();
        (seen, report)
    }

    /// Calls the agent's number and sends `tiff`.
    async fn send(&self, agent: SocketAddr, to: &str, tiff: &Path) -> LegReport {
        let spec = LegSpec {
            config: fast_call_config(),
            direction: Direction::Send {
                tiff: tiff.to_path_buf(),
            },
            fax: FaxOptions {
                local_ident: "TRUNK TX".into(),
                ..FaxOptions::default()
            },
            label: "trunk-tx".into(),
            loss: None,
            session_events: None,
            observer: None,
            hangup: None,
        };
        let target = DialTarget {
            uri: format!("sip:{to}@{agent}"),
            from_user: "+15557654321".into(),
            from_domain: None,
            credentials: None,
            identity: None,
        };
        fax_leg::place(
            self.runtime.clone(),
            &self.ports,
            &self.endpoint,
            target,
            spec,
        )
        .await
        .unwrap()
    }
}

struct World {
    tmp: tempfile::TempDir,
    api: Api,
    trunk: Trunk,
    agent_sip: SocketAddr,
    agent: tokio::task::JoinHandle<()>,
    /// Asks the agent to shut down (as SIGTERM/Ctrl-C does).
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl World {
    /// API, trunk and an agent on the SIP line; `media` is split between the trunk and the agent.
    async fn new(media: u16, max_attempts: u32) -> World {
        let tmp = tempfile::tempdir().unwrap();
        let api = Api::start(tmp.path(), "127.0.0.1:0").await;
        let trunk = Trunk::start(media..=media + 49).await;
        let agent_port = free_udp_port();
        let mut c = Config::default();
        c.line.kind = LineKind::Sip;
        c.line.speed = SPEED;
        c.lines.sip.trunk_host = Some("127.0.0.1".into());
        c.lines.sip.trunk_port = trunk.addr().port();
        c.lines.sip.bind_address = LOCAL;
        c.lines.sip.bind_port = agent_port;
        c.lines.sip.numbers = vec![AGENT_NUMBER.into()];
        c.lines.sip.caller_id = Some(AGENT_NUMBER.into());
        c.lines.sip.udptl_port_min = media + 50;
        c.lines.sip.udptl_port_max = media + 74;
        c.lines.sip.rtp_port_min = media + 75;
        c.lines.sip.rtp_port_max = media + 99;
        c.fax.local_station_id = "AGENT".into();
        c.spool.dir = tmp.path().join("spool");
        c.api_client.base_url = Some(api.base.clone());
        c.api_client.agent_id = Some("site1".into());
        c.api_client.agent_secret =
            Some(AgentSecret::with_source(AGENT_SECRET, SecretSource::Inline));
        c.api_client.allow_http = true;
        c.agent.lease_poll_secs = 1;
        // At shutdown, running calls are hung up at once and have 2 s to report.
        c.agent.shutdown_grace_secs = 2;
        c.retry.max_attempts = max_attempts;
        c.retry.backoff_initial_secs = 0;
        let cfg = Arc::new(c);
        let client = AgentClient::new(&api.base, "site1", Secret::new(AGENT_SECRET)).unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let agent = tokio::spawn(async move {
            faxline_agent::lines::run(cfg, client, async {
                let _ = stopped.await;
            })
            .await
            .expect("daemon runs");
        });
        World {
            tmp,
            api,
            trunk,
            agent_sip: SocketAddr::new(LOCAL, agent_port),
            agent,
            stop: Some(stop),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }
}

fn tiff_pages(path: &Path) -> usize {
    let out = std::process::Command::new("tiffinfo")
        .arg(path)
        .output()
        .expect("tiffinfo (libtiff-tools) is installed");
    String::from_utf8_lossy(&out.stdout)
        .matches("TIFF Directory")
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbound_fax_goes_to_the_trunk_over_t38_and_is_reported() {
    let mut w = World::new(21000, 1).await;
    let id = w.api.submit("+15550199").await;
    let received = w.path("trunk-received.tif");
    let (call, report) = w.trunk.receive(&received).await;
    // The trunk saw the dialled number and our caller id, and received the page over T.38.
    assert_eq!(call.0, "+15550199");
    assert_eq!(call.1.as_deref(), Some(AGENT_NUMBER));
    assert!(report.is_success(), "{:?}", report.report());
    assert_eq!(report.mode(), Some("T38"));
    assert_eq!(
        report.report().unwrap().remote_ident.as_deref(),
        Some("AGENT")
    );
    assert_eq!(tiff_pages(&received), 1);
    let job = w.api.final_job(&id).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    assert_eq!(job["pages"], 1, "{job}");
    // Delivery details and progress reach the API as from the Asterisk line.
    assert_eq!(job["mode"], "T38", "{job}");
    assert_eq!(job["bitrate"], 14400, "{job}");
    assert_eq!(job["remote_ident"], "TRUNK RX", "{job}");
    // A finished job shows the pages that went and its final stage, not the last call phase.
    assert_eq!(job["pages_sent"], 1, "{job}");
    assert_eq!(job["stage"], "completed", "{job}");
    // The session's events reach whoever asked for them: the trunk's receiver saw training and the page.
    let events = w.trunk.events.lock().unwrap().clone();
    assert!(
        events.contains(&"trained 14400".to_owned())
            && events.contains(&"page 1 started".to_owned())
            && events.contains(&"page 1 done".to_owned()),
        "{events:?}"
    );
    // The session's media went into the metrics: one ECM T.38 session outbound, and the call's outcome.
    // Whichever of the agent's and the API's recorders this test process installed first holds every series.
    let text = faxline_agent::metrics::render() + &faxline_api::metrics::render();
    let count = |series: &str| {
        text.lines()
            .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<f64>().ok())
    };
    assert!(
        count(
            r#"faxline_agent_fax_sessions_total{line="sip",direction="outbound",mode="t38",ecm="on"}"#
        ) >= Some(1.0),
        "{text}"
    );
    assert!(
        count(r#"faxline_agent_calls_total{line="sip",result="success",class="none"}"#)
            >= Some(1.0),
        "{text}"
    );
    assert_eq!(
        count(r#"faxline_agent_media_lost_total{line="sip",mode="t38"}"#),
        Some(0.0),
        "{text}"
    );
    // A clean line: nothing needed rebuilding or resending.
    assert_eq!(
        count(r#"faxline_agent_ecm_retransmissions_total{line="sip",direction="outbound"}"#),
        Some(0.0),
        "{text}"
    );
    assert_eq!(
        count(r#"faxline_agent_media_recovered_total{line="sip"}"#),
        Some(0.0),
        "{text}"
    );
    assert!(!text.contains("15550199"), "{text}");
    w.agent.abort();
    w.api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_trunk_fails_the_job_as_busy_without_a_fax() {
    let mut w = World::new(21100, 1).await;
    let id = w.api.submit("5550199").await;
    let call = w.trunk.next_call().await;
    call.leg.send(SipCommand::Reject { code: 486 });
    let job = w.api.final_job(&id).await;
    assert_eq!(job["status"], "FAILED", "{job}");
    let error = job["error"].as_str().unwrap_or_default();
    assert!(error.contains("busy") && error.contains("486"), "{job}");
    w.agent.abort();
    w.api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbound_fax_from_the_trunk_reaches_the_api() {
    let mut w = World::new(21200, 1).await;
    // Give the agent a moment to bind its SIP port.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let tiff = fixtures().join("captures/testfax_sent.tif");
    let sent = w.trunk.send(w.agent_sip, AGENT_NUMBER, &tiff).await;
    assert!(sent.is_success(), "{:?}", sent.report());
    assert_eq!(sent.mode(), Some("T38"));
    let list = wait_inbound(&w.api, 1).await;
    assert_eq!(list.len(), 1, "{list:?}");
    let fax = &list[0];
    assert_eq!(
        fax["pages"].as_u64(),
        Some(u64::from(sent.report().unwrap().pages)),
        "{fax}"
    );
    // Numbers the agent does not serve are refused (404) and nothing is queued.
    let other = w.trunk.send(w.agent_sip, "+15550999", &tiff).await;
    assert!(other.report().is_none());
    assert_eq!(
        other.call.end,
        faxline_sip::call::EndReason::Rejected(404),
        "{other:?}"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(w.api.inbound().await.len(), 1);
    w.agent.abort();
    w.api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_during_a_call_hangs_up_with_bye() {
    let w = World::new(21300, 1).await;
    let World {
        tmp,
        mut api,
        mut trunk,
        agent,
        stop,
        ..
    } = w;
    let id = api.submit("+15550199").await;
    let received = tmp.path().join("cut.tif");
    let call = trunk.next_call().await;
    let answering = tokio::spawn(async move {
        let spec = LegSpec {
            config: fast_call_config(),
            direction: Direction::Receive { tiff: received },
            fax: FaxOptions::default(),
            label: "trunk-rx".into(),
            loss: None,
            session_events: None,
            observer: None,
            hangup: None,
        };
        fax_leg::answer(trunk.runtime.clone(), &trunk.ports, call, spec)
            .await
            .unwrap()
    });
    // Mid-call (the fax takes about 2 s at this speed), the agent is asked to stop.
    tokio::time::sleep(Duration::from_millis(700)).await;
    stop.unwrap().send(()).unwrap();
    let report = tokio::time::timeout(Duration::from_secs(20), answering)
        .await
        .expect("the trunk's call ends")
        .unwrap();
    // The trunk saw our BYE: the call ended on the agent's side, the fax did not complete.
    assert_eq!(
        report.call.end,
        faxline_sip::call::EndReason::PeerHangup,
        "{report:?}"
    );
    assert!(!report.is_success());
    // And the daemon itself finished its shutdown.
    tokio::time::timeout(Duration::from_secs(20), agent)
        .await
        .expect("the agent stops")
        .unwrap();
    // The hung-up call's result was reported before the agent stopped: the job is back in the queue for
    // the next run, with the reason, not left in progress to end as "outcome unknown".
    let job = api.job(&id).await;
    assert_eq!(job["status"], "queued", "{job}");
    assert_eq!(job["stage"], "retry scheduled", "{job}");
    let error = job["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("agent shutdown") && error.contains("hung up"),
        "{job}"
    );
    api.stop().await;
}

/// A trunk (sipp) that rings and never answers: the call is cancelled after `[sip] ring_seconds` (not the
/// 60 s default) and the job fails as "no answer". On the wire, the INVITE presents the caller id in
/// `P-Asserted-Identity` (the default when it differs from the From user), no `Remote-Party-ID`, and a
/// Call-ID of our own (not the SIP library's `…@restsend.com`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ring_timeout_and_caller_id_headers_on_the_wire() {
    let tmp = tempfile::tempdir().unwrap();
    let sipp_port = free_udp_port();
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sipp/ring_no_answer.xml");
    let mut sipp = std::process::Command::new("sipp")
        .arg("-sf")
        .arg(scenario)
        .args(["-i", "127.0.0.1", "-p", &sipp_port.to_string()])
        .args(["-m", "1", "-nostdin", "-timeout", "40s", "-timeout_error"])
        .args(["-trace_err", "-trace_msg"])
        .arg("-error_file")
        .arg(tmp.path().join("errors.log"))
        .arg("-message_file")
        .arg(tmp.path().join("messages.log"))
        .current_dir(tmp.path())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("sipp (Debian package sip-tester) must be installed");
    let mut api = Api::start(tmp.path(), "127.0.0.1:0").await;
    let mut c = Config::default();
    c.line.kind = LineKind::Sip;
    c.lines.sip.trunk_host = Some("127.0.0.1".into());
    c.lines.sip.trunk_port = sipp_port;
    let agent_port = free_udp_port();
    c.lines.sip.bind_address = LOCAL;
    c.lines.sip.bind_port = agent_port;
    c.lines.sip.from_user = Some("trunkuser".into());
    c.lines.sip.caller_id = Some(AGENT_NUMBER.into());
    c.lines.sip.ring_seconds = 5;
    c.lines.sip.udptl_port_min = 21500;
    c.lines.sip.udptl_port_max = 21549;
    c.lines.sip.rtp_port_min = 21550;
    c.lines.sip.rtp_port_max = 21599;
    c.spool.dir = tmp.path().join("spool");
    c.api_client.base_url = Some(api.base.clone());
    c.api_client.agent_id = Some("site1".into());
    c.api_client.agent_secret = Some(AgentSecret::with_source(AGENT_SECRET, SecretSource::Inline));
    c.api_client.allow_http = true;
    c.agent.lease_poll_secs = 1;
    c.retry.max_attempts = 1;
    let client = AgentClient::new(&api.base, "site1", Secret::new(AGENT_SECRET)).unwrap();
    let agent = tokio::spawn(faxline_agent::lines::run(
        Arc::new(c),
        client,
        std::future::pending(),
    ));
    let id = api.submit("+15550199").await;
    let job = api.final_job(&id).await;
    assert_eq!(job["status"], "FAILED", "{job}");
    assert!(
        job["error"]
            .as_str()
            .unwrap_or_default()
            .contains("no answer"),
        "{job}"
    );
    let status = tokio::task::spawn_blocking(move || sipp.wait().unwrap())
        .await
        .unwrap();
    let messages = std::fs::read_to_string(tmp.path().join("messages.log")).unwrap_or_default();
    assert!(
        status.success(),
        "sipp failed ({status}): the CANCEL must come after ring_seconds\n{}\n{messages}",
        std::fs::read_to_string(tmp.path().join("errors.log")).unwrap_or_default()
    );
    let invite = messages
        .split("INVITE sip:")
        .nth(1)
        .and_then(|m| m.split("-----").next())
        .expect("the INVITE in sipp's log");
    let header = |name: &str| {
        invite
            .lines()
            .find(|l| {
                l.to_ascii_lowercase()
                    .starts_with(&format!("{}:", name.to_ascii_lowercase()))
            })
            .map(str::to_owned)
    };
    assert!(
        header("From").is_some_and(|f| f.contains("sip:trunkuser@")),
        "{invite}"
    );
    assert_eq!(
        header("P-Asserted-Identity").as_deref(),
        Some(format!("P-Asserted-Identity: <sip:+15550100@127.0.0.1:{agent_port}>").as_str()),
        "{invite}"
    );
    assert_eq!(header("Remote-Party-ID"), None, "{invite}");
    let call_id = header("Call-ID").expect("a Call-ID");
    assert!(
        !call_id.contains("restsend") && call_id.len() > "Call-ID: ".len() + 16,
        "{call_id}"
    );
    agent.abort();
    api.stop().await;
}

/// A free UDP port for sipp, and sipp as the trunk's registrar on it.
fn sipp_registrar(dir: &Path) -> (std::process::Child, u16) {
    let port = free_udp_port();
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sipp/agent_register.xml");
    let child = std::process::Command::new("sipp")
        .arg("-sf")
        .arg(scenario)
        .args(["-i", "127.0.0.1", "-p", &port.to_string()])
        .args(["-m", "1", "-nostdin", "-timeout", "30s", "-timeout_error"])
        .args(["-trace_err", "-trace_msg"])
        .arg("-error_file")
        .arg(dir.join("errors.log"))
        .arg("-message_file")
        .arg(dir.join("messages.log"))
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("sipp (Debian package sip-tester) must be installed");
    (child, port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registers_with_digest_auth_and_unregisters_at_shutdown() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut sipp, port) = sipp_registrar(tmp.path());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let api = Api::start(tmp.path(), "127.0.0.1:0").await;
    let mut c = Config::default();
    c.line.kind = LineKind::Sip;
    c.lines.sip.trunk_host = Some("127.0.0.1".into());
    c.lines.sip.trunk_port = port;
    c.lines.sip.register = true;
    c.lines.sip.username = Some("faxline-trunk".into());
    c.lines.sip.password = Some(AgentSecret::with_source(
        "Tr0nk-s3cret-99",
        SecretSource::Inline,
    ));
    c.lines.sip.bind_address = LOCAL;
    c.lines.sip.bind_port = free_udp_port();
    c.lines.sip.udptl_port_min = 21400;
    c.lines.sip.udptl_port_max = 21449;
    c.lines.sip.rtp_port_min = 21450;
    c.lines.sip.rtp_port_max = 21499;
    c.spool.dir = tmp.path().join("spool");
    c.api_client.base_url = Some(api.base.clone());
    c.api_client.agent_id = Some("site1".into());
    c.api_client.agent_secret = Some(AgentSecret::with_source(AGENT_SECRET, SecretSource::Inline));
    c.api_client.allow_http = true;
    c.agent.shutdown_grace_secs = 0;
    let client = AgentClient::new(&api.base, "site1", Secret::new(AGENT_SECRET)).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let agent = tokio::spawn(faxline_agent::lines::run(Arc::new(c), client, async {
        let _ = stopped.await;
    }));
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(20), agent)
        .await
        .expect("the agent stops")
        .unwrap()
        .unwrap();
    // sipp passes only if it saw the authenticated REGISTER for 600 s and then the unregister.
    let status = tokio::task::spawn_blocking(move || sipp.wait().unwrap())
        .await
        .unwrap();
    let messages = std::fs::read_to_string(tmp.path().join("messages.log")).unwrap_or_default();
    assert!(
        status.success(),
        "sipp failed ({status}):\n{}\n{messages}",
        std::fs::read_to_string(tmp.path().join("errors.log")).unwrap_or_default()
    );
    assert_eq!(
        messages.matches("Authorization: Digest").count(),
        2,
        "{messages}"
    );
}

/// sipp running `scenario` (in `tests/sipp/`) as a UAS on `ip:port`, its logs in `dir/<name>-*.log`.
fn sipp_uas(dir: &Path, scenario: &str, ip: &str, port: u16) -> std::process::Child {
    let name = scenario.trim_end_matches(".xml");
    std::process::Command::new("sipp")
        .arg("-sf")
        .arg(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/sipp")
                .join(scenario),
        )
        .args(["-i", ip, "-p", &port.to_string()])
        .args(["-m", "1", "-nostdin", "-timeout", "30s", "-timeout_error"])
        .args(["-trace_err", "-trace_msg"])
        .arg("-error_file")
        .arg(dir.join(format!("{name}-errors.log")))
        .arg("-message_file")
        .arg(dir.join(format!("{name}-messages.log")))
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("sipp (Debian package sip-tester) must be installed")
}

/// Waits for a sipp started by [`sipp_uas`] and returns its message log; panics unless it passed.
async fn sipp_passed(dir: &Path, scenario: &str, mut child: std::process::Child) -> String {
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    let name = scenario.trim_end_matches(".xml");
    let read =
        |f: &str| std::fs::read_to_string(dir.join(format!("{name}-{f}.log"))).unwrap_or_default();
    let messages = read("messages");
    assert!(
        status.success(),
        "sipp {scenario} failed ({status}):\n{}\n{messages}",
        read("errors")
    );
    messages
}

/// A header line of the first `method` request in a sipp message log.
fn request_header(messages: &str, method: &str, name: &str) -> String {
    let msg = messages
        .split(&format!("{method} sip:"))
        .nth(1)
        .unwrap_or_else(|| panic!("no {method} in the log:\n{messages}"));
    let prefix = format!("{}:", name.to_ascii_lowercase());
    msg.lines()
        .find(|l| l.to_ascii_lowercase().starts_with(&prefix))
        .unwrap_or_else(|| panic!("no {name} in the {method}:\n{messages}"))
        .trim()
        .to_owned()
}

/// Registering with a registrar (127.0.0.2) other than the trunk (127.0.0.1), `from_domain` unset: the
/// INVITE's From carries the registrar's domain as the REGISTER's does, not our address. The trunk
/// declines (603, its Via extended with `received`): the job fails as declined and our ACK carries the
/// INVITE's top Via exactly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registering_uses_the_registrars_from_domain_and_acks_with_the_invites_via() {
    let tmp = tempfile::tempdir().unwrap();
    // One port free on both loopback addresses.
    let port = loop {
        let p = free_udp_port();
        if std::net::UdpSocket::bind(("127.0.0.2", p)).is_ok() {
            break p;
        }
    };
    let registrar = sipp_uas(tmp.path(), "registrar_200.xml", "127.0.0.2", port);
    let trunk = sipp_uas(tmp.path(), "trunk_decline.xml", "127.0.0.1", port);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut api = Api::start(tmp.path(), "127.0.0.1:0").await;
    let mut c = Config::default();
    c.line.kind = LineKind::Sip;
    c.lines.sip.trunk_host = Some("127.0.0.1".into());
    c.lines.sip.trunk_port = port;
    c.lines.sip.register = true;
    c.lines.sip.registrar = Some("127.0.0.2".into());
    c.lines.sip.username = Some("faxline-trunk".into());
    c.lines.sip.password = Some(AgentSecret::with_source(
        "Tr0nk-s3cret-99",
        SecretSource::Inline,
    ));
    c.lines.sip.from_user = Some("15550100".into());
    c.lines.sip.bind_address = LOCAL;
    c.lines.sip.bind_port = free_udp_port();
    c.lines.sip.udptl_port_min = 21600;
    c.lines.sip.udptl_port_max = 21649;
    c.lines.sip.rtp_port_min = 21650;
    c.lines.sip.rtp_port_max = 21699;
    c.spool.dir = tmp.path().join("spool");
    c.api_client.base_url = Some(api.base.clone());
    c.api_client.agent_id = Some("site1".into());
    c.api_client.agent_secret = Some(AgentSecret::with_source(AGENT_SECRET, SecretSource::Inline));
    c.api_client.allow_http = true;
    c.agent.lease_poll_secs = 1;
    c.agent.shutdown_grace_secs = 0;
    c.retry.max_attempts = 1;
    let client = AgentClient::new(&api.base, "site1", Secret::new(AGENT_SECRET)).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let agent = tokio::spawn(faxline_agent::lines::run(Arc::new(c), client, async {
        let _ = stopped.await;
    }));
    let id = api.submit("+15550199").await;
    let job = api.final_job(&id).await;
    assert_eq!(job["status"], "FAILED", "{job}");
    assert!(
        job["error"].as_str().unwrap_or_default().contains("603"),
        "{job}"
    );
    let trunk_log = sipp_passed(tmp.path(), "trunk_decline.xml", trunk).await;
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(20), agent)
        .await
        .expect("the agent stops")
        .unwrap()
        .unwrap();
    let registrar_log = sipp_passed(tmp.path(), "registrar_200.xml", registrar).await;
    let from = request_header(&trunk_log, "INVITE", "From");
    assert!(
        from.contains(&format!("<sip:15550100@127.0.0.2:{port}>")),
        "{from}"
    );
    assert!(
        request_header(&registrar_log, "REGISTER", "From").contains(&format!("@127.0.0.2:{port}>")),
        "{registrar_log}"
    );
    let via = request_header(&trunk_log, "INVITE", "Via");
    assert_eq!(request_header(&trunk_log, "ACK", "Via"), via, "{trunk_log}");
    api.stop().await;
}
