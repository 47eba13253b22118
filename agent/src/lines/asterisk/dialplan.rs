//! Asterisk configuration generated from the agent's configuration, so the two cannot disagree: the AMI user,
//! port and bind address, the spool paths, the channel variables the agent sets in `Originate`, the result
//! `UserEvent` and its keys, and the T.38 settings all come from one place.
//!
//! Secrets are never written: the files carry the placeholders [`AMI_SECRET_PLACEHOLDER`] and
//! [`SIP_PASSWORD_PLACEHOLDER`], which the Asterisk container's entrypoint fills from the environment or secret
//! files at start (`docker/asterisk/entrypoint.sh`).
//!
//! # Call flow (outbound)
//! The agent sends `Originate` with [`originate_headers`]: `Channel: Local/send@faxline-out/n`,
//! `Application: Wait` (the `;1` half waits at most `limits.max_call_seconds`, a hard watchdog), and the
//! variables [`VAR_JOB`], [`VAR_DEST`] (and optionally [`VAR_ECM`]). The `;2` half runs `[faxline-out]`:
//! it pushes its dial-result hangup handler first, validates the variables, answers itself, and `Dial`s the trunk
//! with `U(faxline-send^…)`, so `SendFAX` runs on the answered trunk channel.
//!
//! # Who reports what (exactly one complete result per attempt)
//! - The trunk channel that runs `SendFAX` reports the fax itself: `[faxline-send]` first pushes a hangup handler
//!   on that same channel, which raises `FaxResult` with `Source: fax` from the channel's own res_fax variables
//!   (`FAXSTATUS`, `FAXERROR`, `FAXPAGES`, `FAXMODE`, …), keyed by the attempt's token. A hangup handler runs once
//!   on every path that ends the channel (normal end, far end hung up first, `SendFAX` failing, a bridge) and
//!   reads only its own channel, so no other channel's lifetime can empty or lose the result. (The `h` extension
//!   would never run there: a channel dialled by `Dial` has no PBX of its own.)
//! - `SendFAX` runs under `TryExec`, so its non-zero return (the receiver hung up first, which is the normal end of
//!   a fax, or the file could not be read) never ends the `U()` routine abnormally: the routine goes on to
//!   `GOSUB_RESULT=ABORT` and `Dial` hangs up both legs at once. (An abnormal `U()` exit makes `app_dial` bridge
//!   the answered trunk with the `;2` half: a silent call held until the far end hangs up.)
//! - The `;2` half's hangup handler raises `FaxResult` with `Source: dial`: the dial outcome (`DIALSTATUS`,
//!   `HANGUPCAUSE`, or a `PreError` when the dialplan refused the attempt). For an answered call it carries no fax
//!   values, and the agent waits for the `fax` one; it is the result only when the call was never answered.
//!
//! # Result event
//! `Event: UserEvent`, `UserEvent: FaxResult`, `Encoding: uri`, `Direction: send|receive`, then the keys in
//! [`RESULT_KEYS_SEND`] / [`RESULT_KEYS_RECEIVE`]. Every value after `Direction` is URI-encoded in the dialplan
//! (`URIENCODE`), so commas and colons in res_fax's error strings or a caller's number cannot break the
//! `UserEvent` argument list; decode them with [`uri_decode`].

use std::fmt::Write as _;
use std::path::Path;

pub use super::result::{
    Direction, FaxMode, FaxResultEvent, FaxStatus, ResultParseError, ResultSource,
};

use super::config::spool_dir;
use crate::config::{Config, Problem};
use crate::lines::sip::{SipTransport, T38ErrorCorrection};

/// Dialplan context the agent originates into.
pub const CONTEXT_OUT: &str = "faxline-out";
/// Extension in [`CONTEXT_OUT`].
pub const EXTEN_SEND: &str = "send";
/// Subroutine run on the answered trunk channel (Dial `U()`).
pub const CONTEXT_SEND: &str = "faxline-send";
/// Hangup handlers that raise the result events (extensions [`EXTEN_RESULT_FAX`], [`EXTEN_RESULT_DIAL`],
/// `receive`).
pub const CONTEXT_RESULT: &str = "faxline-result";
/// The fax channel's result handler (in [`CONTEXT_RESULT`]).
pub const EXTEN_RESULT_FAX: &str = "fax";
/// The `;2` half's dial-result handler (in [`CONTEXT_RESULT`]).
pub const EXTEN_RESULT_DIAL: &str = "dial";
/// Inbound calls from the trunk.
pub const CONTEXT_IN: &str = "faxline-in";
/// Inbound fax reception.
pub const CONTEXT_RECEIVE: &str = "faxline-receive";
/// pjsip section names.
pub const ENDPOINT: &str = "faxline-trunk";
pub const TRANSPORT: &str = "faxline-transport";

