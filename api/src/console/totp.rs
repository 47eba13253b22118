//! Optional two-step login: time-based one-time codes (RFC 6238: HMAC-SHA1, 6 digits, 30-second
//! steps, the step before and after accepted for clock drift), computed by `totp-rs`.
//!
//! The shared secret is stored sealed (AES-256-GCM, [`MasterKey`]) under a key derived from the
//! server secret, which lives outside the database: a copy of the database gives nobody the codes.
//! The sealing binds the secret to its user's id, so a sealed secret copied to another user's row
//! does not open. Replays are refused by the store ([`crate::store::Users::use_totp_step`]), which
//! accepts each user's steps only in increasing order, on every API instance of one database.

use faxline_protocol::Secret;
use totp_rs::{Algorithm, Totp};

use crate::store::MasterKey;

/// Seconds per code.
pub const STEP_S: u64 = 30;
/// Bytes of a new secret (160 bits, RFC 4226's recommendation).
const SECRET_LEN: usize = 20;
/// The issuer authenticator apps show beside the username.
const ISSUER: &str = "Faxline";

#[derive(Debug, thiserror::Error)]
pub enum TotpError {
    /// The sealed secret does not open: the server secret changed, or the row was tampered with.
    /// An admin resets the user's two-step login.
    #[error("the stored two-step login secret cannot be read (was the server secret replaced?)")]
    Unreadable,
    #[error("the two-step login secret cannot be set up: {0}")]
    Setup(String),
}

/// The key that seals TOTP secrets: derived from the server secret for this one purpose.
fn sealing_key(server_secret: &Secret) -> Result<MasterKey, TotpError> {
    let hex = crate::auth::hash_secret(server_secret.as_bytes(), "console-totp", "sealing-key");
    MasterKey::parse(&hex).map_err(|e| TotpError::Setup(e.to_string()))
}

fn aad(user_id: &str) -> Vec<u8> {
    format!("console-totp:{user_id}").into_bytes()
}

/// A new random shared secret.
pub fn new_secret() -> Vec<u8> {
    crate::auth::random_bytes::<SECRET_LEN>().to_vec()
}

/// The secret as stored for `user_id` (base64 of the sealed bytes).
pub fn seal(server_secret: &Secret, user_id: &str, secret: &[u8]) -> Result<String, TotpError> {
    use base64::Engine;
    let sealed = sealing_key(server_secret)?
        .seal(&aad(user_id), secret)
        .map_err(|e| TotpError::Setup(e.to_string()))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(sealed))
}

/// The secret of `user_id` from its stored form.
pub fn open(server_secret: &Secret, user_id: &str, stored: &str) -> Result<Vec<u8>, TotpError> {
    use base64::Engine;
    let sealed = base64::engine::general_purpose::STANDARD
        .decode(stored)
        .map_err(|_| TotpError::Unreadable)?;
    sealing_key(server_secret)?
        .open(&aad(user_id), &sealed)
        .map_err(|_| TotpError::Unreadable)
}

fn totp(secret: &[u8], username: &str) -> Result<Totp, TotpError> {
    totp_rs::Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(STEP_S)
        .with_secret(secret.to_vec())
        .with_account_name(username)
        .with_issuer(Some(ISSUER))
        .build()
        .map_err(|e| TotpError::Setup(e.to_string()))
}

/// The `otpauth://totp/…` URI an authenticator app takes (typed, pasted or made into a QR code by
/// the user's own tools; the console draws no image).
pub fn otpauth_uri(secret: &[u8], username: &str) -> Result<String, TotpError> {
    totp(secret, username)?
        .to_url()
        .map_err(|e| TotpError::Setup(e.to_string()))
}

/// The secret in base32 for typing into an app, in groups of four.
pub fn base32_grouped(secret: &[u8]) -> String {
    let text = totp_rs::Secret::from(secret.to_vec()).to_base32();
    text.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The time step whose code `code` is (spaces ignored), within one step of `now_s`; `None` for a
/// wrong code. The caller still has to make sure the step was not used before.
pub fn check(secret: &[u8], username: &str, code: &str, now_s: u64) -> Option<u64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    totp(secret, username).ok()?.check(&code, now_s)
}

/// The secret from its base32 text as shown at setup (spaces ignored); `None` when it is not base32.
/// With [`code_at`], what an authenticator app does: the tests use them to play the user's phone.
pub fn parse_base32(text: &str) -> Option<Vec<u8>> {
    let clean: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    totp_rs::Secret::try_from_base32(clean)
        .ok()
        .map(|s| s.as_bytes().to_vec())
}

/// The code of the step holding `now_s`.
pub fn code_at(secret: &[u8], now_s: u64) -> Result<String, TotpError> {
    Ok(totp(secret, "code")?.generate(now_s).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 (8-digit codes there; the last six digits are the 6-digit code).
    #[test]
    fn rfc6238_vectors() {
        let secret = b"12345678901234567890";
        for (t, code) in [
            (59u64, "287082"),
            (1_111_111_109, "081804"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
        ] {
            assert_eq!(code_at(secret, t).unwrap(), code, "t = {t}");
            assert_eq!(check(secret, "ann", code, t), Some(t / STEP_S));
        }
    }

    #[test]
    fn one_step_of_drift_either_way_and_no_more() {
        let secret = new_secret();
        let now = 1_700_000_015;
        let code = code_at(&secret, now).unwrap();
        let step = now / STEP_S;
        assert_eq!(check(&secret, "ann", &code, now + STEP_S), Some(step));
        assert_eq!(check(&secret, "ann", &code, now - STEP_S), Some(step));
        assert_eq!(check(&secret, "ann", &code, now + 2 * STEP_S), None);
        assert_eq!(check(&secret, "ann", &code, now - 2 * STEP_S), None);
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert_eq!(check(&secret, "ann", &spaced, now), Some(step));
        assert_eq!(check(&secret, "ann", "12345", now), None);
        assert_eq!(check(&secret, "ann", "abcdef", now), None);
    }

    #[test]
    fn sealed_secrets_open_only_for_their_user_and_server_secret() {
        let server = Secret::new("a-server-secret-of-enough-length");
        let secret = new_secret();
        let stored = seal(&server, "u1", &secret).unwrap();
        assert!(!stored.contains(&base32_grouped(&secret).replace(' ', "")));
        assert_eq!(open(&server, "u1", &stored).unwrap(), secret);
        assert!(matches!(
            open(&server, "u2", &stored),
            Err(TotpError::Unreadable)
        ));
        let other = Secret::new("another-server-secret-entirely!!");
        assert!(matches!(
            open(&other, "u1", &stored),
            Err(TotpError::Unreadable)
        ));
    }

    #[test]
    fn the_uri_names_the_issuer_and_user_and_carries_the_secret() {
        let secret = b"12345678901234567890";
        let uri = otpauth_uri(secret, "ann@clinic").unwrap();
        assert!(
            uri.starts_with("otpauth://totp/Faxline:ann%40clinic?"),
            "{uri}"
        );
        assert!(
            uri.contains("secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"),
            "{uri}"
        );
        assert!(uri.contains("issuer=Faxline"), "{uri}");
        assert_eq!(
            base32_grouped(secret),
            "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ"
        );
        assert_eq!(parse_base32(&base32_grouped(secret)).unwrap(), secret);
        assert_eq!(parse_base32("not base32!"), None);
    }
}
