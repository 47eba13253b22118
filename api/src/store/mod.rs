//! The system of record: jobs, their documents, API keys, inbound faxes and agents, in SQLite
//! (embedded default: WAL, one writer connection, many readers) or PostgreSQL (several API
//! instances). Plain runtime queries (no compile-time database); `$n` placeholders work on both.
//!
//! Documents live in the database next to their job row, written in the same transaction: an
//! accepted job is never without its document, every API instance can serve every document to
//! any agent, and job inserts are group-committed (see [`batch`]) so one fsync covers many
//! uploads.

mod batch;
mod documents;
mod models;
mod retention;
mod views;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Row, postgres::PgRow, sqlite::SqliteRow};
use tokio::sync::{mpsc, oneshot};

pub use documents::{
    BlobDocuments, DocumentError, DocumentId, DocumentResult, DocumentStore, OwnerTx,
};
pub use models::*;
pub use views::{Agents, InboundFaxes, Jobs, Keys, Retention};

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
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Clone)]
pub(crate) enum Db {
    /// One writer connection (SQLite allows one writer; queueing here avoids busy errors) and a
    /// pool of readers (WAL lets them run alongside the writer).
    Sqlite {
        writer: SqlitePool,
        reader: SqlitePool,
    },
    Postgres(PgPool),
}

/// Runs `$body` with `$p` bound to the writer pool of either backend.
macro_rules! with_writer {
    ($db:expr, |$p:ident| $body:expr) => {
        match $db {
            $crate::store::Db::Sqlite { writer: $p, .. } => $body,
            $crate::store::Db::Postgres($p) => $body,
        }
    };
}
/// Runs `$body` with `$p` bound to a reader pool of either backend.
macro_rules! with_reader {
    ($db:expr, |$p:ident| $body:expr) => {
        match $db {
            $crate::store::Db::Sqlite { reader: $p, .. } => $body,
            $crate::store::Db::Postgres($p) => $body,
        }
    };
}
pub(crate) use {with_reader, with_writer};

pub(crate) const JOB_COLS: &str = "id, to_number, file_name, doc_kind, doc_size, doc_sha256, status, error, pages, \
    pages_sent, backend, provider_sid, owner_key_id, attempts, lease_id, lease_agent, lease_expires_at, \
    created_at, updated_at, bitrate, fax_mode, remote_ident, stage";
const KEY_COLS: &str =
    "key_id, key_hash, name, owner, scopes, note, created_at, last_used_at, expires_at, revoked_at";
const INBOUND_COLS: &str = "id, from_number, to_number, status, backend, provider_sid, pages, size_bytes, \
    sha256, mailbox_label, error, created_at, received_at, updated_at";

/// Row decoding shared by both backends.
pub(crate) trait FromDbRow: Sized {
    fn from_sqlite(r: &SqliteRow) -> sqlx::Result<Self>;
    fn from_pg(r: &PgRow) -> sqlx::Result<Self>;
}

macro_rules! impl_from_row {
    ($t:ident { $($f:ident),* $(,)? }) => {
        impl FromDbRow for $t {
            fn from_sqlite(r: &SqliteRow) -> sqlx::Result<Self> {
                Ok($t { $($f: r.try_get(stringify!($f))?),* })
            }
            fn from_pg(r: &PgRow) -> sqlx::Result<Self> {
                Ok($t { $($f: r.try_get(stringify!($f))?),* })
            }
        }
    };
}
impl_from_row!(Job {
    id,
    to_number,
    file_name,
    doc_kind,
    doc_size,
    doc_sha256,
    status,
    error,
    pages,
    pages_sent,
    backend,
    provider_sid,
    owner_key_id,
    attempts,
    lease_id,
    lease_agent,
    lease_expires_at,
    created_at,
    updated_at,
    bitrate,
    fax_mode,
    remote_ident,
    stage
});
impl_from_row!(ApiKeyRow {
    key_id,
    key_hash,
    name,
    owner,
    scopes,
    note,
    created_at,
    last_used_at,
    expires_at,
    revoked_at
});
impl_from_row!(Inbound {
    id,
    from_number,
    to_number,
    status,
    backend,
    provider_sid,
    pages,
    size_bytes,
    sha256,
    mailbox_label,
    error,
    created_at,
    received_at,
    updated_at
});
impl_from_row!(AgentRow {
    agent_id,
    first_seen_at,
    last_seen_at
});

