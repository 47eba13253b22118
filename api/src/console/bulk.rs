//! Bulk sending: a CSV (or a list) of recipients and one document become a batch with a durable
//! queue. [`tick`] (run by the API's maintenance loop every few seconds, and at once after a change)
//! creates each recipient's job through the API's own submit path, keeping at most
//! [`IN_FLIGHT`] of a batch's jobs queued or sending at a time, so a batch does not crowd out other
//! faxes. Each job carries the idempotency key `bulk:<batch>:<seq>`: after a crash or restart the
//! queue resumes where it stopped, and a job created just before the crash is found again, never
//! created twice. Batches can be paused, resumed and cancelled (cancelling also cancels the batch's
//! jobs not yet taken by an agent).

use askama::Template;
use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use bytes::BytesMut;

use super::page::{Chrome, error_page, html, when};
use super::session::Session;
use super::{CsrfForm, see_other, store_failed, valid_id};
use crate::routes::fax::{Submission, submit};
use crate::server::AppState;
use crate::store::{BULK_CANCELLED, BULK_DONE, BULK_PAUSED, BULK_RUNNING, BulkBatch};
use faxline_protocol::PhoneNumber;
use faxline_protocol::time::now_us;

/// Jobs of one batch queued or sending at once.
pub const IN_FLIGHT: i64 = 2;
/// Recipients one batch may have.
pub const MAX_RECIPIENTS: usize = 5000;
/// Bytes of CSV accepted.
const MAX_CSV_BYTES: usize = 1024 * 1024;

/// One pass of every running batch's queue. Passes of one instance never overlap; passes of several
/// instances may, and the idempotency keys keep them from creating a job twice.
pub(crate) async fn tick(st: &AppState) {
    static RUNNING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _one = RUNNING.lock().await;
    let batches = match st.store.bulk().running().await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %e, "bulk queue: cannot list batches");
            return;
        }
    };
    for b in batches {
        if let Err(e) = advance(st, &b).await {
            tracing::warn!(error = %e, batch = %b.id, "bulk queue: pass failed; retried on the next");
        }
    }
}

async fn advance(st: &AppState, b: &BulkBatch) -> Result<(), crate::store::StoreError> {
    let bulk = st.store.bulk();
    let room = IN_FLIGHT - bulk.in_flight(&b.id).await?;
    if room <= 0 {
        return Ok(());
    }
    let pending = bulk.pending(&b.id, room).await?;
    if pending.is_empty() {
        if bulk
            .set_state(&b.id, &[BULK_RUNNING], BULK_DONE, now_us())
            .await?
        {
            crate::audit!("bulk_done", batch = %b.id, recipients = b.total);
        }
        return Ok(());
    }
    let Some(content) = bulk.content(&b.id).await? else {
        tracing::warn!(batch = %b.id, "bulk queue: the batch's document is missing");
        return Ok(());
    };
    for r in pending {
        // Re-read the state: a pause or cancel stops the queue between two recipients.
        match bulk.get(&b.id).await? {
            Some(now) if now.state == BULK_RUNNING => {}
            _ => return Ok(()),
        }
        let result = submit(
            st,
            Submission {
                to: r.number.clone(),
                file_name: b.file_name.clone(),
                content: content.clone().into(),
                owner: Some(b.created_by.clone()),
                actor: b.created_by.clone(),
                idempotency_key: Some(format!("bulk:{}:{}", b.id, r.seq)),
                backend: None,
            },
        )
        .await;
        match result {
            Ok(job) => bulk.set_job(&b.id, r.seq, &job.id).await?,
            // Refused for good (the number or the document): recorded, the queue goes on.
            Err(e) if e.status.is_client_error() => {
                crate::audit!("bulk_recipient_refused", batch = %b.id, seq = r.seq, reason = %e.detail);
                bulk.set_error(&b.id, r.seq, &e.detail).await?
            }
            // The database or the document store: try again on the next pass.
            Err(e) => {
                tracing::warn!(batch = %b.id, status = e.status.as_u16(), "bulk queue: job not created yet");
                return Ok(());
            }
        }
    }
    Ok(())
}

