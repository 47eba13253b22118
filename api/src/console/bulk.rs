//! Bulk sending: a CSV (or a list) of recipients and one document become a batch with a durable
//! queue. [`tick`] (run by the API's maintenance loop every few seconds, and at once after a change)
//! creates each recipient's job through the API's own submit path, keeping at most
//! [`IN_FLIGHT`] of a batch's jobs queued or sending at a time, so a batch does not crowd out other
//! faxes. Each job carries the idempotency key `bulk:<batch>:<seq>`: after a crash or restart the
//! queue resumes where it stopped, and a job created just before the crash is found again, never
//! created twice. Batches can be paused, resumed and cancelled (cancelling also cancels the batch's
//! jobs not yet taken by an agent).
//!
//! A CSV may carry cover page fields per row ([`parse_recipients`]); each recipient's fax is then
//! its own cover page and the document, made by the Send page's composition when its job is
//! created. A new batch waits in [`BULK_DRAFT`] on a confirmation page (the recipients, the refused
//! rows, and the first recipient's fax kept as a console draft, previewed page by page) until its
//! user confirms or discards it; [`sweep`] deletes batches never confirmed.

use askama::Template;
use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use bytes::{Bytes, BytesMut};

use super::page::{Chrome, error_page, html, when};
use super::session::Session;
use super::{CsrfForm, see_other, store_failed, valid_id};
use crate::routes::fax::{Submission, submit};
use crate::server::AppState;
use crate::store::{
    BULK_CANCELLED, BULK_DONE, BULK_DRAFT, BULK_PAUSED, BULK_RUNNING, BulkBatch, BulkRecipient,
    NewRecipient,
};
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
        let key = format!("bulk:{}:{}", b.id, r.seq);
        let (file_name, document) = if b.cover != 0 {
            // A job made just before a crash is found by its key before its cover page is made
            // again (the API would also find it, but this spares the render).
            if let Some(job) = st.store.jobs().by_idempotency_key(&key).await? {
                bulk.set_job(&b.id, r.seq, &job.id).await?;
                continue;
            }
            match document_for(st, &content, cover_of(&r)).await {
                Ok(doc) => (with_cover_name(&b.file_name), doc),
                Err(MakeFailure::Worker) => return Ok(()),
                Err(MakeFailure::Refused(reason)) => {
                    crate::audit!("bulk_recipient_refused", batch = %b.id, seq = r.seq, reason = %reason);
                    bulk.set_error(&b.id, r.seq, &reason).await?;
                    continue;
                }
            }
        } else {
            (b.file_name.clone(), content.clone())
        };
        let result = submit(
            st,
            Submission {
                to: r.number.clone(),
                file_name,
                content: document.into(),
                owner: Some(b.created_by.clone()),
                actor: b.created_by.clone(),
                idempotency_key: Some(key),
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

/// The form's cover page settings for the whole batch: a row's own value wins over these.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CoverDefaults {
    /// "Add a cover page" was ticked.
    pub enabled: bool,
    pub from: String,
    pub subject: String,
    pub note: String,
}

impl CoverDefaults {
    /// A cover page is wanted: ticked, or a field filled in.
    fn wanted(&self) -> bool {
        self.enabled
            || [&self.from, &self.subject, &self.note]
                .iter()
                .any(|f| !f.trim().is_empty())
    }
}

/// The recipients of an upload, in row order: the refused rows too (with their reason), so the
/// preview and the batch's page can name them.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Recipients {
    pub rows: Vec<NewRecipient>,
    /// Each recipient's fax starts with a cover page made from its row.
    pub cover: bool,
}

impl Recipients {
    /// Rows that will get a fax.
    pub fn accepted(&self) -> usize {
        self.rows.iter().filter(|r| r.error.is_none()).count()
    }

    pub fn refused(&self) -> usize {
        self.rows.len() - self.accepted()
    }
}

/// A column of a bulk CSV with a header row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Number,
    Name,
    From,
    Subject,
    Note,
}

impl Column {
    fn parse(header: &str) -> Option<Self> {
        let h: String = header
            .trim()
            .to_lowercase()
            .chars()
            .map(|c| if c == '_' || c == '-' { ' ' } else { c })
            .collect();
        Some(match h.as_str() {
            "number" | "fax" | "fax number" | "phone" => Column::Number,
            "name" | "to" | "recipient" => Column::Name,
            "from" | "sender" => Column::From,
            "subject" | "re" => Column::Subject,
            "note" | "notes" | "message" => Column::Note,
            _ => return None,
        })
    }
}

