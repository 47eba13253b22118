//! The signed-request scheme of the agent protocol: the agent signs, the API verifies.
//!
//! Signature = hex HMAC-SHA256(agent secret, canonical string) where the canonical string is
//! `FAXLINE-AGENT-V1\n<METHOD>\n<path?query>\n<agent id>\n<timestamp>\n<nonce>\n<hex sha256(body)>`.
//! The API checks it in constant time, accepts timestamps within a window (±300 s by default) and
//! remembers nonces for that window so an exact replay is refused.

use std::collections::HashMap;
use std::sync::Mutex;

use hmac::{KeyInit, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = hmac::Hmac<Sha256>;

pub const HEADER_AGENT: &str = "x-faxline-agent";
pub const HEADER_TIMESTAMP: &str = "x-faxline-timestamp";
pub const HEADER_NONCE: &str = "x-faxline-nonce";
pub const HEADER_SIGNATURE: &str = "x-faxline-signature";

/// The four signature headers of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    pub agent_id: String,
    pub timestamp: i64,
    pub nonce: String,
    pub signature: String,
}

impl SignedHeaders {
    /// `(name, value)` pairs to attach to a request.
    pub fn pairs(&self) -> [(&'static str, String); 4] {
        [
            (HEADER_AGENT, self.agent_id.clone()),
            (HEADER_TIMESTAMP, self.timestamp.to_string()),
            (HEADER_NONCE, self.nonce.clone()),
            (HEADER_SIGNATURE, self.signature.clone()),
        ]
    }

    /// Reads and checks the four headers through `header` (a lookup by lower-case name), so this crate
    /// needs no HTTP library: the API passes its `HeaderMap`'s getter.
    pub fn from_lookup<'a>(
        header: impl Fn(&str) -> Option<&'a str>,
    ) -> Result<Self, AgentAuthError> {
        let get = |n: &str| {
            header(n)
                .map(str::to_string)
                .ok_or(AgentAuthError::MissingHeaders)
        };
        let agent_id = get(HEADER_AGENT)?;
        if !valid_agent_id(&agent_id) {
            return Err(AgentAuthError::BadAgentId);
        }
        let timestamp = get(HEADER_TIMESTAMP)?
            .parse()
            .map_err(|_| AgentAuthError::MissingHeaders)?;
        let nonce = get(HEADER_NONCE)?;
        if nonce.len() < 16 || nonce.len() > 128 {
            return Err(AgentAuthError::MissingHeaders);
        }
        Ok(Self {
            agent_id,
            timestamp,
            nonce,
            signature: get(HEADER_SIGNATURE)?,
        })
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum AgentAuthError {
    #[error("missing or malformed signature headers")]
    MissingHeaders,
    #[error("invalid agent id")]
    BadAgentId,
    #[error("timestamp outside the replay window")]
    Stale,
    #[error("bad signature")]
    BadSignature,
    #[error("replayed request")]
    Replay,
}

/// Agent ids: 1–64 characters of `[A-Za-z0-9._-]`.
pub fn valid_agent_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

fn canonical_mac(
    secret: &[u8],
    method: &str,
    path_and_query: &str,
    agent_id: &str,
    timestamp: i64,
    nonce: &str,
    body_sha256_hex: &str,
) -> HmacSha256 {
    let mut m = HmacSha256::new_from_slice(secret).expect("HMAC accepts any key length");
    for part in [
        "FAXLINE-AGENT-V1",
        &method.to_ascii_uppercase(),
        path_and_query,
        agent_id,
        &timestamp.to_string(),
        nonce,
    ] {
        m.update(part.as_bytes());
        m.update(b"\n");
    }
    m.update(body_sha256_hex.as_bytes());
    m
}

/// The body's hash as it enters the signature: lowercase hex SHA-256.
pub fn body_sha256_hex(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

/// The hex signature of one request.
pub fn sign_request(
    secret: &[u8],
    method: &str,
    path_and_query: &str,
    agent_id: &str,
    timestamp: i64,
    nonce: &str,
    body: &[u8],
) -> String {
    let m = canonical_mac(
        secret,
        method,
        path_and_query,
        agent_id,
        timestamp,
        nonce,
        &body_sha256_hex(body),
    );
    hex::encode(m.finalize().into_bytes())
}

/// Signs a request now with a fresh random nonce.
pub fn sign_now(
    secret: &[u8],
    method: &str,
    path_and_query: &str,
    agent_id: &str,
    body: &[u8],
) -> SignedHeaders {
    sign_now_hashed(
        secret,
        method,
        path_and_query,
        agent_id,
        &body_sha256_hex(body),
    )
}

/// [`sign_now`] for a body that is sent as a stream: the caller hashed it beforehand
/// (lowercase hex SHA-256), so the body never has to be held whole.
pub fn sign_now_hashed(
    secret: &[u8],
    method: &str,
    path_and_query: &str,
    agent_id: &str,
    body_sha256_hex: &str,
) -> SignedHeaders {
    let timestamp = crate::time::now_s();
    let mut nonce = [0u8; 16];
    rand::fill(&mut nonce[..]);
    let nonce = hex::encode(nonce);
    let signature = hex::encode(
        canonical_mac(
            secret,
            method,
            path_and_query,
            agent_id,
            timestamp,
            &nonce,
            body_sha256_hex,
        )
        .finalize()
        .into_bytes(),
    );
    SignedHeaders {
        agent_id: agent_id.to_string(),
        timestamp,
        nonce,
        signature,
    }
}

/// What can be checked before the body is read: the timestamp window and the form of the
/// signature (64 hex digits). A request that fails here is refused without buffering its body.
pub fn precheck(headers: &SignedHeaders, now_s: i64, window_s: i64) -> Result<(), AgentAuthError> {
    if (now_s - headers.timestamp).abs() > window_s {
        return Err(AgentAuthError::Stale);
    }
    let sig = &headers.signature;
    if sig.len() != 64 || !sig.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AgentAuthError::BadSignature);
    }
    Ok(())
}

/// Checks the window and the signature (constant time). Replays are checked by [`NonceCache`].
pub fn verify_request(
    secret: &[u8],
    method: &str,
    path_and_query: &str,
    headers: &SignedHeaders,
    body: &[u8],
    now_s: i64,
    window_s: i64,
) -> Result<(), AgentAuthError> {
    verify_request_hashed(
        secret,
        method,
        path_and_query,
        headers,
        &body_sha256_hex(body),
        now_s,
        window_s,
    )
}

/// [`verify_request`] given the body's SHA-256 ([`body_sha256_hex`]) instead of the body: for a
/// server that streams a large body to disk as it hashes it, and verifies once it has ended.
pub fn verify_request_hashed(
    secret: &[u8],
    method: &str,
    path_and_query: &str,
    headers: &SignedHeaders,
    body_sha256_hex: &str,
    now_s: i64,
    window_s: i64,
) -> Result<(), AgentAuthError> {
    if (now_s - headers.timestamp).abs() > window_s {
        return Err(AgentAuthError::Stale);
    }
    let sig = hex::decode(&headers.signature).map_err(|_| AgentAuthError::BadSignature)?;
    canonical_mac(
        secret,
        method,
        path_and_query,
        &headers.agent_id,
        headers.timestamp,
        &headers.nonce,
        body_sha256_hex,
    )
    .verify_slice(&sig)
    .map_err(|_| AgentAuthError::BadSignature)
}

/// Nonces seen within the replay window.
#[derive(Debug, Default)]
pub struct NonceCache {
    seen: Mutex<HashMap<String, i64>>,
}

impl NonceCache {
    /// Records `agent_id/nonce`; `Err(Replay)` if it was seen within the window.
    pub fn check_and_insert(
        &self,
        agent_id: &str,
        nonce: &str,
        now_s: i64,
        window_s: i64,
    ) -> Result<(), AgentAuthError> {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() > 10_000 {
            seen.retain(|_, t| now_s - *t <= 2 * window_s);
        }
        let key = format!("{agent_id}/{nonce}");
        if seen.contains_key(&key) {
            return Err(AgentAuthError::Replay);
        }
        seen.insert(key, now_s);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn round_trip_and_tampering() {
        let h = sign_now(SECRET, "post", "/agent/v1/lease", "agent-1", b"{}");
        let now = h.timestamp;
        assert_eq!(
            verify_request(SECRET, "POST", "/agent/v1/lease", &h, b"{}", now, 300),
            Ok(())
        );
        let bad = |r| assert_eq!(r, Err(AgentAuthError::BadSignature));
        bad(verify_request(
            SECRET,
            "POST",
            "/agent/v1/lease",
            &h,
            b"{ }",
            now,
            300,
        ));
        bad(verify_request(
            SECRET,
            "GET",
            "/agent/v1/lease",
            &h,
            b"{}",
            now,
            300,
        ));
        bad(verify_request(
            SECRET,
            "POST",
            "/agent/v1/leasx",
            &h,
            b"{}",
            now,
            300,
        ));
        bad(verify_request(
            b"another-secret-another-secret-xx",
            "POST",
            "/agent/v1/lease",
            &h,
            b"{}",
            now,
            300,
        ));
        let mut other_agent = h.clone();
        other_agent.agent_id = "agent-2".into();
        bad(verify_request(
            SECRET,
            "POST",
            "/agent/v1/lease",
            &other_agent,
            b"{}",
            now,
            300,
        ));
        assert_eq!(
            verify_request(SECRET, "POST", "/agent/v1/lease", &h, b"{}", now + 301, 300),
            Err(AgentAuthError::Stale)
        );
    }

    #[test]
    fn tampered_time_or_nonce_is_refused_and_the_window_holds() {
        let h = sign_now(SECRET, "POST", "/agent/v1/lease", "agent-1", b"{}");
        let now = h.timestamp;
        let mut moved = h.clone();
        moved.timestamp += 1;
        assert_eq!(
            verify_request(SECRET, "POST", "/agent/v1/lease", &moved, b"{}", now, 300),
            Err(AgentAuthError::BadSignature)
        );
        let mut renonced = h.clone();
        renonced.nonce = "0".repeat(32);
        assert_eq!(
            verify_request(
                SECRET,
                "POST",
                "/agent/v1/lease",
                &renonced,
                b"{}",
                now,
                300
            ),
            Err(AgentAuthError::BadSignature)
        );
        let q = sign_now(
            SECRET,
            "GET",
            "/agent/v1/jobs/j/document?lease_id=a",
            "agent-1",
            b"",
        );
        assert_eq!(
            verify_request(
                SECRET,
                "GET",
                "/agent/v1/jobs/j/document?lease_id=b",
                &q,
                b"",
                now,
                300
            ),
            Err(AgentAuthError::BadSignature)
        );
        for skew in [-300, 300] {
            assert_eq!(precheck(&h, now + skew, 300), Ok(()));
        }
        for skew in [-301, 301] {
            assert_eq!(precheck(&h, now + skew, 300), Err(AgentAuthError::Stale));
        }
        let mut short = h.clone();
        short.signature.pop();
        assert_eq!(
            precheck(&short, now, 300),
            Err(AgentAuthError::BadSignature)
        );
    }

    #[test]
    fn headers_are_read_and_checked() {
        let h = sign_now(SECRET, "POST", "/agent/v1/lease", "agent-1", b"{}");
        let pairs = h.pairs();
        let owned: Vec<_> = pairs.to_vec();
        let read = SignedHeaders::from_lookup(|n| {
            owned.iter().find(|(k, _)| *k == n).map(|(_, v)| v.as_str())
        });
        assert_eq!(read, Ok(h.clone()));
        let mut bad_id = pairs.to_vec();
        bad_id[0].1 = "agent 1".into();
        assert_eq!(
            SignedHeaders::from_lookup(|n| {
                bad_id
                    .iter()
                    .find(|(k, _)| *k == n)
                    .map(|(_, v)| v.as_str())
            }),
            Err(AgentAuthError::BadAgentId)
        );
        let missing = &pairs[..3];
        assert_eq!(
            SignedHeaders::from_lookup(|n| {
                missing
                    .iter()
                    .find(|(k, _)| *k == n)
                    .map(|(_, v)| v.as_str())
            }),
            Err(AgentAuthError::MissingHeaders)
        );
        let mut short_nonce = pairs.to_vec();
        short_nonce[2].1 = "abc".into();
        assert_eq!(
            SignedHeaders::from_lookup(|n| {
                short_nonce
                    .iter()
                    .find(|(k, _)| *k == n)
                    .map(|(_, v)| v.as_str())
            }),
            Err(AgentAuthError::MissingHeaders)
        );
    }

    #[test]
    fn nonce_replay() {
        let c = NonceCache::default();
        assert!(c.check_and_insert("a", "n1", 100, 300).is_ok());
        assert_eq!(
            c.check_and_insert("a", "n1", 101, 300),
            Err(AgentAuthError::Replay)
        );
        assert!(c.check_and_insert("b", "n1", 101, 300).is_ok());
    }
}
