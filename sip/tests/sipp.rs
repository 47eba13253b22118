//! The SIP line against an independent SIP peer: `sipp` (Debian `sip-tester`) scenarios on real UDP
//! sockets on 127.0.0.1, ports chosen free at runtime. A scenario passes only if sipp saw exactly
//! the messages it expects (its exit code), and we check what our call control did.
//!
//! The media side is not under test here: the fax "session" is a recorder that, where a scenario
//! needs it, reports phase E a moment after T.38 started.

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use faxline_sip::call::{CallConfig, CallRole, EndReason, FaxCall, FaxMedia};
use faxline_sip::called::{CalledPolicy, CalledSource, Numbers};
use faxline_sip::driver::{CallSummary, MediaControl, run_call};
use faxline_sip::registration::{self, RegistrationEvent};
use faxline_sip::stack::{DialTarget, SipCredentials, SipEndpoint};
use tokio::sync::mpsc;

fn scenario(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sipp")
        .join(name)
}

/// A free UDP port on 127.0.0.1 with `span` free ports from it (sipp binds media at port and +2).
fn free_port(span: u16) -> u16 {
    loop {
        let s = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let p = s.local_addr().unwrap().port();
        if p > u16::MAX - span {
            continue;
        }
        let extra: Vec<_> = (1..=span)
            .map(|i| UdpSocket::bind((Ipv4Addr::LOCALHOST, p + i)))
            .collect();
        if extra.iter().all(Result::is_ok) {
            return p;
        }
    }
}

struct Sipp {
    child: Child,
    dir: tempfile::TempDir,
}

impl Sipp {
    /// sipp as UAS on a free port.
    fn uas(name: &str) -> (Self, u16) {
        let port = free_port(0);
        (Self::spawn(name, port, None, &[]), port)
    }

    /// sipp as UAC calling `target`.
    fn uac(name: &str, target: SocketAddr) -> Self {
        Self::spawn(name, free_port(0), Some(target), &[])
    }

    /// sipp as UAC calling `target`, with `[key]` values for the scenario.
    fn uac_with(name: &str, target: SocketAddr, keys: &[(&str, &str)]) -> Self {
        Self::spawn(name, free_port(0), Some(target), keys)
    }

    fn spawn(name: &str, port: u16, target: Option<SocketAddr>, keys: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = Command::new("sipp");
        if let Some(t) = target {
            cmd.arg(t.to_string()).args(["-s", "fax"]);
        }
        for (k, v) in keys {
            cmd.args(["-key", k, v]);
        }
        cmd.arg("-sf")
            .arg(scenario(name))
            .args([
                "-i",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-mp",
                &free_port(4).to_string(),
            ])
            .args([
                "-m",
                "1",
                "-nostdin",
                "-timeout",
                "20s",
                "-timeout_error",
                "-trace_err",
                "-trace_msg",
            ])
            .arg("-error_file")
            .arg(dir.path().join("errors.log"))
            .arg("-message_file")
            .arg(dir.path().join("messages.log"))
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let child = cmd
            .spawn()
            .expect("sipp (Debian package sip-tester) must be installed");
        Self { child, dir }
    }

    /// Waits for sipp and panics with its logs unless the scenario passed.
    fn assert_passed(mut self) -> String {
        let status = self.child.wait().unwrap();
        let read = |f: &str| std::fs::read_to_string(self.dir.path().join(f)).unwrap_or_default();
        let messages = read("messages.log");
        assert!(
            status.success(),
            "sipp failed ({status}):\n{}\n--- messages ---\n{messages}",
            read("errors.log")
        );
        messages
    }
}

/// Records what the call control asked of the media, and optionally ends the fax shortly after
/// T.38 started (as a fax session reaching phase E would).
struct Recorder {
    done: mpsc::UnboundedSender<bool>,
    finish_after_t38: Option<Duration>,
}

impl MediaControl for Recorder {
    fn start_fax(&mut self, media: FaxMedia) {
        if let (FaxMedia::T38 { .. }, Some(after)) = (media, self.finish_after_t38) {
            let done = self.done.clone();
            tokio::spawn(async move {
                tokio::time::sleep(after).await;
                let _ = done.send(true);
            });
        }
    }

    fn stop_fax(&mut self) {}
}

