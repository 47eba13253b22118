//! Agents: when each was first and last seen, and the line health it last reported (for `/health/ready`,
//! `/metrics` and the console, from whichever API instance asks).

use super::db::{Args, impl_from_row};
use super::{AgentRow, Store, StoreResult};
use faxline_protocol::messages::LineHealth;

impl_from_row!(AgentRow {
    agent_id,
    first_seen_at,
    last_seen_at,
    line_kind,
    line_problems
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

    /// Seen now, with its line report (`None`: an agent that sends none, whose earlier report is dropped).
    pub async fn report_line(
        &self,
        agent_id: &str,
        now: i64,
        line: Option<&LineHealth>,
    ) -> StoreResult<()> {
        let problems =
            line.map(|h| serde_json::to_string(&h.problems).unwrap_or_else(|_| "[]".into()));
        self.0
            .db
            .exec(
                "INSERT INTO agents (agent_id, first_seen_at, last_seen_at, line_kind, line_problems) \
                 VALUES ($1, $2, $2, $3, $4) \
                 ON CONFLICT (agent_id) DO UPDATE SET last_seen_at = excluded.last_seen_at, \
                 line_kind = excluded.line_kind, line_problems = excluded.line_problems",
                Args::new()
                    .s(agent_id)
                    .i(now)
                    .os(line.map(|h| h.kind.as_str()))
                    .os(problems.as_deref()),
            )
            .await?;
        Ok(())
    }

    /// The kinds of line that can take jobs now: at least one agent with that line was seen since `since`
    /// (microseconds) and its last report named no problem. One small query on the agents' table, shared by
    /// every API instance on the database.
    pub async fn available_lines(&self, since: i64) -> StoreResult<Vec<String>> {
        #[derive(Debug)]
        struct Kind {
            line_kind: String,
        }
        impl_from_row!(Kind { line_kind });
        let rows: Vec<Kind> = self
            .0
            .db
            .many(
                "SELECT DISTINCT line_kind FROM agents WHERE last_seen_at >= $1 \
                 AND line_kind IS NOT NULL AND line_problems = '[]'",
                Args::new().i(since),
            )
            .await?;
        Ok(rows.into_iter().map(|k| k.line_kind).collect())
    }

    pub async fn list(&self) -> StoreResult<Vec<AgentRow>> {
        self.0.db.many(
            "SELECT agent_id, first_seen_at, last_seen_at, line_kind, line_problems FROM agents \
             ORDER BY last_seen_at DESC",
            Args::new(),
        )
        .await
    }
}
