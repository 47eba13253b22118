//! One view per concern of a [`Store`]: `store.jobs()`, `store.keys()`, `store.inbound()`,
//! `store.agents()`, `store.retention()`; documents are behind `store.documents()`.

use bytes::Bytes;

use super::{
    AgentRow, ApiKeyRow, CancelOutcome, Inbound, InboundFilter, InsertOutcome, Job, JobFilter,
    JobProgress, JobResult, NewJob, Store, StoreResult,
};

/// The outbound jobs.
#[derive(Clone, Copy)]
pub struct Jobs<'s>(pub(super) &'s Store);
/// The API keys.
#[derive(Clone, Copy)]
pub struct Keys<'s>(pub(super) &'s Store);
/// The received faxes.
#[derive(Clone, Copy)]
pub struct InboundFaxes<'s>(pub(super) &'s Store);
/// The agents seen.
#[derive(Clone, Copy)]
pub struct Agents<'s>(pub(super) &'s Store);
/// Document retention.
#[derive(Clone, Copy)]
pub struct Retention<'s>(pub(super) &'s Store);

impl Jobs<'_> {
    pub async fn insert(&self, job: NewJob) -> StoreResult<InsertOutcome> {
        self.0.insert_job(job).await
    }
    pub async fn get(&self, id: &str) -> StoreResult<Option<Job>> {
        self.0.get_job(id).await
    }
    pub async fn by_idempotency_key(&self, key: &str) -> StoreResult<Option<Job>> {
        self.0.job_by_idempotency_key(key).await
    }
    pub async fn list(&self, f: &JobFilter) -> StoreResult<(i64, Vec<Job>)> {
        self.0.list_jobs(f).await
    }
    pub async fn cancel(&self, id: &str, now: i64) -> StoreResult<CancelOutcome> {
        self.0.cancel_job(id, now).await
    }
    pub async fn requeue_expired(&self, now: i64, max_attempts: u32) -> StoreResult<u64> {
        self.0.requeue_expired(now, max_attempts).await
    }
    pub async fn lease_next(
        &self,
        agent_id: &str,
        lease_id: &str,
        now: i64,
        expires: i64,
    ) -> StoreResult<Option<Job>> {
        self.0.lease_next(agent_id, lease_id, now, expires).await
    }
    pub async fn renew_lease(
        &self,
        job_id: &str,
        lease_id: &str,
        now: i64,
        expires: i64,
        p: &JobProgress,
    ) -> StoreResult<bool> {
        self.0.renew_lease(job_id, lease_id, now, expires, p).await
    }
    pub async fn finish(
        &self,
        job_id: &str,
        lease_id: &str,
        r: &JobResult,
        now: i64,
        max_attempts: u32,
        retry_at: i64,
    ) -> StoreResult<Option<Job>> {
        self.0
            .finish_job(job_id, lease_id, r, now, max_attempts, retry_at)
            .await
    }
}

impl Keys<'_> {
    pub async fn insert(&self, k: &ApiKeyRow) -> StoreResult<()> {
        self.0.insert_key(k).await
    }
    pub async fn get(&self, key_id: &str) -> StoreResult<Option<ApiKeyRow>> {
        self.0.get_key(key_id).await
    }
    pub async fn list(&self) -> StoreResult<Vec<ApiKeyRow>> {
        self.0.list_keys().await
    }
    pub async fn count(&self) -> StoreResult<i64> {
        self.0.count_keys().await
    }
    pub async fn revoke(&self, key_id: &str, now: i64) -> StoreResult<bool> {
        self.0.revoke_key(key_id, now).await
    }
    pub async fn rotate(&self, key_id: &str, new_hash: &str) -> StoreResult<bool> {
        self.0.rotate_key(key_id, new_hash).await
    }
    pub async fn touch(&self, key_id: &str, now: i64) -> StoreResult<()> {
        self.0.touch_key(key_id, now).await
    }
}

impl InboundFaxes<'_> {
    pub async fn insert(&self, row: &Inbound, pdf: &Bytes) -> StoreResult<Inbound> {
        self.0.insert_inbound(row, pdf).await
    }
    pub async fn get(&self, id: &str) -> StoreResult<Option<Inbound>> {
        self.0.get_inbound(id).await
    }
    pub async fn list(&self, f: &InboundFilter) -> StoreResult<Vec<Inbound>> {
        self.0.list_inbound(f).await
    }
}

impl Agents<'_> {
    pub async fn touch(&self, agent_id: &str, now: i64) -> StoreResult<()> {
        self.0.touch_agent(agent_id, now).await
    }
    pub async fn list(&self) -> StoreResult<Vec<AgentRow>> {
        self.0.list_agents().await
    }
}
