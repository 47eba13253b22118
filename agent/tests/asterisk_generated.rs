//! The Asterisk files under `asterisk/` are exactly what the generator makes from `faxline.example.toml`, and
//! what it makes is consistent: option names Asterisk really has, the least-privilege AMI user, one result
//! event per call whose values cannot be split by commas, every dialplan application and function provided by a
//! loaded module, and result keys compatible with the events real Asterisk produced (fixtures/captures).
//!
//! To regenerate after changing the generator or the example: `FAXLINE_BLESS=1 cargo test -p faxline-agent
//! --test asterisk_generated`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use faxline_agent::config::{Config, Env};
use faxline_agent::lines::asterisk::dialplan::{
    self, AMI_EVENTS, CONTEXT_OUT, EXTEN_SEND, OriginateError, RESULT_EVENT, RESULT_KEYS_RECEIVE,
    RESULT_KEYS_SEND, VAR_DEST, VAR_ECM, VAR_JOB, generate, originate_headers, uri_decode,
};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

const SECRETS: [(&str, &str); 3] = [
    ("FAXLINE_AMI__SECRET", "3f9c2a7e5b18d046c1e7a92f"),
    (
        "FAXLINE_API_CLIENT__AGENT_SECRET",
        "b7e41c09d2f85a36e0c47b1d9a2f6e83c5d07a14",
    ),
    ("FAXLINE_SIP__PASSWORD", "Tq8-wz3LrV6p"),
];

fn example() -> Config {
    Config::load(
        Some(&repo().join("faxline.example.toml")),
        &Env::from_pairs(SECRETS),
    )
    .unwrap()
}

fn file(name: &str) -> String {
    generate(&example())
        .into_iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("{name} not generated"))
        .contents
}

/// `key = value` pairs per `[section]` (sections may repeat, as in pjsip.conf).
fn ini(text: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut out: Vec<(String, Vec<(String, String)>)> = Vec::new();
    for line in text.lines() {
        let line = line.split(';').next().unwrap().trim();
        if line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            out.push((name.to_owned(), Vec::new()));
            continue;
        }
        let (k, v) = line
            .split_once("=>")
            .or_else(|| line.split_once('='))
            .unwrap_or_else(|| panic!("not a key/value line: {line}"));
        out.last_mut()
            .expect("key before any section")
            .1
            .push((k.trim().to_owned(), v.trim().to_owned()));
    }
    out
}

fn values<'a>(section: &'a [(String, String)], key: &str) -> Vec<&'a str> {
    section
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .collect()
}

#[test]
fn committed_files_equal_the_generator_output() {
    let dir = repo().join("asterisk");
    let files = generate(&example());
    if std::env::var_os("FAXLINE_BLESS").is_some() {
        dialplan::write_all(&example(), &dir).unwrap();
    }
    for f in &files {
        let committed = std::fs::read_to_string(dir.join(f.name)).unwrap_or_else(|e| {
            panic!(
                "asterisk/{} missing ({e}); run with FAXLINE_BLESS=1",
                f.name
            )
        });
        assert!(
            committed == f.contents,
            "asterisk/{} differs from the generator's output; run with FAXLINE_BLESS=1 and review the diff",
            f.name
        );
    }
    // And --check reports drift through asterisk.config_dir.
    let mut cfg = example();
    cfg.lines.asterisk.config_dir = Some(dir.clone());
    assert!(dialplan::check_generated(&cfg, &dir).is_empty());
    let tmp = tempfile::tempdir().unwrap();
    dialplan::write_all(&cfg, tmp.path()).unwrap();
    std::fs::write(
        tmp.path().join("manager.conf"),
        "[general]\nenabled = yes\n",
    )
    .unwrap();
    let drift = dialplan::check_generated(&cfg, tmp.path());
    assert_eq!(drift.len(), 1, "{drift:?}");
    assert!(drift[0].message.contains("manager.conf"));
}

