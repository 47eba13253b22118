//! Cloud fax providers' webhooks (Faxbot's routes: `/phaxio-callback`, `/phaxio-inbound`; Telnyx's
//! `/telnyx-callback`, one route for all of its fax events), the agent protocol's long poll for them
//! (`/agent/v1/jobs/{id}/provider-events`), and the signed document link a provider that fetches the
//! document by URL is given (`/agent/v1/jobs/{id}/document-link`).
//!
//! Each webhook is authenticated first (on by default; refused 401 when the signature is missing or wrong,
//! when the event is older than `webhook_max_age_seconds`, or when the same event was already taken: a
//! replay), then parsed by the provider's sans-IO module in [`crate::cloud`]. A status event is stored once
//! per (provider, provider_sid, event) for the agent whose line sent the fax; it never changes the job
//! itself: the agent reports the result, as for every other line. A received fax (Phaxio posts its PDF with
//! the callback; Telnyx gives a link, downloaded here) is stored like one from Asterisk.

use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use faxline_protocol::JobStatus;
use faxline_protocol::messages::{
    DocumentLink, ProviderEventView, ProviderEvents, ProviderEventsRequest,
};
use faxline_protocol::time::{now_s, now_us};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::ClientIp;
use super::agent::SignedAgent;
use crate::audit::mask_number;
use crate::cloud::{Received, phaxio, signalwire, sinch, telnyx};
use crate::document::DocKind;
use crate::document::is_pdf;
use crate::error::{ApiError, ApiResult};
use crate::links::LinkKind;
use crate::server::AppState;
use crate::store::spool::Spooled;
use crate::store::{DocumentId, Inbound, ProviderEvent};

/// A status callback is a small form; more is refused unread.
const STATUS_BODY_LIMIT: usize = 64 * 1024;

/// A webhook's form: its text fields and its uploaded files (field name, content).
struct WebhookForm {
    fields: Vec<(String, String)>,
    files: Vec<(String, Bytes)>,
}

impl WebhookForm {
    /// Each file's field name and SHA-1, as Phaxio's signature covers them.
    fn digests(&self) -> Vec<(String, String)> {
        self.files
            .iter()
            .map(|(n, b)| (n.clone(), phaxio::file_digest(b)))
            .collect()
    }
}

/// Uploads that may be read at once before their signature is checked: an unsigned sender
/// cannot make the API spool more than this many received faxes at a time.
static UNVERIFIED_UPLOADS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(8);

/// The text fields of a streamed webhook form together, at most (the fax's JSON and a few more).
const FORM_FIELDS_MAX: usize = 256 * 1024;

/// The parts a streamed webhook form may have.
const FORM_PARTS_MAX: usize = 64;

/// A webhook form with a received fax, read as it arrived: its text fields, the `file` part
/// spooled as the inbound fax's document, and every file part's field name and SHA-1 (what
/// Phaxio's signature covers; parts other than the first `file` are hashed, not kept).
struct SpooledForm {
    fields: Vec<(String, String)>,
    digests: Vec<(String, String)>,
    file: Option<Spooled>,
}

/// Reads a webhook form without holding its file: a multipart body's `file` part goes to a spool
/// file (inbound fax `id`; sealed with client-side encryption on) as it arrives, counted against the
/// upload limit (413). A url-encoded form has no file and is read as [`read_form`] does. Nothing
/// here is trusted yet: the caller checks the signature before using it.
async fn read_form_spooled(
    st: &AppState,
    req: Request,
    limit: usize,
    id: &str,
) -> ApiResult<SpooledForm> {
    if !content_type_is(&req, "multipart/form-data") {
        let form = read_form(req, limit).await?;
        return Ok(SpooledForm {
            digests: form.digests(),
            fields: form.fields,
            file: None,
        });
    }
    let too_large = || ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "Webhook body too large");
    // Past the route's body limit the parser fails too: that is a 413, not a malformed body.
    let bad = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            ApiError::bad_request(format!("Malformed webhook body: {}", e.body_text()))
        }
    };
    let mut mp = Multipart::from_request(req, &())
        .await
        .map_err(|e| ApiError::bad_request(format!("Malformed webhook body: {}", e.body_text())))?;
    let mut form = SpooledForm {
        fields: Vec::new(),
        digests: Vec::new(),
        file: None,
    };
    let (mut parts, mut field_bytes) = (0usize, 0usize);
    while let Some(mut field) = mp.next_field().await.map_err(bad)? {
        parts += 1;
        if parts > FORM_PARTS_MAX {
            return Err(too_large());
        }
        let name = field.name().unwrap_or("").to_owned();
        if field.file_name().is_none() {
            let mut text = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(bad)? {
                field_bytes += chunk.len();
                if field_bytes > FORM_FIELDS_MAX {
                    return Err(too_large());
                }
                text.extend_from_slice(&chunk);
            }
            let text = String::from_utf8(text).map_err(|_| {
                ApiError::bad_request("Malformed webhook body: a field is not UTF-8")
            })?;
            form.fields.push((name, text));
            continue;
        }
        let mut sha1 = sha1::Sha1::new();
        if name == "file" && form.file.is_none() {
            let hashed = futures::TryStreamExt::inspect_ok(field, |piece| sha1.update(piece));
            form.file = Some(
                super::spool_pieces(
                    st,
                    DocumentId::Inbound(id.to_owned()),
                    st.cfg.max_file_bytes(),
                    hashed,
                    bad,
                    too_large,
                )
                .await?,
            );
        } else {
            let mut read = 0u64;
            while let Some(chunk) = field.chunk().await.map_err(bad)? {
                read += chunk.len() as u64;
                if read > st.cfg.max_file_bytes() {
                    return Err(too_large());
                }
                sha1.update(&chunk);
            }
        }
        form.digests.push((name, hex::encode(sha1.finalize())));
    }
    Ok(form)
}

