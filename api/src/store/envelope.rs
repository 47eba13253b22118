//! Client-side envelope encryption of documents at rest (`storage_encryption_key_file`), for every
//! backend: each document gets a fresh random 256-bit data key; the content is sealed with it
//! (AES-256-GCM), and the data key is sealed with the master key read from a secret file. The
//! master key's id (the first 8 bytes of its SHA-256) is stored with the document, so a document
//! sealed under another key is named as such instead of failing as "corrupt". The document's id is
//! authenticated too (associated data): a sealed document moved to another id does not open.
//!
//! Two layouts, told apart by their first four bytes (all lengths fixed):
//! - `FXE2` (every new write): key id (8) | data-key nonce (12) | sealed data key (32 + 16) | nonce
//!   prefix (7) | segments. The content is sealed in [`SEGMENT_LEN`] segments (the last one shorter,
//!   possibly empty), each AES-256-GCM with the nonce `prefix | segment index (u32, big-endian) |
//!   last flag (1 byte)`: the STREAM construction (Hoang, Reyhanitabar, Rogaway, Vizár), so a
//!   document is sealed and opened a segment at a time ([`Sealer`], [`Opener`]) in bounded memory;
//!   reordered, dropped or truncated segments (a cut at a segment boundary included) do not open.
//! - `FXE1` (written before segments, still read): content nonce (12) | sealed content (n + 16)
//!   after the same key header, one GCM message, opened only whole.
//!
//! Pure functions: no IO here.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key};
use sha2::{Digest, Sha256};

const MAGIC: &[u8; 4] = b"FXE1";
const MAGIC2: &[u8; 4] = b"FXE2";
const KEY_ID_LEN: usize = 8;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const KEY_LEN: usize = 32;
const HEADER_LEN: usize = MAGIC.len() + KEY_ID_LEN + NONCE_LEN + KEY_LEN + TAG_LEN + NONCE_LEN;
/// The nonce prefix of an `FXE2` document: 12 bytes less the segment index (4) and the last flag (1).
const PREFIX_LEN: usize = NONCE_LEN - 5;
/// The header of an `FXE2` document, before its first segment.
pub const HEADER2_LEN: usize =
    MAGIC2.len() + KEY_ID_LEN + NONCE_LEN + KEY_LEN + TAG_LEN + PREFIX_LEN;