#[test]
fn output_is_deterministic_and_carries_no_secret() {
    let a = generate(&example());
    let b = generate(&example());
    assert_eq!(a, b);
    for f in &a {
        for (_, secret) in SECRETS {
            assert!(!f.contents.contains(secret), "{} contains a secret", f.name);
        }
    }
    assert!(file("manager.conf").contains("secret = ${FAXLINE_AMI_SECRET}"));
    assert!(file("pjsip.conf").contains("password = ${FAXLINE_SIP_PASSWORD}"));
}

#[test]
fn manager_conf_is_private_and_least_privilege() {
    let cfg = example();
    let m = ini(&file("manager.conf"));
    let general = &m.iter().find(|(s, _)| s == "general").unwrap().1;
    assert_eq!(values(general, "enabled"), ["yes"]);
    assert_eq!(values(general, "webenabled"), ["no"]);
    assert_eq!(values(general, "displayconnects"), ["no"]);
    assert_eq!(values(general, "port"), [cfg.lines.ami.port.to_string()]);
    assert_eq!(values(general, "bindaddr"), ["172.28.0.10"]);
    let user = &m
        .iter()
        .find(|(s, _)| *s == cfg.lines.ami.username)
        .unwrap()
        .1;
    // Reading `system` events (the trunk's Registry and ContactStatus) allows no action; writing it would.
    assert_eq!(values(user, "read"), ["call,user,system"]);
    assert_eq!(values(user, "write"), ["originate,call,reporting"]);
    for (k, v) in user {
        let forbidden: &[&str] = match k.as_str() {
            "read" => &["all", "command", "config", "dialplan", "agent"],
            "write" => &["all", "system", "command", "config", "dialplan", "agent"],
            _ => continue,
        };
        for class in v.split(',') {
            assert!(!forbidden.contains(&class), "{k} grants {class}");
        }
    }
    assert_eq!(values(user, "deny"), ["0.0.0.0/0.0.0.0", "::/0"]);
    assert_eq!(values(user, "permit"), ["172.28.0.0/255.255.255.0"]);
    // Advanced filters on the exact event name (Asterisk 20: manager.conf `eventfilter(...)`): a legacy regex
    // filter `Event: Hangup` also lets HangupRequest through.
    assert!(
        values(user, "eventfilter").is_empty(),
        "legacy regex filter"
    );
    let filters: Vec<&str> = user
        .iter()
        .filter_map(|(k, v)| {
            assert!(!k.starts_with("eventfilter(") || v.is_empty(), "{k} = {v}");
            k.strip_prefix("eventfilter(action(include),name(")?
                .strip_suffix("))")
        })
        .collect();
    assert_eq!(filters, AMI_EVENTS);
    assert!(!filters.contains(&"HangupRequest"));
    // The classes cover what the agent does (telephony.md §1.3, §1.6; manager.c / res_fax.c registrations):
    // an action is allowed when any of its classes is granted.
    let write: BTreeSet<&str> = values(user, "write")[0].split(',').collect();
    for (action, classes) in [
        ("Originate", &["originate"][..]),
        ("Getvar", &["call", "reporting"][..]),
        ("Hangup", &["system", "call"][..]),
        ("Status", &["system", "call", "reporting"][..]),
        ("FAXSessions", &["call"][..]),
        ("FAXStats", &["reporting"][..]),
    ] {
        assert!(
            classes.iter().any(|c| write.contains(c)),
            "{action} not permitted"
        );
    }
}