/// Whether the request's `Content-Type` is `mime` (case-insensitive; parameters after it allowed).
fn content_type_is(req: &Request, mime: &str) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.to_ascii_lowercase().starts_with(mime))
}

/// Reads a form body (url-encoded or multipart) of at most `limit` bytes.
async fn read_form(req: Request, limit: usize) -> ApiResult<WebhookForm> {
    let multipart = content_type_is(&req, "multipart/form-data");
    let urlencoded = content_type_is(&req, "application/x-www-form-urlencoded");
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "Webhook body too large"))?;
    let rebuilt = || {
        let mut r = Request::new(axum::body::Body::from(bytes.clone()));
        // The body is the form (a GET's form would be read from the query).
        *r.method_mut() = axum::http::Method::POST;
        *r.headers_mut() = parts.headers.clone();
        // The route's body limit (`DefaultBodyLimit`) holds for the form's parts too.
        *r.extensions_mut() = parts.extensions.clone();
        r
    };
    let bad = |e: String| ApiError::bad_request(format!("Malformed webhook body: {e}"));
    if multipart {
        let mut mp = Multipart::from_request(rebuilt(), &())
            .await
            .map_err(|e| bad(e.body_text()))?;
        let mut form = WebhookForm {
            fields: Vec::new(),
            files: Vec::new(),
        };
        while let Some(field) = mp.next_field().await.map_err(|e| bad(e.body_text()))? {
            let name = field.name().unwrap_or("").to_owned();
            if field.file_name().is_some() {
                form.files
                    .push((name, field.bytes().await.map_err(|e| bad(e.body_text()))?));
            } else {
                form.fields
                    .push((name, field.text().await.map_err(|e| bad(e.body_text()))?));
            }
        }
        Ok(form)
    } else if urlencoded {
        let axum::Form(fields) = axum::Form::<Vec<(String, String)>>::from_request(rebuilt(), &())
            .await
            .map_err(|e| bad(e.body_text()))?;
        Ok(WebhookForm {
            fields,
            files: Vec::new(),
        })
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "A webhook must be a form (application/x-www-form-urlencoded or multipart/form-data)",
        ))
    }
}

/// A refused webhook: audited (reason, provider, address; never the body) and 401.
fn refuse(
    provider: &'static str,
    route: &'static str,
    ip: &ClientIp,
    reason: &'static str,
) -> ApiError {
    crate::audit!("webhook_refused", provider, route, ip = %ip.0, reason);
    crate::metrics::auth_failed("webhook_signature");
    ApiError::unauthorized(reason)
}

/// Phaxio's signature check (when verification is on) and the maximum age.
fn check_phaxio(
    st: &AppState,
    route: &'static str,
    ip: &ClientIp,
    headers: &HeaderMap,
    fields: &[(String, String)],
    digests: &[(String, String)],
) -> ApiResult<()> {
    if !st.cfg.phaxio_enabled() {
        return Err(ApiError::not_found("Phaxio is not configured"));
    }
    if !st.cfg.phaxio_verify_signature {
        return Ok(());
    }
    let (Some(token), Some(url)) = (&st.cfg.phaxio_callback_token, st.cfg.phaxio_url(route)) else {
        // validate() refuses this configuration; never accept unverified callbacks by accident.
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "Phaxio callback verification is not configured",
        ));
    };
    let Some(given) = headers
        .get(phaxio::SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
    else {
        return Err(refuse("phaxio", route, ip, "Missing X-Phaxio-Signature"));
    };
    if !phaxio::verify_digests(token.as_bytes(), &url, fields, digests, given) {
        return Err(refuse("phaxio", route, ip, "Invalid webhook signature"));
    }
    Ok(())
}

fn check_age(
    st: &AppState,
    provider: &'static str,
    route: &'static str,
    ip: &ClientIp,
    occurred_at: Option<i64>,
) -> ApiResult<()> {
    let max = st.cfg.webhook_max_age_seconds as i64;
    if let Some(t) = occurred_at
        && max > 0
        && now_s() - t > max
    {
        return Err(refuse(provider, route, ip, "Stale webhook"));
    }
    Ok(())
}

