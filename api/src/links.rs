//! Signed, expiring document links. The token is `<expiry unix seconds>.<base64url HMAC>` over the
//! document kind, id and expiry under the server secret: nothing is stored, a link cannot be
//! forged or extended, and it dies on its own (Faxbot stores plain reusable tokens).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{KeyInit, Mac};

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    Fax,
    Inbound,
}

impl LinkKind {
    fn label(self) -> &'static str {
        match self {
            LinkKind::Fax => "fax",
            LinkKind::Inbound => "inbound",
        }
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("Invalid token")]
    Invalid,
    #[error("Token expired")]
    Expired,
}

fn mac(secret: &[u8], kind: LinkKind, id: &str, expires: i64) -> HmacSha256 {
    let mut m = HmacSha256::new_from_slice(secret).expect("HMAC accepts any key length");
    m.update(kind.label().as_bytes());
    m.update(b"\n");
    m.update(id.as_bytes());
    m.update(b"\n");
    m.update(expires.to_string().as_bytes());
    m
}

/// A token valid until `expires` (unix seconds).
pub fn sign(secret: &[u8], kind: LinkKind, id: &str, expires: i64) -> String {
    let tag = mac(secret, kind, id, expires).finalize().into_bytes();
    format!("{expires}.{}", URL_SAFE_NO_PAD.encode(tag))
}

/// The expiry exactly as [`sign`] writes it: decimal digits, no sign, no leading zero (so `0<exp>` and
/// `+<exp>`, which `i64::from_str` accepts, do not give one link many spellings), at most 19 digits.
fn parse_expiry(exp: &str) -> Option<i64> {
    let canonical = !exp.is_empty()
        && exp.len() <= 19
        && exp.bytes().all(|b| b.is_ascii_digit())
        && (exp == "0" || !exp.starts_with('0'));
    canonical.then(|| exp.parse().ok()).flatten()
}

/// Checks the signature first (constant time), then the expiry.
pub fn verify(
    secret: &[u8],
    kind: LinkKind,
    id: &str,
    token: &str,
    now_s: i64,
) -> Result<(), LinkError> {
    let (exp, sig) = token.split_once('.').ok_or(LinkError::Invalid)?;
    let expires = parse_expiry(exp).ok_or(LinkError::Invalid)?;
    let sig = URL_SAFE_NO_PAD
        .decode(sig)
        .map_err(|_| LinkError::Invalid)?;
    mac(secret, kind, id, expires)
        .verify_slice(&sig)
        .map_err(|_| LinkError::Invalid)?;
    if now_s > expires {
        return Err(LinkError::Expired);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_expire_forge() {
        let t = sign(b"k", LinkKind::Fax, "abc", 1000);
        assert_eq!(verify(b"k", LinkKind::Fax, "abc", &t, 999), Ok(()));
        assert_eq!(
            verify(b"k", LinkKind::Fax, "abc", &t, 1001),
            Err(LinkError::Expired)
        );
        assert_eq!(
            verify(b"k", LinkKind::Fax, "abd", &t, 999),
            Err(LinkError::Invalid)
        );
        assert_eq!(
            verify(b"k", LinkKind::Inbound, "abc", &t, 999),
            Err(LinkError::Invalid)
        );
        assert_eq!(
            verify(b"x", LinkKind::Fax, "abc", &t, 999),
            Err(LinkError::Invalid)
        );
        let extended = t.replacen("1000", "9999", 1);
        assert_eq!(
            verify(b"k", LinkKind::Fax, "abc", &extended, 999),
            Err(LinkError::Invalid)
        );
        assert_eq!(
            verify(b"k", LinkKind::Fax, "abc", "garbage", 999),
            Err(LinkError::Invalid)
        );
    }

    #[test]
    fn only_the_canonical_expiry_is_accepted() {
        let t = sign(b"k", LinkKind::Fax, "abc", 1000);
        let sig = t.split_once('.').unwrap().1;
        for bad in [
            format!("01000.{sig}"),
            format!("+1000.{sig}"),
            format!("-1000.{sig}"),
            format!(" 1000.{sig}"),
            format!("1000 .{sig}"),
            format!(".{sig}"),
            format!("1000.{sig}="),
            format!("1000.{sig}.x"),
        ] {
            assert_eq!(
                verify(b"k", LinkKind::Fax, "abc", &bad, 999),
                Err(LinkError::Invalid),
                "{bad}"
            );
        }
        assert_eq!(parse_expiry("0"), Some(0));
        assert_eq!(parse_expiry("99999999999999999999"), None);
    }
}