#[test]
fn pjsip_conf_uses_real_option_names_and_t38_settings() {
    // Option names checked against res/res_pjsip/pjsip_config.xml and res_pjsip_outbound_registration.c
    // (Asterisk master f0c1c1a7b7).
    let known: BTreeMap<&str, &[&str]> = BTreeMap::from([
        (
            "transport",
            &[
                "type",
                "protocol",
                "bind",
                "external_media_address",
                "external_signaling_address",
                "local_net",
                "cert_file",
                "priv_key_file",
                "method",
            ][..],
        ),
        ("auth", &["type", "auth_type", "username", "password"][..]),
        ("aor", &["type", "contact", "qualify_frequency"][..]),
        (
            "endpoint",
            &[
                "type",
                "transport",
                "context",
                "aors",
                "outbound_auth",
                "from_user",
                "from_domain",
                "disallow",
                "allow",
                "direct_media",
                "rtp_symmetric",
                "force_rport",
                "rewrite_contact",
                "dtmf_mode",
                "fax_detect",
                "t38_udptl",
                "t38_udptl_ec",
                "t38_udptl_nat",
                "t38_udptl_maxdatagram",
            ][..],
        ),
        ("identify", &["type", "endpoint", "match"][..]),
        (
            "registration",
            &[
                "type",
                "transport",
                "outbound_auth",
                "server_uri",
                "client_uri",
                "contact_user",
                "endpoint",
                "line",
                "retry_interval",
                "forbidden_retry_interval",
                "expiration",
            ][..],
        ),
    ]);
    let p = ini(&file("pjsip.conf"));
    let mut types = BTreeSet::new();
    for (name, kv) in &p {
        let ty = values(kv, "type");
        assert_eq!(ty.len(), 1, "[{name}] has no single type");
        types.insert(ty[0]);
        let allowed = known[ty[0]];
        for (k, _) in kv {
            assert!(
                allowed.contains(&k.as_str()),
                "[{name}] type={}: unknown option {k}",
                ty[0]
            );
        }
    }
    assert_eq!(
        types,
        BTreeSet::from([
            "transport",
            "auth",
            "aor",
            "endpoint",
            "identify",
            "registration"
        ])
    );
    let ep = &p
        .iter()
        .find(|(n, kv)| n == "faxline-trunk" && values(kv, "type") == ["endpoint"])
        .unwrap()
        .1;
    assert_eq!(values(ep, "t38_udptl"), ["yes"]);
    assert_eq!(values(ep, "t38_udptl_ec"), ["redundancy"]);
    assert_eq!(values(ep, "t38_udptl_maxdatagram"), ["400"]);
    assert_eq!(values(ep, "t38_udptl_nat"), ["yes"]);
    assert_eq!(values(ep, "disallow"), ["all"]);
    assert_eq!(values(ep, "allow"), ["ulaw,alaw"]);
    assert_eq!(values(ep, "direct_media"), ["no"]);
    assert_eq!(values(ep, "context"), ["faxline-in"]);
    let tr = &p.iter().find(|(n, _)| n == "faxline-transport").unwrap().1;
    assert_eq!(values(tr, "external_media_address"), ["203.0.113.10"]);
    assert_eq!(values(tr, "external_signaling_address"), ["203.0.113.10"]);
    assert_eq!(values(tr, "local_net").len(), 3);
    let aor = &p
        .iter()
        .find(|(n, kv)| n == "faxline-trunk" && values(kv, "type") == ["aor"])
        .unwrap()
        .1;
    assert_eq!(
        values(aor, "contact"),
        ["sip:sip.carrier.example:5060"],
        "a static contact, unlike Faxbot"
    );
}

