//! Sinch (Fax API v3) webhooks.
//!
//! **Authentication.** Sinch's Fax API signs no webhook (its reference describes no signature header for
//! fax callbacks, unlike Sinch's Voice and Verification callbacks); the one authentication it offers is HTTP
//! Basic credentials written into the callback URL (`https://user:password@host/...`), which Sinch keeps
//! masked and sends back as an `Authorization: Basic` header. Faxline therefore requires them on both routes:
//! the line puts them into each fax's `callbackUrl`, the operator into the fax service's incoming-fax URL.
//! They are compared in constant time (digests of equal length, so neither length nor content leaks).
//! Faxbot left `/sinch-inbound` open unless credentials happened to be configured, compared them with `==`,
//! and had no status route at all.
//!
//! **Payloads.** An event is `event` (`FAX_COMPLETED` for a sent fax's end, `INCOMING_FAX` for a received
//! one), `eventTime` and `fax` (Sinch's fax object), plus the fax's document: as `multipart/form-data` the
//! fields `event`, `eventTime`, `fax` (JSON text) and a `file` part (application/pdf); as `application/json`
//! the same as one object with the document base64 in `file` (and `fileType`), or in `files`
//! (`[{file, fileType}]`). Faxline asks for JSON on the faxes it sends; a fax service posts what it was set
//! to.
//!
//! **Replays.** Basic credentials do not make a request unique: each event is stored once per
//! (provider, fax id, event) in the provider event store, and a repeat is refused. No maximum age applies:
//! Sinch retries a webhook that was not answered 200 for up to about three days (16 tries, the last ones
//! six hours apart), and the credentials, not `eventTime`, are what authenticate it.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::{Received, StatusEvent, plain_number, unix};
use faxline_protocol::JobStatus;
use faxline_protocol::sinch::{Fax, clean_text};

/// Why a request is refused as unauthenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthError {
    /// No `Authorization: Basic` header, or one that is not Basic credentials.
    Missing,
    /// Credentials, but not the configured ones.
    Invalid,
}

/// Why a webhook is malformed. The texts are the 400's detail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SinchError {
    #[error("the body is not a Sinch fax event: {0}")]
    Body(String),
    #[error("the event's `fax` has no valid `id`")]
    NoSid,
    #[error("the fax's `status` {0:?} is not a Sinch fax status")]
    Status(String),
    #[error("the event's document is not valid base64")]
    File,
}

/// The `Authorization` header a client with these credentials sends.
pub fn basic_header(user: &str, password: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{user}:{password}")))
}

/// Checks an `Authorization` header against the configured user and password, in constant time.
pub fn verify_basic(header: Option<&str>, user: &str, password: &str) -> Result<(), AuthError> {
    let given = header
        .and_then(|h| {
            let (scheme, rest) = h.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("basic").then_some(rest)
        })
        .and_then(|b64| STANDARD.decode(b64.trim()).ok())
        .ok_or(AuthError::Missing)?;
    let expected = format!("{user}:{password}");
    // Digests: equal lengths, so the comparison's time says nothing about either value.
    let a = Sha256::digest(&given);
    let b = Sha256::digest(expected.as_bytes());
    if crate::auth::ct_eq(&a, &b) {
        Ok(())
    } else {
        Err(AuthError::Invalid)
    }
}

