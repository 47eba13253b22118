//! The system of record: jobs, their documents, API keys, inbound faxes and agents, in SQLite
//! (embedded default: WAL, one writer connection, many readers) or PostgreSQL (several API
//! instances). Plain runtime queries (no compile-time database); `$n` placeholders work on both.
//!
//! One concern per module, each reached through a view of the [`Store`]: [`Store::jobs`],
//! [`Store::keys`], [`Store::inbound`], [`Store::agents`], [`Store::retention`], and the documents
//! behind the [`DocumentStore`] seam ([`Store::documents`]; see [`documents`] for how a document
//! and its row commit together). Job inserts are group-committed (see [`batch`]) so one fsync
//! covers many uploads.

mod agents;
mod batch;
mod bulk;
mod db;
pub mod documents;
mod drafts;
pub mod envelope;
mod inbound;
mod inbox;
mod jobs;
mod keys;
pub mod local_documents;
mod login_counters;
mod mailboxes;
mod migrate;
mod models;
pub mod object_documents;
mod outbox;
mod provider_events;
mod retention;
mod rewrap;
mod sessions;
pub mod spool;
mod users;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use tokio::sync::mpsc;

pub use agents::Agents;
pub use bulk::{
    BULK_CANCELLED, BULK_DONE, BULK_DRAFT, BULK_PAUSED, BULK_RUNNING, Bulk, BulkBatch, BulkCount,
    BulkRecipient, NewRecipient,
};
pub(crate) use db::Db;
use db::with_reader;
pub use documents::{
    BlobDocuments, DocumentBackend, DocumentError, DocumentId, DocumentResult, DocumentStore,
    DocumentStream, Documents, OwnerTx,
};
pub use drafts::{Draft, Drafts};
pub use envelope::{EnvelopeError, Keyring, MasterKey};
pub use inbound::InboundFaxes;
pub use inbox::InboxReads;
pub use jobs::{
    Jobs, LineFilter, QueueStats, STAGE_CANCELLED, STAGE_COMPLETED, STAGE_FAILED, STAGE_FAILOVER,
    STAGE_REQUEUED, StatusCount,
};
pub use keys::Keys;
pub use login_counters::{LoginCounter, LoginCounters};
pub use mailboxes::{MAX_MAILBOXES, Mailbox, Mailboxes};
pub use migrate::Migrated;
pub use models::*;
pub use object_documents::{
    DEFAULT_TIMEOUT as DEFAULT_S3_TIMEOUT, S3Settings, ServerSideEncryption,
};
pub use outbox::Outbox;
pub use provider_events::ProviderEvents;
pub use retention::Retention;
pub use rewrap::Rewrapped;
pub use sessions::{ConsoleSession, NewSession, Sessions};
pub use users::{ConsoleUser, Users};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL (expected sqlite:// or postgres://)")]
    BadUrl,
    #[error("the storage writer has stopped")]
    WriterGone,
    #[error("cannot prepare the database directory: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Documents(#[from] DocumentError),
    /// A batch whose document store failed (the error is shared by every job of the batch).
    #[error("document storage failed: {0}")]
    DocumentsFailed(String),
}

impl StoreError {
    /// The document backend (a disk, a bucket) failed rather than the database: the client may
    /// retry (503).
    pub fn is_document_storage(&self) -> bool {
        matches!(
            self,
            StoreError::Documents(DocumentError::Io(_) | DocumentError::Object(_))
                | StoreError::DocumentsFailed(_)
        )
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Clone)]
pub struct Store {
    pub(crate) db: Db,
    batch_tx: mpsc::Sender<batch::Request>,
    documents: Documents,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.db {
            Db::Sqlite { .. } => "Store(sqlite)",
            Db::Postgres(_) => "Store(postgres)",
        })
    }
}

