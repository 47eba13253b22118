//! Where documents live: the [`DocumentStore`] seam, its database backend [`BlobDocuments`] (blobs
//! next to their rows, the default), and [`Documents`], the backend a [`super::Store`] was opened
//! with ([`DocumentBackend`]): the database, a local directory
//! ([`super::local_documents::LocalDocuments`]) or S3-compatible object storage
//! ([`super::object_documents::ObjectDocuments`]).
//!
//! Handlers and retention see only the trait, so a new backend is a new implementation and a new
//! arm of [`Documents`], not a change to any route.
//!
//! The guarantee every backend keeps: a job or inbound fax is never committed without its
//! document, and no document outlives a failed insert. [`DocumentStore::put`] is called inside
//! the transaction that inserts the owner row and receives it as an [`OwnerTx`]: the database
//! store writes through it, so the document commits or rolls back with its row; a backend outside
//! the database writes on its own before the commit, and when the transaction fails the caller
//! deletes what was put ([`DocumentStore::delete`]), which for the database store finds nothing.

use std::future::Future;

use bytes::Bytes;
use sqlx::Row;

use super::db::{Args, Db, q, with_reader, with_writer};

/// A document's content as a stream of pieces (at most [`READ_CHUNK`] or one encryption segment
/// each from a file or object, one [`PIECE`] from the database). An error ends it: what came
/// before must then be thrown away.
pub type DocumentStream = futures::stream::BoxStream<'static, DocumentResult<Bytes>>;

/// The pieces a file is read in.
pub(crate) const READ_CHUNK: usize = 64 * 1024;

/// A file as a [`DocumentStream`].
pub(crate) fn file_stream(file: tokio::fs::File) -> DocumentStream {
    use futures::StreamExt;
    use tokio::io::AsyncReadExt;
    futures::stream::try_unfold(file, |mut f| async move {
        let mut buf = bytes::BytesMut::with_capacity(READ_CHUNK);
        let n = f.read_buf(&mut buf).await?;
        Ok((n > 0).then(|| (buf.freeze(), f)))
    })
    .boxed()
}

/// A document, named by its owner.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DocumentId {
    /// The upload of an outbound job (`fax_jobs.id`).
    Job(String),
    /// The PDF of a received fax (`inbound_faxes.id`).
    Inbound(String),
    /// A console Send's prepared document awaiting confirmation (`console_drafts.id`).
    Draft(String),
    /// The document of a bulk send (`bulk_batches.id`).
    Bulk(String),
}

/// The directory (or key segment) of every kind, in file and object backends.
pub(crate) const KIND_DIRS: [&str; 4] = ["jobs", "inbound", "drafts", "bulk"];

impl DocumentId {
    /// The owner's id.
    pub fn owner(&self) -> &str {
        match self {
            DocumentId::Job(id)
            | DocumentId::Inbound(id)
            | DocumentId::Draft(id)
            | DocumentId::Bulk(id) => id,
        }
    }
}

impl DocumentId {
    /// The directory (or key segment) of the kind in file and object backends.
    pub(crate) fn kind_dir(&self) -> &'static str {
        match self {
            DocumentId::Job(_) => "jobs",
            DocumentId::Inbound(_) => "inbound",
            DocumentId::Draft(_) => "drafts",
            DocumentId::Bulk(_) => "bulk",
        }
    }
}

/// The owner id as a file or object name: the API's ids are hex UUIDs, so anything else (a path
/// separator, `..`, an empty id) is refused rather than turned into a path.
pub(crate) fn checked_owner(id: &DocumentId) -> DocumentResult<&str> {
    let owner = id.owner();
    if owner.is_empty()
        || owner.len() > 128
        || !owner
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(DocumentError::BadId);
    }
    Ok(owner)
}

#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("document database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("document file error: {0}")]
    Io(#[from] std::io::Error),
    #[error("object storage error: {0}")]
    Object(#[from] object_store::Error),
    #[error("document storage configuration: {0}")]
    Config(String),
    #[error("a document id may hold only letters, digits, '-' and '_'")]
    BadId,
    #[error("document encryption: {0}")]
    Envelope(#[from] super::envelope::EnvelopeError),
    /// A database document's head row names more pieces than there are (it was deleted or
    /// replaced while it was read).
    #[error("the document's piece {0} is missing from the database")]
    MissingPiece(i64),
}

pub type DocumentResult<T> = Result<T, DocumentError>;

/// The open transaction inserting a document's owner row (see the module documentation).
pub struct OwnerTx<'c>(Conn<'c>);

enum Conn<'c> {
    Sqlite(&'c mut sqlx::SqliteConnection),
    Postgres(&'c mut sqlx::PgConnection),
}

impl<'c> From<&'c mut sqlx::SqliteConnection> for OwnerTx<'c> {
    fn from(c: &'c mut sqlx::SqliteConnection) -> Self {
        OwnerTx(Conn::Sqlite(c))
    }
}

impl<'c> From<&'c mut sqlx::PgConnection> for OwnerTx<'c> {
    fn from(c: &'c mut sqlx::PgConnection) -> Self {
        OwnerTx(Conn::Postgres(c))
    }
}

