//! The client against the scripted AMI server (real TCP on 127.0.0.1): login variants, actions and replies,
//! events, disconnects, floods, garbage. Backoff timing is checked on tokio's paused clock, never on wall time.

use std::time::Duration;

use faxline_ami::backoff::Backoff;
use faxline_ami::event::{EventKind, OriginateReason};
use faxline_ami::testing::{self, Credentials, ServerConn, TestServer};
use faxline_ami::{
    Action, ActionError, AuthMethod, Client, Config, ConnectionState, Error, Limits, Originate,
    RecvError,
};

const USER: &str = "agent";
const SECRET: &str = "s3cret-for-tests";

fn config(server: &TestServer) -> Config {
    let mut c = Config::new(server.addr().to_string(), USER, SECRET);
    c.reconnect = Backoff {
        initial: Duration::from_millis(10),
        max: Duration::from_millis(100),
        multiplier: 2,
        jitter: 0.5,
    };
    c
}

fn creds() -> Credentials {
    Credentials::new(USER, SECRET)
}

/// Connects a client while the server side logs it in.
async fn connected(server: &TestServer, cfg: Config) -> (Client, ServerConn) {
    let creds = creds();
    let (client, conn) = tokio::join!(Client::connect(cfg), server.accept_logged_in(&creds));
    (
        client.expect("client logs in"),
        conn.expect("server accepts login"),
    )
}

#[tokio::test]
async fn login_md5_by_default_with_call_user_event_mask() {
    let server = TestServer::bind().await.unwrap();
    let script = async {
        let mut conn = server.accept().await.unwrap();
        conn.send_banner().await.unwrap();
        conn.login(&creds()).await.unwrap()
    };
    let (client, outcome) = tokio::join!(Client::connect(config(&server)), script);
    let client = client.unwrap();
    assert!(outcome.accepted);
    assert!(outcome.md5, "MD5 challenge login is the default");
    assert_eq!(outcome.events.as_deref(), Some("call,user"));
    let state = client.state().borrow().clone();
    assert!(
        matches!(state, ConnectionState::Connected { generation: 1, ref banner } if banner == testing::ASTERISK_20_BANNER),
        "{state:?}"
    );
}

#[tokio::test]
async fn login_plain() {
    let server = TestServer::bind().await.unwrap();
    let mut cfg = config(&server);
    cfg.auth = AuthMethod::Plain;
    cfg.events = "call".into();
    let script = async {
        let mut conn = server.accept().await.unwrap();
        conn.send_banner().await.unwrap();
        conn.login(&creds()).await.unwrap()
    };
    let (client, outcome) = tokio::join!(Client::connect(cfg), script);
    client.unwrap();
    assert!(outcome.accepted && !outcome.md5);
    assert_eq!(outcome.events.as_deref(), Some("call"));
}

#[tokio::test]
async fn wrong_banner_is_rejected() {
    let server = TestServer::bind().await.unwrap();
    let script = async {
        let mut conn = server.accept().await.unwrap();
        conn.send_raw(b"SSH-2.0-OpenSSH_9.2\r\n\r\n").await.unwrap();
        conn
    };
    let (client, _conn) = tokio::join!(Client::connect(config(&server)), script);
    assert!(matches!(client, Err(Error::NotAmi { .. })), "{client:?}");
}

