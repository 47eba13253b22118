//! The one secret type of every crate: the agent and server secrets, API keys, the AMI and SIP passwords.

use std::fmt;

use subtle::ConstantTimeEq;

/// Where a secret came from. Used in messages ("set by FAXLINE_AMI__SECRET") and to refuse secrets written
/// inline in a TOML file, which tends to end up committed (Faxbot's mistake).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// Directly in the TOML file.
    Inline,
    /// From an environment variable (its name).
    Env(String),
    /// Read from a file (Docker/Kubernetes secret file); the path, not the content.
    File(std::path::PathBuf),
    /// Not recorded: built in code, or by a loader that does not track where values come from.
    Unrecorded,
}

/// A secret value. `Debug` and `Display` print only `<redacted>` and there is no `Serialize`, so it cannot
/// leak through formatting or a config dump; read it deliberately with [`Secret::expose`]. Equality is
/// constant-time and compares the values only (not where they came from), so comparing a presented
/// secret with the configured one tells an attacker nothing through timing.
///
/// The value is not wiped on drop: none of the types it replaces did, and the strings it is read from
/// (environment, TOML) stay in memory anyway.
#[derive(Clone)]
pub struct Secret {
    value: String,
    source: SecretSource,
}

impl Secret {
    /// A secret whose origin is not recorded.
    pub fn new(value: impl Into<String>) -> Self {
        Self::with_source(value, SecretSource::Unrecorded)
    }

    /// A secret and where it came from.
    pub fn with_source(value: impl Into<String>, source: SecretSource) -> Self {
        Self {
            value: value.into(),
            source,
        }
    }

    /// The secret itself. Call sites should be few and obvious (login, signing); `grep expose` finds them.
    pub fn expose(&self) -> &str {
        &self.value
    }

    /// The secret's bytes, e.g. as an HMAC key.
    pub fn as_bytes(&self) -> &[u8] {
        self.value.as_bytes()
    }

    pub fn source(&self) -> &SecretSource {
        &self.source
    }

    /// The same value attributed to `source` (a loader re-attributing a deserialized value).
    pub fn from_source(self, source: SecretSource) -> Self {
        Self { source, ..self }
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Self) -> bool {
        self.value.as_bytes().ct_eq(other.value.as_bytes()).into()
    }
}

impl Eq for Secret {}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret::new(s)
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret::new(s)
    }
}

impl<'de> serde::Deserialize<'de> for Secret {
    /// Deserialized values are attributed to the file; a loader re-attributes environment values.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|v| Secret::with_source(v, SecretSource::Inline))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_never_shows_the_value() {
        let s = Secret::new("hunter2-very-secret-value");
        let shown = format!("{s:?} {s} {:?} {:#?}", Some(&s), vec![s.clone()]);
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("redacted"));
        assert_eq!(s.expose(), "hunter2-very-secret-value");
        assert_eq!(s.as_bytes(), b"hunter2-very-secret-value");
    }

    #[test]
    fn equality_is_by_value_and_deserializing_marks_inline() {
        let a = Secret::with_source("abc", SecretSource::Env("X".into()));
        assert_eq!(a, Secret::from("abc"));
        assert_ne!(a, Secret::from("abd"));
        assert_ne!(a, Secret::from("abcd"));
        let d: Secret = serde_json::from_str("\"abc\"").unwrap();
        assert_eq!(d.source(), &SecretSource::Inline);
        let f = d.from_source(SecretSource::File("/run/secrets/x".into()));
        assert_eq!(f.source(), &SecretSource::File("/run/secrets/x".into()));
        assert_eq!(f.expose(), "abc");
    }
}
