//! Outbound jobs: submission (group-committed with the document, see [`super::batch`]), reading,
//! listing, cancelling, and the lease cycle agents drive (lease, renew, finish, release, expire).

use faxline_protocol::JobStatus;
use tokio::sync::oneshot;

use super::db::{Args, Db, impl_from_row};
use super::{
    CancelOutcome, InsertOutcome, Job, JobFilter, JobProgress, JobRelease, JobResult, NewJob,
    Store, StoreError, StoreResult, batch,
};

pub(super) const JOB_COLS: &str = "id, to_number, file_name, doc_kind, doc_size, doc_sha256, status, error, pages, \
    pages_sent, backend, provider_sid, owner_key_id, attempts, lease_id, lease_agent, lease_expires_at, \
    created_at, updated_at, bitrate, fax_mode, remote_ident, stage, requested_backend, line, lines_tried";

impl_from_row!(Job {
    id,
    to_number,
    file_name,
    doc_kind,
    doc_size,
    doc_sha256,
    status: parsed,
    error,
    pages,
    pages_sent,
    backend,
    provider_sid,
    owner_key_id,
    attempts,
    lease_id,
    lease_agent,
    lease_expires_at,
    created_at,
    updated_at,
    bitrate,
    fax_mode,
    remote_ident,
    stage,
    requested_backend,
    line,
    lines_tried
});

// Job statuses as SQL literals: spelled once, by `JobStatus`.
pub(super) const QUEUED: &str = JobStatus::Queued.as_str();
pub(super) const IN_PROGRESS: &str = JobStatus::InProgress.as_str();
pub(super) const SUCCESS: &str = JobStatus::Success.as_str();
pub(super) const FAILED: &str = JobStatus::Failed.as_str();
pub(super) const CANCELLED: &str = JobStatus::Cancelled.as_str();

/// The `stage` a job shows once the agent's result is in: delivered, failed for good, or back in the queue
/// (given back unfinished by its agent).
pub const STAGE_COMPLETED: &str = "completed";
pub const STAGE_FAILED: &str = "failed";
pub const STAGE_REQUEUED: &str = "retry scheduled";
pub const STAGE_CANCELLED: &str = "cancelled";
/// Back in the queue for the next line of the routing policy: its line could not place the call.
pub const STAGE_FAILOVER: &str = "failover scheduled";

/// Which queued jobs an agent's line may carry, as [`Jobs::lease_next`] selects them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineFilter {
    /// The agent's line kind (a name of `faxline_protocol::messages::LINE_KINDS`); `None`: an agent that
    /// reports no line (older agents), which leases only jobs nobody pinned to a line, and nothing while a
    /// routing policy is set.
    pub kind: Option<String>,
    /// A routing policy is set.
    pub routed: bool,
    /// With a policy: whether `kind` is one of its lines (a line outside it carries only jobs pinned to it).
    pub in_routing: bool,
    /// With a policy: the lines ahead of `kind` in its order that can take jobs now; a job reaches `kind`
    /// only once each of them has failed to place it.
    pub ahead: Vec<String>,
}

/// `lines_tried` as a delimited list, for `LIKE '%,<kind>,%'` (kinds have no `,`, `%` or `_`).
const TRIED: &str = "(',' || COALESCE(lines_tried, '') || ',')";

impl LineFilter {
    /// The SQL condition and its arguments: `$kind` is the parameter already bound to the line's kind, new
    /// ones are numbered from `$first` on. `None` when the agent may carry nothing at all.
    fn condition(&self, kind_param: usize, first: usize, mut args: Args) -> Option<(String, Args)> {
        let Some(kind) = self.kind.as_deref() else {
            return (!self.routed).then(|| ("requested_backend IS NULL".to_owned(), args));
        };
        let mut n = first;
        let pinned = format!("requested_backend = ${kind_param}");
        if self.routed && !self.in_routing {
            return Some((pinned, args));
        }
        let mut free = format!("requested_backend IS NULL AND {TRIED} NOT LIKE ${n}");
        args = args.s(&format!("%,{kind},%"));
        n += 1;
        if self.routed {
            for a in &self.ahead {
                free += &format!(" AND {TRIED} LIKE ${n}");
                args = args.s(&format!("%,{a},%"));
                n += 1;
            }
        }
        Some((format!("({pinned} OR ({free}))"), args))
    }
}