#[tokio::test]
async fn auth_failure_is_a_distinct_error() {
    let server = TestServer::bind().await.unwrap();
    let mut cfg = config(&server);
    cfg.secret = "wrong".into();
    let script = async {
        let mut conn = server.accept().await.unwrap();
        conn.send_banner().await.unwrap();
        conn.login(&creds()).await.unwrap()
    };
    let (client, outcome) = tokio::join!(Client::connect(cfg), script);
    assert!(!outcome.accepted);
    match client {
        Err(Error::AuthenticationFailed { message }) => {
            assert_eq!(message, "Authentication failed")
        }
        other => panic!("expected AuthenticationFailed, got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn auth_failure_waits_the_long_backoff_before_retrying() {
    let server = TestServer::bind().await.unwrap();
    let mut cfg = config(&server);
    cfg.secret = "wrong".into();
    cfg.auth_retry = Duration::from_secs(60);
    let client = Client::spawn(cfg);
    let mut state = client.state();

    let mut conn = server.accept().await.unwrap();
    conn.send_banner().await.unwrap();
    assert!(!conn.login(&creds()).await.unwrap().accepted);
    let s = state
        .wait_for(|s| matches!(s, ConnectionState::AuthFailed { .. }))
        .await
        .unwrap()
        .clone();
    assert_eq!(
        s,
        ConnectionState::AuthFailed {
            retry_in: Duration::from_secs(60),
            message: "Authentication failed".into()
        }
    );
    // No new connection attempt for (almost) a minute of virtual time: the client does not hammer Asterisk.
    let early = tokio::time::timeout(Duration::from_secs(59), server.accept()).await;
    assert!(early.is_err(), "client reconnected before the auth backoff");
    // Then exactly one retry.
    let mut conn = tokio::time::timeout(Duration::from_secs(600), server.accept())
        .await
        .expect("client retries after the backoff")
        .unwrap();
    conn.send_banner().await.unwrap();
    assert!(!conn.login(&creds()).await.unwrap().accepted);
}

#[tokio::test(start_paused = true)]
async fn keepalive_ping_detects_a_silent_peer_and_reconnects() {
    let server = TestServer::bind().await.unwrap();
    let mut cfg = config(&server);
    cfg.ping_interval = Some(Duration::from_secs(30));
    cfg.action_timeout = Duration::from_secs(10);
    let (client, mut conn) = connected(&server, cfg).await;
    let mut state = client.state();
    conn.set_auto_pong(false);
    let ping = conn.expect_action("Ping").await.unwrap();
    assert!(ping.action_id().is_some());
    // Never answered: after the action timeout the supervisor drops the session and reconnects.
    let s = state
        .wait_for(|s| matches!(s, ConnectionState::Reconnecting { .. }))
        .await
        .unwrap()
        .clone();
    assert!(
        matches!(s, ConnectionState::Reconnecting { ref error, .. } if error.contains("Ping")),
        "{s:?}"
    );
    let _conn2 = server.accept_logged_in(&creds()).await.unwrap();
    state
        .wait_for(|s| matches!(s, ConnectionState::Connected { generation: 2, .. }))
        .await
        .unwrap();
}

#[tokio::test]
async fn originate_reply_and_originate_response_event() {
    let server = TestServer::bind().await.unwrap();
    let (client, mut conn) = connected(&server, config(&server)).await;
    let mut events = client.subscribe();

    let bad = Originate::to_application("PJSIP/5551234@trunk", "SendFAX", "/spool/a.tif")
        .variable("FAXFILE", "/spool/a,b.tif");
    assert!(matches!(
        client.originate(&bad).await,
        Err(Error::InvalidAction(
            ActionError::CommaInVariableValue { .. }
        ))
    ));

    let orig = Originate::to_application("PJSIP/5551234@trunk", "SendFAX", "/spool/job-42.tif")
        .channel_id("job-42")
        .caller_id("\"Faxline\" <5550100>")
        .timeout(Duration::from_secs(45))
        .variable("FAXJOBID", "job-42")
        .variable("FAXOPT(ecm)", "yes");
    let script = async {
        // The invalid originate never reached the wire: the first action seen is the valid one.
        let a = conn.expect_action("Originate").await.unwrap();
        assert_eq!(a.get("Async"), Some("true"));
        assert_eq!(a.get("ChannelId"), Some("job-42"));
        assert_eq!(a.get("Timeout"), Some("45000"));
        assert_eq!(
            a.get_all("Variable").collect::<Vec<_>>(),
            ["FAXJOBID=job-42", "FAXOPT(ecm)=yes"]
        );
        // An unrelated event between the reply and the OriginateResponse.
        conn.send_event(
            "Newchannel",
            &[("Channel", "PJSIP/trunk-00000001"), ("Uniqueid", "job-42")],
        )
        .await
        .unwrap();
        conn.answer_originate(&a, Some(4)).await.unwrap();
        a.action_id().unwrap().to_owned()
    };
    let (queued, sent_id) = tokio::join!(client.originate(&orig), script);
    let queued = queued.unwrap();
    assert_eq!(queued.action_id, sent_id);
    assert_eq!(queued.channel_id.as_deref(), Some("job-42"));

    let mut seen = Vec::new();
    loop {
        let e = events.recv().await.unwrap();
        seen.push(e.name().to_owned());
        if let EventKind::OriginateResponse(o) = e.kind() {
            assert!(o.success);
            assert_eq!(o.reason, OriginateReason::Answered);
            assert_eq!(o.action_id.as_deref(), Some(sent_id.as_str()));
            assert_eq!(o.uniqueid.as_deref(), Some("job-42"));
            break;
        }
    }
    assert!(seen.contains(&"Newchannel".to_owned()), "{seen:?}");

    // A failing originate reply is a typed error.
    let script = async {
        let a = conn.expect_action("Originate").await.unwrap();
        conn.respond(&a, "Error", "Originate failed").await.unwrap();
    };
    let (r, ()) = tokio::join!(client.originate(&orig), script);
    assert!(
        matches!(r, Err(Error::ActionFailed { ref message, .. }) if message == "Originate failed"),
        "{r:?}"
    );
}

#[tokio::test]
async fn getvar_hangup_fax_sessions_and_fax_stats() {
    let server = TestServer::bind().await.unwrap();
    let (client, mut conn) = connected(&server, config(&server)).await;

    let script = async {
        let a = conn.expect_action("Getvar").await.unwrap();
        assert_eq!(a.get("Variable"), Some("FAXOPT(status)"));
        conn.reply(
            &a,
            &[
                ("Response", "Success"),
                ("Variable", "FAXOPT(status)"),
                ("Value", "SUCCESS"),
            ],
        )
        .await
        .unwrap();
    };
    let (v, ()) = tokio::join!(
        client.getvar("PJSIP/trunk-00000001", "FAXOPT(status)"),
        script
    );
    assert_eq!(v.unwrap().as_deref(), Some("SUCCESS"));

    let script = async {
        let a = conn.expect_action("Hangup").await.unwrap();
        assert_eq!(a.get("Cause"), Some("16"));
        conn.respond(&a, "Success", "Channel Hungup").await.unwrap();
    };
    let (h, ()) = tokio::join!(client.hangup("PJSIP/trunk-00000001", Some(16)), script);
    h.unwrap();

    let script = async {
        let a = conn.expect_action("FAXSessions").await.unwrap();
        let id = a.action_id().unwrap().to_owned();
        conn.reply(
            &a,
            &[
                ("Response", "Success"),
                ("EventList", "start"),
                ("Message", "FAXSessionsEntry event list will follow"),
            ],
        )
        .await
        .unwrap();
        for (n, chan) in [("1", "PJSIP/a-1"), ("2", "PJSIP/b-2")] {
            conn.send_event(
                "FAXSessionsEntry",
                &[
                    ("ActionID", &id),
                    ("Channel", chan),
                    ("Technology", "Spandsp"),
                    ("SessionNumber", n),
                    ("SessionType", "T.38"),
                    ("Operation", "send"),
                    ("State", "Active"),
                    ("Files", "/spool/x.tif"),
                ],
            )
            .await
            .unwrap();
            // Unrelated events interleave with list items.
            conn.send_event("Newchannel", &[("Channel", "PJSIP/z"), ("Uniqueid", "9")])
                .await
                .unwrap();
        }
        conn.send_event(
            "FAXSessionsComplete",
            &[
                ("ActionID", &id),
                ("EventList", "Complete"),
                ("ListItems", "2"),
                ("Total", "2"),
            ],
        )
        .await
        .unwrap();
    };
    let (sessions, ()) = tokio::join!(client.fax_sessions(), script);
    let sessions = sessions.unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions[1].channel, "PJSIP/b-2");
    assert_eq!(sessions[0].session_type, "T.38");

    let script = async {
        let a = conn.expect_action("FAXStats").await.unwrap();
        let id = a.action_id().unwrap().to_owned();
        conn.respond(&a, "Success", "FAXStats event will follow")
            .await
            .unwrap();
        conn.send_event(
            "FAXStats",
            &[
                ("ActionID", &id),
                ("CurrentSessions", "1"),
                ("ReservedSessions", "0"),
                ("TransmitAttempts", "7"),
                ("ReceiveAttempts", "3"),
                ("CompletedFAXes", "8"),
                ("FailedFAXes", "1"),
            ],
        )
        .await
        .unwrap();
    };
    let (stats, ()) = tokio::join!(client.fax_stats(), script);
    let stats = stats.unwrap();
    assert_eq!(
        (stats.transmit_attempts, stats.completed, stats.failed),
        (7, 8, 1)
    );

    // An unknown action gets Asterisk's error as a typed failure.
    let script = async {
        let a = conn.expect_action("Bogus").await.unwrap();
        conn.respond(&a, "Error", "Invalid/unknown command: Bogus.")
            .await
            .unwrap();
    };
    let (r, ()) = tokio::join!(client.send(Action::new("Bogus")), script);
    assert!(matches!(r, Err(Error::ActionFailed { .. })), "{r:?}");
}

#[tokio::test]
async fn disconnect_mid_message_fails_pending_and_reconnects() {
    let server = TestServer::bind().await.unwrap();
    let (client, mut conn) = connected(&server, config(&server)).await;
    let mut state = client.state();
    let mut events = client.subscribe();

    let script = async {
        let _getvar = conn.expect_action("Getvar").await.unwrap();
        conn.send_raw(b"Event: Hangup\r\nPrivilege: call,all\r\nChannel: PJSIP/x\r\nUniqu")
            .await
            .unwrap();
        conn.close().await.unwrap();
    };
    let (r, ()) = tokio::join!(client.getvar("PJSIP/x", "FAXSTATUS"), script);
    assert!(matches!(r, Err(Error::Disconnected)), "{r:?}");

    let mut conn2 = server.accept_logged_in(&creds()).await.unwrap();
    state
        .wait_for(|s| matches!(s, ConnectionState::Connected { generation: 2, .. }))
        .await
        .unwrap();
    conn2
        .send_event(
            "Hangup",
            &[("Channel", "PJSIP/y"), ("Uniqueid", "u-2"), ("Cause", "16")],
        )
        .await
        .unwrap();
    // The half-sent Hangup was never published; the next Hangup is the complete one from the new connection.
    loop {
        let e = events.recv().await.unwrap();
        if let EventKind::Hangup(h) = e.kind() {
            assert_eq!(h.channel.uniqueid, "u-2");
            assert_eq!(h.cause, Some(16));
            break;
        }
        assert_eq!(e.name(), "FullyBooted", "unexpected {e:?}");
    }
    let (p, pong) = tokio::join!(client.ping(), conn2.answer_ping());
    p.unwrap();
    pong.unwrap();
}

#[tokio::test]
async fn flood_of_100k_events_with_a_slow_consumer_lags_but_stays_connected() {
    const N: usize = 100_000;
    let server = TestServer::bind().await.unwrap();
    let mut cfg = config(&server);
    cfg.event_capacity = 1024;
    let (client, mut conn) = connected(&server, cfg).await;
    let mut events = client.subscribe();
    let state = client.state();

    let flood = testing::flood(
        "Newstate",
        &[
            ("Channel", "PJSIP/trunk-00000001"),
            ("ChannelStateDesc", "Up"),
            ("Uniqueid", "1795349058.3"),
        ],
        N,
    );
    // Generous compared with Asterisk's 100 ms, so a loaded CI machine does not fail the test; the point is that
    // the writes complete while the consumer is slow.
    conn.set_write_timeout(Some(Duration::from_secs(30)));
    let server_side = async {
        conn.send_raw(&flood).await.unwrap();
        conn.send_event("FloodEnd", &[]).await.unwrap();
        conn
    };
    let consumer = async {
        let (mut received, mut skipped, mut last_seq) = (0u64, 0u64, None::<u64>);
        loop {
            match events.recv().await {
                Ok(e) if e.name() == "FloodEnd" => break,
                Ok(e) => {
                    if let Some(seq) = e.message().get("Seq").and_then(|s| s.parse::<u64>().ok()) {
                        assert!(last_seq.is_none_or(|l| seq > l), "order kept");
                        last_seq = Some(seq);
                        received += 1;
                    }
                    if received % 64 == 0 {
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                }
                Err(RecvError::Lagged(n)) => skipped += n,
                Err(RecvError::Closed) => panic!("closed"),
            }
        }
        (received, skipped)
    };
    let (mut conn, (received, skipped)) = tokio::join!(server_side, consumer);
    assert!(skipped > 0, "a slow consumer must see a lag report");
    assert!(received > 0);
    assert!(
        received + skipped >= N as u64,
        "received {received} + skipped {skipped}"
    );
    assert!(
        matches!(
            *state.borrow(),
            ConnectionState::Connected { generation: 1, .. }
        ),
        "the connection was never dropped"
    );
    let (p, pong) = tokio::join!(client.ping(), conn.answer_ping());
    p.unwrap();
    pong.unwrap();
}

#[tokio::test]
async fn garbage_and_oversize_lines_are_skipped_without_dropping_the_connection() {
    let server = TestServer::bind().await.unwrap();
    let mut cfg = config(&server);
    cfg.limits = Limits {
        max_line: 1024,
        ..Limits::default()
    };
    let (client, mut conn) = connected(&server, cfg).await;
    let mut events = client.subscribe();
    let long = format!("Event: Huge\r\nData: {}\r\n\r\n", "x".repeat(100_000));
    conn.send_raw(b"this is not AMI\r\nneither: is this? it has a colon\r\n\r\n")
        .await
        .unwrap();
    conn.send_raw(long.as_bytes()).await.unwrap();
    conn.send_raw(b"\x00\x01\x02\xff\xfe\r\n\r\n")
        .await
        .unwrap();
    conn.send_raw(b"\r\n\r\n\n\n").await.unwrap();
    conn.send_event(
        "UserEvent",
        &[("UserEvent", "FaxResult"), ("Status", "SUCCESS")],
    )
    .await
    .unwrap();
    let e = loop {
        let e = events.recv().await.unwrap();
        if e.name() != "FullyBooted" {
            break e;
        }
    };
    assert!(
        matches!(e.kind(), EventKind::UserEvent(u) if u.get("status") == Some("SUCCESS")),
        "{e:?}"
    );
    let (p, pong) = tokio::join!(client.ping(), conn.answer_ping());
    p.unwrap();
    pong.unwrap();
    assert!(client.state().borrow().is_connected());
}

#[tokio::test]
async fn logoff_is_clean_and_final() {
    let server = TestServer::bind().await.unwrap();
    let (client, mut conn) = connected(&server, config(&server)).await;
    let script = async {
        let a = conn.expect_action("Logoff").await.unwrap();
        conn.respond(&a, "Goodbye", "Thanks for all the fish.")
            .await
            .unwrap();
        conn.close().await.unwrap();
    };
    let (r, ()) = tokio::join!(client.logoff(), script);
    r.unwrap();
    assert_eq!(*client.state().borrow(), ConnectionState::Closed);
    assert!(matches!(
        client.ping().await,
        Err(Error::Closed | Error::NotConnected)
    ));
}

#[tokio::test]
async fn secret_never_appears_in_debug_output() {
    let server = TestServer::bind().await.unwrap();
    let cfg = config(&server);
    assert!(!format!("{cfg:?}").contains(SECRET));
    let (client, _conn) = connected(&server, cfg).await;
    assert!(!format!("{client:?}").contains(SECRET));
}
