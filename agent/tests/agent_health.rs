//! The real `faxline agent` on the Asterisk line whose AMI login is refused (a scripted Asterisk on
//! 127.0.0.1): the API's `/health/ready` says which agent and why, and the agent's own `[agent]
//! metrics_listen` endpoint shows the AMI down and the refusal counted.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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

fn write_config(dir: &Path, ami_port: u16, api_base: &str, metrics: &str) -> std::path::PathBuf {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_ami_login_shows_in_readiness_and_agent_metrics() {
    let tmp = tempfile::tempdir().unwrap();
    let api = Api::start(tmp.path(), "127.0.0.1:0").await;
    let ami = TestServer::bind().await.unwrap();
    let metrics_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let metrics = format!("127.0.0.1:{metrics_port}");
    let config = write_config(tmp.path(), ami.addr().port(), &api.base, &metrics);
    let _agent = Agent(
        Command::new(env!("CARGO_BIN_EXE_faxline"))
            .arg("agent")
            .arg("--config")
            .arg(&config)
            .env("FAXLINE_AMI__SECRET", WRONG_AMI_SECRET)
            .env("FAXLINE_API_CLIENT__AGENT_SECRET", AGENT_SECRET)
            .env_remove("FAXLINE_CONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );

    // Asterisk refuses the login.
    let mut conn = tokio::time::timeout(Duration::from_secs(30), ami.accept())
        .await
        .expect("the agent connects")
        .unwrap();
    conn.send_banner().await.unwrap();
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
