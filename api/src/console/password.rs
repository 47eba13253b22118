//! Console passwords: Argon2id (the `argon2` crate's defaults: 19 MiB, 2 passes), strength rules,
//! and a bound on concurrent hashing so a login flood cannot exhaust memory.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// Minimum password length, in characters.
pub const MIN_PASSWORD_LEN: usize = 12;
/// Longest password accepted (Argon2 takes any length; this bounds the work per attempt).
pub const MAX_PASSWORD_LEN: usize = 256;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PasswordError {
    #[error("the password {0}")]
    Weak(String),
    #[error("the password is longer than {MAX_PASSWORD_LEN} characters")]
    TooLong,
    #[error("the password contains the username")]
    ContainsUsername,
    #[error("password hashing failed: {0}")]
    Hash(String),
}

/// Refuses weak passwords: shorter than [`MIN_PASSWORD_LEN`], a known or placeholder value, low
/// randomness (the workspace's `secret_strength` rules), or containing the username.
pub fn check_strength(username: &str, password: &str) -> Result<(), PasswordError> {
    if password.chars().count() > MAX_PASSWORD_LEN {
        return Err(PasswordError::TooLong);
    }
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(PasswordError::Weak(format!(
            "is too short (at least {MIN_PASSWORD_LEN} characters)"
        )));
    }
    if let Some(w) = faxline_protocol::secret_strength::weakness(password, MIN_PASSWORD_LEN) {
        return Err(PasswordError::Weak(w.to_string()));
    }
    if !username.is_empty() && password.to_lowercase().contains(&username.to_lowercase()) {
        return Err(PasswordError::ContainsUsername);
    }
    Ok(())
}

/// An Argon2id PHC string for `password`, with a fresh random salt. CPU-bound: call it on the
/// blocking pool.
pub fn hash(password: &str) -> Result<String, PasswordError> {
    let salt_bytes = crate::auth::random_bytes::<16>();
    let salt =
        SaltString::encode_b64(&salt_bytes).map_err(|e| PasswordError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// Whether `password` matches the PHC string `phc` (any Argon2 variant and parameters it names).
pub fn verify(password: &str, phc: &str) -> bool {
    if password.len() > MAX_PASSWORD_LEN * 4 {
        return false;
    }
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

/// A hash of a random password, verified against when the username is unknown so that a login for
/// an unknown user takes as long as one for a known user.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash(&hex::encode(crate::auth::random_bytes::<24>())).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ() {
        let a = hash("correct horse battery staple").unwrap();
        let b = hash("correct horse battery staple").unwrap();
        assert!(a.starts_with("$argon2id$"), "{a}");
        assert_ne!(a, b, "salted");
        assert!(verify("correct horse battery staple", &a));
        assert!(!verify("correct horse battery stapl", &a));
        assert!(!verify("x", "not a hash"));
    }

    #[test]
    fn weak_passwords_are_refused() {
        assert!(matches!(
            check_strength("ann", "short"),
            Err(PasswordError::Weak(_))
        ));
        assert!(matches!(
            check_strength("ann", "password12345678"),
            Err(PasswordError::Weak(_))
        ));
        assert!(matches!(
            check_strength("ann", "aaaaaaaaaaaaaaaa"),
            Err(PasswordError::Weak(_))
        ));
        assert_eq!(
            check_strength("frontdesk", "xFRONTDESK-9q2!zr"),
            Err(PasswordError::ContainsUsername)
        );
        assert_eq!(check_strength("ann", "tulip-7Qx!marble-42"), Ok(()));
    }
}
