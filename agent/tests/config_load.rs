//! Configuration: parsing, environment overrides (Faxline and Faxbot names), secrets from env and files, the
//! refusal of weak and reused secrets, the AMI address rules, the HTTPS rule, and `--check` reporting every
//! problem at once.

use std::path::PathBuf;

use faxline_agent::config::{
    Config, ConfigError, Env, Problem, RetryReason, Secret, SecretSource, Severity, check_config,
    render_problems,
};
use faxline_agent::lines::LineKind;
use faxline_agent::lines::sip::T38ErrorCorrection;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

// Random-looking test values (never used anywhere real).
const AMI: &str = "3f9c2a7e5b18d046c1e7a92f";
const AGENT: &str = "b7e41c09d2f85a36e0c47b1d9a2f6e83c5d07a14";
const SIP: &str = "Tq8-wz3LrV6p";

fn strong_env() -> Vec<(&'static str, String)> {
    vec![
        ("FAXLINE_AMI__SECRET", AMI.into()),
        ("FAXLINE_API_CLIENT__AGENT_SECRET", AGENT.into()),
        ("FAXLINE_SIP__PASSWORD", SIP.into()),
    ]
}

fn example(env: &[(&str, String)]) -> Config {
    Config::load(
        Some(&repo().join("faxline.example.toml")),
        &Env::from_pairs(env.iter().cloned()),
    )
    .expect("example config loads")
}

fn with(
    mut base: Vec<(&'static str, String)>,
    k: &'static str,
    v: &str,
) -> Vec<(&'static str, String)> {
    base.retain(|(n, _)| *n != k);
    base.push((k, v.to_owned()));
    base
}

fn errors_for<'a>(problems: &'a [Problem], setting: &str) -> Vec<&'a Problem> {
    problems
        .iter()
        .filter(|p| p.setting == setting && p.severity == Severity::Error)
        .collect()
}

#[track_caller]
fn assert_no_secret_leak(problems: &[Problem], secrets: &[&str]) {
    let text = render_problems(problems);
    for s in secrets {
        assert!(
            !text.contains(s),
            "a secret value leaked into the report:\n{text}"
        );
    }
}

#[test]
fn example_passes_check_with_secrets_from_env() {
    let cfg = example(&strong_env());
    let problems = check_config(&cfg);
    assert!(problems.is_empty(), "{}", render_problems(&problems));
    assert_eq!(cfg.line.kind, LineKind::Asterisk);
    assert_eq!(cfg.lines.ami.port, 5038);
    assert_eq!(cfg.lines.sip.t38_ec, T38ErrorCorrection::Redundancy);
    assert_eq!(cfg.lines.sip.t38_max_datagram, Some(400));
    assert_eq!(
        cfg.retry.retry_on,
        vec![
            RetryReason::Busy,
            RetryReason::NoAnswer,
            RetryReason::Congestion,
            RetryReason::ChannelUnavailable
        ]
    );
    assert_eq!(cfg.lines.ami.secret.as_ref().unwrap().expose(), AMI);
    assert_eq!(
        cfg.lines.ami.secret.as_ref().unwrap().source(),
        &SecretSource::Env("FAXLINE_AMI__SECRET".into())
    );
}

#[test]
fn example_without_secrets_names_every_missing_one() {
    let problems = check_config(&example(&[]));
    for s in ["ami.secret", "api_client.agent_secret", "sip.password"] {
        assert_eq!(
            errors_for(&problems, s).len(),
            1,
            "{s}: {}",
            render_problems(&problems)
        );
    }
    let text = render_problems(&problems);
    assert!(text.contains("FAXLINE_AMI__SECRET_FILE"), "{text}");
    assert!(text.contains("3 error(s)"), "{text}");
}

#[test]
fn defaults_are_the_loopback_line_and_need_no_secret() {
    let cfg = Config::load(None, &Env::default()).unwrap();
    assert_eq!(cfg.line.kind, LineKind::Loopback);
    assert!(cfg.lines.ami.secret.is_none());
    let problems = check_config(&cfg);
    assert!(
        problems.iter().all(|p| !p.is_error()),
        "{}",
        render_problems(&problems)
    );
}

