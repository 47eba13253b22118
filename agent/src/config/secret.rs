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

/// Values that are refused whatever their length: defaults shipped by Asterisk, Faxbot and tutorials, and
/// obvious placeholders. Compared case-insensitively after removing non-alphanumerics.
const WEAK_VALUES: &[&str] = &[
    "changeme",
    "changeit",
    "password",
    "passw0rd",
    "secret",
    "mysecret",
    "admin",
    "administrator",
    "root",
    "asterisk",
    "amp111",
    "manager",
    "faxbot",
    "faxline",
    "default",
    "test",
    "testing",
    "letmein",
    "qwerty",
    "123456",
    "12345678",
    "123456789",
    "1234567890",
    "welcome",
    "example",
    "placeholder",
    "clueCon",
];

/// Substrings that mark a value as a placeholder someone forgot to replace.
const PLACEHOLDER_MARKERS: &[&str] = &[
    "changeme",
    "change-me",
    "change_me",
    "replaceme",
    "replace-me",
    "yoursecret",
    "your-secret",
    "your_secret",
    "example",
    "placeholder",
    "xxxxxx",
    "<secret>",
    "${",
];

/// Why a secret is refused, in words that never contain the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Weakness {
    Empty,
    KnownWeak,
    Placeholder,
    TooShort { len: usize, min: usize },
    LowEntropy,
}

impl fmt::Display for Weakness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Weakness::Empty => f.write_str("is empty"),
            Weakness::KnownWeak => f.write_str("is a well-known default or common password"),
            Weakness::Placeholder => f.write_str("looks like a placeholder that was never replaced"),
            Weakness::TooShort { len, min } => {
                write!(f, "is too short ({len} bytes; at least {min} required)")
            }
            Weakness::LowEntropy => f.write_str(
                "has too little randomness (repeated or sequential characters); generate it, e.g. `openssl rand -hex 32`",
            ),
        }
    }
}

/// Judge a secret. `min_len` is in bytes.
pub fn weakness(value: &str, min_len: usize) -> Option<Weakness> {
    if value.trim().is_empty() {
        return Some(Weakness::Empty);
    }
    let lower = value.to_ascii_lowercase();
    let alnum: String = lower
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    if WEAK_VALUES
        .iter()
        .any(|w| alnum == w.to_ascii_lowercase() || lower == w.to_ascii_lowercase())
    {
        return Some(Weakness::KnownWeak);
    }
    if PLACEHOLDER_MARKERS.iter().any(|m| lower.contains(m)) {
        return Some(Weakness::Placeholder);
    }
    if value.len() < min_len {
        return Some(Weakness::TooShort {
            len: value.len(),
            min: min_len,
        });
    }
    if low_entropy(value) {
        return Some(Weakness::LowEntropy);
    }
    None
}

/// A cheap randomness screen, not a proof: Shannon entropy per character, distinct characters, and runs of
/// sequential characters (`abcdef…`, `123456…`). A random hex string of 32 characters passes with margin
/// (≈3.8 bits/char); `aaaa…`, `abab…`, `abcdefgh…` and keyboard walks of repeated blocks fail.
fn low_entropy(value: &str) -> bool {
    let bytes = value.as_bytes();
    let n = bytes.len();
    if n == 0 {
        return true;
    }
    let mut counts = [0usize; 256];
    for &b in bytes {
        counts[b as usize] += 1;
    }
    let distinct = counts.iter().filter(|&&c| c > 0).count();
    let per_char: f64 = counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n as f64;
            -p * p.log2()
        })
        .sum();
    // Sequential steps (+1/-1) between neighbours.
    let sequential = bytes
        .windows(2)
        .filter(|w| (w[1] as i16 - w[0] as i16).abs() == 1)
        .count();
    // A short repeated block: the value equals its own prefix repeated.
    let repeated_block =
        (1..=n / 2).any(|p| n.is_multiple_of(p) && bytes.chunks(p).all(|c| c == &bytes[..p]));
    distinct < 8.min(n) || per_char < 2.5 || (n >= 4 && sequential * 2 > n) || repeated_block
}

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

    #[test]
    fn judges() {
        assert_eq!(weakness("", 8), Some(Weakness::Empty));
        assert_eq!(weakness("ChangeMe", 8), Some(Weakness::KnownWeak));
        assert_eq!(weakness("Pass-word", 8), Some(Weakness::KnownWeak));
        assert_eq!(
            weakness("please-changeme-now-0123456789abcdef", 32),
            Some(Weakness::Placeholder)
        );
        assert_eq!(
            weakness("k3Jd9", 32),
            Some(Weakness::TooShort { len: 5, min: 32 })
        );
        assert_eq!(weakness(&"a".repeat(40), 32), Some(Weakness::LowEntropy));
        assert_eq!(weakness(&"ab1".repeat(12), 32), Some(Weakness::LowEntropy));
        assert_eq!(
            weakness("abcdefghijklmnopqrstuvwxyz0123456789", 32),
            Some(Weakness::LowEntropy)
        );
        assert_eq!(
            weakness("9f2c1e7ab04d83f6e15c2a9b7d60e4f38c1a5b92", 32),
            None
        );
        assert_eq!(weakness("Zq7-vL2pX9_mR4tK8wN1", 16), None);
    }
}
