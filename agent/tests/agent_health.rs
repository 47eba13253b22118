//! The real `faxline agent` on the Asterisk line next to a scripted Asterisk on 127.0.0.1: a refused AMI login,
//! and a trunk whose registration fails or which stops answering qualify. The API's `/health/ready` says which
//! agent and why, and the agent's own `[agent] metrics_listen` endpoint shows the same.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use faxline_ami::Message;
use faxline_ami::testing::{Credentials, TestServer};

use common::{AGENT_SECRET, Api};

const AMI_SECRET: &str = "3f9c2a7e5b18d046c1e7a92f";
/// What the agent is configured with: not what Asterisk expects.
const WRONG_AMI_SECRET: &str = "9b04e7d1c6a25f38e0d7b4a1";

struct Agent(Child);

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The agent's configuration with `sip_extra` appended to `[sip]`.
fn write_config_with(
    dir: &Path,
    ami_port: u16,
    api_base: &str,
    metrics: &str,
    sip_extra: &str,
) -> std::path::PathBuf {
    let path = dir.join("faxline.toml");
    std::fs::write(
        &path,
        format!(
            r#"[agent]
lease_poll_secs = 1
shutdown_grace_secs = 0
metrics_listen = "{metrics}"

[line]
kind = "asterisk"

[ami]
host = "127.0.0.1"
port = {ami_port}
username = "faxline"

[sip]
trunk_host = "192.0.2.10"
{sip_extra}

[spool]
dir = "{spool}"

[api_client]
base_url = "{api_base}"
allow_http = true
agent_id = "site1"
"#,
            spool = dir.join("spool").display()
        ),
    )
    .unwrap();
    path
}