#[test]
fn faxline_env_overrides_file_values_with_types() {
    let env = with(strong_env(), "FAXLINE_AMI__PORT", "15038");
    let env = with(env, "FAXLINE_SIP__NUMBERS", "+15550100, 15550199");
    let env = with(env, "FAXLINE_FAX__ECM", "no");
    let env = with(env, "FAXLINE_SIP__T38_MAX_DATAGRAM", "");
    let env = with(env, "FAXLINE_RETRY__RETRY_ON", "busy,transfer_failed");
    let env = with(env, "FAXLINE_RETRY__BACKOFF_MULTIPLIER", "1.5");
    let env = with(env, "FAXLINE_SIP__T38_EC", "fec");
    let cfg = example(&env);
    assert_eq!(cfg.lines.ami.port, 15038);
    assert_eq!(cfg.lines.sip.numbers, vec!["+15550100", "15550199"]);
    assert!(!cfg.fax.ecm);
    assert_eq!(
        cfg.lines.sip.t38_max_datagram, None,
        "empty string unsets an optional value"
    );
    assert_eq!(
        cfg.retry.retry_on,
        vec![RetryReason::Busy, RetryReason::TransferFailed]
    );
    assert_eq!(cfg.retry.backoff_multiplier, 1.5);
    assert_eq!(cfg.lines.sip.t38_ec, T38ErrorCorrection::Fec);
}

#[test]
fn faxbot_names_apply_but_faxline_names_win() {
    let env = vec![
        ("ASTERISK_AMI_HOST", "10.0.0.5".to_owned()),
        ("ASTERISK_AMI_PORT", "6038".to_owned()),
        ("ASTERISK_AMI_USERNAME", "faxagent".to_owned()),
        ("ASTERISK_AMI_PASSWORD", AMI.to_owned()),
        ("SIP_SERVER", "trunk.example.net".to_owned()),
        ("FAX_LOCAL_STATION_ID", "+49 30 1234".to_owned()),
        ("FAXLINE_AMI__PORT", "7038".to_owned()),
    ];
    let cfg = Config::load(None, &Env::from_pairs(env)).unwrap();
    assert_eq!(cfg.lines.ami.host, "10.0.0.5");
    assert_eq!(
        cfg.lines.ami.port, 7038,
        "FAXLINE_ wins over ASTERISK_AMI_PORT"
    );
    assert_eq!(cfg.lines.ami.username, "faxagent");
    assert_eq!(cfg.lines.ami.secret.as_ref().unwrap().expose(), AMI);
    assert_eq!(
        cfg.lines.ami.secret.as_ref().unwrap().source(),
        &SecretSource::Env("ASTERISK_AMI_PASSWORD".into())
    );
    assert_eq!(
        cfg.lines.sip.trunk_host.as_deref(),
        Some("trunk.example.net")
    );
    assert_eq!(cfg.fax.local_station_id, "+49 30 1234");
}

#[test]
fn faxline_config_names_the_file() {
    let path = repo().join("faxline.example.toml");
    let mut env = strong_env();
    env.push(("FAXLINE_CONFIG", path.display().to_string()));
    let cfg = Config::load(None, &Env::from_pairs(env)).unwrap();
    assert_eq!(cfg.line.kind, LineKind::Asterisk);
    assert_eq!(cfg.source_path.as_deref(), Some(path.as_path()));
}

#[test]
fn secrets_from_files() {
    let dir = tempfile::tempdir().unwrap();
    let ami = dir.path().join("ami_secret");
    let agent = dir.path().join("agent_secret");
    std::fs::write(&ami, format!("{AMI}\n")).unwrap();
    std::fs::write(&agent, AGENT).unwrap();
    let env = vec![
        ("FAXLINE_AMI__SECRET_FILE", ami.display().to_string()),
        (
            "FAXLINE_API_CLIENT__AGENT_SECRET_FILE",
            agent.display().to_string(),
        ),
        ("FAXLINE_SIP__PASSWORD", SIP.to_owned()),
    ];
    let cfg = example(&env);
    assert_eq!(
        cfg.lines.ami.secret.as_ref().unwrap().expose(),
        AMI,
        "trailing newline removed"
    );
    assert_eq!(
        cfg.lines.ami.secret.as_ref().unwrap().source(),
        &SecretSource::File(ami)
    );
    let problems = check_config(&cfg);
    assert!(problems.is_empty(), "{}", render_problems(&problems));
}