/// Job statuses that will not change any more.
pub const FINAL_STATUSES: [&str; 4] = ["SUCCESS", "FAILED", "failed", "cancelled"];

/// The `stage` a job shows once the agent's result is in: delivered, failed for good, or back in the queue.
pub const STAGE_COMPLETED: &str = "completed";
pub const STAGE_FAILED: &str = "failed";
pub const STAGE_RETRY: &str = "retry scheduled";
pub const STAGE_CANCELLED: &str = "cancelled";

#[derive(Clone)]
pub struct Store {
    pub(crate) db: Db,
    batch_tx: mpsc::Sender<batch::Request>,
    documents: BlobDocuments,
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
    /// Connects and migrates. `sqlite://path` (created if missing) or `postgres://...`.
    pub async fn connect(url: &str) -> StoreResult<Self> {
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
        let documents = BlobDocuments::new(db.clone());
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

    pub fn retention(&self) -> Retention<'_> {
        Retention(self)
    }

    /// The documents, seen only through [`DocumentStore`] so the backend can change.
    pub fn documents(&self) -> &impl DocumentStore {
        &self.documents
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

    async fn one<T: FromDbRow>(&self, sql: &str, args: Args) -> StoreResult<Option<T>> {
        Ok(with_reader!(&self.db, |p| {
            match args.bind(q(sql)).fetch_optional(p).await? {
                Some(r) => Some(row_of::<T, _>(&r)?),
                None => None,
            }
        }))
    }

    async fn many<T: FromDbRow>(&self, sql: &str, args: Args) -> StoreResult<Vec<T>> {
        Ok(with_reader!(&self.db, |p| {
            let rows = args.bind(q(sql)).fetch_all(p).await?;
            rows.iter()
                .map(row_of::<T, _>)
                .collect::<sqlx::Result<Vec<_>>>()?
        }))
    }

    async fn write_one<T: FromDbRow>(&self, sql: &str, args: Args) -> StoreResult<Option<T>> {
        Ok(with_writer!(&self.db, |p| {
            match args.bind(q(sql)).fetch_optional(p).await? {
                Some(r) => Some(row_of::<T, _>(&r)?),
                None => None,
            }
        }))
    }

    async fn exec(&self, sql: &str, args: Args) -> StoreResult<u64> {
        Ok(with_writer!(&self.db, |p| args
            .bind(q(sql))
            .execute(p)
            .await?
            .rows_affected()))
    }

    async fn count(&self, sql: &str, args: Args) -> StoreResult<i64> {
        Ok(with_reader!(&self.db, |p| {
            let r = args.bind(q(sql)).fetch_one(p).await?;
            r.try_get::<i64, _>(0)?
        }))
    }

    // ---------------------------------------------------------------- jobs

    /// Inserts a job and its document durably (group commit). With an idempotency key that is
    /// already taken, returns the existing job instead.
    pub async fn insert_job(&self, job: NewJob) -> StoreResult<InsertOutcome> {
        let (tx, rx) = oneshot::channel();
        self.batch_tx
            .send(batch::Request { job, reply: tx })
            .await
            .map_err(|_| StoreError::WriterGone)?;
        rx.await.map_err(|_| StoreError::WriterGone)?
    }

    pub async fn get_job(&self, id: &str) -> StoreResult<Option<Job>> {
        self.one(
            &format!("SELECT {JOB_COLS} FROM fax_jobs WHERE id = $1"),
            Args::new().s(id),
        )
        .await
    }

    pub async fn job_by_idempotency_key(&self, key: &str) -> StoreResult<Option<Job>> {
        self.one(
            &format!("SELECT {JOB_COLS} FROM fax_jobs WHERE idempotency_key = $1"),
            Args::new().s(key),
        )
        .await
    }

    /// Newest first; `status` and `to_number` filter exactly.
    pub async fn list_jobs(&self, f: &JobFilter) -> StoreResult<(i64, Vec<Job>)> {
        let mut cond = String::from("WHERE 1=1");
        let mut args = Args::new();
        let mut n = 0;
        if let Some(o) = &f.owner_key_id {
            n += 1;
            cond += &format!(" AND owner_key_id = ${n}");
            args = args.s(o);
        }
        if let Some(s) = &f.status {
            n += 1;
            cond += &format!(" AND status = ${n}");
            args = args.s(s);
        }
        if let Some(t) = &f.to_number {
            n += 1;
            cond += &format!(" AND to_number = ${n}");
            args = args.s(t);
        }
        let total = self
            .count(
                &format!("SELECT COUNT(*) FROM fax_jobs {cond}"),
                args.clone(),
            )
            .await?;
        let sql = format!(
            "SELECT {JOB_COLS} FROM fax_jobs {cond} ORDER BY created_at DESC, id LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        let jobs = self.many(&sql, args.i(f.limit).i(f.offset)).await?;
        Ok((total, jobs))
    }

    pub async fn job_document(&self, id: &str) -> StoreResult<Option<Vec<u8>>> {
        Ok(with_reader!(&self.db, |p| {
            sqlx::query("SELECT content FROM fax_documents WHERE job_id = $1")
                .bind(id)
                .fetch_optional(p)
                .await?
                .map(|r| r.try_get::<Vec<u8>, _>(0))
                .transpose()?
        }))
    }

    /// Cancels a job that is still queued. The caller checks ownership first.
    pub async fn cancel_job(&self, id: &str, now: i64) -> StoreResult<CancelOutcome> {
        let done: Option<Job> = self
            .write_one(
                &format!(
                    "UPDATE fax_jobs SET status = 'cancelled', stage = '{STAGE_CANCELLED}', updated_at = $2 \
                     WHERE id = $1 AND status = 'queued' RETURNING {JOB_COLS}"
                ),
                Args::new().s(id).i(now),
            )
            .await?;
        if let Some(j) = done {
            return Ok(CancelOutcome::Cancelled(j));
        }
        Ok(match self.get_job(id).await? {
            Some(j) => CancelOutcome::NotQueued(j),
            None => CancelOutcome::NotFound,
        })
    }

    /// Returns jobs whose lease expired to the queue, or fails them when no attempts are left.
    /// Returns the number of jobs touched.
    pub async fn requeue_expired(&self, now: i64, max_attempts: u32) -> StoreResult<u64> {
        self.exec(
            &format!("UPDATE fax_jobs SET \
               status = CASE WHEN attempts >= $2 THEN 'FAILED' ELSE 'queued' END, \
               error = CASE WHEN attempts >= $2 THEN 'agent lease expired; no attempts left' ELSE error END, \
               stage = CASE WHEN attempts >= $2 THEN '{STAGE_FAILED}' ELSE stage END, \
               lease_id = NULL, lease_agent = NULL, lease_expires_at = NULL, updated_at = $1 \
             WHERE status = 'in_progress' AND lease_expires_at < $1"),
            Args::new().i(now).i(i64::from(max_attempts)),
        )
        .await
    }

    /// Leases the oldest due job to `agent_id` until `expires`. Safe under concurrency: on
    /// PostgreSQL the candidate row is locked with `FOR UPDATE SKIP LOCKED`; on SQLite the single
    /// writer connection runs the conditional UPDATE atomically.
    pub async fn lease_next(
        &self,
        agent_id: &str,
        lease_id: &str,
        now: i64,
        expires: i64,
    ) -> StoreResult<Option<Job>> {
        let lock = match self.db {
            Db::Sqlite { .. } => "",
            Db::Postgres(_) => "FOR UPDATE SKIP LOCKED",
        };
        let sql = format!(
            "UPDATE fax_jobs SET status = 'in_progress', lease_id = $1, lease_agent = $2, \
               lease_expires_at = $3, attempts = attempts + 1, updated_at = $4 \
             WHERE status = 'queued' AND id = (SELECT id FROM fax_jobs \
               WHERE status = 'queued' AND next_attempt_at <= $4 \
               ORDER BY created_at, id LIMIT 1 {lock}) \
             RETURNING {JOB_COLS}"
        );
        self.write_one(&sql, Args::new().s(lease_id).s(agent_id).i(expires).i(now))
            .await
    }

    /// Extends a lease and records progress; false when the lease is no longer held.
    pub async fn renew_lease(
        &self,
        job_id: &str,
        lease_id: &str,
        now: i64,
        expires: i64,
        p: &JobProgress,
    ) -> StoreResult<bool> {
        let n = self
            .exec(
                "UPDATE fax_jobs SET lease_expires_at = $3, updated_at = $4, \
                   pages_sent = COALESCE($5, pages_sent), pages = COALESCE($6, pages), \
                   stage = COALESCE($7, stage) \
                 WHERE id = $1 AND lease_id = $2 AND status = 'in_progress'",
                Args::new()
                    .s(job_id)
                    .s(lease_id)
                    .i(expires)
                    .i(now)
                    .oi(p.pages_sent)
                    .oi(p.pages_total)
                    .os(p.stage.as_deref()),
            )
            .await?;
        Ok(n == 1)
    }

    /// Applies an agent's final result; `None` when the lease is no longer held.
    ///
    /// The result's `pages` are the pages transferred: they go to `pages_sent`, while `pages` keeps the
    /// document's count (filled from a success only when it was unknown). A success reported without a count
    /// (or with 0) delivered the whole document. `stage` ends with the job's final
    /// phase (`completed`, `failed`, or `retry scheduled` when the job goes back to the queue), so a finished
    /// job never shows a call phase of a call that is over.
    pub async fn finish_job(
        &self,
        job_id: &str,
        lease_id: &str,
        r: &JobResult,
        now: i64,
        max_attempts: u32,
        retry_at: i64,
    ) -> StoreResult<Option<Job>> {
        // A retryable failure goes back to the queue while attempts remain.
        let sql = format!(
            "UPDATE fax_jobs SET \
               status = CASE WHEN $3 = 1 AND attempts < $8 THEN 'queued' ELSE $4 END, \
               next_attempt_at = CASE WHEN $3 = 1 AND attempts < $8 THEN $9 ELSE next_attempt_at END, \
               error = $5, provider_sid = COALESCE($7, provider_sid), \
               pages = CASE WHEN pages IS NULL AND $4 = 'SUCCESS' THEN NULLIF($6, 0) ELSE pages END, \
               pages_sent = CASE WHEN $4 = 'SUCCESS' THEN COALESCE(NULLIF($6, 0), pages) \
                 ELSE COALESCE($6, pages_sent, 0) END, \
               stage = CASE WHEN $3 = 1 AND attempts < $8 THEN '{STAGE_RETRY}' \
                 WHEN $4 = 'SUCCESS' THEN '{STAGE_COMPLETED}' ELSE '{STAGE_FAILED}' END, \
               bitrate = COALESCE($11, bitrate), fax_mode = COALESCE($12, fax_mode), \
               remote_ident = COALESCE($13, remote_ident), \
               lease_id = NULL, lease_agent = NULL, lease_expires_at = NULL, updated_at = $10 \
             WHERE id = $1 AND lease_id = $2 AND status = 'in_progress' RETURNING {JOB_COLS}"
        );
        self.write_one(
            &sql,
            Args::new()
                .s(job_id)
                .s(lease_id)
                .i(i64::from(r.retry))
                .s(&r.status)
                .os(r.error.as_deref())
                .oi(r.pages)
                .os(r.provider_sid.as_deref())
                .i(i64::from(max_attempts))
                .i(retry_at)
                .i(now)
                .oi(r.bitrate)
                .os(r.fax_mode.as_deref())
                .os(r.remote_ident.as_deref()),
        )
        .await
    }

    // ---------------------------------------------------------------- keys

    pub async fn insert_key(&self, k: &ApiKeyRow) -> StoreResult<()> {
        self.exec(
            "INSERT INTO api_keys (key_id, key_hash, name, owner, scopes, note, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            Args::new()
                .s(&k.key_id)
                .s(&k.key_hash)
                .os(k.name.as_deref())
                .os(k.owner.as_deref())
                .s(&k.scopes)
                .os(k.note.as_deref())
                .i(k.created_at)
                .oi(k.expires_at),
        )
        .await?;
        Ok(())
    }

    pub async fn get_key(&self, key_id: &str) -> StoreResult<Option<ApiKeyRow>> {
        self.one(
            &format!("SELECT {KEY_COLS} FROM api_keys WHERE key_id = $1"),
            Args::new().s(key_id),
        )
        .await
    }

    pub async fn list_keys(&self) -> StoreResult<Vec<ApiKeyRow>> {
        self.many(
            &format!("SELECT {KEY_COLS} FROM api_keys ORDER BY created_at"),
            Args::new(),
        )
        .await
    }

    pub async fn count_keys(&self) -> StoreResult<i64> {
        self.count("SELECT COUNT(*) FROM api_keys", Args::new())
            .await
    }

    /// True when an active key was revoked.
    pub async fn revoke_key(&self, key_id: &str, now: i64) -> StoreResult<bool> {
        let n = self
            .exec(
                "UPDATE api_keys SET revoked_at = $2 WHERE key_id = $1 AND revoked_at IS NULL",
                Args::new().s(key_id).i(now),
            )
            .await?;
        Ok(n == 1)
    }

    /// Replaces the secret hash of an active key; the old secret stops working at once.
    pub async fn rotate_key(&self, key_id: &str, new_hash: &str) -> StoreResult<bool> {
        let n = self
            .exec(
                "UPDATE api_keys SET key_hash = $2 WHERE key_id = $1 AND revoked_at IS NULL",
                Args::new().s(key_id).s(new_hash),
            )
            .await?;
        Ok(n == 1)
    }

    pub async fn touch_key(&self, key_id: &str, now: i64) -> StoreResult<()> {
        self.exec(
            "UPDATE api_keys SET last_used_at = $2 WHERE key_id = $1",
            Args::new().s(key_id).i(now),
        )
        .await?;
        Ok(())
    }

    // ---------------------------------------------------------------- inbound

    /// Stores an inbound fax with its PDF in one transaction. A repeat of the same
    /// `(backend, provider_sid)` returns the existing row.
    pub async fn insert_inbound(&self, row: &Inbound, pdf: &bytes::Bytes) -> StoreResult<Inbound> {
        if let Some(sid) = &row.provider_sid
            && let Some(existing) = self
                .one::<Inbound>(
                    &format!(
                        "SELECT {INBOUND_COLS} FROM inbound_faxes WHERE backend = $1 AND provider_sid = $2"
                    ),
                    Args::new().s(&row.backend).s(sid),
                )
                .await?
        {
            return Ok(existing);
        }
        let insert = "INSERT INTO inbound_faxes (id, from_number, to_number, status, backend, provider_sid, \
              pages, size_bytes, sha256, mailbox_label, error, created_at, received_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
             ON CONFLICT (backend, provider_sid) DO NOTHING";
        let args = Args::new()
            .s(&row.id)
            .os(row.from_number.as_deref())
            .os(row.to_number.as_deref())
            .s(&row.status)
            .s(&row.backend)
            .os(row.provider_sid.as_deref())
            .oi(row.pages)
            .oi(row.size_bytes)
            .os(row.sha256.as_deref())
            .os(row.mailbox_label.as_deref())
            .os(row.error.as_deref())
            .i(row.created_at)
            .i(row.received_at)
            .i(row.updated_at);
        let doc = DocumentId::Inbound(row.id.clone());
        let written: StoreResult<bool> = with_writer!(&self.db, |p| async {
            let mut tx = p.begin().await?;
            let n = args
                .bind(q(insert))
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n == 1 {
                self.documents
                    .put(&mut OwnerTx::from(&mut *tx), &doc, pdf)
                    .await?;
            }
            tx.commit().await?;
            Ok(n == 1)
        }
        .await);
        // A document put outside the database does not roll back with the row.
        let inserted = match written {
            Ok(inserted) => inserted,
            Err(e) => {
                if let Err(cleanup) = self.documents.delete(&doc).await {
                    tracing::warn!(error = %cleanup, "cannot delete the document of a failed inbound insert");
                }
                return Err(e);
            }
        };
        if inserted {
            return Ok(row.clone());
        }
        // Lost a race with an identical upload: return the winner.
        let sid = row.provider_sid.as_deref().unwrap_or_default();
        self.one::<Inbound>(
            &format!(
                "SELECT {INBOUND_COLS} FROM inbound_faxes WHERE backend = $1 AND provider_sid = $2"
            ),
            Args::new().s(&row.backend).s(sid),
        )
        .await?
        .ok_or(StoreError::Db(sqlx::Error::RowNotFound))
    }

    pub async fn get_inbound(&self, id: &str) -> StoreResult<Option<Inbound>> {
        self.one(
            &format!("SELECT {INBOUND_COLS} FROM inbound_faxes WHERE id = $1"),
            Args::new().s(id),
        )
        .await
    }

    pub async fn list_inbound(&self, f: &InboundFilter) -> StoreResult<Vec<Inbound>> {
        let mut cond = String::from("WHERE 1=1");
        let mut args = Args::new();
        let mut n = 0;
        for (col, val) in [
            ("to_number", &f.to_number),
            ("status", &f.status),
            ("mailbox_label", &f.mailbox),
        ] {
            if let Some(v) = val {
                n += 1;
                cond += &format!(" AND {col} = ${n}");
                args = args.s(v);
            }
        }
        let sql = format!(
            "SELECT {INBOUND_COLS} FROM inbound_faxes {cond} ORDER BY received_at DESC, id LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        self.many(&sql, args.i(f.limit).i(f.offset)).await
    }

    pub async fn inbound_document(&self, id: &str) -> StoreResult<Option<Vec<u8>>> {
        Ok(with_reader!(&self.db, |p| {
            sqlx::query("SELECT content FROM inbound_documents WHERE inbound_id = $1")
                .bind(id)
                .fetch_optional(p)
                .await?
                .map(|r| r.try_get::<Vec<u8>, _>(0))
                .transpose()?
        }))
    }

    // ---------------------------------------------------------------- agents

    pub async fn touch_agent(&self, agent_id: &str, now: i64) -> StoreResult<()> {
        self.exec(
            "INSERT INTO agents (agent_id, first_seen_at, last_seen_at) VALUES ($1, $2, $2) \
             ON CONFLICT (agent_id) DO UPDATE SET last_seen_at = excluded.last_seen_at",
            Args::new().s(agent_id).i(now),
        )
        .await?;
        Ok(())
    }

    pub async fn list_agents(&self) -> StoreResult<Vec<AgentRow>> {
        self.many(
            "SELECT agent_id, first_seen_at, last_seen_at FROM agents ORDER BY last_seen_at DESC",
            Args::new(),
        )
        .await
    }

    // ---------------------------------------------------------------- retention

    /// Deletes documents of finished jobs created before `before`, and inbound documents
    /// received before it. Metadata rows stay. Returns the number of documents deleted.
    pub async fn purge_documents(&self, before: i64) -> StoreResult<u64> {
        let a = self
            .exec(
                "DELETE FROM fax_documents WHERE job_id IN (SELECT id FROM fax_jobs \
                 WHERE created_at < $1 AND status NOT IN ('queued', 'in_progress'))",
                Args::new().i(before),
            )
            .await?;
        let b = self
            .exec(
                "DELETE FROM inbound_documents WHERE inbound_id IN \
                 (SELECT id FROM inbound_faxes WHERE received_at < $1)",
                Args::new().i(before),
            )
            .await?;
        Ok(a + b)
    }
}

/// A runtime query. Every SQL string here is built from constants; values are always bound.
fn q<'a, DB: sqlx::Database>(
    sql: &str,
) -> sqlx::query::Query<'a, DB, <DB as sqlx::Database>::Arguments> {
    sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
}

fn row_of<T: FromDbRow, R: AnyRow>(r: &R) -> sqlx::Result<T> {
    r.decode()
}

/// Dispatches decoding to the backend's row type.
pub(crate) trait AnyRow {
    fn decode<T: FromDbRow>(&self) -> sqlx::Result<T>;
}
impl AnyRow for SqliteRow {
    fn decode<T: FromDbRow>(&self) -> sqlx::Result<T> {
        T::from_sqlite(self)
    }
}
impl AnyRow for PgRow {
    fn decode<T: FromDbRow>(&self) -> sqlx::Result<T> {
        T::from_pg(self)
    }
}

/// Query arguments that bind to either backend.
#[derive(Clone, Default)]
pub(crate) struct Args(Vec<Arg>);

#[derive(Clone)]
enum Arg {
    S(Option<String>),
    I(Option<i64>),
    B(Vec<u8>),
}

impl Args {
    pub(crate) fn new() -> Self {
        Self(Vec::new())
    }
    pub(crate) fn s(mut self, v: &str) -> Self {
        self.0.push(Arg::S(Some(v.to_string())));
        self
    }
    pub(crate) fn os(mut self, v: Option<&str>) -> Self {
        self.0.push(Arg::S(v.map(str::to_string)));
        self
    }
    pub(crate) fn i(mut self, v: i64) -> Self {
        self.0.push(Arg::I(Some(v)));
        self
    }
    pub(crate) fn oi(mut self, v: Option<i64>) -> Self {
        self.0.push(Arg::I(v));
        self
    }
    #[allow(dead_code)]
    pub(crate) fn b(mut self, v: Vec<u8>) -> Self {
        self.0.push(Arg::B(v));
        self
    }
    pub(crate) fn bind<'q, DB>(
        self,
        mut q: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>,
    ) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments>
    where
        DB: sqlx::Database,
        Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        Option<i64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
        Vec<u8>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    {
        for a in self.0 {
            q = match a {
                Arg::S(v) => q.bind(v),
                Arg::I(v) => q.bind(v),
                Arg::B(v) => q.bind(v),
            };
        }
        q
    }
}
