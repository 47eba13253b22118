//! One rule set for every secret and every command: `faxline api --check`, `faxline serve` and
//! `faxline agent --check` refuse the same weak or reused secrets (issue 14: the API used to print
//! `configuration ok` for secrets the agent refused).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const STRONG_AGENT: &str = "d83b1f6e09a4c27e5b10f9d6a3c84e27b5f01a9c";
const STRONG_KEY: &str = "Zq7-vL2pX9_mR4tK8wN1";

/// The binary under test. `FAXLINE_TEST_BIN` overrides it for checkouts that share one target
/// directory, where another checkout's build may replace `target/debug/faxline` at any time.
fn binary() -> std::path::PathBuf {
    std::env::var_os("FAXLINE_TEST_BIN")
        .map(Into::into)
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_faxline").into())
}

/// Runs `faxline <args>` with only `env` set among Faxline's variables; returns (success, output).
fn faxline(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let mut cmd = Command::new(binary());
    cmd.args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("FAX_DATA_DIR", dir.join("data"))
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let start = Instant::now();
    // A command that accepted the secrets would keep serving: stop it, it has answered.
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn every_command_refuses_the_same_weak_agent_secret() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let agent_cfg = dir.join("agent.toml");
    std::fs::write(
        &agent_cfg,
        "[api_client]\nbase_url = \"http://127.0.0.1:9\"\nallow_http = true\nagent_id = \"a1\"\n",
    )
    .unwrap();
    let agent_cfg = agent_cfg.display().to_string();
    let a40 = "a".repeat(40);
    let padded = "passwordpassword1234567890123456".to_string();
    for weak in [a40.as_str(), padded.as_str()] {
        // The API reads the agent secret as FAXLINE_AGENT_SECRET, the agent as
        // FAXLINE_API_CLIENT__AGENT_SECRET: one deployment sets both to the same value.
        let env = [
            ("FAXLINE_AGENT_SECRET", weak),
            ("FAXLINE_API_CLIENT__AGENT_SECRET", weak),
            ("API_KEY", STRONG_KEY),
        ];
        for args in [
            &["api", "--check", "--listen", "127.0.0.1:0"][..],
            &["serve", "--listen", "127.0.0.1:0"][..],
            &["agent", "--check", "--config", agent_cfg.as_str()][..],
        ] {
            let (ok, out) = faxline(dir, args, &env);
            assert!(!ok, "faxline {args:?} accepted a weak agent secret:\n{out}");
            assert!(
                !out.contains("configuration ok"),
                "faxline {args:?}:\n{out}"
            );
            assert!(
                out.contains("randomness") || out.contains("well-known"),
                "faxline {args:?} gave no reason:\n{out}"
            );
            assert!(!out.contains(weak), "the secret was printed:\n{out}");
        }
    }
}

#[test]
fn the_api_refuses_weak_or_reused_keys_and_accepts_strong_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let check = ["api", "--check", "--listen", "127.0.0.1:0"];
    let sixteen_a = "a".repeat(16);
    for env in [
        vec![
            ("FAXLINE_AGENT_SECRET", STRONG_AGENT),
            ("API_KEY", sixteen_a.as_str()),
        ],
        vec![
            ("FAXLINE_AGENT_SECRET", STRONG_AGENT),
            ("API_KEY", STRONG_KEY),
            ("ASTERISK_INBOUND_SECRET", STRONG_KEY),
        ],
    ] {
        let (ok, out) = faxline(dir, &check, &env);
        assert!(!ok, "accepted {env:?}:\n{out}");
        assert!(!out.contains("configuration ok"), "{out}");
    }
    let (ok, out) = faxline(
        dir,
        &check,
        &[
            ("FAXLINE_AGENT_SECRET", STRONG_AGENT),
            ("API_KEY", STRONG_KEY),
        ],
    );
    assert!(ok, "strong secrets refused:\n{out}");
    assert!(out.contains("configuration ok"), "{out}");
}