fn config(t38_wait_ms: u64) -> CallConfig {
    let mut c = CallConfig::new(Ipv4Addr::LOCALHOST.into(), 30000, 30002);
    c.t38_wait = Duration::from_millis(t38_wait_ms);
    c.ced = Duration::from_millis(200);
    c
}

async fn endpoint() -> SipEndpoint {
    let (ep, _incoming) = SipEndpoint::bind(
        (Ipv4Addr::LOCALHOST, 0).into(),
        CalledPolicy::new(Numbers::None),
    )
    .await
    .unwrap();
    ep
}

/// Places an outbound fax call to a sipp UAS running `name`.
async fn outbound(
    name: &str,
    config: CallConfig,
    finish_after_t38: Option<Duration>,
) -> (CallSummary, String) {
    outbound_with(name, config, finish_after_t38, None).await
}

async fn outbound_with(
    name: &str,
    config: CallConfig,
    finish_after_t38: Option<Duration>,
    credentials: Option<SipCredentials>,
) -> (CallSummary, String) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let (sipp, port) = Sipp::uas(name);
    // Give sipp a moment to bind before the INVITE (it retransmits anyway).
    tokio::time::sleep(Duration::from_millis(200)).await;
    let ep = endpoint().await;
    let (leg, events) = ep
        .dial(DialTarget {
            uri: format!("sip:fax@127.0.0.1:{port}"),
            from_user: "faxline".into(),
            from_domain: None,
            credentials,
            identity: None,
        })
        .unwrap();
    let (done_tx, done_rx) = mpsc::unbounded_channel();
    let mut media = Recorder {
        done: done_tx,
        finish_after_t38,
    };
    let call = FaxCall::new(CallRole::Outbound, config, 42);
    let record = match tokio::time::timeout(
        Duration::from_secs(25),
        run_call(call, leg, events, &mut media, done_rx),
    )
    .await
    {
        Ok(r) => r,
        Err(_) => {
            let mut sipp = sipp;
            // SIGTERM lets sipp flush its message log.
            let _ = Command::new("kill")
                .arg(sipp.child.id().to_string())
                .status();
            let _ = sipp.child.wait();
            let log =
                std::fs::read_to_string(sipp.dir.path().join("messages.log")).unwrap_or_default();
            panic!("call did not end; sipp saw:\n{log}");
        }
    };
    let messages = tokio::task::spawn_blocking(move || sipp.assert_passed())
        .await
        .unwrap();
    ep.shutdown();
    (record, messages)
}

#[tokio::test]
async fn far_end_t38_reinvite_accepted_then_bye_mid_fax() {
    let (record, _) = outbound("peer_reinvite_t38.xml", config(10_000), None).await;
    assert_eq!(record.end, EndReason::PeerHangup);
    // Audio (CNG) from the answer, then T.38 on the peer's re-INVITE.
    let [FaxMedia::Audio { .. }, FaxMedia::T38 { remote, params, .. }] = record.media.as_slice()
    else {
        panic!("{record:?}")
    };
    assert_eq!(remote.ip(), Ipv4Addr::LOCALHOST);
    assert_eq!(params.far_max_datagram, 400);
    assert_eq!(record.stops, 1, "the BYE mid-fax stops the session");
}

/// Asterisk re-INVITEs back to audio when its fax session has ended: answered 200 with audio (sipp
/// checks the answer's audio stream), the T.38 session is not stopped by it.
#[tokio::test]
async fn far_end_back_to_audio_after_t38_gets_200_with_audio() {
    let (record, _) = outbound("peer_back_to_audio.xml", config(10_000), None).await;
    assert_eq!(record.end, EndReason::PeerHangup);
    assert!(
        matches!(
            record.media.as_slice(),
            [FaxMedia::Audio { .. }, FaxMedia::T38 { .. }]
        ),
        "{record:?}"
    );
    assert_eq!(record.stops, 1, "only the far end's BYE stops the session");
}

#[tokio::test]
async fn our_t38_reinvite_tolerates_1xx_and_ends_with_bye() {
    let (record, messages) = outbound(
        "our_reinvite_t38.xml",
        config(300),
        Some(Duration::from_millis(300)),
    )
    .await;
    assert_eq!(record.end, EndReason::Completed { success: true });
    assert!(
        matches!(
            record.media.as_slice(),
            [FaxMedia::Audio { .. }, FaxMedia::T38 { .. }]
        ),
        "{record:?}"
    );
    // Our re-INVITE carries only the image stream.
    let reinvite = messages
        .split("INVITE sip:")
        .nth(2)
        .expect("our re-INVITE in sipp's log");
    let reinvite = reinvite.split("-----").next().unwrap();
    assert!(
        reinvite.contains("m=image") && !reinvite.contains("m=audio"),
        "{reinvite}"
    );
}