#[test]
fn unreadable_secret_file_and_double_setting_are_reported() {
    let env = with(
        strong_env(),
        "FAXLINE_API_CLIENT__AGENT_SECRET_FILE",
        "/nonexistent/agent",
    );
    let env = with(env, "FAXLINE_SIP__PASSWORD_FILE", "/nonexistent/sip");
    let problems = check_config(&example(&env));
    // agent secret given twice (env value and file) → one problem; sip password too.
    assert!(
        errors_for(&problems, "api_client.agent_secret")
            .iter()
            .any(|p| p.message.contains("both")),
        "{}",
        render_problems(&problems)
    );
    let env = vec![
        ("FAXLINE_AMI__SECRET", AMI.to_owned()),
        (
            "FAXLINE_API_CLIENT__AGENT_SECRET_FILE",
            "/nonexistent/agent".to_owned(),
        ),
        ("FAXLINE_SIP__PASSWORD", SIP.to_owned()),
    ];
    let problems = check_config(&example(&env));
    let file_errors = errors_for(&problems, "api_client.agent_secret_file");
    assert_eq!(file_errors.len(), 1, "{}", render_problems(&problems));
    assert!(file_errors[0].message.contains("/nonexistent/agent"));
}

#[test]
fn inline_secret_in_the_file_is_refused() {
    let text = format!("[line]\nkind = \"asterisk\"\n[ami]\nsecret = \"{AMI}\"\n");
    let cfg = Config::from_toml_str(&text, "test.toml", &Env::default()).unwrap();
    let problems = check_config(&cfg);
    let e = errors_for(&problems, "ami.secret");
    assert!(
        e.iter().any(|p| p.message.contains("FAXLINE_AMI__SECRET")),
        "{}",
        render_problems(&problems)
    );
    assert_no_secret_leak(&problems, &[AMI]);
}

#[test]
fn each_weak_secret_is_refused_without_printing_it() {
    let cases: &[(&str, &str, &str)] = &[
        ("FAXLINE_AMI__SECRET", "ami.secret", "changeme"),
        ("FAXLINE_AMI__SECRET", "ami.secret", "Password"),
        ("FAXLINE_AMI__SECRET", "ami.secret", "secret"),
        ("FAXLINE_AMI__SECRET", "ami.secret", "amp111"),
        ("FAXLINE_AMI__SECRET", "ami.secret", "shortbutrnd"),
        (
            "FAXLINE_AMI__SECRET",
            "ami.secret",
            "aaaaaaaaaaaaaaaaaaaaaaaa",
        ),
        (
            "FAXLINE_AMI__SECRET",
            "ami.secret",
            "replace-me-with-a-real-secret",
        ),
        (
            "FAXLINE_API_CLIENT__AGENT_SECRET",
            "api_client.agent_secret",
            "changeme",
        ),
        // 31 random-looking bytes: one short of the minimum.
        (
            "FAXLINE_API_CLIENT__AGENT_SECRET",
            "api_client.agent_secret",
            "b7e41c09d2f85a36e0c47b1d9a2f6e8",
        ),
        (
            "FAXLINE_API_CLIENT__AGENT_SECRET",
            "api_client.agent_secret",
            "0123456789abcdef0123456789abcdef",
        ),
        (
            "FAXLINE_API_CLIENT__AGENT_SECRET",
            "api_client.agent_secret",
            "abababababababababababababababababab",
        ),
        (
            "FAXLINE_API_CLIENT__AGENT_SECRET",
            "api_client.agent_secret",
            "abcdefghijklmnopqrstuvwxyzABCDEFGH",
        ),
        ("FAXLINE_SIP__PASSWORD", "sip.password", "changeme"),
    ];
    for (var, setting, value) in cases {
        let problems = check_config(&example(&with(strong_env(), var, value)));
        assert_eq!(
            errors_for(&problems, setting).len(),
            1,
            "{value:?} for {setting} should be refused once:\n{}",
            render_problems(&problems)
        );
        if *value != "secret" {
            // ("secret" is also a word of the setting name.)
            assert_no_secret_leak(&problems, &[value]);
        }
        assert!(
            render_problems(&problems).contains(&format!("(from {var})")),
            "the message names where the value came from"
        );
    }
}

