//! Keeping secrets and phone numbers out of logs and `Debug` output.
//!
//! Project rule: secrets never appear in logs; phone numbers are masked to their last 4 digits. Every `Debug` impl
//! of a type that can hold either goes through this module.

use std::fmt;

/// Header keys whose values are phone numbers (or station IDs, which are phone numbers on the wire).
const PHONE_KEYS: &[&str] = &[
    "CallerIDNum",
    "ConnectedLineNum",
    "CallerID",
    "Exten",
    "DID",
    "DestNumber",
    "Number",
    "LocalStationID",
    "RemoteStationID",
];

/// Header keys whose values may embed a dialled number inside other text (`PJSIP/+15551234567@trunk`).
const DIAL_KEYS: &[&str] = &[
    "Channel",
    "DestChannel",
    "Data",
    "DialString",
    "Destination",
];

/// Header keys whose values are secrets.
const SECRET_KEYS: &[&str] = &["Secret", "Key", "Password"];

/// True if `key` carries a phone number.
pub fn is_phone_key(key: &str) -> bool {
    PHONE_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key))
}

/// True if `key` carries a secret.
pub fn is_secret_key(key: &str) -> bool {
    SECRET_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key))
}

/// Masks a header value that may be a phone number to its last 4 digits: `+1 555 123 4567` → `…4567`
/// (the workspace's one rule, [`faxline_protocol::mask_number`]).
pub use faxline_protocol::mask_number as mask_phone;
/// Masks every run of 5 or more digits inside `text` to its last 4: `PJSIP/+15551234567@trunk` →
/// `PJSIP/+…4567@trunk`.
pub use faxline_protocol::mask_numbers_in;

/// A header value prepared for `Debug`/logs: phone numbers masked, secrets replaced.
pub(crate) enum Redacted<'a> {
    Plain(&'a str),
    Phone(&'a str),
    Dial(&'a str),
    Secret,
}

impl<'a> Redacted<'a> {
    pub(crate) fn header(key: &str, value: &'a str) -> Self {
        if is_secret_key(key) {
            Redacted::Secret
        } else if is_phone_key(key) {
            Redacted::Phone(value)
        } else if DIAL_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key)) {
            Redacted::Dial(value)
        } else {
            Redacted::Plain(value)
        }
    }
}

impl fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Redacted::Plain(v) => fmt::Debug::fmt(v, f),
            Redacted::Phone(v) => fmt::Debug::fmt(&mask_phone(v), f),
            Redacted::Dial(v) => fmt::Debug::fmt(&mask_numbers_in(v), f),
            Redacted::Secret => f.write_str("<redacted>"),
        }
    }
}

/// The AMI password is the workspace's one secret type.
pub use faxline_protocol::Secret;

/// A header value that may hold a phone number (`CallerIDNum`, `Exten`, a station id), as Asterisk sent
/// it: not validated (it can be `<unknown>`, an extension or a name), so it is not a
/// [`faxline_protocol::PhoneNumber`]. `Debug` and `Display` show it masked; [`HeaderNumber::as_str`]
/// gives the value.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct HeaderNumber(String);

impl HeaderNumber {
    /// Wraps a header value.
    pub fn new(s: impl Into<String>) -> Self {
        HeaderNumber(s.into())
    }

    /// The value as sent (for business logic, never for logs).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The masked form used in logs.
    pub fn masked(&self) -> String {
        mask_phone(&self.0)
    }
}

impl fmt::Debug for HeaderNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.masked(), f)
    }
}

impl fmt::Display for HeaderNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_to_last_four_digits() {
        assert_eq!(mask_phone("+1 555 123 4567"), "…4567");
        assert_eq!(mask_phone("\"lab\" <5550100>"), "…0100");
        assert_eq!(mask_phone("<unknown>"), "…");
        assert_eq!(mask_phone("1234"), "…");
        assert_eq!(
            mask_numbers_in("PJSIP/+15551234567@trunk-0001"),
            "PJSIP/+…4567@trunk-0001"
        );
    }

    #[test]
    fn secret_and_phone_never_leak_through_fmt() {
        let s = Secret::new("hunter2");
        assert!(!format!("{s:?}{s}").contains("hunter2"));
        let p = HeaderNumber::new("+15551234567");
        assert_eq!(format!("{p}"), "…4567");
        assert_eq!(format!("{p:?}"), "\"…4567\"");
        assert_eq!(p.as_str(), "+15551234567");
    }
}
