//! The agent daemon against the real API (in-process, SQLite in a temp dir, real HTTP on 127.0.0.1) and a
//! scripted Asterisk (faxline-ami's TestServer on 127.0.0.1) that answers like the Asterisk 20 transcripts in
//! fixtures/captures: Originate queued, OriginateResponse, the generated dialplan's URI-encoded FaxResult
//! UserEvent, Hangup events, and a Status list after a reconnect.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use faxline_agent::config::{Config, Secret as AgentSecret, SecretSource};
use faxline_agent::lines::LineKind;
use faxline_ami::Message;
use faxline_ami::testing::{Credentials, ServerConn, TestServer};
use faxline_protocol::client::AgentClient;

use common::{AGENT_SECRET, Api, fixtures, wait_inbound};
use faxline_protocol::Secret;

const AMI_SECRET: &str = "ami-secret-0123456789-abcdef";

fn agent_config(spool: &Path, ami_port: u16, api_base: &str, max_attempts: u32) -> Config {
    let mut c = Config::default();
    c.line.kind = LineKind::Asterisk;
    c.lines.ami.host = "127.0.0.1".into();
    c.lines.ami.port = ami_port;
    c.lines.ami.username = "faxline".into();
    c.lines.ami.secret = Some(AgentSecret::with_source(AMI_SECRET, SecretSource::Inline));
    c.lines.ami.ping_interval_secs = 0;
    c.lines.ami.reconnect_max_secs = 1;
    c.spool.dir = spool.to_path_buf();
    c.api_client.base_url = Some(api_base.to_owned());
    c.api_client.agent_id = Some("site1".into());
    c.api_client.agent_secret = Some(AgentSecret::with_source(AGENT_SECRET, SecretSource::Inline));
    c.api_client.allow_http = true;
    c.agent.lease_poll_secs = 1;
    c.agent.shutdown_grace_secs = 0;
    c.lines.asterisk.result_grace_secs = 1;
    c.lines.asterisk.ami_lost_timeout_secs = 5;
    c.retry.max_attempts = max_attempts;
    c.retry.backoff_initial_secs = 0;
    c
}

/// A running daemon; dropping the handle's task without shutdown simulates SIGKILL.
fn start_agent(cfg: Config) -> tokio::task::JoinHandle<()> {
    let cfg = Arc::new(cfg);
    let api = AgentClient::new(
        cfg.api_client.base_url.as_deref().unwrap(),
        "site1",
        Secret::new(AGENT_SECRET),
    )
    .unwrap();
    tokio::spawn(async move {
        faxline_agent::lines::run(cfg, api, std::future::pending())
            .await
            .expect("daemon runs");
    })
}

struct World {
    _tmp: tempfile::TempDir,
    spool: PathBuf,
    api: Api,
    ami: TestServer,
    agent: tokio::task::JoinHandle<()>,
    max_attempts: u32,
}

impl World {
    async fn new(max_attempts: u32) -> World {
        let tmp = tempfile::tempdir().unwrap();
        let spool = tmp.path().join("spool");
        let api = Api::start(tmp.path(), "127.0.0.1:0").await;
        let ami = TestServer::bind().await.unwrap();
        let agent = start_agent(agent_config(
            &spool,
            ami.addr().port(),
            &api.base,
            max_attempts,
        ));
        World {
            spool,
            api,
            ami,
            agent,
            max_attempts,
            _tmp: tmp,
        }
    }

    async fn asterisk(&self) -> ServerConn {
        self.ami
            .accept_logged_in(&Credentials::new("faxline", AMI_SECRET))
            .await
            .unwrap()
    }

    fn restart_agent(&mut self) {
        self.agent.abort();
        self.agent = start_agent(agent_config(
            &self.spool,
            self.ami.addr().port(),
            &self.api.base,
            self.max_attempts,
        ));
    }
}

