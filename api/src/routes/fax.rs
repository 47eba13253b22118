//! `/fax`: send (multipart `to` + `file`), read, list, cancel, signed PDF links.

use axum::Json;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::extract::{Caller, FaxRead, FaxSend, OwnJob, PageNo, SignedLink, ValidQuery, load_job};
use super::{ClientIp, FaxJobOut, PdfLinkOut, make_link};
use crate::audit::mask_number;
use crate::document::{DocKind, SniffError, sniff};
use crate::error::{ApiError, ApiResult};
use crate::links::LinkKind;
use crate::pages::{self, PreviewError};
use crate::server::AppState;
use crate::store::spool::Spooled;
use crate::store::{
    CancelOutcome, DocumentId, DocumentStore, InsertOutcome, Job, JobFilter, NewJob,
};
use faxline_protocol::PhoneNumber;
use faxline_protocol::time::now_us;

fn parse_error(e: axum::extract::multipart::MultipartError, limit_mb: u64) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("File exceeds {limit_mb} MB limit"),
        )
    } else {
        ApiError::bad_request("There was an error parsing the body")
    }
}

/// Keeps only the last path component and printable characters (never used as a path).
pub(crate) fn clean_filename(name: Option<&str>) -> String {
    let base = name
        .unwrap_or("upload")
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("upload");
    let cleaned: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    if cleaned.is_empty() {
        "upload".into()
    } else {
        cleaned
    }
}

pub(crate) async fn send(
    State(st): State<AppState>,
    principal: Caller<FaxSend>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, Json<FaxJobOut>)> {
    let idem = match headers.get("idempotency-key") {
        None => None,
        Some(v) => {
            let v = v
                .to_str()
                .ok()
                .filter(|s| !s.is_empty() && s.len() <= 255)
                .ok_or_else(|| ApiError::bad_request("Invalid Idempotency-Key header"))?;
            Some(format!("{}:{v}", principal.key_id))
        }
    };
    let mut multipart = multipart.map_err(|_| ApiError::missing("body", "to"))?;
    let limit = st.cfg.max_file_bytes();
    let limit_mb = st.cfg.max_file_size_mb;
    let too_large = || {
        crate::audit!("upload_rejected", key_id = %principal.key_id, reason = "too large");
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("File exceeds {limit_mb} MB limit"),
        )
    };
    let mut to: Option<String> = None;
    let mut backend: Option<String> = None;
    let mut file: Option<(String, Spooled)> = None;
    // The job's id names the document while it is spooled (and sealed, with encryption on).
    let job_id = uuid::Uuid::new_v4().simple().to_string();
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|e| parse_error(e, limit_mb))?
    {
        match field.name() {
            Some("to") => to = Some(field.text().await.map_err(|e| parse_error(e, limit_mb))?),
            Some("backend") => {
                backend = Some(field.text().await.map_err(|e| parse_error(e, limit_mb))?);
            }
            Some("file") => {
                let name = clean_filename(field.file_name());
                // A second `file` field replaces the first (whose file is deleted first).
                drop(file.take());
                let spooled = super::spool_pieces(
                    &st,
                    DocumentId::Job(job_id.clone()),
                    limit,
                    field,
                    |e| parse_error(e, limit_mb),
                    too_large,
                )
                .await?;
                file = Some((name, spooled));
            }
            _ => {
                while field
                    .chunk()
                    .await
                    .map_err(|e| parse_error(e, limit_mb))?
                    .is_some()
                {}
            }
        }
    }
    let to = to.ok_or_else(|| ApiError::missing("body", "to"))?;
    let (file_name, content) = file.ok_or_else(|| ApiError::missing("body", "file"))?;
    let job = submit(
        &st,
        Submission {
            to,
            file_name,
            content: Content::Spooled(job_id, Box::new(content)),
            owner: (!principal.anonymous).then(|| principal.key_id.clone()),
            actor: principal.key_id.clone(),
            idempotency_key: idem,
            backend,
        },
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(job.into())))
}

/// A document on its way into the store: in memory (the console composes some documents), or
/// spooled to a temporary file as it arrived (`POST /fax`, the console's Send of one file), with
/// the id of the job (or draft) it was spooled for.
pub(crate) enum Content {
    Bytes(bytes::Bytes),
    Spooled(String, Box<Spooled>),
}

impl From<bytes::Bytes> for Content {
    fn from(b: bytes::Bytes) -> Self {
        Content::Bytes(b)
    }
}

impl Content {
    pub(crate) fn len(&self) -> u64 {
        match self {
            Content::Bytes(b) => b.len() as u64,
            Content::Spooled(_, s) => s.size(),
        }
    }

