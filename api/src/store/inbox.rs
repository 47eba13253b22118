//! The console's "read" marks on received faxes (one inbox per installation).

use std::collections::HashSet;

use super::db::{Args, impl_from_row};
use super::{Store, StoreResult};

struct ReadId {
    id: String,
}

impl_from_row!(ReadId { id });

/// Read marks of a [`Store`] (`store.inbox()`).
#[derive(Clone, Copy)]
pub struct InboxReads<'s>(pub(super) &'s Store);

impl InboxReads<'_> {
    /// Marks a received fax read (`Some(now)`) or unread (`None`); `false` for an unknown id.
    pub async fn set_read(&self, id: &str, at: Option<i64>) -> StoreResult<bool> {
        let n = self
            .0
            .db
            .exec(
                "UPDATE inbound_faxes SET read_at = $2 WHERE id = $1",
                Args::new().s(id).oi(at),
            )
            .await?;
        Ok(n == 1)
    }

    /// Which of `ids` (at most a page of them) are marked read.
    pub async fn read_among(&self, ids: &[String]) -> StoreResult<HashSet<String>> {
        if ids.is_empty() {
            return Ok(HashSet::new());
        }
        let mut args = Args::new();
        let mut marks = Vec::with_capacity(ids.len());
        for (i, id) in ids.iter().take(200).enumerate() {
            marks.push(format!("${}", i + 1));
            args = args.s(id);
        }
        let rows: Vec<ReadId> = self
            .0
            .db
            .many(
                &format!(
                    "SELECT id FROM inbound_faxes WHERE read_at IS NOT NULL AND id IN ({})",
                    marks.join(", ")
                ),
                args,
            )
            .await?;
        Ok(rows.into_iter().map(|r| r.id).collect())
    }

    /// Received faxes not marked read.
    pub async fn unread(&self) -> StoreResult<i64> {
        self.0
            .db
            .count(
                "SELECT COUNT(*) FROM inbound_faxes WHERE read_at IS NULL",
                Args::new(),
            )
            .await
    }
}