#[tokio::test]
async fn t38_refused_with_488_falls_back_to_audio_and_call_survives() {
    let (record, _) = outbound("reject_t38_488.xml", config(300), None).await;
    assert_eq!(
        record.end,
        EndReason::PeerHangup,
        "the call stayed up until the peer hung up"
    );
    assert!(
        matches!(
            record.media.as_slice(),
            [FaxMedia::Audio { payload: 8, .. }]
        ),
        "{record:?}"
    );
}

#[tokio::test]
async fn image_port_zero_is_refused_cleanly() {
    let (record, _) = outbound("zero_port_image.xml", config(10_000), None).await;
    assert_eq!(record.end, EndReason::PeerHangup);
    // Only the audio fax (CNG, then the fallback) ever ran: no T.38 session on a zero port.
    assert!(
        matches!(record.media.as_slice(), [FaxMedia::Audio { .. }]),
        "{record:?}"
    );
}

#[tokio::test]
async fn session_refresh_during_t38_keeps_the_fax_running() {
    let (record, _) = outbound("session_refresh_t38.xml", config(10_000), None).await;
    assert_eq!(record.end, EndReason::PeerHangup);
    assert!(
        matches!(
            record.media.as_slice(),
            [FaxMedia::Audio { .. }, FaxMedia::T38 { .. }]
        ),
        "the refresh must not restart the fax: {record:?}"
    );
    assert_eq!(record.stops, 1);
}

