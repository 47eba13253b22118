//! Bulk sends: a batch (one document, many recipients) and its durable queue. Each recipient gets
//! its job through the API's submit path with the idempotency key `bulk:<batch>:<seq>`, so a crash
//! between creating a job and recording it here never sends anyone twice.
//!
//! The batch's document is kept through the [`DocumentStore`] (`DocumentId::Bulk`, so in the
//! configured backend and sealed when client-side encryption is on) until every recipient has a
//! job or the batch is cancelled. Batches made before migration 0010 kept it in
//! `bulk_batches.content`, still read until they finish or `faxline storage migrate` moves it.

use bytes::Bytes;

use super::db::{Args, impl_from_row, q, with_writer};
use super::documents::{DocumentId, DocumentStore, OwnerTx};
use super::{Store, StoreResult};

/// A bulk send, without its document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkBatch {
    pub id: String,
    /// `user:<name>`: the owner of its jobs.
    pub created_by: String,
    pub file_name: String,
    /// `draft` (waiting for its user to confirm it after the preview), `running`, `paused`,
    /// `cancelled` or `done` (every recipient has a job).
    pub state: String,
    /// Recipients, refused rows included.
    pub total: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// 1 when each recipient's fax starts with a cover page made from its row.
    pub cover: i64,
}

impl_from_row!(BulkBatch {
    id,
    created_by,
    file_name,
    state,
    total,
    created_at,
    updated_at,
    cover
});

const BATCH_COLS: &str = "id, created_by, file_name, state, total, created_at, updated_at, cover";

/// Made, previewed, not confirmed yet: its queue does not move.
pub const BULK_DRAFT: &str = "draft";
pub const BULK_RUNNING: &str = "running";
pub const BULK_PAUSED: &str = "paused";
pub const BULK_CANCELLED: &str = "cancelled";
pub const BULK_DONE: &str = "done";

/// One recipient of a batch, with its job's status once it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkRecipient {
    pub seq: i64,
    pub number: String,
    pub name: Option<String>,
    pub job_id: Option<String>,
    /// Why no job could be created (a document or number the API refused).
    pub error: Option<String>,
    /// The job's status (`None` while it has no job).
    pub status: Option<String>,
    /// The cover page's fields (with a cover page; `name` is its "To:").
    pub cover_from: Option<String>,
    pub cover_subject: Option<String>,
    pub cover_note: Option<String>,
}

impl_from_row!(BulkRecipient {
    seq,
    number,
    name,
    job_id,
    error,
    status,
    cover_from,
    cover_subject,
    cover_note
});

const RECIPIENT_COLS: &str =
    "r.seq, r.number, r.name, r.job_id, r.error, r.cover_from, r.cover_subject, r.cover_note";

/// One row of a new batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewRecipient {
    /// The number (for a refused row, what the row said, shortened).
    pub number: String,
    pub name: Option<String>,
    pub cover_from: Option<String>,
    pub cover_subject: Option<String>,
    pub cover_note: Option<String>,
    /// Why the row is refused (it never gets a job).
    pub error: Option<String>,
}

struct BatchId {
    id: String,
}
impl_from_row!(BatchId { id });

struct Content {
    content: Vec<u8>,
}
impl_from_row!(Content { content });

/// Recipients per status of their jobs (`waiting`: no job yet; `refused`: none could be made).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkCount {
    pub status: String,
    pub n: i64,
}
impl_from_row!(BulkCount { status, n });

/// The bulk sends of a [`Store`] (`store.bulk()`).
#[derive(Clone, Copy)]
pub struct Bulk<'s>(pub(super) &'s Store);