impl OwnerTx<'_> {
    async fn exec(&mut self, sql: &str, args: Args) -> sqlx::Result<u64> {
        Ok(match &mut self.0 {
            Conn::Sqlite(c) => args
                .bind(q::<sqlx::Sqlite>(sql))
                .execute(&mut **c)
                .await?
                .rows_affected(),
            Conn::Postgres(c) => args
                .bind(q::<sqlx::Postgres>(sql))
                .execute(&mut **c)
                .await?
                .rows_affected(),
        })
    }
}

/// Document storage by id. Content is handed over as [`Bytes`], so callers share it rather than copy it.
pub trait DocumentStore: Send + Sync {
    /// Stores (or replaces) the document while `tx` inserts its owner row.
    fn put(
        &self,
        tx: &mut OwnerTx<'_>,
        id: &DocumentId,
        content: &Bytes,
    ) -> impl Future<Output = DocumentResult<()>> + Send;

    /// The document, or `None` when there is none (never stored, deleted or purged).
    fn get(&self, id: &DocumentId) -> impl Future<Output = DocumentResult<Option<Bytes>>> + Send;

    /// The document as a stream of pieces, or `None` when there is none: what a large document is
    /// sent on by (the agent's download). By default [`DocumentStore::get`] as one piece; the
    /// configured store ([`Documents`]) reads file and object backends a piece at a time.
    fn get_stream(
        &self,
        id: &DocumentId,
    ) -> impl Future<Output = DocumentResult<Option<DocumentStream>>> + Send {
        async move { Ok(self.get(id).await?.map(one_piece)) }
    }

    /// Deletes the document; false when there was none.
    fn delete(&self, id: &DocumentId) -> impl Future<Output = DocumentResult<bool>> + Send;

    /// Deletes every listed document there is; returns how many were deleted.
    fn purge(&self, ids: &[DocumentId]) -> impl Future<Output = DocumentResult<u64>> + Send;

    /// Documents written before `before_us` (Unix microseconds), whether or not their owner row
    /// exists: the candidates of the orphan sweep ([`super::Retention::sweep_orphans`]), which
    /// finds what a process killed between the document's write and its row's commit left behind.
    /// Also removes stale temporary files of interrupted writes. A store whose documents commit
    /// with their rows (the database) has no orphans and returns nothing.
    fn written_before(
        &self,
        before_us: i64,
    ) -> impl Future<Output = DocumentResult<Vec<DocumentId>>> + Send;
}

/// The document of a file or object name inside a kind's directory, if it is one of ours.
pub(crate) fn id_of(kind_dir: &str, name: &str) -> Option<DocumentId> {
    let id = match kind_dir {
        "jobs" => DocumentId::Job(name.to_string()),
        "inbound" => DocumentId::Inbound(name.to_string()),
        "drafts" => DocumentId::Draft(name.to_string()),
        "bulk" => DocumentId::Bulk(name.to_string()),
        _ => return None,
    };
    checked_owner(&id).is_ok().then_some(id)
}

/// Documents in the database: `fax_documents`, `inbound_documents`, `draft_documents` and
/// `bulk_documents` hold a document's first [`PIECE`] and how many pieces it has; the rest are rows of
/// `fax_document_pieces` (and so on), numbered from 1. The head row references its owner and the
/// pieces reference the head, so a document cannot be written before its owner row, only in the
/// same transaction, and deleting the owner or the head deletes every piece. Pieces let a large
/// document be written from its spooled file and sent to an agent a piece at a time, never whole in
/// memory or in one statement. Every API instance on one database serves every document.
#[derive(Clone)]
pub struct BlobDocuments {
    db: Db,
}

/// The largest piece of a document in one database row: a one-page fax is one piece; a 20 MB
/// document is written and read in 20 statements of bounded size.
pub const PIECE: usize = 1024 * 1024;

/// Ids deleted per statement in [`BlobDocuments::purge`] (well under both backends' bind limits).
const PURGE_CHUNK: usize = 500;

/// Where a kind of document lives in the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Place {
    /// The head rows.
    table: &'static str,
    /// The key column (the owner's id), in both tables.
    key: &'static str,
    /// The rows of the pieces after the first.
    pieces: &'static str,
}

fn place(id: &DocumentId) -> Place {
    let (table, key, pieces) = match id {
        DocumentId::Job(_) => ("fax_documents", "job_id", "fax_document_pieces"),
        DocumentId::Inbound(_) => ("inbound_documents", "inbound_id", "inbound_document_pieces"),
        DocumentId::Draft(_) => ("draft_documents", "draft_id", "draft_document_pieces"),
        DocumentId::Bulk(_) => ("bulk_documents", "batch_id", "bulk_document_pieces"),
    };
    Place { table, key, pieces }
}

impl BlobDocuments {
    pub(crate) fn new(db: Db) -> Self {
        Self { db }
    }