#[test]
fn udptl_rtp_res_fax_and_modules_use_real_keys() {
    let u = ini(&file("udptl.conf"));
    let keys: BTreeSet<&str> = u[0].1.iter().map(|(k, _)| k.as_str()).collect();
    // main/udptl.c configOption names.
    let real = BTreeSet::from([
        "udptlstart",
        "udptlend",
        "udptlchecksums",
        "udptlfecentries",
        "udptlfecspan",
        "use_even_ports",
    ]);
    assert!(keys.is_subset(&real), "{keys:?}");
    assert_eq!(values(&u[0].1, "udptlstart"), ["4000"]);
    assert_eq!(values(&u[0].1, "udptlend"), ["4199"]);
    assert_eq!(values(&u[0].1, "udptlfecentries"), ["3"]);

    let f = ini(&file("res_fax.conf"));
    let keys: BTreeSet<&str> = f[0].1.iter().map(|(k, _)| k.as_str()).collect();
    // res/res_fax.c set_config() keys.
    let real = BTreeSet::from([
        "maxrate",
        "minrate",
        "statusevents",
        "ecm",
        "modems",
        "t38timeout",
    ]);
    assert_eq!(keys, real);

    let r = ini(&file("rtp.conf"));
    assert_eq!(values(&r[0].1, "rtpstart"), ["10000"]);

    let m = ini(&file("modules.conf"));
    assert_eq!(values(&m[0].1, "autoload"), ["no"]);
    let loaded = values(&m[0].1, "load");
    for needed in [
        "res_fax_spandsp.so",
        "res_fax.so",
        "chan_pjsip.so",
        "res_pjsip_t38.so",
        "pbx_config.so",
    ] {
        assert!(loaded.contains(&needed), "{needed} not loaded");
    }
    assert!(
        !loaded.iter().any(|m| m.starts_with("chan_sip")),
        "chan_sip must not load"
    );
}

/// Applications and functions used in the dialplan → the module that provides them (or core).
fn provider(name: &str) -> Option<&'static str> {
    Some(match name {
        "Set" | "NoOp" | "Answer" | "Hangup" | "Goto" | "GotoIf" | "Return" | "Wait" => "core",
        "Dial" => "app_dial.so",
        "TryExec" => "app_exec.so",
        "Gosub" => "app_stack.so",
        "UserEvent" => "app_userevent.so",
        "SendFAX" | "ReceiveFAX" | "FAXOPT" => "res_fax.so",
        "CHANNEL" => "func_channel.so",
        "SHARED" => "func_global.so",
        "FILTER" | "LEN" | "REPLACE" | "STRFTIME" => "func_strings.so",
        "IF" => "func_logic.so",
        "URIENCODE" => "func_uri.so",
        "STAT" => "func_env.so",
        "CALLERID" => "func_callerid.so",
        _ => return None,
    })
}

#[test]
fn every_dialplan_application_and_function_is_loaded() {
    let ext = file("extensions.conf");
    let loaded = file("modules.conf");
    let mut seen = BTreeSet::new();
    for line in ext.lines().filter(|l| l.contains("=>")) {
        let body = line.split_once("=>").unwrap().1;
        // exten => <ext>,<prio>,<App>(...)   /   same => n[(label)],<App>(...)
        let parts: Vec<&str> = body.splitn(3, ',').collect();
        let app_part = if line.trim_start().starts_with("exten") {
            parts[2]
        } else {
            parts[1]
        };
        let app = app_part.split('(').next().unwrap().trim();
        seen.insert(app.to_owned());
        // TryExec(App(args)) runs App.
        if app == "TryExec" {
            seen.insert(app_part.split('(').nth(1).unwrap().trim().to_owned());
        }
        // Functions: NAME( preceded by "${" or "=".
        for (i, _) in body.match_indices('(') {
            let name: String = body[..i]
                .chars()
                .rev()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect::<String>()
                .chars()
                .rev()
                .collect();
            let is_function = name.len() >= 2
                && name.chars().any(|c| c.is_ascii_uppercase())
                && name
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
            if is_function {
                seen.insert(name);
            }
        }
    }
    for name in &seen {
        let module =
            provider(name).unwrap_or_else(|| panic!("dialplan uses {name}, provider unknown"));
        assert!(
            module == "core" || loaded.contains(module),
            "{name} needs {module}"
        );
    }
    assert!(seen.contains("SendFAX") && seen.contains("ReceiveFAX") && seen.contains("TryExec"));
    assert!(
        !seen.contains("SHARED"),
        "results are reported by the channel that holds them, never copied between channels"
    );
}

