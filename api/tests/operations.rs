//! Operations over real HTTP: `/health/ready` says which part is not working (no agent, an agent's line
//! down, an agent that only ran `--check`), and `/metrics` serves Prometheus text behind the
//! `metrics:read` scope, with route templates (never raw paths or numbers) in its labels. On SQLite and
//! PostgreSQL.

mod common;

use std::time::Duration;

use common::{ADMIN_KEY, Db, TestServer, create_key, http, one_page_pdf, send_fax};
use faxline_protocol::messages::LineHealth;
use serde_json::Value;

async fn ready(s: &TestServer) -> (u16, Value) {
    let r = http().get(s.url("/health/ready")).send().await.unwrap();
    let code = r.status().as_u16();
    (code, r.json().await.unwrap())
}

fn reasons(v: &Value) -> Vec<String> {
    v["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_owned())
        .collect()
}

async fn readiness(db: Db) {
    let Some(s) = TestServer::start(db, |_| {}).await else {
        return;
    };
    // No agent yet: not ready, and the reason says so.
    let (code, v) = ready(&s).await;
    assert_eq!(code, 503, "{v}");
    assert_eq!(v["status"], "not_ready");
    assert_eq!(v["checks"]["db"], true);
    let r = reasons(&v);
    assert_eq!(r.len(), 1, "{v}");
    assert!(r[0].starts_with("agents: none polled"), "{v}");

    // `faxline agent --check` signs a probe: it proves the secret, not a running agent.
    let agent = s.agent("edge-1");
    agent.check_signature().await.unwrap();
    let (code, v) = ready(&s).await;
    assert_eq!(
        code, 503,
        "a --check probe must not count as a connected agent: {v}"
    );
    assert_eq!(v["checks"]["agents_connected"], false);

    // An agent polling for work (an older one, without a line report) makes it ready.
    assert!(agent.lease(Duration::ZERO, 1).await.unwrap().is_empty());
    let (code, v) = ready(&s).await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["status"], "ready");
    assert!(v["agents"][0]["line"].is_null(), "{v}");

    // The agent's AMI login is refused: it polls leasing nothing, and readiness names the line's problem,
    // even with a fax waiting.
    let r = send_fax(&s, ADMIN_KEY, "+15551230001", "d.pdf", one_page_pdf()).await;
    assert_eq!(r.status(), 202);
    let down = LineHealth {
        kind: "asterisk".into(),
        problems: vec!["AMI login refused".into()],
    };
    let leased = agent
        .lease_reporting(Duration::from_secs(5), 0, Some(down))
        .await
        .unwrap();
    assert!(leased.is_empty(), "max_jobs = 0 leases nothing");
    let (code, v) = ready(&s).await;
    assert_eq!(code, 503, "{v}");
    assert_eq!(
        reasons(&v),
        ["agent edge-1: asterisk line: AMI login refused"],
        "{v}"
    );
    assert_eq!(v["agents"][0]["line"]["healthy"], false);

    // The trunk is unregistered on a second agent; the first recovers: still not ready, for the second.
    let sip = s.agent("edge-2");
    let unregistered = LineHealth {
        kind: "sip".into(),
        problems: vec!["SIP trunk not registered".into()],
    };
    sip.lease_reporting(Duration::ZERO, 0, Some(unregistered))
        .await
        .unwrap();
    let healthy = LineHealth {
        kind: "asterisk".into(),
        problems: vec![],
    };
    let jobs = agent
        .lease_reporting(Duration::ZERO, 1, Some(healthy))
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1, "a healthy line takes the waiting fax");
    let (code, v) = ready(&s).await;
    assert_eq!(code, 503, "{v}");
    assert_eq!(
        reasons(&v),
        ["agent edge-2: sip line: SIP trunk not registered"],
        "{v}"
    );

    // Fixed: ready again.
    sip.lease_reporting(
        Duration::ZERO,
        1,
        Some(LineHealth {
            kind: "sip".into(),
            problems: vec![],
        }),
    )
    .await
    .unwrap();
    let (code, v) = ready(&s).await;
    assert_eq!(code, 200, "{v}");

    // Agent text is bounded and stripped of control characters.
    let noisy = LineHealth {
        kind: "asterisk".into(),
        problems: (0..20)
            .map(|i| format!("problem {i}\n{}", "x".repeat(500)))
            .collect(),
    };
    agent
        .lease_reporting(Duration::ZERO, 0, Some(noisy))
        .await
        .unwrap();
    let (_, v) = ready(&s).await;
    let problems = v["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["agent_id"] == "edge-1")
        .unwrap()["line"]["problems"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(problems.len(), 8);
    assert!(problems.iter().all(|p| {
        let p = p.as_str().unwrap();
        p.chars().count() <= 120 && !p.contains('\n')
    }));
}
both_stores!(readiness_names_each_failing_part, readiness);

/// Two API instances on one database (as behind a load balancer): an agent polls one, and the other's
/// readiness, metrics and agent list show its line report, problems and recovery alike.
async fn line_reports_reach_every_instance(db: Db) {
    let Some(a) = TestServer::start(db, |_| {}).await else {
        return;
    };
    let mut b = TestServer::start_with(a.cfg.clone()).await;
    let agent = a.agent("edge-1");
    let down = LineHealth {
        kind: "asterisk".into(),
        problems: vec!["SIP trunk unreachable (it does not answer Asterisk's OPTIONS)".into()],
    };
    agent
        .lease_reporting(Duration::ZERO, 0, Some(down))
        .await
        .unwrap();
    let (code, v) = ready(&b).await;
    assert_eq!(code, 503, "{v}");
    assert_eq!(
        reasons(&v),
        [
            "agent edge-1: asterisk line: SIP trunk unreachable (it does not answer Asterisk's OPTIONS)"
        ],
        "{v}"
    );
    assert_eq!(v["agents"][0]["line"]["healthy"], false, "{v}");
    let (_, token) = create_key(&b, &["metrics:read"]).await;
    let text = scrape(&b, &token).await;
    assert_eq!(
        sample(&text, "faxline_api_agents_line_unhealthy"),
        Some(1.0),
        "{text}"
    );
    // Fixed, reported to the first instance, seen at once by the second (a changed report is not held back).
    agent
        .lease_reporting(
            Duration::ZERO,
            0,
            Some(LineHealth {
                kind: "asterisk".into(),
                problems: vec![],
            }),
        )
        .await
        .unwrap();
    let (code, v) = ready(&b).await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["agents"][0]["line"]["healthy"], true, "{v}");
    // An agent that stops sending reports (an older version took its place) has none.
    agent.lease(Duration::ZERO, 0).await.unwrap();
    let (code, v) = ready(&b).await;
    assert_eq!(code, 200, "{v}");
    assert!(v["agents"][0]["line"].is_null(), "{v}");
    b.stop().await;
}
both_stores!(
    line_reports_reach_every_instance_on_one_database,
    line_reports_reach_every_instance
);

