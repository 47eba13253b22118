//! Secrets: a wrapper that never shows its value in `Debug`, and the strength rules the agent enforces.

use std::fmt;

/// Where a secret came from. Used in messages ("set by FAXLINE_AMI__SECRET") and to refuse secrets written
/// inline in the TOML file, which tends to end up committed (Faxbot's mistake).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// Directly in the TOML file.
    Inline,
    /// From an environment variable (its name).
    Env(String),
    /// Read from a file (Docker/Kubernetes secret file); the path, not the content.
    File(std::path::PathBuf),
}

/// A secret value. `Debug` prints `Secret(<redacted>)`; there is no `Display` and no `Serialize`, so it cannot
/// leak through `{}`/`{:?}` formatting or a config dump. Read it deliberately with [`Secret::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    value: String,
    source: SecretSource,
}

impl Secret {
    pub fn new(value: impl Into<String>, source: SecretSource) -> Self {
        Self {
            value: value.into(),
            source,
        }
    }

    /// The secret itself. Call sites should be few and obvious (login, signing, templating).
    pub fn expose(&self) -> &str {
        &self.value
    }

    pub fn source(&self) -> &SecretSource {
        &self.source
    }
}

impl<'de> serde::Deserialize<'de> for Secret {
    /// Deserialized values are attributed to the file; the loader re-attributes environment values.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|v| Secret::new(v, SecretSource::Inline))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// The strength rules live in `faxline-api` so that every command judges secrets alike.
pub use crate::engine::api::secrets::{Weakness, weakness};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new("hunter2-very-secret-value", SecretSource::Inline);
        let shown = format!("{s:?} {:?}", Some(&s));
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("redacted"));
    }
}