/// A webhook's parts, from either content type.
#[derive(Debug, Clone, Default)]
pub struct Payload {
    pub event: String,
    pub event_time: Option<String>,
    pub fax: Fax,
    /// The fax's document, when the event carries it.
    pub file: Option<Vec<u8>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JsonEvent {
    #[serde(default)]
    event: Option<String>,
    #[serde(default)]
    event_time: Option<String>,
    #[serde(default)]
    fax: Option<Fax>,
    #[serde(default)]
    file: Option<String>,
    #[serde(default)]
    files: Vec<JsonFile>,
}

#[derive(Deserialize)]
struct JsonFile {
    #[serde(default)]
    file: Option<String>,
}

/// An `application/json` event.
pub fn payload_from_json(body: &[u8]) -> Result<Payload, SinchError> {
    let e: JsonEvent = serde_json::from_slice(body).map_err(|e| SinchError::Body(e.to_string()))?;
    let b64 = e
        .file
        .or_else(|| e.files.into_iter().find_map(|f| f.file))
        .filter(|f| !f.trim().is_empty());
    let file = match b64 {
        Some(b) => Some(STANDARD.decode(b.trim()).map_err(|_| SinchError::File)?),
        None => None,
    };
    Ok(Payload {
        event: e.event.unwrap_or_default(),
        event_time: e.event_time,
        fax: e.fax.ok_or_else(|| SinchError::Body("no `fax`".into()))?,
        file,
    })
}

/// A `multipart/form-data` (or url-encoded) event, from its text fields. Its `file` part is not held
/// here: the route spools it as it arrives (so `file` is `None`).
pub fn payload_from_form(fields: &[(String, String)]) -> Result<Payload, SinchError> {
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let fax = field("fax").ok_or_else(|| SinchError::Body("no `fax`".into()))?;
    let fax: Fax = serde_json::from_str(&fax)
        .map_err(|e| SinchError::Body(format!("`fax` is not Sinch's fax object: {e}")))?;
    Ok(Payload {
        event: field("event").unwrap_or_default(),
        event_time: field("eventTime"),
        fax,
        file: None,
    })
}

/// What a verified webhook says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A sent fax's end (or progress).
    Status(StatusEvent),
    /// A received fax; its document with the event, or to be downloaded by its id.
    Received(Received),
    /// An event Faxline does not act on (acknowledged, so Sinch does not retry it).
    Other { event: String },
}