    /// Writes (or replaces) a document of `len` bytes read from `content`, in pieces, through `tx`.
    /// Fails when `content` ends early; what it holds past `len` is not read.
    async fn write<R>(
        tx: &mut OwnerTx<'_>,
        id: &DocumentId,
        len: u64,
        mut content: R,
    ) -> DocumentResult<()>
    where
        R: tokio::io::AsyncRead + Unpin + Send,
    {
        use tokio::io::AsyncReadExt;
        let Place { table, key, pieces } = place(id);
        let owner = id.owner();
        let count = len.div_ceil(PIECE as u64).max(1);
        let mut piece = vec![0u8; (len as usize).min(PIECE)];
        content.read_exact(&mut piece).await?;
        let head = Args::new().s(owner).b(piece).i(count as i64);
        let inserted = tx
            .exec(
                &format!(
                    "INSERT INTO {table} ({key}, content, pieces) VALUES ($1, $2, $3) \
                     ON CONFLICT ({key}) DO NOTHING"
                ),
                head.clone(),
            )
            .await?;
        if inserted == 0 {
            // A replacement (rare: a new document's owner row was inserted just before): the old
            // pieces go, however many it had. A new document is one statement, as it was before pieces.
            tx.exec(
                &format!("UPDATE {table} SET content = $2, pieces = $3 WHERE {key} = $1"),
                head,
            )
            .await?;
            tx.exec(
                &format!("DELETE FROM {pieces} WHERE {key} = $1"),
                Args::new().s(owner),
            )
            .await?;
        }
        let insert = format!("INSERT INTO {pieces} ({key}, seq, content) VALUES ($1, $2, $3)");
        let mut left = len.saturating_sub(PIECE as u64);
        for seq in 1..count {
            let mut piece = vec![0u8; (left as usize).min(PIECE)];
            content.read_exact(&mut piece).await?;
            left -= piece.len() as u64;
            tx.exec(&insert, Args::new().s(owner).i(seq as i64).b(piece))
                .await?;
        }
        Ok(())
    }

    /// Stores a spooled upload (sealed already when sealing is on) through `tx`, reading its file
    /// a piece at a time.
    pub(crate) async fn put_spooled(
        &self,
        tx: &mut OwnerTx<'_>,
        spooled: &super::spool::Spooled,
    ) -> DocumentResult<()> {
        let len = spooled.stored_len();
        match spooled.in_memory() {
            Some(content) => Self::write(tx, spooled.id(), len, content.as_ref()).await?,
            None => {
                let file = tokio::fs::File::open(spooled.path()).await?;
                let file = tokio::io::BufReader::with_capacity(READ_CHUNK, file);
                Self::write(tx, spooled.id(), len, file).await?
            }
        }
        crate::metrics::document_stored("database", len as usize);
        Ok(())
    }

    /// The document a piece at a time: its head row, then each further piece as it is asked for.
    pub(crate) async fn read_stream(
        &self,
        id: &DocumentId,
    ) -> DocumentResult<Option<DocumentStream>> {
        use futures::StreamExt;
        let Place { table, key, pieces } = place(id);
        let head = with_reader!(&self.db, |p| {
            q(&format!(
                "SELECT content, pieces FROM {table} WHERE {key} = $1"
            ))
            .bind(id.owner())
            .fetch_optional(p)
            .await?
            .map(|r| Ok::<_, sqlx::Error>((r.try_get::<Vec<u8>, _>(0)?, r.try_get::<i64, _>(1)?)))
            .transpose()?
        });
        let Some((first, count)) = head else {
            return Ok(None);
        };
        let first = futures::stream::once(async move { Ok(Bytes::from(first)) });
        let (db, owner) = (self.db.clone(), id.owner().to_owned());
        let select = format!("SELECT content FROM {pieces} WHERE {key} = $1 AND seq = $2");
        let rest = futures::stream::try_unfold(1i64, move |seq| {
            let (db, owner, select) = (db.clone(), owner.clone(), select.clone());
            async move {
                if seq >= count {
                    return Ok(None);
                }
                let piece = with_reader!(&db, |p| {
                    q(&select)
                        .bind(&owner)
                        .bind(seq)
                        .fetch_optional(p)
                        .await?
                        .map(|r| r.try_get::<Vec<u8>, _>(0))
                        .transpose()?
                });
                match piece {
                    Some(piece) => Ok(Some((Bytes::from(piece), seq + 1))),
                    None => Err(DocumentError::MissingPiece(seq)),
                }
            }
        });
        Ok(Some(first.chain(rest).boxed()))
    }
}

impl DocumentStore for BlobDocuments {
    async fn put(
        &self,
        tx: &mut OwnerTx<'_>,
        id: &DocumentId,
        content: &Bytes,
    ) -> DocumentResult<()> {
        Self::write(tx, id, content.len() as u64, content.as_ref()).await?;
        crate::metrics::document_stored("database", content.len());
        Ok(())
    }

