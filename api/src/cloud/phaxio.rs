//! Phaxio (API v2.1) callbacks.
//!
//! **Signature.** Phaxio signs every callback with the account's callback token (the console's "webhook
//! token"), in the `X-Phaxio-Signature` header: the hex HMAC-SHA1 of the URL it posted to (exactly as
//! configured, query included), then every POST field as `name` + `value` in order of name, then every
//! uploaded file as its field name + the hex SHA-1 of its content, in order of field name. Faxbot computed an
//! HMAC-SHA256 of the raw body with the API secret instead, which no genuine callback matches.
//!
//! **Fields.** A callback is a form (multipart when a file comes with it) with `direction` (`sent` or
//! `received`), `is_test`, `success`, `event_type` and `fax`, a JSON object: `id`, `status` (`queued`,
//! `pendingbatch`, `inprogress`, `success`, `failure`, `partialsuccess`), `num_pages`, `error_type`,
//! `error_message`, `error_code`, `tags`, `created_at`, `completed_at`, `from_number`, `to_number`,
//! `recipients`. Faxline tags each fax it sends with its job id ([`JOB_TAG`]), which the callback echoes.

use hmac::{KeyInit, Mac};
use sha1::{Digest, Sha1};

use super::{StatusEvent, plain_number, unix};
use faxline_protocol::JobStatus;
pub use faxline_protocol::phaxio::JOB_TAG;
use faxline_protocol::phaxio::{Fax, clean_text, map_status};

type HmacSha1 = hmac::Hmac<Sha1>;

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "x-phaxio-signature";

/// Why a callback is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhaxioError {
    #[error("the callback has no `fax` field")]
    NoFax,
    #[error("the callback's `fax` field is not a Phaxio fax object: {0}")]
    BadFax(String),
}

/// The SHA-1 of an uploaded file as it enters the signature (40 hex digits): what a receiver that
/// streams the file computes as the bytes arrive, instead of keeping them.
pub fn file_digest(content: &[u8]) -> String {
    hex::encode(Sha1::digest(content))
}

/// The message Phaxio signs: the URL, the fields sorted, then each file's field name and
/// [`file_digest`], sorted.
fn signed_message(url: &str, fields: &[(String, String)], digests: &[(String, String)]) -> Vec<u8> {
    let mut fields: Vec<&(String, String)> = fields.iter().collect();
    fields.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    let mut files: Vec<&(String, String)> = digests.iter().collect();
    files.sort();
    let mut msg = url.as_bytes().to_vec();
    for (k, v) in fields {
        msg.extend_from_slice(k.as_bytes());
        msg.extend_from_slice(v.as_bytes());
    }
    for (name, digest) in files {
        msg.extend_from_slice(name.as_bytes());
        msg.extend_from_slice(digest.as_bytes());
    }
    msg
}

fn mac(
    token: &[u8],
    url: &str,
    fields: &[(String, String)],
    digests: &[(String, String)],
) -> HmacSha1 {
    let mut m = HmacSha1::new_from_slice(token).expect("HMAC accepts any key length");
    m.update(&signed_message(url, fields, digests));
    m
}

fn digests_of(files: &[(String, &[u8])]) -> Vec<(String, String)> {
    files
        .iter()
        .map(|(name, content)| (name.clone(), file_digest(content)))
        .collect()
}

/// The signature Phaxio sends for a callback to `url` with these fields and files (40 hex digits).
pub fn signature(
    token: &[u8],
    url: &str,
    fields: &[(String, String)],
    files: &[(String, &[u8])],
) -> String {
    hex::encode(
        mac(token, url, fields, &digests_of(files))
            .finalize()
            .into_bytes(),
    )
}

/// Whether `given` (the header's value) is the callback's signature; compared in constant time.
pub fn verify(
    token: &[u8],
    url: &str,
    fields: &[(String, String)],
    files: &[(String, &[u8])],
    given: &str,
) -> bool {
    verify_digests(token, url, fields, &digests_of(files), given)
}

/// [`verify`] with each file's field name and [`file_digest`] instead of its content.
pub fn verify_digests(
    token: &[u8],
    url: &str,
    fields: &[(String, String)],
    digests: &[(String, String)],
    given: &str,
) -> bool {
    let Ok(sig) = hex::decode(given.trim()) else {
        return false;
    };
    mac(token, url, fields, digests).verify_slice(&sig).is_ok()
}

/// A received fax as Phaxio reports it (the PDF comes as the callback's `file`).
pub use super::Received;

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn fax_object(fields: &[(String, String)]) -> Result<Fax, PhaxioError> {
    let raw = field(fields, "fax").ok_or(PhaxioError::NoFax)?;
    serde_json::from_str(raw).map_err(|e| PhaxioError::BadFax(e.to_string()))
}

fn sid_of(fax: &Fax) -> Result<String, PhaxioError> {
    fax.sid()
        .ok_or_else(|| PhaxioError::BadFax("`id` is not a Phaxio fax id".into()))
}

fn occurred_at(fax: &Fax) -> Option<i64> {
    fax.completed_at
        .as_deref()
        .and_then(unix)
        .or_else(|| fax.created_at.as_deref().and_then(unix))
}

