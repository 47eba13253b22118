//! Metrics as an operator's Prometheus sees them: a real Prometheus (Debian's `prometheus` package) scrapes the
//! real `faxline serve` (loopback line, SQLite) on 127.0.0.1 with a key, while faxes go through; the assertions
//! are PromQL queries through Prometheus's HTTP API. And the shipped alert rules pass `promtool check rules`
//! and their unit tests (`promtool test rules`). With `CI=true` a missing Prometheus fails the tests.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{ADMIN_KEY, Client, Proc, free_port};
use serde_json::Value;

/// The Prometheus tool `name`, or `None` (skip) outside CI when it is not installed.
fn tool(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{name} is not installed: .ci/deps installs Debian's prometheus package"
        );
        eprintln!("{name} not installed: test skipped (apt-get install prometheus)");
    }
    found
}

fn ops_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../ops/prometheus")
}

async fn start_serve(dir: &Path) -> (Proc, Client) {
    let config = dir.join("faxline.toml");
    std::fs::write(
        &config,
        format!(
            "[api]\ndata_dir = \"{}\"\ninbound_enabled = true\n\n[line]\nkind = \"loopback\"\nspeed = 10\n\n\
             [fax]\nlocal_station_id = \"+1 555 0100\"\n\n[agent]\nlease_poll_secs = 1\n",
            dir.join("data").display()
        ),
    )
    .unwrap();
    common::start_serve(&config, free_port(), "warn", Stdio::null()).await
}