/// What a row's cell says, shortened for showing it back (never logged).
fn shown(raw: &str) -> String {
    raw.chars().take(30).collect()
}

/// Recipients from a CSV or a plain list (one number per line). The CSV is either `number,name`
/// rows (a header row of other names is skipped, as before cover fields existed), or has a header
/// row naming its columns: `number` (or `fax`), `name` (or `to`: the cover page's "To:"), `from`,
/// `subject`, `note`, in any order. With `from`, `subject` or `note` columns, or a cover page
/// asked for in the form (`defaults`), each recipient gets a cover page from its row, the form's
/// fields filling what the row leaves empty. A row that cannot be sent (not a number, a number
/// given twice, a cover field over its limit) is kept with its reason, naming its line; an
/// unreadable upload (an unknown column, too many rows, nothing to send) is an error.
pub fn parse_recipients(text: &str, defaults: &CoverDefaults) -> Result<Recipients, String> {
    use faxline_document::{COVER_FIELD_MAX, COVER_NOTE_MAX};
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    // Positional `number,name` until a header row says otherwise.
    let mut columns: Vec<Option<Column>> = vec![Some(Column::Number), Some(Column::Name)];
    let mut cover = defaults.wanted();
    let mut first = true;
    let mut out = Recipients::default();
    let mut seen = std::collections::HashMap::new();
    for (i, rec) in rdr.records().enumerate() {
        let refuse = |out: &mut Recipients, number: &str, why: String| {
            out.rows.push(NewRecipient {
                number: shown(number),
                error: Some(why),
                ..NewRecipient::default()
            });
        };
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(i as u64 + 1, |p| p.line());
                refuse(&mut out, "", format!("row {line}: cannot be read"));
                continue;
            }
        };
        let line = rec.position().map_or(i as u64 + 1, |p| p.line());
        if rec.iter().all(str::is_empty) {
            continue;
        }
        let is_first = std::mem::take(&mut first);
        if is_first {
            let head = rec.get(0).unwrap_or("");
            // Words, not a mistyped number (which has digits and is refused with its row).
            let looks_like_header = head.chars().any(char::is_alphabetic)
                && head.chars().filter(char::is_ascii_digit).count() < 3;
            if looks_like_header {
                let named: Vec<Option<Column>> = rec.iter().map(Column::parse).collect();
                let names_cover = named
                    .iter()
                    .any(|c| matches!(c, Some(Column::From | Column::Subject | Column::Note)));
                let all_known = rec
                    .iter()
                    .zip(&named)
                    .all(|(cell, c)| c.is_some() || cell.is_empty());
                // A header naming cover fields must name every column right; one naming
                // other things is an old `number,name` file's header, skipped as before.
                if names_cover || all_known {
                    // A header naming its columns: every column must be known, once.
                    for (cell, col) in rec.iter().zip(&named) {
                        if col.is_none() && !cell.is_empty() {
                            return Err(format!(
                                "row {line}: unknown column \"{}\" (the columns are number, name, from, subject, note)",
                                shown(cell)
                            ));
                        }
                    }
                    for (j, col) in named
                        .iter()
                        .enumerate()
                        .filter_map(|(j, c)| Some((j, (*c)?)))
                    {
                        if named[..j].contains(&Some(col)) {
                            return Err(format!("row {line}: a column is named twice"));
                        }
                    }
                    if !named.contains(&Some(Column::Number)) {
                        return Err(format!("row {line}: the header names no \"number\" column"));
                    }
                    cover |= named
                        .iter()
                        .any(|c| matches!(c, Some(Column::From | Column::Subject | Column::Note)));
                    columns = named;
                }
                continue;
            }
        }
        let cell = |want: Column| -> &str {
            columns
                .iter()
                .position(|c| *c == Some(want))
                .and_then(|j| rec.get(j))
                .unwrap_or("")
        };
        if out.rows.len() >= MAX_RECIPIENTS {
            return Err(format!("at most {MAX_RECIPIENTS} recipients per bulk send"));
        }
        let raw = cell(Column::Number);
        if raw.is_empty() {
            refuse(&mut out, raw, format!("row {line}: no fax number"));
            continue;
        }
        let number = normalize(raw);
        if !PhoneNumber::is_valid(&number) {
            refuse(
                &mut out,
                raw,
                format!("row {line}: \"{}\" is not a fax number", shown(raw)),
            );
            continue;
        }
        if let Some(before) = seen.get(&number) {
            refuse(
                &mut out,
                raw,
                format!("row {line}: the same number as row {before} (one fax per number)"),
            );
            continue;
        }
        seen.insert(number.clone(), line);
        let or_default = |v: &str, d: &str| -> Option<String> {
            let v = if v.is_empty() { d.trim() } else { v };
            (!v.is_empty()).then(|| v.to_owned())
        };
        let name = cell(Column::Name);
        if !cover {
            out.rows.push(NewRecipient {
                number,
                name: (!name.is_empty()).then(|| name.chars().take(200).collect()),
                ..NewRecipient::default()
            });
            continue;
        }
        let r = NewRecipient {
            number,
            name: or_default(name, ""),
            cover_from: or_default(cell(Column::From), &defaults.from),
            cover_subject: or_default(cell(Column::Subject), &defaults.subject),
            cover_note: or_default(cell(Column::Note), &defaults.note),
            error: None,
        };
        let too_long = [
            ("name", &r.name, COVER_FIELD_MAX),
            ("from", &r.cover_from, COVER_FIELD_MAX),
            ("subject", &r.cover_subject, COVER_FIELD_MAX),
            ("note", &r.cover_note, COVER_NOTE_MAX),
        ]
        .into_iter()
        .find(|(_, v, max)| v.as_deref().is_some_and(|v| v.chars().count() > *max));
        if let Some((field, _, max)) = too_long {
            refuse(
                &mut out,
                raw,
                format!("row {line}: the {field} is longer than {max} characters"),
            );
            continue;
        }
        out.rows.push(r);
    }
    out.cover = cover;
    if out.accepted() == 0 {
        return Err(match out.rows.iter().find_map(|r| r.error.as_deref()) {
            Some(first) => format!("no row can be sent ({first})"),
            None => "no recipients".into(),
        });
    }
    Ok(out)
}