impl Store {
    /// Connects and migrates. `sqlite://path` (created if missing) or `postgres://...`; documents
    /// in the database.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        Self::connect_with(url, &DocumentBackend::Database).await
    }

    /// [`Store::connect`] with the documents in `backend`.
    pub async fn connect_with(url: &str, backend: &DocumentBackend) -> StoreResult<Self> {
        Self::connect_encrypted(url, backend, None).await
    }

    /// [`Store::connect_with`], sealing every document with `key`'s current key when given
    /// ([`envelope`]: client-side encryption at rest).
    pub async fn connect_encrypted(
        url: &str,
        backend: &DocumentBackend,
        key: Option<Keyring>,
    ) -> StoreResult<Self> {
        let db = if let Some(rest) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            let path = rest.split('?').next().unwrap_or(rest);
            if let Some(parent) = Path::new(path).parent()
                && !parent.as_os_str().is_empty()
                && !parent.exists()
            {
                crate::private_fs::private_dir(parent)?;
            }
            // The database holds every document: 0600, and so its -wal and -shm.
            crate::private_fs::private_sqlite(Path::new(path))?;
            let opts = SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // FULL: every commit is fsynced, so an accepted job survives a power cut.
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true);
            let writer = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(opts.clone())
                .await?;
            sqlx::migrate!("./migrations/sqlite").run(&writer).await?;
            let reader = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(opts.read_only(true))
                .await?;
            Db::Sqlite { writer, reader }
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .connect_with(opts)
                .await?;
            sqlx::migrate!("./migrations/postgres").run(&pool).await?;
            Db::Postgres(pool)
        } else {
            return Err(StoreError::BadUrl);
        };
        let documents = Documents::open(&db, backend, key)?;
        let batch_tx = batch::spawn(db.clone(), documents.clone());
        Ok(Self {
            db,
            batch_tx,
            documents,
        })
    }

    pub fn jobs(&self) -> Jobs<'_> {
        Jobs(self)
    }

    pub fn keys(&self) -> Keys<'_> {
        Keys(self)
    }

    pub fn inbound(&self) -> InboundFaxes<'_> {
        InboundFaxes(self)
    }

    pub fn agents(&self) -> Agents<'_> {
        Agents(self)
    }

    pub fn provider_events(&self) -> ProviderEvents<'_> {
        ProviderEvents(self)
    }

    pub fn retention(&self) -> Retention<'_> {
        Retention(self)
    }

    /// The web console's users.
    pub fn users(&self) -> Users<'_> {
        Users(self)
    }

    /// Bulk sends and their durable queue.
    pub fn bulk(&self) -> Bulk<'_> {
        Bulk(self)
    }

    /// The console's Send drafts.
    pub fn drafts(&self) -> Drafts<'_> {
        Drafts(self)
    }

    /// The console's outbox search.
    pub fn outbox(&self) -> Outbox<'_> {
        Outbox(self)
    }

    /// The console's read marks on received faxes.
    pub fn inbox(&self) -> InboxReads<'_> {
        InboxReads(self)
    }

    /// The web console's sessions.
    pub fn sessions(&self) -> Sessions<'_> {
        Sessions(self)
    }

    pub fn login_counters(&self) -> LoginCounters<'_> {
        LoginCounters(self)
    }

    pub fn mailboxes(&self) -> Mailboxes<'_> {
        Mailboxes(self)
    }

    /// The documents, seen only through [`DocumentStore`] so the backend can change.
    pub fn documents(&self) -> &impl DocumentStore {
        &self.documents
    }

    /// A temporary file for an upload of document `id` (a job's, or a received fax's), at most
    /// `limit` bytes ([`spool::Spool`]): in the local backend's directory, or in `elsewhere` (a
    /// private directory of the API's) for the other backends.
    pub async fn spool(
        &self,
        id: DocumentId,
        elsewhere: &std::path::Path,
        limit: u64,
    ) -> documents::DocumentResult<spool::Spool> {
        let dir = self.documents.spool_dir(&id, elsewhere);
        spool::Spool::create(&self.documents, &dir, id, limit).await
    }

    /// Which backend holds the documents (`database`, `local`, `s3`).
    pub fn documents_backend(&self) -> &'static str {
        self.documents.name()
    }

    /// Whether the document storage answers (see [`documents::Documents::probe`]).
    pub async fn documents_probe(&self) -> documents::DocumentResult<()> {
        self.documents.probe().await
    }

    pub fn backend_name(&self) -> &'static str {
        match self.db {
            Db::Sqlite { .. } => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    /// Closes the pools (after in-flight writes are done).
    pub async fn close(&self) {
        match &self.db {
            Db::Sqlite { writer, reader } => {
                reader.close().await;
                writer.close().await;
            }
            Db::Postgres(p) => p.close().await,
        }
    }

    pub async fn ping(&self) -> bool {
        with_reader!(&self.db, |p| sqlx::query("SELECT 1")
            .execute(p)
            .await
            .is_ok())
    }
}
