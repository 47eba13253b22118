//! Client-side envelope encryption of documents at rest (`storage_encryption_key_file`), for every
//! backend: each document gets a fresh random 256-bit data key; the content is sealed with it
//! (AES-256-GCM), and the data key is sealed with the master key read from a secret file. The
//! master key's id (the first 8 bytes of its SHA-256) is stored with the document, so a document
//! sealed under another key is named as such instead of failing as "corrupt". The document's id is
//! authenticated too (associated data): a sealed document moved to another id does not open.
//!
//! Layout (all lengths fixed): `FXE1` | key id (8) | data-key nonce (12) | sealed data key (32 + 16)
//! | content nonce (12) | sealed content (n + 16). Pure functions: no IO here.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key};
use sha2::{Digest, Sha256};

const MAGIC: &[u8; 4] = b"FXE1";
const KEY_ID_LEN: usize = 8;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const KEY_LEN: usize = 32;
const HEADER_LEN: usize = MAGIC.len() + KEY_ID_LEN + NONCE_LEN + KEY_LEN + TAG_LEN + NONCE_LEN;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EnvelopeError {
    #[error(
        "the encryption key file must hold a 256-bit key: 64 hex digits or 44 base64 characters"
    )]
    BadKey,
    #[error("the stored document is not encrypted (client-side encryption is on)")]
    NotEncrypted,
    #[error(
        "the stored document was encrypted with key {found}, not the configured key {configured}"
    )]
    OtherKey { found: String, configured: String },
    #[error("the stored document does not decrypt: damaged, or not this document's")]
    Corrupt,
    #[error("the document is too large to encrypt")]
    TooLarge,
}

/// The master key and its id.
#[derive(Clone)]
pub struct MasterKey {
    id: [u8; KEY_ID_LEN],
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The id only: it names the key without revealing it.
        write!(f, "MasterKey({})", hex::encode(self.id))
    }
}

impl MasterKey {
    /// Parses a key file's text: 32 bytes as 64 hex digits or as base64 (surrounding whitespace
    /// ignored), e.g. from `openssl rand -hex 32`.
    pub fn parse(text: &str) -> Result<Self, EnvelopeError> {
        use base64::Engine;
        let t = text.trim();
        let bytes = hex::decode(t)
            .ok()
            .or_else(|| base64::engine::general_purpose::STANDARD.decode(t).ok())
            .filter(|b| b.len() == KEY_LEN)
            .ok_or(EnvelopeError::BadKey)?;
        let digest = Sha256::digest(&bytes);
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(&digest[..KEY_ID_LEN]);
        Ok(Self {
            id,
            cipher: Aes256Gcm::new_from_slice(&bytes).map_err(|_| EnvelopeError::BadKey)?,
        })
    }

    /// The key id stored with every document sealed under this key (hex).
    pub fn id(&self) -> String {
        hex::encode(self.id)
    }

    /// Seals `plain` for the document named `aad`.
    pub fn seal(&self, aad: &[u8], plain: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
        let mut data_key = [0u8; KEY_LEN];
        let mut key_nonce = [0u8; NONCE_LEN];
        let mut content_nonce = [0u8; NONCE_LEN];
        rand::fill(&mut data_key[..]);
        rand::fill(&mut key_nonce[..]);
        rand::fill(&mut content_nonce[..]);
        let mut out = Vec::with_capacity(HEADER_LEN + plain.len() + TAG_LEN);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.id);
        out.extend_from_slice(&key_nonce);
        // Sealing fails only for messages beyond GCM's 64 GiB limit, far over any upload limit.
        let wrapped = self
            .cipher
            .encrypt(
                (&key_nonce).into(),
                Payload {
                    msg: &data_key,
                    aad: &self.id,
                },
            )
            .map_err(|_| EnvelopeError::TooLarge)?;
        out.extend_from_slice(&wrapped);
        out.extend_from_slice(&content_nonce);
        let content_cipher = Aes256Gcm::new(&Key::<Aes256Gcm>::from(data_key));
        let sealed = content_cipher
            .encrypt((&content_nonce).into(), Payload { msg: plain, aad })
            .map_err(|_| EnvelopeError::TooLarge)?;
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Opens what [`MasterKey::seal`] made for the document named `aad`.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
        if !sealed.starts_with(MAGIC) {
            return Err(EnvelopeError::NotEncrypted);
        }
        if sealed.len() < HEADER_LEN + TAG_LEN {
            return Err(EnvelopeError::Corrupt);
        }
        let (id, rest) = sealed[MAGIC.len()..].split_at(KEY_ID_LEN);
        if id != self.id {
            return Err(EnvelopeError::OtherKey {
                found: hex::encode(id),
                configured: self.id(),
            });
        }
        let (key_nonce, rest) = rest.split_at(NONCE_LEN);
        let (wrapped, rest) = rest.split_at(KEY_LEN + TAG_LEN);
        let (content_nonce, body) = rest.split_at(NONCE_LEN);
        let nonce = |n: &[u8]| <[u8; NONCE_LEN]>::try_from(n).map_err(|_| EnvelopeError::Corrupt);
        let (key_nonce, content_nonce) = (nonce(key_nonce)?, nonce(content_nonce)?);
        let data_key = self
            .cipher
            .decrypt(
                (&key_nonce).into(),
                Payload {
                    msg: wrapped,
                    aad: &self.id,
                },
            )
            .map_err(|_| EnvelopeError::Corrupt)?;
        Aes256Gcm::new_from_slice(&data_key)
            .map_err(|_| EnvelopeError::Corrupt)?
            .decrypt((&content_nonce).into(), Payload { msg: body, aad })
            .map_err(|_| EnvelopeError::Corrupt)
    }
}