/// A number as typed, without the spaces, dashes, dots and brackets people write in it.
fn normalize(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '(' | ')' | '.'))
        .collect()
}

/// The cover page of a recipient of a batch with cover pages.
fn cover_of(r: &BulkRecipient) -> faxline_document::CoverPage {
    faxline_document::CoverPage {
        from: r.cover_from.clone().unwrap_or_default(),
        to: r.name.clone().unwrap_or_default(),
        subject: r.cover_subject.clone().unwrap_or_default(),
        note: r.cover_note.clone().unwrap_or_default(),
    }
}

/// The file name of a recipient's fax with its cover page (the pages are joined into one PDF).
fn with_cover_name(file_name: &str) -> String {
    let stem = file_name
        .rsplit_once('.')
        .map_or(file_name, |(stem, _)| stem);
    format!("{stem}.pdf")
}

/// Why a recipient's document could not be made.
enum MakeFailure {
    /// The render worker: not the row's fault, tried again later.
    Worker,
    /// The row's cover page (or the document with it), for good.
    Refused(String),
}

/// The document one recipient is faxed: the batch's document behind the row's cover page, made
/// by the same composition as the Send page's (see [`crate::pages::compose`]).
async fn document_for(
    st: &AppState,
    content: &Bytes,
    cover: faxline_document::CoverPage,
) -> Result<Bytes, MakeFailure> {
    let budget = st.cfg.render.clone();
    let parts = [content.clone()];
    let composed =
        tokio::task::spawn_blocking(move || crate::pages::compose(&budget, &parts, Some(&cover)))
            .await
            .map_err(|_| MakeFailure::Worker)?;
    match composed {
        Ok(doc) => Ok(doc),
        Err(e) if e.is_worker_failure() => {
            tracing::error!(error = %e, "bulk: composing a recipient's fax failed");
            Err(MakeFailure::Worker)
        }
        Err(e) => Err(MakeFailure::Refused(e.to_string())),
    }
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
    notice: Option<String>,
    batches: Vec<BatchRow>,
    max_mb: u64,
    cover_field_max: usize,
    cover_note_max: usize,
}

async fn bulk_page(
    st: &AppState,
    s: &Session,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    bulk_page_with(st, s, status, error, None).await
}

