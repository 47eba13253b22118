//! Failover between lines end to end: the real API in-process (SQLite, routing `sip` then `phaxio`), an agent
//! on the agent's own SIP line against a SIP trunk stand-in on 127.0.0.1, and a second agent on the Phaxio
//! line against a local stand-in for Phaxio's REST API v2.1 (submission with HTTP Basic, account status, the
//! signed status callback). A trunk that is down or refuses the call: the job goes out on Phaxio and says so;
//! a call that dropped mid-page is never sent again elsewhere.

mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use common::{ADMIN_KEY, AGENT_SECRET, Api};
use faxline_agent::config::{Config, Secret as AgentSecret, SecretSource};
use faxline_agent::lines::LineKind;
use faxline_api::config::Secret;
use faxline_protocol::client::AgentClient;
use faxline_sip::call::{CallConfig, SipCommand};
use faxline_sip::called::{CalledPolicy, Numbers};
use faxline_sip::fax_leg::{self, LegSpec, MediaPorts};
use faxline_sip::media::{MediaRuntime, SessionEvents};
use faxline_sip::stack::{IncomingCall, SipEndpoint};
use faxline_t38::session::{Direction, FaxOptions, SessionEvent};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const SPEED: u32 = 10;
const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const KEY: &str = "phaxio-test-key";
const SECRET: &str = "3c9a0f7e51b24d86a7e0c3f95b1d2e48";
const TOKEN: &str = "e81b4c0d7a2f965c3b08d1e7f4a9620b";

fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Phaxio's REST API, as much of it as a delivered fax needs: what was submitted (the number, the job tag).
#[derive(Default)]
struct Phaxio {
    submitted: Mutex<Vec<(String, String)>>,
}

fn authorized(h: &HeaderMap) -> bool {
    use base64::Engine;
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{KEY}:{SECRET}"))
    );
    h.get("authorization").and_then(|v| v.to_str().ok()) == Some(expected.as_str())
}

async fn phaxio_submit(State(st): State<Arc<Phaxio>>, h: HeaderMap, mut mp: Multipart) -> Response {
    if !authorized(&h) {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"success": false, "message": "Invalid API credentials"})),
        )
            .into_response();
    }
    let (mut to, mut tag, mut callback, mut file) = (String::new(), String::new(), None, 0);
    while let Some(field) = mp.next_field().await.unwrap() {
        match field.name().unwrap_or("") {
            "to" => to = field.text().await.unwrap(),
            "tags[faxline_job]" => tag = field.text().await.unwrap(),
            "callback_url" => callback = Some(field.text().await.unwrap()),
            "file" => file = field.bytes().await.unwrap().len(),
            _ => {}
        }
    }
    if to.is_empty() || file == 0 {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(
                json!({"success": false, "message": "You must provide a phone number and a file"}),
            ),
        )
            .into_response();
    }
    let id = {
        let mut s = st.submitted.lock().unwrap();
        s.push((to.clone(), tag.clone()));
        70_000 + s.len() as u64
    };
    if let Some(url) = callback {
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let fax = json!({
                "id": id, "direction": "sent", "num_pages": 1, "is_test": false, "status": "success",
                "tags": {"faxline_job": tag},
                "recipients": [{"phone_number": to, "status": "success"}],
            });
            let fields: Vec<(String, String)> = vec![
                ("success".into(), "true".into()),
                ("is_test".into(), "false".into()),
                ("direction".into(), "sent".into()),
                ("event_type".into(), "fax_completed".into()),
                ("fax".into(), fax.to_string()),
            ];
            let sig = faxline_api::cloud::phaxio::signature(TOKEN.as_bytes(), &url, &fields, &[]);
            let mut body = reqwest::Url::parse("http://form.invalid/").unwrap();
            body.query_pairs_mut().extend_pairs(&fields);
            let r = reqwest::Client::new()
                .post(&url)
                .header("X-Phaxio-Signature", sig)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body.query().unwrap_or("").to_owned())
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success(), "callback: {}", r.status());
        });
    }
    axum::Json(json!({"success": true, "message": "Fax queued for sending", "data": {"id": id}}))
        .into_response()
}

