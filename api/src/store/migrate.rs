//! Moving documents from the database (blobs in `fax_documents`, `inbound_documents`,
//! `draft_documents`, `bulk_documents`, and the `bulk_batches.content` of batches made before
//! migration 0010) to the
//! configured file or object backend (`faxline storage migrate`). Each document is written to the
//! backend first and its blob deleted only after, so the work is resumable: an interrupted run
//! leaves every document in at least one place, and the next run picks up the blobs still there
//! (rewriting a document it had written but not yet deleted is harmless). While documents remain
//! in the database, reads fall back to them (see [`super::documents::Documents`]).
//!
//! A blob is moved as it is stored: one sealed under client-side encryption (a database backend
//! that had it on) is written as it is, one stored in plaintext is sealed on the way when
//! encryption is on now.

use bytes::Bytes;
use sqlx::Row;

use super::db::{q, with_reader, with_writer};
use super::documents::DocumentId;
use super::{Store, StoreResult};

/// Documents listed per round (each is then read, written and deleted on its own: one document in
/// memory at a time).
const BATCH: i64 = 64;

/// A kind's blob table, its key column, and the document id of a key.
type Table = (&'static str, &'static str, fn(String) -> DocumentId);

/// The database tables of each kind of document.
const TABLES: [Table; 4] = [
    ("fax_documents", "job_id", DocumentId::Job),
    ("inbound_documents", "inbound_id", DocumentId::Inbound),
    ("draft_documents", "draft_id", DocumentId::Draft),
    ("bulk_documents", "batch_id", DocumentId::Bulk),
];

/// What a migration run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Migrated {
    pub documents: u64,
    pub bytes: u64,
}

impl Store {
    /// Moves every document still in the database to the configured backend; `progress` is
    /// called after each document. Refused when the configured backend is the database.
    pub async fn migrate_documents(
        &self,
        mut progress: impl FnMut(&Migrated),
    ) -> StoreResult<Migrated> {
        if !self.documents.is_external() {
            return Err(super::DocumentError::Config(
                "documents are already stored in the database; set storage_backend to local or s3 first"
                    .into(),
            )
            .into());
        }
        let mut done = Migrated::default();
        for (table, key, doc) in TABLES {
            let select = format!("SELECT {key} FROM {table} ORDER BY {key} LIMIT $1");
            loop {
                let owners: Vec<String> = with_reader!(&self.db, |p| {
                    q(&select)
                        .bind(BATCH)
                        .fetch_all(p)
                        .await?
                        .iter()
                        .map(|r| r.try_get::<String, _>(0))
                        .collect::<sqlx::Result<Vec<_>>>()?
                });
                if owners.is_empty() {
                    break;
                }
                for owner in owners {
                    let id = doc(owner);
                    // Gone meanwhile (its owner deleted): nothing to move.
                    let Some(blob) = self.documents.legacy_blob(&id).await? else {
                        continue;
                    };
                    let len = blob.len() as u64;
                    self.documents.put_migrated(&id, &blob).await?;
                    self.documents.delete_legacy_blob(&id).await?;
                    done.documents += 1;
                    done.bytes += len;
                    progress(&done);
                }
            }
        }
        // Bulk batches made before their documents went through the document store: written to
        // the backend, then the column emptied (the batch reads the backend first), one at a time.
        loop {
            let row: Option<(String, Vec<u8>)> = with_reader!(&self.db, |p| {
                q("SELECT id, content FROM bulk_batches WHERE length(content) > 0 ORDER BY id LIMIT 1")
                    .fetch_optional(p)
                    .await?
                    .map(|r| Ok::<_, sqlx::Error>((r.try_get(0)?, r.try_get(1)?)))
                    .transpose()?
            });
            let Some((owner, content)) = row else {
                break;
            };
            let len = content.len() as u64;
            self.documents
                .put_migrated(&DocumentId::Bulk(owner.clone()), &Bytes::from(content))
                .await?;
            with_writer!(&self.db, |p| q(
                "UPDATE bulk_batches SET content = $2 WHERE id = $1"
            )
            .bind(&owner)
            .bind(Vec::<u8>::new())
            .execute(p)
            .await?
            .rows_affected());
            done.documents += 1;
            done.bytes += len;
            progress(&done);
        }
        Ok(done)
    }
}