#[test]
fn dialplan_sends_with_t38_initiation_and_reports_once() {
    let ext = file("extensions.conf");
    // SendFAX options: z (initiate T.38), f (audio fallback, configurable), s (status events).
    assert!(ext.contains("FAXLINE_SEND_OPTS = zfs"), "{ext}");
    assert!(ext.contains("FAXLINE_RECV_OPTS = fs"));
    // The dial-result handler is pushed before anything can fail on the ;2 channel.
    let send_first =
        format!("exten => {EXTEN_SEND},1,Set(CHANNEL(hangup_handler_push)=faxline-result,dial,1)");
    assert!(ext.contains(&send_first), "{ext}");
    assert!(ext.contains("same => n,Set(CHANNEL(hangup_handler_push)=faxline-result,receive,1)"));
    // The channel that runs SendFAX pushes its own result handler first, keyed by the job token.
    let send_ctx = ext.split("[faxline-send]").nth(1).unwrap();
    assert!(send_ctx.starts_with(
        "\nexten => s,1,Set(CHANNEL(hangup_handler_push)=faxline-result,fax,1(${ARG1},${ARG2}))"
    ));
    // SendFAX's non-zero return cannot end the routine abnormally (app_dial would bridge the legs): TryExec,
    // then ABORT hangs up both.
    assert!(send_ctx.contains(
        "same => n,TryExec(SendFAX(${ARG2},${FAXLINE_SEND_OPTS}))\n same => n,Set(GOSUB_RESULT=ABORT)"
    ));
    // Three UserEvent calls — fax, dial, receive — all in the hangup handler context.
    let events: Vec<&str> = ext.lines().filter(|l| l.contains("UserEvent(")).collect();
    assert_eq!(events.len(), 3, "{events:?}");
    let result_ctx = ext.split("[faxline-result]").nth(1).unwrap();
    assert_eq!(result_ctx.matches("UserEvent(").count(), 3);
    // The fax result reads only the fax channel's own variables.
    let fax = events.iter().find(|l| l.contains("Source: fax")).unwrap();
    for var in [
        "FAXSTATUS",
        "FAXERROR",
        "FAXPAGES",
        "FAXMODE",
        "FAXBITRATE",
        "REMOTESTATIONID",
        "HANGUPCAUSE",
    ] {
        assert!(fax.contains(&format!("${{{var}}}")), "{var}");
    }
    assert!(fax.contains("JobID: ${URIENCODE(${ARG1})}"));
    // SendFAX runs through Dial U() on the trunk channel; Dial rings ring_seconds.
    assert!(
        ext.contains("Dial(PJSIP/${FAXLINE_DEST}@faxline-trunk,${FAXLINE_RING},U(faxline-send^")
    );
    assert!(ext.contains("FAXLINE_RING = 60"));
    assert!(ext.contains("SendFAX(${ARG2},${FAXLINE_SEND_OPTS})"));
    assert!(ext.contains("ReceiveFAX(${FAXLINE_FILE},${FAXLINE_RECV_OPTS})"));
    // Only the configured DID is answered (with and without '+').
    assert!(ext.contains("exten => +15550100,1,") && ext.contains("exten => 15550100,1,"));
    assert!(
        !ext.contains("exten => _X."),
        "no catch-all when numbers are configured"
    );

    // Audio fallback off → no `f`.
    let mut cfg = example();
    cfg.fax.audio_fallback = false;
    cfg.fax.status_events = false;
    let ext2 = dialplan::generate(&cfg)
        .into_iter()
        .find(|f| f.name == "extensions.conf")
        .unwrap()
        .contents;
    assert!(ext2.contains("FAXLINE_SEND_OPTS = z\n"), "{ext2}");
}

/// What `UserEvent(FaxResult,k: v,…)` does with its argument string: split on commas, then each at the first ':'.
fn userevent_headers(call: &str) -> Vec<(String, String)> {
    let inner = call
        .split_once("UserEvent(")
        .unwrap()
        .1
        .trim_end()
        .strip_suffix(')')
        .unwrap();
    let mut parts = inner.split(',');
    assert_eq!(parts.next(), Some(RESULT_EVENT));
    parts
        .map(|p| {
            let (k, v) = p.split_once(':').expect("key: value");
            (k.trim().to_owned(), v.trim().to_owned())
        })
        .collect()
}