fn kick(st: &AppState) {
    let st = st.clone();
    tokio::spawn(async move { tick(&st).await });
}

/// Recipients from a CSV (`number[,name]` per row; a header row is skipped) or a plain list (one
/// number per line). Numbers are checked here, so a typo refuses the whole upload with its row.
pub fn parse_recipients(text: &str) -> Result<Vec<(String, Option<String>)>, String> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| format!("row {}: {e}", i + 1))?;
        let raw = rec.get(0).unwrap_or("").trim();
        if raw.is_empty() {
            continue;
        }
        let number: String = raw
            .chars()
            .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '(' | ')' | '.'))
            .collect();
        if !PhoneNumber::is_valid(&number) {
            if i == 0 && raw.chars().any(|c| c.is_alphabetic()) {
                continue; // a header row
            }
            let shown: String = raw.chars().take(30).collect();
            return Err(format!("row {}: \"{shown}\" is not a fax number", i + 1));
        }
        if !seen.insert(number.clone()) {
            continue; // one fax per number
        }
        let name = rec
            .get(1)
            .map(|n| n.chars().take(200).collect::<String>())
            .filter(|n| !n.is_empty());
        out.push((number, name));
        if out.len() > MAX_RECIPIENTS {
            return Err(format!("at most {MAX_RECIPIENTS} recipients per bulk send"));
        }
    }
    if out.is_empty() {
        return Err("no recipients".into());
    }
    Ok(out)
}

struct BatchRow {
    id: String,
    file_name: String,
    state: String,
    total: i64,
    created: String,
    by: String,
}

impl From<&BulkBatch> for BatchRow {
    fn from(b: &BulkBatch) -> Self {
        Self {
            id: b.id.clone(),
            file_name: b.file_name.clone(),
            state: b.state.clone(),
            total: b.total,
            created: when(b.created_at),
            by: b.created_by.trim_start_matches("user:").to_owned(),
        }
    }
}

#[derive(Template)]
#[template(path = "console/bulk.html")]
struct BulkPage {
    chrome: Chrome,
    error: Option<String>,
    batches: Vec<BatchRow>,
    max_mb: u64,
}

async fn bulk_page(
    st: &AppState,
    s: &Session,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    let batches = match st.store.bulk().list(50, 0).await {
        Ok(b) => b,
        Err(e) => return store_failed(e),
    };
    html(
        status,
        &BulkPage {
            chrome: Chrome::new(s, "bulk"),
            error,
            batches: batches.iter().map(BatchRow::from).collect(),
            max_mb: st.cfg.max_file_size_mb,
        },
    )
}

pub(super) async fn list(State(st): State<AppState>, s: Session) -> Response {
    bulk_page(&st, &s, StatusCode::OK, None).await
}

