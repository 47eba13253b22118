//! docker-compose.yml and docker/: checked structurally (Docker cannot run here). The AMI port is never
//! published, every container runs as non-root, secrets have no defaults, every service has a healthcheck, and
//! the network addresses agree with the example configuration (which generated manager.conf). The Asterisk
//! entrypoint is run for real with a stand-in `asterisk` binary: it fills exactly the two secret placeholders.
//! If compose (v2 `docker compose` or v1 `docker-compose`) is installed, its `config` must accept the file and the
//! loopback overlay as well. docker/smoke-test.sh runs the real containers (a Docker engine is not assumed in CI).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use faxline_agent::config::{Config, Env};
use serde_norway::Value;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn compose() -> Value {
    let text = std::fs::read_to_string(repo().join("docker-compose.yml")).unwrap();
    serde_norway::from_str(&text).expect("docker-compose.yml is YAML")
}

fn services(c: &Value) -> Vec<(String, &Value)> {
    c["services"]
        .as_mapping()
        .expect("services")
        .iter()
        .map(|(k, v)| (k.as_str().unwrap().to_owned(), v))
        .collect()
}

fn example() -> Config {
    Config::load(Some(&repo().join("faxline.example.toml")), &Env::default()).unwrap()
}

#[test]
fn services_are_the_three_expected() {
    let c = compose();
    let names: BTreeSet<String> = services(&c).into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        BTreeSet::from(["asterisk".into(), "agent".into(), "api".into()])
    );
}

#[test]
fn ami_port_is_never_published() {
    let c = compose();
    let ami_port = example().lines.ami.port.to_string();
    for (name, s) in services(&c) {
        for p in s["ports"].as_sequence().map(Vec::as_slice).unwrap_or(&[]) {
            let spec = match p {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Mapping(m) => format!(
                    "{}:{}",
                    m.get("published")
                        .map(|v| format!("{v:?}"))
                        .unwrap_or_default(),
                    m.get("target")
                        .map(|v| format!("{v:?}"))
                        .unwrap_or_default()
                ),
                other => panic!("{name}: odd port entry {other:?}"),
            };
            // Any mention of the AMI port, including inside a range, is refused.
            for part in spec.split([':', '/', '-', '"']) {
                assert_ne!(part, ami_port, "{name} publishes the AMI port: {spec}");
            }
            for range in spec.split(':') {
                let range = range.split('/').next().unwrap();
                if let Some((a, b)) = range.split_once('-') {
                    let (a, b): (u16, u16) = (a.parse().unwrap(), b.parse().unwrap());
                    assert!(
                        !(a..=b).contains(&example().lines.ami.port),
                        "{name}: range {spec} covers the AMI"
                    );
                }
            }
        }
        assert!(
            s.get("network_mode").is_none(),
            "{name}: host networking would expose the AMI"
        );
    }
}

fn uid_of(user: &str) -> u32 {
    user.split(':')
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("user {user:?} must be numeric uid:gid"))
}

#[test]
fn every_container_runs_as_non_root_with_a_healthcheck() {
    let c = compose();
    for (name, s) in services(&c) {
        let user = s["user"]
            .as_str()
            .unwrap_or_else(|| panic!("{name} has no user:"));
        assert_ne!(uid_of(user), 0, "{name} runs as root");
        assert!(!user.starts_with("root"), "{name} runs as root");
        let hc = &s["healthcheck"]["test"];
        assert!(
            hc.as_sequence().is_some_and(|t| t.len() >= 2),
            "{name} has no healthcheck"
        );
        assert!(
            s["cap_drop"]
                .as_sequence()
                .is_some_and(|c| c.contains(&Value::from("ALL"))),
            "{name} keeps capabilities"
        );
        assert_ne!(
            s.get("privileged"),
            Some(&Value::Bool(true)),
            "{name} is privileged"
        );
    }
    // The Dockerfiles end as the same non-root users.
    for (file, uid) in [
        ("docker/asterisk/Dockerfile", 10010),
        ("docker/faxline/Dockerfile", 10001),
    ] {
        let text = std::fs::read_to_string(repo().join(file)).unwrap();
        let last_user = text
            .lines()
            .rev()
            .find_map(|l| l.strip_prefix("USER "))
            .unwrap_or_else(|| panic!("{file} has no USER"));
        assert_eq!(uid_of(last_user.trim()), uid, "{file}");
    }
}

/// Every `${NAME...}` interpolation in the file: (name, operator and rest).
fn interpolations(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("${") {
        let after = &rest[i + 2..];
        let end = after.find('}').expect("unclosed ${");
        let inner = &after[..end];
        let name_len = inner
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(inner.len());
        out.push((inner[..name_len].to_owned(), inner[name_len..].to_owned()));
        rest = &after[end..];
    }
    out
}