/// Plaintext bytes per `FXE2` segment (the last segment holds 0 to this many).
pub const SEGMENT_LEN: usize = 64 * 1024;
/// A sealed full segment.
pub const SEALED_SEGMENT_LEN: usize = SEGMENT_LEN + TAG_LEN;
/// Where the key header ends (the same in both layouts): what [`Keyring::rewrap`] replaces.
const KEY_HEADER_END: usize = MAGIC.len() + KEY_ID_LEN + NONCE_LEN + KEY_LEN + TAG_LEN;

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

    /// Seals `plain` for the document named `aad` (whole; `FXE2`, the same bytes [`Sealer`] makes).
    pub fn seal(&self, aad: &[u8], plain: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
        let mut sealer = self.sealer(aad)?;
        let mut out = Vec::with_capacity(
            HEADER2_LEN + plain.len() + (plain.len() / SEGMENT_LEN + 1) * TAG_LEN,
        );
        out.extend_from_slice(sealer.header());
        sealer.push(plain, &mut out)?;
        sealer.finish(&mut out)?;
        Ok(out)
    }

    /// A [`Sealer`] of a new document named `aad`: a fresh data key and nonce prefix.
    pub fn sealer(&self, aad: &[u8]) -> Result<Sealer, EnvelopeError> {
        let mut data_key = [0u8; KEY_LEN];
        let mut key_nonce = [0u8; NONCE_LEN];
        let mut prefix = [0u8; PREFIX_LEN];
        rand::fill(&mut data_key[..]);
        rand::fill(&mut key_nonce[..]);
        rand::fill(&mut prefix[..]);
        let mut header = Vec::with_capacity(HEADER2_LEN);
        header.extend_from_slice(MAGIC2);
        header.extend_from_slice(&self.id);
        header.extend_from_slice(&key_nonce);
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
        header.extend_from_slice(&wrapped);
        header.extend_from_slice(&prefix);
        Ok(Sealer {
            header,
            segments: Segments::new(&data_key, prefix, aad),
            pending: Vec::with_capacity(SEGMENT_LEN + 1),
        })
    }

    /// The data key of a sealed document's key header (either layout), which names this key.
    fn data_key(&self, sealed: &[u8]) -> Result<[u8; KEY_LEN], EnvelopeError> {
        let at = MAGIC.len() + KEY_ID_LEN;
        let key_nonce = <[u8; NONCE_LEN]>::try_from(&sealed[at..at + NONCE_LEN])
            .map_err(|_| EnvelopeError::Corrupt)?;
        let wrapped = &sealed[at + NONCE_LEN..KEY_HEADER_END];
        let key = self
            .cipher
            .decrypt(
                (&key_nonce).into(),
                Payload {
                    msg: wrapped,
                    aad: &self.id,
                },
            )
            .map_err(|_| EnvelopeError::Corrupt)?;
        <[u8; KEY_LEN]>::try_from(key.as_slice()).map_err(|_| EnvelopeError::Corrupt)
    }

    /// Opens what [`MasterKey::seal`] (or the `FXE1` layout before it) made for the document named `aad`.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
        if sealed.starts_with(MAGIC2) {
            if sealed.len() < HEADER2_LEN {
                return Err(EnvelopeError::Corrupt);
            }
            let mut opener = self.opener(aad, &sealed[..HEADER2_LEN])?;
            let mut out = Vec::with_capacity(sealed.len() - HEADER2_LEN);
            opener.push(&sealed[HEADER2_LEN..], &mut out)?;
            opener.finish(&mut out)?;
            return Ok(out);
        }
        if !sealed.starts_with(MAGIC) {
            return Err(EnvelopeError::NotEncrypted);
        }
        if sealed.len() < HEADER_LEN + TAG_LEN {
            return Err(EnvelopeError::Corrupt);
        }
        self.check_id(sealed)?;
        let data_key = self.data_key(sealed)?;
        let content_nonce = <[u8; NONCE_LEN]>::try_from(&sealed[KEY_HEADER_END..HEADER_LEN])
            .map_err(|_| EnvelopeError::Corrupt)?;
        Aes256Gcm::new(&Key::<Aes256Gcm>::from(data_key))
            .decrypt(
                (&content_nonce).into(),
                Payload {
                    msg: &sealed[HEADER_LEN..],
                    aad,
                },
            )
            .map_err(|_| EnvelopeError::Corrupt)
    }

    /// [`EnvelopeError::OtherKey`] unless the sealed document (at least its key id) names this key.
    fn check_id(&self, sealed: &[u8]) -> Result<(), EnvelopeError> {
        let id = &sealed[MAGIC.len()..MAGIC.len() + KEY_ID_LEN];
        if id != self.id {
            return Err(EnvelopeError::OtherKey {
                found: hex::encode(id),
                configured: self.id(),
            });
        }
        Ok(())
    }

    /// An [`Opener`] of the `FXE2` document whose first [`HEADER2_LEN`] bytes are `header`.
    pub fn opener(&self, aad: &[u8], header: &[u8]) -> Result<Opener, EnvelopeError> {
        if !header.starts_with(MAGIC2) {
            return Err(if header.starts_with(MAGIC) {
                EnvelopeError::Corrupt
            } else {
                EnvelopeError::NotEncrypted
            });
        }
        if header.len() != HEADER2_LEN {
            return Err(EnvelopeError::Corrupt);
        }
        self.check_id(header)?;
        let data_key = self.data_key(header)?;
        let prefix = <[u8; PREFIX_LEN]>::try_from(&header[KEY_HEADER_END..HEADER2_LEN])
            .map_err(|_| EnvelopeError::Corrupt)?;
        Ok(Opener {
            segments: Segments::new(&data_key, prefix, aad),
            pending: Vec::with_capacity(SEALED_SEGMENT_LEN + 1),
        })
    }
}

/// The segment ciphers of one `FXE2` document: its data key, nonce prefix, associated data and the
/// index of the next segment.
struct Segments {
    cipher: Aes256Gcm,
    prefix: [u8; PREFIX_LEN],
    aad: Vec<u8>,
    next: u32,
    done: bool,
}

impl Segments {
    fn new(data_key: &[u8; KEY_LEN], prefix: [u8; PREFIX_LEN], aad: &[u8]) -> Self {
        Self {
            cipher: Aes256Gcm::new(&Key::<Aes256Gcm>::from(*data_key)),
            prefix,
            aad: aad.to_vec(),
            next: 0,
            done: false,
        }
    }