#[tokio::test]
async fn inbound_audio_and_image_offer_then_our_receiver_reinvite() {
    let (ep, mut incoming) = SipEndpoint::bind(
        (Ipv4Addr::LOCALHOST, 0).into(),
        CalledPolicy::new(Numbers::Listed(vec!["fax".into()])),
    )
    .await
    .unwrap();
    let sipp = Sipp::uac("inbound_audio_and_image.xml", ep.local_addr());
    let call = tokio::time::timeout(Duration::from_secs(10), incoming.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(call.called, "fax");
    let (done_tx, done_rx) = mpsc::unbounded_channel();
    let mut media = Recorder {
        done: done_tx,
        finish_after_t38: None,
    };
    let fax = FaxCall::new(CallRole::Inbound, config(0), 7);
    let record = tokio::time::timeout(
        Duration::from_secs(25),
        run_call(fax, call.leg, call.events, &mut media, done_rx),
    )
    .await
    .unwrap();
    tokio::task::spawn_blocking(move || sipp.assert_passed())
        .await
        .unwrap();
    assert_eq!(record.end, EndReason::PeerHangup);
    // Audio (CED) from the answer, then T.38 after our re-INVITE.
    assert!(
        matches!(
            record.media.as_slice(),
            [FaxMedia::Audio { payload: 0, .. }, FaxMedia::T38 { .. }]
        ),
        "{record:?}"
    );
    ep.shutdown();
}

#[tokio::test]
async fn digest_auth_challenge_is_answered() {
    let creds = SipCredentials {
        username: "fax".into(),
        password: "s3cret-Passw0rd".into(),
    };
    let (record, messages) =
        outbound_with("auth_challenge.xml", config(10_000), None, Some(creds)).await;
    assert_eq!(record.end, EndReason::PeerHangup, "{record:?}");
    assert!(
        messages.contains("Authorization: Digest"),
        "the retry carries credentials"
    );
}

#[tokio::test]
async fn trunk_registration_handles_423_and_401_refreshes_and_unregisters() {
    let (sipp, port) = Sipp::uas("register_auth.xml");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let ep = endpoint().await;
    let trunk = ep
        .trunk_registration(
            &format!("sip:127.0.0.1:{port}"),
            Some(SipCredentials {
                username: "faxline-trunk".into(),
                password: "Tr0nk-s3cret-99".into(),
            }),
        )
        .unwrap();
    let (ev_tx, mut ev_rx) = mpsc::unbounded_channel();
    let handle = registration::start(trunk, 2, ev_tx);
    // We ask for 2 s, the registrar wants at least 3 (423) and grants 3: the first binding,
    // then a refresh before it lapses.
    let mut registered = Vec::new();
    while registered.len() < 2 {
        let ev = tokio::time::timeout(Duration::from_secs(10), ev_rx.recv())
            .await
            .expect("registration events")
            .expect("client running");
        match ev {
            RegistrationEvent::Registered { granted } => registered.push((granted, Instant::now())),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((registered[0].0, registered[1].0), (3, 3));
    let gap = registered[1].1 - registered[0].1;
    assert!(
        gap < Duration::from_secs(3),
        "refreshed before expiry: {gap:?}"
    );
    // Shutdown unregisters (Expires: 0, challenged again) before the endpoint closes.
    tokio::time::timeout(Duration::from_secs(10), handle.stop())
        .await
        .expect("unregister finishes");
    assert_eq!(ev_rx.recv().await, Some(RegistrationEvent::Unregistered));
    ep.shutdown();
    let messages = tokio::task::spawn_blocking(move || sipp.assert_passed())
        .await
        .unwrap();
    assert_eq!(
        messages.matches("Authorization: Digest").count(),
        3,
        "{messages}"
    );
}

#[tokio::test]
async fn external_address_goes_into_via_and_contact() {
    let (sipp, port) = Sipp::uas("external_contact.xml");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let bound = free_port(0);
    let (ep, _incoming) = SipEndpoint::bind_with_external(
        (Ipv4Addr::LOCALHOST, bound).into(),
        Some(SocketAddr::from(([203, 0, 113, 10], bound))),
        CalledPolicy::new(Numbers::None),
    )
    .await
    .unwrap();
    let (leg, events) = ep
        .dial(DialTarget {
            uri: format!("sip:fax@127.0.0.1:{port}"),
            from_user: "faxline".into(),
            from_domain: None,
            credentials: None,
            identity: None,
        })
        .unwrap();
    let (done_tx, done_rx) = mpsc::unbounded_channel();
    let mut media = Recorder {
        done: done_tx,
        finish_after_t38: None,
    };
    let record = tokio::time::timeout(
        Duration::from_secs(20),
        run_call(
            FaxCall::new(CallRole::Outbound, config(300), 5),
            leg,
            events,
            &mut media,
            done_rx,
        ),
    )
    .await
    .expect("the 486 arrives (sipp answers to where the INVITE came from)");
    assert_eq!(record.end, EndReason::Rejected(486));
    ep.shutdown();
    tokio::task::spawn_blocking(move || sipp.assert_passed())
        .await
        .unwrap();
}

/// The log lines written while `f` runs on this thread (the stack's tasks run on the test's
/// current-thread runtime, so they log into it too).
#[derive(Clone, Default)]
struct LogCapture(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for LogCapture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogCapture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// One INVITE addressed as `keys` say (see `called_number.xml`): the called number and where it was
/// found if the endpoint offered us the call (answered 480 here), `None` if the stack answered 404.
async fn offer(
    ep: &SipEndpoint,
    incoming: &mut mpsc::UnboundedReceiver<faxline_sip::stack::IncomingCall>,
    keys: &[(&str, &str)],
) -> Option<(String, CalledSource)> {
    let sipp = Sipp::uac_with("called_number.xml", ep.local_addr(), keys);
    let mut done = tokio::task::spawn_blocking(move || sipp.assert_passed());
    // sipp ends after its ACK: either we were offered the call first, or the stack answered 404.
    let (offered, messages) = tokio::select! {
        call = incoming.recv() => {
            let call = call.unwrap();
            call.leg.send(faxline_sip::call::SipCommand::Reject { code: 480 });
            (Some((call.called.clone(), call.called_from)), done.await.unwrap())
        }
        messages = &mut done => (None, messages.unwrap()),
    };
    let status = if offered.is_some() { "480" } else { "404" };
    assert!(
        messages.contains(&format!("SIP/2.0 {status} ")),
        "expected {status} for {keys:?}:\n{messages}"
    );
    offered
}

/// Each place carriers put the called number, on the wire: a trunk's Request-URI, a registrar's `To`
/// (the Request-URI holds the registered contact `fxreg`), `P-Called-Party-ID`, and, only when
/// configured, `Diversion` and `History-Info`. A number we do not serve is answered 404 and logged
/// with the number masked.
#[tokio::test]
async fn the_called_number_is_found_where_carriers_put_it() {
    let capture = LogCapture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        // As the binary logs: the SIP library's raw messages (full numbers) only from WARN.
        .with_env_filter(tracing_subscriber::EnvFilter::new("info,rsipstack=warn"))
        .with_ansi(false)
        .finish();
    let _log = tracing::subscriber::set_default(subscriber);
    let ours = "+15550200";
    let other = "+15550999";
    let form = |ruri, to, pcpi, diversion, history| {
        [
            ("ruri", ruri),
            ("to", to),
            ("pcpi", pcpi),
            ("diversion", diversion),
            ("history", history),
        ]
    };
    let (ep, mut incoming) = SipEndpoint::bind(
        (Ipv4Addr::LOCALHOST, 0).into(),
        CalledPolicy::new(Numbers::Listed(vec![ours.into()])),
    )
    .await
    .unwrap();
    assert_eq!(
        offer(&ep, &mut incoming, &form(ours, other, other, other, other)).await,
        Some((ours.into(), CalledSource::RequestUri))
    );
    assert_eq!(
        offer(
            &ep,
            &mut incoming,
            &form("fxreg", ours, other, other, other)
        )
        .await,
        Some((ours.into(), CalledSource::To))
    );
    assert_eq!(
        offer(
            &ep,
            &mut incoming,
            &form("fxreg", "fxreg", ours, other, other)
        )
        .await,
        Some((ours.into(), CalledSource::PCalledPartyId))
    );
    // The forwarding headers are not consulted by default.
    assert_eq!(
        offer(
            &ep,
            &mut incoming,
            &form("fxreg", other, "fxreg", ours, ours)
        )
        .await,
        None
    );
    ep.shutdown();
    let log = capture.text();
    let refused = log
        .lines()
        .find(|l| l.contains("inbound call refused: not one of our numbers"))
        .unwrap_or_else(|| panic!("the 404 is logged:\n{log}"));
    // The best guess at the called number (the To user), masked, and where it was found.
    assert!(
        refused.contains("to=…0999")
            && refused.contains("source=to")
            && refused.contains("status=404"),
        "{refused}"
    );
    assert!(
        !log.contains("15550999") && !log.contains("15550200"),
        "{log}"
    );

    let (ep, mut incoming) = SipEndpoint::bind(
        (Ipv4Addr::LOCALHOST, 0).into(),
        CalledPolicy {
            numbers: Numbers::Listed(vec![ours.into()]),
            sources: vec![
                CalledSource::RequestUri,
                CalledSource::To,
                CalledSource::Diversion,
                CalledSource::HistoryInfo,
            ],
        },
    )
    .await
    .unwrap();
    assert_eq!(
        offer(
            &ep,
            &mut incoming,
            &form("fxreg", other, "fxreg", ours, other)
        )
        .await,
        Some((ours.into(), CalledSource::Diversion))
    );
    assert_eq!(
        offer(
            &ep,
            &mut incoming,
            &form("fxreg", other, "fxreg", other, ours)
        )
        .await,
        Some((ours.into(), CalledSource::HistoryInfo))
    );
    ep.shutdown();
}

/// The top Via of the first `method` request in sipp's message log.
fn request_via(messages: &str, method: &str) -> String {
    let msg = messages
        .split(&format!("{method} sip:"))
        .nth(1)
        .unwrap_or_else(|| panic!("no {method} in the log:\n{messages}"));
    msg.lines()
        .find(|l| l.to_ascii_lowercase().starts_with("via:"))
        .unwrap_or_else(|| panic!("no Via in the {method}:\n{messages}"))
        .trim()
        .to_owned()
}

/// A 486 whose Via the trunk extended with `received`: our ACK carries the INVITE's top Via as it was
/// sent, not the response's (RFC 3261 §17.1.1.3), asserted on the bytes sipp received.
#[tokio::test]
async fn the_ack_for_a_failure_carries_the_invites_via() {
    let (record, messages) = outbound("failure_ack_via.xml", config(10_000), None).await;
    assert_eq!(record.end, EndReason::Rejected(486), "{messages}");
    let invite = request_via(&messages, "INVITE");
    assert!(!invite.contains("received"), "{invite}");
    assert_eq!(request_via(&messages, "ACK"), invite, "{messages}");
}

/// Through a record-routing proxy that challenges with 407 both the initial INVITE and our re-INVITE
/// to T.38: each retry carries valid Proxy-Authorization (sipp verifies the digest), the re-INVITE
/// follows the Record-Route, and the fax runs on T.38.
#[tokio::test]
async fn proxy_407_on_the_invite_and_on_our_reinvite() {
    let creds = SipCredentials {
        username: "fax".into(),
        password: "s3cret-Passw0rd".into(),
    };
    let (record, messages) = outbound_with(
        "proxy_auth_407.xml",
        config(300),
        Some(Duration::from_millis(300)),
        Some(creds),
    )
    .await;
    assert_eq!(
        record.end,
        EndReason::Completed { success: true },
        "{record:?}\n{messages}"
    );
    assert!(
        matches!(
            record.media.as_slice(),
            [FaxMedia::Audio { .. }, FaxMedia::T38 { .. }]
        ),
        "{record:?}"
    );
    // Both INVITEs were retried with credentials (the 2xx ACKs repeat them too, RFC 3261 §13.2.2.4).
    let authorized_invites = messages
        .split("UDP message received")
        .filter(|m| m.contains("\nINVITE sip:") && m.contains("Proxy-Authorization: Digest"))
        .count();
    assert_eq!(authorized_invites, 2, "{messages}");
}

/// A request whose Via sent-by host is the packet's source address (only the port differs, 5060
/// being implied) gets no `received` in our response's Via (RFC 3261 §18.2.1).
#[tokio::test]
async fn no_received_when_only_the_port_differs() {
    let (ep, _incoming) = SipEndpoint::bind(
        (Ipv4Addr::LOCALHOST, 0).into(),
        CalledPolicy::new(Numbers::None),
    )
    .await
    .unwrap();
    let keys = [
        ("ruri", "+15550200"),
        ("to", "+15550200"),
        ("pcpi", "x"),
        ("diversion", "x"),
        ("history", "x"),
    ];
    let sipp = Sipp::uac_with("via_without_port.xml", ep.local_addr(), &keys);
    let messages = tokio::task::spawn_blocking(move || sipp.assert_passed())
        .await
        .unwrap();
    ep.shutdown();
    let response = messages
        .split("SIP/2.0 404")
        .nth(1)
        .unwrap_or_else(|| panic!("no 404:\n{messages}"));
    let via = response
        .lines()
        .find(|l| l.starts_with("Via:"))
        .expect("the 404's Via");
    assert!(
        via.starts_with("Via: SIP/2.0/UDP 127.0.0.1;branch=") && !via.contains("received"),
        "{via}"
    );
    assert!(via.contains(";rport="), "sipp asked for rport: {via}");
}

/// The top Via of our 404 to an INVITE whose Via sent-by host is not the packet's source.
async fn via_of_404_for_sent_by(via_rport: &str) -> String {
    let (ep, _incoming) = SipEndpoint::bind(
        (Ipv4Addr::LOCALHOST, 0).into(),
        CalledPolicy::new(Numbers::None),
    )
    .await
    .unwrap();
    let keys = [
        ("ruri", "+15550200"),
        ("to", "+15550200"),
        ("pcpi", "x"),
        ("diversion", "x"),
        ("history", "x"),
        ("sent_by", "192.0.2.1"),
        ("via_rport", via_rport),
    ];
    let sipp = Sipp::uac_with("via_sent_by.xml", ep.local_addr(), &keys);
    let messages = tokio::task::spawn_blocking(move || sipp.assert_passed())
        .await
        .unwrap();
    ep.shutdown();
    let response = messages
        .split("SIP/2.0 404")
        .nth(1)
        .unwrap_or_else(|| panic!("no 404:\n{messages}"));
    response
        .lines()
        .find(|l| l.starts_with("Via:"))
        .expect("the 404's Via")
        .to_owned()
}

/// A request from another host than its Via names gets `received` (RFC 3261 §18.2.1), and `rport`
/// only when it asked for it (RFC 3581 §4): without it the response goes to the sent-by port.
#[tokio::test]
async fn rport_only_when_the_request_asked_for_it() {
    let not_asked = via_of_404_for_sent_by(";x-faxline-test=1").await;
    assert!(
        not_asked.starts_with("Via: SIP/2.0/UDP 192.0.2.1:")
            && not_asked.contains(";received=127.0.0.1")
            && !not_asked.contains("rport"),
        "{not_asked}"
    );
    let asked = via_of_404_for_sent_by(";rport").await;
    assert!(
        asked.contains(";received=127.0.0.1") && asked.contains(";rport="),
        "{asked}"
    );
}