fn malformed(e: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(format!("Malformed webhook: {e}"))
}

/// `POST /phaxio-callback`: a sent fax's status.
pub(crate) async fn phaxio_callback(
    State(st): State<AppState>,
    ip: ClientIp,
    req: Request,
) -> ApiResult<Json<serde_json::Value>> {
    let route = "/phaxio-callback";
    let headers = req.headers().clone();
    let form = read_form(req, STATUS_BODY_LIMIT).await?;
    check_phaxio(&st, route, &ip, &headers, &form.fields, &form.digests())?;
    let e = phaxio::parse_status(&form.fields).map_err(malformed)?;
    check_age(&st, "phaxio", route, &ip, e.occurred_at)?;
    store_status(&st, "phaxio", route, &ip, e).await
}

/// Stores a verified status event for the job it names; a repeat is a replay.
async fn store_status(
    st: &AppState,
    provider: &'static str,
    route: &'static str,
    ip: &ClientIp,
    e: crate::cloud::StatusEvent,
) -> ApiResult<Json<serde_json::Value>> {
    let Some(job_id) = e.job_id.clone() else {
        return Err(ApiError::not_found("The fax names no Faxline job"));
    };
    if st.store.jobs().get(&job_id).await?.is_none() {
        return Err(ApiError::not_found("Fax job not found"));
    }
    let row = ProviderEvent {
        seq: 0,
        provider: provider.to_owned(),
        provider_sid: e.provider_sid.clone(),
        event: e.event.clone(),
        job_id: Some(job_id.clone()),
        status: e.status,
        pages: e.pages,
        error: e.error.clone(),
        received_at: now_us(),
    };
    if !st.store.provider_events().insert(&row).await? {
        return Err(refuse(provider, route, ip, "Replayed webhook"));
    }
    st.provider_event.notify_waiters();
    crate::audit!(
        "provider_event",
        provider,
        job_id = %job_id,
        provider_sid = %e.provider_sid,
        status = %e.status
    );
    Ok(Json(json!({"status": "ok"})))
}

/// `POST /phaxio-inbound`: a received fax, its PDF uploaded with the callback.
pub(crate) async fn phaxio_inbound(
    State(st): State<AppState>,
    ip: ClientIp,
    req: Request,
) -> ApiResult<Json<serde_json::Value>> {
    let route = "/phaxio-inbound";
    let headers = req.headers().clone();
    let limit = (st.cfg.max_file_bytes() + 256 * 1024) as usize;
    // Streamed: the fax is spooled as it arrives and the signature (over each file's SHA-1) is
    // checked before anything is stored; a refused upload's spool is deleted on drop.
    let permit = UNVERIFIED_UPLOADS
        .acquire()
        .await
        .map_err(|_| ApiError::internal())?;
    let id = uuid::Uuid::new_v4().simple().to_string();
    let form = read_form_spooled(&st, req, limit, &id).await?;
    drop(permit);
    check_phaxio(&st, route, &ip, &headers, &form.fields, &form.digests)?;
    let r = phaxio::parse_received(&form.fields).map_err(malformed)?;
    check_age(&st, "phaxio", route, &ip, r.occurred_at)?;
    if !st.cfg.inbound_enabled {
        crate::audit!("inbound_discarded", provider = "phaxio", provider_sid = %r.provider_sid, reason = "inbound disabled");
        return Ok(Json(json!({"status": "discarded"})));
    }
    let pdf = match (form.file, r.status.as_str()) {
        (Some(pdf), _) if pdf.kind().ok() == Some(DocKind::Pdf) => {
            Some(ReceivedPdf::Spooled(Box::new(pdf)))
        }
        (Some(_), _) => {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "The received fax's file is not a PDF",
            ));
        }
        (None, "failed") => None,
        (None, _) => return Err(ApiError::missing("body", "file")),
    };
    store_inbound(&st, "phaxio", route, &ip, r, pdf).await
}

/// A received fax's PDF: in memory (downloaded, or converted from the provider's TIFF), or
/// spooled as it arrived (named as the inbound fax it will be).
enum ReceivedPdf {
    Held(Bytes),
    Spooled(Box<Spooled>),
}

impl From<Bytes> for ReceivedPdf {
    fn from(pdf: Bytes) -> Self {
        ReceivedPdf::Held(pdf)
    }
}

impl ReceivedPdf {
    fn size(&self) -> u64 {
        match self {
            ReceivedPdf::Held(b) => b.len() as u64,
            ReceivedPdf::Spooled(s) => s.size(),
        }
    }

    fn sha256(&self) -> String {
        match self {
            ReceivedPdf::Held(b) => hex::encode(Sha256::digest(b)),
            ReceivedPdf::Spooled(s) => s.sha256().to_owned(),
        }
    }
}