/// `POST /bulk`: the recipients (a CSV file or a list) and the document.
pub(super) async fn create(
    State(st): State<AppState>,
    s: Session,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let Ok(mut multipart) = multipart else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "The form was incomplete or malformed.",
        );
    };
    let limit = st.cfg.max_file_bytes() as usize;
    let (mut csrf, mut list) = (None, String::new());
    let mut csv_bytes = BytesMut::new();
    let mut doc: Option<(String, BytesMut)> = None;
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(_) => {
                return bulk_page(
                    &st,
                    &s,
                    StatusCode::PAYLOAD_TOO_LARGE,
                    Some("The upload was too large or malformed.".into()),
                )
                .await;
            }
        };
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = crate::routes::fax::clean_filename(field.file_name());
        let cap = if name == "file" { limit } else { MAX_CSV_BYTES };
        let mut buf = BytesMut::new();
        loop {
            match field.chunk().await {
                Ok(Some(c)) if buf.len() + c.len() <= cap => buf.extend_from_slice(&c),
                Ok(Some(_)) | Err(_) => {
                    return bulk_page(
                        &st,
                        &s,
                        StatusCode::PAYLOAD_TOO_LARGE,
                        Some(format!("The {name} is too large.")),
                    )
                    .await;
                }
                Ok(None) => break,
            }
        }
        match name.as_str() {
            "csrf" => csrf = Some(String::from_utf8_lossy(&buf).into_owned()),
            "list" => list = String::from_utf8_lossy(&buf).into_owned(),
            "csv" => csv_bytes = buf,
            "file" => doc = Some((file_name, buf)),
            _ => {}
        }
    }
    if let Err(r) = s.check_csrf(csrf.as_deref()) {
        return r;
    }
    let text = if csv_bytes.is_empty() {
        list
    } else {
        match String::from_utf8(csv_bytes.to_vec()) {
            Ok(t) => t,
            Err(_) => {
                return bulk_page(
                    &st,
                    &s,
                    StatusCode::BAD_REQUEST,
                    Some("The CSV must be UTF-8 text.".into()),
                )
                .await;
            }
        }
    };
    let recipients = match parse_recipients(&text) {
        Ok(r) => r,
        Err(e) => {
            return bulk_page(
                &st,
                &s,
                StatusCode::BAD_REQUEST,
                Some(format!("Recipients: {e}")),
            )
            .await;
        }
    };
    let Some((file_name, content)) = doc.filter(|(_, b)| !b.is_empty()) else {
        return bulk_page(
            &st,
            &s,
            StatusCode::BAD_REQUEST,
            Some("Choose the document to send.".into()),
        )
        .await;
    };
    // The document is checked once now (type, pages) rather than once per recipient later.
    if let Err(e) = crate::document::sniff(&content) {
        return bulk_page(
            &st,
            &s,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Some(format!("The document: {e}")),
        )
        .await;
    }
    let content = content.freeze();
    let now = now_us();
    let batch = BulkBatch {
        id: uuid::Uuid::new_v4().simple().to_string(),
        created_by: s.actor(),
        file_name,
        state: BULK_RUNNING.into(),
        total: recipients.len() as i64,
        created_at: now,
        updated_at: now,
    };
    if let Err(e) = st.store.bulk().create(&batch, &content, &recipients).await {
        return store_failed(e);
    }
    crate::audit!("bulk_created", batch = %batch.id, recipients = batch.total, user = %s.username, size = content.len());
    kick(&st);
    see_other(&format!("/bulk/{}", batch.id))
}

struct RecipientRow {
    seq: i64,
    number: String,
    name: String,
    status: String,
    job_id: String,
}

#[derive(Template)]
#[template(path = "console/batch.html")]
struct BatchPage {
    chrome: Chrome,
    b: BatchRow,
    counts: Vec<(String, i64)>,
    done: i64,
    recipients: Vec<RecipientRow>,
    refresh: bool,
    can_pause: bool,
    can_resume: bool,
    can_cancel: bool,
}

pub(super) async fn show(
    State(st): State<AppState>,
    s: Session,
    Path(id): Path<String>,
) -> Response {
    let b = match load(&st, &id).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let (counts, recipients) = match (
        st.store.bulk().progress(&id).await,
        st.store.bulk().recipients(&id, 500).await,
    ) {
        (Ok(c), Ok(r)) => (c, r),
        (Err(e), _) | (_, Err(e)) => return store_failed(e),
    };
    let done = counts
        .iter()
        .filter(|c| {
            matches!(
                c.status.as_str(),
                "SUCCESS" | "FAILED" | "failed" | "cancelled" | "refused"
            )
        })
        .map(|c| c.n)
        .sum();
    let active = counts
        .iter()
        .any(|c| matches!(c.status.as_str(), "waiting" | "queued" | "in_progress"));
    html(
        StatusCode::OK,
        &BatchPage {
            chrome: Chrome::new(&s, "bulk"),
            refresh: active && b.state != BULK_PAUSED,
            can_pause: b.state == BULK_RUNNING,
            can_resume: b.state == BULK_PAUSED,
            can_cancel: b.state == BULK_RUNNING || b.state == BULK_PAUSED,
            b: BatchRow::from(&b),
            counts: counts.into_iter().map(|c| (c.status, c.n)).collect(),
            done,
            recipients: recipients
                .into_iter()
                .map(|r| RecipientRow {
                    seq: r.seq,
                    number: r.number,
                    name: r.name.unwrap_or_default(),
                    status: r
                        .error
                        .map(|e| format!("refused: {e}"))
                        .or(r.status)
                        .unwrap_or_else(|| "waiting".into()),
                    job_id: r.job_id.unwrap_or_default(),
                })
                .collect(),
        },
    )
}

