//! Send drafts: the Send form prepares the one document that will be faxed (files joined behind
//! the optional cover page) as a durable draft, shows a preview of every page exactly as it will
//! be faxed, and only "Send" turns it into jobs (one per number, without uploading again);
//! "Discard" deletes it. A draft is its user's alone (another user gets 404), is kept through the
//! document store (so sealed at rest when client-side encryption is on), and expires after
//! [`DRAFT_TTL_US`]; [`sweep`] deletes expired drafts with their documents.

use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::page::{Chrome, error_page, html, when};
use super::session::Session;
use super::{CsrfForm, WidthQuery, checked_form, see_other, store_failed, valid_id};
use crate::audit::mask_number;
use crate::document::DocKind;
use crate::error::ApiError;
use crate::routes::fax::{Content, Submission, render_preview, submit};
use crate::server::AppState;
use crate::store::spool::Spooled;
use crate::store::{DocumentId, DocumentStore, Draft};
use faxline_protocol::time::now_us;

/// How long a draft waits for Send or Discard.
pub const DRAFT_TTL_US: i64 = 3600 * 1_000_000;
/// Drafts one user may have waiting at once (each holds a document up to the upload limit).
pub const MAX_WAITING: i64 = 10;

/// The masked numbers of a draft, for the audit log.
fn masked(numbers: &[String]) -> String {
    numbers
        .iter()
        .map(|n| mask_number(n))
        .collect::<Vec<_>>()
        .join(",")
}

fn prepare_failed() -> (StatusCode, String) {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "The documents could not be prepared; try again.".to_owned(),
    )
}

/// What the Send form prepared, to keep as a draft.
pub(super) struct Prepared {
    /// The draft's id (a bulk send's: its batch's).
    pub id: String,
    pub numbers: Vec<String>,
    pub file_name: String,
    /// Composed in memory (files joined, typed text, a cover page, a bulk send's first fax), or the
    /// one file uploaded as it was spooled (for `DocumentId::Draft(id)`): counted and stored from
    /// the spool, never held whole.
    pub content: Content,
    pub parts: usize,
    pub cover: bool,
    /// The bulk send this draft previews (the draft takes the batch's id and is never sent).
    pub bulk_batch: Option<String>,
}

/// Counts the pages of the prepared document and stores it as a draft of `s`'s user; the draft's
/// id, or the status and message for the form.
pub(super) async fn create(
    st: &AppState,
    s: &Session,
    p: Prepared,
) -> Result<String, (StatusCode, String)> {
    let now = now_us();
    let waiting = st
        .store
        .drafts()
        .waiting(&s.user_id, now, MAX_WAITING)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "console: cannot list drafts");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "The fax could not be prepared; try again.".to_owned(),
            )
        })?;
    if waiting.len() as i64 >= MAX_WAITING {
        crate::audit!("console_send_refused", user = %s.username, reason = "too many drafts", ip = %s.ip);
        return Err((
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "You have {MAX_WAITING} faxes waiting for confirmation (listed below): send or discard them first."
            ),
        ));
    }
    let not_sent = |e: crate::document::SniffError| {
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("Not sent: {e}."),
        )
    };
    let kind = p.content.kind().map_err(not_sent)?;
    let size = p.content.len();
    let budget = st.cfg.render.clone();
    let content = p.content;
    let counted = tokio::task::spawn_blocking(move || {
        content.count_pages(&budget, kind).map(|n| (n, content))
    })
    .await;
    let (pages, content) = match counted {
        Ok(Ok(counted)) => counted,
        Ok(Err(e @ faxline_document::DocError::Worker(_))) => {
            tracing::error!(error = %e, "console: counting the pages of a draft failed");
            return Err(prepare_failed());
        }
        Err(_) => return Err(prepare_failed()),
        Ok(Err(e)) => {
            return Err((
                StatusCode::BAD_REQUEST,
                format!("Cannot read the document: {e}."),
            ));
        }
    };
    let draft = Draft {
        id: p.id,
        user_id: s.user_id.clone(),
        numbers: p.numbers.join("\n"),
        file_name: p.file_name,
        doc_kind: kind.as_str().to_owned(),
        pages: pages as i64,
        size_bytes: size as i64,
        parts: p.parts as i64,
        cover: i64::from(p.cover),
        created_at: now,
        expires_at: now + DRAFT_TTL_US,
        sent_at: None,
        sent: 0,
        bulk_batch: p.bulk_batch.clone(),
    };
    let stored = match content {
        Content::Bytes(content) => st.store.drafts().create(&draft, &content).await,
        Content::Spooled(_, spooled) => st.store.drafts().create_spooled(&draft, *spooled).await,
    };
    if let Err(e) = stored {
        tracing::error!(error = %e, "console: cannot store a draft");
        return Err((
            StatusCode::SERVICE_UNAVAILABLE,
            "The fax could not be prepared (storage is unavailable); try again.".to_owned(),
        ));
    }
    // What was prepared, never what it says (no content, no cover text).
    crate::audit!(
        "console_draft_created",
        user = %s.username,
        draft = %draft.id,
        parts = p.parts,
        cover = p.cover,
        pages = pages,
        size = draft.size_bytes,
        numbers = p.numbers.len(),
        to = %masked(&p.numbers),
        ip = %s.ip
    );
    Ok(draft.id)
}