/// Stores a verified received fax like one from Asterisk; a repeat of a stored fax is a replay.
async fn store_inbound(
    st: &AppState,
    provider: &'static str,
    route: &'static str,
    ip: &ClientIp,
    r: Received,
    pdf: Option<ReceivedPdf>,
) -> ApiResult<Json<serde_json::Value>> {
    let now = now_us();
    let received_at = r.occurred_at.map_or(now, |s| s * 1_000_000);
    let id = match &pdf {
        Some(ReceivedPdf::Spooled(s)) => match s.id() {
            DocumentId::Inbound(id) => id.clone(),
            _ => return Err(ApiError::internal()),
        },
        _ => uuid::Uuid::new_v4().simple().to_string(),
    };
    let row = Inbound {
        id,
        from_number: r.from.clone(),
        to_number: r.to.clone(),
        status: r.status.clone(),
        backend: provider.into(),
        provider_sid: Some(r.provider_sid.clone()),
        pages: r.pages,
        size_bytes: pdf.as_ref().map(|p| p.size() as i64),
        sha256: pdf.as_ref().map(ReceivedPdf::sha256),
        mailbox_label: None,
        error: (r.status == "failed").then(|| "the provider reported a failed reception".into()),
        created_at: now,
        received_at,
        updated_at: now,
    };
    let inbound = st.store.inbound();
    let stored = match pdf {
        Some(ReceivedPdf::Spooled(pdf)) => inbound.insert_spooled(&row, *pdf).await?,
        Some(ReceivedPdf::Held(pdf)) => inbound.insert(&row, &pdf).await?,
        None => inbound.insert(&row, &Bytes::new()).await?,
    };
    // After the fax is stored (idempotent by provider_sid): a repeat of a stored fax is a replay, while a
    // provider retry after a failed store still gets its fax in.
    let event = ProviderEvent {
        seq: 0,
        provider: provider.into(),
        provider_sid: r.provider_sid.clone(),
        event: "received".into(),
        job_id: None,
        status: JobStatus::Success,
        pages: r.pages,
        error: None,
        received_at: now,
    };
    if !st.store.provider_events().insert(&event).await? {
        return Err(refuse(provider, route, ip, "Replayed webhook"));
    }
    crate::audit!(
        "inbound_received",
        inbound_id = %stored.id,
        provider,
        from = %mask_number(stored.from_number.as_deref().unwrap_or("")),
        to = %mask_number(stored.to_number.as_deref().unwrap_or(""))
    );
    Ok(Json(json!({"status": "ok", "id": stored.id})))
}

/// Telnyx's webhook is a small JSON document; more is refused unread.
const TELNYX_BODY_LIMIT: usize = 64 * 1024;

/// How long the download of a received fax from Telnyx's link may take.
const MEDIA_TIMEOUT: Duration = Duration::from_secs(60);

/// `POST /telnyx-callback`: every Telnyx fax event (sent faxes' progress and end, received faxes), signed
/// with Ed25519 over `timestamp|raw body`.
pub(crate) async fn telnyx_callback(
    State(st): State<AppState>,
    ip: ClientIp,
    req: Request,
) -> ApiResult<Json<serde_json::Value>> {
    let route = "/telnyx-callback";
    if !st.cfg.telnyx_enabled() {
        return Err(ApiError::not_found("Telnyx is not configured"));
    }
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, TELNYX_BODY_LIMIT)
        .await
        .map_err(|_| ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "Webhook body too large"))?;
    if st.cfg.telnyx_verify_signature {
        let Some(key) = st.cfg.telnyx_key() else {
            // validate() refuses this configuration; never accept unverified webhooks by accident.
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "Telnyx webhook verification is not configured",
            ));
        };
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
        if let Err(e) = telnyx::verify(
            &key,
            header(telnyx::TIMESTAMP_HEADER),
            header(telnyx::SIGNATURE_HEADER),
            &body,
            now_s(),
            st.cfg.telnyx_max_age_seconds,
        ) {
            let reason = match e {
                telnyx::AuthError::Missing => {
                    "Missing telnyx-signature-ed25519 or telnyx-timestamp"
                }
                telnyx::AuthError::Invalid => "Invalid webhook signature",
                telnyx::AuthError::Stale => "Stale webhook",
                telnyx::AuthError::Future => "Webhook timestamp is in the future",
            };
            return Err(refuse("telnyx", route, &ip, reason));
        }
    }
    match telnyx::parse(&body).map_err(malformed)? {
        telnyx::Event::Status(e) => store_status(&st, "telnyx", route, &ip, e).await,
        telnyx::Event::Received { fax, media_url } => {
            if !st.cfg.inbound_enabled {
                crate::audit!("inbound_discarded", provider = "telnyx", provider_sid = %fax.provider_sid, reason = "inbound disabled");
                return Ok(Json(json!({"status": "discarded"})));
            }
            // A replay is refused before anything is fetched (the link may have expired by then).
            let seen = st
                .store
                .provider_events()
                .after("telnyx", &fax.provider_sid, 0)
                .await?;
            if seen.iter().any(|e| e.event == "received") {
                return Err(refuse("telnyx", route, &ip, "Replayed webhook"));
            }
            let pdf = download_media(&st, "Telnyx", &media_url, None, None).await?;
            store_inbound(&st, "telnyx", route, &ip, fax, Some(pdf)).await
        }
        telnyx::Event::Other { event_type } => {
            tracing::debug!(provider = "telnyx", event_type = %event_type, "webhook event not acted on");
            Ok(Json(json!({"status": "ignored"})))
        }
    }
}