#[test]
fn reused_secrets_are_refused_naming_both_settings() {
    // AMI secret equal to the agent secret (both strong enough for the AMI rule).
    let env = with(strong_env(), "FAXLINE_AMI__SECRET", AGENT);
    let problems = check_config(&example(&env));
    let e = errors_for(&problems, "ami.secret");
    assert!(
        e.iter()
            .any(|p| p.message.contains("api_client.agent_secret")),
        "{}",
        render_problems(&problems)
    );
    assert_no_secret_leak(&problems, &[AGENT]);

    // AMI secret equal to the SIP password.
    let env = with(strong_env(), "FAXLINE_SIP__PASSWORD", AMI);
    let problems = check_config(&example(&env));
    assert!(
        errors_for(&problems, "ami.secret")
            .iter()
            .any(|p| p.message.contains("sip.password")),
        "{}",
        render_problems(&problems)
    );

    // The agent secret equal to the API's bootstrap key (Faxbot's API_KEY).
    let env = with(strong_env(), "API_KEY", AGENT);
    let problems = check_config(&example(&env));
    assert!(
        errors_for(&problems, "api_client.agent_secret")
            .iter()
            .any(|p| p.message.contains("API_KEY")),
        "{}",
        render_problems(&problems)
    );

    // The API's own copy of the agent secret is the same secret by design, but the AMI may not reuse it.
    let env = with(strong_env(), "FAXLINE_AGENT_SECRET", AGENT);
    let problems = check_config(&example(&env));
    assert!(problems.is_empty(), "{}", render_problems(&problems));
    let env = with(strong_env(), "FAXLINE_AGENT_SECRET", AMI);
    let problems = check_config(&example(&env));
    assert!(
        errors_for(&problems, "ami.secret")
            .iter()
            .any(|p| p.message.contains("FAXLINE_AGENT_SECRET")),
        "{}",
        render_problems(&problems)
    );
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("server_secret");
    std::fs::write(&f, AGENT).unwrap();
    let env = with(
        strong_env(),
        "FAXLINE_SERVER_SECRET_FILE",
        f.to_str().unwrap(),
    );
    let problems = check_config(&example(&env));
    assert!(
        errors_for(&problems, "api_client.agent_secret")
            .iter()
            .any(|p| p.message.contains("FAXLINE_SERVER_SECRET_FILE")),
        "{}",
        render_problems(&problems)
    );

    // …or to a secret configured in [api].
    let env = with(strong_env(), "FAXLINE_API__BOOTSTRAP_KEY", AMI);
    let problems = check_config(&example(&env));
    assert!(
        errors_for(&problems, "ami.secret")
            .iter()
            .any(|p| p.message.contains("api.bootstrap_key")),
        "{}",
        render_problems(&problems)
    );

    // A secret equal to a user name.
    let env = with(strong_env(), "FAXLINE_AMI__USERNAME", "Zx81-qwPlm77");
    let env = with(env, "FAXLINE_SIP__PASSWORD", "Zx81-qwPlm77");
    let problems = check_config(&example(&env));
    assert!(
        errors_for(&problems, "sip.password")
            .iter()
            .any(|p| p.message.contains("ami.username")),
        "{}",
        render_problems(&problems)
    );
}

#[test]
fn secrets_asterisk_cannot_carry_are_refused() {
    let env = with(strong_env(), "FAXLINE_AMI__SECRET", "Q7v;Kp2xZr9mW4tLs8Nd");
    let problems = check_config(&example(&env));
    assert_eq!(
        errors_for(&problems, "ami.secret").len(),
        1,
        "{}",
        render_problems(&problems)
    );
}

#[test]
fn ami_host_must_be_internal() {
    for ok in [
        "127.0.0.1",
        "::1",
        "10.20.30.40",
        "172.16.5.5",
        "192.168.1.2",
        "fd12:3456::1",
        "fe80::2",
        "169.254.10.1",
        "asterisk",
        "localhost",
    ] {
        let problems = check_config(&example(&with(strong_env(), "FAXLINE_AMI__HOST", ok)));
        assert!(
            errors_for(&problems, "ami.host").is_empty(),
            "{ok}: {}",
            render_problems(&problems)
        );
    }
    for bad in [
        "8.8.8.8",
        "2001:4860:4860::8888",
        "0.0.0.0",
        "::",
        "172.32.0.1",
        "not a host",
        "ami.invalid",
    ] {
        let problems = check_config(&example(&with(strong_env(), "FAXLINE_AMI__HOST", bad)));
        assert_eq!(
            errors_for(&problems, "ami.host").len(),
            1,
            "{bad}: {}",
            render_problems(&problems)
        );
    }
}