    /// The whole document, read in one statement (one snapshot of the head and its pieces).
    async fn get(&self, id: &DocumentId) -> DocumentResult<Option<Bytes>> {
        let Place { table, key, pieces } = place(id);
        let sql = format!(
            "SELECT content, 0 AS seq, pieces AS n FROM {table} WHERE {key} = $1 \
             UNION ALL SELECT content, seq, 0 AS n FROM {pieces} WHERE {key} = $1 \
             ORDER BY seq"
        );
        // (content, seq, pieces)
        let rows: Vec<(Vec<u8>, i64, i64)> = with_reader!(&self.db, |p| {
            q(&sql)
                .bind(id.owner())
                .fetch_all(p)
                .await?
                .iter()
                .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
                .collect::<sqlx::Result<_>>()?
        });
        let Some(&(_, _, count)) = rows.first() else {
            return Ok(None);
        };
        // Numbered 0 (the head) to count - 1, in order: the first gap is the missing piece.
        if let Some(gap) = (0..count).find(|&i| rows.get(i as usize).map(|r| r.1) != Some(i)) {
            return Err(DocumentError::MissingPiece(gap));
        }
        let mut rows = rows;
        rows.truncate(count as usize);
        Ok(Some(match rows.len() {
            1 => Bytes::from(rows.into_iter().next().map(|r| r.0).unwrap_or_default()),
            _ => {
                let mut all = Vec::with_capacity(rows.iter().map(|r| r.0.len()).sum());
                for (piece, _, _) in rows {
                    all.extend_from_slice(&piece);
                }
                Bytes::from(all)
            }
        }))
    }

    async fn get_stream(&self, id: &DocumentId) -> DocumentResult<Option<DocumentStream>> {
        self.read_stream(id).await
    }

    async fn delete(&self, id: &DocumentId) -> DocumentResult<bool> {
        let Place { table, key, .. } = place(id);
        let sql = format!("DELETE FROM {table} WHERE {key} = $1");
        let n = with_writer!(&self.db, |p| q(&sql)
            .bind(id.owner())
            .execute(p)
            .await?
            .rows_affected());
        Ok(n == 1)
    }

    async fn purge(&self, ids: &[DocumentId]) -> DocumentResult<u64> {
        let mut deleted = 0;
        for kind in [
            DocumentId::Job(String::new()),
            DocumentId::Inbound(String::new()),
            DocumentId::Draft(String::new()),
            DocumentId::Bulk(String::new()),
        ] {
            let Place { table, key, .. } = place(&kind);
            let owners: Vec<&str> = ids
                .iter()
                .filter(|id| place(id) == place(&kind))
                .map(DocumentId::owner)
                .collect();
            for chunk in owners.chunks(PURGE_CHUNK) {
                let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
                let sql = format!("DELETE FROM {table} WHERE {key} IN ({})", marks.join(", "));
                deleted += with_writer!(&self.db, |p| {
                    let mut query = q(&sql);
                    for owner in chunk {
                        query = query.bind(*owner);
                    }
                    query.execute(p).await?.rows_affected()
                });
            }
        }
        Ok(deleted)
    }

    async fn written_before(&self, _before_us: i64) -> DocumentResult<Vec<DocumentId>> {
        Ok(Vec::new())
    }
}

/// Which backend holds the documents (`storage_backend`).
#[derive(Debug, Clone, Default)]
pub enum DocumentBackend {
    /// Blobs in the job database (the default).
    #[default]
    Database,
    /// Files in a private local directory.
    Local(std::path::PathBuf),
    /// An S3-compatible bucket.
    S3(super::object_documents::S3Settings),
}

/// The documents of a [`super::Store`], in the backend it was opened with, sealed with the
/// client-side encryption key when one is configured ([`super::envelope`]).
#[derive(Clone, Debug)]
pub struct Documents {
    backend: Backend,
    key: Option<super::envelope::Keyring>,
    /// For a file or object backend: the database blobs not yet migrated
    /// ([`super::Store::migrate_documents`]), still read, deleted and purged.
    legacy: Option<BlobDocuments>,
    /// Bounds the writes of [`Documents::put_before_commit`].
    writes: std::sync::Arc<tokio::sync::Semaphore>,
}

#[derive(Clone, Debug)]
enum Backend {
    Database(BlobDocuments),
    Local(super::local_documents::LocalDocuments),
    S3(super::object_documents::ObjectDocuments),
}

impl std::fmt::Debug for BlobDocuments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BlobDocuments")
    }
}

impl Documents {
    pub(crate) fn open(
        db: &Db,
        backend: &DocumentBackend,
        key: Option<super::envelope::Keyring>,
    ) -> DocumentResult<Self> {
        let backend = match backend {
            DocumentBackend::Database => Backend::Database(BlobDocuments::new(db.clone())),
            DocumentBackend::Local(dir) => {
                Backend::Local(super::local_documents::LocalDocuments::open(dir)?)
            }
            DocumentBackend::S3(s) => {
                Backend::S3(super::object_documents::ObjectDocuments::open(s)?)
            }
        };
        let legacy =
            (!matches!(backend, Backend::Database(_))).then(|| BlobDocuments::new(db.clone()));
        Ok(Self {
            backend,
            key,
            legacy,
            writes: std::sync::Arc::new(tokio::sync::Semaphore::new(WRITE_CONCURRENCY)),
        })
    }

