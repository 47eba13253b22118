//! SignalWire (Compatibility "LaML"/cXML Fax API) webhooks.
//!
//! **Signature.** SignalWire signs every webhook the way Twilio does, so Twilio's validators accept it: the
//! `X-SignalWire-Signature` header (SignalWire also sends it as `X-Twilio-Signature`) is the base64
//! HMAC-SHA1, keyed with the project's signing key (Dashboard, API credentials), of the full URL it posted to
//! (scheme, host, path and query, exactly as configured at SignalWire) followed by every POST field as
//! `name` + `value`, in order of name (a repeated identical pair counted once, as Twilio's SDKs do). Faxbot
//! compared a hex HMAC-SHA256 of the body instead, which no genuine request matches.
//!
//! **Fields.** A fax webhook is a form: `FaxSid`, `AccountSid`, `From`, `To`, `Direction`, `FaxStatus`
//! (`queued`, `processing`, `sending`, `delivered`, `received`, `no-answer`, `busy`, `failed`, `canceled`),
//! `NumPages`, `ErrorCode`, `ErrorMessage`, and for a received fax `MediaUrl` (the document, fetched with the
//! project's credentials). Faxline sends each fax with `StatusCallback` = `…/signalwire-callback?job_id=<id>`,
//! so the callback names its job in the (signed) query.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{KeyInit, Mac};
use sha1::Sha1;

use super::{Received, StatusEvent, plain_number};
use faxline_protocol::JobStatus;
use faxline_protocol::phaxio::clean_text;

type HmacSha1 = hmac::Hmac<Sha1>;

/// SignalWire's own signature header.
pub const SIGNATURE_HEADER: &str = "x-signalwire-signature";
/// The Twilio-compatible header SignalWire sends too (same value).
pub const TWILIO_SIGNATURE_HEADER: &str = "x-twilio-signature";

/// Why a webhook is refused. The texts are the 401's or 400's detail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignalWireError {
    #[error("the webhook has no valid `FaxSid`")]
    NoSid,
    #[error("the webhook's `FaxStatus` {0:?} is not a SignalWire fax status")]
    Status(String),
    #[error("a received fax's webhook has no `MediaUrl`")]
    NoMedia,
}

/// The message SignalWire signs: the URL, then the sorted, de-duplicated fields as name + value.
fn signed_message(url: &str, fields: &[(String, String)]) -> Vec<u8> {
    let mut sorted: Vec<&(String, String)> = fields.iter().collect();
    sorted.sort();
    sorted.dedup();
    let mut msg = url.as_bytes().to_vec();
    for (k, v) in sorted {
        msg.extend_from_slice(k.as_bytes());
        msg.extend_from_slice(v.as_bytes());
    }
    msg
}

fn mac(key: &[u8], url: &str, fields: &[(String, String)]) -> HmacSha1 {
    let mut m = HmacSha1::new_from_slice(key).expect("HMAC accepts any key length");
    m.update(&signed_message(url, fields));
    m
}

/// The signature SignalWire sends for a webhook to `url` with these fields (what a stand-in, or a test,
/// needs).
pub fn signature(key: &[u8], url: &str, fields: &[(String, String)]) -> String {
    STANDARD.encode(mac(key, url, fields).finalize().into_bytes())
}

/// Whether `given` (the header's value) is the webhook's signature; compared in constant time.
pub fn verify(key: &[u8], url: &str, fields: &[(String, String)], given: &str) -> bool {
    let Ok(sig) = STANDARD.decode(given.trim()) else {
        return false;
    };
    mac(key, url, fields).verify_slice(&sig).is_ok()
}