/// A stand-in for Asterisk's URIENCODE (ast_uri_encode with the HTTP flags): unreserved characters stay.
fn uriencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[test]
fn result_event_values_survive_commas_and_colons() {
    let ext = file("extensions.conf");
    for (line, dir, keys) in [
        (
            ext.lines()
                .find(|l| l.contains("UserEvent(") && l.contains("Source: fax"))
                .unwrap(),
            "send",
            RESULT_KEYS_SEND,
        ),
        (
            ext.lines()
                .find(|l| l.contains("UserEvent(") && l.contains("Source: dial"))
                .unwrap(),
            "send",
            RESULT_KEYS_SEND,
        ),
        (
            ext.lines()
                .find(|l| l.contains("Direction: receive"))
                .unwrap(),
            "receive",
            RESULT_KEYS_RECEIVE,
        ),
    ] {
        let headers = userevent_headers(line);
        let names: Vec<&str> = headers.iter().map(|(k, _)| k.as_str()).collect();
        let mut expected = vec!["Encoding", "Direction"];
        expected.extend_from_slice(keys);
        assert_eq!(names, expected);
        assert_eq!(headers[0].1, "uri");
        assert_eq!(headers[1].1, dir);
        for (k, v) in &headers[2..] {
            // Encoded, or a constant that cannot split the argument list.
            let constant = !v.contains('$') && !v.contains(',') && !v.contains(':');
            assert!(
                v.starts_with("${URIENCODE(")
                    || (k == "Status" && v.starts_with("${IF("))
                    || constant,
                "{k} is not encoded: {v}"
            );
        }
        // Substitute hostile values the way Asterisk would (expand then URIENCODE) and split like UserEvent.
        let hostile = "Disconnected after permitted retries, remote: 1,2";
        let expanded: String = headers
            .iter()
            .map(|(k, v)| {
                let value = if v.starts_with("${URIENCODE(") {
                    uriencode(hostile)
                } else {
                    v.clone()
                };
                format!(",{k}: {value}")
            })
            .collect();
        let again = userevent_headers(&format!("UserEvent({RESULT_EVENT}{expanded})"));
        assert_eq!(
            again.len(),
            headers.len(),
            "a value split the argument list"
        );
        for ((k, v), (_, template)) in again[2..].iter().zip(&headers[2..]) {
            if template.starts_with("${URIENCODE(") {
                assert_eq!(uri_decode(v), hostile, "{k}");
            }
        }
    }
}

/// Keys of the `FaxResult` UserEvents in a captured AMI transcript, per direction.
fn captured_keys(transcript: &str) -> Vec<(String, BTreeSet<String>)> {
    let mut out = Vec::new();
    let transcript = transcript.replace("\r\n", "\n");
    for block in transcript.split("\n\n") {
        let lines: Vec<&str> = block.lines().collect();
        if !lines.contains(&"Event: UserEvent") || !lines.contains(&"UserEvent: FaxResult") {
            continue;
        }
        let start = lines
            .iter()
            .position(|l| *l == "UserEvent: FaxResult")
            .unwrap();
        let keys: BTreeSet<String> = lines[start + 1..]
            .iter()
            .filter_map(|l| l.split_once(':').map(|(k, _)| k.to_owned()))
            .collect();
        let dir = lines
            .iter()
            .find_map(|l| l.strip_prefix("Direction: "))
            .unwrap()
            .to_owned();
        out.push((dir, keys));
    }
    out
}