/// Channel variable: the job token (`[0-9A-Za-z_]{1,64}`); the outgoing TIFF is `<spool>/out/<token>.tif`.
pub const VAR_JOB: &str = "FAXLINE_JOB";
/// Channel variable: the number to dial (`+` and digits).
pub const VAR_DEST: &str = "FAXLINE_DEST";
/// Channel variable: `yes`/`no` to override ECM for this attempt (retry without ECM).
pub const VAR_ECM: &str = "FAXLINE_ECM";

/// The `UserEvent` name.
pub const RESULT_EVENT: &str = "FaxResult";
/// Keys of the send result, in order (after `Encoding` and `Direction`). `Source` is `fax` (the channel that ran
/// SendFAX) or `dial` (the `;2` half: the dial outcome).
pub const RESULT_KEYS_SEND: &[&str] = &[
    "Source",
    "JobID",
    "File",
    "Status",
    "Error",
    "StatusString",
    "PreError",
    "DialStatus",
    "HangupCause",
    "Mode",
    "Pages",
    "Bitrate",
    "Resolution",
    "LocalStationID",
    "RemoteStationID",
];
/// Keys of the receive result, in order (after `Encoding` and `Direction`).
pub const RESULT_KEYS_RECEIVE: &[&str] = &[
    "JobID",
    "DID",
    "CallerID",
    "File",
    "Status",
    "Error",
    "StatusString",
    "HangupCause",
    "Mode",
    "Pages",
    "Bitrate",
    "Resolution",
    "LocalStationID",
    "RemoteStationID",
];
/// `PreError` values: the dialplan refused the attempt before dialling.
pub const PRE_ERROR_INVALID: &str = "INVALID_ARGUMENTS";
pub const PRE_ERROR_NO_FILE: &str = "NO_SUCH_FILE";

/// `Source` values of a send result.
pub const SOURCE_FAX: &str = "fax";
pub const SOURCE_DIAL: &str = "dial";

/// Placeholders filled at container start. Never replaced by the generator.
pub const AMI_SECRET_PLACEHOLDER: &str = "${FAXLINE_AMI_SECRET}";
pub const SIP_PASSWORD_PLACEHOLDER: &str = "${FAXLINE_SIP_PASSWORD}";

/// AMI events the agent uses; everything else is filtered out in manager.conf.
pub const AMI_EVENTS: &[&str] = &[
    "OriginateResponse",
    "Newchannel",
    "Hangup",
    "UserEvent",
    "FAXStatus",
    "SendFAX",
    "ReceiveFAX",
    "Registry",
    "ContactStatus",
];
/// manager.conf `read`: `call` (OriginateResponse, Newchannel, Hangup, FAXStatus, SendFAX, ReceiveFAX),
/// `user` (UserEvent) and `system` (Registry, ContactStatus: the trunk's registration and qualify state, and
/// FullyBooted with Asterisk's uptime after each login). Reading `system` events grants no action; list events
/// (FAXSessionsEntry) are written to the session directly and need no class.
pub const AMI_READ: &str = "call,user,system";
/// manager.conf `write`: `originate` (Originate), `call` (Getvar, Hangup, Status, FAXSessions, FAXSession —
/// each action needs any one of its classes), `reporting` (FAXStats). No `system`, `command`, `config`,
/// `dialplan` or `agent`: the agent user cannot reconfigure Asterisk, run CLI commands or Originate into
/// `System()`.
pub const AMI_WRITE: &str = "originate,call,reporting";

/// One generated file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    pub name: &'static str,
    pub contents: String,
}

/// Why an Originate could not be built.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OriginateError {
    #[error("job token must be 1-64 characters of letters, digits and '_'")]
    InvalidJobToken,
    #[error("destination must be digits with an optional leading '+' (at most 32 digits)")]
    InvalidDestination,
}

/// A valid job token: what the dialplan accepts in [`VAR_JOB`] (also the outgoing file name). The engine's
/// rule for names in the spool, which the dialplan checks too.
pub use crate::engine::spool::is_valid_job_token;

/// The AMI `Originate` headers (without `Action`, `ActionID`, `ChannelId`) that start a send on the generated
/// dialplan. `Variable` is repeated, one per variable, never with commas in values.
pub fn originate_headers(
    cfg: &Config,
    job_token: &str,
    destination: &str,
    ecm: Option<bool>,
) -> Result<Vec<(&'static str, String)>, OriginateError> {
    if !is_valid_job_token(job_token) {
        return Err(OriginateError::InvalidJobToken);
    }
    if !faxline_protocol::PhoneNumber::is_valid(destination) {
        return Err(OriginateError::InvalidDestination);
    }
    let mut h = vec![
        ("Channel", format!("Local/{EXTEN_SEND}@{CONTEXT_OUT}/n")),
        ("Application", "Wait".to_owned()),
        ("Data", cfg.limits.max_call_seconds.to_string()),
        ("Async", "true".to_owned()),
        // The `;2` half answers at once; this only bounds Asterisk's own channel setup.
        ("Timeout", "10000".to_owned()),
        ("Variable", format!("{VAR_JOB}={job_token}")),
        ("Variable", format!("{VAR_DEST}={destination}")),
    ];
    if let Some(ecm) = ecm {
        h.push((
            "Variable",
            format!("{VAR_ECM}={}", if ecm { "yes" } else { "no" }),
        ));
    }
    Ok(h)
}