/// The status event of a sent fax's callback (fields already verified).
pub fn parse_status(fields: &[(String, String)]) -> Result<StatusEvent, PhaxioError> {
    let fax = fax_object(fields)?;
    let provider_sid = sid_of(&fax)?;
    let raw = fax
        .status
        .as_deref()
        .ok_or_else(|| PhaxioError::BadFax("no `status`".into()))?;
    let status = map_status(raw)
        .ok_or_else(|| PhaxioError::BadFax(format!("unknown status {:?}", clean_text(raw))))?;
    let event_type = field(fields, "event_type").unwrap_or("fax_completed");
    Ok(StatusEvent {
        provider_sid,
        event: format!(
            "{}:{}",
            clean_text(event_type).unwrap_or_default(),
            raw.to_ascii_lowercase()
        ),
        job_id: fax.job_tag().map(str::to_owned),
        status,
        pages: fax.pages(),
        error: (status == JobStatus::Failed).then(|| fax.error_text()),
        occurred_at: occurred_at(&fax),
    })
}

/// A received fax's callback (fields already verified).
pub fn parse_received(fields: &[(String, String)]) -> Result<Received, PhaxioError> {
    let fax = fax_object(fields)?;
    let provider_sid = sid_of(&fax)?;
    let failed = fax.job_status() == Some(JobStatus::Failed);
    Ok(Received {
        provider_sid,
        from: plain_number(&fax.from_number),
        to: plain_number(&fax.to_number),
        pages: fax.pages(),
        status: if failed { "failed" } else { "received" }.into(),
        occurred_at: occurred_at(&fax),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(k: &str, v: &str) -> (String, String) {
        (k.to_owned(), v.to_owned())
    }

    #[test]
    fn signature_covers_url_sorted_fields_and_file_digests() {
        let token = b"callback-token";
        let url = "https://fax.example.org/phaxio-callback";
        let a = vec![f("success", "true"), f("direction", "sent")];
        let b = vec![f("direction", "sent"), f("success", "true")];
        // Field order does not matter; the message is the URL then name+value sorted by name.
        assert_eq!(
            signature(token, url, &a, &[]),
            signature(token, url, &b, &[])
        );
        let expected = {
            let mut m = HmacSha1::new_from_slice(token).unwrap();
            m.update(b"https://fax.example.org/phaxio-callbackdirectionsentsuccesstrue");
            hex::encode(m.finalize().into_bytes())
        };
        assert_eq!(signature(token, url, &a, &[]), expected);
        assert!(verify(token, url, &a, &[], &expected));
        assert!(verify(token, url, &a, &[], &expected.to_uppercase()));
        // Any change is detected: URL, a field, a file, the token.
        assert!(!verify(
            token,
            "https://fax.example.org/other",
            &a,
            &[],
            &expected
        ));
        assert!(!verify(
            token,
            url,
            &[f("success", "false")],
            &[],
            &expected
        ));
        assert!(!verify(
            token,
            url,
            &a,
            &[("file".into(), b"%PDF")],
            &expected
        ));
        assert!(!verify(b"other", url, &a, &[], &expected));
        assert!(!verify(token, url, &a, &[], "not hex"));
        assert!(!verify(token, url, &a, &[], ""));
        // A file contributes its field name and the hex SHA-1 of its content.
        let with_file = signature(token, url, &a, &[("file".into(), b"abc")]);
        let mut m = HmacSha1::new_from_slice(token).unwrap();
        m.update(
            b"https://fax.example.org/phaxio-callbackdirectionsentsuccesstruefilea9993e364706816aba3e25717850c26c9cd0d89d",
        );
        assert_eq!(with_file, hex::encode(m.finalize().into_bytes()));
    }

    #[test]
    fn status_callbacks_map_to_job_statuses() {
        let fax = r#"{"id":123456,"status":"failure","num_pages":2,"error_type":"lineError",
            "error_message":"Busy","tags":{"faxline_job":"abc"},"completed_at":"2026-01-02T15:04:05.000-05:00"}"#;
        let e = parse_status(&[f("fax", fax), f("event_type", "fax_completed")]).unwrap();
        assert_eq!(e.provider_sid, "123456");
        assert_eq!(e.status, JobStatus::Failed);
        assert_eq!(e.pages, Some(2));
        assert_eq!(e.error.as_deref(), Some("Busy (lineError)"));
        assert_eq!(e.job_id.as_deref(), Some("abc"));
        assert_eq!(e.event, "fax_completed:failure");
        assert_eq!(e.occurred_at, Some(1_767_384_245));
        let ok =
            parse_status(&[f("fax", r#"{"id":"77","status":"success","num_pages":1}"#)]).unwrap();
        assert_eq!(ok.status, JobStatus::Success);
        assert_eq!(ok.error, None);
        assert_eq!(parse_status(&[]), Err(PhaxioError::NoFax));
        assert!(parse_status(&[f("fax", "{not json")]).is_err());
        assert!(parse_status(&[f("fax", r#"{"id":"../x","status":"success"}"#)]).is_err());
        assert!(parse_status(&[f("fax", r#"{"id":1,"status":"bogus"}"#)]).is_err());
    }
}
