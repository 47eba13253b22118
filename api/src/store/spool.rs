//! An upload on its way to the document store, held in a private temporary file instead of
//! memory ([`Spool`]): `POST /fax` writes each piece of the multipart body as it arrives, counting
//! it against the size limit, hashing it (SHA-256), sniffing its type
//! ([`crate::document::Sniffer`]) and, with client-side encryption, sealing it segment by segment
//! (`FXE2`) before it touches the disk. The finished file ([`Spooled`]) is what the page count
//! reads (piped to the render worker) and what the backend stores: the local backend renames it
//! into place (the spool is in the backend's own directory), S3 uploads it (one `PUT` for a small
//! document, a multipart upload above [`super::object_documents::SINGLE_PUT_MAX`]), and the
//! database backend writes it with its row a [`super::documents::PIECE`] at a time.
//!
//! A small upload (at most [`IN_MEMORY`] bytes as stored, a typical fax) never gets a file: it is
//! kept in memory and stored from there, which saves a file's creation, write, read and deletion per
//! request; the file is created once an upload grows past that.
//!
//! The file is deleted when the [`Spool`] or [`Spooled`] is dropped without having been stored (a
//! refused, failed or abandoned upload); one a killed process leaves is a stale temporary file that
//! the orphan sweep (local backend) or the next start (other backends) removes.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::documents::{DocumentError, DocumentId, DocumentResult, Documents, aad};
use super::envelope::{HEADER2_LEN, Keyring, Opener, Sealer};
use crate::document::{DocKind, SniffError, Sniffer};

/// What is gathered before a write to the file (one encryption segment's worth).
const WRITE_CHUNK: usize = 64 * 1024;

/// The most of an upload kept in memory before it goes to a file.
pub const IN_MEMORY: usize = 256 * 1024;

/// Why a piece could not be added to a [`Spool`].
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    /// The upload is over the size limit (nothing is kept).
    #[error("the document is over the size limit")]
    TooLarge,
    /// The temporary file could not be written (a full or unwritable disk).
    #[error(transparent)]
    Store(#[from] DocumentError),
}

/// A temporary file being written; see the module documentation.
pub struct Spool {
    file: Option<tokio::fs::File>,
    /// The file's directory, and the file once it was created.
    dir: PathBuf,
    path: TempPath,
    id: DocumentId,
    sealer: Option<Sealer>,
    key: Option<Keyring>,
    hasher: Sha256,
    sniffer: Sniffer,
    size: u64,
    stored: u64,
    limit: u64,
    out: Vec<u8>,
}

/// A temporary file deleted on drop unless it was kept.
struct TempPath(Option<PathBuf>);

impl Drop for TempPath {
    fn drop(&mut self) {
        if let Some(p) = self.0.take()
            && let Err(e) = std::fs::remove_file(&p)
            && e.kind() != io::ErrorKind::NotFound
        {
            tracing::warn!(error = %e, "cannot delete an upload's temporary file");
        }
    }
}

impl Spool {
    /// A new private (0600) temporary file in `dir` for the document `id`, refusing more than
    /// `limit` bytes of content.
    pub(crate) async fn create(
        documents: &Documents,
        dir: &Path,
        id: DocumentId,
        limit: u64,
    ) -> DocumentResult<Self> {
        super::documents::checked_owner(&id)?;
        let key = documents.keyring().cloned();
        let mut out = Vec::with_capacity(WRITE_CHUNK + HEADER2_LEN + 64);
        let sealer = match &key {
            Some(k) => {
                let s = k.sealer(&aad(&id))?;
                out.extend_from_slice(s.header());
                Some(s)
            }
            None => None,
        };
        Ok(Self {
            file: None,
            dir: dir.to_path_buf(),
            path: TempPath(None),
            id,
            sealer,
            key,
            hasher: Sha256::new(),
            sniffer: Sniffer::default(),
            size: 0,
            stored: 0,
            limit,
            out,
        })
    }

    /// Adds the next piece of the document.
    pub async fn push(&mut self, piece: &[u8]) -> Result<(), SpoolError> {
        if self.size + piece.len() as u64 > self.limit {
            return Err(SpoolError::TooLarge);
        }
        self.size += piece.len() as u64;
        self.hasher.update(piece);
        self.sniffer.push(piece);
        match &mut self.sealer {
            Some(s) => s
                .push(piece, &mut self.out)
                .map_err(DocumentError::Envelope)?,
            None => self.out.extend_from_slice(piece),
        }
        let spilled = self.file.is_some() || self.out.len() > IN_MEMORY;
        if spilled && self.out.len() >= WRITE_CHUNK {
            self.flush_out().await?;
        }
        Ok(())
    }

    async fn flush_out(&mut self) -> DocumentResult<()> {
        let file = match &mut self.file {
            Some(f) => f,
            None => {
                let owner = super::documents::checked_owner(&self.id)?;
                let path = self
                    .dir
                    .join(format!(".{owner}.{}.tmp", uuid::Uuid::new_v4().simple()));
                let mut opts = tokio::fs::OpenOptions::new();
                opts.write(true).create_new(true);
                #[cfg(unix)]
                opts.mode(0o600);
                let f = opts.open(&path).await?;
                self.path = TempPath(Some(path));
                self.file.insert(f)
            }
        };
        file.write_all(&self.out).await?;
        self.stored += self.out.len() as u64;
        self.out.clear();
        Ok(())
    }