/// The next Originate; checks what the dialplan needs and returns its ChannelId (the job token).
async fn expect_originate(conn: &mut ServerConn) -> (Message, String) {
    let o = tokio::time::timeout(Duration::from_secs(30), conn.expect_action("Originate"))
        .await
        .expect("an Originate in time")
        .unwrap();
    assert_eq!(o.get("Async"), Some("true"));
    assert_eq!(o.get("Channel"), Some("Local/send@faxline-out/n"));
    let token = o.get("ChannelId").expect("ChannelId").to_owned();
    let vars: Vec<&str> = o.get_all("Variable").collect();
    assert!(
        vars.contains(&format!("FAXLINE_JOB={token}").as_str()),
        "{vars:?}"
    );
    assert!(vars.contains(&"FAXLINE_DEST=+15551234567"), "{vars:?}");
    (o, token)
}

fn snapshot<'a>(channel: &'a str, uniqueid: &'a str, linkedid: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("Channel", channel),
        ("ChannelState", "6"),
        ("ChannelStateDesc", "Up"),
        ("CallerIDNum", "15550100"),
        ("CallerIDName", "Faxline"),
        ("ConnectedLineNum", "<unknown>"),
        ("ConnectedLineName", "<unknown>"),
        ("Language", "en"),
        ("AccountCode", ""),
        ("Context", "faxline-result"),
        ("Exten", "send"),
        ("Priority", "1"),
        ("Uniqueid", uniqueid),
        ("Linkedid", linkedid),
    ]
}

/// The FaxResult the generated dialplan raises for a send (values URI-encoded).
async fn send_result(conn: &mut ServerConn, token: &str, fields: &[(&str, &str)]) {
    let ch2 = "Local/send@faxline-out-00000001;2";
    let uid2 = format!("{token}-2");
    let mut h = snapshot(ch2, &uid2, token);
    h.extend_from_slice(&[
        ("UserEvent", "FaxResult"),
        ("Encoding", "uri"),
        ("Direction", "send"),
        ("JobID", token),
    ]);
    h.extend_from_slice(fields);
    conn.send_event("UserEvent", &h).await.unwrap();
}

async fn hangups(conn: &mut ServerConn, token: &str, cause: &str, text: &str) {
    let uid2 = format!("{token}-2");
    for (ch, uid) in [
        ("Local/send@faxline-out-00000001;1", token),
        ("Local/send@faxline-out-00000001;2", uid2.as_str()),
    ] {
        let mut h = snapshot(ch, uid, token);
        h.push(("Cause", cause));
        h.push(("Cause-txt", text));
        conn.send_event("Hangup", &h).await.unwrap();
    }
}

const SUCCESS: &[(&str, &str)] = &[
    ("File", "%2Fvar%2Fspool%2Ffaxline%2Fout%2Fx.tif"),
    ("Status", "SUCCESS"),
    ("Error", "HANGUP"),
    ("StatusString", "OK"),
    ("PreError", ""),
    ("DialStatus", "ANSWER"),
    ("HangupCause", "16"),
    ("Mode", "T38"),
    ("Pages", "1"),
    ("Bitrate", "14400"),
    ("Resolution", "8031x7700"),
    ("LocalStationID", "%2B1%20555%200100"),
    ("RemoteStationID", "%2B1%20555%200199"),
];

fn dial_failure(dial: &'static str, cause: &'static str) -> Vec<(&'static str, &'static str)> {
    vec![
        ("File", "%2Fvar%2Fspool%2Ffaxline%2Fout%2Fx.tif"),
        ("Status", "FAILED"),
        ("Error", ""),
        ("StatusString", ""),
        ("PreError", ""),
        ("DialStatus", dial),
        ("HangupCause", cause),
        ("Mode", ""),
        ("Pages", ""),
    ]
}

/// No further Originate arrives (the agent does not redial).
async fn no_more_calls(conn: &mut ServerConn) {
    match tokio::time::timeout(Duration::from_millis(1500), conn.next_action()).await {
        Err(_) => {}
        Ok(Ok(None)) | Ok(Err(_)) => {}
        Ok(Ok(Some(m))) => panic!("unexpected action after the job ended: {m:?}"),
    }
}