    /// The backend's name, for logs and health.
    pub fn name(&self) -> &'static str {
        match self.backend {
            Backend::Database(_) => "database",
            Backend::Local(_) => "local",
            Backend::S3(_) => "s3",
        }
    }
}

impl Documents {
    /// Whether a file or object store answers: a read of an id no document has, from the backend itself
    /// (not the database copies a migration has yet to move), so a database outage is not reported as a
    /// storage one. The database backend is the database's ping's business: always `Ok` here.
    pub async fn probe(&self) -> DocumentResult<()> {
        let id = DocumentId::Job("readiness-probe".to_owned());
        match &self.backend {
            Backend::Database(_) => Ok(()),
            Backend::Local(d) => d.get(&id).await.map(drop),
            Backend::S3(d) => d.get(&id).await.map(drop),
        }
    }

    /// Whether documents live outside the database (a migration target).
    pub fn is_external(&self) -> bool {
        !matches!(self.backend, Backend::Database(_))
    }

    /// Writes a document outside any owner transaction: the migration from the database, whose
    /// rows already exist, and a job's document before its row's group commit
    /// ([`Documents::put_before_commit`]). Refused for the database backend (there is nothing to migrate to).
    pub(crate) async fn put_external(
        &self,
        id: &DocumentId,
        content: &Bytes,
    ) -> DocumentResult<()> {
        let sealed;
        let content = match &self.key {
            Some(k) => {
                sealed = Bytes::from(k.seal(&aad(id), content)?);
                &sealed
            }
            None => content,
        };
        self.write_stored(id, content).await
    }

    /// Writes a document moved from the database ([`super::Store::migrate_documents`]) to the file
    /// or object backend: a blob sealed under a key of the ring is stored as it is (sealing it again
    /// would make it open to its sealed bytes); any other is what [`Documents::put_external`] gets.
    pub(crate) async fn put_migrated(&self, id: &DocumentId, blob: &Bytes) -> DocumentResult<()> {
        match &self.key {
            Some(k) if k.holds(blob) => self.write_stored(id, blob).await,
            _ => self.put_external(id, blob).await,
        }
    }

    /// A document not migrated yet from the database, whole and as stored.
    pub(crate) async fn legacy_blob(&self, id: &DocumentId) -> DocumentResult<Option<Bytes>> {
        match &self.legacy {
            Some(l) => l.get(id).await,
            None => Ok(None),
        }
    }

    /// Deletes a document's database copy once it was migrated.
    pub(crate) async fn delete_legacy_blob(&self, id: &DocumentId) -> DocumentResult<bool> {
        match &self.legacy {
            Some(l) => l.delete(id).await,
            None => Ok(false),
        }
    }

    /// Writes what is stored (sealed already, when sealing is on) to the file or object backend.
    async fn write_stored(&self, id: &DocumentId, stored: &Bytes) -> DocumentResult<()> {
        match &self.backend {
            Backend::Database(_) => Err(DocumentError::Config(
                "documents are stored in the database; choose storage_backend = \"local\" or \"s3\" to migrate to"
                    .into(),
            )),
            Backend::Local(d) => d.write(id, stored).await,
            Backend::S3(d) => d.write(id, stored).await,
        }?;
        crate::metrics::document_stored(self.name(), stored.len());
        Ok(())
    }

    /// Writes a job's document to a file or object backend before its row is queued for the
    /// group commit, at most [`WRITE_CONCURRENCY`] at a time per process; `false` (nothing
    /// written) for the database backend, whose documents are put inside the transaction
    /// ([`DocumentStore::put`]). When the write fails the document is deleted again
    /// ([`Documents::purge_failed`]).
    pub(crate) async fn put_before_commit(
        &self,
        id: &DocumentId,
        content: &Bytes,
    ) -> DocumentResult<bool> {
        if !self.is_external() {
            return Ok(false);
        }
        let written = async {
            let _permit = self.write_permit().await?;
            self.put_external(id, content).await
        }
        .await;
        if written.is_err() {
            self.purge_failed(id).await;
        }
        written.map(|()| true)
    }

    /// Deletes the document of a failed write, best effort: a write that failed late (a timeout
    /// after the store took it) may have stored it, and no row will ever name it.
    async fn purge_failed(&self, id: &DocumentId) {
        if let Err(e) = self.purge(std::slice::from_ref(id)).await {
            tracing::warn!(error = %e, "cannot delete the document of a failed write");
        }
    }
}

