//! Telnyx (Programmable Fax, API v2) webhooks.
//!
//! **Signature.** Telnyx signs every webhook with its account key pair (Ed25519): the
//! `telnyx-signature-ed25519` header is the base64 signature of `<telnyx-timestamp>|<raw body>`, and
//! `telnyx-timestamp` is the Unix second it was sent. The account's public key (base64 of 32 bytes) is in the
//! Telnyx portal. A signature is checked over the body exactly as received (a re-serialised body would not
//! match), then the timestamp: older than the maximum age is stale, as far ahead is refused too (a clock that
//! far off, or a signed request held back for later).
//!
//! **Body.** JSON: `data` is the event, with `id` (unique per webhook), `event_type`, `occurred_at` and
//! `payload`: `fax_id`, `status`, `page_count`, `failure_reason`, `client_state`, `from`, `to`, and in
//! `fax.received` the received document's `media_url`. Faxline sends each fax with its job id as
//! `client_state` ([`faxline_protocol::telnyx::client_state`]), which every webhook of the fax echoes.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::Deserialize;

use super::{Received, StatusEvent, plain_number, unix};
use faxline_protocol::JobStatus;
use faxline_protocol::telnyx::{Fax, clean_text};

/// The header carrying the signature (base64).
pub const SIGNATURE_HEADER: &str = "telnyx-signature-ed25519";
/// The header carrying the Unix second the webhook was signed.
pub const TIMESTAMP_HEADER: &str = "telnyx-timestamp";

/// Why a webhook's authentication fails. The texts are the 401's detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("Missing telnyx-signature-ed25519 or telnyx-timestamp")]
    Missing,
    #[error("Invalid webhook signature")]
    Invalid,
    #[error("Stale webhook")]
    Stale,
    #[error("Webhook timestamp is in the future")]
    Future,
}

/// Why a webhook's body is refused, or the configured key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TelnyxError {
    #[error("the body is not a Telnyx webhook: {0}")]
    Body(String),
    #[error("the Telnyx public key must be the base64 of 32 bytes, as the Telnyx portal shows it")]
    Key,
}

/// The account's public key from its base64 form (the portal's).
pub fn public_key(b64: &str) -> Result<VerifyingKey, TelnyxError> {
    let raw = STANDARD.decode(b64.trim()).map_err(|_| TelnyxError::Key)?;
    let bytes: [u8; 32] = raw.try_into().map_err(|_| TelnyxError::Key)?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| TelnyxError::Key)
}

/// The message Telnyx signs.
fn signed_message(timestamp: &str, body: &[u8]) -> Vec<u8> {
    let mut msg = Vec::with_capacity(timestamp.len() + 1 + body.len());
    msg.extend_from_slice(timestamp.as_bytes());
    msg.push(b'|');
    msg.extend_from_slice(body);
    msg
}

/// The `telnyx-signature-ed25519` value Telnyx sends for `body` at `timestamp`, signed with `key` (what a
/// stand-in for Telnyx, or a test, needs).
pub fn signature(key: &SigningKey, timestamp: i64, body: &[u8]) -> String {
    let sig = key.sign(&signed_message(&timestamp.to_string(), body));
    STANDARD.encode(sig.to_bytes())
}