/// Downloads a received fax from the link in a provider's (verified) webhook: https only (plain http where
/// `allow_insecure_public_url` allows it, for local use), from `host` only when one is given, with the
/// provider's Basic credentials when given, no redirect followed, at most the upload limit, a PDF (or a
/// TIFF, stored as a PDF). A failure is a 502, so the provider retries the webhook and nothing is lost.
async fn download_media(
    st: &AppState,
    provider: &'static str,
    url: &str,
    basic: Option<(&str, &str)>,
    host: Option<&str>,
) -> ApiResult<ReceivedPdf> {
    static HTTP: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    let unavailable = |detail: String| ApiError::new(StatusCode::BAD_GATEWAY, detail);
    let parsed = url::Url::parse(url).map_err(|_| malformed("`media_url` is not a URL"))?;
    let insecure_ok = st.cfg.allow_insecure_public_url && parsed.scheme() == "http";
    if parsed.scheme() != "https" && !insecure_ok {
        return Err(malformed("`media_url` must be an https URL"));
    }
    if let Some(host) = host
        && parsed.host_str().map(str::to_ascii_lowercase).as_deref() != Some(host)
    {
        // The credentials go to the provider's own host only.
        return Err(malformed("`media_url` is not on the provider's host"));
    }
    let http = HTTP.get_or_init(|| {
        reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(MEDIA_TIMEOUT)
            // A presigned link answers itself; a redirect elsewhere is not followed.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default()
    });
    let mut req = http.get(parsed);
    if let Some((user, password)) = basic {
        req = req.basic_auth(user, Some(password));
    }
    let resp = req.send().await.map_err(|e| {
        unavailable(format!(
            "Cannot download the received fax from {provider}: {}",
            e.without_url()
        ))
    })?;
    if !resp.status().is_success() {
        return Err(unavailable(format!(
            "{provider}'s media link answered HTTP {}",
            resp.status().as_u16()
        )));
    }
    // Written to a spool as it arrives (sealed with encryption on), named as the inbound fax it
    // will be; dropped (deleted) on any failure.
    let id = uuid::Uuid::new_v4().simple().to_string();
    let spooled = super::spool_pieces(
        st,
        DocumentId::Inbound(id),
        st.cfg.max_file_bytes(),
        resp.bytes_stream(),
        |e| {
            unavailable(format!(
                "The download of the received fax failed: {}",
                e.without_url()
            ))
        },
        || {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "The received fax is larger than the upload limit",
            )
        },
    )
    .await?;
    spooled_as_pdf(provider, spooled).await
}

/// A received fax's spooled file as stored: a PDF as it is (from the spool), a TIFF converted to PDF
/// (which needs it whole, at most the upload limit), anything else refused (415).
async fn spooled_as_pdf(provider: &'static str, spooled: Spooled) -> ApiResult<ReceivedPdf> {
    if spooled.kind().ok() == Some(DocKind::Pdf) {
        return Ok(ReceivedPdf::Spooled(Box::new(spooled)));
    }
    let doc = tokio::task::spawn_blocking(move || spooled.read_plain())
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(|e| {
            tracing::error!(provider, error = %e, "cannot read back a received fax's spooled file");
            ApiError::internal()
        })?;
    received_as_pdf(doc.to_vec()).await.map(ReceivedPdf::Held)
}

/// A received fax's document as stored: a PDF as it is, a TIFF converted to PDF, anything else refused (415).
async fn received_as_pdf(doc: Vec<u8>) -> ApiResult<Bytes> {
    if is_pdf(&doc) {
        return Ok(Bytes::from(doc));
    }
    if matches!(
        faxline_document::sniff(&doc),
        faxline_document::ContentKind::Tiff
    ) {
        let pdf = tokio::task::spawn_blocking(move || faxline_document::tiff_to_pdf(&doc))
            .await
            .map_err(|_| ApiError::internal())?
            .map_err(|_| {
                ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "The received fax's TIFF cannot be read",
                )
            })?;
        return Ok(Bytes::from(pdf));
    }
    Err(ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "The received fax's file is not a PDF or TIFF",
    ))
}

/// The inbound fax's instructions for SignalWire (cXML): receive it and post the result back here, or
/// refuse it when inbound faxes are off.
fn laml(body: String) -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>{body}</Response>"),
    )
        .into_response()
}

