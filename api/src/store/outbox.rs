//! The console's outbox search: jobs whose number ends with the digits given (a number as logs and
//! lists show it masked, `…4567`). Scans the rows the other filters leave, newest first.

use super::db::Args;
use super::jobs::JOB_COLS;
use super::{Job, Store, StoreResult};

/// The outbox view of a [`Store`] (`store.outbox()`).
#[derive(Clone, Copy)]
pub struct Outbox<'s>(pub(super) &'s Store);

impl Outbox<'_> {
    /// Jobs whose `to_number` ends with `digits` (1 to 6 ASCII digits), optionally of one status;
    /// returns the total and one page.
    pub async fn ending_with(
        &self,
        digits: &str,
        status: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(i64, Vec<Job>)> {
        let digits: String = digits
            .chars()
            .filter(char::is_ascii_digit)
            .take(6)
            .collect();
        let pattern = format!("%{digits}");
        let (cond, args) = match status {
            Some(s) => (
                "WHERE to_number LIKE $1 AND status = $2",
                Args::new().s(&pattern).s(s),
            ),
            None => ("WHERE to_number LIKE $1", Args::new().s(&pattern)),
        };
        let n = if status.is_some() { 2 } else { 1 };
        let total = self
            .0
            .db
            .count(
                &format!("SELECT COUNT(*) FROM fax_jobs {cond}"),
                args.clone(),
            )
            .await?;
        let jobs = self
            .0
            .db
            .many(
                &format!(
                    "SELECT {JOB_COLS} FROM fax_jobs {cond} ORDER BY created_at DESC, id LIMIT ${} OFFSET ${}",
                    n + 1,
                    n + 2
                ),
                args.i(limit).i(offset),
            )
            .await?;
        Ok((total, jobs))
    }
}