/// Checks a webhook: the signature over `timestamp|body` (strict Ed25519: no malleable or small-order
/// forms), then the timestamp within `max_age_s` of `now_s` either way.
pub fn verify(
    key: &VerifyingKey,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now_s: i64,
    max_age_s: u64,
) -> Result<(), AuthError> {
    let (Some(ts), Some(sig)) = (timestamp, signature) else {
        return Err(AuthError::Missing);
    };
    let ts = ts.trim();
    // Digits only, as Telnyx writes it: one timestamp has one spelling.
    let when: i64 = (!ts.is_empty() && ts.len() <= 12 && ts.bytes().all(|b| b.is_ascii_digit()))
        .then(|| ts.parse().ok())
        .flatten()
        .ok_or(AuthError::Invalid)?;
    let raw = STANDARD
        .decode(sig.trim())
        .map_err(|_| AuthError::Invalid)?;
    let sig = Signature::from_slice(&raw).map_err(|_| AuthError::Invalid)?;
    key.verify_strict(&signed_message(ts, body), &sig)
        .map_err(|_| AuthError::Invalid)?;
    let max = i64::try_from(max_age_s).unwrap_or(i64::MAX);
    if now_s.saturating_sub(when) > max {
        return Err(AuthError::Stale);
    }
    if when.saturating_sub(now_s) > max {
        return Err(AuthError::Future);
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
struct Envelope {
    data: EventData,
}

#[derive(Debug, Deserialize)]
struct EventData {
    id: String,
    event_type: String,
    #[serde(default)]
    occurred_at: Option<String>,
    #[serde(default)]
    payload: Fax,
}

/// What a verified webhook says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A sent fax's progress or end.
    Status(StatusEvent),
    /// A received fax, its document at `media_url`.
    Received { fax: Received, media_url: String },
    /// An event Faxline does not act on (acknowledged so Telnyx does not retry it).
    Other { event_type: String },
}

fn bad(e: impl Into<String>) -> TelnyxError {
    TelnyxError::Body(e.into())
}

/// The job status a sent fax's event type means.
fn status_of(event_type: &str) -> Option<JobStatus> {
    Some(match event_type {
        "fax.queued" | "fax.media.processed" => JobStatus::Queued,
        "fax.sending.started" => JobStatus::InProgress,
        "fax.delivered" => JobStatus::Success,
        "fax.failed" => JobStatus::Failed,
        _ => return None,
    })
}

/// A verified webhook's meaning.
pub fn parse(body: &[u8]) -> Result<Event, TelnyxError> {
    let env: Envelope = serde_json::from_slice(body).map_err(|e| bad(e.to_string()))?;
    let d = env.data;
    let webhook_id = clean_text(&d.id)
        .filter(|i| faxline_protocol::telnyx::valid_sid(i))
        .ok_or_else(|| bad("`data.id` is not a Telnyx event id"))?;
    let event_type = clean_text(&d.event_type).unwrap_or_default();
    let occurred_at = d.occurred_at.as_deref().and_then(unix);
    let fax = d.payload;
    if event_type == "fax.received" {
        let provider_sid = fax
            .sid()
            .ok_or_else(|| bad("`payload.fax_id` is not a Telnyx fax id"))?;
        let media_url = fax
            .media_url
            .clone()
            .filter(|u| !u.is_empty() && u.len() <= 4096)
            .ok_or_else(|| bad("`payload.media_url` is missing"))?;
        return Ok(Event::Received {
            fax: Received {
                provider_sid,
                from: plain_number(&fax.from),
                to: plain_number(&fax.to),
                pages: fax.pages(),
                status: "received".into(),
                occurred_at,
            },
            media_url,
        });
    }
    let Some(status) = status_of(&event_type) else {
        return Ok(Event::Other { event_type });
    };
    let provider_sid = fax
        .sid()
        .ok_or_else(|| bad("`payload.fax_id` is not a Telnyx fax id"))?;
    Ok(Event::Status(StatusEvent {
        provider_sid,
        // One per webhook: the same webhook again is a replay.
        event: format!("{event_type}:{webhook_id}"),
        job_id: fax.job_id(),
        status,
        pages: fax.pages(),
        error: (status == JobStatus::Failed).then(|| fax.error_text()),
        occurred_at,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[7u8; 32])
    }

    #[test]
    fn signature_covers_timestamp_and_raw_body_within_the_age() {
        let k = key();
        let pk = k.verifying_key();
        let body = br#"{"data":{"id":"1"}}"#;
        let now = 1_767_000_000;
        let sig = signature(&k, now, body);
        let ts = now.to_string();
        assert_eq!(verify(&pk, Some(&ts), Some(&sig), body, now, 300), Ok(()));
        assert_eq!(
            verify(&pk, Some(&ts), Some(&sig), body, now + 300, 300),
            Ok(())
        );
        // Another body, another timestamp, another key, garbage.
        assert_eq!(
            verify(&pk, Some(&ts), Some(&sig), b"{}", now, 300),
            Err(AuthError::Invalid)
        );
        let other_ts = (now + 1).to_string();
        assert_eq!(
            verify(&pk, Some(&other_ts), Some(&sig), body, now, 300),
            Err(AuthError::Invalid)
        );
        let other = SigningKey::from_bytes(&[8u8; 32]).verifying_key();
        assert_eq!(
            verify(&other, Some(&ts), Some(&sig), body, now, 300),
            Err(AuthError::Invalid)
        );
        for junk in ["", "not base64!", "AAAA"] {
            assert_eq!(
                verify(&pk, Some(&ts), Some(junk), body, now, 300),
                Err(AuthError::Invalid)
            );
        }
        assert_eq!(
            verify(&pk, Some(&format!("+{ts}")), Some(&sig), body, now, 300),
            Err(AuthError::Invalid)
        );
        assert_eq!(
            verify(&pk, None, Some(&sig), body, now, 300),
            Err(AuthError::Missing)
        );
        assert_eq!(
            verify(&pk, Some(&ts), None, body, now, 300),
            Err(AuthError::Missing)
        );
        // Genuine but old, or dated ahead.
        assert_eq!(
            verify(&pk, Some(&ts), Some(&sig), body, now + 301, 300),
            Err(AuthError::Stale)
        );
        assert_eq!(
            verify(&pk, Some(&ts), Some(&sig), body, now - 301, 300),
            Err(AuthError::Future)
        );
        // The portal's form of the key.
        let b64 = STANDARD.encode(pk.to_bytes());
        assert_eq!(public_key(&b64).unwrap(), pk);
        assert_eq!(public_key("short"), Err(TelnyxError::Key));
        assert_eq!(
            public_key(&STANDARD.encode([1u8; 31])),
            Err(TelnyxError::Key)
        );
    }

    fn webhook(event_type: &str, payload: serde_json::Value) -> Vec<u8> {
        json!({"data": {"event_type": event_type, "id": "95479a2e-b947-470a-a88f-2da6dd07ae0f",
            "occurred_at": "2026-01-02T15:04:05.000000Z", "payload": payload, "record_type": "event"},
            "meta": {"attempt": 1}})
        .to_string()
        .into_bytes()
    }

    #[test]
    fn fax_events_map_to_job_statuses() {
        let state = faxline_protocol::telnyx::client_state("abc123");
        let e = parse(&webhook(
            "fax.failed",
            json!({"fax_id": "f8338808-3dc6-4f2b-942a-5d1f39255784", "status": "failed",
                "failure_reason": "user_busy", "client_state": state, "to": "+15551230000"}),
        ))
        .unwrap();
        let Event::Status(e) = e else { panic!("{e:?}") };
        assert_eq!(e.provider_sid, "f8338808-3dc6-4f2b-942a-5d1f39255784");
        assert_eq!(e.status, JobStatus::Failed);
        assert_eq!(e.error.as_deref(), Some("user_busy"));
        assert_eq!(e.job_id.as_deref(), Some("abc123"));
        assert_eq!(e.event, "fax.failed:95479a2e-b947-470a-a88f-2da6dd07ae0f");
        assert_eq!(e.occurred_at, Some(1_767_366_245));
        for (t, s) in [
            ("fax.queued", JobStatus::Queued),
            ("fax.media.processed", JobStatus::Queued),
            ("fax.sending.started", JobStatus::InProgress),
            ("fax.delivered", JobStatus::Success),
        ] {
            let Ok(Event::Status(e)) = parse(&webhook(
                t,
                json!({"fax_id": "f1", "page_count": 2, "client_state": state}),
            )) else {
                panic!("{t}")
            };
            assert_eq!((e.status, e.pages, e.error), (s, Some(2), None), "{t}");
        }
        let Ok(Event::Received { fax, media_url }) = parse(&webhook(
            "fax.received",
            json!({"fax_id": "r1", "from": "+15550001111", "to": "+15550002222", "page_count": 1,
                "media_url": "https://s3.example/fax.pdf?sig=1", "status": "received"}),
        )) else {
            panic!("received")
        };
        assert_eq!(fax.provider_sid, "r1");
        assert_eq!(fax.from.as_deref(), Some("+15550001111"));
        assert_eq!(media_url, "https://s3.example/fax.pdf?sig=1");
        assert_eq!(
            parse(&webhook("fax.email.delivered", json!({"fax_id": "x"}))),
            Ok(Event::Other {
                event_type: "fax.email.delivered".into()
            })
        );
        assert!(parse(b"{not json").is_err());
        assert!(parse(&webhook("fax.delivered", json!({"fax_id": "../x"}))).is_err());
        assert!(parse(&webhook("fax.received", json!({"fax_id": "r2"}))).is_err());
    }
}