#[test]
fn ami_bind_and_permit_must_be_internal() {
    let problems = check_config(&example(&with(
        strong_env(),
        "FAXLINE_AMI__BIND_ADDRESS",
        "0.0.0.0",
    )));
    assert_eq!(
        errors_for(&problems, "ami.bind_address").len(),
        1,
        "{}",
        render_problems(&problems)
    );
    let problems = check_config(&example(&with(
        strong_env(),
        "FAXLINE_AMI__BIND_ADDRESS",
        "203.0.113.7",
    )));
    assert_eq!(errors_for(&problems, "ami.bind_address").len(), 1);
    let problems = check_config(&example(&with(
        strong_env(),
        "FAXLINE_AMI__PERMIT",
        "0.0.0.0/0",
    )));
    assert_eq!(
        errors_for(&problems, "ami.permit").len(),
        1,
        "{}",
        render_problems(&problems)
    );
    let problems = check_config(&example(&with(
        strong_env(),
        "FAXLINE_AMI__PERMIT",
        "10.0.0.0/8,198.51.100.0/24",
    )));
    assert_eq!(errors_for(&problems, "ami.permit").len(), 1);
}

#[test]
fn api_url_must_be_https_unless_local_and_allowed() {
    let url = "FAXLINE_API_CLIENT__BASE_URL";
    let allow = "FAXLINE_API_CLIENT__ALLOW_HTTP";
    let cases: &[(&str, &str, bool)] = &[
        ("https://fax.example.com", "false", true),
        ("http://fax.example.com", "false", false),
        ("http://fax.example.com", "true", false),
        ("http://api:8080", "false", false),
        ("http://api:8080", "true", true),
        ("http://127.0.0.1:8080", "true", true),
        ("http://203.0.113.5:8080", "true", false),
        ("https://user:pw@fax.example.com", "false", false),
        ("ftp://fax.example.com", "true", false),
        ("not a url", "false", false),
    ];
    for (u, a, ok) in cases {
        let env = with(with(strong_env(), url, u), allow, a);
        let problems = check_config(&example(&env));
        assert_eq!(
            errors_for(&problems, "api_client.base_url").is_empty(),
            *ok,
            "{u} allow_http={a}: {}",
            render_problems(&problems)
        );
    }
}

#[test]
fn all_problems_are_reported_at_once() {
    let env = vec![
        ("FAXLINE_AMI__SECRET", "changeme".to_owned()),
        ("FAXLINE_AMI__HOST", "8.8.8.8".to_owned()),
        ("FAXLINE_API_CLIENT__AGENT_SECRET", "changeme".to_owned()),
        (
            "FAXLINE_API_CLIENT__BASE_URL",
            "http://fax.example.com".to_owned(),
        ),
        ("FAXLINE_SIP__UDPTL_PORT_MIN", "5000".to_owned()),
        ("FAXLINE_SIP__UDPTL_PORT_MAX", "4000".to_owned()),
        ("FAXLINE_FAX__MAX_RATE", "1234".to_owned()),
        ("FAXLINE_RETRY__MAX_ATTEMPTS", "0".to_owned()),
        ("FAXLINE_SIP__NUMBERS", "+1555x".to_owned()),
    ];
    let problems = check_config(&example(&env));
    for s in [
        "ami.secret",
        "ami.host",
        "api_client.agent_secret",
        "api_client.base_url",
        "sip.udptl_port_min",
        "fax.max_rate",
        "retry.max_attempts",
        "sip.numbers",
        "sip.password",
    ] {
        assert!(
            !errors_for(&problems, s).is_empty(),
            "{s} missing:\n{}",
            render_problems(&problems)
        );
    }
    assert_no_secret_leak(&problems, &["changeme"]);
}