async fn bulk_page_with(
    st: &AppState,
    s: &Session,
    status: StatusCode,
    error: Option<String>,
    notice: Option<String>,
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
            notice,
            cover_field_max: faxline_document::COVER_FIELD_MAX,
            cover_note_max: faxline_document::COVER_NOTE_MAX,
            // A batch not confirmed yet is its user's alone.
            batches: batches
                .iter()
                .filter(|b| b.state != BULK_DRAFT || b.created_by == s.actor())
                .map(BatchRow::from)
                .collect(),
            max_mb: st.cfg.max_file_size_mb,
        },
    )
}

pub(super) async fn list(
    State(st): State<AppState>,
    s: Session,
    q: axum::extract::Query<super::drafts::SendQuery>,
) -> Response {
    let notice = q
        .discarded
        .map(|_| "The bulk send was discarded; nothing was sent.".to_owned());
    bulk_page_with(&st, &s, StatusCode::OK, None, notice).await
}

/// `POST /bulk`: the recipients (a CSV file or a list), the document and the cover page settings.
/// Nothing is queued yet: the batch is stored as a draft with its recipients, and its first
/// recipient's fax (with its cover page) as a console draft, and the confirmation page shows them
/// (see [`show`], [`confirm`], [`discard`]).
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
    let mut defaults = CoverDefaults::default();
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
        let text = || String::from_utf8_lossy(&buf).into_owned();
        match name.as_str() {
            "csrf" => csrf = Some(text()),
            "list" => list = text(),
            "csv" => csv_bytes = buf,
            "file" => doc = Some((file_name, buf)),
            "cover" => defaults.enabled = !buf.is_empty(),
            "cover_from" => defaults.from = text(),
            "cover_subject" => defaults.subject = text(),
            "cover_note" => defaults.note = text(),
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
    // The form's own cover fields are checked whole (a row's are checked with the row).
    let form_cover = faxline_document::CoverPage {
        from: defaults.from.clone(),
        subject: defaults.subject.clone(),
        note: defaults.note.clone(),
        to: String::new(),
    };
    if let Err(e) = form_cover.check() {
        return bulk_page(
            &st,
            &s,
            StatusCode::BAD_REQUEST,
            Some(format!("Cover page: {e}.")),
        )
        .await;
    }
    let recipients = match parse_recipients(&text, &defaults) {
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
    let id = uuid::Uuid::new_v4().simple().to_string();
    // The preview: the first recipient's fax exactly as the queue will make it.
    let Some(first) = recipients.rows.iter().find(|r| r.error.is_none()) else {
        return bulk_page(
            &st,
            &s,
            StatusCode::BAD_REQUEST,
            Some("Recipients: no recipients".into()),
        )
        .await;
    };
    let first_doc = if recipients.cover {
        let r = BulkRecipient {
            seq: 0,
            number: first.number.clone(),
            name: first.name.clone(),
            job_id: None,
            error: None,
            status: None,
            cover_from: first.cover_from.clone(),
            cover_subject: first.cover_subject.clone(),
            cover_note: first.cover_note.clone(),
        };
        match document_for(&st, &content, cover_of(&r)).await {
            Ok(d) => d,
            Err(MakeFailure::Worker) => {
                return bulk_page(
                    &st,
                    &s,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Some("The document could not be prepared; try again.".into()),
                )
                .await;
            }
            Err(MakeFailure::Refused(e)) => {
                return bulk_page(
                    &st,
                    &s,
                    StatusCode::BAD_REQUEST,
                    Some(format!("The first recipient's fax: {e}.")),
                )
                .await;
            }
        }
    } else {
        content.clone()
    };
    let prepared = super::drafts::Prepared {
        id: id.clone(),
        numbers: vec![first.number.clone()],
        file_name: if recipients.cover {
            with_cover_name(&file_name)
        } else {
            file_name.clone()
        },
        content: first_doc.into(),
        parts: 1,
        cover: recipients.cover,
        bulk_batch: Some(id.clone()),
    };
    if let Err((status, msg)) = super::drafts::create(&st, &s, prepared).await {
        return bulk_page(&st, &s, status, Some(msg)).await;
    }
    let now = now_us();
    let batch = BulkBatch {
        id,
        created_by: s.actor(),
        file_name,
        state: BULK_DRAFT.into(),
        total: recipients.rows.len() as i64,
        created_at: now,
        updated_at: now,
        cover: i64::from(recipients.cover),
    };
    if let Err(e) = st
        .store
        .bulk()
        .create(&batch, &content, &recipients.rows)
        .await
    {
        if let Err(e) = st.store.drafts().delete(&batch.id).await {
            tracing::warn!(error = %e, "bulk: cannot delete the preview of a batch not stored");
        }
        return store_failed(e);
    }
    // Counts only: no number, name or cover text.
    crate::audit!(
        "bulk_created",
        batch = %batch.id,
        recipients = recipients.accepted(),
        refused = recipients.refused(),
        cover = recipients.cover,
        user = %s.username,
        size = content.len()
    );
    see_other(&format!("/bulk/{}", batch.id))
}

/// A refused row on the confirmation page.
struct RefusedRow {
    shown: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "console/bulk_confirm.html")]