    /// What the content is (sniffed as it arrived when spooled).
    pub(crate) fn kind(&self) -> Result<DocKind, SniffError> {
        match self {
            Content::Bytes(b) => sniff(b),
            Content::Spooled(_, s) => s.kind(),
        }
    }

    /// Its pages, counted under the budget (a spooled PDF is piped to the render worker from its
    /// file). Blocking; run it on the blocking pool.
    pub(crate) fn count_pages(
        &self,
        budget: &pages::RenderBudget,
        kind: DocKind,
    ) -> Result<usize, faxline_document::DocError> {
        match self {
            Content::Bytes(b) => pages::count_pages(budget, kind, b),
            Content::Spooled(_, s) => pages::count_pages_spooled(budget, s),
        }
    }
}

/// One fax to queue, however it came in (`POST /fax`, the web console).
pub(crate) struct Submission {
    /// The number as typed (trimmed and validated here).
    pub to: String,
    pub file_name: String,
    pub content: Content,
    /// `owner_key_id` of the job: the API key, or `user:<name>` for the console.
    pub owner: Option<String>,
    /// Who asks, for the audit log (a key id, or `user:<name>`).
    pub actor: String,
    /// Already namespaced by the caller (`<key id>:<header>`).
    pub idempotency_key: Option<String>,
    /// The line the client asks for (`backend`), checked here against the API's `backends`; empty or absent:
    /// the routing policy decides.
    pub backend: Option<String>,
}

/// The one path from an upload to a queued job: the number rule, the content sniff, the
/// idempotency check, the page count under the render budget, then the durable insert (job row and
/// document together). Rejections are audited with the number masked and the size only.
pub(crate) async fn submit(st: &AppState, sub: Submission) -> ApiResult<Job> {
    let Submission {
        to,
        file_name,
        content,
        owner,
        actor,
        idempotency_key: idem,
        backend,
    } = sub;
    let to = to.trim().to_string();
    // Rejections are audited with the number masked and the size only, never the content.
    let (masked_to, size) = (mask_number(&to), content.len());
    let reject = |reason: &str| {
        crate::audit!(
            "upload_rejected",
            key_id = %actor,
            to = %masked_to,
            size = size,
            reason = reason
        );
    };
    // Faxbot's rule (`^[+]?\d{6,20}$`), the workspace's one number rule.
    if !PhoneNumber::is_valid(&to) {
        reject("invalid number");
        return Err(ApiError::bad_request("'to' must be E.164 or digits only"));
    }
    let requested_backend = backend
        .map(|b| b.trim().to_ascii_lowercase())
        .filter(|b| !b.is_empty());
    if let Some(b) = &requested_backend
        && let Err(why) = crate::routing::check_requested(&st.cfg.backends, b)
    {
        reject("backend not allowed");
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, why));
    }
    let kind = content.kind().map_err(|e| {
        reject(&e.to_string());
        match e {
            SniffError::Empty => ApiError::bad_request("Empty file"),
            SniffError::Unsupported => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Only PDF and TXT are allowed",
            ),
        }
    })?;
    let doc_sha256 = match &content {
        Content::Bytes(b) => hex::encode(Sha256::digest(b)),
        Content::Spooled(_, s) => s.sha256().to_owned(),
    };
    // A retry with the same Idempotency-Key gets the first job; the same key with another number
    // or document is a client bug, answered 422 rather than silently ignored.
    if let Some(key) = &idem
        && let Some(job) = st.store.jobs().by_idempotency_key(key).await?
    {
        return same_request(job, &to, &doc_sha256, requested_backend.as_deref(), &actor);
    }
    // Counted once here (Faxbot's SIP backend reports `pages` at submission too); a PDF that
    // cannot be opened is refused now rather than failing later on an agent.
    let budget = st.cfg.render.clone();
    let (counted, content) = tokio::task::spawn_blocking(move || {
        let counted = content.count_pages(&budget, kind);
        (counted, content)
    })
    .await
    .map_err(|_| ApiError::internal())?;
    let pages = counted.map_err(|e| match e {
        // The render worker could not run: not the document's fault.
        faxline_document::DocError::Worker(detail) => {
            tracing::error!(error = %detail, "page count failed");
            ApiError::internal()
        }
        e => {
            reject(&e.to_string());
            ApiError::bad_request(format!("Cannot read the document: {e}"))
        }
    })?;
    let to_number = to.clone();
    let asked = requested_backend;
    let (id, bytes, spooled) = match content {
        Content::Bytes(b) => (uuid::Uuid::new_v4().simple().to_string(), b, None),
        Content::Spooled(id, s) => (id, bytes::Bytes::new(), Some(*s)),
    };
    let new = NewJob {
        id,
        to_number: to,
        file_name,
        doc_kind: kind.as_str().into(),
        doc_sha256: doc_sha256.clone(),
        pages: Some(pages as i64),
        backend: st.cfg.backend.clone(),
        requested_backend: asked.clone(),
        owner_key_id: owner,
        idempotency_key: idem,
        created_at: now_us(),
        content: bytes,
    };
    let inserted = match spooled {
        None => st.store.jobs().insert(new).await?,
        Some(s) => st.store.jobs().insert_spooled(new, s).await?,
    };
    match inserted {
        InsertOutcome::Created(job) => {
            crate::audit!(
                "job_created",
                job_id = %job.id,
                to = %mask_number(&job.to_number),
                key_id = %actor,
                kind = %job.doc_kind,
                size = job.doc_size
            );
            st.job_added.notify_waiters();
            Ok(job)
        }
        InsertOutcome::Existing(job) => {
            same_request(job, &to_number, &doc_sha256, asked.as_deref(), &actor)
        }
    }
}

