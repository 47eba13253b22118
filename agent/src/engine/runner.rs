//! The IO shell around the job machines: leases jobs from the API (long poll) within the concurrency limits,
//! runs one task per job (heartbeats, document download and render into the spool, the journal, the call on
//! the [`Line`], the result report), and delivers received faxes from the durable queue.
//!
//! All tasks live in [`JoinSet`]s owned by [`Daemon::run`]'s future: dropping that future (a crash, in tests
//! an aborted task) stops everything without any goodbye, which is exactly what the journal is for.
//!
//! Leases and the journal: a call is placed only while the job's lease is confirmed held (a job cancelled
//! after its lease expired is never dialled), and journal records of jobs the API has finished without this
//! agent (cancelled, failed after the lease expired) are forgotten, at start and every few minutes, so
//! nothing stays in `state/calls/` forever.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use faxline_protocol::JobStatus;
use faxline_protocol::client::{AgentClient, AgentClientError, CallDetails, LeasedJob, SendResult};
use faxline_protocol::messages::LineHealth;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::DaemonError;
use super::document::{job_file, link_or_copy, remove_job_files, render, token_file};
use super::inbound::{InboundQueue, deliver_forever};
use super::job::{Action, Input, JobMachine};
use super::journal::{CallRecord, Journal};
use super::line::{CallRequest, Document, DocumentForm, Line, Phase, Progress};
use super::outcome::CallOutcome;
use super::spool::{persist_durably, remove_durably, temp_in, write_durably};
use crate::config::Config;
use faxline_protocol::mask_number;

/// At most this much of the shutdown grace period is kept for reporting the results of calls hung up at its
/// end (a quarter of the grace period, at least 2 s).
const REPORT_RESERVE: Duration = Duration::from_secs(10);

/// Minimum time between two progress reports of one job.
const PROGRESS_INTERVAL: Duration = Duration::from_secs(1);

/// How often journal records of jobs that ended elsewhere are looked for (the first pass runs at start).
const JOURNAL_SWEEP: Duration = Duration::from_secs(600);

/// Follows one call's [`Progress`] and reports it to the API.
struct ProgressFollow {
    rx: watch::Receiver<Option<Phase>>,
}

impl ProgressFollow {
    fn new() -> (Self, Progress) {
        let (tx, rx) = Progress::channel();
        (Self { rx }, tx)
    }

    /// Reports each new phase to the API, at most one report per [`PROGRESS_INTERVAL`]; never returns.
    /// A failed report is only logged: progress must never hold up the call.
    async fn report(&mut self, api: &AgentClient, job: &LeasedJob) -> std::convert::Infallible {
        loop {
            if self.rx.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
            let phase = self.rx.borrow_and_update().clone();
            if let Some(Phase { stage, pages_sent }) = phase {
                match tokio::time::timeout(
                    Duration::from_secs(10),
                    api.progress_stage(job, &stage, pages_sent.map(i64::from)),
                )
                .await
                {
                    Ok(Ok(_)) => tracing::debug!(job = %job.job_id, %stage, "progress reported"),
                    Ok(Err(e)) => {
                        tracing::warn!(job = %job.job_id, error = %e, "progress report failed")
                    }
                    Err(_) => tracing::warn!(job = %job.job_id, "progress report timed out"),
                }
            }
            tokio::time::sleep(PROGRESS_INTERVAL).await;
        }
    }
}

/// The agent daemon.
pub struct Daemon<L: Line> {
    cfg: Arc<Config>,
    api: AgentClient,
    line: Arc<L>,
    journal: Journal,
    inbound: InboundQueue,
}

/// Everything a job task needs.
struct Ctx<L: Line> {
    cfg: Arc<Config>,
    api: AgentClient,
    line: Arc<L>,
    journal: Journal,
    /// Cancelled when shutdown begins: no new call is placed and backoff waits end; jobs report instead.
    stopping: CancellationToken,
    /// Cancelled when the grace period is up: running calls are hung up and report their outcome.
    hangup: CancellationToken,
}

