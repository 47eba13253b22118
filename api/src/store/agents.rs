//! Agents: when each was first and last seen (for `/health/ready`).

use super::db::{Args, impl_from_row};
use super::{AgentRow, Store, StoreResult};

impl_from_row!(AgentRow {
    agent_id,
    first_seen_at,
    last_seen_at
});

/// The agents of a [`Store`] (`store.agents()`).
#[derive(Clone, Copy)]
pub struct Agents<'s>(pub(super) &'s Store);

impl Agents<'_> {
    pub async fn touch(&self, agent_id: &str, now: i64) -> StoreResult<()> {
        self.0
            .db
            .exec(
                "INSERT INTO agents (agent_id, first_seen_at, last_seen_at) VALUES ($1, $2, $2) \
             ON CONFLICT (agent_id) DO UPDATE SET last_seen_at = excluded.last_seen_at",
                Args::new().s(agent_id).i(now),
            )
            .await?;
        Ok(())
    }

    pub async fn list(&self) -> StoreResult<Vec<AgentRow>> {
        self.0.db.many(
            "SELECT agent_id, first_seen_at, last_seen_at FROM agents ORDER BY last_seen_at DESC",
            Args::new(),
        )
        .await
    }
}