/// The job an `Idempotency-Key` already names, if it was created by the same request (number and
/// document SHA-256); 422 otherwise.
fn same_request(
    job: Job,
    to: &str,
    doc_sha256: &str,
    backend: Option<&str>,
    key_id: &str,
) -> ApiResult<Job> {
    if job.to_number == to
        && job.doc_sha256 == doc_sha256
        && job.requested_backend.as_deref() == backend
    {
        return Ok(job);
    }
    crate::audit!("idempotency_key_reused", job_id = %job.id, key_id = %key_id);
    Err(ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "Idempotency-Key was already used with a different request",
    ))
}

pub(crate) async fn get(OwnJob { job, .. }: OwnJob<FaxRead>) -> Json<FaxJobOut> {
    Json(job.into())
}

#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    status: Option<String>,
    to: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

#[derive(Debug, Serialize)]
pub(crate) struct JobList {
    total: i64,
    limit: i64,
    offset: i64,
    jobs: Vec<FaxJobOut>,
}

/// Beyond Faxbot: `GET /fax?status=&to=&limit=&offset=`, newest first.
pub(crate) async fn list(
    State(st): State<AppState>,
    p: Caller<FaxRead>,
    ValidQuery(q): ValidQuery<ListQuery>,
) -> ApiResult<Json<JobList>> {
    let limit = q.limit.unwrap_or(50).clamp(1, 100);
    let offset = q.offset.unwrap_or(0).max(0);
    let (total, jobs) = st
        .store
        .jobs()
        .list(&JobFilter {
            owner_key_id: p.job_owner_filter().map(str::to_string),
            status: q.status,
            to_number: q.to,
            limit,
            offset,
        })
        .await?;
    Ok(Json(JobList {
        total,
        limit,
        offset,
        jobs: jobs.into_iter().map(Into::into).collect(),
    }))
}

/// Beyond Faxbot: cancels a job that no agent has taken yet.
pub(crate) async fn cancel(
    State(st): State<AppState>,
    OwnJob { job, caller: p }: OwnJob<FaxSend>,
) -> ApiResult<Json<FaxJobOut>> {
    match st.store.jobs().cancel(&job.id, now_us()).await? {
        CancelOutcome::Cancelled(job) => {
            crate::audit!("job_cancelled", job_id = %job.id, key_id = %p.key_id);
            Ok(Json(job.into()))
        }
        CancelOutcome::NotQueued(job) => Err(ApiError::conflict(format!(
            "Job cannot be cancelled in status {}",
            job.status
        ))),
        CancelOutcome::NotFound => Err(ApiError::not_found("Job not found")),
    }
}

/// Mints a signed, expiring link to the job's PDF (`PDF_TOKEN_TTL_MINUTES`).
pub(crate) async fn pdf_link(
    State(st): State<AppState>,
    OwnJob { job, caller: p }: OwnJob<FaxRead>,
) -> ApiResult<Json<PdfLinkOut>> {
    let id = &job.id;
    if DocKind::parse(&job.doc_kind) != Some(DocKind::Pdf) {
        return Err(ApiError::not_found("PDF not available"));
    }
    crate::audit!("pdf_link_created", job_id = %id, key_id = %p.key_id);
    Ok(Json(make_link(
        &st,
        LinkKind::Fax,
        &format!("/fax/{id}/pdf"),
        id,
        st.cfg.pdf_token_ttl_minutes,
    )))
}

