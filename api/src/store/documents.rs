//! Where documents live: the [`DocumentStore`] seam and its one implementation today,
//! [`BlobDocuments`], which keeps them as blobs in the database next to their rows.
//!
//! Handlers and retention see only the trait, so a file-system or object-store backend is a new
//! implementation here and a new type in [`super::Store`], not a change to any route.
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

use super::db::{Db, q, with_reader, with_writer};

/// A document, named by its owner.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DocumentId {
    /// The upload of an outbound job (`fax_jobs.id`).
    Job(String),
    /// The PDF of a received fax (`inbound_faxes.id`).
    Inbound(String),
}

impl DocumentId {
    /// The owner's id.
    pub fn owner(&self) -> &str {
        match self {
            DocumentId::Job(id) | DocumentId::Inbound(id) => id,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("document database error: {0}")]
    Db(#[from] sqlx::Error),
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

/// Document storage by id. Content is handed over as [`Bytes`], so neither direction copies it.
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

    /// Deletes the document; false when there was none.
    fn delete(&self, id: &DocumentId) -> impl Future<Output = DocumentResult<bool>> + Send;

    /// Deletes every listed document there is; returns how many were deleted.
    fn purge(&self, ids: &[DocumentId]) -> impl Future<Output = DocumentResult<u64>> + Send;
}

/// Documents as blobs in `fax_documents` and `inbound_documents`, whose rows reference their
/// owners (so a document cannot be written before its owner row, only in the same transaction).
/// Every API instance on one database serves every document.
#[derive(Clone)]
pub struct BlobDocuments {
    db: Db,
}

/// Ids deleted per statement in [`BlobDocuments::purge`] (well under both backends' bind limits).
const PURGE_CHUNK: usize = 500;

/// Table and key column of a document's kind.
fn place(id: &DocumentId) -> (&'static str, &'static str) {
    match id {
        DocumentId::Job(_) => ("fax_documents", "job_id"),
        DocumentId::Inbound(_) => ("inbound_documents", "inbound_id"),
    }
}

impl BlobDocuments {
    pub(crate) fn new(db: Db) -> Self {
        Self { db }
    }
}

impl DocumentStore for BlobDocuments {
    async fn put(
        &self,
        tx: &mut OwnerTx<'_>,
        id: &DocumentId,
        content: &Bytes,
    ) -> DocumentResult<()> {
        let (table, key) = place(id);
        let sql = format!(
            "INSERT INTO {table} ({key}, content) VALUES ($1, $2) \
             ON CONFLICT ({key}) DO UPDATE SET content = excluded.content"
        );
        let owner = id.owner();
        match &mut tx.0 {
            Conn::Sqlite(c) => q::<sqlx::Sqlite>(&sql)
                .bind(owner)
                .bind(content.as_ref())
                .execute(&mut **c)
                .await?
                .rows_affected(),
            Conn::Postgres(c) => q::<sqlx::Postgres>(&sql)
                .bind(owner)
                .bind(content.as_ref())
                .execute(&mut **c)
                .await?
                .rows_affected(),
        };
        Ok(())
    }

    async fn get(&self, id: &DocumentId) -> DocumentResult<Option<Bytes>> {
        let (table, key) = place(id);
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

    async fn delete(&self, id: &DocumentId) -> DocumentResult<bool> {
        let (table, key) = place(id);
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
        ] {
            let (table, key) = place(&kind);
            let owners: Vec<&str> = ids
                .iter()
                .filter(|id| place(id) == (table, key))
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
}