#[test]
fn structural_errors_stop_loading_with_the_setting_named() {
    let err = example(&[]).lines.ami.port; // sanity: loads
    assert_eq!(err, 5038);
    let e = Config::load(
        Some(&repo().join("faxline.example.toml")),
        &Env::from_pairs([("FAXLINE_AMI__PORT", "fifty")]),
    )
    .unwrap_err();
    let text = e.to_string();
    assert!(text.contains("port") && text.contains("[ami]"), "{text}");

    let e = Config::from_toml_str("[ami]\nprot = 5038\n", "t.toml", &Env::default()).unwrap_err();
    assert!(e.to_string().contains("prot"), "{e}");

    let e = Config::load(None, &Env::from_pairs([("FAXLINE_AMY__PORT", "1")])).unwrap_err();
    assert!(matches!(e, ConfigError::UnknownEnvSection { .. }), "{e}");
    assert!(e.to_string().contains("FAXLINE_AMY__PORT"));

    let e =
        Config::from_toml_str("[line]\nkind = \"pots\"\n", "t.toml", &Env::default()).unwrap_err();
    assert!(e.to_string().contains("pots"), "{e}");

    let e = Config::load(Some(&repo().join("no-such.toml")), &Env::default()).unwrap_err();
    assert!(matches!(e, ConfigError::Read { .. }));
}

#[test]
fn secrets_never_appear_in_debug() {
    let cfg = example(&with(
        strong_env(),
        "FAXLINE_API__BOOTSTRAP_KEY",
        "9d8c7b6a5f4e3d2c1b0a99887766554433221100",
    ));
    assert!(!format!("{cfg:?}").contains("9d8c7b6a5f4e3d2c1b0a99887766554433221100"));
    assert!(format!("{:?}", cfg.api).contains("bootstrap_key"));
    let dump = format!("{cfg:?}");
    for s in [AMI, AGENT, SIP] {
        assert!(!dump.contains(s), "Debug of Config shows a secret");
    }
    let s = Secret::with_source(AGENT, SecretSource::Inline);
    assert!(!format!("{s:?}").contains(AGENT));
    let env = Env::from_pairs(strong_env());
    assert!(!format!("{env:?}").contains(AMI));
}

#[test]
fn retry_backoff_grows_and_caps() {
    let cfg = example(&strong_env());
    let r = &cfg.retry;
    assert_eq!(r.backoff(2).as_secs(), 60);
    assert_eq!(r.backoff(3).as_secs(), 120);
    assert_eq!(r.backoff(4).as_secs(), 240);
    assert_eq!(r.backoff(30).as_secs(), 1800);
}

/// `[sip] ring_seconds` and `caller_id_header`: read from the file and the environment, validated.
#[test]
fn sip_ring_seconds_and_caller_id_header_are_validated() {
    use faxline_agent::lines::sip::CallerIdHeader;
    let cfg = example(&strong_env());
    assert_eq!(cfg.lines.sip.ring_seconds, 60);
    assert_eq!(cfg.lines.sip.caller_id_header, CallerIdHeader::Auto);
    let env = with(strong_env(), "FAXLINE_SIP__CALLER_ID_HEADER", "both");
    let env = with(env, "FAXLINE_SIP__RING_SECONDS", "45");
    let cfg = example(&env);
    assert_eq!(cfg.lines.sip.caller_id_header, CallerIdHeader::Both);
    assert_eq!(cfg.lines.sip.ring_seconds, 45);
    assert!(errors_for(&check_config(&cfg), "sip.ring_seconds").is_empty());
    for bad in ["0", "4", "301"] {
        let cfg = example(&with(strong_env(), "FAXLINE_SIP__RING_SECONDS", bad));
        assert_eq!(
            errors_for(&check_config(&cfg), "sip.ring_seconds").len(),
            1,
            "{bad}"
        );
    }
    // Identity headers named without a number to put in them.
    let mut cfg = example(&with(strong_env(), "FAXLINE_SIP__CALLER_ID_HEADER", "pai"));
    cfg.lines.sip.caller_id = None;
    assert_eq!(
        errors_for(&check_config(&cfg), "sip.caller_id_header").len(),
        1
    );
    cfg.lines.sip.caller_id_header = CallerIdHeader::Auto;
    assert!(errors_for(&check_config(&cfg), "sip.caller_id_header").is_empty());
    // Values other than the five are refused when loading, naming the setting.
    let err = Config::load(
        Some(&repo().join("faxline.example.toml")),
        &Env::from_pairs(with(strong_env(), "FAXLINE_SIP__CALLER_ID_HEADER", "pid")),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("caller_id_header"), "{err}");
}