impl Documents {
    /// One of the [`WRITE_CONCURRENCY`] slots for writing to a file or object backend.
    async fn write_permit(&self) -> DocumentResult<tokio::sync::SemaphorePermit<'_>> {
        self.writes
            .acquire()
            .await
            .map_err(|e| DocumentError::Io(std::io::Error::other(e)))
    }

    /// Where an upload is spooled ([`super::spool::Spool`]): the kind's own directory for the
    /// local backend (so the finished file is renamed into place), `elsewhere` for the others.
    pub(crate) fn spool_dir(
        &self,
        id: &DocumentId,
        elsewhere: &std::path::Path,
    ) -> std::path::PathBuf {
        match &self.backend {
            Backend::Local(d) => d.kind_dir(id),
            _ => elsewhere.to_path_buf(),
        }
    }

    /// [`Documents::put_before_commit`] of a spooled upload (sealed already when sealing is on):
    /// the local backend renames the file into place, S3 uploads it (multipart when it is large).
    /// `false` (nothing written) for the database backend. When the write fails the document is
    /// deleted again ([`Documents::purge_failed`]).
    pub(crate) async fn put_spooled_before_commit(
        &self,
        spooled: super::spool::Spooled,
    ) -> DocumentResult<bool> {
        if !self.is_external() {
            return Ok(false);
        }
        let id = spooled.id().clone();
        let written = self.write_spooled(spooled).await;
        if written.is_err() {
            self.purge_failed(&id).await;
        }
        written
    }

    async fn write_spooled(&self, spooled: super::spool::Spooled) -> DocumentResult<bool> {
        let _permit = self.write_permit().await?;
        let len = spooled.stored_len();
        match &self.backend {
            Backend::Database(_) => return Ok(false),
            Backend::Local(d) => d.place(spooled).await?,
            Backend::S3(d) => match spooled.in_memory() {
                Some(content) => d.write(spooled.id(), content).await?,
                None => d.write_file(spooled.id(), spooled.path(), len).await?,
            },
        }
        crate::metrics::document_stored(self.name(), len as usize);
        Ok(true)
    }

    /// Puts the document that goes with an owner row through `tx` (see [`RowDocument`]).
    pub(crate) async fn put_with_row(
        &self,
        tx: &mut OwnerTx<'_>,
        id: &DocumentId,
        doc: RowDocument<'_>,
    ) -> DocumentResult<()> {
        match doc {
            RowDocument::Held(content) => self.put(tx, id, content).await,
            RowDocument::Spooled(s) => self.put_spooled_in(tx, s).await,
            RowDocument::Written => Ok(()),
        }
    }
}

/// An owner row's document as its insert gets it ([`Documents::put_with_row`]).
#[derive(Clone, Copy)]
pub(crate) enum RowDocument<'a> {
    /// In memory, put with the row.
    Held(&'a Bytes),
    /// Spooled, put with the row (the database backend).
    Spooled(&'a super::spool::Spooled),
    /// Written to a file or object backend before the row ([`Documents::put_spooled_before_commit`]).
    Written,
}

impl Documents {
    /// Stores a spooled upload through `tx`, next to its owner row: the database backend, a piece
    /// at a time from the spool. File and object backends store a spooled upload before the commit
    /// instead ([`Documents::put_spooled_before_commit`]), so it is refused here.
    pub(crate) async fn put_spooled_in(
        &self,
        tx: &mut OwnerTx<'_>,
        spooled: &super::spool::Spooled,
    ) -> DocumentResult<()> {
        match &self.backend {
            Backend::Database(d) => d.put_spooled(tx, spooled).await,
            Backend::Local(_) | Backend::S3(_) => Err(DocumentError::Config(
                "a spooled upload is stored in a file or object backend before its row commits"
                    .into(),
            )),
        }
    }
}

/// Documents written at the same time to a file or object backend: enough to keep many uploads'
/// writes overlapping (one S3 round trip or one fsync each), few enough that a burst does not open
/// hundreds of connections or blocking threads.
pub(crate) const WRITE_CONCURRENCY: usize = 64;

/// Where [`Documents::get_stored`] found a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stored {
    /// In the configured backend.
    Backend,
    /// In the database, not migrated yet to the configured file or object backend.
    Legacy,
}

impl Documents {
    /// The client-side encryption keys, when on.
    pub(crate) fn keyring(&self) -> Option<&super::envelope::Keyring> {
        self.key.as_ref()
    }

    /// The start of a document as stored (sealed when it was sealed), where its key header is, and
    /// where it was found: what a key rotation re-wraps ([`super::Store::rewrap_documents`]). A
    /// database document's first piece (the rest never changes with its key header), a file or
    /// object whole.
    pub(crate) async fn stored_head(
        &self,
        id: &DocumentId,
    ) -> DocumentResult<Option<(Bytes, Stored)>> {
        let stored = match &self.backend {
            Backend::Database(d) => d.head(id).await?,
            Backend::Local(d) => d.get(id).await?,
            Backend::S3(d) => d.get(id).await?,
        };
        if let Some(b) = stored {
            return Ok(Some((b, Stored::Backend)));
        }
        match &self.legacy {
            Some(l) => Ok(l.head(id).await?.map(|b| (b, Stored::Legacy))),
            None => Ok(None),
        }
    }