fn xml_attr(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `POST /signalwire-callback` (Faxbot's route): every SignalWire fax webhook. A sent fax's
/// `StatusCallback` (`?job_id=` names the job), an incoming fax (answered with cXML `<Receive>` back to this
/// route), and a received fax (`FaxStatus=received`, its document at `MediaUrl`, downloaded from the space
/// with the project's credentials). Signed like Twilio's webhooks over the URL and the sorted fields.
pub(crate) async fn signalwire_callback(
    State(st): State<AppState>,
    ip: ClientIp,
    req: Request,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let route = "/signalwire-callback";
    if !st.cfg.signalwire_enabled() {
        return Err(ApiError::not_found("SignalWire is not configured"));
    }
    let headers = req.headers().clone();
    let query = req.uri().query().map(str::to_owned);
    let form = read_form(req, STATUS_BODY_LIMIT).await?;
    let base = st.cfg.signalwire_url();
    if st.cfg.signalwire_verify_signature {
        let (Some(key), Some(base)) = (&st.cfg.signalwire_signing_key, &base) else {
            // validate() refuses this configuration; never accept unverified webhooks by accident.
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "SignalWire webhook verification is not configured",
            ));
        };
        let Some(given) = [
            signalwire::SIGNATURE_HEADER,
            signalwire::TWILIO_SIGNATURE_HEADER,
        ]
        .iter()
        .find_map(|h| headers.get(*h).and_then(|v| v.to_str().ok())) else {
            return Err(refuse(
                "signalwire",
                route,
                &ip,
                "Missing X-SignalWire-Signature",
            ));
        };
        // The URL SignalWire called: the configured public one (behind proxies the request's own differs),
        // with the query the request carries.
        let url = match &query {
            Some(q) => format!("{base}?{q}"),
            None => base.clone(),
        };
        if !signalwire::verify(key.expose().as_bytes(), &url, &form.fields, given) {
            return Err(refuse(
                "signalwire",
                route,
                &ip,
                "Invalid webhook signature",
            ));
        }
    }
    let job_id = query.as_deref().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "job_id")
            .map(|(_, v)| v.into_owned())
    });
    match signalwire::parse(&form.fields, job_id.as_deref()).map_err(malformed)? {
        signalwire::Event::Status(e) => Ok(store_status(&st, "signalwire", route, &ip, e)
            .await?
            .into_response()),
        signalwire::Event::Incoming { provider_sid } => {
            if !st.cfg.inbound_enabled {
                crate::audit!("inbound_discarded", provider = "signalwire", provider_sid = %provider_sid, reason = "inbound disabled");
                return Ok(laml("<Reject/>".into()));
            }
            let Some(action) = base else {
                return Err(ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "PUBLIC_API_URL is not set: SignalWire cannot be told where to post the received fax",
                ));
            };
            Ok(laml(format!(
                "<Receive action=\"{}\" method=\"POST\"/>",
                xml_attr(&action)
            )))
        }
        signalwire::Event::ReceiveFailed(fax) => {
            if !st.cfg.inbound_enabled {
                crate::audit!("inbound_discarded", provider = "signalwire", provider_sid = %fax.provider_sid, reason = "inbound disabled");
                return Ok(Json(json!({"status": "discarded"})).into_response());
            }
            Ok(store_inbound(&st, "signalwire", route, &ip, fax, None)
                .await?
                .into_response())
        }
        signalwire::Event::Received { fax, media_url } => {
            if !st.cfg.inbound_enabled {
                crate::audit!("inbound_discarded", provider = "signalwire", provider_sid = %fax.provider_sid, reason = "inbound disabled");
                return Ok(Json(json!({"status": "discarded"})).into_response());
            }
            // A replay is refused before anything is fetched.
            let seen = st
                .store
                .provider_events()
                .after("signalwire", &fax.provider_sid, 0)
                .await?;
            if seen.iter().any(|e| e.event == "received") {
                return Err(refuse("signalwire", route, &ip, "Replayed webhook"));
            }
            let (Some(host), Some(project), Some(token)) = (
                st.cfg.signalwire_host(),
                st.cfg.signalwire_project_id.as_deref(),
                st.cfg.signalwire_api_token.as_ref(),
            ) else {
                return Err(ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "SIGNALWIRE_SPACE_URL, SIGNALWIRE_PROJECT_ID and SIGNALWIRE_API_TOKEN are needed to download received faxes",
                ));
            };
            let pdf = download_media(
                &st,
                "SignalWire",
                &media_url,
                Some((project, token.expose())),
                Some(&host),
            )
            .await?;
            Ok(store_inbound(&st, "signalwire", route, &ip, fax, Some(pdf))
                .await?
                .into_response())
        }
    }
}

/// The Sinch webhooks' Basic credentials (unless explicitly off), checked before the body is read.
fn check_sinch(
    st: &AppState,
    route: &'static str,
    ip: &ClientIp,
    headers: &HeaderMap,
) -> ApiResult<()> {
    if !st.cfg.sinch_enabled() {
        return Err(ApiError::not_found("Sinch is not configured"));
    }
    if !st.cfg.sinch_verify_auth {
        return Ok(());
    }
    let Some((user, password)) = st.cfg.sinch_credentials() else {
        // validate() refuses this configuration; never accept unauthenticated webhooks by accident.
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "Sinch webhook authentication is not configured",
        ));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    match sinch::verify_basic(given, user, password) {
        Ok(()) => Ok(()),
        Err(sinch::AuthError::Missing) => {
            Err(refuse("sinch", route, ip, "Missing Basic credentials"))
        }
        Err(sinch::AuthError::Invalid) => {
            Err(refuse("sinch", route, ip, "Invalid webhook credentials"))
        }
    }
}

