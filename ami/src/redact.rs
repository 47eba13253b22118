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

/// Masks a phone number to its last 4 digits: `+1 555 123 4567` → `***4567`.
///
/// Values with at most 4 digits (short extensions, `<unknown>`, `anonymous`) reveal nothing more and are kept.
pub fn mask_phone(value: &str) -> String {
    let digits: Vec<char> = value.chars().filter(char::is_ascii_digit).collect();
    if digits.len() <= 4 {
        return value.to_owned();
    }
    let mut out = String::from("***");
    out.extend(&digits[digits.len() - 4..]);
    out
}

/// Masks every run of 5 or more digits inside `text` to its last 4: `PJSIP/+15551234567@trunk` →
/// `PJSIP/+***4567@trunk`.
pub fn mask_numbers_in(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() > 4 {
            out.push_str("***");
            out.push_str(&run[run.len() - 4..]);
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

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

/// A secret (AMI password). Its `Debug` and `Display` never show the value; use [`Secret::expose`] to read it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The secret itself. Call sites are easy to audit with `grep expose`.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret::new(s)
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret(s)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A phone number whose `Debug` and `Display` show only the last 4 digits; [`PhoneNumber::as_str`] gives the value.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Wraps a number.
    pub fn new(s: impl Into<String>) -> Self {
        PhoneNumber(s.into())
    }

    /// The full number (for business logic, never for logs).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The masked form used in logs.
    pub fn masked(&self) -> String {
        mask_phone(&self.0)
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.masked(), f)
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_to_last_four_digits() {
        assert_eq!(mask_phone("+1 555 123 4567"), "***4567");
        assert_eq!(mask_phone("\"lab\" <5550100>"), "***0100");
        assert_eq!(mask_phone("<unknown>"), "<unknown>");
        assert_eq!(mask_phone("1234"), "1234");
        assert_eq!(
            mask_numbers_in("PJSIP/+15551234567@trunk-0001"),
            "PJSIP/+***4567@trunk-0001"
        );
    }

    #[test]
    fn secret_and_phone_never_leak_through_fmt() {
        let s = Secret::new("hunter2");
        assert!(!format!("{s:?}{s}").contains("hunter2"));
        let p = PhoneNumber::new("+15551234567");
        assert_eq!(format!("{p}"), "***4567");
        assert_eq!(format!("{p:?}"), "\"***4567\"");
        assert_eq!(p.as_str(), "+15551234567");
    }
}