/// The path Asterisk reads for a job token.
pub fn outgoing_path_for_asterisk(cfg: &Config, job_token: &str) -> std::path::PathBuf {
    spool_dir(cfg).join("out").join(format!("{job_token}.tif"))
}

/// Decode a URI-encoded value from the result event (`%XX`; `+` is literal, as `URIENCODE` writes spaces as
/// `%20`). Invalid escapes are kept as they are; invalid UTF-8 is replaced.
pub fn uri_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Generate every file. Deterministic: the same configuration gives byte-identical output.
pub fn generate(cfg: &Config) -> Vec<GeneratedFile> {
    vec![
        GeneratedFile {
            name: "extensions.conf",
            contents: extensions_conf(cfg),
        },
        GeneratedFile {
            name: "pjsip.conf",
            contents: pjsip_conf(cfg),
        },
        GeneratedFile {
            name: "manager.conf",
            contents: manager_conf(cfg),
        },
        GeneratedFile {
            name: "udptl.conf",
            contents: udptl_conf(cfg),
        },
        GeneratedFile {
            name: "rtp.conf",
            contents: rtp_conf(cfg),
        },
        GeneratedFile {
            name: "res_fax.conf",
            contents: res_fax_conf(cfg),
        },
        GeneratedFile {
            name: "modules.conf",
            contents: modules_conf(),
        },
        GeneratedFile {
            name: "logger.conf",
            contents: logger_conf(),
        },
    ]
}

/// Write the files into `dir` (each via a temporary file and rename, so Asterisk never reads half a file).
pub fn write_all(cfg: &Config, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for f in generate(cfg) {
        let tmp = dir.join(format!(".{}.tmp", f.name));
        std::fs::write(&tmp, f.contents.as_bytes())?;
        std::fs::rename(&tmp, dir.join(f.name))?;
    }
    Ok(())
}

/// Compare the files in `dir` with the generator's output (for `--check`): one problem per missing or
/// different file.
pub fn check_generated(cfg: &Config, dir: &Path) -> Vec<Problem> {
    let mut problems = Vec::new();
    for f in generate(cfg) {
        let path = dir.join(f.name);
        match std::fs::read_to_string(&path) {
            Ok(s) if s == f.contents => {}
            Ok(_) => problems.push(Problem::error(
                "asterisk.config_dir",
                format!(
                    "{} differs from what this configuration generates; regenerate the Asterisk files with \
                     `faxline asterisk generate --out {}` (same --config)",
                    path.display(),
                    dir.display()
                ),
            )),
            Err(e) => problems.push(Problem::error(
                "asterisk.config_dir",
                format!(
                    "cannot read {}: {e}; generate the Asterisk files with `faxline asterisk generate --out {}`",
                    path.display(),
                    dir.display()
                ),
            )),
        }
    }
    problems
}