impl<L: Line> Daemon<L> {
    /// Prepares the spool (`out/`, `in/`, `queue/`, `state/calls/`).
    pub fn new(
        cfg: Arc<Config>,
        api: AgentClient,
        line: L,
        inbound: InboundQueue,
    ) -> Result<Self, DaemonError> {
        // Shared with Asterisk through the spool's group (spool.rs).
        for dir in [cfg.spool.outgoing_dir(), cfg.spool.incoming_dir()] {
            super::spool::prepare_shared_dir(&dir)
                .map_err(|source| DaemonError::Spool { path: dir, source })?;
        }
        let journal = Journal::open(journal_dir(&cfg))?;
        Ok(Self {
            cfg,
            api,
            line: Arc::new(line),
            journal,
            inbound,
        })
    }

    /// Runs until `shutdown` resolves; then stops leasing and placing calls, lets running calls finish for most
    /// of `shutdown_grace_secs`, hangs up the rest and reports their results within the remainder.
    pub async fn run(
        self,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> Result<(), DaemonError> {
        let limit = self
            .cfg
            .limits
            .max_calls
            .min(self.cfg.limits.max_calls_per_trunk)
            .max(1) as usize;
        let permits = Arc::new(Semaphore::new(limit));
        let ctx = Arc::new(Ctx {
            cfg: self.cfg.clone(),
            api: self.api.clone(),
            line: self.line.clone(),
            journal: self.journal.clone(),
            stopping: CancellationToken::new(),
            hangup: CancellationToken::new(),
        });
        let pending = self.journal.jobs()?;
        if !pending.is_empty() {
            tracing::warn!(
                jobs = pending.len(),
                "call journal holds jobs from an earlier run; they are reconciled when the API hands them out again"
            );
        }
        let mut background = JoinSet::new();
        background.spawn(deliver_forever(
            self.inbound.clone(),
            self.api.clone(),
            self.cfg.spool.delete_after_upload,
            Duration::from_secs(60),
        ));
        let mut jobs: JoinSet<()> = JoinSet::new();
        let active: Arc<std::sync::Mutex<std::collections::HashSet<String>>> = Arc::default();
        background.spawn(sweep_journal_forever(ctx.clone(), active.clone()));
        let poll = Duration::from_secs(self.cfg.agent.lease_poll_secs.clamp(1, 30));
        let receive_only = self.cfg.agent.receive_only;
        tracing::info!(
            line = self.line.kind(),
            max_calls = limit,
            receive_only,
            "agent running"
        );
        tokio::pin!(shutdown);
        let mut failures = 0u32;
        let mut last_report: Option<tokio::time::Instant> = None;
        loop {
            while jobs.try_join_next().is_some() {}
            let free = permits.available_permits();
            let health = LineHealth {
                kind: self.line.kind().to_owned(),
                problems: self.line.problems(),
            };
            crate::metrics::line_health(self.line.kind(), health.healthy());
            let healthy = health.healthy();
            let lease = async {
                if !healthy || receive_only {
                    // A line that is down (or a receive-only agent) takes no work, but the agent still polls
                    // (leasing nothing) at the poll interval, so the API's readiness knows it is alive and
                    // how its line is.
                    if last_report.is_none_or(|t| t.elapsed() >= poll) {
                        last_report = Some(tokio::time::Instant::now());
                        let r = self
                            .api
                            .lease_reporting(Duration::ZERO, 0, Some(health))
                            .await;
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        return r.map(|jobs| (jobs, true));
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    return Ok::<_, AgentClientError>((Vec::new(), true));
                }
                if free == 0 {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    return Ok((Vec::new(), false));
                }
                let jobs = self
                    .api
                    .lease_reporting(poll, free.min(10) as u32, Some(health))
                    .await?;
                Ok((jobs, false))
            };
            let leased = tokio::select! {
                _ = &mut shutdown => break,
                r = lease => r,
            };
            match leased {
                Ok((list, true)) => {
                    failures = 0;
                    // An API older than the heartbeat poll leases one job even for `max_jobs = 0`: give it back.
                    for job in list {
                        tracing::warn!(job = %job.job_id, "leased while taking no jobs; giving it back");
                        let _ = self
                            .api
                            .release(&job, "the agent's line is down", None, Duration::ZERO)
                            .await;
                    }
                }
                Ok((list, false)) => {
                    failures = 0;
                    for job in list {
                        let Ok(permit) = permits.clone().try_acquire_owned() else {
                            // Cannot happen (we asked for at most `free`); the lease expires and the API
                            // offers the job again.
                            tracing::error!(job = %job.job_id, "leased beyond the limit");
                            continue;
                        };
                        if !active
                            .lock()
                            .map(|mut a| a.insert(job.job_id.clone()))
                            .unwrap_or(false)
                        {
                            // Our earlier lease expired while the job still runs here: let that task finish
                            // (its journal record decides what a later lease reports). Never two tasks per job.
                            tracing::warn!(job = %job.job_id, "job re-offered while still running here; ignored");
                            continue;
                        }
                        let ctx = ctx.clone();
                        let active = active.clone();
                        jobs.spawn(async move {
                            let id = job.job_id.clone();
                            run_job(&ctx, job).await;
                            if let Ok(mut a) = active.lock() {
                                a.remove(&id);
                            }
                            drop(permit);
                        });
                    }
                }
                Err(e) => {
                    failures = failures.saturating_add(1);
                    let wait = Duration::from_millis(500 * 2u64.pow(failures.min(6)));
                    tracing::warn!(error = %e, retry_in_ms = wait.as_millis() as u64, "cannot lease jobs");
                    tokio::select! {
                        _ = &mut shutdown => break,
                        _ = tokio::time::sleep(wait) => {}
                    }
                }
            }
        }
        // No new calls from here on; jobs waiting to retry or still preparing report and go back to the queue.
        ctx.stopping.cancel();
        let grace = Duration::from_secs(self.cfg.agent.shutdown_grace_secs);
        let (finish, reserve) = shutdown_budget(grace);
        tracing::info!(
            running = jobs.len(),
            grace_secs = grace.as_secs(),
            finish_ms = finish.as_millis() as u64,
            "shutting down: running calls may finish, then they are hung up and reported"
        );
        let _ =
            tokio::time::timeout(finish, async { while jobs.join_next().await.is_some() {} }).await;
        if !jobs.is_empty() {
            tracing::warn!(
                running = jobs.len(),
                "hanging up the calls still running at the end of the grace period; their results are reported"
            );
            ctx.hangup.cancel();
            let _ =
                tokio::time::timeout(reserve, async { while jobs.join_next().await.is_some() {} })
                    .await;
        }
        if !jobs.is_empty() {
            tracing::warn!(
                running = jobs.len(),
                "jobs whose results could not be reported within the grace period are stopped; the journal reconciles them"
            );
        }
        jobs.shutdown().await;
        background.shutdown().await;
        Ok(())
    }
}

/// How a shutdown grace period is spent: `(finish, reserve)`: running calls may go on for `finish`, then they
/// are hung up and have `reserve` to report their outcome; together exactly `grace`.
fn shutdown_budget(grace: Duration) -> (Duration, Duration) {
    let reserve = (grace / 4)
        .clamp(Duration::from_secs(2), REPORT_RESERVE)
        .min(grace);
    (grace - reserve, reserve)
}

/// `<spool>/state/calls`.
pub fn journal_dir(cfg: &Config) -> PathBuf {
    cfg.spool.dir.join("state").join("calls")
}

/// One job from lease to report.
async fn run_job<L: Line>(ctx: &Ctx<L>, job: LeasedJob) {
    if !crate::engine::spool::is_valid_job_token(&job.job_id) || job.job_id.len() > 48 {
        tracing::error!("leased a job whose id cannot name spool files; reporting it failed");
        let result = failed_result("the job id is not usable by this agent");
        let _ = ctx.api.result(&job, &result).await;
        return;
    }
    tracing::info!(job = %job.job_id, to = %mask_number(&job.to), api_attempt = job.attempt, "job leased");
    let heartbeat = heartbeat_loop(&ctx.api, &job);
    let work = drive(ctx, &job);
    tokio::pin!(heartbeat);
    // The heartbeat never ends on its own (after a lost lease it stays quiet): the work decides.
    tokio::select! {
        () = work => {}
        () = &mut heartbeat => {}
    }
}

async fn heartbeat_loop(api: &AgentClient, job: &LeasedJob) {
    let mut expires = job.lease_expires_at;
    loop {
        let now = faxline_protocol::time::now_s();
        let secs = ((expires - now) / 3).clamp(1, 60) as u64;
        tokio::time::sleep(Duration::from_secs(secs)).await;
        match api.heartbeat(job).await {
            Ok(e) => expires = e,
            Err(AgentClientError::LeaseLost) => {
                tracing::warn!(job = %job.job_id, "lease lost");
                // Keep the future pending: the job's work decides what happens next.
                std::future::pending::<()>().await;
            }
            Err(e) => tracing::warn!(job = %job.job_id, error = %e, "heartbeat failed"),
        }
    }
}

/// Forgets the journal records of jobs the API has finished without this agent, periodically.
async fn sweep_journal_forever<L: Line>(ctx: Arc<Ctx<L>>, active: Arc<Mutex<HashSet<String>>>) {
    loop {
        let jobs = match ctx.journal.jobs() {
            Ok(j) => j,
            Err(e) => {
                tracing::warn!(error = %e, "cannot list the call journal");
                Vec::new()
            }
        };
        for job_id in jobs {
            let running = active.lock().map(|a| a.contains(&job_id)).unwrap_or(true);
            if !running {
                forget_if_finished(&ctx, &job_id).await;
            }
        }
        tokio::time::sleep(JOURNAL_SWEEP).await;
    }
}

/// Removes a job's journal record and spool files when the API says the job will never be offered again
/// (final, or unknown). Kept otherwise (queued again: the record decides what the next lease does) and when
/// the API cannot be asked. Returns whether the job was forgotten.
async fn forget_if_finished<L: Line>(ctx: &Ctx<L>, job_id: &str) -> bool {
    let status = match ctx.api.job_status(job_id).await {
        Ok(s) => s,
        Err(e) => {
            tracing::debug!(job = %job_id, error = %e, "cannot ask the API about a journalled job");
            return false;
        }
    };
    let record = ctx.journal.get(job_id).ok().flatten();
    match &status {
        Some(s) if !s.is_final() => return false,
        Some(s) => {
            let said = match &record {
                Some(CallRecord::Ended { outcome, .. }) if outcome.is_success() => {
                    "the journal says the fax was SENT, but the API did not get that result"
                }
                Some(CallRecord::Ended { .. }) => "its last attempt failed",
                Some(CallRecord::InFlight { .. }) => "a call may have been running",
                None => "no record",
            };
            tracing::warn!(
                job = %job_id,
                api_status = %s.status,
                journal = said,
                "the job ended on the API without this agent; forgetting its journal record, no call is placed"
            );
        }
        None => {
            tracing::warn!(job = %job_id, "the API does not know a journalled job; forgetting its record")
        }
    }
    remove_job_files(&ctx.cfg, job_id);
    if let Err(e) = ctx.journal.remove(job_id) {
        tracing::warn!(job = %job_id, error = %e, "cannot remove the journal record");
        return false;
    }
    true
}

/// Confirms the lease before a call. `false`: the lease is gone (expired, the job re-queued or cancelled)
/// or the API could not confirm it within about half a minute; no call may be placed then.
async fn lease_held(api: &AgentClient, job: &LeasedJob) -> bool {
    for _ in 0..10 {
        match api.heartbeat(job).await {
            Ok(_) => return true,
            Err(AgentClientError::LeaseLost) => return false,
            Err(e) => {
                tracing::warn!(job = %job.job_id, error = %e, "cannot confirm the lease before dialling; retrying");
                tokio::time::sleep(Duration::from_secs(3)).await;
            }
        }
    }
    false
}

fn failed_result(error: &str) -> SendResult {
    SendResult {
        status: JobStatus::Failed,
        error: Some(error.to_owned()),
        pages: None,
        provider_sid: None,
    }
}

/// How long a job this agent gives back at shutdown waits before it may be leased again: long enough
/// that a restarting agent is up to take it, short enough that another agent soon does if it is not.
const GIVE_BACK_HOLD: Duration = Duration::from_secs(60);

/// What the agent tells the API when a job's work ends.
enum Report {
    /// The job is done: delivered, or failed for good (the agent's `[retry]` policy has had its say).
    Final(SendResult),
    /// The agent is stopping mid-job: the job goes back to the queue, unfinished.
    GiveBack { reason: String, pages: Option<i64> },
}

/// Runs the job machine to its end.
async fn drive<L: Line>(ctx: &Ctx<L>, job: &LeasedJob) {
    let record = match ctx.journal.get(&job.job_id) {
        Ok(r) => r,
        Err(e) => {
            // Unreadable: a call may have been placed. Never guess in favour of dialling.
            tracing::error!(job = %job.job_id, error = %e, "call journal unreadable; treating the job as possibly called");
            Some(CallRecord::InFlight {
                attempt: 1,
                token: JobMachine::token(&job.job_id, 1),
            })
        }
    };
    if record.is_some() {
        tracing::warn!(job = %job.job_id, "the journal knows this job from an earlier run; reconciling, not redialling blindly");
    }
    let mut machine = JobMachine::new(job.job_id.clone(), ctx.cfg.retry.clone());
    let age = ctx.journal.age(&job.job_id).unwrap_or_default();
    machine.handle_input(Input::Leased { record, age }, Instant::now());
    loop {
        let Some(action) = machine.poll_action() else {
            // Nothing to do but wait for the backoff (cut short at shutdown: the next attempt is not dialled,
            // the job reports and goes back to the queue); without a timeout the job has ended here.
            let Some(at) = machine.poll_timeout() else {
                break;
            };
            tokio::select! {
                () = tokio::time::sleep_until(at.into()) => machine.handle_timeout(Instant::now()),
                () = ctx.stopping.cancelled() => machine.handle_input(Input::Stopping, Instant::now()),
            }
            continue;
        };
        let input = match action {
            Action::PrepareDocument => prepare(ctx, job).await,
            Action::Dial {
                attempt,
                token,
                ecm,
            } => dial(ctx, job, attempt, token, ecm).await,
            Action::Backoff { record, after } => {
                if let Some(record) = &record
                    && let Err(e) = ctx.journal.put(&job.job_id, record)
                {
                    tracing::error!(job = %job.job_id, error = %e, "cannot write the call journal");
                }
                tracing::info!(job = %job.job_id, wait_secs = after.as_secs(), "retrying after backoff");
                None
            }
            Action::Report {
                record,
                outcome,
                attempts,
                unplaced,
            } => {
                if let Some(r) = &record
                    && let Err(e) = ctx.journal.put(&job.job_id, r)
                {
                    tracing::error!(job = %job.job_id, error = %e, "cannot write the call journal");
                }
                if report(ctx, job, &outcome, attempts, unplaced).await {
                    Some(Input::Reported)
                } else {
                    None
                }
            }
            Action::Cleanup => {
                cleanup(ctx, &job.job_id);
                None
            }
        };
        if let Some(input) = input {
            machine.handle_input(input, Instant::now());
        }
    }
    if !machine.is_done() {
        // Stopped without a reported result: the lease was lost. If the API has finished the job (e.g.
        // cancelled it after the lease expired) it never returns, so its record must not linger.
        forget_if_finished(ctx, &job.job_id).await;
    }
}

/// Downloads the document and puts it into the spool (temp + rename) in the line's form: rendered to TIFF-F for
/// a telephony line, as uploaded for a line that renders itself. The download is streamed into a temporary
/// file in the spool, its SHA-256 checked as it arrives; a mismatch or a failure deletes the partial file.
async fn prepare<L: Line>(ctx: &Ctx<L>, job: &LeasedJob) -> Option<Input> {
    let form = ctx.line.document_form();
    let path = job_file(&ctx.cfg, &job.job_id, form);
    let dir = ctx.cfg.spool.outgoing_dir();
    let downloaded = loop {
        match download(ctx, job, &dir).await {
            Ok(tmp) => break tmp,
            Err(Fetch::Client(AgentClientError::LeaseLost)) => {
                return Some(Input::DocumentFailed {
                    error: "the lease was lost before the document was fetched".into(),
                });
            }
            Err(Fetch::Client(AgentClientError::Checksum)) => {
                return Some(Input::DocumentFailed {
                    error: "the document does not match its checksum".into(),
                });
            }
            Err(Fetch::Spool(e)) => {
                return Some(Input::DocumentFailed {
                    error: format!("cannot write the spool file in {}: {e}", dir.display()),
                });
            }
            Err(Fetch::Client(e)) => {
                tracing::warn!(job = %job.job_id, error = %e, "document download failed; retrying");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    };
    let pages = match form {
        DocumentForm::FaxTiff => {
            // The renderer takes the whole document (a PDF is read as a whole): read back from the spool
            // for the render only.
            let bytes = match std::fs::read(downloaded.path()) {
                Ok(b) => b,
                Err(e) => {
                    return Some(Input::DocumentFailed {
                        error: format!("cannot read the downloaded document back: {e}"),
                    });
                }
            };
            drop(downloaded);
            let started = Instant::now();
            let rendered = render(&ctx.cfg, bytes).await;
            metrics::histogram!("faxline_agent_render_duration_seconds")
                .record(started.elapsed().as_secs_f64());
            let (tiff, pages) = match rendered {
                Ok(r) => r,
                Err(error) => {
                    metrics::counter!("faxline_agent_render_failures_total").increment(1);
                    return Some(Input::DocumentFailed { error });
                }
            };
            if let Err(e) = write_durably(&path, &tiff) {
                return Some(Input::DocumentFailed {
                    error: format!("cannot write the spool file {}: {e}", path.display()),
                });
            }
            Some(pages)
        }
        DocumentForm::Original => {
            if let Err(e) = persist_durably(downloaded, &path) {
                return Some(Input::DocumentFailed {
                    error: format!("cannot write the spool file {}: {e}", path.display()),
                });
            }
            None
        }
    };
    if let Some(pages) = pages {
        if let Err(e) = ctx.api.progress(job, 0, Some(i64::from(pages))).await {
            tracing::warn!(job = %job.job_id, error = %e, "progress report failed");
        }
        tracing::info!(job = %job.job_id, pages, "document rendered into the spool");
    } else {
        tracing::info!(job = %job.job_id, "document stored in the spool as uploaded");
    }
    Some(Input::DocumentReady {
        pages: pages.unwrap_or(0),
    })
}

/// Why a download did not give a document.
enum Fetch {
    Client(AgentClientError),
    Spool(std::io::Error),
}

/// One download of the job's document into a new temporary file in `dir` (deleted again when dropped).
async fn download<L: Line>(
    ctx: &Ctx<L>,
    job: &LeasedJob,
    dir: &std::path::Path,
) -> Result<tempfile::NamedTempFile, Fetch> {
    let tmp = temp_in(dir).map_err(Fetch::Spool)?;
    let file = tmp.as_file().try_clone().map_err(Fetch::Spool)?;
    let mut out = tokio::io::BufWriter::new(tokio::fs::File::from_std(file));
    ctx.api
        .document_to(job, &mut out)
        .await
        .map_err(Fetch::Client)?;
    Ok(tmp)
}

/// Lease confirmed, journal first (durably), then the call. `None`: the lease is not held, nothing was dialled.
async fn dial<L: Line>(
    ctx: &Ctx<L>,
    job: &LeasedJob,
    attempt: u32,
    token: String,
    ecm: Option<bool>,
) -> Option<Input> {
    if ctx.stopping.is_cancelled() {
        tracing::info!(job = %job.job_id, attempt, "the agent is shutting down; not dialling");
        return Some(Input::CallEnded {
            outcome: CallOutcome::failed(
                super::outcome::FailureClass::Shutdown,
                "the agent shut down before the call was placed",
            ),
        });
    }
    if !lease_held(&ctx.api, job).await {
        tracing::warn!(job = %job.job_id, attempt, "the lease is no longer held; not dialling");
        return None;
    }
    let form = ctx.line.document_form();
    let src = job_file(&ctx.cfg, &job.job_id, form);
    let dst = token_file(&ctx.cfg, &token, form);
    if let Err(e) = link_or_copy(&src, &dst) {
        return Some(Input::CallEnded {
            outcome: CallOutcome::failed(
                super::outcome::FailureClass::Document,
                format!("cannot place the document for attempt {attempt}: {e}"),
            ),
        });
    }
    let record = CallRecord::InFlight {
        attempt,
        token: token.clone(),
    };
    if let Err(e) = ctx.journal.put(&job.job_id, &record) {
        // Without the record a crash could lead to a second call: do not dial.
        return Some(Input::CallEnded {
            outcome: CallOutcome::failed(
                super::outcome::FailureClass::Rejected,
                format!("cannot write the call journal, so no call was placed: {e}"),
            ),
        });
    }
    let (mut progress, sender) = ProgressFollow::new();
    let request = CallRequest {
        job_id: job.job_id.clone(),
        token,
        to: job.to.clone(),
        document: match form {
            DocumentForm::FaxTiff => Document::FaxTiff(dst.clone()),
            DocumentForm::Original => Document::Original {
                kind: job.document_kind,
                path: dst.clone(),
            },
        },
        ecm,
        progress: sender,
        hangup: ctx.hangup.child_token(),
    };
    let outcome = {
        let _active = crate::metrics::ActiveCall::start(ctx.line.kind());
        tokio::select! {
            outcome = ctx.line.place(request) => outcome,
            never = progress.report(&ctx.api, job) => match never {},
        }
    };
    crate::metrics::call_ended(ctx.line.kind(), &outcome);
    match &outcome {
        CallOutcome::Success(d) => tracing::info!(
            job = %job.job_id, attempt, pages = d.pages.unwrap_or(0), bitrate = d.bitrate.unwrap_or(0),
            mode = d.mode.as_deref().unwrap_or(""), "fax sent"
        ),
        CallOutcome::Failed { class, detail, .. } => {
            tracing::warn!(job = %job.job_id, attempt, class = class.label(), %detail, "attempt failed")
        }
    }
    let _ = remove_durably(&dst);
    Some(Input::CallEnded { outcome })
}

/// Reports until the API accepts or the lease is gone. Returns true when accepted.
async fn report<L: Line>(
    ctx: &Ctx<L>,
    job: &LeasedJob,
    outcome: &CallOutcome,
    attempts: u32,
    unplaced: bool,
) -> bool {
    let mut details = CallDetails {
        agent_attempt: Some(attempts),
        // Said on failures only: whether the API may send the job through another line.
        unplaced: (!outcome.is_success()).then_some(unplaced),
        ..CallDetails::default()
    };
    let report = match outcome {
        CallOutcome::Success(d) => {
            details.bitrate = d.bitrate.map(i64::from);
            details.mode = d.mode.clone();
            details.remote_ident = d.remote_id.clone();
            Report::Final(SendResult {
                status: JobStatus::Success,
                error: None,
                pages: d.pages.map(i64::from),
                provider_sid: d
                    .provider_sid
                    .clone()
                    .or_else(|| Some(JobMachine::token(&job.job_id, attempts))),
            })
        }
        // Not the fax's fault: whichever agent runs next takes the job.
        CallOutcome::Failed {
            pages,
            class: super::outcome::FailureClass::Shutdown,
            ..
        } => Report::GiveBack {
            reason: outcome
                .error_text()
                .unwrap_or_else(|| "agent shutdown".to_owned()),
            pages: pages.map(i64::from),
        },
        CallOutcome::Failed { pages, .. } => {
            let mut r = failed_result(&format!(
                "{} (attempt {attempts} of {})",
                outcome.error_text().unwrap_or_default(),
                ctx.cfg.retry.max_attempts
            ));
            r.pages = pages.map(i64::from);
            Report::Final(r)
        }
    };
    let mut wait = Duration::from_millis(500);
    loop {
        let sent = match &report {
            Report::Final(result) => ctx.api.result_with_details(job, result, &details).await,
            Report::GiveBack { reason, pages } => {
                ctx.api.release(job, reason, *pages, GIVE_BACK_HOLD).await
            }
        };
        match sent {
            Ok(status) => {
                tracing::info!(job = %job.job_id, %status, "result reported");
                return true;
            }
            Err(AgentClientError::LeaseLost) => {
                tracing::warn!(
                    job = %job.job_id,
                    "lease lost before the result was accepted; the journal keeps it for when the job returns"
                );
                return false;
            }
            Err(e) => {
                tracing::warn!(job = %job.job_id, error = %e, "result report failed; retrying");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(30));
            }
        }
    }
}

fn cleanup<L: Line>(ctx: &Ctx<L>, job_id: &str) {
    if ctx.cfg.spool.delete_after_send {
        remove_job_files(&ctx.cfg, job_id);
    }
    if let Err(e) = ctx.journal.remove(job_id) {
        tracing::warn!(job = %job_id, error = %e, "cannot remove the journal record");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grace_period_keeps_a_quarter_for_reports_between_2_and_10_seconds() {
        let s = Duration::from_secs;
        assert_eq!(shutdown_budget(s(120)), (s(110), s(10)));
        assert_eq!(shutdown_budget(s(20)), (s(15), s(5)));
        assert_eq!(shutdown_budget(s(4)), (s(2), s(2)));
        // Shorter than the minimum reserve: hung up at once, the whole grace for the reports.
        assert_eq!(shutdown_budget(s(1)), (s(0), s(1)));
        assert_eq!(shutdown_budget(s(0)), (s(0), s(0)));
    }
}
