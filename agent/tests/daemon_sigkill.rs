//! The real `faxline agent` process, SIGKILLed during a job and restarted: configured by a TOML file and
//! environment variables like in production, talking to a scripted Asterisk (faxline-ami's TestServer on
//! 127.0.0.1) and the real API (in-process, SQLite in a temp dir). A job killed during its call ends as
//! "outcome unknown" without a second call; a job killed while waiting to retry (busy) is redialled once,
//! as the retry policy says.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use faxline_ami::Message;
use faxline_ami::testing::{Credentials, ServerConn, TestServer};

use common::{AGENT_SECRET, Api};

// Random-looking test values (never used anywhere real); the agent refuses weak ones.
const AMI_SECRET: &str = "3f9c2a7e5b18d046c1e7a92f";

/// The agent's configuration file (secrets come from the environment, as in production).
fn write_config(dir: &Path, spool: &Path, ami_port: u16, api_base: &str) -> PathBuf {
    let path = dir.join("faxline.toml");
    let toml = format!(
        r#"[agent]
log_level = "info"
lease_poll_secs = 1
shutdown_grace_secs = 0

[line]
kind = "asterisk"

[ami]
host = "127.0.0.1"
port = {ami_port}
username = "faxline"
ping_interval_secs = 300
reconnect_max_secs = 1

[asterisk]
result_grace_secs = 1
ami_lost_timeout_secs = 5

[sip]
# Only written into the generated pjsip.conf; never contacted.
trunk_host = "192.0.2.10"

[spool]
dir = "{spool}"

[retry]
max_attempts = 2
backoff_initial_secs = 8

[api_client]
base_url = "{api_base}"
allow_http = true
agent_id = "site1"
"#,
        spool = spool.display()
    );
    std::fs::write(&path, toml).unwrap();
    path
}

/// Starts `faxline agent --config FILE`; killed (SIGKILL) when dropped.
struct Agent(Child);

impl Agent {
    fn start(config: &Path) -> Agent {
        let child = Command::new(env!("CARGO_BIN_EXE_faxline"))
            .arg("agent")
            .arg("--config")
            .arg(config)
            .env("FAXLINE_AMI__SECRET", AMI_SECRET)
            .env("FAXLINE_API_CLIENT__AGENT_SECRET", AGENT_SECRET)
            .env_remove("FAXLINE_CONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("the faxline binary starts");
        Agent(child)
    }

    /// SIGKILL (std's `Child::kill` on Unix): no shutdown path runs.
    fn sigkill(mut self) {
        self.0.kill().unwrap();
        let status = self.0.wait().unwrap();
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(9), "{status:?}");
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn asterisk(ami: &TestServer) -> ServerConn {
    tokio::time::timeout(
        Duration::from_secs(30),
        ami.accept_logged_in(&Credentials::new("faxline", AMI_SECRET)),
    )
    .await
    .expect("the agent logs in")
    .unwrap()
}

/// The next Originate and its ChannelId (the job token).
async fn expect_originate(conn: &mut ServerConn) -> (Message, String) {
    let o = tokio::time::timeout(Duration::from_secs(30), conn.expect_action("Originate"))
        .await
        .expect("an Originate in time")
        .unwrap();
    let token = o.get("ChannelId").expect("ChannelId").to_owned();
    (o, token)
}

/// No further action arrives (the agent does not dial again).
async fn no_more_calls(conn: &mut ServerConn) {
    match tokio::time::timeout(Duration::from_millis(2000), conn.next_action()).await {
        Err(_) | Ok(Ok(None)) | Ok(Err(_)) => {}
        Ok(Ok(Some(m))) => panic!("unexpected action: {m:?}"),
    }
}

/// The generated dialplan's FaxResult for a send, then the hangups of both Local halves.
async fn finish_call(conn: &mut ServerConn, token: &str, fields: &[(&str, &str)], cause: &str) {
    let uid2 = format!("{token}-2");
    let snapshot = |ch: &'static str, uid: String| -> Vec<(String, String)> {
        vec![
            ("Channel".into(), ch.into()),
            ("ChannelState".into(), "6".into()),
            ("ChannelStateDesc".into(), "Up".into()),
            ("Context".into(), "faxline-result".into()),
            ("Exten".into(), "send".into()),
            ("Priority".into(), "1".into()),
            ("Uniqueid".into(), uid),
            ("Linkedid".into(), token.into()),
        ]
    };
    let mut h = snapshot("Local/send@faxline-out-00000001;2", uid2.clone());
    for (k, v) in [
        ("UserEvent", "FaxResult"),
        ("Encoding", "uri"),
        ("Direction", "send"),
        ("JobID", token),
    ]
    .iter()
    .chain(fields)
    {
        h.push(((*k).into(), (*v).into()));
    }
    let pairs: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    conn.send_event("UserEvent", &pairs).await.unwrap();
    for (ch, uid) in [
        ("Local/send@faxline-out-00000001;1", token.to_owned()),
        ("Local/send@faxline-out-00000001;2", uid2.clone()),
    ] {
        let mut h = snapshot(ch, uid);
        h.push(("Cause".into(), cause.into()));
        let pairs: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        conn.send_event("Hangup", &pairs).await.unwrap();
    }
}

async fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < Duration::from_secs(20), "{what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkilled_agent_process_never_places_a_second_call_unless_the_retry_policy_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let spool = tmp.path().join("spool");
    let api = Api::start(tmp.path(), "127.0.0.1:0").await;
    let ami = TestServer::bind().await.unwrap();
    let config = write_config(tmp.path(), &spool, ami.addr().port(), &api.base);