fn journal_is_empty(spool: &Path) -> bool {
    std::fs::read_dir(spool.join("state/calls"))
        .map(|d| d.count() == 0)
        .unwrap_or(true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_success_is_reported_once_and_the_spool_is_cleaned() {
    let w = World::new(3).await;
    let mut conn = w.asterisk().await;
    let id = w.api.submit("+15551234567").await;
    let (o, token) = expect_originate(&mut conn).await;
    assert!(token.starts_with(&id) && token.ends_with("_1"), "{token}");
    // The TIFF is in the spool, where the dialplan looks for <token>.tif.
    assert!(w.spool.join(format!("out/{token}.tif")).is_file());
    conn.answer_originate(&o, Some(4)).await.unwrap();
    // SendFAX's progress (FAXStatus, as Asterisk 20 raises it) reaches the API while the call runs.
    for stage in ["T.38 Negotiated", "Allocating Resources"] {
        let mut h = snapshot("PJSIP/faxline-trunk-00000003", "1795349058.4", &token);
        h.extend_from_slice(&[
            ("Operation", "send"),
            ("Status", stage),
            ("LocalStationID", "+1 555 0100"),
            ("FileName", "/var/spool/faxline/out/x.tif"),
        ]);
        conn.send_event("FAXStatus", &h).await.unwrap();
    }
    let start = Instant::now();
    loop {
        let j = w.api.job(&id).await;
        assert_eq!(j["status"], "in_progress", "{j}");
        // Both phases came within a second: the throttle may report the first, then the latest.
        if j["stage"] == "Allocating Resources" {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no progress: {j}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    send_result(&mut conn, &token, SUCCESS).await;
    // A duplicate, and a contradicting late copy: both ignored.
    send_result(&mut conn, &token, SUCCESS).await;
    send_result(&mut conn, &token, &dial_failure("BUSY", "17")).await;
    hangups(&mut conn, &token, "16", "Normal Clearing").await;
    let job = w.api.final_job(&id).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    assert_eq!(job["pages"], 1);
    assert_eq!(job["provider_sid"], token.as_str());
    // The delivery details of the result event reach the API and its job object.
    assert_eq!(job["bitrate"], 14400, "{job}");
    assert_eq!(job["mode"], "T38", "{job}");
    assert_eq!(job["remote_ident"], "+1 555 0199", "{job}");
    no_more_calls(&mut conn).await;
    assert_eq!(w.api.job(&id).await["status"], "SUCCESS");
    assert!(journal_is_empty(&w.spool));
    assert!(!w.spool.join(format!("out/{id}.tif")).exists());
    assert!(!w.spool.join(format!("out/{token}.tif")).exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dial_failures_from_the_result_event_end_the_job_explained() {
    let w = World::new(1).await;
    let mut conn = w.asterisk().await;
    for (dial, cause, expect) in [("BUSY", "17", "busy"), ("NOANSWER", "19", "no answer")] {
        let id = w.api.submit("+15551234567").await;
        let (o, token) = expect_originate(&mut conn).await;
        conn.answer_originate(&o, Some(4)).await.unwrap();
        send_result(&mut conn, &token, &dial_failure(dial, cause)).await;
        hangups(&mut conn, &token, cause, "").await;
        let job = w.api.final_job(&id).await;
        assert_eq!(job["status"], "FAILED", "{job}");
        let error = job["error"].as_str().unwrap();
        assert!(error.starts_with(expect), "{error}");
        assert!(error.contains("attempt 1 of 1"), "{error}");
    }
    no_more_calls(&mut conn).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dial_failures_from_originate_response_codes() {
    let w = World::new(1).await;
    let mut conn = w.asterisk().await;
    for (reason, expect) in [
        (8u8, "congestion"),
        (0, "channel unavailable"),
        (5, "busy"),
        (3, "no answer"),
    ] {
        let id = w.api.submit("+15551234567").await;
        let (o, _token) = expect_originate(&mut conn).await;
        conn.answer_originate(&o, Some(reason)).await.unwrap();
        let job = w.api.final_job(&id).await;
        assert_eq!(job["status"], "FAILED", "{job}");
        assert!(job["error"].as_str().unwrap().starts_with(expect), "{job}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_is_retried_by_policy_with_one_call_at_a_time() {
    let w = World::new(2).await;
    let mut conn = w.asterisk().await;
    let id = w.api.submit("+15551234567").await;
    let (o, token1) = expect_originate(&mut conn).await;
    conn.answer_originate(&o, Some(4)).await.unwrap();
    send_result(&mut conn, &token1, &dial_failure("BUSY", "17")).await;
    hangups(&mut conn, &token1, "17", "User busy").await;
    let (o, token2) = expect_originate(&mut conn).await;
    assert!(
        token1.ends_with("_1") && token2.ends_with("_2"),
        "{token1} {token2}"
    );
    conn.answer_originate(&o, Some(4)).await.unwrap();
    send_result(&mut conn, &token2, SUCCESS).await;
    let job = w.api.final_job(&id).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    assert_eq!(job["provider_sid"], token2.as_str());
    no_more_calls(&mut conn).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_result_event_fails_with_no_fax_result() {
    let w = World::new(3).await;
    let mut conn = w.asterisk().await;
    let id = w.api.submit("+15551234567").await;
    let (o, token) = expect_originate(&mut conn).await;
    conn.answer_originate(&o, Some(4)).await.unwrap();
    hangups(&mut conn, &token, "16", "Normal Clearing").await;
    let job = w.api.final_job(&id).await;
    assert_eq!(job["status"], "FAILED", "{job}");
    let error = job["error"].as_str().unwrap();
    assert!(error.starts_with("no fax result"), "{error}");
    // Never retried: pages may have gone through.
    no_more_calls(&mut conn).await;
    assert!(journal_is_empty(&w.spool));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ami_disconnect_during_a_call_ends_in_unknown_without_redial() {
    let w = World::new(3).await;
    let mut conn = w.asterisk().await;
    let id = w.api.submit("+15551234567").await;
    let (o, _token) = expect_originate(&mut conn).await;
    conn.answer_originate(&o, Some(4)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    conn.close().await.unwrap();
    // Asterisk comes back; the call is gone (Status lists no channel of it).
    let mut conn = w.asterisk().await;
    let status = tokio::time::timeout(Duration::from_secs(10), conn.expect_action("Status"))
        .await
        .expect("a channel check after reconnecting")
        .unwrap();
    let aid = status.action_id().unwrap().to_owned();
    conn.send(&Message::from_pairs([
        ("Response", "Success"),
        ("ActionID", aid.as_str()),
        ("EventList", "start"),
        ("Message", "Channel status will follow"),
    ]))
    .await
    .unwrap();
    conn.send(&Message::from_pairs([
        ("Event", "StatusComplete"),
        ("ActionID", aid.as_str()),
        ("EventList", "Complete"),
        ("ListItems", "0"),
        ("Items", "0"),
    ]))
    .await
    .unwrap();
    let job = w.api.final_job(&id).await;
    assert_eq!(job["status"], "FAILED", "{job}");
    let error = job["error"].as_str().unwrap();
    assert!(error.starts_with("outcome unknown"), "{error}");
    assert!(error.contains("not redialled"), "{error}");
    no_more_calls(&mut conn).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_killed_during_a_call_is_reconciled_without_a_second_call() {
    let mut w = World::new(3).await;
    let mut conn = w.asterisk().await;
    let id = w.api.submit("+15551234567").await;
    let (o, _token) = expect_originate(&mut conn).await;
    conn.answer_originate(&o, Some(4)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    // SIGKILL: no shutdown path runs. The journal says a call may be running.
    let journal = w.spool.join(format!("state/calls/{id}.json"));
    assert!(journal.is_file());
    w.restart_agent();
    let mut conn2 = w.asterisk().await;
    // The API re-offers the job when the lease expires; the new agent reports instead of dialling.
    let job = w.api.final_job(&id).await;
    assert_eq!(job["status"], "FAILED", "{job}");
    let error = job["error"].as_str().unwrap();
    assert!(
        error.contains("agent stopped during call attempt 1"),
        "{error}"
    );
    no_more_calls(&mut conn2).await;
    assert!(!journal.exists());
}

/// Answers a `Status` action with one channel per Uniqueid (none: no call is running).
async fn answer_status(conn: &mut ServerConn, status: &Message, uniqueids: &[&str]) {
    let aid = status.action_id().unwrap().to_owned();
    conn.send(&Message::from_pairs([
        ("Response", "Success"),
        ("ActionID", aid.as_str()),
        ("EventList", "start"),
        ("Message", "Channel status will follow"),
    ]))
    .await
    .unwrap();
    for uid in uniqueids {
        let mut h = snapshot("PJSIP/faxline-trunk-00000009", uid, uid);
        h.push(("ActionID", aid.as_str()));
        conn.send_event("Status", &h).await.unwrap();
    }
    let n = uniqueids.len().to_string();
    conn.send(&Message::from_pairs([
        ("Event", "StatusComplete"),
        ("ActionID", aid.as_str()),
        ("EventList", "Complete"),
        ("ListItems", n.as_str()),
        ("Items", n.as_str()),
    ]))
    .await
    .unwrap();
}

/// Writes a received TIFF into the incoming spool, last written `age` ago.
fn spool_tiff(spool: &Path, name: &str, age: Duration) -> PathBuf {
    let file = spool.join("in").join(name);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, received_tiff()).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&file)
        .unwrap()
        .set_modified(std::time::SystemTime::now() - age)
        .unwrap();
    file
}

fn received_tiff() -> Vec<u8> {
    std::fs::read(fixtures().join("captures/t38_fax_to_agent_received_by_fake_agent.tif")).unwrap()
}

async fn receive_event(conn: &mut ServerConn, spool: &Path, call: &str) -> PathBuf {
    let file = spool.join(format!("in/20261122T120542Z-{call}.tif"));
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, received_tiff()).unwrap();
    let encoded: String = file
        .display()
        .to_string()
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let mut h = snapshot(
        "PJSIP/faxline-trunk-00000002",
        "1795349142.7",
        "1795349142.7",
    );
    h.extend_from_slice(&[
        ("UserEvent", "FaxResult"),
        ("Encoding", "uri"),
        ("Direction", "receive"),
        ("JobID", call),
        ("DID", "%2B15550100"),
        ("CallerID", "%2B15557654321"),
        ("File", encoded.as_str()),
        ("Status", "SUCCESS"),
        ("Error", ""),
        ("StatusString", "OK"),
        ("HangupCause", "16"),
        ("Mode", "T38"),
        ("Pages", "2"),
        ("Bitrate", "14400"),
    ]);
    conn.send_event("UserEvent", &h).await.unwrap();
    file
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbound_fax_is_decoded_uploaded_and_cleaned() {
    let w = World::new(3).await;
    let mut conn = w.asterisk().await;
    let file = receive_event(&mut conn, &w.spool, "in_1795349142_7").await;
    let list = wait_inbound(&w.api, 1).await;
    assert_eq!(list.len(), 1);
    let fax = &list[0];
    assert_eq!(fax["pages"], 2, "{fax}");
    // Delivered: the TIFF and the queue entry are gone.
    let start = Instant::now();
    while file.exists() && start.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!file.exists());
    assert_eq!(
        std::fs::read_dir(w.spool.join("queue"))
            .unwrap()
            .filter(|e| e.as_ref().unwrap().path().is_file())
            .count(),
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbound_waits_for_the_api_across_an_agent_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let spool = tmp.path().join("spool");
    // The API's address is known, but it is down.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let base = format!("http://127.0.0.1:{port}");
    let ami = TestServer::bind().await.unwrap();
    let agent = start_agent(agent_config(&spool, ami.addr().port(), &base, 3));
    let mut conn = ami
        .accept_logged_in(&Credentials::new("faxline", AMI_SECRET))
        .await
        .unwrap();
    let file = receive_event(&mut conn, &spool, "in_42").await;
    // Queued durably while the upload fails.
    let entry = spool.join("queue/in_42.json");
    let start = Instant::now();
    while !entry.is_file() {
        assert!(start.elapsed() < Duration::from_secs(10), "never queued");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    // The agent dies and comes back; the API is still down.
    agent.abort();
    let _ = agent.await;
    assert!(entry.is_file() && file.is_file());
    let agent = start_agent(agent_config(&spool, ami.addr().port(), &base, 3));
    let _conn2 = ami
        .accept_logged_in(&Credentials::new("faxline", AMI_SECRET))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    // The API comes up: the fax is delivered exactly once.
    let mut api = Api::start(tmp.path(), &format!("127.0.0.1:{port}")).await;
    let list = wait_inbound(&api, 1).await;
    assert_eq!(list.len(), 1);
    // The entry goes first, then the TIFF (a crash in between leaves only a harmless file).
    let start = Instant::now();
    while (entry.exists() || file.exists()) && start.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!entry.exists() && !file.exists());
    agent.abort();
    api.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn received_faxes_whose_result_event_was_missed_are_found_in_the_spool() {
    let tmp = tempfile::tempdir().unwrap();
    let spool = tmp.path().join("spool");
    let api = Api::start(tmp.path(), "127.0.0.1:0").await;
    // Received while the agent was down: complete, its channel gone.
    let done = spool_tiff(
        &spool,
        "20261122T110000Z-in_1795349142_7.tif",
        Duration::from_secs(120),
    );
    // Still being received: idle for a while (a slow page), but its channel is live.
    let busy = spool_tiff(
        &spool,
        "20261122T120542Z-in_1795349150_9.tif",
        Duration::from_secs(120),
    );
    // Just written.
    let fresh = spool_tiff(
        &spool,
        "20261122T120700Z-in_1795349160_3.tif",
        Duration::ZERO,
    );
    let ami = TestServer::bind().await.unwrap();
    let agent = start_agent(agent_config(&spool, ami.addr().port(), &api.base, 3));
    let mut conn = ami
        .accept_logged_in(&Credentials::new("faxline", AMI_SECRET))
        .await
        .unwrap();
    // After logging in the agent asks which calls are live, and takes only the finished one.
    let status = tokio::time::timeout(Duration::from_secs(10), conn.expect_action("Status"))
        .await
        .expect("a channel check for the spool scan")
        .unwrap();
    answer_status(&mut conn, &status, &["1795349150.9"]).await;
    let list = wait_inbound(&api, 1).await;
    assert_eq!(list.len(), 1);
    assert_eq!(
        list[0]["pages"], 2,
        "pages counted from the TIFF: {}",
        list[0]
    );
    assert_eq!(
        list[0]["received_at"], "2026-11-22T11:00:00.000000",
        "time from the file name: {}",
        list[0]
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(api.inbound().await.len(), 1);
    assert!(!done.exists(), "delivered and cleaned");
    assert!(busy.is_file() && fresh.is_file());
    // The live call ends and its result event arrives: delivered with its metadata.
    receive_event(&mut conn, &spool, "in_1795349150_9").await;
    let list = wait_inbound(&api, 2).await;
    assert!(list.iter().any(|f| f["fr"] == "+15557654321"), "{list:?}");
    // A late (duplicate) result event for the fax found in the spool does not upload it again.
    let late = receive_event(&mut conn, &spool, "in_1795349142_7").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(api.inbound().await.len(), 2);
    assert!(
        std::fs::read_dir(spool.join("queue/failed"))
            .unwrap()
            .next()
            .is_none(),
        "nothing set aside"
    );
    assert!(late.is_file(), "an already delivered fax is left alone");
    assert!(fresh.is_file());
    agent.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journal_record_of_a_job_cancelled_while_the_agent_was_away_is_forgotten() {
    let mut w = World::new(3).await;
    let mut conn = w.asterisk().await;
    let id = w.api.submit("+15551234567").await;
    let (o, token) = expect_originate(&mut conn).await;
    conn.answer_originate(&o, Some(4)).await.unwrap();
    let journal = w.spool.join(format!("state/calls/{id}.json"));
    assert!(journal.is_file());
    // The agent dies during the call; its lease expires, the job goes back to the queue and is cancelled
    // there before any agent leases it again.
    w.agent.abort();
    let start = Instant::now();
    loop {
        let r = common::Client::http()
            .post(format!("{}/fax/{id}/cancel", w.api.base))
            .header("X-API-Key", common::ADMIN_KEY)
            .send()
            .await
            .unwrap();
        if r.status().is_success() {
            break;
        }
        assert_eq!(r.status(), 409);
        assert!(start.elapsed() < Duration::from_secs(20), "never requeued");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(journal.is_file() && w.spool.join(format!("out/{token}.tif")).is_file());
    // The restarted agent asks the API about its journal, forgets the record and its spool files, and
    // never dials the cancelled job.
    w.restart_agent();
    let mut conn2 = w.asterisk().await;
    let start = Instant::now();
    while journal.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "journal record left behind"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!w.spool.join(format!("out/{token}.tif")).exists());
    assert!(!w.spool.join(format!("out/{id}.tif")).exists());
    assert_eq!(w.api.job(&id).await["status"], "cancelled");
    no_more_calls(&mut conn2).await;
}