struct ConfirmPage {
    chrome: Chrome,
    b: BatchRow,
    accepted: i64,
    refused: Vec<RefusedRow>,
    refused_total: i64,
    cover: bool,
    first_number: String,
    first_name: String,
    pages: Vec<i64>,
    page_count: i64,
    expires: String,
}

/// The confirmation page of a batch in [`BULK_DRAFT`]: its user's alone.
async fn confirm_page(st: &AppState, s: &Session, b: BulkBatch) -> Response {
    let bulk = st.store.bulk();
    let (counts, refused, first, draft) = match (
        bulk.progress(&b.id).await,
        bulk.refused(&b.id, 200).await,
        bulk.pending(&b.id, 1).await,
        st.store.drafts().get(&b.id).await,
    ) {
        (Ok(c), Ok(r), Ok(f), Ok(d)) => (c, r, f, d),
        (Err(e), ..) | (_, Err(e), ..) | (_, _, Err(e), _) | (.., Err(e)) => {
            return store_failed(e);
        }
    };
    let Some(draft) = draft else {
        return error_page(
            StatusCode::GONE,
            "The preview of this bulk send is gone; prepare it again.",
        );
    };
    let refused_total = counts
        .iter()
        .filter(|c| c.status == "refused")
        .map(|c| c.n)
        .sum::<i64>();
    let first = first.into_iter().next();
    crate::audit!("bulk_previewed", batch = %b.id, user = %s.username, ip = %s.ip);
    html(
        StatusCode::OK,
        &ConfirmPage {
            chrome: Chrome::new(s, "bulk"),
            accepted: b.total - refused_total,
            refused_total,
            refused: refused
                .into_iter()
                .map(|r| RefusedRow {
                    shown: r.number,
                    reason: r.error.unwrap_or_default(),
                })
                .collect(),
            cover: b.cover != 0,
            first_number: first.as_ref().map(|r| r.number.clone()).unwrap_or_default(),
            first_name: first.and_then(|r| r.name).unwrap_or_default(),
            pages: (1..=draft.pages.clamp(0, crate::pages::MAX_PAGES as i64)).collect(),
            page_count: draft.pages,
            expires: when(b.created_at + super::drafts::DRAFT_TTL_US),
            b: BatchRow::from(&b),
        },
    )
}

/// A batch in [`BULK_DRAFT`] of `s`'s user that has not expired; else the answer.
async fn own_draft(st: &AppState, s: &Session, id: &str) -> Result<BulkBatch, Response> {
    let b = load(st, id).await?;
    if b.state != BULK_DRAFT {
        return Ok(b);
    }
    if b.created_by != s.actor() {
        return Err(error_page(
            StatusCode::NOT_FOUND,
            "There is no such bulk send.",
        ));
    }
    if b.created_at + super::drafts::DRAFT_TTL_US <= now_us() {
        return Err(error_page(
            StatusCode::GONE,
            "This bulk send was not confirmed within an hour and has expired; prepare it again.",
        ));
    }
    Ok(b)
}