/// SignalWire's ids are UUIDs (Twilio-style ids are letters and digits): at most 64 of those and `-`.
pub fn valid_sid(sid: &str) -> bool {
    !sid.is_empty() && sid.len() <= 64 && sid.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// The job status a sent fax's `FaxStatus` means (`received` is an inbound fax, not a job's).
pub fn map_status(status: &str) -> Option<JobStatus> {
    Some(match status {
        "queued" => JobStatus::Queued,
        "processing" | "sending" => JobStatus::InProgress,
        "delivered" => JobStatus::Success,
        "no-answer" | "busy" | "failed" | "canceled" => JobStatus::Failed,
        _ => return None,
    })
}

/// What a verified webhook says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A sent fax's progress or end.
    Status(StatusEvent),
    /// A received fax, its document at `media_url`.
    Received { fax: Received, media_url: String },
    /// An incoming fax call not yet received (no status): SignalWire asks what to do with it.
    Incoming { provider_sid: String },
    /// An incoming fax whose reception failed: kept as a failed inbound fax, without a document.
    ReceiveFailed(Received),
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The error text of a failed fax: SignalWire's code and message, else its status (`busy`, `no-answer`).
/// Numbers in the message are masked: it reaches the job and the log.
fn error_text(fields: &[(String, String)], status: &str) -> String {
    let code = field(fields, "ErrorCode").and_then(clean_text);
    let message = field(fields, "ErrorMessage")
        .and_then(|m| clean_text(&faxline_protocol::mask_numbers_in(m)));
    match (code, message) {
        (Some(c), Some(m)) => format!("{m} (SignalWire error {c})"),
        (None, Some(m)) => m,
        (Some(c), None) => format!("{status} (SignalWire error {c})"),
        (None, None) => status.to_owned(),
    }
}

/// A verified webhook's meaning; `job_id` is the callback URL's `job_id` (Faxline's own sends).
pub fn parse(fields: &[(String, String)], job_id: Option<&str>) -> Result<Event, SignalWireError> {
    let sid = field(fields, "FaxSid")
        .map(str::trim)
        .filter(|s| valid_sid(s))
        .ok_or(SignalWireError::NoSid)?
        .to_owned();
    let pages = field(fields, "NumPages").and_then(|p| p.trim().parse::<i64>().ok());
    let Some(status) = field(fields, "FaxStatus").map(str::trim) else {
        return Ok(Event::Incoming { provider_sid: sid });
    };
    let number = |name: &str| plain_number(&field(fields, name).map(|n| n.trim().to_owned()));
    if status == "received" {
        let media_url = field(fields, "MediaUrl")
            .map(str::trim)
            .filter(|u| !u.is_empty() && u.len() <= 4096)
            .ok_or(SignalWireError::NoMedia)?
            .to_owned();
        return Ok(Event::Received {
            fax: Received {
                provider_sid: sid,
                from: number("From"),
                to: number("To"),
                pages,
                status: "received".into(),
                occurred_at: None,
            },
            media_url,
        });
    }
    if field(fields, "Direction").map(str::trim) == Some("inbound")
        && map_status(status) == Some(JobStatus::Failed)
    {
        return Ok(Event::ReceiveFailed(Received {
            provider_sid: sid,
            from: number("From"),
            to: number("To"),
            pages,
            status: "failed".into(),
            occurred_at: None,
        }));
    }
    let job = map_status(status).ok_or_else(|| {
        SignalWireError::Status(
            status
                .chars()
                .filter(|c| !c.is_control())
                .take(32)
                .collect(),
        )
    })?;
    Ok(Event::Status(StatusEvent {
        provider_sid: sid,
        // SignalWire numbers no callback: one per status, so the same status again is a replay.
        event: format!("status:{status}"),
        job_id: job_id.map(str::to_owned),
        status: job,
        pages,
        error: (job == JobStatus::Failed).then(|| error_text(fields, status)),
        occurred_at: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn signature_is_twilios_over_url_and_sorted_fields() {
        // Twilio's documented example (the auth token `12345`, its URL and fields, its signature).
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let fields = f(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675309"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
        ]);
        let sig = signature(b"12345", url, &fields);
        assert_eq!(sig, "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
        assert!(verify(b"12345", url, &fields, &sig));
        // Order of the form does not matter, but every byte of URL, names, values and key does.
        let mut reversed = fields.clone();
        reversed.reverse();
        assert!(verify(b"12345", url, &reversed, &sig));
        assert!(!verify(b"12346", url, &fields, &sig));
        assert!(!verify(
            b"12345",
            "https://mycompany.com/myapp.php?foo=1&bar=3",
            &fields,
            &sig
        ));
        let mut tampered = fields.clone();
        tampered[2].1 = "1235".into();
        assert!(!verify(b"12345", url, &tampered, &sig));
        let mut added = fields.clone();
        added.push(("NumPages".into(), "1".into()));
        assert!(!verify(b"12345", url, &added, &sig));
        for junk in ["", "not base64!", "AAAA"] {
            assert!(!verify(b"12345", url, &fields, junk));
        }
    }

    #[test]
    fn fax_statuses_map_to_job_statuses() {
        let Ok(Event::Status(e)) = parse(
            &f(&[
                ("FaxSid", "b3877c40-da60-4998-90ad-b792e98472af"),
                ("FaxStatus", "failed"),
                ("ErrorCode", "15002"),
                ("ErrorMessage", "Fax transmission to +15551234567 failed\n"),
                ("NumPages", "0"),
            ]),
            Some("job1"),
        ) else {
            panic!("failed")
        };
        assert_eq!(e.provider_sid, "b3877c40-da60-4998-90ad-b792e98472af");
        assert_eq!(e.status, JobStatus::Failed);
        let error = e.error.unwrap();
        assert!(
            error.ends_with("failed (SignalWire error 15002)"),
            "{error}"
        );
        assert!(!error.contains("5551234567"), "masked: {error}");
        assert_eq!(e.job_id.as_deref(), Some("job1"));
        assert_eq!(e.event, "status:failed");
        for (s, want, err) in [
            ("queued", JobStatus::Queued, None),
            ("processing", JobStatus::InProgress, None),
            ("sending", JobStatus::InProgress, None),
            ("delivered", JobStatus::Success, None),
            ("busy", JobStatus::Failed, Some("busy")),
            ("no-answer", JobStatus::Failed, Some("no-answer")),
            ("canceled", JobStatus::Failed, Some("canceled")),
        ] {
            let Ok(Event::Status(e)) = parse(
                &f(&[("FaxSid", "s1"), ("FaxStatus", s), ("NumPages", "3")]),
                Some("j"),
            ) else {
                panic!("{s}")
            };
            assert_eq!(
                (e.status, e.pages, e.error.as_deref()),
                (want, Some(3), err),
                "{s}"
            );
        }
        let Ok(Event::Received { fax, media_url }) = parse(
            &f(&[
                ("FaxSid", "r1"),
                ("FaxStatus", "received"),
                ("From", "+15550001111"),
                ("To", "+15550002222"),
                ("NumPages", "2"),
                ("MediaUrl", "https://example.signalwire.com/api/laml/x.pdf"),
            ]),
            None,
        ) else {
            panic!("received")
        };
        assert_eq!(
            (fax.provider_sid.as_str(), fax.from.as_deref(), fax.pages),
            ("r1", Some("+15550001111"), Some(2))
        );
        assert_eq!(media_url, "https://example.signalwire.com/api/laml/x.pdf");
        assert_eq!(
            parse(&f(&[("FaxSid", "r2"), ("Direction", "inbound")]), None),
            Ok(Event::Incoming {
                provider_sid: "r2".into()
            })
        );
        assert_eq!(
            parse(&f(&[("FaxSid", "r2"), ("FaxStatus", "received")]), None),
            Err(SignalWireError::NoMedia)
        );
        let Ok(Event::ReceiveFailed(r)) = parse(
            &f(&[
                ("FaxSid", "r3"),
                ("FaxStatus", "failed"),
                ("Direction", "inbound"),
            ]),
            None,
        ) else {
            panic!("inbound failure")
        };
        assert_eq!(
            (r.provider_sid.as_str(), r.status.as_str()),
            ("r3", "failed")
        );
        assert_eq!(
            parse(&f(&[("FaxStatus", "queued")]), None),
            Err(SignalWireError::NoSid)
        );
        assert_eq!(
            parse(&f(&[("FaxSid", "../x"), ("FaxStatus", "queued")]), None),
            Err(SignalWireError::NoSid)
        );
        assert!(matches!(
            parse(&f(&[("FaxSid", "s"), ("FaxStatus", "exploded")]), None),
            Err(SignalWireError::Status(_))
        ));
    }
}