/// `GET /fax/{id}/pdf?token=` — the signed token is the credential (no API key), as in Faxbot.
pub(crate) async fn pdf(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(id): Path<String>,
    link: SignedLink,
) -> ApiResult<Response> {
    link.required()?;
    link.not_locked(&st)?;
    let job = load_job(&st, &id).await?;
    link.verify(&st, LinkKind::Fax, &id)?;
    if DocKind::parse(&job.doc_kind) != Some(DocKind::Pdf) {
        return Err(ApiError::not_found("PDF not available"));
    }
    // Streamed from the store as the agent's download is (a read error midway cuts the body short).
    let response = super::streamed_pdf(
        &st,
        DocumentId::Job(id.clone()),
        &format!("fax_{id}.pdf"),
        Some(job.doc_size),
    )
    .await?;
    crate::audit!("pdf_served", job_id = %id, ip = %ip);
    Ok(response)
}

#[derive(Debug, Deserialize)]
pub(crate) struct PreviewQuery {
    width: Option<u32>,
}

impl PreviewQuery {
    /// The thumbnail width asked for, if any.
    pub(crate) fn width(&self) -> Option<u32> {
        self.width
    }
}

/// Beyond Faxbot: `GET /fax/{id}/preview/{page}[?width=N]` — a PNG of one page (1-based) as the
/// agent will fax it: 1728 pixels wide at fine resolution, or a thumbnail `N` pixels wide.
///
/// Another key's job is not found, exactly as for `GET /fax/{id}`: a preview shows the document itself.
pub(crate) async fn preview(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    _caller: Caller<FaxRead>,
    ValidQuery(q): ValidQuery<PreviewQuery>,
    OwnJob { job, caller: p }: OwnJob<FaxRead>,
    PageNo(page): PageNo,
) -> ApiResult<Response> {
    let id = &job.id;
    let kind =
        DocKind::parse(&job.doc_kind).ok_or_else(|| ApiError::not_found("Document not found"))?;
    let doc = st
        .store
        .documents()
        .get(&DocumentId::Job(id.clone()))
        .await?
        .ok_or_else(|| ApiError::not_found("Document not found"))?;
    let key = pages::PreviewCache::key(&format!("fax/{id}"), page, q.width);
    let png = render_preview(&st, key, kind, doc, page, q.width).await?;
    crate::audit!("preview_served", job_id = %id, page = page, key_id = %p.key_id, ip = %ip);
    Ok(super::png_response(png))
}

/// Renders on the blocking pool under the render budget, at most
/// [`crate::server::PREVIEW_CONCURRENCY`] at a time; answers (refusals included) are kept in the
/// preview cache under `key`, so asking again for the same page costs no render.
pub(crate) async fn render_preview(
    st: &AppState,
    key: String,
    kind: DocKind,
    doc: bytes::Bytes,
    page: usize,
    width: Option<u32>,
) -> ApiResult<Vec<u8>> {
    if let Some(hit) = st.preview_cache.get(&key) {
        return cached_answer(hit);
    }
    let _permit = st
        .previews
        .acquire()
        .await
        .map_err(|_| ApiError::internal())?;
    if let Some(hit) = st.preview_cache.get(&key) {
        return cached_answer(hit); // rendered while we waited for the permit
    }
    let budget = st.cfg.render.clone();
    let rendered =
        tokio::task::spawn_blocking(move || pages::preview_png(&budget, kind, &doc, page, width))
            .await
            .map_err(|_| ApiError::internal())?;
    let answer: pages::CachedPreview = match rendered {
        Ok(png) => Ok(std::sync::Arc::new(png)),
        Err(PreviewError::NoSuchPage { .. }) => {
            Err((StatusCode::NOT_FOUND.as_u16(), "Page not found".into()))
        }
        Err(PreviewError::Doc(faxline_document::DocError::Worker(e))) => {
            // Not the document's fault (the worker could not start): not cached.
            tracing::error!(error = %e, "preview failed");
            return Err(ApiError::internal());
        }
        Err(PreviewError::Doc(e)) => {
            tracing::warn!(error = %e, "preview failed");
            Err((
                StatusCode::UNPROCESSABLE_ENTITY.as_u16(),
                format!("Cannot render the document: {e}"),
            ))
        }
    };
    st.preview_cache.put(key, answer.clone());
    cached_answer(answer)
}

fn cached_answer(answer: pages::CachedPreview) -> ApiResult<Vec<u8>> {
    answer
        .map(|png| png.as_ref().clone())
        .map_err(|(status, msg)| {
            ApiError::new(
                StatusCode::from_u16(status).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY),
                msg,
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filenames_lose_their_paths() {
        assert_eq!(clean_filename(Some("../../etc/passwd")), "passwd");
        assert_eq!(clean_filename(Some("a\\b.pdf")), "b.pdf");
        assert_eq!(clean_filename(None), "upload");
        assert_eq!(clean_filename(Some("dir/")), "upload");
    }
}
