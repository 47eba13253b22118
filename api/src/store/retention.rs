//! Retention's storage side: which documents are due, deleting them through the
//! [`DocumentStore`] (so it works for any backend) and marking their rows, whose metadata stays.
//! The rule and its schedule are in [`crate::retention`].

use sqlx::Row;

use super::db::{Args, q, with_reader, with_writer};
use super::documents::{DocumentId, DocumentStore};
use super::jobs::{IN_PROGRESS, QUEUED};
use super::{Store, StoreResult};

/// Rows handled per round: a bounded list of ids per statement, however much is due.
const BATCH: usize = 500;

/// A kind of document owner: its table, the time its age counts from, and which rows still need
/// their document.
struct Owner {
    table: &'static str,
    since: &'static str,
    /// Statuses whose rows keep their document whatever their age.
    keeps: &'static [&'static str],
    doc: fn(String) -> DocumentId,
}

/// Document retention for a [`Store`] (`store.retention()`).
#[derive(Clone, Copy)]
pub struct Retention<'s>(pub(super) &'s Store);

const OWNERS: [Owner; 2] = [
    Owner {
        table: "fax_jobs",
        since: "created_at",
        // A job still waiting for an agent or being sent keeps its document whatever its age.
        keeps: &[QUEUED, IN_PROGRESS],
        doc: DocumentId::Job,
    },
    Owner {
        table: "inbound_faxes",
        since: "received_at",
        keeps: &[],
        doc: DocumentId::Inbound,
    },
];

/// An owner table and the document id of one of its rows.
type OrphanOwner = (&'static str, fn(String) -> DocumentId);

/// Owners of documents outside retention's rule (deleted by their own life cycle), whose
/// documents the orphan sweep still checks: console drafts and bulk sends.
const OTHER_OWNERS: [OrphanOwner; 2] = [
    ("console_drafts", DocumentId::Draft),
    ("bulk_batches", DocumentId::Bulk),
];

impl Retention<'_> {
    /// Deletes the documents of finished jobs created before `before` and of inbound faxes
    /// received before it, and records `now` as their rows' `document_purged_at`. Returns the
    /// number of documents deleted.
    pub async fn purge_documents(&self, before: i64, now: i64) -> StoreResult<u64> {
        let mut deleted = 0;
        for owner in &OWNERS {
            loop {
                let ids = self.due(owner, before).await?;
                let docs: Vec<DocumentId> = ids.iter().cloned().map(owner.doc).collect();
                deleted += self.0.documents.purge(&docs).await?;
                self.mark(owner, &ids, now).await?;
                if ids.len() < BATCH {
                    break;
                }
            }
        }
        Ok(deleted)
    }

    /// Deletes documents written before `before` whose owner row does not exist: what a process
    /// killed between a document's write and its row's commit left in a file or object backend.
    /// `before` must lie further back than any upload can take, so a write whose row is about to
    /// commit is never taken. Returns the number deleted.
    pub async fn sweep_orphans(&self, before: i64) -> StoreResult<u64> {
        let candidates = self.0.documents.written_before(before).await?;
        let mut orphans = Vec::new();
        let owners = OWNERS.iter().map(|o| (o.table, o.doc)).chain(OTHER_OWNERS);
        for (table, doc) in owners {
            let ids: Vec<String> = candidates
                .iter()
                .filter(|d| doc(String::new()).kind_dir() == d.kind_dir())
                .map(|d| d.owner().to_string())
                .collect();
            for chunk in ids.chunks(BATCH) {
                let existing = self.existing(table, chunk).await?;
                orphans.extend(
                    chunk
                        .iter()
                        .filter(|id| !existing.contains(*id))
                        .cloned()
                        .map(doc),
                );
            }
        }
        Ok(self.0.documents.purge(&orphans).await?)
    }

    /// Which of `ids` have a row in `owner`'s table.
    async fn existing(
        &self,
        table: &str,
        ids: &[String],
    ) -> StoreResult<std::collections::HashSet<String>> {
        if ids.is_empty() {
            return Ok(Default::default());
        }
        let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!("SELECT id FROM {table} WHERE id IN ({})", marks.join(", "));
        let args = ids.iter().fold(Args::new(), |a, id| a.s(id));
        Ok(with_reader!(&self.0.db, |p| {
            args.bind(q(&sql))
                .fetch_all(p)
                .await?
                .iter()
                .map(|r| r.try_get::<String, _>(0))
                .collect::<sqlx::Result<_>>()?
        }))
    }

    /// Up to [`BATCH`] ids of `owner` rows older than `before` whose document is due, oldest first.
    async fn due(&self, owner: &Owner, before: i64) -> StoreResult<Vec<String>> {
        let Owner {
            table,
            since,
            keeps,
            ..
        } = owner;
        let keep = if keeps.is_empty() {
            String::new()
        } else {
            let list: Vec<String> = keeps.iter().map(|s| format!("'{s}'")).collect();
            format!(" AND status NOT IN ({})", list.join(", "))
        };
        let sql = format!(
            "SELECT id FROM {table} WHERE {since} < $1 AND document_purged_at IS NULL{keep} \
             ORDER BY {since}, id LIMIT $2"
        );
        let args = Args::new().i(before).i(BATCH as i64);
        Ok(with_reader!(&self.0.db, |p| {
            args.bind(q(&sql))
                .fetch_all(p)
                .await?
                .iter()
                .map(|r| r.try_get::<String, _>(0))
                .collect::<sqlx::Result<Vec<_>>>()?
        }))
    }

    async fn mark(&self, owner: &Owner, ids: &[String], now: i64) -> StoreResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let marks: Vec<String> = (2..ids.len() + 2).map(|i| format!("${i}")).collect();
        let sql = format!(
            "UPDATE {} SET document_purged_at = $1 WHERE id IN ({})",
            owner.table,
            marks.join(", ")
        );
        let args = ids.iter().fold(Args::new().i(now), |a, id| a.s(id));
        with_writer!(&self.0.db, |p| args
            .bind(q(&sql))
            .execute(p)
            .await?
            .rows_affected());
        Ok(())
    }
}