#[test]
fn result_keys_cover_what_real_asterisk_reported() {
    let dir = repo().join("fixtures/captures");
    let mut found = 0;
    for name in [
        "t38_fax_loopback_ami_transcript.txt",
        "t38_fax_to_agent_ami_transcript.txt",
        "t38_fax_from_agent_ami_transcript.txt",
    ] {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        for (direction, keys) in captured_keys(&text) {
            found += 1;
            let ours: BTreeSet<String> = match direction.as_str() {
                "send" => RESULT_KEYS_SEND,
                "receive" => RESULT_KEYS_RECEIVE,
                other => panic!("direction {other}"),
            }
            .iter()
            .map(|s| s.to_string())
            .chain(["Direction".to_owned()])
            .collect();
            let missing: Vec<_> = keys.difference(&ours).collect();
            assert!(
                missing.is_empty(),
                "{name} {direction}: keys we do not report: {missing:?}"
            );
        }
    }
    assert_eq!(
        found, 4,
        "the transcripts hold 2 send and 2 receive results"
    );
}

#[test]
fn originate_matches_the_dialplan_and_refuses_unsafe_values() {
    let cfg = example();
    let h = originate_headers(&cfg, "job_0123abcd", "+15551234567", Some(false)).unwrap();
    let get = |k: &str| {
        h.iter()
            .filter(|(n, _)| *n == k)
            .map(|(_, v)| v.as_str())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        get("Channel"),
        [format!("Local/{EXTEN_SEND}@{CONTEXT_OUT}/n")]
    );
    assert_eq!(get("Application"), ["Wait"]);
    assert_eq!(get("Data"), ["3600"]);
    assert_eq!(get("Async"), ["true"]);
    assert_eq!(
        get("Variable"),
        [
            format!("{VAR_JOB}=job_0123abcd"),
            format!("{VAR_DEST}=+15551234567"),
            format!("{VAR_ECM}=no")
        ]
    );
    for (_, v) in &h {
        assert!(
            !v.contains(','),
            "Originate splits Variable values on commas"
        );
    }
    let ext = file("extensions.conf");
    assert!(ext.contains(&format!("[{CONTEXT_OUT}]\nexten => {EXTEN_SEND},1,")));
    assert!(ext.contains(&format!("${{{VAR_JOB}}}")) && ext.contains(&format!("${{{VAR_DEST}}}")));
    assert!(ext.contains(&format!("${{{VAR_ECM}}}")));
    assert_eq!(
        dialplan::outgoing_path_for_asterisk(&cfg, "job_0123abcd"),
        PathBuf::from("/var/spool/faxline/out/job_0123abcd.tif")
    );
    assert!(ext.contains("FAXLINE_SPOOL_OUT = /var/spool/faxline/out"));

    for bad in ["", "a,b", "a-b", "job 1", "x;y", &"a".repeat(65), "../x"] {
        assert_eq!(
            originate_headers(&cfg, bad, "+1555", None).unwrap_err(),
            OriginateError::InvalidJobToken,
            "{bad:?}"
        );
    }
    for bad in [
        "",
        "+",
        "1555,G(x)",
        "1555&PJSIP/1",
        "sip:1555",
        "12 34",
        &"1".repeat(33),
    ] {
        assert_eq!(
            originate_headers(&cfg, "job1", bad, None).unwrap_err(),
            OriginateError::InvalidDestination,
            "{bad:?}"
        );
    }
}

#[test]
fn the_generate_command_writes_the_files_and_check_names_it() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("asterisk");
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_faxline"))
        .args(["asterisk", "generate", "--config"])
        .arg(repo().join("faxline.example.toml"))
        .arg("--out")
        .arg(&out)
        .env_remove("FAXLINE_CONFIG")
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    for f in generate(&example()) {
        assert_eq!(
            std::fs::read_to_string(out.join(f.name)).unwrap(),
            f.contents,
            "{}",
            f.name
        );
    }
    assert!(dialplan::check_generated(&example(), &out).is_empty());
    std::fs::write(out.join("extensions.conf"), "[faxline-out]\n").unwrap();
    std::fs::remove_file(out.join("udptl.conf")).unwrap();
    let drift = dialplan::check_generated(&example(), &out);
    assert_eq!(drift.len(), 2, "{drift:?}");
    for p in &drift {
        assert!(
            p.message.contains(&format!(
                "faxline asterisk generate --out {}",
                out.display()
            )),
            "{}",
            p.message
        );
    }
}