    /// Writes what is left (the last sealed segment) and closes the file.
    pub async fn finish(mut self) -> DocumentResult<Spooled> {
        if let Some(s) = self.sealer.take() {
            s.finish(&mut self.out)?;
        }
        let mut memory = None;
        if self.file.is_none() && self.out.len() <= IN_MEMORY {
            self.stored = self.out.len() as u64;
            memory = Some(Bytes::from(std::mem::take(&mut self.out)));
        } else {
            self.flush_out().await?;
        }
        if let Some(mut f) = self.file.take() {
            f.flush().await?;
        }
        let Spool {
            path,
            id,
            key,
            hasher,
            sniffer,
            size,
            stored,
            ..
        } = self;
        Ok(Spooled {
            path,
            memory,
            id,
            key,
            size,
            stored,
            sha256: hex::encode(hasher.finalize()),
            kind: sniffer.finish(),
        })
    }
}

/// A whole upload in its temporary file; see the module documentation.
pub struct Spooled {
    path: TempPath,
    /// The whole upload as stored, when it was small enough to stay in memory (then there is no file).
    memory: Option<Bytes>,
    id: DocumentId,
    /// The key it was sealed with, when client-side encryption is on.
    key: Option<Keyring>,
    size: u64,
    stored: u64,
    sha256: String,
    kind: Result<DocKind, SniffError>,
}

impl std::fmt::Debug for Spooled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spooled")
            .field("id", &self.id)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl Spooled {
    /// The document's length.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The file's length (sealed, when sealing is on).
    pub(crate) fn stored_len(&self) -> u64 {
        self.stored
    }

    /// The document's SHA-256, hex.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// The document's type, as [`crate::document::sniff`] would say of the whole.
    pub fn kind(&self) -> Result<DocKind, SniffError> {
        self.kind.clone()
    }

    /// The document it will be stored as.
    pub(crate) fn id(&self) -> &DocumentId {
        &self.id
    }

    /// The upload as stored (sealed, when sealing is on), when it is held in memory rather than in a file.
    pub(crate) fn in_memory(&self) -> Option<&Bytes> {
        self.memory.as_ref()
    }

    /// The temporary file (none when [`Spooled::in_memory`]).
    pub(crate) fn path(&self) -> &Path {
        self.path.0.as_deref().unwrap_or(Path::new(""))
    }

    /// The file is in place now (renamed): it is no longer deleted on drop.
    pub(crate) fn kept(mut self) {
        self.path.0 = None;
    }

    /// The document's content (opened when sealed), a piece at a time. Blocking.
    pub fn open_plain(&self) -> io::Result<Box<dyn Read + Send>> {
        let file: Box<dyn Read + Send> = match &self.memory {
            Some(b) => Box::new(io::Cursor::new(b.clone())),
            None => Box::new(io::BufReader::with_capacity(
                WRITE_CHUNK,
                std::fs::File::open(self.path())?,
            )),
        };
        match &self.key {
            None => Ok(Box::new(file)),
            Some(k) => Ok(Box::new(OpenedReader::new(file, k, &aad(&self.id))?)),
        }
    }

    /// The whole content in memory (a text's page count, a provider's TIFF). Blocking.
    pub fn read_plain(&self) -> io::Result<Bytes> {
        let mut all = Vec::with_capacity(self.size as usize);
        self.open_plain()?.read_to_end(&mut all)?;
        if all.len() as u64 != self.size {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(Bytes::from(all))
    }
}

/// A sealed (`FXE2`) file read as its plaintext, one segment at a time.
struct OpenedReader<R> {
    inner: R,
    opener: Option<Opener>,
    sealed: Vec<u8>,
    out: Vec<u8>,
    pos: usize,
}

impl<R: Read> OpenedReader<R> {
    fn new(mut inner: R, key: &Keyring, aad: &[u8]) -> io::Result<Self> {
        let mut header = [0u8; HEADER2_LEN];
        inner.read_exact(&mut header)?;
        let opener = key.opener(aad, &header).map_err(io::Error::other)?;
        Ok(Self {
            inner,
            opener: Some(opener),
            sealed: vec![0u8; WRITE_CHUNK],
            out: Vec::new(),
            pos: 0,
        })
    }
}

impl<R: Read> Read for OpenedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.out.len() {
            let Some(opener) = &mut self.opener else {
                return Ok(0);
            };
            self.out.clear();
            self.pos = 0;
            let n = self.inner.read(&mut self.sealed)?;
            if n == 0 {
                if let Some(o) = self.opener.take() {
                    o.finish(&mut self.out).map_err(io::Error::other)?;
                }
            } else {
                opener
                    .push(&self.sealed[..n], &mut self.out)
                    .map_err(io::Error::other)?;
            }
        }
        let n = buf.len().min(self.out.len() - self.pos);
        buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Deletes the temporary files of uploads in `dir` older than `max_age` (left by a killed
/// process). Blocking; at start.
pub fn sweep_stale(dir: &Path, max_age: std::time::Duration) -> io::Result<usize> {
    let mut removed = 0;
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with('.') && name.ends_with(".tmp")) {
            continue;
        }
        let old = entry
            .metadata()?
            .modified()?
            .elapsed()
            .is_ok_and(|age| age > max_age);
        if old {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(removed)
}