/// Starts Prometheus scraping `target` every second with the bootstrap key as bearer token.
async fn start_prometheus(bin: &Path, dir: &Path, target: &str) -> (Proc, String) {
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {}\nscrape_configs:\n  \
             - job_name: faxline\n    metrics_path: /metrics\n    authorization:\n      type: Bearer\n      \
             credentials: {ADMIN_KEY}\n    static_configs:\n      - targets: ['{target}']\n",
            ops_dir().join("alerts.yml").display()
        ),
    )
    .unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let prom = Proc(
        Command::new(bin)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("tsdb").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--log.level=warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap(),
    );
    let http = reqwest::Client::new();
    let start = Instant::now();
    loop {
        if let Ok(r) = http.get(format!("{base}/-/ready")).send().await
            && r.status().is_success()
        {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "prometheus never came up"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (prom, base)
}

/// The value of an instant query that yields one sample (`None`: no sample).
async fn query(prom: &str, promql: &str) -> Option<f64> {
    let v: Value = reqwest::Client::new()
        .get(
            url::Url::parse_with_params(&format!("{prom}/api/v1/query"), [("query", promql)])
                .unwrap(),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["status"], "success", "{promql}: {v}");
    let result = v["data"]["result"].as_array().unwrap();
    assert!(result.len() <= 1, "{promql}: {v}");
    result
        .first()
        .map(|r| r["value"][1].as_str().unwrap().parse().unwrap())
}

/// Waits until `promql` yields `want` (Prometheus scrapes every second).
async fn wait_for(prom: &str, promql: &str, want: f64) {
    let start = Instant::now();
    loop {
        let got = query(prom, promql).await;
        if got == Some(want) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{promql}: {got:?}, expected {want}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_serve_while_faxes_go_out() {
    let Some(prometheus) = tool("prometheus") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let (_serve, api) = start_serve(tmp.path()).await;
    let target = api.base.trim_start_matches("http://").to_owned();
    let (_prom, prom) = start_prometheus(&prometheus, tmp.path(), &target).await;

    // Scraped with the key; the in-process agent counts for readiness, its loopback line is healthy.
    wait_for(&prom, r#"up{job="faxline"}"#, 1.0).await;
    wait_for(&prom, "faxline_api_agents_connected", 1.0).await;
    wait_for(&prom, r#"faxline_agent_line_healthy{line="loopback"}"#, 1.0).await;
    let r = reqwest::get(format!("{}/health/ready", api.base))
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());

    let success = r#"sum(faxline_agent_calls_total{result="success"}) or vector(0)"#;
    let before = query(&prom, success).await.unwrap();
    const N: usize = 3;
    let mut ids = Vec::new();
    for i in 0..N {
        ids.push(api.submit(&format!("+1555123{i:04}")).await);
    }
    // While the calls run, Prometheus sees them active and the queue's leases.
    let start = Instant::now();
    loop {
        if query(&prom, "sum(faxline_agent_calls_active)").await >= Some(1.0) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "Prometheus never saw an active call"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for id in &ids {
        let job = api.final_job(id).await;
        assert_eq!(job["status"], "SUCCESS", "{job}");
    }

    wait_for(&prom, success, before + N as f64).await;
    wait_for(&prom, "sum(faxline_agent_calls_active)", 0.0).await;
    wait_for(&prom, r#"faxline_api_jobs{status="success"}"#, N as f64).await;
    wait_for(&prom, r#"faxline_api_jobs{status="queued"}"#, 0.0).await;
    wait_for(&prom, "faxline_api_leases_outstanding", 0.0).await;
    wait_for(&prom, r#"sum(faxline_agent_pages_sent_total)"#, N as f64).await;
    wait_for(
        &prom,
        r#"sum(faxline_agent_faxes_sent_by_mode_total{mode="t38"})"#,
        N as f64,
    )
    .await;
    // The answering side's copies arrive as inbound faxes.
    wait_for(&prom, "faxline_agent_faxes_received_total", N as f64).await;
    // Both ends' media sessions of the loopback line: T.38 with ECM each way, nothing lost or resent on a
    // clean loopback.
    for direction in ["outbound", "inbound"] {
        wait_for(
            &prom,
            &format!(
                r#"sum(faxline_agent_fax_sessions_total{{line="loopback",direction="{direction}",mode="t38",ecm="on"}})"#
            ),
            N as f64,
        )
        .await;
    }
    wait_for(
        &prom,
        r#"sum(faxline_agent_media_lost_total{line="loopback"})"#,
        0.0,
    )
    .await;
    wait_for(
        &prom,
        r#"sum(faxline_agent_ecm_retransmissions_total{line="loopback"})"#,
        0.0,
    )
    .await;
    // Every render was timed; the API's requests are counted by route template.
    wait_for(
        &prom,
        "faxline_agent_render_duration_seconds_count",
        N as f64,
    )
    .await;
    let posted = query(
        &prom,
        r#"sum(faxline_api_requests_total{route="/fax",method="POST",status="202"})"#,
    )
    .await;
    assert_eq!(posted, Some(N as f64));
    // No label carries a number or a job id.
    let v: Value = reqwest::Client::new()
        .get(
            url::Url::parse_with_params(
                &format!("{prom}/api/v1/series"),
                [("match[]", r#"{job="faxline"}"#)],
            )
            .unwrap(),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let series = v["data"].to_string();
    assert!(series.contains("faxline_agent_calls_total"), "{series}");
    for leak in ["5551230000", "5551230001", &ids[0], &ids[1]] {
        assert!(!series.contains(leak), "{leak} in a label: {series}");
    }
    // The alert rules loaded and evaluate: a healthy run raises none of them.
    let v: Value = reqwest::get(format!("{prom}/api/v1/rules"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rules = v["data"]["groups"][0]["rules"].as_array().unwrap();
    let shipped = std::fs::read_to_string(ops_dir().join("alerts.yml"))
        .unwrap()
        .lines()
        .filter(|l| l.trim_start().starts_with("- alert:"))
        .count();
    assert!(shipped >= 8);
    assert_eq!(rules.len(), shipped, "{v}");
    assert!(
        rules
            .iter()
            .all(|r| r["health"] == "ok" && r["state"] == "inactive"),
        "{v}"
    );
}

#[test]
fn alert_rules_pass_promtool() {
    let Some(promtool) = tool("promtool") else {
        return;
    };
    let check = Command::new(&promtool)
        .args(["check", "rules"])
        .arg(ops_dir().join("alerts.yml"))
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    // The unit tests: each alert fires on the series that should raise it, and not on a healthy service.
    let test = Command::new(&promtool)
        .args(["test", "rules", "alerts.test.yml"])
        .current_dir(ops_dir())
        .output()
        .unwrap();
    assert!(
        test.status.success(),
        "{}{}",
        String::from_utf8_lossy(&test.stdout),
        String::from_utf8_lossy(&test.stderr)
    );
}

#[test]
fn grafana_dashboard_queries_known_series() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../ops/grafana/faxline.json"),
    )
    .unwrap();
    let dash: Value = serde_json::from_str(&text).unwrap();
    let panels = dash["panels"].as_array().unwrap();
    assert!(panels.len() >= 10);
    // Every panel queries Faxline's series (a renamed metric must be renamed here too).
    let source: String = [
        "src/metrics.rs",
        "src/engine/runner.rs",
        "src/engine/inbound.rs",
        "src/lines/asterisk/mod.rs",
        "src/lines/sip/mod.rs",
        "../api/src/metrics.rs",
        "../api/src/routes/metrics.rs",
    ]
    .iter()
    .map(|f| std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(f)).unwrap())
    .collect();
    for p in panels {
        for t in p["targets"].as_array().unwrap() {
            let expr = t["expr"].as_str().unwrap();
            let names: Vec<&str> = expr
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .filter(|w| w.starts_with("faxline_"))
                .collect();
            assert!(!names.is_empty(), "{expr}");
            for n in names {
                let base = n
                    .trim_end_matches("_bucket")
                    .trim_end_matches("_count")
                    .trim_end_matches("_sum");
                assert!(
                    source.contains(&format!("\"{base}\"")),
                    "{base} (in {expr}) is not recorded anywhere"
                );
            }
        }
    }
}