    /// The next segment's nonce, or [`EnvelopeError::TooLarge`] past 2^32 segments (256 TiB).
    fn nonce(&mut self, last: bool) -> Result<[u8; NONCE_LEN], EnvelopeError> {
        if self.done {
            return Err(EnvelopeError::Corrupt);
        }
        let mut nonce = [0u8; NONCE_LEN];
        nonce[..PREFIX_LEN].copy_from_slice(&self.prefix);
        nonce[PREFIX_LEN..PREFIX_LEN + 4].copy_from_slice(&self.next.to_be_bytes());
        nonce[NONCE_LEN - 1] = u8::from(last);
        self.next = self.next.checked_add(1).ok_or(EnvelopeError::TooLarge)?;
        self.done = last;
        Ok(nonce)
    }

    fn seal(&mut self, plain: &[u8], last: bool, out: &mut Vec<u8>) -> Result<(), EnvelopeError> {
        let nonce = self.nonce(last)?;
        let sealed = self
            .cipher
            .encrypt(
                (&nonce).into(),
                Payload {
                    msg: plain,
                    aad: &self.aad,
                },
            )
            .map_err(|_| EnvelopeError::TooLarge)?;
        out.extend_from_slice(&sealed);
        Ok(())
    }

    fn open(&mut self, sealed: &[u8], last: bool, out: &mut Vec<u8>) -> Result<(), EnvelopeError> {
        let nonce = self.nonce(last)?;
        let plain = self
            .cipher
            .decrypt(
                (&nonce).into(),
                Payload {
                    msg: sealed,
                    aad: &self.aad,
                },
            )
            .map_err(|_| EnvelopeError::Corrupt)?;
        out.extend_from_slice(&plain);
        Ok(())
    }
}

/// Seals one document a piece at a time: its [`Sealer::header`] first, then what
/// [`Sealer::push`] and [`Sealer::finish`] append. Holds at most one segment of plaintext.
pub struct Sealer {
    header: Vec<u8>,
    segments: Segments,
    pending: Vec<u8>,
}

impl Sealer {
    /// The document's first [`HEADER2_LEN`] bytes.
    pub fn header(&self) -> &[u8] {
        &self.header
    }

    /// Seals `plain`, appending every segment it completes to `out`. A full segment is sealed
    /// only once more follows it, because the last one (which may be full) is sealed as such.
    pub fn push(&mut self, mut plain: &[u8], out: &mut Vec<u8>) -> Result<(), EnvelopeError> {
        while !plain.is_empty() {
            if self.pending.len() == SEGMENT_LEN {
                self.segments.seal(&self.pending, false, out)?;
                self.pending.clear();
            }
            let take = (SEGMENT_LEN - self.pending.len()).min(plain.len());
            self.pending.extend_from_slice(&plain[..take]);
            plain = &plain[take..];
        }
        Ok(())
    }

    /// Seals the last segment (what is pending, possibly nothing) into `out`.
    pub fn finish(mut self, out: &mut Vec<u8>) -> Result<(), EnvelopeError> {
        let pending = std::mem::take(&mut self.pending);
        self.segments.seal(&pending, true, out)
    }
}

/// Opens one `FXE2` document a piece at a time (after its header, see [`MasterKey::opener`]):
/// [`Opener::push`] appends the plaintext of every segment it completes, [`Opener::finish`] the
/// last one. Holds at most one sealed segment; a segment that does not open, or a document that
/// ends early, is [`EnvelopeError::Corrupt`] (plaintext already appended came from segments that
/// opened, but the document as a whole must then be thrown away).
pub struct Opener {
    segments: Segments,
    pending: Vec<u8>,
}

impl Opener {
    pub fn push(&mut self, mut sealed: &[u8], out: &mut Vec<u8>) -> Result<(), EnvelopeError> {
        while !sealed.is_empty() {
            if self.pending.len() == SEALED_SEGMENT_LEN {
                self.segments.open(&self.pending, false, out)?;
                self.pending.clear();
            }
            let take = (SEALED_SEGMENT_LEN - self.pending.len()).min(sealed.len());
            self.pending.extend_from_slice(&sealed[..take]);
            sealed = &sealed[take..];
        }
        Ok(())
    }