async fn load(st: &AppState, id: &str) -> Result<BulkBatch, Response> {
    let b = if valid_id(id) {
        st.store.bulk().get(id).await.map_err(store_failed)?
    } else {
        None
    };
    b.ok_or_else(|| error_page(StatusCode::NOT_FOUND, "There is no such bulk send."))
}

async fn change(
    st: AppState,
    s: Session,
    id: String,
    form: Result<Form<CsrfForm>, FormRejection>,
    from: &[&str],
    to: &str,
) -> Response {
    if let Err(r) = super::checked_form(&s, form) {
        return r;
    }
    if let Err(r) = load(&st, &id).await {
        return r;
    }
    match st.store.bulk().set_state(&id, from, to, now_us()).await {
        Ok(true) => {}
        Ok(false) => {
            return error_page(
                StatusCode::CONFLICT,
                "The bulk send is not in a state that allows this.",
            );
        }
        Err(e) => return store_failed(e),
    }
    crate::audit!("bulk_state", batch = %id, state = to, user = %s.username);
    if to == BULK_CANCELLED {
        // Jobs no agent has taken yet are cancelled with the batch; those sending finish.
        match st.store.bulk().queued_jobs(&id).await {
            Ok(jobs) => {
                for j in jobs.into_iter().filter_map(|r| r.job_id) {
                    match st.store.jobs().cancel(&j, now_us()).await {
                        Ok(_) => crate::audit!("job_cancelled", job_id = %j, key_id = %s.actor()),
                        Err(e) => return store_failed(e),
                    }
                }
            }
            Err(e) => return store_failed(e),
        }
    }
    if to == BULK_RUNNING {
        kick(&st);
    }
    see_other(&format!("/bulk/{id}"))
}

pub(super) async fn pause(
    State(st): State<AppState>,
    s: Session,
    Path(id): Path<String>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    change(st, s, id, form, &[BULK_RUNNING], BULK_PAUSED).await
}

pub(super) async fn resume(
    State(st): State<AppState>,
    s: Session,
    Path(id): Path<String>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    change(st, s, id, form, &[BULK_PAUSED], BULK_RUNNING).await
}

pub(super) async fn cancel(
    State(st): State<AppState>,
    s: Session,
    Path(id): Path<String>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    change(
        st,
        s,
        id,
        form,
        &[BULK_RUNNING, BULK_PAUSED],
        BULK_CANCELLED,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_from_csv_or_list() {
        let r = parse_recipients("number,name\n+15550000001, Dr. Ada\n\"+1 555 000 0002\",\"Bob, MD\"\n+15550000001,dup\n").unwrap();
        assert_eq!(
            r,
            vec![
                ("+15550000001".to_string(), Some("Dr. Ada".to_string())),
                ("+15550000002".to_string(), Some("Bob, MD".to_string())),
            ]
        );
        assert_eq!(
            parse_recipients("+15550000001\n5550000002\n")
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            parse_recipients("+15550000001\nnot-a-number\n").unwrap_err(),
            "row 2: \"not-a-number\" is not a fax number"
        );
        assert!(parse_recipients("number\n").is_err());
    }
}