/// An API whose agents may be away can say so: then a missing agent is a warning only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_without_required_agent() {
    let s = TestServer::start(Db::Sqlite, |c| c.ready_requires_agent = false)
        .await
        .unwrap();
    let (code, v) = ready(&s).await;
    assert_eq!(code, 200, "{v}");
    assert!(
        v["warnings"][0]
            .as_str()
            .unwrap()
            .starts_with("agents: none polled"),
        "{v}"
    );
}

fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

async fn scrape(s: &TestServer, token: &str) -> String {
    let r = http()
        .get(s.url("/metrics"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    r.text().await.unwrap()
}

async fn metrics_endpoint(db: Db) {
    let Some(s) = TestServer::start(db, |_| {}).await else {
        return;
    };
    // The scope is required; a fax key is refused, no key is 401.
    let r = http().get(s.url("/metrics")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let (_, fax_key) = create_key(&s, &["fax:send", "fax:read"]).await;
    let r = http()
        .get(s.url("/metrics"))
        .header("X-API-Key", &fax_key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let (_, prom) = create_key(&s, &["metrics:read"]).await;
    let before = scrape(&s, &prom).await;
    let got = r#"faxline_api_requests_total{route="/fax/{id}",method="GET",status="200"}"#;
    let got_before = sample(&before, got).unwrap_or(0.0);
    // Documents written, by the backend this run stores them in (FAXLINE_TEST_STORAGE).
    let stored = format!(
        r#"faxline_api_documents_stored_total{{backend="{}"}}"#,
        s.store.documents_backend()
    );
    let stored_before = sample(&before, &stored).unwrap_or(0.0);

    // Two faxes queued, one read twice; a wrong key.
    let mut ids = Vec::new();
    for n in ["+15557654321", "+15557654322"] {
        let r = send_fax(&s, &fax_key, n, "secret-report.pdf", one_page_pdf()).await;
        assert_eq!(r.status(), 202);
        ids.push(
            r.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    for _ in 0..2 {
        let r = http()
            .get(s.url(&format!("/fax/{}", ids[0])))
            .header("X-API-Key", &fax_key)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let failures_before = sample(
        &before,
        r#"faxline_api_auth_failures_total{kind="api_key"}"#,
    )
    .unwrap_or(0.0);
    let r = http()
        .get(s.url("/fax"))
        .header("X-API-Key", "fbk_live_nosuchkey_0123456789")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // A made-up method on a known route does not become a label of its own.
    let brew = reqwest::Method::from_bytes(b"BREW").unwrap();
    let r = http().request(brew, s.url("/fax")).send().await.unwrap();
    assert!(r.status().is_client_error());

    let text = scrape(&s, &prom).await;
    assert!(!text.contains("BREW"), "{text}");
    assert_eq!(sample(&text, got), Some(got_before + 2.0), "{text}");
    // Other tests of this process store documents too: at least these two.
    assert!(
        sample(&text, &stored).unwrap_or(0.0) >= stored_before + 2.0,
        "{text}"
    );
    assert!(
        sample(
            &text,
            r#"faxline_api_requests_total{route="/fax",method="POST",status="202"}"#
        )
        .unwrap()
            >= 2.0
    );
    assert!(
        text.contains(
            r#"faxline_api_request_duration_seconds_bucket{route="/fax/{id}",method="GET",le="#
        ),
        "{text}"
    );
    assert_eq!(
        sample(&text, r#"faxline_api_auth_failures_total{kind="api_key"}"#),
        Some(failures_before + 1.0)
    );
    // The gauges come from this server's database at scrape time.
    assert_eq!(
        sample(&text, r#"faxline_api_jobs{status="queued"}"#),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, r#"faxline_api_jobs{status="in_progress"}"#),
        Some(0.0)
    );
    assert!(sample(&text, "faxline_api_queue_oldest_age_seconds").unwrap() >= 0.0);
    assert_eq!(sample(&text, "faxline_api_leases_outstanding"), Some(0.0));
    assert_eq!(sample(&text, "faxline_api_database_up"), Some(1.0));
    // Nothing identifying in the exposition: no number, file name, job id or key.
    for secret in [
        "5557654321",
        "5557654322",
        "secret-report",
        &ids[0],
        &ids[1],
        &fax_key,
        &prom,
    ]
    .map(String::from)
    {
        let secret = secret.as_str();
        assert!(!text.contains(secret), "{secret} leaked into /metrics");
    }

    // An agent leases one: queue and leases follow.
    let agent = s.agent("edge-1");
    let jobs = agent.lease(Duration::ZERO, 1).await.unwrap();
    assert_eq!(jobs.len(), 1);
    let text = scrape(&s, &prom).await;
    assert_eq!(
        sample(&text, r#"faxline_api_jobs{status="queued"}"#),
        Some(1.0)
    );
    assert_eq!(
        sample(&text, r#"faxline_api_jobs{status="in_progress"}"#),
        Some(1.0)
    );
    assert_eq!(sample(&text, "faxline_api_leases_outstanding"), Some(1.0));
    assert_eq!(sample(&text, "faxline_api_agents_connected"), Some(1.0));
}

/// One test, so the job gauges (set at scrape time, shared by the process) are not scraped by two servers at
/// once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_endpoint_on_both_stores() {
    metrics_endpoint(Db::Sqlite).await;
    metrics_endpoint(Db::Postgres).await;
}

/// Every answer carries the request id its log lines carry: the client's when it is a plain short token,
/// else a new one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_ids_are_echoed() {
    let s = TestServer::start(Db::Sqlite, |_| {}).await.unwrap();
    let r = http()
        .get(s.url("/health"))
        .header("X-Request-Id", "lb-7f3a.42")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "lb-7f3a.42");
    let r = http()
        .get(s.url("/fax/nope"))
        .header("X-Request-Id", "has space")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(id.len(), 32);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    let other = http().get(s.url("/health")).send().await.unwrap();
    assert_ne!(other.headers()["x-request-id"].to_str().unwrap(), id);
}

/// The database goes away (PostgreSQL refuses connections to it) and comes back: not ready with the reason,
/// then ready again, without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_the_database() {
    let Some(s) = TestServer::start(Db::Postgres, |_| {}).await else {
        return;
    };
    s.agent("edge-1").lease(Duration::ZERO, 1).await.unwrap();
    let (code, v) = ready(&s).await;
    assert_eq!(code, 200, "{v}");

    let url = reqwest::Url::parse(&s.cfg.database_url).unwrap();
    let name = url.path().trim_start_matches('/').to_owned();
    let admin_url = std::env::var("FAXLINE_TEST_DATABASE_URL").unwrap();
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
    let exec = |sql: String| sqlx::query(sqlx::AssertSqlSafe(sql));
    exec(format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"))
        .execute(&mut admin)
        .await
        .unwrap();
    exec(format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
    ))
    .execute(&mut admin)
    .await
    .unwrap();
    let (code, v) = ready(&s).await;
    assert_eq!(code, 503, "{v}");
    assert_eq!(v["checks"]["db"], false);
    // The documents are in the database unless the run puts them elsewhere (`FAXLINE_TEST_STORAGE`), and a
    // file or object store that still answers is not reported with it.
    let expected = if v["checks"]["documents"] == "database" {
        "database: not reachable (documents are stored there too)"
    } else {
        "database: not reachable"
    };
    assert_eq!(reasons(&v), [expected], "{v}");

    exec(format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
        .execute(&mut admin)
        .await
        .unwrap();
    let (code, v) = ready(&s).await;
    assert_eq!(code, 200, "{v}");
}