/// A draft of `s`'s user (404 for any other: a draft shows the document itself).
async fn load(st: &AppState, s: &Session, id: &str) -> Result<Draft, Response> {
    let draft = if valid_id(id) {
        st.store.drafts().get(id).await.map_err(store_failed)?
    } else {
        None
    };
    draft.filter(|d| d.user_id == s.user_id).ok_or_else(|| {
        error_page(
            StatusCode::NOT_FOUND,
            "There is no such fax waiting to be sent (it may have expired or been discarded).",
        )
    })
}

#[derive(Template)]
#[template(path = "console/draft.html")]
struct DraftPage {
    chrome: Chrome,
    id: String,
    numbers: Vec<String>,
    file_name: String,
    pages: Vec<i64>,
    page_count: i64,
    parts: i64,
    cover: bool,
    expires: String,
}

/// `GET /drafts/{id}`: every page as it will be faxed, the numbers, Send and Discard.
pub(super) async fn show(
    State(st): State<AppState>,
    s: Session,
    Path(id): Path<String>,
) -> Response {
    let d = match load(&st, &s, &id).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    // A bulk send's preview is confirmed or discarded on the batch's page, never sent from here.
    if let Some(batch) = &d.bulk_batch {
        return see_other(&format!("/bulk/{batch}"));
    }
    if d.sent_at.is_some() {
        return see_other(&format!("/outbox?sent={}", d.sent));
    }
    if d.expires_at <= now_us() {
        return expired();
    }
    crate::audit!("console_draft_viewed", user = %s.username, draft = %d.id, ip = %s.ip);
    html(
        StatusCode::OK,
        &DraftPage {
            chrome: Chrome::new(&s, "send"),
            numbers: d.number_list(),
            pages: (1..=d.pages.clamp(0, crate::pages::MAX_PAGES as i64)).collect(),
            page_count: d.pages,
            parts: d.parts,
            cover: d.cover != 0,
            expires: when(d.expires_at),
            file_name: d.file_name,
            id: d.id,
        },
    )
}

fn expired() -> Response {
    error_page(
        StatusCode::GONE,
        "This fax was not sent within an hour and has expired; prepare it again from the Send page.",
    )
}

/// `GET /drafts/{id}/page/{page}`: a page of the draft, rendered by the API's preview renderer
/// (and cache) from the very document Send will queue.
pub(super) async fn preview(
    State(st): State<AppState>,
    s: Session,
    Path((id, page)): Path<(String, usize)>,
    q: Query<WidthQuery>,
) -> Response {
    let d = match load(&st, &s, &id).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let Some(kind) = DocKind::parse(&d.doc_kind) else {
        return error_page(StatusCode::NOT_FOUND, "Document not found");
    };
    let doc = match st.store.drafts().document(&id).await {
        Ok(Some(doc)) => doc,
        Ok(None) => return error_page(StatusCode::NOT_FOUND, "The document is no longer kept."),
        Err(e) => return crate::error::ApiError::from(e).into_response(),
    };
    let key = crate::pages::PreviewCache::key(&format!("draft/{id}"), page, q.width);
    match render_preview(&st, key, kind, doc, page.max(1), q.width).await {
        Ok(png) => {
            crate::audit!("preview_served", draft = %id, page = page, key_id = %s.actor(), ip = %s.ip);
            crate::routes::png_response(png)
        }
        Err(e) => e.into_response(),
    }
}

