//! Phone numbers: one rule for what a fax number is, and one way to show one in logs.
//!
//! The rule is Faxbot's (`^[+]?\d{6,20}$`): an optional `+`, then 6–20 ASCII digits, nothing else. It is the
//! rule the API has always applied to `POST /fax`, so every number an agent dials passed it, and every
//! input a Faxbot client had accepted is still accepted. Separators (`+1 555-0100`) are refused rather than
//! silently stripped, because Faxbot refused them too.
//!
//! Logs show a number as `…` and its last four digits ([`mask_number`]); a value with fewer than five
//! digits shows only `…`. [`PhoneNumber`]'s `Display` and `Debug` print that form, so the full number
//! cannot reach a log by accident: reading it takes [`PhoneNumber::digits`] or [`PhoneNumber::as_dialable`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Fewest digits of a fax number.
pub const MIN_DIGITS: usize = 6;
/// Most digits of a fax number.
pub const MAX_DIGITS: usize = 20;

/// A fax number that follows the rule above. Kept as given (with its `+` when it had one).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber(String);

/// Why a text is not a fax number (never contains the text).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneNumberError {
    #[error("a fax number has at least {MIN_DIGITS} digits")]
    TooShort,
    #[error("a fax number has at most {MAX_DIGITS} digits")]
    TooLong,
    #[error("a fax number is digits with an optional leading +")]
    NotDigits,
}

impl PhoneNumber {
    /// Checks `text` against the rule.
    pub fn parse(text: &str) -> Result<Self, PhoneNumberError> {
        let digits = text.strip_prefix('+').unwrap_or(text);
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PhoneNumberError::NotDigits);
        }
        match digits.len() {
            n if n < MIN_DIGITS => Err(PhoneNumberError::TooShort),
            n if n > MAX_DIGITS => Err(PhoneNumberError::TooLong),
            _ => Ok(Self(text.to_owned())),
        }
    }

    /// True when `text` is a fax number.
    pub fn is_valid(text: &str) -> bool {
        Self::parse(text).is_ok()
    }

    /// The number as given (`+15551234567` or `15551234567`): for storage and business logic, never logs.
    pub fn digits(&self) -> &str {
        &self.0
    }

    /// The number to put in a dial string or a SIP URI: as given, `+` kept (it only ever holds `+` and
    /// digits, so it needs no escaping in a dialplan or a URI user part).
    pub fn as_dialable(&self) -> &str {
        &self.0
    }

    /// The form for logs: `…4567`.
    pub fn masked(&self) -> String {
        mask_number(&self.0)
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneNumber({})", self.masked())
    }
}

impl FromStr for PhoneNumber {
    type Err = PhoneNumberError;

    fn from_str(s: &str) -> Result<Self, PhoneNumberError> {
        Self::parse(s)
    }
}

impl Serialize for PhoneNumber {
    /// On the wire the number is whole: the agent must dial it.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for PhoneNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Any text that may hold a phone number, masked for logs: `…` and its last four digits (`+1 555 123 4567`
/// → `…4567`); fewer than five digits (`<unknown>`, an extension) → `…`. The one masking rule of the
/// workspace.
pub fn mask_number(text: &str) -> String {
    let digits: Vec<char> = text.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 5 {
        return "…".to_owned();
    }
    let mut out = String::from("…");
    out.extend(&digits[digits.len() - 4..]);
    out
}

/// Masks every run of five or more digits inside `text` the same way, leaving the rest readable:
/// `PJSIP/+15551234567@trunk-0001` → `PJSIP/+…4567@trunk-0001`.
pub fn mask_numbers_in(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() > 4 {
            out.push_str(&mask_number(run));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_faxbots_rule() {
        for ok in [
            "+15551234567",
            "15551234567",
            "123456",
            "+123456",
            &"1".repeat(20),
        ] {
            let n = PhoneNumber::parse(ok).unwrap();
            assert_eq!(n.digits(), ok);
            assert_eq!(n.as_dialable(), ok);
        }
        assert_eq!(PhoneNumber::parse("12345"), Err(PhoneNumberError::TooShort));
        assert_eq!(PhoneNumber::parse("+"), Err(PhoneNumberError::TooShort));
        assert_eq!(PhoneNumber::parse(""), Err(PhoneNumberError::TooShort));
        assert_eq!(
            PhoneNumber::parse(&"1".repeat(21)),
            Err(PhoneNumberError::TooLong)
        );
        for bad in [
            "+1 555 123",
            "abc",
            "++123456",
            "123456+",
            "+1-555-123-4567",
            "(555) 1234567",
            " 1234567",
            "1234567\n",
            "1234567;drop",
            "1234567@evil.example",
            "1234567&Dial(PJSIP/x)",
            "１２３４５６７",
            "12345\u{0}67",
            "\u{202e}1234567",
        ] {
            assert_eq!(
                PhoneNumber::parse(bad),
                Err(PhoneNumberError::NotDigits),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn display_and_debug_mask() {
        let n = PhoneNumber::parse("+15551234567").unwrap();
        assert_eq!(n.to_string(), "…4567");
        assert_eq!(n.masked(), "…4567");
        let dbg = format!("{n:?} {:?}", Some(&n));
        assert!(!dbg.contains("555123"), "{dbg}");
        assert!(dbg.contains("…4567"));
    }

    #[test]
    fn serde_keeps_the_number_whole_and_refuses_bad_ones() {
        let n: PhoneNumber = serde_json::from_str("\"+15551234567\"").unwrap();
        assert_eq!(serde_json::to_string(&n).unwrap(), "\"+15551234567\"");
        assert!(serde_json::from_str::<PhoneNumber>("\"12;34567\"").is_err());
    }

    #[test]
    fn masking_is_one_format() {
        assert_eq!(mask_number("+1 555 123 4567"), "…4567");
        assert_eq!(mask_number("\"lab\" <5550100>"), "…0100");
        assert_eq!(mask_number("<unknown>"), "…");
        assert_eq!(mask_number("1234"), "…");
        assert_eq!(mask_number(""), "…");
        assert_eq!(
            mask_numbers_in("PJSIP/+15551234567@trunk-0001"),
            "PJSIP/+…4567@trunk-0001"
        );
        assert_eq!(mask_numbers_in("no digits"), "no digits");
        assert_eq!(mask_numbers_in("1234567890123"), "…0123");
    }
}