/// `POST /bulk/{id}/confirm`: the batch's queue starts. Pressing it again only shows the batch.
pub(super) async fn confirm(
    State(st): State<AppState>,
    s: Session,
    Path(id): Path<String>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    if let Err(r) = super::checked_form(&s, form) {
        return r;
    }
    let b = match own_draft(&st, &s, &id).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    if b.state != BULK_DRAFT {
        return see_other(&format!("/bulk/{id}"));
    }
    match st
        .store
        .bulk()
        .set_state(&id, &[BULK_DRAFT], BULK_RUNNING, now_us())
        .await
    {
        Ok(true) => {
            crate::audit!("bulk_confirmed", batch = %id, recipients = b.total, user = %s.username, ip = %s.ip);
        }
        Ok(false) => {}
        Err(e) => return store_failed(e),
    }
    // The preview is no longer needed (the sweep deletes it at its expiry otherwise).
    if let Err(e) = st.store.drafts().delete(&id).await {
        tracing::warn!(error = %e, batch = %id, "bulk: cannot delete a confirmed batch's preview");
    }
    kick(&st);
    see_other(&format!("/bulk/{id}"))
}

/// `POST /bulk/{id}/discard`: a batch not confirmed yet is deleted with its recipients, its
/// document and its preview; nothing was sent.
pub(super) async fn discard(
    State(st): State<AppState>,
    s: Session,
    Path(id): Path<String>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    if let Err(r) = super::checked_form(&s, form) {
        return r;
    }
    let b = match own_draft(&st, &s, &id).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    if b.state != BULK_DRAFT {
        return error_page(
            StatusCode::CONFLICT,
            "This bulk send was already confirmed; cancel it instead.",
        );
    }
    match st.store.bulk().delete_draft(&id).await {
        Ok(true) => {}
        Ok(false) => return see_other(&format!("/bulk/{id}")),
        Err(e) => return store_failed(e),
    }
    if let Err(e) = st.store.drafts().delete(&id).await {
        tracing::warn!(error = %e, batch = %id, "bulk: cannot delete a discarded batch's preview");
    }
    crate::audit!("bulk_discarded", batch = %id, recipients = b.total, user = %s.username, ip = %s.ip);
    see_other("/bulk?discarded=1")
}

