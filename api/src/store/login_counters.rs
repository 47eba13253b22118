//! The console's login throttle counters, rows shared by every API instance on one database. The
//! rules live in `console::throttle`; this is storage only. Updates are compare-and-swap on the whole
//! row, so two instances counting the same failure at once both count it (one retries).

use super::db::{Args, impl_from_row};
use super::{Store, StoreResult};

/// One counter's state (times in seconds).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct LoginCounter {
    pub window_start: i64,
    pub failures: i64,
    pub locked_until: i64,
    pub last_failure: i64,
}

impl_from_row!(LoginCounter {
    window_start,
    failures,
    locked_until,
    last_failure
});

/// The login counters of a [`Store`] (`store.login_counters()`).
#[derive(Clone, Copy)]
pub struct LoginCounters<'s>(pub(super) &'s Store);

/// `$first, $first+1, …` for `n` values.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl LoginCounters<'_> {
    /// The latest lock among `ids` (0 when none is locked or none exists).
    pub async fn locked_until(&self, ids: &[String]) -> StoreResult<i64> {
        if ids.is_empty() {
            return Ok(0);
        }
        let sql = format!(
            "SELECT COALESCE(MAX(locked_until), 0) FROM console_login_counters WHERE id IN ({})",
            placeholders(1, ids.len())
        );
        let args = ids.iter().fold(Args::new(), |a, id| a.s(id));
        self.0.db.count(&sql, args).await
    }

    pub async fn get(&self, id: &str) -> StoreResult<Option<LoginCounter>> {
        self.0
            .db
            .one(
                "SELECT window_start, failures, locked_until, last_failure FROM console_login_counters WHERE id = $1",
                Args::new().s(id),
            )
            .await
    }

    /// Writes `new` for `id` if the row is still `old` (`None`: absent); `false` when another
    /// writer came first (read again and retry).
    pub async fn swap(
        &self,
        id: &str,
        old: Option<LoginCounter>,
        new: LoginCounter,
        expires_at: i64,
    ) -> StoreResult<bool> {
        let n = match old {
            None => {
                self.0
                    .db
                    .exec(
                        "INSERT INTO console_login_counters \
                         (id, window_start, failures, locked_until, last_failure, expires_at) \
                         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
                        Args::new()
                            .s(id)
                            .i(new.window_start)
                            .i(new.failures)
                            .i(new.locked_until)
                            .i(new.last_failure)
                            .i(expires_at),
                    )
                    .await?
            }
            Some(old) => {
                self.0
                    .db
                    .exec(
                        "UPDATE console_login_counters SET window_start = $2, failures = $3, \
                         locked_until = $4, last_failure = $5, expires_at = $6 \
                         WHERE id = $1 AND window_start = $7 AND failures = $8 AND locked_until = $9 \
                         AND last_failure = $10",
                        Args::new()
                            .s(id)
                            .i(new.window_start)
                            .i(new.failures)
                            .i(new.locked_until)
                            .i(new.last_failure)
                            .i(expires_at)
                            .i(old.window_start)
                            .i(old.failures)
                            .i(old.locked_until)
                            .i(old.last_failure),
                    )
                    .await?
            }
        };
        Ok(n == 1)
    }

    pub async fn delete(&self, ids: &[String]) -> StoreResult<u64> {
        if ids.is_empty() {
            return Ok(0);
        }
        let sql = format!(
            "DELETE FROM console_login_counters WHERE id IN ({})",
            placeholders(1, ids.len())
        );
        let args = ids.iter().fold(Args::new(), |a, id| a.s(id));
        self.0.db.exec(&sql, args).await
    }

    /// Deletes the counters that no longer matter at `now`.
    pub async fn purge(&self, now: i64) -> StoreResult<u64> {
        self.0
            .db
            .exec(
                "DELETE FROM console_login_counters WHERE expires_at <= $1",
                Args::new().i(now),
            )
            .await
    }
}