/// `POST /drafts/{id}/send`: one job per number from the draft's document, through the API's
/// submit path. Each job's idempotency key names the draft and the number, so a double click, a
/// reload or a retry after a failure part-way never queues a number twice.
pub(super) async fn send(
    State(st): State<AppState>,
    s: Session,
    Path(id): Path<String>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    if let Err(r) = checked_form(&s, form) {
        return r;
    }
    let d = match load(&st, &s, &id).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    // A bulk send's preview is confirmed or discarded on the batch's page, never sent from here.
    if let Some(batch) = &d.bulk_batch {
        return see_other(&format!("/bulk/{batch}"));
    }
    if d.sent_at.is_some() {
        return see_other(&format!("/outbox?sent={}", d.sent));
    }
    if d.expires_at <= now_us() {
        return expired();
    }
    let numbers = d.number_list();
    let mut sent = 0usize;
    for n in &numbers {
        // Each job's document is copied from the draft's a piece at a time, as an upload would be.
        let job_id = uuid::Uuid::new_v4().simple().to_string();
        let content = match job_document(&st, &d, &job_id).await {
            Ok(Some(c)) => c,
            Ok(None) => {
                // Sent meanwhile by another press of the button (its document is deleted after).
                return match st.store.drafts().get(&id).await {
                    Ok(Some(again)) if again.sent_at.is_some() => {
                        see_other(&format!("/outbox?sent={}", again.sent))
                    }
                    Ok(_) => error_page(StatusCode::GONE, "The document of this fax is gone."),
                    Err(e) => store_failed(e),
                };
            }
            Err(e) => return error_page(e.status, &format!("Not sent: {}", e.detail)),
        };
        let result = submit(
            &st,
            Submission {
                to: n.clone(),
                file_name: d.file_name.clone(),
                content: Content::Spooled(job_id, Box::new(content)),
                owner: Some(s.actor()),
                actor: s.actor(),
                idempotency_key: Some(format!("{}:draft:{}:{n}", s.actor(), d.id)),
                backend: None,
            },
        )
        .await;
        match result {
            Ok(_) => sent += 1,
            Err(e) => {
                crate::audit!("console_draft_send_failed", user = %s.username, draft = %d.id, to = %mask_number(n), queued = sent, status = e.status.as_u16(), ip = %s.ip);
                let msg = if sent == 0 {
                    format!("Not sent: {}", e.detail)
                } else {
                    format!(
                        "{sent} fax(es) were queued, then {} failed: {}. Press Send again to retry the rest (none is sent twice).",
                        mask_number(n),
                        e.detail
                    )
                };
                return error_page(e.status, &msg);
            }
        }
    }
    if let Err(e) = st
        .store
        .drafts()
        .mark_sent(&d.id, sent as i64, now_us())
        .await
    {
        // The jobs exist; the draft is swept when it expires.
        tracing::warn!(error = %e, draft = %d.id, "console: cannot mark a draft sent");
    }
    crate::audit!("console_draft_sent", user = %s.username, draft = %d.id, faxes = sent, to = %masked(&numbers), ip = %s.ip);
    see_other(&format!("/outbox?sent={sent}"))
}

/// The draft's document spooled as job `job_id`'s (read from the store a piece at a time); `None`
/// when the draft no longer has one.
async fn job_document(st: &AppState, d: &Draft, job_id: &str) -> Result<Option<Spooled>, ApiError> {
    let Some(pieces) = st
        .store
        .documents()
        .get_stream(&DocumentId::Draft(d.id.clone()))
        .await?
    else {
        return Ok(None);
    };
    crate::routes::spool_pieces(
        st,
        DocumentId::Job(job_id.to_owned()),
        // The draft's own document: its size was checked when it was prepared.
        u64::try_from(d.size_bytes).unwrap_or(0),
        pieces,
        ApiError::from,
        || {
            tracing::error!(draft = %d.id, "a draft's document is longer than its recorded size");
            ApiError::internal()
        },
    )
    .await
    .map(Some)
}

/// `POST /drafts/{id}/discard`: deletes the draft and its document.
pub(super) async fn discard(
    State(st): State<AppState>,
    s: Session,
    Path(id): Path<String>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    if let Err(r) = checked_form(&s, form) {
        return r;
    }
    let d = match load(&st, &s, &id).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    if let Some(batch) = &d.bulk_batch {
        return see_other(&format!("/bulk/{batch}"));
    }
    if d.sent_at.is_some() {
        return error_page(
            StatusCode::CONFLICT,
            "This fax was already sent; cancel it from the outbox.",
        );
    }
    if let Err(e) = st.store.drafts().delete(&d.id).await {
        return store_failed(e);
    }
    crate::audit!("console_draft_discarded", user = %s.username, draft = %d.id, numbers = d.number_list().len(), ip = %s.ip);
    see_other("/send?discarded=1")
}

/// A waiting draft on the Send page.
pub(super) struct WaitingRow {
    pub id: String,
    pub file_name: String,
    pub numbers: usize,
    pub pages: i64,
    pub created: String,
}

/// The drafts `s`'s user has waiting (empty when they cannot be read: the page still works).
pub(super) async fn waiting(st: &AppState, s: &Session) -> Vec<WaitingRow> {
    match st
        .store
        .drafts()
        .waiting(&s.user_id, now_us(), MAX_WAITING)
        .await
    {
        Ok(list) => list
            .into_iter()
            // A bulk send's preview waits on its batch's page (it counts towards the limit).
            .filter(|d| d.bulk_batch.is_none())
            .map(|d| WaitingRow {
                numbers: d.number_list().len(),
                id: d.id,
                file_name: d.file_name,
                pages: d.pages,
                created: when(d.created_at),
            })
            .collect(),
        Err(e) => {
            tracing::warn!(error = %e, "console: cannot list drafts");
            Vec::new()
        }
    }
}

/// Deletes expired drafts with their documents, and the documents finished bulk sends still
/// keep (run by the API's maintenance loop).
pub(crate) async fn sweep(st: &AppState) {
    match st.store.drafts().sweep(now_us()).await {
        Ok(0) => {}
        Ok(n) => crate::audit!("console_drafts_expired", drafts = n),
        Err(e) => tracing::warn!(error = %e, "console: draft sweep failed; retried later"),
    }
    if let Err(e) = st.store.bulk().drop_finished_documents(now_us(), 100).await {
        tracing::warn!(error = %e, "console: cannot delete finished bulk documents; retried later");
    }
    super::bulk::sweep(st).await;
}

#[derive(Deserialize)]
pub(super) struct SendQuery {
    pub discarded: Option<u8>,
}