async fn start_phaxio() -> (Arc<Phaxio>, String) {
    let st = Arc::new(Phaxio::default());
    let app = axum::Router::new()
        .route("/v2.1/faxes", post(phaxio_submit))
        .route(
            "/v2.1/account/status",
            get(|h: HeaderMap| async move {
                if !authorized(&h) {
                    return StatusCode::UNAUTHORIZED.into_response();
                }
                axum::Json(
                    json!({"success": true, "message": "Account status retrieved successfully",
                    "data": {"balance": 1000, "faxes_today": 0, "faxes_this_month": 0}}),
                )
                .into_response()
            }),
        )
        .with_state(st.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/v2.1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (st, base)
}

/// The carrier: a SIP endpoint that refuses calls or answers them and hangs up during the first page.
struct Trunk {
    endpoint: SipEndpoint,
    incoming: mpsc::UnboundedReceiver<IncomingCall>,
    runtime: Arc<MediaRuntime>,
    ports: MediaPorts,
}

impl Trunk {
    async fn start(media: u16) -> Trunk {
        let (endpoint, incoming) =
            SipEndpoint::bind((LOCAL, 0).into(), CalledPolicy::new(Numbers::Any))
                .await
                .unwrap();
        Trunk {
            endpoint,
            incoming,
            runtime: Arc::new(MediaRuntime::start(1, SPEED)),
            ports: MediaPorts::new(LOCAL, media..=media + 49, media..=media + 49),
        }
    }

    async fn next_call(&mut self) -> IncomingCall {
        tokio::time::timeout(Duration::from_secs(60), self.incoming.recv())
            .await
            .expect("the agent calls the trunk")
            .unwrap()
    }

    /// Answers the next call and hangs up as soon as the first page starts: the call drops mid-page.
    async fn answer_and_drop_mid_page(&mut self, tiff: &std::path::Path) {
        let call = self.next_call().await;
        let hangup = CancellationToken::new();
        let cut = hangup.clone();
        let mut config = CallConfig::new(LOCAL, 0, 0);
        config.t38_wait /= SPEED;
        config.ced /= SPEED;
        config.t38_answer_timeout /= SPEED;
        let spec = LegSpec {
            config,
            direction: Direction::Receive {
                tiff: tiff.to_path_buf(),
            },
            fax: FaxOptions {
                local_ident: "TRUNK RX".into(),
                ..FaxOptions::default()
            },
            label: "trunk-rx".into(),
            loss: None,
            session_events: Some(SessionEvents::new(move |ev| {
                if matches!(ev, SessionEvent::PageStarted(_)) {
                    cut.cancel();
                }
            })),
            observer: None,
            hangup: Some(hangup),
        };
        let report = fax_leg::answer(self.runtime.clone(), &self.ports, call, spec)
            .await
            .unwrap();
        assert!(!report.is_success(), "the call was cut");
    }
}

struct Site {
    tmp: tempfile::TempDir,
    api: Api,
    phaxio: Arc<Phaxio>,
    trunk: Trunk,
    agents: Vec<tokio::task::JoinHandle<()>>,
}

fn agent_base(tmp: &std::path::Path, name: &str, api: &str) -> Config {
    let mut c = Config::default();
    c.spool.dir = tmp.join(name);
    c.api_client.base_url = Some(api.to_owned());
    c.api_client.agent_id = Some(name.into());
    c.api_client.agent_secret = Some(AgentSecret::with_source(AGENT_SECRET, SecretSource::Inline));
    c.api_client.allow_http = true;
    c.agent.lease_poll_secs = 1;
    c.agent.shutdown_grace_secs = 0;
    c.retry.max_attempts = 1;
    c
}

fn spawn_agent(cfg: Config, api: &str) -> tokio::task::JoinHandle<()> {
    let id = cfg.api_client.agent_id.clone().unwrap();
    let client = AgentClient::new(api, &id, faxline_protocol::Secret::new(AGENT_SECRET)).unwrap();
    tokio::spawn(async move {
        faxline_agent::lines::run(Arc::new(cfg), client, std::future::pending())
            .await
            .expect("the agent runs");
    })
}

impl Site {
    /// The API with routing `sip` → `phaxio`, the stand-ins, an agent on the SIP line (`trunk_down`: it must
    /// register with a registrar that never answers) and an agent on the Phaxio line.
    async fn start(media: u16, trunk_down: bool) -> Site {
        let tmp = tempfile::tempdir().unwrap();
        let api = Api::start_with(tmp.path(), "127.0.0.1:0", |c, base| {
            c.phaxio_callback_token = Some(Secret::new(TOKEN));
            c.public_api_url = Some(base.to_owned());
            c.allow_insecure_public_url = true;
            c.routing = vec!["sip".into(), "phaxio".into()];
            c.backends = vec!["sip".into(), "phaxio".into()];
        })
        .await;
        let (phaxio, phaxio_base) = start_phaxio().await;
        let trunk = Trunk::start(media).await;

        let mut sip = agent_base(tmp.path(), "site-sip", &api.base);
        sip.line.kind = LineKind::Sip;
        sip.line.speed = SPEED;
        sip.lines.sip.trunk_host = Some("127.0.0.1".into());
        sip.lines.sip.bind_address = LOCAL;
        sip.lines.sip.bind_port = free_udp_port();
        sip.lines.sip.caller_id = Some("+15550100".into());
        sip.lines.sip.udptl_port_min = media + 50;
        sip.lines.sip.udptl_port_max = media + 74;
        sip.lines.sip.rtp_port_min = media + 75;
        sip.lines.sip.rtp_port_max = media + 99;
        if trunk_down {
            // Nothing listens there: the registration never holds, the line reports it.
            sip.lines.sip.trunk_port = free_udp_port();
            sip.lines.sip.register = true;
            sip.lines.sip.username = Some("faxline-trunk".into());
            sip.lines.sip.password = Some(AgentSecret::with_source(
                "Tr0nk-s3cret-99",
                SecretSource::Inline,
            ));
        } else {
            sip.lines.sip.trunk_port = trunk.endpoint.local_addr().port();
        }

        let mut cloud = agent_base(tmp.path(), "site-cloud", &api.base);
        cloud.line.kind = LineKind::Phaxio;
        let p = &mut cloud.lines.phaxio;
        p.api_key = Some(KEY.into());
        p.api_secret = Some(AgentSecret::with_source(SECRET, SecretSource::Inline));
        p.base_url = phaxio_base;
        p.allow_http = true;
        p.callback_url = Some(format!("{}/phaxio-callback", api.base));
        p.request_timeout_seconds = 2;
        for c in [&sip, &cloud] {
            let mut problems = Vec::new();
            faxline_agent::lines::check_config(c, &mut problems);
            assert!(problems.is_empty(), "{problems:?}");
        }
        let agents = vec![spawn_agent(sip, &api.base), spawn_agent(cloud, &api.base)];
        Site {
            tmp,
            api,
            phaxio,
            trunk,
            agents,
        }
    }

    /// Waits until both agents have polled with the line health `sip_healthy` for the SIP line.
    async fn lines_reported(&self, sip_healthy: bool) {
        let start = Instant::now();
        loop {
            let ready: Value = reqwest::Client::new()
                .get(format!("{}/health/ready", self.api.base))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let line = |id: &str| {
                ready["agents"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|a| a["agent_id"] == id)
                    .map(|a| a["line"]["healthy"].clone())
            };
            if line("site-sip") == Some(Value::Bool(sip_healthy))
                && line("site-cloud") == Some(Value::Bool(true))
            {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "the agents never reported their lines: {ready}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn submissions(&self) -> Vec<(String, String)> {
        self.phaxio.submitted.lock().unwrap().clone()
    }

    async fn stop(mut self) {
        for a in &self.agents {
            a.abort();
        }
        for a in self.agents.drain(..) {
            let _ = tokio::time::timeout(Duration::from_secs(5), a).await;
        }
        self.api.stop().await;
    }
}

async fn submit_with_backend(api: &Api, backend: &str) -> (u16, Value) {
    let pdf = std::fs::read(common::fixtures().join("pdf/dummy.pdf")).unwrap();
    let form = reqwest::multipart::Form::new()
        .text("to", "+15551230000")
        .text("backend", backend.to_owned())
        .part(
            "file",
            reqwest::multipart::Part::bytes(pdf)
                .file_name("doc.pdf")
                .mime_str("application/pdf")
                .unwrap(),
        );
    let r = reqwest::Client::new()
        .post(format!("{}/fax", api.base))
        .header("X-API-Key", ADMIN_KEY)
        .multipart(form)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trunk_that_is_down_sends_the_job_out_on_the_cloud_line() {
    let s = Site::start(22000, true).await;
    s.lines_reported(false).await;
    let id = s.api.submit("+15551230000").await;
    let job = s.api.final_job(&id).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    assert_eq!(job["line"], "phaxio", "{job}");
    assert_eq!(job["backend"], "phaxio", "{job}");
    // Never tried on the SIP line: it was down when the job was leased.
    assert_eq!(job["lines_tried"], json!([]), "{job}");
    assert_eq!(s.submissions(), vec![("+15551230000".to_owned(), id)]);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trunk_that_refuses_the_call_fails_over_to_the_cloud_line() {
    let mut s = Site::start(22100, false).await;
    s.lines_reported(true).await;
    let id = s.api.submit("+15551230000").await;
    // The SIP line has the job first (both lines up); the trunk has no channel for it.
    let call = s.trunk.next_call().await;
    call.leg.send(SipCommand::Reject { code: 503 });
    let job = s.api.final_job(&id).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    assert_eq!(job["line"], "phaxio", "{job}");
    assert_eq!(job["lines_tried"], json!(["sip"]), "{job}");
    assert_eq!(s.submissions().len(), 1);
    // Pinned to the SIP line, the same refusal is final: nothing goes to Phaxio.
    let (code, v) = submit_with_backend(&s.api, "sip").await;
    assert_eq!(code, 202, "{v}");
    let id = v["id"].as_str().unwrap().to_owned();
    let call = s.trunk.next_call().await;
    call.leg.send(SipCommand::Reject { code: 503 });
    let job = s.api.final_job(&id).await;
    assert_eq!(job["status"], "FAILED", "{job}");
    assert_eq!(job["line"], "sip", "{job}");
    assert!(job["error"].as_str().unwrap().contains("503"), "{job}");
    assert_eq!(
        s.submissions().len(),
        1,
        "the pinned job never went to Phaxio"
    );
    // A line nobody allowed is refused.
    let (code, v) = submit_with_backend(&s.api, "telnyx").await;
    assert_eq!(code, 422, "{v}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_that_dropped_mid_page_is_not_sent_again_elsewhere() {
    let mut s = Site::start(22200, false).await;
    s.lines_reported(true).await;
    let id = s.api.submit("+15551230000").await;
    let received = s.tmp.path().join("trunk-received.tif");
    s.trunk.answer_and_drop_mid_page(&received).await;
    let job = s.api.final_job(&id).await;
    assert_eq!(job["status"], "FAILED", "{job}");
    assert_eq!(job["line"], "sip", "{job}");
    assert_eq!(job["lines_tried"], json!([]), "{job}");
    let error = job["error"].as_str().unwrap();
    assert!(error.contains("fax transfer failed"), "{error}");
    // Give the cloud line every chance to (wrongly) lease it.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(s.submissions().is_empty(), "{:?}", s.submissions());
    assert_eq!(s.api.job(&id).await["status"], "FAILED");
    s.stop().await;
}