/// Jobs per status, for the metrics gauges.
#[derive(Debug, Clone)]
pub struct StatusCount {
    pub status: String,
    pub n: i64,
}

impl_from_row!(StatusCount { status, n });

/// What the metrics gauges show of the queue at one moment.
#[derive(Debug, Clone, Default)]
pub struct QueueStats {
    /// Jobs per status (statuses without jobs are absent).
    pub by_status: Vec<StatusCount>,
    /// When the oldest queued job was created (microseconds), if any is queued.
    pub oldest_queued_at: Option<i64>,
    /// Jobs held under a lease that has not expired.
    pub leases_outstanding: i64,
}

/// The outbound jobs of a [`Store`] (`store.jobs()`).
#[derive(Clone, Copy)]
pub struct Jobs<'s>(pub(super) &'s Store);

impl Jobs<'_> {
    /// Inserts a job and its document durably (group commit). With an idempotency key that is
    /// already taken, returns the existing job instead.
    ///
    /// A file or object backend gets the document first, as soon as the request arrives (many
    /// at once, bounded), and the row joins the next group commit only once it is written, so
    /// one slow write does not hold a whole batch; the database backend stores it with its row.
    pub async fn insert(&self, job: NewJob) -> StoreResult<InsertOutcome> {
        let documents = &self.0.documents;
        let id = super::DocumentId::Job(job.id.clone());
        let written = documents.put_before_commit(&id, &job.content).await?;
        let size = job.content.len() as i64;
        self.queue(job, written, size, None).await
    }

    /// [`Jobs::insert`] of a job whose document was spooled ([`super::spool::Spool`], named by
    /// `job.id`; `job.content` is not used): a file or object backend stores the spooled file
    /// before the row is queued (the local one renames it into place); the database backend writes
    /// it in the group commit, a piece at a time from the spool.
    pub async fn insert_spooled(
        &self,
        job: NewJob,
        spooled: super::spool::Spooled,
    ) -> StoreResult<InsertOutcome> {
        let documents = &self.0.documents;
        let size = spooled.size() as i64;
        if !documents.is_external() {
            return self.queue(job, false, size, Some(spooled)).await;
        }
        documents.put_spooled_before_commit(spooled).await?;
        self.queue(job, true, size, None).await
    }

    /// Queues the row (with the database backend, and its spooled document) for the group commit
    /// and waits for it.
    async fn queue(
        &self,
        job: NewJob,
        written: bool,
        size: i64,
        spooled: Option<super::spool::Spooled>,
    ) -> StoreResult<InsertOutcome> {
        let documents = &self.0.documents;
        let id = super::DocumentId::Job(job.id.clone());
        if written {
            batch::failpoint::reached("batch-documents-written");
        }
        let (tx, rx) = oneshot::channel();
        if self
            .0
            .batch_tx
            .send(batch::Request {
                job,
                written,
                size,
                spooled,
                reply: tx,
            })
            .await
            .is_err()
        {
            if written {
                batch::purge(documents, std::slice::from_ref(&id)).await;
            }
            return Err(StoreError::WriterGone);
        }
        rx.await.map_err(|_| StoreError::WriterGone)?
    }

    pub async fn get(&self, id: &str) -> StoreResult<Option<Job>> {
        self.0
            .db
            .one(
                &format!("SELECT {JOB_COLS} FROM fax_jobs WHERE id = $1"),
                Args::new().s(id),
            )
            .await
    }

    pub async fn by_idempotency_key(&self, key: &str) -> StoreResult<Option<Job>> {
        self.0
            .db
            .one(
                &format!("SELECT {JOB_COLS} FROM fax_jobs WHERE idempotency_key = $1"),
                Args::new().s(key),
            )
            .await
    }

    /// Counts for the metrics gauges: up to three aggregate queries, run when Prometheus scrapes.
    pub async fn stats(&self, now: i64) -> StoreResult<QueueStats> {
        let by_status = self
            .0
            .db
            .many(
                "SELECT status, COUNT(*) AS n FROM fax_jobs GROUP BY status",
                Args::new(),
            )
            .await?;
        let queued = by_status
            .iter()
            .any(|c: &StatusCount| c.status == QUEUED && c.n > 0);
        let oldest_queued_at = if queued {
            Some(
                self.0
                    .db
                    .count(
                        &format!(
                            "SELECT COALESCE(MIN(created_at), 0) FROM fax_jobs WHERE status = '{QUEUED}'"
                        ),
                        Args::new(),
                    )
                    .await?,
            )
        } else {
            None
        };
        let leases_outstanding = self
            .0
            .db
            .count(
                &format!(
                    "SELECT COUNT(*) FROM fax_jobs WHERE status = '{IN_PROGRESS}' AND lease_expires_at > $1"
                ),
                Args::new().i(now),
            )
            .await?;
        Ok(QueueStats {
            by_status,
            oldest_queued_at,
            leases_outstanding,
        })
    }

    /// Newest first; `status` and `to_number` filter exactly.
    pub async fn list(&self, f: &JobFilter) -> StoreResult<(i64, Vec<Job>)> {
        let mut cond = String::from("WHERE 1=1");
        let mut args = Args::new();
        let mut n = 0;
        if let Some(o) = &f.owner_key_id {
            n += 1;
            cond += &format!(" AND owner_key_id = ${n}");
            args = args.s(o);
        }
        if let Some(s) = &f.status {
            n += 1;
            cond += &format!(" AND status = ${n}");
            args = args.s(s);
        }
        if let Some(t) = &f.to_number {
            n += 1;
            cond += &format!(" AND to_number = ${n}");
            args = args.s(t);
        }
        let total = self
            .0
            .db
            .count(
                &format!("SELECT COUNT(*) FROM fax_jobs {cond}"),
                args.clone(),
            )
            .await?;
        let sql = format!(
            "SELECT {JOB_COLS} FROM fax_jobs {cond} ORDER BY created_at DESC, id LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        let jobs = self.0.db.many(&sql, args.i(f.limit).i(f.offset)).await?;
        Ok((total, jobs))
    }

    /// Cancels a job that is still queued. The caller checks ownership first.
    pub async fn cancel(&self, id: &str, now: i64) -> StoreResult<CancelOutcome> {
        let done: Option<Job> = self.0
            .db
            .write_one(
                &format!(
                    "UPDATE fax_jobs SET status = '{CANCELLED}', stage = '{STAGE_CANCELLED}', updated_at = $2 \
                     WHERE id = $1 AND status = '{QUEUED}' RETURNING {JOB_COLS}"
                ),
                Args::new().s(id).i(now),
            )
            .await?;
        if let Some(j) = done {
            return Ok(CancelOutcome::Cancelled(j));
        }
        Ok(match self.get(id).await? {
            Some(j) => CancelOutcome::NotQueued(j),
            None => CancelOutcome::NotFound,
        })
    }

    /// Returns jobs whose lease expired to the queue, or fails them when no attempts are left.
    /// Returns the number of jobs touched.
    /// Records the provider's id of the fax an agent's cloud line sent for the job, while that agent holds
    /// its lease. `false`: the job is not in progress under a lease of `agent`.
    pub async fn set_provider_sid(
        &self,
        id: &str,
        agent: &str,
        provider_sid: &str,
        now: i64,
    ) -> StoreResult<bool> {
        let n = self
            .0
            .db
            .exec(
                "UPDATE fax_jobs SET provider_sid = $1, updated_at = $2 \
                 WHERE id = $3 AND lease_agent = $4 AND status = 'in_progress' \
                 AND (provider_sid IS NULL OR provider_sid <> $1)",
                Args::new().s(provider_sid).i(now).s(id).s(agent),
            )
            .await?;
        if n == 1 {
            return Ok(true);
        }
        // Already recorded (a later poll), or not leased to this agent.
        Ok(self.get(id).await?.is_some_and(|j| {
            j.lease_agent.as_deref() == Some(agent)
                && j.status == faxline_protocol::JobStatus::InProgress
        }))
    }

    /// Jobs whose lease expired go back to the queue (or fail when no attempts are left). A job a cloud
    /// line had already handed to its provider (it recorded `provider_sid` while in progress)
    /// is never queued again, which could send the fax twice: it fails as "outcome unknown".
    pub async fn requeue_expired(&self, now: i64, max_attempts: u32) -> StoreResult<u64> {
        self.0.db.exec(
            &format!("UPDATE fax_jobs SET \
               status = CASE WHEN attempts >= $2 OR provider_sid IS NOT NULL THEN '{FAILED}' ELSE '{QUEUED}' END, \
               error = CASE WHEN provider_sid IS NOT NULL THEN 'outcome unknown: the agent was lost while the \
               cloud provider had the fax (see provider_sid); not sent again' \
               WHEN attempts >= $2 THEN 'agent lease expired; no attempts left' ELSE error END, \
               stage = CASE WHEN attempts >= $2 OR provider_sid IS NOT NULL THEN '{STAGE_FAILED}' ELSE stage END, \
               lease_id = NULL, lease_agent = NULL, lease_expires_at = NULL, updated_at = $1 \
             WHERE status = '{IN_PROGRESS}' AND lease_expires_at < $1"),
            Args::new().i(now).i(i64::from(max_attempts)),
        )
        .await
    }

    /// Leases the oldest due job that `line` may carry to `agent_id` until `expires`, recording the line
    /// on the job. Safe under concurrency: on PostgreSQL the candidate row is locked with
    /// `FOR UPDATE SKIP LOCKED`; on SQLite the single writer connection runs the conditional UPDATE
    /// atomically. The line's conditions are row filters of the same single statement (no extra query).
    pub async fn lease_next(
        &self,
        agent_id: &str,
        lease_id: &str,
        now: i64,
        expires: i64,
        line: &LineFilter,
    ) -> StoreResult<Option<Job>> {
        let lock = match self.0.db {
            Db::Sqlite { .. } => "",
            Db::Postgres(_) => "FOR UPDATE SKIP LOCKED",
        };
        let args = Args::new()
            .s(lease_id)
            .s(agent_id)
            .i(expires)
            .i(now)
            .os(line.kind.as_deref());
        let Some((cond, args)) = line.condition(5, 6, args) else {
            return Ok(None);
        };
        let sql = format!(
            "UPDATE fax_jobs SET status = '{IN_PROGRESS}', lease_id = $1, lease_agent = $2, \
               lease_expires_at = $3, attempts = attempts + 1, updated_at = $4, line = $5 \
             WHERE status = '{QUEUED}' AND id = (SELECT id FROM fax_jobs \
               WHERE status = '{QUEUED}' AND next_attempt_at <= $4 AND {cond} \
               ORDER BY created_at, id LIMIT 1 {lock}) \
             RETURNING {JOB_COLS}"
        );
        self.0.db.write_one(&sql, args).await
    }

    /// Sends a job its line could not place through the next line (the routing policy): queued again at
    /// once with `line` added to `lines_tried` and `error` saying why, while the lease is held by a lease on
    /// `line`. Refused (`None`) when anything says a call may have reached the far end — pages sent, a
    /// provider's id recorded — or the job is pinned to a line; the caller then finishes it as failed.
    pub async fn fail_over(
        &self,
        job_id: &str,
        lease_id: &str,
        line: &str,
        error: &str,
        now: i64,
    ) -> StoreResult<Option<Job>> {
        let sql = format!(
            "UPDATE fax_jobs SET status = '{QUEUED}', next_attempt_at = $4, stage = '{STAGE_FAILOVER}', \
               error = $5, lines_tried = CASE WHEN COALESCE(lines_tried, '') = '' THEN $3 \
                 ELSE lines_tried || ',' || $3 END, \
               lease_id = NULL, lease_agent = NULL, lease_expires_at = NULL, updated_at = $4 \
             WHERE id = $1 AND lease_id = $2 AND status = '{IN_PROGRESS}' AND line = $3 \
               AND requested_backend IS NULL AND provider_sid IS NULL AND COALESCE(pages_sent, 0) = 0 \
             RETURNING {JOB_COLS}"
        );
        self.0
            .db
            .write_one(
                &sql,
                Args::new().s(job_id).s(lease_id).s(line).i(now).s(error),
            )
            .await
    }

    /// Extends a lease and records progress; false when the lease is no longer held.
    pub async fn renew_lease(
        &self,
        job_id: &str,
        lease_id: &str,
        now: i64,
        expires: i64,
        p: &JobProgress,
    ) -> StoreResult<bool> {
        let n = self
            .0
            .db
            .exec(
                &format!(
                    "UPDATE fax_jobs SET lease_expires_at = $3, updated_at = $4, \
                   pages_sent = COALESCE($5, pages_sent), pages = COALESCE($6, pages), \
                   stage = COALESCE($7, stage) \
                 WHERE id = $1 AND lease_id = $2 AND status = '{IN_PROGRESS}'"
                ),
                Args::new()
                    .s(job_id)
                    .s(lease_id)
                    .i(expires)
                    .i(now)
                    .oi(p.pages_sent)
                    .oi(p.pages_total)
                    .os(p.stage.as_deref()),
            )
            .await?;
        Ok(n == 1)
    }

    /// Applies an agent's final result; `None` when the lease is no longer held. A result is final: the
    /// agent's own `[retry]` policy has already run its attempts, so the API never queues the job again
    /// here (a job the agent gives back unfinished goes through [`Jobs::release_lease`]).
    ///
    /// The result's `pages` are the pages transferred: they go to `pages_sent`, while `pages` keeps the
    /// document's count (filled from a success only when it was unknown). A success reported without a count
    /// (or with 0) delivered the whole document. `stage` ends with the job's final phase (`completed` or
    /// `failed`), so a finished job never shows a call phase of a call that is over.
    pub async fn finish(
        &self,
        job_id: &str,
        lease_id: &str,
        r: &JobResult,
        now: i64,
    ) -> StoreResult<Option<Job>> {
        let sql = format!(
            "UPDATE fax_jobs SET \
               status = $3, error = $4, provider_sid = COALESCE($6, provider_sid), \
               pages = CASE WHEN pages IS NULL AND $3 = '{SUCCESS}' THEN NULLIF($5, 0) ELSE pages END, \
               pages_sent = CASE WHEN $3 = '{SUCCESS}' THEN COALESCE(NULLIF($5, 0), pages) \
                 ELSE COALESCE($5, pages_sent, 0) END, \
               stage = CASE WHEN $3 = '{SUCCESS}' THEN '{STAGE_COMPLETED}' ELSE '{STAGE_FAILED}' END, \
               bitrate = COALESCE($8, bitrate), fax_mode = COALESCE($9, fax_mode), \
               remote_ident = COALESCE($10, remote_ident), \
               lease_id = NULL, lease_agent = NULL, lease_expires_at = NULL, updated_at = $7 \
             WHERE id = $1 AND lease_id = $2 AND status = '{IN_PROGRESS}' RETURNING {JOB_COLS}"
        );
        self.0
            .db
            .write_one(
                &sql,
                Args::new()
                    .s(job_id)
                    .s(lease_id)
                    .s(r.status.as_str())
                    .os(r.error.as_deref())
                    .oi(r.pages)
                    .os(r.provider_sid.as_deref())
                    .i(now)
                    .oi(r.bitrate)
                    .os(r.fax_mode.as_deref())
                    .os(r.remote_ident.as_deref()),
            )
            .await
    }

    /// Takes back a job its agent gives up unfinished (it is stopping), as an expired lease is taken back:
    /// queued again, due when the agent asked, while attempts remain (`stage` `retry scheduled`,
    /// the reason as its error), else failed for good. `None` when the lease is no longer held.
    pub async fn release_lease(
        &self,
        job_id: &str,
        lease_id: &str,
        r: &JobRelease,
        now: i64,
        max_attempts: u32,
    ) -> StoreResult<Option<Job>> {
        let sql = format!(
            "UPDATE fax_jobs SET \
               status = CASE WHEN attempts >= $4 THEN '{FAILED}' ELSE '{QUEUED}' END, \
               next_attempt_at = CASE WHEN attempts >= $4 THEN next_attempt_at ELSE $7 END, \
               stage = CASE WHEN attempts >= $4 THEN '{STAGE_FAILED}' ELSE '{STAGE_REQUEUED}' END, \
               error = $3, pages_sent = COALESCE($6, pages_sent), \
               lease_id = NULL, lease_agent = NULL, lease_expires_at = NULL, updated_at = $5 \
             WHERE id = $1 AND lease_id = $2 AND status = '{IN_PROGRESS}' RETURNING {JOB_COLS}"
        );
        self.0
            .db
            .write_one(
                &sql,
                Args::new()
                    .s(job_id)
                    .s(lease_id)
                    .s(&r.reason)
                    .i(i64::from(max_attempts))
                    .i(now)
                    .oi(r.pages_sent)
                    .i(r.due),
            )
            .await
    }
}
