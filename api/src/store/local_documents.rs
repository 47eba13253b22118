//! Documents as files in a local directory (`storage_backend = "local"`): `<dir>/jobs/<id>` and
//! `<dir>/inbound/<id>`. The directories are 0700 and the files 0600 because they hold every fax;
//! a file is written under a temporary name, fsynced and renamed into place (and the directory
//! fsynced), so a reader or a power cut never sees half a document. The directory belongs to the
//! API alone and is never served.
//!
//! A put happens before its owner row commits; when the commit fails the caller deletes the file
//! (see [`super::documents`]).

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use bytes::Bytes;

use super::documents::{DocumentError, DocumentId, DocumentResult, DocumentStore, OwnerTx};

/// Documents in a private directory; see the module documentation.
#[derive(Clone, Debug)]
pub struct LocalDocuments {
    root: PathBuf,
}

impl LocalDocuments {
    /// Creates (or tightens) `root` and its subdirectories (one per kind), 0700.
    pub fn open(root: &Path) -> DocumentResult<Self> {
        crate::private_fs::private_dir(root)?;
        for sub in super::documents::KIND_DIRS {
            crate::private_fs::private_dir(&root.join(sub))?;
        }
        Ok(Self {
            root: root.to_path_buf(),
        })
    }

    /// The file of a document. Ids are the API's own (hex UUIDs); anything that could leave the
    /// directory is refused.
    fn path(&self, id: &DocumentId) -> DocumentResult<PathBuf> {
        let owner = super::documents::checked_owner(id)?;
        Ok(self.root.join(id.kind_dir()).join(owner))
    }
}

/// Writes `content` to `path` atomically: a new 0600 temporary file in the same directory,
/// fsynced, renamed over `path`, then the directory fsynced so the rename is durable too.
fn write_atomic(path: &Path, content: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let written = (|| {
        let mut f = opts.open(&tmp)?;
        f.write_all(content)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// Runs blocking file IO off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> DocumentResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| DocumentError::Io(io::Error::other(e)))?
        .map_err(DocumentError::Io)
}

impl LocalDocuments {
    /// The directory of a document's kind (where its uploads are spooled).
    pub(crate) fn kind_dir(&self, id: &DocumentId) -> PathBuf {
        self.root.join(id.kind_dir())
    }

    /// Moves a spooled upload into place: the temporary file (in the same directory) is fsynced,
    /// renamed to the document's name and the directory fsynced.
    pub(crate) async fn place(&self, spooled: super::spool::Spooled) -> DocumentResult<()> {
        if let Some(content) = spooled.in_memory() {
            return self.write(spooled.id(), content).await;
        }
        let path = self.path(spooled.id())?;
        let tmp = spooled.path().to_path_buf();
        blocking(move || {
            std::fs::OpenOptions::new()
                .write(true)
                .open(&tmp)?
                .sync_all()?;
            std::fs::rename(&tmp, &path)?;
            let dir = path.parent().unwrap_or(Path::new("."));
            std::fs::File::open(dir)?.sync_all()
        })
        .await?;
        spooled.kept();
        Ok(())
    }

    /// Writes a document (atomically); no transaction is involved.
    pub(crate) async fn write(&self, id: &DocumentId, content: &Bytes) -> DocumentResult<()> {
        let path = self.path(id)?;
        let content = content.clone();
        blocking(move || write_atomic(&path, &content)).await
    }
}

impl LocalDocuments {
    /// The document's file as a stream; `None` when there is none.
    pub(crate) async fn read_stream(
        &self,
        id: &DocumentId,
    ) -> DocumentResult<Option<super::documents::DocumentStream>> {
        match tokio::fs::File::open(self.path(id)?).await {
            Ok(f) => Ok(Some(super::documents::file_stream(f))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

impl DocumentStore for LocalDocuments {
    async fn put(
        &self,
        _tx: &mut OwnerTx<'_>,
        id: &DocumentId,
        content: &Bytes,
    ) -> DocumentResult<()> {
        self.write(id, content).await
    }

    async fn get(&self, id: &DocumentId) -> DocumentResult<Option<Bytes>> {
        let path = self.path(id)?;
        blocking(move || match std::fs::read(&path) {
            Ok(v) => Ok(Some(Bytes::from(v))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        })
        .await
    }

    async fn delete(&self, id: &DocumentId) -> DocumentResult<bool> {
        let path = self.path(id)?;
        blocking(move || match std::fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        })
        .await
    }

    async fn purge(&self, ids: &[DocumentId]) -> DocumentResult<u64> {
        let mut deleted = 0;
        for id in ids {
            deleted += u64::from(self.delete(id).await?);
        }
        Ok(deleted)
    }

    async fn written_before(&self, before_us: i64) -> DocumentResult<Vec<DocumentId>> {
        let root = self.root.clone();
        blocking(move || {
            let mut found = Vec::new();
            for kind in super::documents::KIND_DIRS {
                for entry in std::fs::read_dir(root.join(kind))? {
                    let entry = entry?;
                    let modified = entry.metadata()?.modified()?;
                    let us = modified
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
                    if us >= before_us {
                        continue;
                    }
                    let name = entry.file_name();
                    let name = name.to_string_lossy();
                    if name.starts_with('.') && name.ends_with(".tmp") {
                        // An interrupted write: never renamed into place, nobody reads it.
                        match std::fs::remove_file(entry.path()) {
                            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                            _ => {}
                        }
                    } else if let Some(id) = super::documents::id_of(kind, &name) {
                        found.push(id);
                    }
                }
            }
            Ok(found)
        })
        .await
    }
}
