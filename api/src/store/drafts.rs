//! The console's Send drafts (`console_drafts`): the one document a Send will fax, kept (through
//! the [`super::DocumentStore`], like every document) until its user has seen its pages and pressed
//! Send or Discard, or until it expires and is swept.

use bytes::Bytes;

use super::db::{Args, impl_from_row, q, with_writer};
use super::documents::{DocumentId, DocumentStore, OwnerTx, RowDocument};
use super::{Store, StoreResult};

/// A draft, without its document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub id: String,
    /// `console_users.id` of the one user who may see, send or discard it.
    pub user_id: String,
    /// The numbers, one per line, checked and in order.
    pub numbers: String,
    pub file_name: String,
    pub doc_kind: String,
    pub pages: i64,
    pub size_bytes: i64,
    /// Files (and typed text) joined.
    pub parts: i64,
    /// 1 with a cover page.
    pub cover: i64,
    pub created_at: i64,
    pub expires_at: i64,
    /// When its jobs were all created (its document is gone then).
    pub sent_at: Option<i64>,
    /// How many jobs it became.
    pub sent: i64,
    /// The bulk send this draft previews (its first recipient's fax): never sent itself.
    pub bulk_batch: Option<String>,
}

impl_from_row!(Draft {
    id,
    user_id,
    numbers,
    file_name,
    doc_kind,
    pages,
    size_bytes,
    parts,
    cover,
    created_at,
    expires_at,
    sent_at,
    sent,
    bulk_batch
});

impl Draft {
    /// The numbers, in order.
    pub fn number_list(&self) -> Vec<String> {
        self.numbers
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

const COLS: &str = "id, user_id, numbers, file_name, doc_kind, pages, size_bytes, parts, cover, \
                    created_at, expires_at, sent_at, sent, bulk_batch";

/// Expired drafts deleted per statement by [`Drafts::sweep`].
const SWEEP_BATCH: i64 = 200;

/// The drafts of a [`Store`] (`store.drafts()`).
#[derive(Clone, Copy)]
pub struct Drafts<'s>(pub(super) &'s Store);

impl Drafts<'_> {
    /// Stores a draft and its document together: the row and the document commit at once (the
    /// database backend), or the document is deleted again when the row cannot be inserted.
    pub async fn create(&self, d: &Draft, content: &Bytes) -> StoreResult<()> {
        let written = self.insert_row(d, RowDocument::Held(content)).await;
        self.settle(d, written).await
    }

    /// [`Drafts::create`] of a document spooled as it was uploaded ([`super::spool::Spool`], named
    /// `DocumentId::Draft(d.id)`): a file or object backend stores the spooled file before the row
    /// commits, the database backend writes it with the row a piece at a time, so a large Send
    /// never sits whole in memory.
    pub async fn create_spooled(
        &self,
        d: &Draft,
        spooled: super::spool::Spooled,
    ) -> StoreResult<()> {
        debug_assert_eq!(spooled.id(), &DocumentId::Draft(d.id.clone()));
        let documents = &self.0.documents;
        if !documents.is_external() {
            let written = self.insert_row(d, RowDocument::Spooled(&spooled)).await;
            return self.settle(d, written).await;
        }
        documents.put_spooled_before_commit(spooled).await?;
        let written = self.insert_row(d, RowDocument::Written).await;
        self.settle(d, written).await
    }

    /// Inserts the row, with its document in the same transaction unless a file or object backend
    /// has it already.
    async fn insert_row(&self, d: &Draft, document: RowDocument<'_>) -> StoreResult<()> {
        let doc = DocumentId::Draft(d.id.clone());
        let args = Args::new()
            .s(&d.id)
            .s(&d.user_id)
            .s(&d.numbers)
            .s(&d.file_name)
            .s(&d.doc_kind)
            .i(d.pages)
            .i(d.size_bytes)
            .i(d.parts)
            .i(d.cover)
            .i(d.created_at)
            .i(d.expires_at)
            .os(d.bulk_batch.as_deref());
        let insert = "INSERT INTO console_drafts (id, user_id, numbers, file_name, doc_kind, pages, \
                      size_bytes, parts, cover, created_at, expires_at, bulk_batch) \
                      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
        with_writer!(&self.0.db, |p| async {
            let mut tx = p.begin().await?;
            args.bind(q(insert)).execute(&mut *tx).await?;
            self.0
                .documents
                .put_with_row(&mut OwnerTx::from(&mut *tx), &doc, document)
                .await?;
            tx.commit().await?;
            Ok(())
        }
        .await)
    }