    // 1. Killed during the call: the journal says a call may be running; the next agent reports
    //    "outcome unknown" instead of dialling again.
    let agent = Agent::start(&config);
    let mut conn = asterisk(&ami).await;
    let a = api.submit("+15551234567").await;
    let (o, token) = expect_originate(&mut conn).await;
    assert!(token.starts_with(&a) && token.ends_with("_1"), "{token}");
    conn.answer_originate(&o, Some(4)).await.unwrap();
    let journal_a = spool.join(format!("state/calls/{a}.json"));
    wait_for("the call is journalled", || journal_a.is_file()).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    agent.sigkill();
    assert!(
        std::fs::read_to_string(&journal_a)
            .unwrap()
            .contains("in_flight")
    );
    let agent = Agent::start(&config);
    let mut conn = asterisk(&ami).await;
    let job = api.final_job(&a).await;
    assert_eq!(job["status"], "FAILED", "{job}");
    let error = job["error"].as_str().unwrap();
    assert!(
        error.contains("agent stopped during call attempt 1"),
        "{error}"
    );
    no_more_calls(&mut conn).await;
    assert!(!journal_a.exists());

    // 2. Busy, then killed while waiting to retry: the retry policy (2 attempts, busy retried) allows exactly
    //    one more call, which the restarted agent places once the backoff is over.
    let b = api.submit("+15551234567").await;
    let (o, token1) = expect_originate(&mut conn).await;
    conn.answer_originate(&o, Some(4)).await.unwrap();
    finish_call(
        &mut conn,
        &token1,
        &[
            ("Status", "FAILED"),
            ("DialStatus", "BUSY"),
            ("HangupCause", "17"),
            ("Pages", ""),
        ],
        "17",
    )
    .await;
    let journal_b = spool.join(format!("state/calls/{b}.json"));
    wait_for("the busy attempt is journalled", || {
        std::fs::read_to_string(&journal_b).is_ok_and(|j| j.contains("\"ended\""))
    })
    .await;
    let journalled = Instant::now();
    agent.sigkill();
    let _agent = Agent::start(&config);
    let mut conn = asterisk(&ami).await;
    let (o, token2) = expect_originate(&mut conn).await;
    assert_eq!(token2, format!("{b}_2"));
    // The restarted agent waited out the rest of the 8 s backoff.
    assert!(
        journalled.elapsed() >= Duration::from_millis(7500),
        "redialled after {:?}",
        journalled.elapsed()
    );
    conn.answer_originate(&o, Some(4)).await.unwrap();
    finish_call(
        &mut conn,
        &token2,
        &[
            ("Status", "SUCCESS"),
            ("DialStatus", "ANSWER"),
            ("HangupCause", "16"),
            ("Mode", "T38"),
            ("Pages", "1"),
            ("Bitrate", "9600"),
        ],
        "16",
    )
    .await;
    let job = api.final_job(&b).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    assert_eq!(job["provider_sid"], token2.as_str());
    assert_eq!(job["bitrate"], 9600);
    no_more_calls(&mut conn).await;
    assert!(!journal_b.exists());
}
