//! Retention: documents are deleted `retention_days` after they arrived; the metadata stays.
//!
//! What is deleted: the document of every job created before the cut-off that is no longer
//! queued or in progress (a job still waiting for an agent keeps its document whatever its age),
//! and the PDF of every inbound fax received before the cut-off. What remains: the job and
//! inbound rows (id, masked-in-logs numbers, status, pages, sizes, SHA-256, times), so
//! `GET /fax/{id}` and `GET /inbound/{id}` keep answering while the document routes
//! (`/pdf`, `/preview`) answer 404. The server runs this shortly after start and then hourly;
//! `now` is a parameter so the rule can be driven with any clock.

use crate::store::{Store, StoreResult};

/// Microseconds in a day.
const DAY_US: i64 = 86_400_000_000;

/// The cut-off for `retention_days` at `now_us`: documents older than this go. `None` when
/// retention is off (0 days).
pub fn cutoff(retention_days: u32, now_us: i64) -> Option<i64> {
    (retention_days > 0).then(|| now_us - i64::from(retention_days) * DAY_US)
}

/// How old a document without an owner row must be before the orphan sweep deletes it: well past
/// the longest upload (request timeout) plus its commit.
pub const ORPHAN_AGE_US: i64 = 3_600_000_000;

/// Deletes documents whose owner row never committed (a file or object backend, after a crash
/// between the two writes), older than [`ORPHAN_AGE_US`] at `now_us`. Part of every retention
/// pass, whatever `retention_days`.
pub async fn sweep_orphans(store: &Store, now_us: i64) -> StoreResult<u64> {
    let n = store
        .retention()
        .sweep_orphans(now_us - ORPHAN_AGE_US)
        .await
        .inspect_err(|e| tracing::warn!(error = %e, "orphan document sweep failed"))?;
    if n > 0 {
        crate::audit!("orphan_documents_deleted", documents = n);
    }
    Ok(n)
}

/// Provider webhook events are kept at least this long (and twice the webhook maximum age, so a replay
/// of a purged event is still refused as stale).
pub const PROVIDER_EVENT_MIN_KEEP_US: i64 = 30 * DAY_US;

/// Deletes provider webhook events older than [`PROVIDER_EVENT_MIN_KEEP_US`] or twice
/// `webhook_max_age_seconds`, whichever is longer (their faxes are long final by then).
pub async fn purge_provider_events(
    store: &Store,
    webhook_max_age_seconds: u64,
    now_us: i64,
) -> StoreResult<u64> {
    let keep = PROVIDER_EVENT_MIN_KEEP_US
        .max(i64::try_from(webhook_max_age_seconds.saturating_mul(2_000_000)).unwrap_or(i64::MAX));
    let n = store
        .provider_events()
        .purge_before(now_us.saturating_sub(keep))
        .await
        .inspect_err(|e| tracing::warn!(error = %e, "provider event purge failed"))?;
    if n > 0 {
        crate::audit!("provider_events_purged", events = n);
    }
    Ok(n)
}

/// One retention pass at `now_us` (the orphan sweep first); returns the number of documents
/// deleted by retention (0 when off).
pub async fn run_once(store: &Store, retention_days: u32, now_us: i64) -> StoreResult<u64> {
    // An unreachable store must not stop retention itself; the failure is logged.
    let _ = sweep_orphans(store, now_us).await;
    let Some(before) = cutoff(retention_days, now_us) else {
        return Ok(0);
    };
    match store.retention().purge_documents(before, now_us).await {
        Ok(n) => {
            crate::audit!(
                "retention_purge",
                documents = n,
                retention_days = retention_days
            );
            Ok(n)
        }
        Err(e) => {
            tracing::warn!(error = %e, "retention purge failed");
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::cutoff;

    #[test]
    fn cutoff_is_days_before_now() {
        assert_eq!(cutoff(0, 10 * super::DAY_US), None);
        assert_eq!(cutoff(3, 10 * super::DAY_US), Some(7 * super::DAY_US));
    }
}