    /// After [`Drafts::insert_row`]: a document put outside the database does not roll back with
    /// the row, so it is deleted when the row did not commit.
    async fn settle(&self, d: &Draft, written: StoreResult<()>) -> StoreResult<()> {
        if let Err(e) = written {
            if let Err(cleanup) = self
                .0
                .documents
                .delete(&DocumentId::Draft(d.id.clone()))
                .await
            {
                tracing::warn!(error = %cleanup, "cannot delete the document of a failed draft insert");
            }
            return Err(e);
        }
        Ok(())
    }

    pub async fn get(&self, id: &str) -> StoreResult<Option<Draft>> {
        self.0
            .db
            .one(
                &format!("SELECT {COLS} FROM console_drafts WHERE id = $1"),
                Args::new().s(id),
            )
            .await
    }

    /// A user's drafts not sent and not expired at `now`, newest first (at most `limit`).
    pub async fn waiting(&self, user_id: &str, now: i64, limit: i64) -> StoreResult<Vec<Draft>> {
        self.0
            .db
            .many(
                &format!(
                    "SELECT {COLS} FROM console_drafts WHERE user_id = $1 AND sent_at IS NULL \
                     AND expires_at > $2 ORDER BY created_at DESC, id LIMIT $3"
                ),
                Args::new().s(user_id).i(now).i(limit),
            )
            .await
    }

    /// The document of a draft, if it is still kept.
    pub async fn document(&self, id: &str) -> StoreResult<Option<Bytes>> {
        Ok(self
            .0
            .documents
            .get(&DocumentId::Draft(id.to_owned()))
            .await?)
    }

    /// Records that the draft became `sent` jobs, then deletes its document (no longer needed: the
    /// jobs have their own). False when the draft is gone or was already marked.
    pub async fn mark_sent(&self, id: &str, sent: i64, now: i64) -> StoreResult<bool> {
        let n = self
            .0
            .db
            .exec(
                "UPDATE console_drafts SET sent_at = $2, sent = $3 WHERE id = $1 AND sent_at IS NULL",
                Args::new().s(id).i(now).i(sent),
            )
            .await?;
        self.0
            .documents
            .delete(&DocumentId::Draft(id.to_owned()))
            .await?;
        Ok(n == 1)
    }

    /// Deletes a draft: its document first, then its row (so a failure in between leaves a row
    /// that the sweep deletes, never a document nobody knows of).
    pub async fn delete(&self, id: &str) -> StoreResult<bool> {
        self.0
            .documents
            .delete(&DocumentId::Draft(id.to_owned()))
            .await?;
        let n = self
            .0
            .db
            .exec(
                "DELETE FROM console_drafts WHERE id = $1",
                Args::new().s(id),
            )
            .await?;
        Ok(n == 1)
    }

    /// Deletes every draft expired at `now` (sent or not) with its document; returns how many.
    pub async fn sweep(&self, now: i64) -> StoreResult<u64> {
        let mut swept = 0;
        loop {
            let ids: Vec<DraftId> = self
                .0
                .db
                .many(
                    "SELECT id FROM console_drafts WHERE expires_at <= $1 ORDER BY expires_at, id LIMIT $2",
                    Args::new().i(now).i(SWEEP_BATCH),
                )
                .await?;
            if ids.is_empty() {
                return Ok(swept);
            }
            let docs: Vec<DocumentId> = ids
                .iter()
                .map(|d| DocumentId::Draft(d.id.clone()))
                .collect();
            self.0.documents.purge(&docs).await?;
            for d in &ids {
                swept += self
                    .0
                    .db
                    .exec(
                        "DELETE FROM console_drafts WHERE id = $1",
                        Args::new().s(&d.id),
                    )
                    .await?;
            }
            if (ids.len() as i64) < SWEEP_BATCH {
                return Ok(swept);
            }
        }
    }
}

struct DraftId {
    id: String,
}
impl_from_row!(DraftId { id });