    /// Replaces what [`Documents::stored_head`] read, where it found it, with a re-wrapped copy of
    /// the same length (a file is renamed over, an object overwritten, a database document's first
    /// piece updated); for the database, false when its row is gone.
    pub(crate) async fn replace_stored_head(
        &self,
        id: &DocumentId,
        at: Stored,
        head: &Bytes,
    ) -> DocumentResult<bool> {
        match (at, &self.backend, &self.legacy) {
            (Stored::Backend, Backend::Database(d), _) | (Stored::Legacy, _, Some(d)) => {
                d.replace_head(id, head).await
            }
            (Stored::Backend, _, _) => self.write_stored(id, head).await.map(|()| true),
            (Stored::Legacy, _, None) => Ok(false),
        }
    }
}

impl Documents {
    /// [`DocumentStore::get_stream`]: decrypted segment by segment when it was sealed (a document
    /// sealed before segments, `FXE1`, is opened whole: it was written under the size limit). Every
    /// backend is read a piece at a time (the database a [`PIECE`] per statement).
    async fn stream(&self, id: &DocumentId) -> DocumentResult<Option<DocumentStream>> {
        use futures::StreamExt;
        let stored = match &self.backend {
            Backend::Database(d) => d.read_stream(id).await?,
            Backend::Local(d) => d.read_stream(id).await?,
            Backend::S3(d) => d.read_stream(id).await?,
        };
        let (stored, at) = match stored {
            Some(s) => (s, Stored::Backend),
            None => match &self.legacy {
                Some(l) => match l.read_stream(id).await? {
                    Some(s) => (s, Stored::Legacy),
                    None => return Ok(None),
                },
                None => return Ok(None),
            },
        };
        Ok(Some(match &self.key {
            None => stored,
            Some(k) => opening(
                stored,
                k.clone(),
                aad(id),
                // Blobs not migrated yet may predate client-side encryption.
                at == Stored::Legacy,
            )
            .boxed(),
        }))
    }
}

/// A whole blob as a stream.
fn one_piece(b: Bytes) -> DocumentStream {
    use futures::StreamExt;
    futures::stream::once(async move { Ok(b) }).boxed()
}

/// Where [`opening`] is in a sealed document.
enum Opening {
    /// Reading the header (what came so far).
    Header(Vec<u8>),
    /// `FXE2`: segment by segment.
    Segments(Box<super::envelope::Opener>),
    /// `FXE1` (or plaintext allowed through): gathered whole, opened at the end.
    Whole(Vec<u8>),
    Done,
}

/// Decrypts a sealed document's stream (see [`Documents::get_stream`]); `plain_ok`: a document that
/// is not sealed at all passes through (a database blob from before encryption was turned on).
fn opening(
    stored: DocumentStream,
    key: super::envelope::Keyring,
    aad: Vec<u8>,
    plain_ok: bool,
) -> impl futures::Stream<Item = DocumentResult<Bytes>> + Send + 'static {
    use super::envelope::{EnvelopeError, HEADER2_LEN};
    use futures::StreamExt;
    futures::stream::unfold(
        (stored, Opening::Header(Vec::new())),
        move |(mut stored, mut state)| {
            let (key, aad) = (key.clone(), aad.clone());
            async move {
                loop {
                    let next = match state {
                        Opening::Done => return None,
                        _ => stored.next().await,
                    };
                    let fail = |e: DocumentError| {
                        Some((Err(e), (futures::stream::empty().boxed(), Opening::Done)))
                    };
                    match (next, &mut state) {
                        (Some(Err(e)), _) => return fail(e),
                        (Some(Ok(piece)), Opening::Header(head)) => {
                            head.extend_from_slice(&piece);
                            if head.len() < 4 {
                                continue;
                            }
                            if !head.starts_with(b"FXE2") {
                                state = Opening::Whole(std::mem::take(head));
                                continue;
                            }
                            if head.len() < HEADER2_LEN {
                                continue;
                            }
                            let mut opener = match key.opener(&aad, &head[..HEADER2_LEN]) {
                                Ok(o) => o,
                                Err(e) => return fail(e.into()),
                            };
                            let mut out = Vec::with_capacity(head.len());
                            if let Err(e) = opener.push(&head[HEADER2_LEN..], &mut out) {
                                return fail(e.into());
                            }
                            state = Opening::Segments(Box::new(opener));
                            if !out.is_empty() {
                                return Some((Ok(Bytes::from(out)), (stored, state)));
                            }
                        }
                        (Some(Ok(piece)), Opening::Segments(opener)) => {
                            let mut out = Vec::with_capacity(piece.len());
                            if let Err(e) = opener.push(&piece, &mut out) {
                                return fail(e.into());
                            }
                            if !out.is_empty() {
                                return Some((Ok(Bytes::from(out)), (stored, state)));
                            }
                        }
                        (Some(Ok(piece)), Opening::Whole(all)) => all.extend_from_slice(&piece),
                        (None, Opening::Segments(_)) => {
                            let Opening::Segments(opener) =
                                std::mem::replace(&mut state, Opening::Done)
                            else {
                                unreachable!("matched above")
                            };
                            let mut out = Vec::new();
                            return match opener.finish(&mut out) {
                                Ok(()) => Some((Ok(Bytes::from(out)), (stored, Opening::Done))),
                                Err(e) => fail(e.into()),
                            };
                        }
                        (None, Opening::Header(all) | Opening::Whole(all)) => {
                            let all = std::mem::take(all);
                            let opened = match key.open(&aad, &all) {
                                Err(EnvelopeError::NotEncrypted) if plain_ok => Ok(all),
                                r => r,
                            };
                            return match opened {
                                Ok(plain) => {
                                    Some((Ok(Bytes::from(plain)), (stored, Opening::Done)))
                                }
                                Err(e) => fail(e.into()),
                            };
                        }
                        (_, Opening::Done) => return None,
                    }
                }
            }
        },
    )
}

