//! Group commit for job inserts: requests queue on a channel and one task writes whatever has
//! accumulated in a single transaction, so one fsync makes a whole batch durable. Each caller
//! is answered only after the commit.

use faxline_protocol::JobStatus;
use tokio::sync::{mpsc, oneshot};

use super::db::{Db, row_of, with_writer};
use super::documents::{DocumentId, DocumentStore, Documents, OwnerTx};
use super::jobs::JOB_COLS;
use super::spool::Spooled;
use super::{InsertOutcome, Job, NewJob, StoreError, StoreResult};

/// Largest batch per transaction.
const MAX_BATCH: usize = 256;

/// A job of a batch: its row, whether its document was written ahead, its size, and its spooled
/// upload (database backend).
type Entry<'a> = (&'a NewJob, bool, i64, Option<&'a Spooled>);

pub(crate) struct Request {
    pub job: NewJob,
    /// Whether the document is already in a file or object backend ([`Documents::put_before_commit`]);
    /// otherwise it is put in the transaction (the database backend).
    pub written: bool,
    /// The document's length (the job's `doc_size`).
    pub size: i64,
    /// The spooled upload the database backend writes in the transaction (instead of `job.content`).
    pub spooled: Option<Spooled>,
    pub reply: oneshot::Sender<StoreResult<InsertOutcome>>,
}

pub(crate) fn spawn(db: Db, documents: Documents) -> mpsc::Sender<Request> {
    let (tx, mut rx) = mpsc::channel::<Request>(4096);
    tokio::spawn(async move {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
            let jobs: Vec<Entry<'_>> = batch
                .iter()
                .map(|r| (&r.job, r.written, r.size, r.spooled.as_ref()))
                .collect();
            match write(&db, &documents, &jobs).await {
                Ok(inserted) => {
                    for (req, created) in batch.drain(..).zip(inserted) {
                        let outcome = if created {
                            let mut job = req.job.to_job();
                            job.doc_size = req.size;
                            Ok(InsertOutcome::Created(job))
                        } else {
                            existing(&db, &req.job).await
                        };
                        let _ = req.reply.send(outcome);
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, jobs = batch.len(), "job batch insert failed");
                    let msg = e.to_string();
                    let documents = e.is_document_storage();
                    for req in batch.drain(..) {
                        let err = if documents {
                            StoreError::DocumentsFailed(msg.clone())
                        } else {
                            StoreError::Db(sqlx::Error::Protocol(msg.clone()))
                        };
                        let _ = req.reply.send(Err(err));
                    }
                }
            }
        }
    });
    tx
}

const INSERT_JOB: &str = "INSERT INTO fax_jobs (id, to_number, file_name, doc_kind, doc_size, doc_sha256, \
    status, backend, owner_key_id, idempotency_key, attempts, next_attempt_at, created_at, updated_at, pages, \
    requested_backend) \
    VALUES ($1, $2, $3, $4, $5, $6, $12, $7, $8, $9, 0, $10, $10, $10, $11, $13) \
    ON CONFLICT (idempotency_key) DO NOTHING";

/// Inserts all jobs in one transaction; per job, whether it was created (false: its idempotency
/// key already existed).
///
/// A document in a file or object backend was written before its request was queued here
/// ([`super::Jobs::insert`]); the client is answered only after this commit. When the transaction
/// fails, those documents are deleted again; a document whose job turned out to exist already (its
/// idempotency key was taken) is deleted after the commit; what a crash between the write and the
/// commit leaves is swept by retention ([`super::Retention::sweep_orphans`]). The database backend
/// puts each document in the transaction, next to its row (a spooled upload a piece at a time).
async fn write(db: &Db, documents: &Documents, jobs: &[Entry<'_>]) -> StoreResult<Vec<bool>> {
    let written: StoreResult<Vec<bool>> = with_writer!(db, |p| async {
        let mut tx = p.begin().await?;
        let mut created = Vec::with_capacity(jobs.len());
        for (j, written, size, spooled) in jobs {
            let n = sqlx::query(INSERT_JOB)
                .bind(&j.id)
                .bind(&j.to_number)
                .bind(&j.file_name)
                .bind(&j.doc_kind)
                .bind(*size)
                .bind(&j.doc_sha256)
                .bind(&j.backend)
                .bind(&j.owner_key_id)
                .bind(&j.idempotency_key)
                .bind(j.created_at)
                .bind(j.pages)
                .bind(JobStatus::Queued.as_str())
                .bind(&j.requested_backend)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n == 1 && !written {
                let mut owner = OwnerTx::from(&mut *tx);
                match spooled {
                    Some(s) => documents.put_spooled_in(&mut owner, s).await?,
                    None => {
                        documents
                            .put(&mut owner, &DocumentId::Job(j.id.clone()), &j.content)
                            .await?
                    }
                }
            }
            created.push(n == 1);
        }
        tx.commit().await?;
        Ok(created)
    }
    .await);
    // The documents written ahead whose rows did not commit.
    let unused: Vec<DocumentId> = match &written {
        Err(_) => jobs
            .iter()
            .filter(|(_, ahead, _, _)| *ahead)
            .map(|(j, _, _, _)| DocumentId::Job(j.id.clone()))
            .collect(),
        Ok(created) => jobs
            .iter()
            .zip(created)
            .filter(|((_, ahead, _, _), created)| *ahead && !**created)
            .map(|((j, _, _, _), _)| DocumentId::Job(j.id.clone()))
            .collect(),
    };
    if !unused.is_empty() {
        purge(documents, &unused).await;
    }
    written
}

/// Deletes the documents of jobs that were not inserted. Best effort: the error that matters is
/// the insert's, and what stays behind is an orphan the sweep finds.
pub(super) async fn purge(documents: &Documents, ids: &[DocumentId]) {
    if let Err(e) = documents.purge(ids).await {
        tracing::warn!(error = %e, documents = ids.len(), "cannot delete the documents of jobs not inserted");
    }
}

/// A test-only pause point in debug builds: with `FAXLINE_TEST_FAILPOINT` naming the point, the
/// process stops there for good (the batch task sleeps, nothing after it runs) after printing
/// `failpoint <name> reached` on standard error, so a test can kill the process at exactly that
/// moment. Release builds have no failpoints; in debug builds the variable is read once and
/// nothing happens without it.
pub(super) mod failpoint {
    #[cfg(debug_assertions)]
    pub(in crate::store) fn reached(name: &str) {
        use std::sync::OnceLock;
        static ARMED: OnceLock<Option<String>> = OnceLock::new();
        let armed = ARMED.get_or_init(|| std::env::var("FAXLINE_TEST_FAILPOINT").ok());
        if armed.as_deref() == Some(name) {
            eprintln!("failpoint {name} reached");
            // Blocks this task's worker thread for good: the test kills the process.
            loop {
                std::thread::park();
            }
        }
    }

    #[cfg(not(debug_assertions))]
    #[inline(always)]
    pub(in crate::store) fn reached(_name: &str) {}
}

async fn existing(db: &Db, job: &NewJob) -> StoreResult<InsertOutcome> {
    let key = job.idempotency_key.as_deref().unwrap_or_default();
    let store_lookup = with_writer!(db, |p| {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {} FROM fax_jobs WHERE idempotency_key = $1",
            JOB_COLS
        )))
        .bind(key)
        .fetch_optional(p)
        .await?;
        match row {
            Some(r) => Some(row_of::<Job, _>(&r)?),
            None => None,
        }
    });
    store_lookup
        .map(InsertOutcome::Existing)
        .ok_or(StoreError::Db(sqlx::Error::RowNotFound))
}
