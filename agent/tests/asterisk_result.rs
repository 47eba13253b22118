//! Reading `FaxResult` events: the four real ones in the captured Asterisk 20 transcripts (unencoded, older
//! dialplan) and the URI-encoded form the generated dialplan raises, with hostile values.

use std::path::PathBuf;

use faxline_agent::lines::asterisk::dialplan::{
    Direction, FaxMode, FaxResultEvent, FaxStatus, RESULT_KEYS_SEND, ResultParseError, ResultSource,
};

fn captures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/captures")
}

/// The header lists of the FaxResult events in a transcript (server output only, CRLF framing).
fn fax_results(name: &str) -> Vec<Vec<(String, String)>> {
    let text = std::fs::read_to_string(captures().join(name))
        .unwrap()
        .replace("\r\n", "\n");
    text.split("\n\n")
        .map(|block| {
            block
                .lines()
                .filter(|l| !l.starts_with(">>>"))
                .filter_map(|l| {
                    l.split_once(": ")
                        .or_else(|| l.strip_suffix(':').map(|k| (k, "")))
                })
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect::<Vec<_>>()
        })
        .filter(|h| h.iter().any(|(k, v)| k == "UserEvent" && v == "FaxResult"))
        .collect()
}

fn parse(h: &[(String, String)]) -> Result<FaxResultEvent, ResultParseError> {
    FaxResultEvent::from_headers(h.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

#[test]
fn captured_events_parse() {
    let sends = fax_results("t38_fax_loopback_ami_transcript.txt");
    assert_eq!(sends.len(), 2);
    let mut seen = Vec::new();
    for h in &sends {
        seen.push(parse(h).unwrap());
    }
    let send = seen
        .iter()
        .find(|e| e.direction == Direction::Send)
        .unwrap();
    assert_eq!(send.job_id, "capture-loopback");
    assert_eq!(send.status, FaxStatus::Success);
    assert_eq!(
        send.error.as_deref(),
        Some("HANGUP"),
        "res_fax sets FAXERROR even on success"
    );
    assert_eq!(send.mode, Some(FaxMode::T38));
    assert_eq!(send.pages, Some(2));
    assert_eq!(send.bitrate, Some(14400));
    assert_eq!(send.resolution.as_deref(), Some("8031x7700"));
    assert_eq!(send.remote_station_id.as_deref(), Some("+1 555 0100"));
    assert_eq!(send.hangup_cause, Some(16));
    let recv = seen
        .iter()
        .find(|e| e.direction == Direction::Receive)
        .unwrap();
    assert_eq!(recv.did.as_deref(), Some("faxin"));
    assert_eq!(recv.caller_id.as_deref(), Some("5550100"));
    assert_eq!(recv.error, None);
    assert_eq!(
        recv.file.as_deref(),
        Some("/tmp/asterisk-lab/spool/1795349058.3.tif")
    );

    let to_agent = fax_results("t38_fax_to_agent_ami_transcript.txt");
    assert_eq!(to_agent.len(), 1);
    let e = parse(&to_agent[0]).unwrap();
    assert_eq!(
        (e.direction, e.status),
        (Direction::Send, FaxStatus::Success)
    );
    assert_eq!(e.remote_station_id.as_deref(), Some("+1 555 0199"));

    let from_agent = fax_results("t38_fax_from_agent_ami_transcript.txt");
    assert_eq!(from_agent.len(), 1);
    let e = parse(&from_agent[0]).unwrap();
    assert_eq!((e.direction, e.pages), (Direction::Receive, Some(2)));
    assert_eq!(e.did.as_deref(), Some("5551234"));
}

#[test]
fn encoded_event_with_hostile_values_decodes() {
    let error = "Disconnected after permitted retries, remote: busy";
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    let values: Vec<(&str, String)> = vec![
        ("Source", "fax".into()),
        ("JobID", "job_42".into()),
        ("File", enc("/var/spool/faxline/out/job_42.tif")),
        ("Status", "FAILED".into()),
        ("Error", enc(error)),
        ("StatusString", enc(error)),
        ("PreError", String::new()),
        ("DialStatus", "ANSWER".into()),
        ("HangupCause", "16".into()),
        ("Mode", "audio".into()),
        ("Pages", "0".into()),
        ("Bitrate", "9600".into()),
        ("Resolution", "8031x3850".into()),
        ("LocalStationID", enc("+1 555 0100")),
        ("RemoteStationID", enc("ACME, Inc: fax")),
    ];
    assert_eq!(
        values.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
        RESULT_KEYS_SEND
    );
    let mut headers: Vec<(&str, &str)> = vec![
        ("Event", "UserEvent"),
        ("Privilege", "user,all"),
        ("UserEvent", "FaxResult"),
        ("Encoding", "uri"),
        ("Direction", "send"),
    ];
    headers.extend(values.iter().map(|(k, v)| (*k, v.as_str())));
    let e = FaxResultEvent::from_headers(headers.iter().copied()).unwrap();
    assert_eq!(e.status, FaxStatus::Failed);
    assert_eq!(e.source, Some(ResultSource::Fax));
    assert!(e.is_complete());
    assert_eq!(e.error.as_deref(), Some(error));
    assert_eq!(e.remote_station_id.as_deref(), Some("ACME, Inc: fax"));
    assert_eq!(e.local_station_id.as_deref(), Some("+1 555 0100"));
    assert_eq!(e.pre_error, None);
    assert_eq!(e.dial_status.as_deref(), Some("ANSWER"));
    assert_eq!(e.mode, Some(FaxMode::Audio));
    assert_eq!(e.file.as_deref(), Some("/var/spool/faxline/out/job_42.tif"));
}

#[test]
fn dial_failure_event_has_no_fax_values() {
    let h = [
        ("Event", "UserEvent"),
        ("UserEvent", "FaxResult"),
        ("Encoding", "uri"),
        ("Direction", "send"),
        ("JobID", "job_7"),
        ("Status", "FAILED"),
        ("Error", ""),
        ("DialStatus", "BUSY"),
        ("HangupCause", "17"),
        ("Pages", ""),
    ];
    let e = FaxResultEvent::from_headers(h).unwrap();
    assert_eq!(e.dial_status.as_deref(), Some("BUSY"));
    assert_eq!(e.hangup_cause, Some(17));
    assert_eq!((e.pages, e.error, e.mode), (None, None, None));
}

#[test]
fn other_events_and_broken_values_are_typed_errors() {
    assert_eq!(
        FaxResultEvent::from_headers([("Event", "UserEvent"), ("UserEvent", "Other")]),
        Err(ResultParseError::NotFaxResult)
    );
    assert_eq!(
        FaxResultEvent::from_headers([("Event", "Hangup"), ("UserEvent", "FaxResult")]),
        Err(ResultParseError::NotFaxResult)
    );
    let base = [
        ("UserEvent", "FaxResult"),
        ("Direction", "send"),
        ("Status", "SUCCESS"),
    ];
    assert_eq!(
        FaxResultEvent::from_headers(base),
        Err(ResultParseError::MissingKey("JobID"))
    );
    let mut h = base.to_vec();
    h.push(("JobID", "j"));
    h.push(("Pages", "two"));
    assert_eq!(
        FaxResultEvent::from_headers(h),
        Err(ResultParseError::BadValue { key: "Pages" })
    );
    assert_eq!(
        FaxResultEvent::from_headers([
            ("UserEvent", "FaxResult"),
            ("Direction", "sideways"),
            ("JobID", "j"),
            ("Status", "SUCCESS")
        ]),
        Err(ResultParseError::BadValue { key: "Direction" })
    );
}