/// A verified webhook's meaning; `job_id` is the callback URL's `job_id` (Faxline's own sends).
pub fn parse(p: &Payload, job_id: Option<&str>) -> Result<Event, SinchError> {
    let event = p.event.trim().to_ascii_uppercase();
    let sid = p.fax.sid().ok_or(SinchError::NoSid)?;
    let occurred_at = p.event_time.as_deref().and_then(unix);
    let number = |n: &Option<String>| plain_number(&n.as_ref().map(|n| n.trim().to_owned()));
    let status = || {
        p.fax.job_status().ok_or_else(|| {
            SinchError::Status(
                p.fax
                    .status
                    .as_deref()
                    .unwrap_or("")
                    .chars()
                    .filter(|c| !c.is_control())
                    .take(32)
                    .collect(),
            )
        })
    };
    match event.as_str() {
        "INCOMING_FAX" => {
            // An incoming fax that Sinch reports as failed is kept as a failed reception, without a document.
            let failed = p.fax.job_status() == Some(JobStatus::Failed);
            Ok(Event::Received(Received {
                provider_sid: sid,
                from: number(&p.fax.from),
                to: number(&p.fax.to),
                pages: p.fax.pages(),
                status: if failed { "failed" } else { "received" }.into(),
                occurred_at,
            }))
        }
        "FAX_COMPLETED" if !p.fax.inbound() => {
            let job = status()?;
            let raw = p
                .fax
                .status
                .as_deref()
                .unwrap_or("")
                .trim()
                .to_ascii_uppercase();
            Ok(Event::Status(StatusEvent {
                provider_sid: sid,
                // One completion per fax and status: the same again is a replay.
                event: format!("FAX_COMPLETED:{raw}"),
                job_id: job_id.map(str::to_owned),
                status: job,
                pages: p.fax.pages(),
                error: (job == JobStatus::Failed).then(|| p.fax.error_text()),
                occurred_at,
            }))
        }
        _ => Ok(Event::Other {
            event: clean_text(&event)
                .unwrap_or_default()
                .chars()
                .take(32)
                .collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_checked_exactly() {
        let h = basic_header("sinch-hooks", "5e8d2b7c9a1f4e63b0d7c2a9f8e1b4d6");
        assert_eq!(
            verify_basic(Some(&h), "sinch-hooks", "5e8d2b7c9a1f4e63b0d7c2a9f8e1b4d6"),
            Ok(())
        );
        // The scheme is case-insensitive (RFC 7617); everything else must match.
        let lower = h.replacen("Basic", "basic", 1);
        assert_eq!(
            verify_basic(
                Some(&lower),
                "sinch-hooks",
                "5e8d2b7c9a1f4e63b0d7c2a9f8e1b4d6"
            ),
            Ok(())
        );
        for (header, want) in [
            (None, AuthError::Missing),
            (Some("Bearer abc".to_owned()), AuthError::Missing),
            (Some("Basic !!!".to_owned()), AuthError::Missing),
            (Some("Basic".to_owned()), AuthError::Missing),
            (
                Some(basic_header(
                    "sinch-hooks",
                    "5e8d2b7c9a1f4e63b0d7c2a9f8e1b4d7",
                )),
                AuthError::Invalid,
            ),
            (
                Some(basic_header(
                    "sinch-hook",
                    "5e8d2b7c9a1f4e63b0d7c2a9f8e1b4d6",
                )),
                AuthError::Invalid,
            ),
            (
                Some(basic_header(
                    "sinch-hooks:5e8d2b7c9a1f4e63b0d7c2a9f8e1b4d6",
                    "",
                )),
                AuthError::Invalid,
            ),
            (Some(basic_header("", "")), AuthError::Invalid),
        ] {
            assert_eq!(
                verify_basic(
                    header.as_deref(),
                    "sinch-hooks",
                    "5e8d2b7c9a1f4e63b0d7c2a9f8e1b4d6"
                ),
                Err(want),
                "{header:?}"
            );
        }
    }

    #[test]
    fn events_from_json_and_forms() {
        let body = serde_json::json!({
            "event": "FAX_COMPLETED", "eventTime": "2026-12-05T01:00:00Z",
            "fax": {"id": "01HFAX0001", "direction": "OUTBOUND", "status": "FAILURE",
                "numberOfPages": 3, "errorType": "CALL_ERROR", "errorCode": 17,
                "errorMessage": "Busy"},
            "files": [{"file": STANDARD.encode(b"%PDF-1.4"), "fileType": "PDF"}]
        })
        .to_string();
        let p = payload_from_json(body.as_bytes()).unwrap();
        assert_eq!(p.file.as_deref(), Some(&b"%PDF-1.4"[..]));
        let Ok(Event::Status(e)) = parse(&p, Some("job1")) else {
            panic!("status")
        };
        assert_eq!(
            (e.status, e.pages, e.error.as_deref(), e.event.as_str()),
            (
                JobStatus::Failed,
                Some(3),
                Some("Busy (CALL_ERROR 17)"),
                "FAX_COMPLETED:FAILURE"
            )
        );
        assert_eq!(e.job_id.as_deref(), Some("job1"));
        assert_eq!(e.occurred_at, Some(1_796_432_400));

        let fields = vec![
            ("event".to_owned(), "INCOMING_FAX".to_owned()),
            ("eventTime".to_owned(), "2026-12-05T01:00:00Z".to_owned()),
            (
                "fax".to_owned(),
                r#"{"id":"01HFAX0002","direction":"INBOUND","status":"COMPLETED","from":"+15550001111","to":"+15550002222","numberOfPages":2}"#
                    .to_owned(),
            ),
        ];
        let p = payload_from_form(&fields).unwrap();
        let Ok(Event::Received(r)) = parse(&p, None) else {
            panic!("received")
        };
        assert_eq!(
            (
                r.provider_sid.as_str(),
                r.from.as_deref(),
                r.pages,
                r.status.as_str()
            ),
            ("01HFAX0002", Some("+15550001111"), Some(2), "received")
        );

        // Malformed: no fax, a fax that is not JSON, an id that is not one, an unknown status, bad base64.
        assert!(payload_from_form(&fields[..2]).is_err());
        let mut bad = fields.clone();
        bad[2].1 = "{not json".into();
        assert!(payload_from_form(&bad).is_err());
        assert!(payload_from_json(b"[1,2]").is_err());
        let odd = |fax: &str| {
            payload_from_json(format!(r#"{{"event":"FAX_COMPLETED","fax":{fax}}}"#).as_bytes())
                .unwrap()
        };
        assert_eq!(
            parse(&odd(r#"{"id":"../x","status":"COMPLETED"}"#), None),
            Err(SinchError::NoSid)
        );
        assert!(matches!(
            parse(&odd(r#"{"id":"f1","status":"EXPLODED"}"#), None),
            Err(SinchError::Status(_))
        ));
        assert_eq!(
            payload_from_json(br#"{"event":"INCOMING_FAX","fax":{"id":"f"},"file":"@@"}"#)
                .unwrap_err(),
            SinchError::File
        );
        // An event Faxline does not act on.
        assert_eq!(
            parse(
                &odd(r#"{"id":"f1","status":"COMPLETED","direction":"INBOUND"}"#),
                None
            ),
            Ok(Event::Other {
                event: "FAX_COMPLETED".into()
            })
        );
    }
}