    pub fn finish(mut self, out: &mut Vec<u8>) -> Result<(), EnvelopeError> {
        if self.pending.len() < TAG_LEN {
            return Err(EnvelopeError::Corrupt);
        }
        let pending = std::mem::take(&mut self.pending);
        self.segments.open(&pending, true, out)
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
        let min = if sealed.starts_with(MAGIC2) {
            HEADER2_LEN + TAG_LEN
        } else if sealed.starts_with(MAGIC) {
            HEADER_LEN + TAG_LEN
        } else {
            return Err(EnvelopeError::NotEncrypted);
        };
        if sealed.len() < min {
            return Err(EnvelopeError::Corrupt);
        }
        let id = &sealed[MAGIC.len()..MAGIC.len() + KEY_ID_LEN];
        if id == self.current.id {
            return Ok(None);
        }
        let old = self.key_named(sealed)?;
        let data_key = old.data_key(sealed)?;
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
        // The layout's magic is kept: only the key header changes.
        out.extend_from_slice(&sealed[..MAGIC.len()]);
        out.extend_from_slice(&self.current.id);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&rewrapped);
        out.extend_from_slice(&sealed[KEY_HEADER_END..]);
        Ok(Some(out))
    }

    /// Whether `stored` is a document sealed under a key of this ring: its layout's magic, and a
    /// key header that opens under the key it names. Plaintext that merely starts like a sealed
    /// document fails the header's authentication.
    pub fn holds(&self, stored: &[u8]) -> bool {
        (stored.starts_with(MAGIC) || stored.starts_with(MAGIC2))
            && stored.len() >= KEY_HEADER_END
            && self
                .key_named(stored)
                .and_then(|k| k.data_key(stored))
                .is_ok()
    }

    /// The key of the ring a sealed document's header names.
    fn key_named(&self, sealed: &[u8]) -> Result<&MasterKey, EnvelopeError> {
        let id = &sealed[MAGIC.len()..MAGIC.len() + KEY_ID_LEN];
        std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == id)
            .ok_or_else(|| EnvelopeError::OtherKey {
                found: hex::encode(id),
                configured: self.current.id(),
            })
    }

    /// A [`Sealer`] under the current key.
    pub fn sealer(&self, aad: &[u8]) -> Result<Sealer, EnvelopeError> {
        self.current.sealer(aad)
    }

    /// An [`Opener`] of an `FXE2` document under whichever key its header names.
    pub fn opener(&self, aad: &[u8], header: &[u8]) -> Result<Opener, EnvelopeError> {
        if header.len() < MAGIC.len() + KEY_ID_LEN {
            return self.current.opener(aad, header);
        }
        self.key_named(header)?.opener(aad, header)
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
        let content_at = KEY_HEADER_END;
        assert_eq!(moved[content_at..], by_old[content_at..]);
        assert!(moved.starts_with(MAGIC2));
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
            ring.rewrap(&by_old[..HEADER2_LEN]),
            Err(EnvelopeError::Corrupt)
        );
    }

    /// An `FXE1` document as the version before segments wrote it.
    fn seal_v1(k: &MasterKey, aad: &[u8], plain: &[u8]) -> Vec<u8> {
        let data_key = [7u8; KEY_LEN];
        let (key_nonce, content_nonce) = ([1u8; NONCE_LEN], [2u8; NONCE_LEN]);
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&k.id);
        out.extend_from_slice(&key_nonce);
        let wrapped = k
            .cipher
            .encrypt(
                (&key_nonce).into(),
                Payload {
                    msg: &data_key,
                    aad: &k.id,
                },
            )
            .unwrap();
        out.extend_from_slice(&wrapped);
        out.extend_from_slice(&content_nonce);
        let sealed = Aes256Gcm::new(&Key::<Aes256Gcm>::from(data_key))
            .encrypt((&content_nonce).into(), Payload { msg: plain, aad })
            .unwrap();
        out.extend_from_slice(&sealed);
        out
    }

    #[test]
    fn version_1_documents_still_open_and_rewrap() {
        let old = MasterKey::parse(KEY).unwrap();
        let v1 = seal_v1(&old, b"jobs/a", b"patient letter");
        assert_eq!(old.open(b"jobs/a", &v1).unwrap(), b"patient letter");
        assert_eq!(old.open(b"jobs/b", &v1), Err(EnvelopeError::Corrupt));
        let new = MasterKey::parse(&"42".repeat(32)).unwrap();
        let ring = Keyring::new(new.clone(), vec![old]);
        let moved = ring.rewrap(&v1).unwrap().expect("names the old key");
        assert!(moved.starts_with(MAGIC));
        assert_eq!(
            Keyring::from(new).open(b"jobs/a", &moved).unwrap(),
            b"patient letter"
        );
    }

    /// Seals in pieces of `step` bytes and opens in pieces of `open_step`.
    fn pieces(k: &MasterKey, plain: &[u8], step: usize, open_step: usize) -> Vec<u8> {
        let mut sealer = k.sealer(b"jobs/a").unwrap();
        let mut sealed = sealer.header().to_vec();
        for piece in plain.chunks(step.max(1)) {
            sealer.push(piece, &mut sealed).unwrap();
        }
        sealer.finish(&mut sealed).unwrap();
        assert_eq!(k.open(b"jobs/a", &sealed).unwrap(), plain);
        let mut opener = k.opener(b"jobs/a", &sealed[..HEADER2_LEN]).unwrap();
        let mut out = Vec::new();
        for piece in sealed[HEADER2_LEN..].chunks(open_step) {
            opener.push(piece, &mut out).unwrap();
        }
        opener.finish(&mut out).unwrap();
        assert_eq!(out, plain);
        sealed
    }

    #[test]
    fn segments_round_trip_at_every_boundary() {
        let k = MasterKey::parse(KEY).unwrap();
        for len in [
            0,
            1,
            SEGMENT_LEN - 1,
            SEGMENT_LEN,
            SEGMENT_LEN + 1,
            2 * SEGMENT_LEN,
            3 * SEGMENT_LEN + 17,
        ] {
            let plain: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let sealed = pieces(&k, &plain, 1000, 7777);
            // The last segment may be full: a multiple of the segment length needs no empty one.
            let segments = len.div_ceil(SEGMENT_LEN).max(1);
            assert_eq!(
                sealed.len(),
                HEADER2_LEN + len + segments * TAG_LEN,
                "{len}"
            );
            pieces(&k, &plain, SEGMENT_LEN, SEALED_SEGMENT_LEN);
            pieces(&k, &plain, len + 1, 1);
        }
    }

    #[test]
    fn segments_detect_truncation_reordering_and_damage() {
        let k = MasterKey::parse(KEY).unwrap();
        let plain: Vec<u8> = (0..3 * SEGMENT_LEN).map(|i| (i % 13) as u8).collect();
        let sealed = k.seal(b"jobs/a", &plain).unwrap();
        assert!(
            !sealed
                .windows(64)
                .any(|w| plain.windows(64).next() == Some(w))
        );
        // Cut at a segment boundary (the last whole segment was not sealed as the last one).
        let cut = HEADER2_LEN + 2 * SEALED_SEGMENT_LEN;
        assert_eq!(
            k.open(b"jobs/a", &sealed[..cut]),
            Err(EnvelopeError::Corrupt)
        );
        // Cut inside a segment, a lone header, a cut inside the header.
        assert_eq!(
            k.open(b"jobs/a", &sealed[..cut + 100]),
            Err(EnvelopeError::Corrupt)
        );
        assert_eq!(
            k.open(b"jobs/a", &sealed[..HEADER2_LEN]),
            Err(EnvelopeError::Corrupt)
        );
        assert_eq!(
            k.open(b"jobs/a", &sealed[..10]),
            Err(EnvelopeError::Corrupt)
        );
        // Two segments swapped.
        let mut swapped = sealed[..HEADER2_LEN].to_vec();
        let body = &sealed[HEADER2_LEN..];
        swapped.extend_from_slice(&body[SEALED_SEGMENT_LEN..2 * SEALED_SEGMENT_LEN]);
        swapped.extend_from_slice(&body[..SEALED_SEGMENT_LEN]);
        swapped.extend_from_slice(&body[2 * SEALED_SEGMENT_LEN..]);
        assert_eq!(k.open(b"jobs/a", &swapped), Err(EnvelopeError::Corrupt));
        // Appended bytes, a flipped bit in the nonce prefix.
        let mut longer = sealed.clone();
        longer.extend_from_slice(&[0u8; 40]);
        assert_eq!(k.open(b"jobs/a", &longer), Err(EnvelopeError::Corrupt));
        let mut bad = sealed.clone();
        bad[HEADER2_LEN - 1] ^= 1;
        assert_eq!(k.open(b"jobs/a", &bad), Err(EnvelopeError::Corrupt));
        // Streaming: the opener fails at the damaged segment.
        let mut opener = k.opener(b"jobs/a", &swapped[..HEADER2_LEN]).unwrap();
        let mut out = Vec::new();
        let r = opener
            .push(&swapped[HEADER2_LEN..], &mut out)
            .and_then(|()| opener.finish(&mut out));
        assert_eq!(r, Err(EnvelopeError::Corrupt));
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