impl BlobDocuments {
    /// A document's first piece (its head row's content).
    async fn head(&self, id: &DocumentId) -> DocumentResult<Option<Bytes>> {
        let Place { table, key, .. } = place(id);
        let sql = format!("SELECT content FROM {table} WHERE {key} = $1");
        Ok(with_reader!(&self.db, |p| {
            q(&sql)
                .bind(id.owner())
                .fetch_optional(p)
                .await?
                .map(|r| r.try_get::<Vec<u8>, _>(0).map(Bytes::from))
                .transpose()?
        }))
    }

    /// Updates a document's first piece, leaving the others; false when there is no document.
    async fn replace_head(&self, id: &DocumentId, head: &Bytes) -> DocumentResult<bool> {
        let Place { table, key, .. } = place(id);
        let sql = format!("UPDATE {table} SET content = $1 WHERE {key} = $2");
        let n = with_writer!(&self.db, |p| q(&sql)
            .bind(head.as_ref())
            .bind(id.owner())
            .execute(p)
            .await?
            .rows_affected());
        Ok(n == 1)
    }
}

/// The associated data of a sealed document: its kind and id, so it opens only as itself.
pub(crate) fn aad(id: &DocumentId) -> Vec<u8> {
    format!("{}/{}", id.kind_dir(), id.owner()).into_bytes()
}

impl DocumentStore for Documents {
    async fn get_stream(&self, id: &DocumentId) -> DocumentResult<Option<DocumentStream>> {
        self.stream(id).await
    }

    async fn put(
        &self,
        tx: &mut OwnerTx<'_>,
        id: &DocumentId,
        content: &Bytes,
    ) -> DocumentResult<()> {
        let sealed;
        let content = match &self.key {
            Some(k) => {
                sealed = Bytes::from(k.seal(&aad(id), content)?);
                &sealed
            }
            None => content,
        };
        match &self.backend {
            Backend::Database(d) => d.put(tx, id, content).await,
            Backend::Local(_) | Backend::S3(_) => self.write_stored(id, content).await,
        }
    }

    async fn get(&self, id: &DocumentId) -> DocumentResult<Option<Bytes>> {
        let stored = match &self.backend {
            Backend::Database(d) => d.get(id).await?,
            Backend::Local(d) => d.get(id).await?,
            Backend::S3(d) => d.get(id).await?,
        };
        if stored.is_none()
            && let Some(legacy) = &self.legacy
            && let Some(blob) = legacy.get(id).await?
        {
            // Not migrated yet; it may predate client-side encryption.
            return match &self.key {
                Some(k) => match k.open(&aad(id), &blob) {
                    Err(super::envelope::EnvelopeError::NotEncrypted) => Ok(Some(blob)),
                    r => Ok(Some(Bytes::from(r?))),
                },
                None => Ok(Some(blob)),
            };
        }
        match (&self.key, stored) {
            (Some(k), Some(sealed)) => Ok(Some(Bytes::from(k.open(&aad(id), &sealed)?))),
            (_, stored) => Ok(stored),
        }
    }

    async fn delete(&self, id: &DocumentId) -> DocumentResult<bool> {
        let deleted = match &self.backend {
            Backend::Database(d) => d.delete(id).await?,
            Backend::Local(d) => d.delete(id).await?,
            Backend::S3(d) => d.delete(id).await?,
        };
        let legacy = match &self.legacy {
            Some(l) => l.delete(id).await?,
            None => false,
        };
        Ok(deleted || legacy)
    }

    async fn purge(&self, ids: &[DocumentId]) -> DocumentResult<u64> {
        let purged = match &self.backend {
            Backend::Database(d) => d.purge(ids).await?,
            Backend::Local(d) => d.purge(ids).await?,
            Backend::S3(d) => d.purge(ids).await?,
        };
        let legacy = match &self.legacy {
            Some(l) => l.purge(ids).await?,
            None => 0,
        };
        Ok(purged + legacy)
    }

    async fn written_before(&self, before_us: i64) -> DocumentResult<Vec<DocumentId>> {
        match &self.backend {
            Backend::Database(d) => d.written_before(before_us).await,
            Backend::Local(d) => d.written_before(before_us).await,
            Backend::S3(d) => d.written_before(before_us).await,
        }
    }
}