/// The key documents are sealed with, and earlier keys that still open what they sealed: rotating
/// the master key is adding a new current key and keeping the old one as previous until retention
/// has removed what it sealed.
#[derive(Clone, Debug)]
pub struct Keyring {
    current: MasterKey,
    previous: Vec<MasterKey>,
}

impl From<MasterKey> for Keyring {
    fn from(current: MasterKey) -> Self {
        Self {
            current,
            previous: Vec::new(),
        }
    }
}

impl Keyring {
    pub fn new(current: MasterKey, previous: Vec<MasterKey>) -> Self {
        Self { current, previous }
    }

    /// Seals with the current key.
    pub fn seal(&self, aad: &[u8], plain: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
        self.current.seal(aad, plain)
    }

    /// Re-wraps a sealed document's data key under the current key (key rotation without
    /// re-encrypting content): the header gets the current key's id, a fresh nonce and the data
    /// key sealed under the current key; the content nonce and the sealed content are kept byte
    /// for byte. `None` when the document already names the current key. The previous key it
    /// names must be in the ring; a damaged header is [`EnvelopeError::Corrupt`].
    pub fn rewrap(&self, sealed: &[u8]) -> Result<Option<Vec<u8>>, EnvelopeError> {
        if !sealed.starts_with(MAGIC) {
            return Err(EnvelopeError::NotEncrypted);
        }
        if sealed.len() < HEADER_LEN + TAG_LEN {
            return Err(EnvelopeError::Corrupt);
        }
        let id = &sealed[MAGIC.len()..MAGIC.len() + KEY_ID_LEN];
        if id == self.current.id {
            return Ok(None);
        }
        let found = hex::encode(id);
        let old = self
            .previous
            .iter()
            .find(|k| k.id() == found)
            .ok_or_else(|| EnvelopeError::OtherKey {
                found: found.clone(),
                configured: self.current.id(),
            })?;
        let at = MAGIC.len() + KEY_ID_LEN;
        let key_nonce = <[u8; NONCE_LEN]>::try_from(&sealed[at..at + NONCE_LEN])
            .map_err(|_| EnvelopeError::Corrupt)?;
        let wrapped = &sealed[at + NONCE_LEN..at + NONCE_LEN + KEY_LEN + TAG_LEN];
        let data_key = old
            .cipher
            .decrypt(
                (&key_nonce).into(),
                Payload {
                    msg: wrapped,
                    aad: &old.id,
                },
            )
            .map_err(|_| EnvelopeError::Corrupt)?;
        let mut nonce = [0u8; NONCE_LEN];
        rand::fill(&mut nonce[..]);
        let rewrapped = self
            .current
            .cipher
            .encrypt(
                (&nonce).into(),
                Payload {
                    msg: &data_key,
                    aad: &self.current.id,
                },
            )
            .map_err(|_| EnvelopeError::TooLarge)?;
        let mut out = Vec::with_capacity(sealed.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.current.id);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&rewrapped);
        out.extend_from_slice(&sealed[at + NONCE_LEN + KEY_LEN + TAG_LEN..]);
        Ok(Some(out))
    }

    /// Opens with whichever key the document names.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
        match self.current.open(aad, sealed) {
            Err(EnvelopeError::OtherKey { found, configured }) => {
                match self.previous.iter().find(|k| k.id() == found) {
                    Some(k) => k.open(aad, sealed),
                    None => Err(EnvelopeError::OtherKey { found, configured }),
                }
            }
            r => r,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

    #[test]
    fn round_trip_and_failures() {
        let k = MasterKey::parse(KEY).unwrap();
        let sealed = k.seal(b"jobs/a", b"patient letter").unwrap();
        assert!(!sealed.windows(7).any(|w| w == b"patient"));
        assert_eq!(k.open(b"jobs/a", &sealed).unwrap(), b"patient letter");
        // Another id's associated data, a flipped bit, a cut, plaintext, another key.
        assert_eq!(k.open(b"jobs/b", &sealed), Err(EnvelopeError::Corrupt));
        let mut bad = sealed.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert_eq!(k.open(b"jobs/a", &bad), Err(EnvelopeError::Corrupt));
        assert_eq!(
            k.open(b"jobs/a", &sealed[..HEADER_LEN]),
            Err(EnvelopeError::Corrupt)
        );
        assert_eq!(
            k.open(b"jobs/a", b"%PDF-1.4"),
            Err(EnvelopeError::NotEncrypted)
        );
        let other = MasterKey::parse(&"ff".repeat(32)).unwrap();
        assert!(matches!(
            other.open(b"jobs/a", &sealed),
            Err(EnvelopeError::OtherKey { .. })
        ));
        // Two seals of the same content differ (fresh data key and nonces).
        assert_ne!(sealed, k.seal(b"jobs/a", b"patient letter").unwrap());
        let empty = k.seal(b"jobs/a", b"").unwrap();
        assert_eq!(k.open(b"jobs/a", &empty).unwrap(), b"");
    }

    #[test]
    fn rotation_keeps_old_documents_readable() {
        let old = MasterKey::parse(KEY).unwrap();
        let new = MasterKey::parse(&"42".repeat(32)).unwrap();
        let by_old = old.seal(b"inbound/x", b"fax").unwrap();
        let ring = Keyring::new(new.clone(), vec![old]);
        assert_eq!(ring.open(b"inbound/x", &by_old).unwrap(), b"fax");
        let by_new = ring.seal(b"inbound/x", b"fax").unwrap();
        assert_eq!(new.open(b"inbound/x", &by_new).unwrap(), b"fax");
        // Without the old key: named, not garbage.
        assert!(matches!(
            Keyring::from(new).open(b"inbound/x", &by_old),
            Err(EnvelopeError::OtherKey { .. })
        ));
    }

    #[test]
    fn rewrap_changes_the_key_not_the_content() {
        let old = MasterKey::parse(KEY).unwrap();
        let new = MasterKey::parse(&"42".repeat(32)).unwrap();
        let by_old = old.seal(b"jobs/a", b"patient letter").unwrap();
        let ring = Keyring::new(new.clone(), vec![old.clone()]);
        let moved = ring.rewrap(&by_old).unwrap().expect("named the old key");
        // Same length, the content part (its nonce and ciphertext) untouched; the header differs.
        assert_eq!(moved.len(), by_old.len());
        let content_at = MAGIC.len() + KEY_ID_LEN + NONCE_LEN + KEY_LEN + TAG_LEN;
        assert_eq!(moved[content_at..], by_old[content_at..]);
        assert_ne!(moved[..content_at], by_old[..content_at]);
        // Opens with the new key alone, as the same document only; the old key no longer opens it.
        let only_new = Keyring::from(new);
        assert_eq!(only_new.open(b"jobs/a", &moved).unwrap(), b"patient letter");
        assert_eq!(
            only_new.open(b"jobs/b", &moved),
            Err(EnvelopeError::Corrupt)
        );
        assert!(matches!(
            old.open(b"jobs/a", &moved),
            Err(EnvelopeError::OtherKey { .. })
        ));
        // Already current: nothing to do. Unknown key, plaintext, damage: named.
        assert_eq!(ring.rewrap(&moved).unwrap(), None);
        assert!(matches!(
            only_new.rewrap(&by_old),
            Err(EnvelopeError::OtherKey { .. })
        ));
        assert_eq!(ring.rewrap(b"%PDF-1.4"), Err(EnvelopeError::NotEncrypted));
        let mut bad = by_old.clone();
        bad[MAGIC.len() + KEY_ID_LEN + NONCE_LEN] ^= 1;
        assert_eq!(ring.rewrap(&bad), Err(EnvelopeError::Corrupt));
        assert_eq!(
            ring.rewrap(&by_old[..HEADER_LEN]),
            Err(EnvelopeError::Corrupt)
        );
    }

    #[test]
    fn key_file_forms() {
        use base64::Engine;
        let raw: Vec<u8> = (0u8..32).collect();
        let b64 = base64::engine::general_purpose::STANDARD.encode(&raw);
        assert_eq!(
            MasterKey::parse(&format!("{KEY}\n")).unwrap().id(),
            MasterKey::parse(&b64).unwrap().id()
        );
        assert_eq!(MasterKey::parse("abcd").unwrap_err(), EnvelopeError::BadKey);
        assert_eq!(MasterKey::parse("").unwrap_err(), EnvelopeError::BadKey);
    }
}