/// Reads a Sinch event of at most `limit` bytes, and the fax's file when it carries one, spooled as the
/// inbound fax it will be: from JSON (base64 inside the body, which is read whole) or from a multipart
/// form's `file` part (spooled as it arrives). The sender's Basic credentials were checked before
/// (`check_sinch`).
async fn read_sinch(
    st: &AppState,
    req: Request,
    limit: usize,
) -> ApiResult<(sinch::Payload, Option<Spooled>)> {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let (payload, file) = if content_type_is(&req, "application/json") {
        let body = axum::body::to_bytes(req.into_body(), limit)
            .await
            .map_err(|_| ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "Webhook body too large"))?;
        let mut payload = sinch::payload_from_json(&body).map_err(malformed)?;
        let file = match payload.file.take() {
            Some(doc) => Some(
                super::spool_pieces(
                    st,
                    DocumentId::Inbound(id),
                    st.cfg.max_file_bytes(),
                    futures::stream::iter([Ok::<_, std::convert::Infallible>(Bytes::from(doc))]),
                    |never| match never {},
                    || {
                        ApiError::new(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            "The received fax is larger than the upload limit",
                        )
                    },
                )
                .await?,
            ),
            None => None,
        };
        (payload, file)
    } else {
        let form = read_form_spooled(st, req, limit, &id).await?;
        let payload = sinch::payload_from_form(&form.fields).map_err(malformed)?;
        (payload, form.file)
    };
    Ok((payload, file.filter(|f| f.size() > 0)))
}

/// A Sinch event carries the fax's document (base64 in JSON): the limit is the upload limit, a third more,
/// and room for the rest.
pub(crate) fn sinch_body_limit(max_file_bytes: u64) -> usize {
    (max_file_bytes as usize / 3 * 4) + 256 * 1024
}

/// `POST /sinch-callback?job_id=`: a sent fax's end (`FAX_COMPLETED`), posted to the `callbackUrl` the line
/// gave with the fax. Authenticated by the Basic credentials in that URL.
pub(crate) async fn sinch_callback(
    State(st): State<AppState>,
    ip: ClientIp,
    req: Request,
) -> ApiResult<Json<serde_json::Value>> {
    let route = "/sinch-callback";
    check_sinch(&st, route, &ip, req.headers())?;
    let job_id = req.uri().query().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "job_id")
            .map(|(_, v)| v.into_owned())
    });
    let (payload, file) = read_sinch(&st, req, sinch_body_limit(st.cfg.max_file_bytes())).await?;
    match sinch::parse(&payload, job_id.as_deref()).map_err(malformed)? {
        sinch::Event::Status(e) => store_status(&st, "sinch", route, &ip, e).await,
        // The fax service may post its incoming faxes here too.
        sinch::Event::Received(fax) => sinch_received(&st, route, &ip, fax, file).await,
        sinch::Event::Other { event } => {
            tracing::debug!(provider = "sinch", event = %event, "webhook event not acted on");
            Ok(Json(json!({"status": "ignored"})))
        }
    }
}

/// `POST /sinch-inbound` (Faxbot's route): a received fax (`INCOMING_FAX`), posted to the incoming-fax URL
/// of the Sinch fax service. Authenticated by the Basic credentials in that URL.
pub(crate) async fn sinch_inbound(
    State(st): State<AppState>,
    ip: ClientIp,
    req: Request,
) -> ApiResult<Json<serde_json::Value>> {
    let route = "/sinch-inbound";
    check_sinch(&st, route, &ip, req.headers())?;
    let (payload, file) = read_sinch(&st, req, sinch_body_limit(st.cfg.max_file_bytes())).await?;
    match sinch::parse(&payload, None).map_err(malformed)? {
        sinch::Event::Received(fax) => sinch_received(&st, route, &ip, fax, file).await,
        sinch::Event::Status(e) => store_status(&st, "sinch", route, &ip, e).await,
        sinch::Event::Other { event } => {
            tracing::debug!(provider = "sinch", event = %event, "webhook event not acted on");
            Ok(Json(json!({"status": "ignored"})))
        }
    }
}

