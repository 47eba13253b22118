//! Secret strength: one judge for every secret of every command (the API's agent, server, bootstrap and
//! Asterisk-hook secrets; the agent's AMI, SIP and agent secrets), so `faxline api`, `faxline serve` and
//! `faxline agent` accept and refuse the same values. Messages never contain the secret.

use std::fmt;

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

/// Common passwords long enough that no random value contains them by chance; a secret that does
/// was typed, not generated.
const WEAK_WORDS: &[&str] = &[
    "password",
    "passw0rd",
    "mysecret",
    "administrator",
    "asterisk",
    "changeit",
    "letmein1",
    "qwertyui",
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
    // A common password padded to length (`passwordpassword123…`) is still a common password.
    if WEAK_WORDS.iter().any(|w| alnum.contains(w)) {
        return Some(Weakness::KnownWeak);
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

/// The secrets that are the same value, by name: one leak must not open two doors. Empty values are
/// ignored (they are reported as missing or empty elsewhere).
pub fn reused<'a>(named: &[(&'a str, &str)]) -> Vec<(&'a str, &'a str)> {
    let mut out = Vec::new();
    for (i, (a, va)) in named.iter().enumerate() {
        for (b, vb) in &named[i + 1..] {
            if !va.is_empty() && va == vb {
                out.push((*a, *b));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn weak_values_from_the_field_are_refused() {
        assert_eq!(weakness(&"a".repeat(32), 32), Some(Weakness::LowEntropy));
        assert_eq!(weakness(&"a".repeat(16), 16), Some(Weakness::LowEntropy));
        assert!(weakness(&"password".repeat(4), 32).is_some());
        assert_eq!(
            weakness("passwordpassword1234567890123456", 32),
            Some(Weakness::KnownWeak)
        );
        assert_eq!(
            weakness("k3Jd9-Password-x8Qz2-Lp4Wv7-Nt6Yr1", 32),
            Some(Weakness::KnownWeak)
        );
    }

    #[test]
    fn reuse_is_found_by_name() {
        let r = reused(&[("a", "x1"), ("b", "y2"), ("c", "x1"), ("d", "")]);
        assert_eq!(r, vec![("a", "c")]);
        assert!(reused(&[("a", ""), ("b", "")]).is_empty());
    }
}