async fn get(url: &str) -> (u16, String) {
    let r = reqwest::get(url).await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

/// One site: the API, a scripted Asterisk's AMI port, and the real `faxline agent` (its `[sip]` with
/// `sip_extra`, `env` added to its environment) with its metrics endpoint; the AMI connection the agent opened,
/// banner sent, ready for the login.
struct Site {
    api: Api,
    metrics: String,
    conn: faxline_ami::testing::ServerConn,
    _agent: Agent,
    _ami: TestServer,
    _tmp: tempfile::TempDir,
}

async fn site(sip_extra: &str, env: &[(&str, &str)]) -> Site {
    let tmp = tempfile::tempdir().unwrap();
    let api = Api::start(tmp.path(), "127.0.0.1:0").await;
    let ami = TestServer::bind().await.unwrap();
    let metrics_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let metrics = format!("127.0.0.1:{metrics_port}");
    let config = write_config_with(
        tmp.path(),
        ami.addr().port(),
        &api.base,
        &metrics,
        sip_extra,
    );
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_faxline"));
    cmd.arg("agent")
        .arg("--config")
        .arg(&config)
        .env("FAXLINE_API_CLIENT__AGENT_SECRET", AGENT_SECRET)
        .env_remove("FAXLINE_CONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let agent = Agent(cmd.spawn().unwrap());
    let mut conn = tokio::time::timeout(Duration::from_secs(30), ami.accept())
        .await
        .expect("the agent connects")
        .unwrap();
    conn.send_banner().await.unwrap();
    Site {
        api,
        metrics,
        conn,
        _agent: agent,
        _ami: ami,
        _tmp: tmp,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_ami_login_shows_in_readiness_and_agent_metrics() {
    let Site {
        api,
        metrics,
        mut conn,
        // Held to the end: dropping them stops the agent and removes its files.
        _agent,
        _ami,
        _tmp,
    } = site("", &[("FAXLINE_AMI__SECRET", WRONG_AMI_SECRET)]).await;

    // Asterisk refuses the login.
    let outcome = conn
        .login(&Credentials::new("faxline", AMI_SECRET))
        .await
        .unwrap();
    assert!(!outcome.accepted);

    // The agent keeps polling the API (leasing nothing) and says why its line is down.
    let want = "agent site1: asterisk line: AMI login refused (check [ami] username and secret)";
    let start = Instant::now();
    loop {
        let (code, body) = get(&format!("{}/health/ready", api.base)).await;
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        if v["reasons"].as_array().unwrap().iter().any(|r| r == want) {
            assert_eq!(code, 503, "{v}");
            assert_eq!(v["agents"][0]["line"]["healthy"], false, "{v}");
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "readiness never named the refused AMI login: {v}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // The agent's own endpoint: AMI down, the refusal counted, the line unhealthy; nothing else answers there.
    let (code, text) = get(&format!("http://{metrics}/metrics")).await;
    assert_eq!(code, 200);
    assert_eq!(
        sample(&text, "faxline_agent_ami_connected"),
        Some(0.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "faxline_agent_ami_login_refused_total"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, r#"faxline_agent_line_healthy{line="asterisk"}"#),
        Some(0.0),
        "{text}"
    );
    assert!(!text.contains(WRONG_AMI_SECRET) && !text.contains(AGENT_SECRET));
    let (code, _) = get(&format!("http://{metrics}/other")).await;
    assert_eq!(code, 404);
}

/// Waits until the API's readiness satisfies `ok`, returning the status code and body; fails after 20 s with
/// `what` and the last body.
async fn ready_until(
    base: &str,
    what: &str,
    ok: impl Fn(u16, &serde_json::Value) -> bool,
) -> (u16, serde_json::Value) {
    let start = Instant::now();
    loop {
        let (code, body) = get(&format!("{base}/health/ready")).await;
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        if ok(code, &v) {
            return (code, v);
        }
        assert!(start.elapsed() < Duration::from_secs(20), "{what}: {v}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn names(v: &serde_json::Value, reason: &str) -> bool {
    v["reasons"]
        .as_array()
        .is_some_and(|r| r.iter().any(|x| x == reason))
}

/// Waits until readiness names `reason` (or, with `false`, no longer does and the agent's line is healthy
/// again), then checks the status code and that the agent's `gauge` reads `value`; returns the agent's metrics.
async fn expect(
    api: &Api,
    metrics: &str,
    (reason, named): (&str, bool),
    code: u16,
    gauge: &str,
    value: f64,
) -> String {
    let what = if named {
        format!("readiness never named {reason:?}")
    } else {
        format!("readiness kept {reason:?}")
    };
    let (got, v) = ready_until(&api.base, &what, |_, v| {
        names(v, reason) == named && (named || v["agents"][0]["line"]["healthy"] == true)
    })
    .await;
    assert_eq!(got, code, "{v}");
    assert_eq!(v["agents"][0]["line"]["healthy"], !named, "{v}");
    let (_, text) = get(&format!("http://{metrics}/metrics")).await;
    assert_eq!(sample(&text, gauge), Some(value), "{text}");
    text
}

/// Asterisk 20's `Registry` event (res_pjsip_outbound_registration, after every REGISTER response): Username
/// is the registration's client_uri, Domain its server_uri.
fn registry(domain: &str, status: &str) -> Message {
    Message::from_pairs([
        ("Event", "Registry"),
        ("Privilege", "system,all"),
        ("Timestamp", "1733300000.123456"),
        ("ChannelType", "PJSIP"),
        ("Username", "sip:4021@192.0.2.10"),
        ("Domain", domain),
        ("Status", status),
    ])
}

/// Asterisk 20's `ContactStatus` event (res_pjsip qualify, on a change of the contact's state).
fn contact_status(status: &str) -> Message {
    Message::from_pairs([
        ("Event", "ContactStatus"),
        ("Privilege", "system,all"),
        ("Timestamp", "1733300000.223456"),
        ("URI", "sip:192.0.2.10:5060"),
        ("ContactStatus", status),
        ("AOR", "faxline-trunk"),
        ("EndpointName", "faxline-trunk"),
        (
            "RoundtripUsec",
            if status == "Reachable" { "23874" } else { "0" },
        ),
    ])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trunk_registration_and_reachability_reported_by_asterisk_show_in_readiness_and_metrics() {
    let Site {
        api,
        metrics,
        mut conn,
        // Held to the end: dropping them stops the agent and removes its files.
        _agent,
        _ami,
        _tmp,
    } = site(
        "register = true\nusername = \"4021\"",
        &[
            ("FAXLINE_AMI__SECRET", AMI_SECRET),
            ("FAXLINE_SIP__PASSWORD", "q8Vd2mLx7RkT4wNe"),
        ],
    )
    .await;

    // Asterisk accepts the login; the agent asks for the `system` class (and so gets FullyBooted).
    let outcome = conn
        .login(&Credentials::new("faxline", AMI_SECRET))
        .await
        .unwrap();
    assert!(outcome.accepted);
    assert_eq!(outcome.events.as_deref(), Some("call,user,system"));
    // Plays the rest of the session: every action other than Ping (answered by the connection) is one this
    // Asterisk does not know; events come from the test.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Message>();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                a = conn.next_action() => match a {
                    Ok(Some(a)) => {
                        if conn.respond(&a, "Error", "Invalid/unknown command").await.is_err() {
                            return;
                        }
                    }
                    _ => return,
                },
                m = rx.recv() => match m {
                    Some(m) => {
                        if conn.send(&m).await.is_err() {
                            return;
                        }
                    }
                    None => return,
                },
            }
        }
    });

    // Nothing reported yet: the trunk's state is unknown, which is no problem.
    let healthy = |_: u16, v: &serde_json::Value| v["agents"][0]["line"]["healthy"] == true;
    ready_until(
        &api.base,
        "the agent never reported a healthy line",
        healthy,
    )
    .await;

    // Another registration on the same Asterisk failing says nothing about ours; ours refused does.
    tx.send(registry("sip:other.example.org:5060", "Rejected"))
        .unwrap();
    tx.send(registry("sip:192.0.2.10:5060", "Rejected"))
        .unwrap();
    let refused = "agent site1: asterisk line: SIP trunk registration failing (refused or unanswered; check \
                   [sip] username, password, registrar)";
    let text = expect(
        &api,
        &metrics,
        (refused, true),
        503,
        "faxline_agent_sip_registered",
        0.0,
    )
    .await;
    assert_eq!(
        sample(&text, "faxline_agent_ami_connected"),
        Some(1.0),
        "{text}"
    );

    // The next REGISTER succeeds: ready again.
    tx.send(registry("sip:192.0.2.10:5060", "Registered"))
        .unwrap();
    expect(
        &api,
        &metrics,
        (refused, false),
        200,
        "faxline_agent_sip_registered",
        1.0,
    )
    .await;

    // The trunk stops answering Asterisk's qualify OPTIONS, then answers again.
    tx.send(contact_status("Unreachable")).unwrap();
    let unreachable =
        "agent site1: asterisk line: SIP trunk unreachable (it does not answer Asterisk's OPTIONS)";
    let reachable = "faxline_agent_sip_trunk_reachable";
    expect(&api, &metrics, (unreachable, true), 503, reachable, 0.0).await;
    tx.send(contact_status("Reachable")).unwrap();
    let text = expect(&api, &metrics, (unreachable, false), 200, reachable, 1.0).await;
    assert!(
        !text.contains("192.0.2.10") && !text.contains("4021"),
        "{text}"
    );
}