fn header(out: &mut String, what: &str) {
    let _ = writeln!(
        out,
        "; {what}\n; GENERATED by faxline (agent/src/lines/asterisk/dialplan.rs) from the agent's configuration. Do not edit:\n\
         ; change faxline.toml and regenerate, so Asterisk and the agent cannot disagree.\n\
         ; Secrets appear only as ${{...}} placeholders, filled when the container starts.\n"
    );
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn extensions_conf(cfg: &Config) -> String {
    let spool = spool_dir(cfg);
    let spool = spool.to_string_lossy();
    let spool = spool.trim_end_matches('/');
    let fax = &cfg.fax;
    let mut send_opts = String::from("z");
    let mut recv_opts = String::new();
    if fax.audio_fallback {
        send_opts.push('f');
        recv_opts.push('f');
    }
    if fax.status_events {
        send_opts.push('s');
        recv_opts.push('s');
    }
    let mut o = String::new();
    header(&mut o, "extensions.conf — the fax dialplan");
    let _ = writeln!(
        o,
        "[general]\nstatic = yes\nwriteprotect = yes\nclearglobalvars = yes\n\n[globals]\n\
         FAXLINE_SPOOL_OUT = {spool}/out\n\
         FAXLINE_SPOOL_IN = {spool}/in\n\
         FAXLINE_LOCALID = {localid}\n\
         FAXLINE_HEADER = {header}\n\
         FAXLINE_ECM_DEFAULT = {ecm}\n\
         FAXLINE_RING = {ring}\n\
         ; SendFAX: z = send our own T.38 re-INVITE if the far end does not, f = audio fallback, s = FAXStatus events\n\
         FAXLINE_SEND_OPTS = {send_opts}\n\
         FAXLINE_RECV_OPTS = {recv_opts}\n",
        localid = fax.local_station_id,
        header = fax.header_info,
        ecm = yes(fax.ecm),
        ring = cfg.lines.asterisk.ring_seconds,
    );

    // Outbound.
    let _ = writeln!(
        o,
        "; Outbound. The agent originates Local/{EXTEN_SEND}@{CONTEXT_OUT}/n (Application Wait, the watchdog) with\n\
         ; {VAR_JOB}=<token> and {VAR_DEST}=<number> [and {VAR_ECM}=yes|no]. This runs on the ;2 half, whose hangup\n\
         ; handler reports the dial outcome (Source: dial).\n\
         [{CONTEXT_OUT}]\n\
         exten => {EXTEN_SEND},1,Set(CHANNEL(hangup_handler_push)={CONTEXT_RESULT},{EXTEN_RESULT_DIAL},1)\n \
         same => n,GotoIf($[${{LEN(${{{VAR_JOB}}})}} = 0 | ${{LEN(${{{VAR_JOB}}})}} > 64]?invalid)\n \
         same => n,GotoIf($[${{LEN(${{FILTER(0-9A-Za-z_,${{{VAR_JOB}}})}})}} != ${{LEN(${{{VAR_JOB}}})}}]?invalid)\n \
         same => n,GotoIf($[${{LEN(${{{VAR_DEST}}})}} = 0 | ${{LEN(${{{VAR_DEST}}})}} > 33]?invalid)\n \
         same => n,GotoIf($[${{LEN(${{FILTER(+0-9,${{{VAR_DEST}}})}})}} != ${{LEN(${{{VAR_DEST}}})}}]?invalid)\n \
         same => n,Set(FAXLINE_FILE=${{FAXLINE_SPOOL_OUT}}/${{{VAR_JOB}}}.tif)\n \
         same => n,GotoIf($[${{STAT(e,${{FAXLINE_FILE}})}}]?:nofile)\n \
         same => n,Set(FAXLINE_ECM_USE=${{IF($[\"${{{VAR_ECM}}}\" = \"no\"]?no:${{FAXLINE_ECM_DEFAULT}})}})"
    );
    if let Some(cid) = &cfg.lines.sip.caller_id {
        let _ = writeln!(o, " same => n,Set(CALLERID(num)={cid})");
    }
    let _ = writeln!(
        o,
        " same => n,Answer()\n \
         same => n,Dial(PJSIP/${{{VAR_DEST}}}@{ENDPOINT},${{FAXLINE_RING}},U({CONTEXT_SEND}^${{{VAR_JOB}}}^${{FAXLINE_FILE}}^${{FAXLINE_ECM_USE}}))\n \
         same => n,Hangup()\n \
         same => n(invalid),Set(FAXLINE_PRE_ERROR={PRE_ERROR_INVALID})\n \
         same => n,Hangup()\n \
         same => n(nofile),Set(FAXLINE_PRE_ERROR={PRE_ERROR_NO_FILE})\n \
         same => n,Hangup()\n"
    );
    let _ = writeln!(
        o,
        "; Runs on the answered trunk channel (Dial option U). ARG1 = the job token, ARG2 = the TIFF, ARG3 = ECM yes|no.\n\
         ; This channel reports the fax itself (Source: fax), from its own variables, in its own hangup handler: it runs\n\
         ; once on every path that ends the channel. TryExec keeps SendFAX's non-zero return (the receiver hung up\n\
         ; first, or the file is unreadable) from ending the routine abnormally, which would make Dial bridge this\n\
         ; channel with the ;2 half; GOSUB_RESULT=ABORT makes Dial hang up both legs at once instead.\n\
         [{CONTEXT_SEND}]\n\
         exten => s,1,Set(CHANNEL(hangup_handler_push)={CONTEXT_RESULT},{EXTEN_RESULT_FAX},1(${{ARG1}},${{ARG2}}))\n \
         same => n,Set(FAXOPT(localstationid)=${{FAXLINE_LOCALID}})\n \
         same => n,Set(FAXOPT(headerinfo)=${{FAXLINE_HEADER}})\n \
         same => n,Set(FAXOPT(ecm)=${{ARG3}})\n \
         same => n,TryExec(SendFAX(${{ARG2}},${{FAXLINE_SEND_OPTS}}))\n \
         same => n,Set(GOSUB_RESULT=ABORT)\n \
         same => n,Return()\n"
    );

    // Inbound.
    let _ = writeln!(
        o,
        "; Inbound from the trunk: only the configured numbers (none configured: any number)."
    );
    let _ = writeln!(o, "[{CONTEXT_IN}]");
    let mut extens: Vec<String> = Vec::new();
    if cfg.lines.sip.numbers.is_empty() {
        extens.push("_X.".into());
        extens.push("_+X.".into());
        extens.push("s".into());
    } else {
        for n in &cfg.lines.sip.numbers {
            // Trunks deliver the DID with or without '+'.
            for e in [n.clone(), n.trim_start_matches('+').to_owned()] {
                if !extens.contains(&e) {
                    extens.push(e);
                }
            }
        }
    }
    for e in &extens {
        let _ = writeln!(
            o,
            "exten => {e},1,Set(FAXLINE_DID=${{EXTEN}})\n same => n,Goto({CONTEXT_RECEIVE},s,1)"
        );
    }
    let _ = writeln!(o);
    let _ = writeln!(
        o,
        "[{CONTEXT_RECEIVE}]\n\
         exten => s,1,Set({VAR_JOB}=in_${{FILTER(0-9A-Za-z_,${{REPLACE(UNIQUEID,.,_)}})}})\n \
         same => n,Set(FAXLINE_FILE=${{FAXLINE_SPOOL_IN}}/${{STRFTIME(${{EPOCH}},UTC,%Y%m%dT%H%M%SZ)}}-${{{VAR_JOB}}}.tif)\n \
         same => n,Set(CHANNEL(hangup_handler_push)={CONTEXT_RESULT},receive,1)\n \
         same => n,Answer()\n \
         same => n,Set(FAXOPT(localstationid)=${{FAXLINE_LOCALID}})\n \
         same => n,Set(FAXOPT(ecm)=${{FAXLINE_ECM_DEFAULT}})\n \
         same => n,ReceiveFAX(${{FAXLINE_FILE}},${{FAXLINE_RECV_OPTS}})\n \
         same => n,Hangup()\n"
    );

    // Results: hangup handlers (they run whatever ended the channel). Every value is URI-encoded.
    let enc = |v: &str| format!("${{URIENCODE({v})}}");
    let status = |var: &str| format!("${{IF($[\"{var}\" = \"SUCCESS\"]?SUCCESS:FAILED)}}");
    // The channel that ran SendFAX: its own res_fax variables.
    let fax_values: Vec<(&str, String)> = vec![
        ("Source", SOURCE_FAX.to_owned()),
        ("JobID", enc("${ARG1}")),
        ("File", enc("${ARG2}")),
        ("Status", status("${FAXSTATUS}")),
        ("Error", enc("${FAXERROR}")),
        ("StatusString", enc("${FAXSTATUSSTRING}")),
        ("PreError", String::new()),
        ("DialStatus", "ANSWER".to_owned()),
        ("HangupCause", enc("${HANGUPCAUSE}")),
        ("Mode", enc("${FAXMODE}")),
        ("Pages", enc("${FAXPAGES}")),
        ("Bitrate", enc("${FAXBITRATE}")),
        ("Resolution", enc("${FAXRESOLUTION}")),
        ("LocalStationID", enc("${FAXLINE_LOCALID}")),
        ("RemoteStationID", enc("${REMOTESTATIONID}")),
    ];
    // The ;2 half: the dial outcome only (no fax values: those are the fax channel's).
    let dial_values: Vec<(&str, String)> = vec![
        ("Source", SOURCE_DIAL.to_owned()),
        ("JobID", enc(&format!("${{{VAR_JOB}}}"))),
        ("File", enc("${FAXLINE_FILE}")),
        ("Status", "FAILED".to_owned()),
        ("Error", String::new()),
        ("StatusString", String::new()),
        ("PreError", enc("${FAXLINE_PRE_ERROR}")),
        ("DialStatus", enc("${DIALSTATUS}")),
        ("HangupCause", enc("${HANGUPCAUSE}")),
        ("Mode", String::new()),
        ("Pages", String::new()),
        ("Bitrate", String::new()),
        ("Resolution", String::new()),
        ("LocalStationID", enc("${FAXLINE_LOCALID}")),
        ("RemoteStationID", String::new()),
    ];
    let recv_values: Vec<(&str, String)> = vec![
        ("JobID", enc(&format!("${{{VAR_JOB}}}"))),
        ("DID", enc("${FAXLINE_DID}")),
        ("CallerID", enc("${CALLERID(num)}")),
        ("File", enc("${FAXLINE_FILE}")),
        ("Status", status("${FAXSTATUS}")),
        ("Error", enc("${FAXERROR}")),
        ("StatusString", enc("${FAXSTATUSSTRING}")),
        ("HangupCause", enc("${HANGUPCAUSE}")),
        ("Mode", enc("${FAXMODE}")),
        ("Pages", enc("${FAXPAGES}")),
        ("Bitrate", enc("${FAXBITRATE}")),
        ("Resolution", enc("${FAXRESOLUTION}")),
        ("LocalStationID", enc("${FAXLINE_LOCALID}")),
        ("RemoteStationID", enc("${REMOTESTATIONID}")),
    ];
    for values in [&fax_values, &dial_values] {
        debug_assert!(
            values
                .iter()
                .map(|(k, _)| *k)
                .eq(RESULT_KEYS_SEND.iter().copied())
        );
    }
    debug_assert!(
        recv_values
            .iter()
            .map(|(k, _)| *k)
            .eq(RESULT_KEYS_RECEIVE.iter().copied())
    );
    let event = |dir: &str, values: &[(&str, String)]| {
        let mut s = format!("UserEvent({RESULT_EVENT},Encoding: uri,Direction: {dir}");
        for (k, v) in values {
            let _ = write!(s, ",{k}: {v}");
        }
        s.push(')');
        s
    };
    let _ = writeln!(
        o,
        "; Hangup handlers: each runs once, whatever ended its channel, and reads only its own channel. Every value\n\
         ; is URI-encoded so commas and colons cannot split the UserEvent arguments.\n\
         ; {EXTEN_RESULT_FAX}: the trunk channel that ran SendFAX (ARG1 = job token, ARG2 = TIFF); {EXTEN_RESULT_DIAL}: the ;2 half.\n\
         [{CONTEXT_RESULT}]\n\
         exten => {EXTEN_RESULT_FAX},1,{}\n \
         same => n,Return()\n\
         exten => {EXTEN_RESULT_DIAL},1,{}\n \
         same => n,Return()\n\
         exten => receive,1,{}\n \
         same => n,Return()",
        event("send", &fax_values),
        event("send", &dial_values),
        event("receive", &recv_values)
    );
    o
}

fn pjsip_conf(cfg: &Config) -> String {
    let s = &cfg.lines.sip;
    let mut o = String::new();
    header(&mut o, "pjsip.conf — the SIP trunk with T.38");
    let protocol = s.transport.as_str();
    let bind = match s.bind_address {
        std::net::IpAddr::V6(v6) => format!("[{v6}]:{}", s.bind_port),
        v4 => format!("{v4}:{}", s.bind_port),
    };
    let _ = writeln!(
        o,
        "[{TRANSPORT}]\ntype = transport\nprotocol = {protocol}\nbind = {bind}"
    );
    if s.transport == SipTransport::Tls {
        let _ = writeln!(
            o,
            "cert_file = /etc/asterisk/keys/faxline.crt\npriv_key_file = /etc/asterisk/keys/faxline.key\nmethod = tlsv1_2"
        );
    }
    if let Some(ext) = &s.external_address {
        let _ = writeln!(
            o,
            "; behind NAT: advertise the public address in SIP and SDP (RTP and UDPTL)\n\
             external_media_address = {ext}\nexternal_signaling_address = {ext}"
        );
    }
    for net in &s.local_nets {
        let _ = writeln!(o, "local_net = {net}");
    }
    let _ = writeln!(o);

    let host = s.trunk_host.as_deref().unwrap_or("trunk.invalid");
    let has_auth = s.username.is_some();
    if has_auth {
        let _ = writeln!(
            o,
            "[{ENDPOINT}-auth]\ntype = auth\nauth_type = userpass\nusername = {}\npassword = {SIP_PASSWORD_PLACEHOLDER}\n",
            s.username.as_deref().unwrap_or_default()
        );
    }
    let _ = writeln!(
        o,
        "[{ENDPOINT}]\ntype = aor\ncontact = sip:{host}:{}\nqualify_frequency = {}\n",
        s.trunk_port, s.qualify_seconds
    );
    let _ = writeln!(
        o,
        "[{ENDPOINT}]\ntype = endpoint\ntransport = {TRANSPORT}\ncontext = {CONTEXT_IN}\naors = {ENDPOINT}"
    );
    if has_auth {
        let _ = writeln!(o, "outbound_auth = {ENDPOINT}-auth");
    }
    if let Some(u) = &s.from_user {
        let _ = writeln!(o, "from_user = {u}");
    }
    if let Some(d) = &s.from_domain {
        let _ = writeln!(o, "from_domain = {d}");
    }
    let _ = writeln!(
        o,
        "; G.711 only (no transcoding, no VAD/comfort noise in the path of an audio fax)\n\
         disallow = all\nallow = ulaw,alaw\n\
         direct_media = no\n\
         rtp_symmetric = yes\nforce_rport = yes\nrewrite_contact = yes\n\
         dtmf_mode = rfc4733\n\
         ; CNG detection would divert calls away from the dialplan; faxes are expected on every call\n\
         fax_detect = no\n\
         ; T.38 over UDPTL with error correction (telephony.md §3.2, §6.3, §6.4, §6.6)\n\
         t38_udptl = yes\n\
         t38_udptl_ec = {ec}\n\
         t38_udptl_nat = {nat}",
        ec = s.t38_ec.as_str(),
        nat = yes(s.t38_nat),
    );
    if let Some(md) = s.t38_max_datagram {
        let _ = writeln!(o, "t38_udptl_maxdatagram = {md}");
    }
    if s.t38_ec == T38ErrorCorrection::None {
        let _ = writeln!(o, "; WARNING: no UDPTL error correction configured");
    }
    let _ = writeln!(o);
    let _ = writeln!(
        o,
        "[{ENDPOINT}]\ntype = identify\nendpoint = {ENDPOINT}\nmatch = {host}\n"
    );
    if let Some(server_uri) = registration_server_uri(s) {
        let registrar = s.registrar.as_deref().unwrap_or(host);
        let user = s.username.as_deref().unwrap_or_default();
        let _ = writeln!(
            o,
            "[{ENDPOINT}-reg]\ntype = registration\ntransport = {TRANSPORT}\noutbound_auth = {ENDPOINT}-auth\n\
             server_uri = {server_uri}\nclient_uri = sip:{user}@{registrar}\ncontact_user = {contact}\n\
             endpoint = {ENDPOINT}\nline = yes\nretry_interval = 60\nforbidden_retry_interval = 600\nexpiration = 300\n",
            contact = s.from_user.as_deref().unwrap_or(user),
        );
    }
    o.truncate(o.trim_end().len());
    o.push('\n');
    o
}

/// The generated outbound registration's `server_uri`, when `[sip] register` is on. Asterisk's `Registry`
/// events name the registration by it (their `Domain`), so the agent follows its state by the same string.
pub fn registration_server_uri(s: &crate::lines::sip::SipConfig) -> Option<String> {
    if !s.register {
        return None;
    }
    let host = s.trunk_host.as_deref().unwrap_or("trunk.invalid");
    let registrar = s.registrar.as_deref().unwrap_or(host);
    Some(format!("sip:{registrar}:{}", s.trunk_port))
}

fn manager_conf(cfg: &Config) -> String {
    let a = &cfg.lines.ami;
    let mut o = String::new();
    header(
        &mut o,
        "manager.conf — the AMI, private and least-privilege",
    );
    let _ = writeln!(
        o,
        "[general]\nenabled = yes\nwebenabled = no\nport = {port}\n\
         ; never a public address (checked by `faxline agent --check`); the port is not published by compose\n\
         bindaddr = {bind}\n\
         displayconnects = no\ntimestampevents = yes\nauthtimeout = 10\nauthlimit = 8\nallowmultiplelogin = yes\n",
        port = a.port,
        bind = a.effective_bind_address(),
    );
    let _ = writeln!(
        o,
        "[{user}]\nsecret = {AMI_SECRET_PLACEHOLDER}\ndeny = 0.0.0.0/0.0.0.0\ndeny = ::/0",
        user = a.username
    );
    for net in &a.permit {
        match net {
            ipnet::IpNet::V4(v4) => {
                let _ = writeln!(o, "permit = {}/{}", v4.network(), v4.netmask());
            }
            ipnet::IpNet::V6(v6) => {
                let _ = writeln!(o, "permit = {}/{}", v6.network(), v6.prefix_len());
            }
        }
    }
    let _ = writeln!(
        o,
        "; read: call = OriginateResponse, Newchannel, Hangup, FAXStatus, SendFAX, ReceiveFAX; user = UserEvent;\n\
         ; system = Registry, ContactStatus (the trunk's health), FullyBooted (read only: no system action)\n\
         read = {AMI_READ}\n\
         ; write: originate = Originate; call = Getvar, Hangup, Status, FAXSessions; reporting = FAXStats\n\
         write = {AMI_WRITE}\n\
         writetimeout = 1000\n\
         ; only the events the agent uses: include filters on the exact event name (a legacy regex filter\n\
         ; `Event: Hangup` also passes HangupRequest); everything else is dropped"
    );
    for e in AMI_EVENTS {
        let _ = writeln!(o, "eventfilter(action(include),name({e})) =");
    }
    o
}

fn udptl_conf(cfg: &Config) -> String {
    let s = &cfg.lines.sip;
    let mut o = String::new();
    header(
        &mut o,
        "udptl.conf — T.38 transport ports and error correction",
    );
    let _ = writeln!(
        o,
        "[general]\nudptlstart = {}\nudptlend = {}\nudptlchecksums = yes\n\
         ; redundancy depth / FEC entries, and FEC span\n\
         udptlfecentries = {}\nudptlfecspan = {}\nuse_even_ports = no",
        s.udptl_port_min, s.udptl_port_max, s.t38_redundancy_depth, s.t38_fec_span
    );
    o
}

fn rtp_conf(cfg: &Config) -> String {
    let s = &cfg.lines.sip;
    let mut o = String::new();
    header(&mut o, "rtp.conf — G.711 media ports");
    let _ = writeln!(
        o,
        "[general]\nrtpstart = {}\nrtpend = {}\nrtpchecksums = yes\nstrictrtp = yes\nicesupport = no",
        s.rtp_port_min, s.rtp_port_max
    );
    o
}

fn res_fax_conf(cfg: &Config) -> String {
    let f = &cfg.fax;
    let mut o = String::new();
    header(
        &mut o,
        "res_fax.conf — T.30 defaults for SendFAX/ReceiveFAX",
    );
    let _ = writeln!(
        o,
        "[general]\nmaxrate = {}\nminrate = {}\nstatusevents = {}\nmodems = v17,v27,v29\necm = {}\nt38timeout = {}",
        f.max_rate,
        f.min_rate,
        yes(f.status_events),
        yes(f.ecm),
        f.t38_timeout_ms
    );
    o
}

/// Modules: nothing is autoloaded; every module is listed with the reason it is needed.
const MODULES: &[(&str, &str)] = &[
    ("pbx_config.so", "extensions.conf"),
    ("app_dial.so", "Dial"),
    ("app_stack.so", "Gosub: Dial U() and hangup handlers"),
    (
        "app_exec.so",
        "TryExec: SendFAX's failure does not end the U() routine",
    ),
    ("app_userevent.so", "UserEvent"),
    ("func_channel.so", "CHANNEL(hangup_handler_push)"),
    ("func_strings.so", "FILTER, LEN, REPLACE, STRFTIME"),
    ("func_logic.so", "IF"),
    ("func_uri.so", "URIENCODE"),
    ("func_env.so", "STAT"),
    ("func_callerid.so", "CALLERID"),
    ("res_fax.so", "SendFAX, ReceiveFAX, FAXOPT"),
    ("res_fax_spandsp.so", "the fax engine"),
    (
        "res_timing_timerfd.so",
        "timing for G.711 fax and T.38 pacing",
    ),
    ("codec_ulaw.so", "G.711 u-law"),
    ("codec_alaw.so", "G.711 A-law"),
    ("res_rtp_asterisk.so", "RTP"),
    ("bridge_simple.so", "two-party bridges"),
    ("bridge_native_rtp.so", "two-party bridges"),
    ("res_sorcery_config.so", "required by res_pjsip"),
    ("res_sorcery_memory.so", "required by res_pjsip"),
    ("res_sorcery_astdb.so", "required by res_pjsip"),
    ("res_pjproject.so", "required by res_pjsip"),
    ("res_pjsip.so", "PJSIP"),
    ("res_pjsip_session.so", "PJSIP calls"),
    ("res_pjsip_pubsub.so", "required by chan_pjsip"),
    ("chan_pjsip.so", "the PJSIP channel driver"),
    ("res_pjsip_sdp_rtp.so", "audio SDP"),
    ("res_pjsip_t38.so", "T.38 re-INVITEs and UDPTL SDP"),
    ("res_pjsip_nat.so", "external addresses, rewrite_contact"),
    ("res_pjsip_authenticator_digest.so", "digest authentication"),
    (
        "res_pjsip_outbound_authenticator_digest.so",
        "outbound digest authentication",
    ),
    (
        "res_pjsip_endpoint_identifier_ip.so",
        "identify the trunk by address",
    ),
    (
        "res_pjsip_outbound_registration.so",
        "REGISTER to the trunk",
    ),
    ("res_pjsip_caller_id.so", "caller ID headers"),
    ("res_pjsip_logger.so", "`pjsip set logger on` for debugging"),
];

fn modules_conf() -> String {
    let mut o = String::new();
    header(&mut o, "modules.conf — only what the fax service needs");
    let _ = writeln!(o, "[modules]\nautoload = no");
    for (m, why) in MODULES {
        let _ = writeln!(o, "load => {m} ; {why}");
    }
    o
}

fn logger_conf() -> String {
    let mut o = String::new();
    header(&mut o, "logger.conf — to the container's console (stdout)");
    let _ = writeln!(
        o,
        "[general]\ndateformat = %F %T.%3q\n\n[logfiles]\nconsole => notice,warning,error"
    );
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_decode_round_trips_urienocde_output() {
        assert_eq!(uri_decode("%2B1%20555%200199"), "+1 555 0199");
        assert_eq!(uri_decode("a%2Cb%3Ac"), "a,b:c");
        assert_eq!(uri_decode("100%"), "100%");
        assert_eq!(uri_decode("%zz"), "%zz");
        assert_eq!(uri_decode(""), "");
    }
}