impl Bulk<'_> {
    /// Stores a batch, all its recipients and its document in one transaction (a document put
    /// outside the database is deleted again when the transaction fails).
    pub async fn create(
        &self,
        b: &BulkBatch,
        content: &Bytes,
        recipients: &[NewRecipient],
    ) -> StoreResult<()> {
        let doc = DocumentId::Bulk(b.id.clone());
        let written: StoreResult<()> = with_writer!(&self.0.db, |p| {
            async {
            let mut tx = p.begin().await?;
            Args::new()
                .s(&b.id)
                .s(&b.created_by)
                .s(&b.file_name)
                .b(Vec::new())
                .s(&b.state)
                .i(b.total)
                .i(b.created_at)
                .i(b.updated_at)
                .i(b.cover)
                .bind(q(
                    "INSERT INTO bulk_batches (id, created_by, file_name, content, state, total, created_at, updated_at, cover) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                ))
                .execute(&mut *tx)
                .await?;
            for (i, r) in recipients.iter().enumerate() {
                Args::new()
                    .s(&b.id)
                    .i(i as i64 + 1)
                    .s(&r.number)
                    .os(r.name.as_deref())
                    .os(r.cover_from.as_deref())
                    .os(r.cover_subject.as_deref())
                    .os(r.cover_note.as_deref())
                    .os(r.error.as_deref())
                    .bind(q(
                        "INSERT INTO bulk_recipients (batch_id, seq, number, name, cover_from, cover_subject, cover_note, error) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    ))
                    .execute(&mut *tx)
                    .await?;
            }
            self.0
                .documents
                .put(&mut OwnerTx::from(&mut *tx), &doc, content)
                .await?;
            tx.commit().await?;
            Ok(())
        }
        .await
        });
        if let Err(e) = written {
            if let Err(cleanup) = self.0.documents.delete(&doc).await {
                tracing::warn!(error = %cleanup, "cannot delete the document of a failed bulk insert");
            }
            return Err(e);
        }
        Ok(())
    }

    pub async fn get(&self, id: &str) -> StoreResult<Option<BulkBatch>> {
        self.0
            .db
            .one(
                &format!("SELECT {BATCH_COLS} FROM bulk_batches WHERE id = $1"),
                Args::new().s(id),
            )
            .await
    }

    /// Newest first.
    pub async fn list(&self, limit: i64, offset: i64) -> StoreResult<Vec<BulkBatch>> {
        self.0
            .db
            .many(
                &format!(
                    "SELECT {BATCH_COLS} FROM bulk_batches ORDER BY created_at DESC, id LIMIT $1 OFFSET $2"
                ),
                Args::new().i(limit).i(offset),
            )
            .await
    }

    /// Batches whose queue is moving.
    pub async fn running(&self) -> StoreResult<Vec<BulkBatch>> {
        self.0
            .db
            .many(
                &format!(
                    "SELECT {BATCH_COLS} FROM bulk_batches WHERE state = '{BULK_RUNNING}' ORDER BY created_at LIMIT 100"
                ),
                Args::new(),
            )
            .await
    }

    /// The batch's document: from the document store, or for a batch made before migration 0010
    /// and not migrated since, from `bulk_batches.content`. `None` once the batch no longer keeps it.
    pub async fn content(&self, id: &str) -> StoreResult<Option<Bytes>> {
        if let Some(doc) = self
            .0
            .documents
            .get(&DocumentId::Bulk(id.to_owned()))
            .await?
        {
            return Ok(Some(doc));
        }
        let c: Option<Content> = self
            .0
            .db
            .one(
                "SELECT content FROM bulk_batches WHERE id = $1",
                Args::new().s(id),
            )
            .await?;
        Ok(c.map(|c| c.content)
            .filter(|c| !c.is_empty())
            .map(Bytes::from))
    }

    /// Moves a batch from one of `from` to `to`; `false` when it was in none of them. A batch that
    /// is done or cancelled no longer needs its document, which is dropped.
    pub async fn set_state(
        &self,
        id: &str,
        from: &[&str],
        to: &str,
        now: i64,
    ) -> StoreResult<bool> {
        let clear = to == BULK_DONE || to == BULK_CANCELLED;
        let mut args = Args::new().s(id).s(to).i(now);
        let mut set = String::from("state = $2, updated_at = $3");
        let mut n = 3;
        if clear {
            n += 1;
            set += &format!(", content = ${n}");
            args = args.b(Vec::new());
        }
        let mut marks = Vec::new();
        for state in from {
            n += 1;
            marks.push(format!("${n}"));
            args = args.s(state);
        }
        let sql = format!(
            "UPDATE bulk_batches SET {set} WHERE id = $1 AND state IN ({})",
            marks.join(", ")
        );
        let moved = self.0.db.exec(&sql, args).await? == 1;
        if moved && clear {
            // After the state changed, so a running batch never loses its document; when this
            // fails, [`Bulk::drop_finished_documents`] deletes it later.
            self.drop_document(id, now).await?;
        }
        Ok(moved)
    }

    /// Deletes a finished batch's document and records it.
    async fn drop_document(&self, id: &str, now: i64) -> StoreResult<()> {
        self.0
            .documents
            .delete(&DocumentId::Bulk(id.to_owned()))
            .await?;
        self.0
            .db
            .exec(
                "UPDATE bulk_batches SET document_deleted_at = $2 WHERE id = $1",
                Args::new().s(id).i(now),
            )
            .await?;
        Ok(())
    }

    /// Deletes the documents finished (done or cancelled) batches still have (a deletion that
    /// failed when the batch finished), at most `limit`; returns how many batches were handled.
    pub async fn drop_finished_documents(&self, now: i64, limit: i64) -> StoreResult<u64> {
        let ids: Vec<BatchId> = self
            .0
            .db
            .many(
                &format!(
                    "SELECT id FROM bulk_batches WHERE state IN ('{BULK_DONE}', '{BULK_CANCELLED}') \
                     AND document_deleted_at IS NULL ORDER BY updated_at LIMIT $1"
                ),
                Args::new().i(limit),
            )
            .await?;
        for b in &ids {
            self.drop_document(&b.id, now).await?;
        }
        Ok(ids.len() as u64)
    }

    /// Recipients still without a job (and not refused), in order, at most `limit`.
    pub async fn pending(&self, batch_id: &str, limit: i64) -> StoreResult<Vec<BulkRecipient>> {
        self.0
            .db
            .many(
                &format!(
                    "SELECT {RECIPIENT_COLS}, NULL AS status FROM bulk_recipients r \
                     WHERE r.batch_id = $1 AND r.job_id IS NULL AND r.error IS NULL ORDER BY r.seq LIMIT $2"
                ),
                Args::new().s(batch_id).i(limit),
            )
            .await
    }

    /// Recipients with their job's status, in order (at most `limit`).
    pub async fn recipients(&self, batch_id: &str, limit: i64) -> StoreResult<Vec<BulkRecipient>> {
        self.0
            .db
            .many(
                &format!(
                    "SELECT {RECIPIENT_COLS}, j.status FROM bulk_recipients r \
                     LEFT JOIN fax_jobs j ON j.id = r.job_id WHERE r.batch_id = $1 ORDER BY r.seq LIMIT $2"
                ),
                Args::new().s(batch_id).i(limit),
            )
            .await
    }

    /// The refused rows of a batch, in order (at most `limit`).
    pub async fn refused(&self, batch_id: &str, limit: i64) -> StoreResult<Vec<BulkRecipient>> {
        self.0
            .db
            .many(
                &format!(
                    "SELECT {RECIPIENT_COLS}, NULL AS status FROM bulk_recipients r \
                     WHERE r.batch_id = $1 AND r.error IS NOT NULL ORDER BY r.seq LIMIT $2"
                ),
                Args::new().s(batch_id).i(limit),
            )
            .await
    }

    /// Deletes a batch still in [`BULK_DRAFT`] (discarded or expired before it was confirmed),
    /// its recipients and its document; `false` when it is no longer a draft.
    pub async fn delete_draft(&self, id: &str) -> StoreResult<bool> {
        let deleted: StoreResult<bool> = with_writer!(&self.0.db, |p| async {
            let mut tx = p.begin().await?;
            let n = Args::new()
                .s(id)
                .bind(q(&format!(
                    "DELETE FROM bulk_batches WHERE id = $1 AND state = '{BULK_DRAFT}'"
                )))
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n == 1 {
                Args::new()
                    .s(id)
                    .bind(q("DELETE FROM bulk_recipients WHERE batch_id = $1"))
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(n == 1)
        }
        .await);
        if deleted? {
            self.0
                .documents
                .delete(&DocumentId::Bulk(id.to_owned()))
                .await?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Batches left in [`BULK_DRAFT`] since before `cutoff` (at most `limit`).
    pub async fn stale_drafts(&self, cutoff: i64, limit: i64) -> StoreResult<Vec<String>> {
        let ids: Vec<BatchId> = self
            .0
            .db
            .many(
                &format!(
                    "SELECT id FROM bulk_batches WHERE state = '{BULK_DRAFT}' AND created_at < $1 \
                     ORDER BY created_at LIMIT $2"
                ),
                Args::new().i(cutoff).i(limit),
            )
            .await?;
        Ok(ids.into_iter().map(|b| b.id).collect())
    }

    /// Jobs of the batch not finished yet (queued or sending).
    pub async fn in_flight(&self, batch_id: &str) -> StoreResult<i64> {
        self.0
            .db
            .count(
                "SELECT COUNT(*) FROM bulk_recipients r JOIN fax_jobs j ON j.id = r.job_id \
                 WHERE r.batch_id = $1 AND j.status IN ('queued', 'in_progress')",
                Args::new().s(batch_id),
            )
            .await
    }

    /// Queued (not yet sending) jobs of the batch, to cancel with it.
    pub async fn queued_jobs(&self, batch_id: &str) -> StoreResult<Vec<BulkRecipient>> {
        self.0
            .db
            .many(
                &format!(
                    "SELECT {RECIPIENT_COLS}, j.status FROM bulk_recipients r \
                     JOIN fax_jobs j ON j.id = r.job_id WHERE r.batch_id = $1 AND j.status = 'queued'"
                ),
                Args::new().s(batch_id),
            )
            .await
    }

    pub async fn set_job(&self, batch_id: &str, seq: i64, job_id: &str) -> StoreResult<()> {
        self.0
            .db
            .exec(
                "UPDATE bulk_recipients SET job_id = $3 WHERE batch_id = $1 AND seq = $2",
                Args::new().s(batch_id).i(seq).s(job_id),
            )
            .await?;
        Ok(())
    }

    pub async fn set_error(&self, batch_id: &str, seq: i64, error: &str) -> StoreResult<()> {
        self.0
            .db
            .exec(
                "UPDATE bulk_recipients SET error = $3 WHERE batch_id = $1 AND seq = $2",
                Args::new().s(batch_id).i(seq).s(error),
            )
            .await?;
        Ok(())
    }

    /// Recipients per job status.
    pub async fn progress(&self, batch_id: &str) -> StoreResult<Vec<BulkCount>> {
        self.0
            .db
            .many(
                "SELECT CASE WHEN r.error IS NOT NULL THEN 'refused' ELSE COALESCE(j.status, 'waiting') END AS status, \
                 COUNT(*) AS n FROM bulk_recipients r LEFT JOIN fax_jobs j ON j.id = r.job_id \
                 WHERE r.batch_id = $1 GROUP BY 1",
                Args::new().s(batch_id),
            )
            .await
    }
}