#[test]
fn secrets_have_no_defaults() {
    let text = std::fs::read_to_string(repo().join("docker-compose.yml")).unwrap();
    let c = compose();
    let secretish = |k: &str| {
        let k = k.to_ascii_uppercase();
        ["SECRET", "PASSWORD", "API_KEY", "TOKEN"]
            .iter()
            .any(|m| k.contains(m))
    };
    // Interpolated variables that carry secrets (or secret locations) must be required (`:?`), never defaulted.
    for (name, op) in interpolations(&text) {
        if secretish(&name) {
            assert!(
                op.starts_with(":?"),
                "${{{name}{op}}} must use :? (no default)"
            );
        }
    }
    // Secret environment values are only file paths under /run/secrets, never literal values.
    for (svc, s) in services(&c) {
        if let Some(env) = s["environment"].as_mapping() {
            for (k, v) in env {
                let k = k.as_str().unwrap();
                if secretish(k) {
                    let v = v.as_str().unwrap_or("");
                    assert!(
                        k.ends_with("_FILE") && v.starts_with("/run/secrets/"),
                        "{svc}: {k} must point to a Docker secret file, not carry a value"
                    );
                }
            }
        } else {
            assert!(
                s["environment"].is_null(),
                "{svc}: environment must be a mapping"
            );
        }
    }
    // Every Docker secret comes from the required secrets directory.
    let secrets = c["secrets"].as_mapping().unwrap();
    assert_eq!(secrets.len(), 4);
    for (k, v) in secrets {
        let file = v["file"].as_str().unwrap();
        assert!(
            file.starts_with("${FAXLINE_SECRETS_DIR:?"),
            "secret {k:?} must come from the required FAXLINE_SECRETS_DIR"
        );
    }
    // Each service gets only the secrets it needs: the agent never holds the API's admin key.
    let agent_secrets: BTreeSet<&str> = c["services"]["agent"]["secrets"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        agent_secrets,
        BTreeSet::from(["ami_secret", "agent_secret"])
    );
    let asterisk_secrets: Vec<&str> = c["services"]["asterisk"]["secrets"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(!asterisk_secrets.contains(&"agent_secret") && !asterisk_secrets.contains(&"api_key"));
}

#[test]
fn network_addresses_agree_with_the_configuration() {
    let c = compose();
    let cfg = example();
    let subnet: ipnet::IpNet = c["networks"]["faxline_net"]["ipam"]["config"][0]["subnet"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let addr = |svc: &str| -> std::net::IpAddr {
        c["services"][svc]["networks"]["faxline_net"]["ipv4_address"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert_eq!(
        addr("asterisk").to_string(),
        cfg.lines.ami.host,
        "the agent connects to Asterisk's address"
    );
    assert_eq!(
        addr("asterisk"),
        cfg.lines.ami.effective_bind_address(),
        "manager.conf binds to it"
    );
    assert!(subnet.contains(&addr("agent")));
    assert!(
        cfg.lines
            .ami
            .permit
            .iter()
            .any(|n| n.contains(&addr("agent"))),
        "the agent's address is permitted to log in"
    );
    assert!(
        !cfg.lines
            .ami
            .permit
            .iter()
            .any(|n| n.contains(&std::net::IpAddr::from([0u8, 0, 0, 0])) && n.prefix_len() == 0)
    );
    // The agent reaches the API by its service name on the private network.
    let base = cfg.api_client.base_url.as_deref().unwrap();
    assert!(base.starts_with("http://api:"), "{base}");
    // Published UDPTL and RTP ranges match the configuration.
    let ports: Vec<&str> = c["services"]["asterisk"]["ports"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let s = &cfg.lines.sip;
    let udptl = format!("{0}-{1}:{0}-{1}/udp", s.udptl_port_min, s.udptl_port_max);
    let rtp = format!("{0}-{1}:{0}-{1}/udp", s.rtp_port_min, s.rtp_port_max);
    assert!(ports.contains(&udptl.as_str()), "{ports:?} lacks {udptl}");
    assert!(ports.contains(&rtp.as_str()), "{ports:?} lacks {rtp}");
    // The API is published on loopback only.
    for p in c["services"]["api"]["ports"].as_sequence().unwrap() {
        assert!(p.as_str().unwrap().starts_with("127.0.0.1:"), "{p:?}");
    }
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn have(cmd: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {cmd}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Run docker/asterisk/entrypoint.sh with its paths redirected into a temporary directory and a stand-in
/// `asterisk` that records its arguments and environment.
fn run_entrypoint(env: &[(&str, &str)]) -> (std::process::Output, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let script = std::fs::read_to_string(repo().join("docker/asterisk/entrypoint.sh"))
        .unwrap()
        .replace(
            "/etc/faxline/asterisk",
            &root.join("src").display().to_string(),
        )
        .replace(
            "dst=/etc/asterisk",
            &format!("dst={}", root.join("etc").display()),
        );
    write(&root.join("entrypoint.sh"), &script);
    for f in std::fs::read_dir(repo().join("asterisk")).unwrap() {
        let f = f.unwrap().path();
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::copy(&f, root.join("src").join(f.file_name().unwrap())).unwrap();
    }
    std::fs::create_dir_all(root.join("etc")).unwrap();
    write(
        &root.join("bin/asterisk"),
        "#!/bin/sh\necho \"args: $*\"\nenv | grep '^FAXLINE_' || true\n",
    );
    Command::new("chmod")
        .arg("+x")
        .arg(root.join("bin/asterisk"))
        .status()
        .unwrap();
    let path = format!(
        "{}:{}",
        root.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("sh")
        .arg(root.join("entrypoint.sh"))
        .env_clear()
        .env("PATH", path)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (out, tmp)
}

#[test]
fn asterisk_entrypoint_fills_only_the_secret_placeholders() {
    if !have("envsubst") {
        // gettext-base is in the Asterisk image; without it here the script cannot be exercised.
        eprintln!("envsubst not installed: entrypoint test skipped (install gettext-base)");
        return;
    }
    let ami = "3f9c2a7e5b18d046c1e7a92f";
    let sip = "Tq8-wz3LrV6p";
    let dir = tempfile::tempdir().unwrap();
    let ami_file = dir.path().join("ami");
    std::fs::write(&ami_file, format!("{ami}\n")).unwrap();
    let (out, tmp) = run_entrypoint(&[
        ("FAXLINE_AMI_SECRET_FILE", ami_file.to_str().unwrap()),
        ("FAXLINE_SIP_PASSWORD", sip),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("args: -f -vvv"), "{stdout}");
    assert!(
        !stdout.contains(ami) && !stdout.contains(sip),
        "secrets must not reach Asterisk's environment"
    );
    let etc = tmp.path().join("etc");
    let manager = std::fs::read_to_string(etc.join("manager.conf")).unwrap();
    assert!(manager.contains(&format!("secret = {ami}\n")));
    let pjsip = std::fs::read_to_string(etc.join("pjsip.conf")).unwrap();
    assert!(pjsip.contains(&format!("password = {sip}\n")));
    // Dialplan variables are left alone.
    let ext = std::fs::read_to_string(etc.join("extensions.conf")).unwrap();
    let committed = std::fs::read_to_string(repo().join("asterisk/extensions.conf")).unwrap();
    assert_eq!(ext, committed);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(etc.join("manager.conf"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "rendered files with secrets are private");

    // Missing, doubled and unsafe secrets stop the container with a message naming the variable.
    let (out, _t) = run_entrypoint(&[("FAXLINE_SIP_PASSWORD", sip)]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("FAXLINE_AMI_SECRET"));
    let (out, _t) = run_entrypoint(&[
        ("FAXLINE_AMI_SECRET", ami),
        ("FAXLINE_AMI_SECRET_FILE", ami_file.to_str().unwrap()),
        ("FAXLINE_SIP_PASSWORD", sip),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not both"));
    let (out, _t) = run_entrypoint(&[
        ("FAXLINE_AMI_SECRET", "abc;def"),
        ("FAXLINE_SIP_PASSWORD", sip),
    ]);
    assert!(!out.status.success());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("abc;def"));
}

/// Compose v2 (`docker compose`) and Debian's v1 (`docker-compose`), whichever are installed.
fn compose_commands() -> Vec<Vec<&'static str>> {
    [vec!["docker", "compose"], vec!["docker-compose"]]
        .into_iter()
        .filter(|cmd| {
            Command::new(cmd[0])
                .args(&cmd[1..])
                .arg("version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .collect()
}

#[test]
fn docker_compose_config_accepts_the_file_when_docker_compose_is_installed() {
    let commands = compose_commands();
    if commands.is_empty() {
        eprintln!(
            "neither `docker compose` nor `docker-compose` is available: only the structural checks ran"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for s in ["ami_secret", "agent_secret", "api_key", "sip_password"] {
        std::fs::write(dir.path().join(s), "unused").unwrap();
    }
    for cmd in commands {
        for file in ["docker-compose.yml", "docker/compose.loopback.yml"] {
            let mut files = vec![
                "-f".to_owned(),
                repo().join("docker-compose.yml").display().to_string(),
            ];
            if file != "docker-compose.yml" {
                files.extend(["-f".to_owned(), repo().join(file).display().to_string()]);
            }
            let run = |secrets: Option<&Path>| {
                let mut c = Command::new(cmd[0]);
                c.args(&cmd[1..])
                    .arg("--project-directory")
                    .arg(repo())
                    .args(&files)
                    .args(["config", "--quiet"])
                    .env_remove("FAXLINE_SECRETS_DIR");
                if let Some(dir) = secrets {
                    c.env("FAXLINE_SECRETS_DIR", dir);
                }
                c.output().unwrap()
            };
            // Without the secrets directory compose must refuse (no default).
            assert!(
                !run(None).status.success(),
                "{cmd:?} accepted {file} with FAXLINE_SECRETS_DIR missing"
            );
            let out = run(Some(dir.path()));
            assert!(
                out.status.success(),
                "{cmd:?} refused {file}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

#[test]
fn faxline_entrypoint_turns_secret_files_into_the_api_variables() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write(
        &root.join("bin/faxline"),
        "#!/bin/sh\necho \"args: $*\"\necho \"API_KEY=$API_KEY\"\necho \"AGENT=$FAXLINE_AGENT_SECRET\"\n\
         env | grep -c '_FILE=' || true\n",
    );
    Command::new("chmod")
        .arg("+x")
        .arg(root.join("bin/faxline"))
        .status()
        .unwrap();
    let key = root.join("api_key");
    let agent = root.join("agent_secret");
    std::fs::write(&key, "k3y-0f-the-api-9c2a7e5b18d046c1\n").unwrap();
    std::fs::write(&agent, "b7e41c09d2f85a36e0c47b1d9a2f6e83c5d07a14").unwrap();
    let path = format!(
        "{}:{}",
        root.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = |env: &[(&str, &std::ffi::OsStr)]| {
        Command::new("sh")
            .arg(repo().join("docker/faxline/entrypoint.sh"))
            .args(["serve", "--x"])
            .env_clear()
            .env("PATH", &path)
            .envs(env.iter().copied())
            .output()
            .unwrap()
    };
    let out = run(&[
        ("API_KEY_FILE", key.as_os_str()),
        ("FAXLINE_AGENT_SECRET_FILE", agent.as_os_str()),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("args: serve --x"), "{stdout}");
    assert!(
        stdout.contains("API_KEY=k3y-0f-the-api-9c2a7e5b18d046c1\n"),
        "{stdout}"
    );
    assert!(stdout.contains("AGENT=b7e41c09d2f85a36e0c47b1d9a2f6e83c5d07a14\n"));
    assert!(
        stdout.ends_with("0\n"),
        "the *_FILE variables are removed: {stdout}"
    );

    let out = run(&[
        ("API_KEY_FILE", key.as_os_str()),
        ("API_KEY", std::ffi::OsStr::new("x")),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not both"));
    let out = run(&[("API_KEY_FILE", std::ffi::OsStr::new("/nonexistent/key"))]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("API_KEY_FILE"));
}

#[test]
fn generated_secrets_pass_the_agents_checks() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = dir.path().join("secrets");
    let out = Command::new("sh")
        .arg(repo().join("docker/gen-secrets.sh"))
        .arg(&secrets)
        .env("FAXLINE_SIP_PASSWORD", "Tq8-wz3LrV6p")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let first = std::fs::read_to_string(secrets.join("ami_secret")).unwrap();
    // Idempotent: a second run keeps the values.
    let again = Command::new("sh")
        .arg(repo().join("docker/gen-secrets.sh"))
        .arg(&secrets)
        .output()
        .unwrap();
    assert!(again.status.success());
    assert_eq!(
        std::fs::read_to_string(secrets.join("ami_secret")).unwrap(),
        first
    );
    // Compose bind-mounts secret files as they are: readable by the owner and the containers' group (10000),
    // by nobody else, in a directory only that group may enter.
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    for name in ["ami_secret", "agent_secret", "api_key", "sip_password"] {
        let meta = std::fs::metadata(secrets.join(name)).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o640, "{name}");
        if meta.uid() == 0 {
            assert_eq!(meta.gid(), 10000, "{name} belongs to the containers' group");
        }
    }
    let dir_meta = std::fs::metadata(&secrets).unwrap();
    assert_eq!(dir_meta.permissions().mode() & 0o777, 0o750);

    // The files, wired the way docker-compose.yml wires them, satisfy --check.
    let file = |n: &str| secrets.join(n).display().to_string();
    let env = Env::from_pairs([
        ("FAXLINE_AMI__SECRET_FILE", file("ami_secret")),
        (
            "FAXLINE_API_CLIENT__AGENT_SECRET_FILE",
            file("agent_secret"),
        ),
        ("FAXLINE_SIP__PASSWORD_FILE", file("sip_password")),
        ("API_KEY_FILE", file("api_key")),
    ]);
    let cfg = Config::load(Some(&repo().join("faxline.example.toml")), &env).unwrap();
    let problems = faxline_agent::config::check_config(&cfg);
    assert!(
        problems.is_empty(),
        "{}",
        faxline_agent::config::render_problems(&problems)
    );
}
