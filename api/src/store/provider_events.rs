//! Cloud providers' webhook events: stored once per (provider, provider_sid, event), read by the agent's line
//! that sent the fax (in `seq` order, after the last one it saw).

use super::db::{Args, impl_from_row};
use super::{ProviderEvent, Store, StoreResult};

impl_from_row!(ProviderEvent {
    seq,
    provider,
    provider_sid,
    event,
    job_id,
    status: parsed,
    pages,
    error,
    received_at
});

const COLS: &str = "seq, provider, provider_sid, event, job_id, status, pages, error, received_at";

/// The provider events of a [`Store`] (`store.provider_events()`).
#[derive(Clone, Copy)]
pub struct ProviderEvents<'s>(pub(super) &'s Store);

impl ProviderEvents<'_> {
    /// Stores the event; `false` when the same (provider, provider_sid, event) is already stored (a provider's
    /// retry or a replay), which changes nothing.
    pub async fn insert(&self, e: &ProviderEvent) -> StoreResult<bool> {
        let n = self
            .0
            .db
            .exec(
                "INSERT INTO provider_events (provider, provider_sid, event, job_id, status, pages, error, \
                 received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (provider, provider_sid, event) DO NOTHING",
                Args::new()
                    .s(&e.provider)
                    .s(&e.provider_sid)
                    .s(&e.event)
                    .os(e.job_id.as_deref())
                    .s(e.status.as_str())
                    .oi(e.pages)
                    .os(e.error.as_deref())
                    .i(e.received_at),
            )
            .await?;
        Ok(n == 1)
    }

    /// The events of one fax after `after` (a `seq`), oldest first, at most 50.
    pub async fn after(
        &self,
        provider: &str,
        provider_sid: &str,
        after: i64,
    ) -> StoreResult<Vec<ProviderEvent>> {
        self.0
            .db
            .many(
                &format!(
                    "SELECT {COLS} FROM provider_events WHERE provider = $1 AND provider_sid = $2 AND seq > $3 \
                     ORDER BY seq LIMIT 50"
                ),
                Args::new().s(provider).s(provider_sid).i(after),
            )
            .await
    }

    /// Deletes events received before `before` (retention: the faxes they describe are long final).
    pub async fn purge_before(&self, before: i64) -> StoreResult<u64> {
        self.0
            .db
            .exec(
                "DELETE FROM provider_events WHERE received_at < $1",
                Args::new().i(before),
            )
            .await
    }
}