/// `[sip] called_number_sources` (environment list, unknown names refused, empty refused) and the
/// From-domain warning of `--check` while registering.
#[test]
fn sip_called_number_sources_and_the_from_domain_warning() {
    use faxline_agent::lines::sip::CalledNumberSource as S;
    let cfg = example(&strong_env());
    assert_eq!(
        cfg.lines.sip.called_number_sources,
        vec![S::RequestUri, S::To, S::PCalledPartyId]
    );
    let env = with(
        strong_env(),
        "FAXLINE_SIP__CALLED_NUMBER_SOURCES",
        "to, history_info,diversion",
    );
    assert_eq!(
        example(&env).lines.sip.called_number_sources,
        vec![S::To, S::HistoryInfo, S::Diversion]
    );
    let err = Config::load(
        Some(&repo().join("faxline.example.toml")),
        &Env::from_pairs(with(
            strong_env(),
            "FAXLINE_SIP__CALLED_NUMBER_SOURCES",
            "request_uri,from",
        )),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("called_number_sources"), "{err}");
    let mut cfg = example(&strong_env());
    cfg.lines.sip.called_number_sources.clear();
    assert_eq!(
        errors_for(&check_config(&cfg), "sip.called_number_sources").len(),
        1
    );
    // The example registers with its trunk and names the trunk's domain: no warning.
    let warnings = |cfg: &Config| {
        check_config(cfg)
            .into_iter()
            .filter(|p| p.setting == "sip.from_domain" && p.severity == Severity::Warning)
            .count()
    };
    let mut cfg = example(&strong_env());
    assert_eq!(warnings(&cfg), 0);
    // Another From domain while registering is warned about, and not an error.
    cfg.lines.sip.from_domain = Some("other.example".into());
    assert_eq!(warnings(&cfg), 1);
    assert!(errors_for(&check_config(&cfg), "sip.from_domain").is_empty());
    // A separate registrar counts, not the trunk.
    cfg.lines.sip.registrar = Some("other.example".into());
    assert_eq!(warnings(&cfg), 0);
    cfg.lines.sip.registrar = None;
    cfg.lines.sip.register = false;
    assert_eq!(warnings(&cfg), 0);
}

#[test]
fn the_call_time_limit_is_a_limit_of_every_line() {
    let cfg = Config::from_toml_str(
        "[limits]\nmax_call_seconds = 600\n",
        "t.toml",
        &Env::default(),
    )
    .unwrap();
    assert_eq!(cfg.limits.max_call_seconds, 600);
    let problems = check_config(&cfg);
    assert!(
        problems
            .iter()
            .all(|p| !p.setting.contains("max_call_seconds")),
        "{}",
        render_problems(&problems)
    );
    // The default is an hour; out of range is an error for the loopback line too.
    assert_eq!(Config::default().limits.max_call_seconds, 3600);
    let cfg = Config::from_toml_str(
        "[limits]\nmax_call_seconds = 30\n",
        "t.toml",
        &Env::default(),
    )
    .unwrap();
    assert_eq!(cfg.line.kind, LineKind::Loopback);
    assert_eq!(
        errors_for(&check_config(&cfg), "limits.max_call_seconds").len(),
        1
    );
    // From the environment, as any setting.
    let cfg = Config::from_toml_str(
        "",
        "t.toml",
        &Env::from_pairs([("FAXLINE_LIMITS__MAX_CALL_SECONDS", "900")]),
    )
    .unwrap();
    assert_eq!(cfg.limits.max_call_seconds, 900);
}

