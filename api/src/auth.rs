//! API keys: Faxbot's token format `fbk_live_<key_id>_<secret>`, stored as HMAC-SHA256 under the
//! server secret. Keys are 256-bit random tokens, so a keyed hash (microseconds, constant-time
//! compare) is as strong as a password hash here and keeps the API fast (Faxbot's scrypt check
//! limits it to ~42 requests/s).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{KeyInit, Mac};
use subtle::ConstantTimeEq;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

pub const SCOPE_FAX_SEND: &str = "fax:send";
pub const SCOPE_FAX_READ: &str = "fax:read";
pub const SCOPE_INBOUND_LIST: &str = "inbound:list";
pub const SCOPE_INBOUND_READ: &str = "inbound:read";
pub const SCOPE_KEYS_MANAGE: &str = "keys:manage";
/// Reading, listing and cancelling the jobs of every key; without it a key sees only the jobs it
/// created. The bootstrap `API_KEY` and `*` keys hold it (Faxbot has no job ownership, so its
/// admin view is unchanged).
pub const SCOPE_FAX_ADMIN: &str = "fax:admin";
/// Scraping `/metrics` (a key for Prometheus that can do nothing else).
pub const SCOPE_METRICS_READ: &str = "metrics:read";
/// Every scope Faxline knows; `*` grants all of them but (as in Faxbot) not admin.
pub const ALL_SCOPES: [&str; 7] = [
    SCOPE_FAX_SEND,
    SCOPE_FAX_READ,
    SCOPE_FAX_ADMIN,
    SCOPE_INBOUND_LIST,
    SCOPE_INBOUND_READ,
    SCOPE_KEYS_MANAGE,
    SCOPE_METRICS_READ,
];

/// Who made a request.
#[derive(Debug, Clone)]
pub struct Principal {
    /// `env` for the bootstrap key, `anonymous` in development mode, else the key id.
    pub key_id: String,
    pub scopes: Vec<String>,
    pub admin: bool,
    pub anonymous: bool,
}

impl Principal {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.anonymous || self.scopes.iter().any(|s| s == scope || s == "*")
    }

    /// The owner to filter jobs by: `None` (every job) with [`SCOPE_FAX_ADMIN`], else this key.
    pub fn job_owner_filter(&self) -> Option<&str> {
        (!self.has_scope(SCOPE_FAX_ADMIN)).then_some(self.key_id.as_str())
    }

    /// Whether this principal may see or cancel a job owned by `owner`.
    pub fn may_access_job(&self, owner: Option<&str>) -> bool {
        match self.job_owner_filter() {
            None => true,
            Some(me) => owner == Some(me),
        }
    }
}

/// A parsed `fbk_live_<key_id>_<secret>` token.
#[derive(PartialEq, Eq)]
pub struct ParsedToken<'a> {
    pub key_id: &'a str,
    pub secret: &'a str,
}

/// Splits a token; the secret may itself contain `_`.
pub fn parse_token(token: &str) -> Option<ParsedToken<'_>> {
    let rest = token.strip_prefix("fbk_live_")?;
    let (key_id, secret) = rest.split_once('_')?;
    if key_id.is_empty()
        || key_id.len() > 64
        || secret.is_empty()
        || !key_id.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return None;
    }
    Some(ParsedToken { key_id, secret })
}

/// A freshly minted key: the token is shown once, only the hash is stored.
pub struct NewKey {
    pub key_id: String,
    pub token: String,
    pub hash: String,
}

impl std::fmt::Debug for NewKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewKey")
            .field("key_id", &self.key_id)
            .finish()
    }
}

/// Random bytes from the thread CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    rand::fill(&mut b[..]);
    b
}

/// A 12-hex key id (6 random bytes, as Faxbot).
pub fn new_key_id() -> String {
    hex::encode(random_bytes::<6>())
}

pub fn mint_key(server_secret: &[u8], key_id: Option<&str>) -> NewKey {
    let key_id = key_id.map(str::to_string).unwrap_or_else(new_key_id);
    let secret = URL_SAFE_NO_PAD.encode(random_bytes::<32>());
    let hash = hash_secret(server_secret, &key_id, &secret);
    NewKey {
        token: format!("fbk_live_{key_id}_{secret}"),
        key_id,
        hash,
    }
}

/// `hex(HMAC-SHA256(server_secret, key_id || ":" || secret))`.
pub fn hash_secret(server_secret: &[u8], key_id: &str, secret: &str) -> String {
    let mut mac = HmacSha256::new_from_slice(server_secret).expect("HMAC accepts any key length");
    mac.update(key_id.as_bytes());
    mac.update(b":");
    mac.update(secret.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Constant-time check of a presented secret against a stored hash.
pub fn verify_secret(server_secret: &[u8], key_id: &str, secret: &str, stored_hash: &str) -> bool {
    let computed = hash_secret(server_secret, key_id, secret);
    computed.as_bytes().ct_eq(stored_hash.as_bytes()).into()
}

/// Constant-time equality of two byte strings (lengths are not secret).
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// Scopes as stored (CSV) → list; unknown scopes are kept so they can be shown and revoked.
pub fn parse_scopes(csv: &str) -> Vec<String> {
    csv.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mint_parse_verify() {
        let k = mint_key(b"server-secret", None);
        assert!(k.token.starts_with("fbk_live_"));
        assert_eq!(k.key_id.len(), 12);
        let p = parse_token(&k.token).unwrap();
        assert_eq!(p.key_id, k.key_id);
        assert!(verify_secret(b"server-secret", p.key_id, p.secret, &k.hash));
        assert!(!verify_secret(b"other", p.key_id, p.secret, &k.hash));
        assert!(!verify_secret(
            b"server-secret",
            "abcdefabcdef",
            p.secret,
            &k.hash
        ));
    }

    #[test]
    fn secret_may_contain_underscores() {
        let p = parse_token("fbk_live_abc123_se_cr_et").unwrap();
        assert_eq!(p.key_id, "abc123");
        assert_eq!(p.secret, "se_cr_et");
        assert!(parse_token("fbk_live_abc").is_none());
        assert!(parse_token("fbk_test_abc_def").is_none());
        assert!(parse_token("fbk_live_a/b_def").is_none());
    }

    #[test]
    fn star_scope_is_not_admin_but_grants_scopes() {
        let p = Principal {
            key_id: "k".into(),
            scopes: vec!["*".into()],
            admin: false,
            anonymous: false,
        };
        assert!(p.has_scope(SCOPE_FAX_SEND));
        assert!(!p.admin);
    }
}