/// Deletes batches never confirmed within [`super::drafts::DRAFT_TTL_US`] (their previews expire
/// with the drafts).
pub(crate) async fn sweep(st: &AppState) {
    let cutoff = now_us() - super::drafts::DRAFT_TTL_US;
    let ids = match st.store.bulk().stale_drafts(cutoff, 100).await {
        Ok(ids) => ids,
        Err(e) => {
            tracing::warn!(error = %e, "bulk: cannot list unconfirmed batches; retried later");
            return;
        }
    };
    let mut n = 0usize;
    for id in ids {
        match st.store.bulk().delete_draft(&id).await {
            Ok(deleted) => n += usize::from(deleted),
            Err(e) => {
                tracing::warn!(error = %e, batch = %id, "bulk: cannot delete an unconfirmed batch; retried later");
            }
        }
    }
    if n > 0 {
        crate::audit!("bulk_drafts_expired", batches = n);
    }
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
    let b = match own_draft(&st, &s, &id).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    if b.state == BULK_DRAFT {
        return confirm_page(&st, &s, b).await;
    }
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

    fn ok(rows: &Recipients) -> Vec<(&str, Option<&str>)> {
        rows.rows
            .iter()
            .filter(|r| r.error.is_none())
            .map(|r| (r.number.as_str(), r.name.as_deref()))
            .collect()
    }

    fn reasons(rows: &Recipients) -> Vec<&str> {
        rows.rows
            .iter()
            .filter_map(|r| r.error.as_deref())
            .collect()
    }

    #[test]
    fn recipients_from_csv_or_list() {
        let none = CoverDefaults::default();
        let r = parse_recipients("number,name\n+15550000001, Dr. Ada\n\"+1 555 000 0002\",\"Bob, MD\"\n+15550000001,dup\n", &none).unwrap();
        assert_eq!(
            ok(&r),
            vec![
                ("+15550000001", Some("Dr. Ada")),
                ("+15550000002", Some("Bob, MD")),
            ]
        );
        assert!(!r.cover);
        assert_eq!(
            reasons(&r),
            vec!["row 4: the same number as row 2 (one fax per number)"]
        );
        assert_eq!(
            parse_recipients("+15550000001\n5550000002\n", &none)
                .unwrap()
                .accepted(),
            2
        );
        // A bad row is refused with its line; the others go on.
        let r = parse_recipients("+15550000001\nnot-a-number\n", &none).unwrap();
        assert_eq!(r.accepted(), 1);
        assert_eq!(
            reasons(&r),
            vec!["row 2: \"not-a-number\" is not a fax number"]
        );
        assert_eq!(r.rows[1].number, "not-a-number");
        assert_eq!(
            parse_recipients("number\n", &none).unwrap_err(),
            "no recipients"
        );
        assert_eq!(
            parse_recipients("+1555abc\n", &none).unwrap_err(),
            "no row can be sent (row 1: \"+1555abc\" is not a fax number)"
        );
        // An old header of other names is skipped as before.
        let r = parse_recipients("Fax,Clinic\n+15550000001,Ada\n", &none).unwrap();
        assert_eq!(ok(&r), vec![("+15550000001", Some("Ada"))]);
    }

    #[test]
    fn cover_fields_per_row() {
        let none = CoverDefaults::default();
        let csv = "# referrals\nSubject,Number,Name,Note\n\
                   Referral,+15550000001,Dr. Ada,\"Two lines,\nsecond\"\n\
                   ,+15550000002,,\n";
        let r = parse_recipients(csv, &none).unwrap();
        assert!(r.cover);
        assert_eq!(r.accepted(), 2);
        assert_eq!(r.rows[0].cover_subject.as_deref(), Some("Referral"));
        assert_eq!(r.rows[0].cover_note.as_deref(), Some("Two lines,\nsecond"));
        assert_eq!(r.rows[0].name.as_deref(), Some("Dr. Ada"));
        assert_eq!(r.rows[1].cover_subject, None);
        // The form's fields fill what a row leaves empty.
        let defaults = CoverDefaults {
            enabled: true,
            from: "Clinic".into(),
            subject: "Results".into(),
            note: String::new(),
        };
        let r = parse_recipients(
            "number,name,subject\n+15550000001,Ada,\n+15550000002,Bob,Own\n",
            &defaults,
        )
        .unwrap();
        assert_eq!(r.rows[0].cover_subject.as_deref(), Some("Results"));
        assert_eq!(r.rows[1].cover_subject.as_deref(), Some("Own"));
        assert_eq!(r.rows[1].cover_from.as_deref(), Some("Clinic"));
        // Over a limit: that row is refused, naming the field.
        let long = "x".repeat(faxline_document::COVER_FIELD_MAX + 1);
        let r = parse_recipients(
            &format!("number,subject\n+15550000001,{long}\n+15550000002,ok\n,lost\n"),
            &none,
        )
        .unwrap();
        assert_eq!(
            reasons(&r),
            vec![
                "row 2: the subject is longer than 100 characters",
                "row 4: no fax number"
            ]
        );
        assert_eq!(r.accepted(), 1);
        let note = "n".repeat(faxline_document::COVER_NOTE_MAX + 1);
        let r = parse_recipients(
            &format!("number,note\n+15550000001,{note}\n+15550000002,\n"),
            &none,
        )
        .unwrap();
        assert_eq!(
            reasons(&r),
            vec!["row 2: the note is longer than 2000 characters"]
        );
        // A header with a known and an unknown column, a repeated one, or no number column.
        assert_eq!(
            parse_recipients("number,subject,fruit\n+15550000001,x,y\n", &none).unwrap_err(),
            "row 1: unknown column \"fruit\" (the columns are number, name, from, subject, note)"
        );
        assert_eq!(
            parse_recipients("number,note,message\n+15550000001,x,y\n", &none).unwrap_err(),
            "row 1: a column is named twice"
        );
        assert_eq!(
            parse_recipients("name,subject\nAda,x\n", &none).unwrap_err(),
            "row 1: the header names no \"number\" column"
        );
        // Without a cover page a long name is shortened, as before.
        let r = parse_recipients(&format!("+15550000001,{}\n", "n".repeat(300)), &none).unwrap();
        assert_eq!(
            r.rows[0].name.as_ref().map(|n| n.chars().count()),
            Some(200)
        );
        // Too many rows.
        let many: String = (0..=MAX_RECIPIENTS)
            .map(|i| format!("+1555{i:07}\n"))
            .collect();
        assert!(
            parse_recipients(&many, &none)
                .unwrap_err()
                .contains("at most")
        );
    }

    #[test]
    fn cover_file_names() {
        assert_eq!(with_cover_name("memo.txt"), "memo.pdf");
        assert_eq!(with_cover_name("letter"), "letter.pdf");
    }
}