/// Stores a received fax from Sinch: its document from the event, else downloaded from the project's
/// `GET .../faxes/{id}/file` with the access key (Sinch's host only).
async fn sinch_received(
    st: &AppState,
    route: &'static str,
    ip: &ClientIp,
    fax: Received,
    file: Option<Spooled>,
) -> ApiResult<Json<serde_json::Value>> {
    if !st.cfg.inbound_enabled {
        crate::audit!("inbound_discarded", provider = "sinch", provider_sid = %fax.provider_sid, reason = "inbound disabled");
        return Ok(Json(json!({"status": "discarded"})));
    }
    // A replay is refused before anything is fetched or converted.
    let seen = st
        .store
        .provider_events()
        .after("sinch", &fax.provider_sid, 0)
        .await?;
    if seen.iter().any(|e| e.event == "received") {
        return Err(refuse("sinch", route, ip, "Replayed webhook"));
    }
    if fax.status == "failed" {
        return store_inbound(st, "sinch", route, ip, fax, None).await;
    }
    if let Some(spooled) = file {
        let pdf = spooled_as_pdf("Sinch", spooled).await?;
        return store_inbound(st, "sinch", route, ip, fax, Some(pdf)).await;
    }
    let (Some(project), Some(key_id), Some(secret), Some(host)) = (
        st.cfg.sinch_project_id.as_deref(),
        st.cfg.sinch_key_id.as_deref(),
        st.cfg.sinch_key_secret.as_ref(),
        st.cfg.sinch_host(),
    ) else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "SINCH_PROJECT_ID, SINCH_API_KEY and SINCH_API_SECRET are needed to download received faxes",
        ));
    };
    let url = format!(
        "{}/projects/{project}/faxes/{}/file",
        st.cfg.sinch_base_url.trim_end_matches('/'),
        fax.provider_sid
    );
    let pdf = download_media(
        st,
        "Sinch",
        &url,
        Some((key_id, secret.expose())),
        Some(&host),
    )
    .await?;
    store_inbound(st, "sinch", route, ip, fax, Some(pdf)).await
}

/// `POST /agent/v1/jobs/{id}/document-link`: a signed link to the leased job's PDF under `PUBLIC_API_URL`
/// (`/fax/{id}/pdf?token=`, valid `pdf_token_ttl_minutes`), for a provider that fetches the document itself.
pub(crate) async fn document_link(
    State(st): State<AppState>,
    Path(id): Path<String>,
    agent: SignedAgent,
) -> ApiResult<Json<DocumentLink>> {
    let job = super::extract::load_job(&st, &id).await?;
    if job.lease_agent.as_deref() != Some(agent.agent_id.as_str())
        || job.status != JobStatus::InProgress
    {
        return Err(ApiError::conflict("Lease not held"));
    }
    if faxline_protocol::DocKind::parse(&job.doc_kind) != Some(faxline_protocol::DocKind::Pdf) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "The job's document is not a PDF; a provider that fetches documents by URL is sent PDFs only",
        ));
    }
    let Some(base) = st.cfg.public_api_url.as_deref() else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "PUBLIC_API_URL is not set: no public link to the document can be made",
        ));
    };
    let expires_at = now_s() + (st.cfg.pdf_token_ttl_minutes.max(1) * 60) as i64;
    let token = crate::links::sign(st.server_secret.as_bytes(), LinkKind::Fax, &id, expires_at);
    crate::audit!("pdf_link_created", job_id = %id, agent = %agent.agent_id);
    Ok(Json(DocumentLink {
        url: format!("{}/fax/{id}/pdf?token={token}", base.trim_end_matches('/')),
        expires_at,
    }))
}

fn valid_name(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// `POST /agent/v1/jobs/{id}/provider-events`: the long poll of a cloud line for its fax's events.
pub(crate) async fn provider_events(
    State(st): State<AppState>,
    Path(id): Path<String>,
    agent: SignedAgent,
) -> ApiResult<Json<ProviderEvents>> {
    let req: ProviderEventsRequest = serde_json::from_slice(&agent.body).map_err(|e| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("Invalid JSON body: {e}"),
        )
    })?;
    if !valid_name(&req.provider, 16) || !valid_name(&req.provider_sid, 64) {
        return Err(ApiError::bad_request("Invalid provider or provider_sid"));
    }
    if !st
        .store
        .jobs()
        .set_provider_sid(&id, &agent.agent_id, &req.provider_sid, now_us())
        .await?
    {
        return Err(ApiError::conflict("Lease not held"));
    }
    st.touch_agent(&agent.agent_id).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(req.wait_seconds.min(30));
    loop {
        let notified = st.provider_event.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let events: Vec<ProviderEvent> = st
            .store
            .provider_events()
            .after(&req.provider, &req.provider_sid, req.after)
            .await?
            .into_iter()
            .filter(|e| e.job_id.as_deref() == Some(id.as_str()))
            .collect();
        if !events.is_empty() || tokio::time::Instant::now() >= deadline {
            return Ok(Json(ProviderEvents {
                events: events
                    .into_iter()
                    .map(|e| ProviderEventView {
                        seq: e.seq,
                        event: e.event,
                        status: e.status,
                        pages: e.pages,
                        error: e.error,
                    })
                    .collect(),
            }));
        }
        // Another API instance (PostgreSQL) may have stored it: look again every second too.
        let _ = tokio::time::timeout_at(
            deadline.min(tokio::time::Instant::now() + Duration::from_secs(1)),
            notified,
        )
        .await;
    }
}