#[test]
fn asterisk_max_call_seconds_is_a_deprecated_alias() {
    let no_env = Env::default;
    let warned = |cfg: &Config| {
        check_config(cfg)
            .into_iter()
            .filter(|p| p.setting == "asterisk.max_call_seconds" && p.severity == Severity::Warning)
            .map(|p| p.message)
            .collect::<Vec<_>>()
    };
    // Alone: it still sets the limit, with a warning naming the new place.
    let cfg = Config::from_toml_str("[asterisk]\nmax_call_seconds = 1200\n", "t.toml", &no_env())
        .unwrap();
    assert_eq!(cfg.limits.max_call_seconds, 1200);
    let w = warned(&cfg);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains("limits.max_call_seconds"), "{w:?}");
    // Through its old environment name too.
    let cfg = Config::from_toml_str(
        "",
        "t.toml",
        &Env::from_pairs([("FAXLINE_ASTERISK__MAX_CALL_SECONDS", "700")]),
    )
    .unwrap();
    assert_eq!(cfg.limits.max_call_seconds, 700);
    assert_eq!(warned(&cfg).len(), 1);
    // With [limits] set as well, [limits] wins and the alias is reported as ignored.
    let cfg = Config::from_toml_str(
        "[asterisk]\nmax_call_seconds = 1200\n[limits]\nmax_call_seconds = 1800\n",
        "t.toml",
        &no_env(),
    )
    .unwrap();
    assert_eq!(cfg.limits.max_call_seconds, 1800);
    let w = warned(&cfg);
    assert!(w.len() == 1 && w[0].contains("ignored"), "{w:?}");
    // An out-of-range value is reported under the name it was written as.
    let cfg =
        Config::from_toml_str("[asterisk]\nmax_call_seconds = 10\n", "t.toml", &no_env()).unwrap();
    assert_eq!(
        errors_for(&check_config(&cfg), "asterisk.max_call_seconds").len(),
        1
    );
}

#[test]
fn sections_nobody_reads_are_named() {
    use faxline_agent::config::unknown_sections;
    let text = "[api]\nx = 1\n[ami]\nport = 1\n[amy]\nport = 2\n[sip]\n[limits]\n";
    assert_eq!(unknown_sections(text).unwrap(), vec!["amy".to_owned()]);
    assert!(unknown_sections("listen = 1\n").unwrap().is_empty());
    assert!(unknown_sections("[broken").is_err());
    // The example configuration names only sections that are read.
    let example = std::fs::read_to_string(repo().join("faxline.example.toml")).unwrap();
    assert!(unknown_sections(&example).unwrap().is_empty());
}

/// `[agent] metrics_listen`: off by default, set from the file or `FAXLINE_AGENT__METRICS_LISTEN`, a bad address
/// refused, and a non-loopback address warned about (that endpoint has no authentication).
#[test]
fn agent_metrics_listen() {
    let cfg = example(&strong_env());
    assert_eq!(cfg.agent.metrics_listen, None);
    let warned = |cfg: &Config| {
        check_config(cfg)
            .into_iter()
            .filter(|p| p.setting == "agent.metrics_listen" && p.severity == Severity::Warning)
            .count()
    };
    let env = with(
        strong_env(),
        "FAXLINE_AGENT__METRICS_LISTEN",
        "127.0.0.1:9464",
    );
    let cfg = example(&env);
    assert_eq!(
        cfg.agent.metrics_listen,
        Some("127.0.0.1:9464".parse().unwrap())
    );
    assert_eq!(warned(&cfg), 0);
    let env = with(
        strong_env(),
        "FAXLINE_AGENT__METRICS_LISTEN",
        "0.0.0.0:9464",
    );
    assert_eq!(warned(&example(&env)), 1);
    let err = Config::load(
        Some(&repo().join("faxline.example.toml")),
        &Env::from_pairs(with(
            strong_env(),
            "FAXLINE_AGENT__METRICS_LISTEN",
            "localhost",
        )),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("metrics_listen"), "{err}");
}

#[test]
fn receive_only_needs_a_line_that_answers_calls_at_the_agent() {
    // The example's Asterisk line answers inbound calls: a receive-only agent on it is fine.
    let cfg = example(&with(strong_env(), "FAXLINE_AGENT__RECEIVE_ONLY", "yes"));
    assert!(cfg.agent.receive_only);
    assert!(errors_for(&check_config(&cfg), "agent.receive_only").is_empty());
    // The loopback line receives nothing from outside: refused, with the reason.
    let env = Env::from_pairs([("FAXLINE_AGENT__RECEIVE_ONLY", "true".to_owned())]);
    let cfg = Config::load(None, &env).unwrap();
    let problems = check_config(&cfg);
    let errors = errors_for(&problems, "agent.receive_only");
    assert_eq!(errors.len(), 1, "{}", render_problems(&problems));
    assert!(
        errors[0]
            .message
            .contains("loopback line receives no calls")
    );
}
