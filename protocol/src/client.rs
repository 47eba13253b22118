//! A typed client for the agent protocol, signing every request with [`crate::auth`].
//! The agent daemon uses it to lease jobs, fetch documents, report progress and results, and
//! upload received faxes.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::auth::{body_sha256_hex, sign_now_hashed};
pub use crate::messages::{
    CallDetails, DocumentLink, InboundMeta, JobStatusView, LeasedJob, ProviderEventView,
    ProviderEvents, ProviderEventsRequest, ReleaseRequest, ResultReport, SendResult,
};
use crate::messages::{
    InboundAnswer, LeaseRenewed, LeaseRequest, LeaseResponse, LineHealth, Progress,
};
use crate::secret::Secret;
use crate::status::JobStatus;

#[derive(Debug, thiserror::Error)]
pub enum AgentClientError {
    #[error("the API's answer is not the expected JSON: {0}")]
    Decode(#[from] serde_json::Error),
    #[error("HTTP transport error: {0}")]
    Http(#[from] reqwest::Error),
    #[error("the API answered {status}: {detail}")]
    Api { status: u16, detail: String },
    /// The job's lease was lost (expired and re-leased, or cancelled): stop working on it.
    #[error("lease not held")]
    LeaseLost,
    #[error("invalid base URL: {0}")]
    BadUrl(String),
    #[error("document checksum mismatch")]
    Checksum,
    /// Writing a downloaded document where the caller asked ([`AgentClient::document_to`]).
    #[error("cannot write the document: {0}")]
    Write(std::io::Error),
    /// Reading a file to upload ([`AgentClient::upload_inbound_file`]).
    #[error("cannot read the file to upload: {0}")]
    Read(std::io::Error),
}

/// Requests one agent has in flight at once. The API caps open connections per client address
/// (`max_connections_per_address`, 32 by default) and closes the ones above it; an agent running a
/// hundred calls would otherwise open a connection per call's heartbeat or report and lose some.
/// Every request is short except the lease long-poll, so a few connections carry any load.
pub const MAX_IN_FLIGHT: usize = 8;

#[derive(Clone)]
pub struct AgentClient {
    http: reqwest::Client,
    in_flight: Arc<tokio::sync::Semaphore>,
    base: reqwest::Url,
    agent_id: String,
    secret: Secret,
}

impl std::fmt::Debug for AgentClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentClient")
            .field("base", &self.base.as_str())
            .field("agent_id", &self.agent_id)
            .finish_non_exhaustive()
    }
}

impl AgentClient {
    /// `base_url` like `https://api.example.org` (a path prefix is kept).
    pub fn new(base_url: &str, agent_id: &str, secret: Secret) -> Result<Self, AgentClientError> {
        let mut base =
            reqwest::Url::parse(base_url).map_err(|e| AgentClientError::BadUrl(e.to_string()))?;
        if !base.path().ends_with('/') {
            let p = format!("{}/", base.path());
            base.set_path(&p);
        }
        if !crate::auth::valid_agent_id(agent_id) {
            return Err(AgentClientError::BadUrl(format!(
                "invalid agent id {agent_id:?}"
            )));
        }
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            // Below the API's idle limit (header_read_timeout_seconds, 10 by default), so a pooled
            // connection is dropped here before the server closes it under a request.
            .pool_idle_timeout(Duration::from_secs(5))
            .pool_max_idle_per_host(MAX_IN_FLIGHT)
            .build()?;
        Ok(Self {
            http,
            in_flight: Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT)),
            base,
            agent_id: agent_id.to_string(),
            secret,
        })
    }

    /// Sends a signed request and reads the whole answer while holding one of the
    /// [`MAX_IN_FLIGHT`] slots, so the connection is back in the pool when it returns.
    async fn send(
        &self,
        method: reqwest::Method,
        rel: &str,
        body: impl Into<Payload>,
        content_type: Option<&str>,
    ) -> Result<bytes::Bytes, AgentClientError> {
        let _slot = self
            .in_flight
            .acquire()
            .await
            .expect("the semaphore is never closed");
        let resp = self.request(method, rel, body.into(), content_type).await?;
        Ok(resp.bytes().await?)
    }

    /// Sends a signed request; the response of a success, whose body is still to be read.
    async fn request(
        &self,
        method: reqwest::Method,
        rel: &str,
        body: Payload,
        content_type: Option<&str>,
    ) -> Result<reqwest::Response, AgentClientError> {
        let url = self
            .base
            .join(rel)
            .map_err(|e| AgentClientError::BadUrl(e.to_string()))?;
        let path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        let body_sha256 = match &body {
            Payload::Bytes(body) => body_sha256_hex(body),
            Payload::Stream { sha256_hex, .. } => sha256_hex.clone(),
        };
        let signed = sign_now_hashed(
            self.secret.as_bytes(),
            method.as_str(),
            &path,
            &self.agent_id,
            &body_sha256,
        );
        let mut rb = self.http.request(method, url);
        for (k, v) in signed.pairs() {
            rb = rb.header(k, v);
        }
        if let Some(ct) = content_type {
            rb = rb.header(reqwest::header::CONTENT_TYPE, ct);
        }
        if let Some(id) = job_request_id(rel) {
            rb = rb.header("x-request-id", id);
        }
        let rb = match body {
            Payload::Bytes(body) => rb.body(body),
            Payload::Stream { len, body, .. } => {
                rb.header(reqwest::header::CONTENT_LENGTH, len).body(body)
            }
        };
        let resp = rb.send().await?;
        let status = resp.status();
        if status.is_success() {
            return Ok(resp);
        }
        if status == reqwest::StatusCode::CONFLICT {
            return Err(AgentClientError::LeaseLost);
        }
        let detail = resp
            .json::<serde_json::Value>()
            .await
            .ok()
            .and_then(|v| v.get("detail").map(|d| d.to_string()))
            .unwrap_or_default();
        Err(AgentClientError::Api {
            status: status.as_u16(),
            detail,
        })
    }

    async fn post_json<T: Serialize, R: for<'de> Deserialize<'de>>(
        &self,
        rel: &str,
        body: &T,
    ) -> Result<R, AgentClientError> {
        let bytes = serde_json::to_vec(body).expect("plain structs serialise");
        let reply = self
            .send(reqwest::Method::POST, rel, bytes, Some("application/json"))
            .await?;
        parse_json(&reply)
    }

    /// Leases up to `max_jobs` jobs, waiting up to `wait` (≤ 30 s) for one to appear.
    pub async fn lease(
        &self,
        wait: Duration,
        max_jobs: u32,
    ) -> Result<Vec<LeasedJob>, AgentClientError> {
        self.lease_reporting(wait, max_jobs, None).await
    }

    /// [`Self::lease`], reporting the line's health; `max_jobs = 0` is a heartbeat that leases nothing.
    pub async fn lease_reporting(
        &self,
        wait: Duration,
        max_jobs: u32,
        line: Option<LineHealth>,
    ) -> Result<Vec<LeasedJob>, AgentClientError> {
        let out: LeaseResponse = self
            .post_json(
                "agent/v1/lease",
                &LeaseRequest {
                    wait_seconds: wait.as_secs(),
                    max_jobs,
                    line,
                },
            )
            .await?;
        Ok(out.jobs)
    }

    /// Extends the lease; returns the new expiry (unix seconds).
    pub async fn heartbeat(&self, job: &LeasedJob) -> Result<i64, AgentClientError> {
        let out: LeaseRenewed = self
            .post_json(
                &format!("agent/v1/jobs/{}/heartbeat", job.job_id),
                &Progress {
                    lease_id: job.lease_id.clone(),
                    ..Progress::default()
                },
            )
            .await?;
        Ok(out.lease_expires_at)
    }

    /// Reports pages sent so far (also extends the lease).
    pub async fn progress(
        &self,
        job: &LeasedJob,
        pages_sent: i64,
        pages_total: Option<i64>,
    ) -> Result<i64, AgentClientError> {
        let out: LeaseRenewed = self
            .post_json(
                &format!("agent/v1/jobs/{}/progress", job.job_id),
                &Progress {
                    lease_id: job.lease_id.clone(),
                    pages_sent: Some(pages_sent),
                    pages_total,
                    stage: None,
                },
            )
            .await?;
        Ok(out.lease_expires_at)
    }

    /// Reports the call's phase (e.g. Asterisk's FAXStatus text) and, when known, pages sent so far
    /// (also extends the lease).
    pub async fn progress_stage(
        &self,
        job: &LeasedJob,
        stage: &str,
        pages_sent: Option<i64>,
    ) -> Result<i64, AgentClientError> {
        let out: LeaseRenewed = self
            .post_json(
                &format!("agent/v1/jobs/{}/progress", job.job_id),
                &Progress {
                    lease_id: job.lease_id.clone(),
                    pages_sent,
                    pages_total: None,
                    stage: Some(stage.to_owned()),
                },
            )
            .await?;
        Ok(out.lease_expires_at)
    }

    /// A job's status as the API sees it (`queued`, `in_progress`, `SUCCESS`, `FAILED`, `failed`,
    /// `cancelled`), or `None` when the API does not know the job.
    pub async fn job_status(
        &self,
        job_id: &str,
    ) -> Result<Option<JobStatusView>, AgentClientError> {
        match self
            .send(
                reqwest::Method::GET,
                &format!("agent/v1/jobs/{job_id}"),
                Vec::new(),
                None,
            )
            .await
        {
            Ok(reply) => Ok(Some(parse_json(&reply)?)),
            Err(AgentClientError::Api { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Reports the final result; returns the job's resulting status.
    pub async fn result(
        &self,
        job: &LeasedJob,
        result: &SendResult,
    ) -> Result<JobStatus, AgentClientError> {
        self.result_with_details(job, result, &CallDetails::default())
            .await
    }

    /// [`AgentClient::result`] with the call's details (bit rate, mode, remote ident, agent attempt).
    pub async fn result_with_details(
        &self,
        job: &LeasedJob,
        result: &SendResult,
        details: &CallDetails,
    ) -> Result<JobStatus, AgentClientError> {
        let report = ResultReport {
            lease_id: job.lease_id.clone(),
            result: result.clone(),
            details: details.clone(),
        };
        let out: StatusOnly = self
            .post_json(&format!("agent/v1/jobs/{}/result", job.job_id), &report)
            .await?;
        Ok(out.status)
    }

    /// Gives the job back unfinished (the agent is stopping): the API queues it again for a lease no
    /// sooner than `delay` from now, while its attempts last. Returns the job's resulting status
    /// (`queued`, or `FAILED` when no attempts are left).
    pub async fn release(
        &self,
        job: &LeasedJob,
        reason: &str,
        pages: Option<i64>,
        delay: Duration,
    ) -> Result<JobStatus, AgentClientError> {
        let out: StatusOnly = self
            .post_json(
                &format!("agent/v1/jobs/{}/release", job.job_id),
                &ReleaseRequest {
                    lease_id: job.lease_id.clone(),
                    delay_seconds: Some(delay.as_secs()),
                    reason: Some(reason.to_owned()),
                    pages,
                },
            )
            .await?;
        Ok(out.status)
    }

    /// Proves the API is reachable and accepts this agent's signature, without side effects: a signed
    /// heartbeat for a job that does not exist, which a verifying API answers with "lease not held"
    /// (a rejected signature is a 401, another answer an error).
    pub async fn check_signature(&self) -> Result<(), AgentClientError> {
        let probe = LeasedJob {
            job_id: "faxline-connectivity-check".into(),
            lease_id: "none".into(),
            to: String::new(),
            document_kind: crate::DocKind::Pdf,
            document_size: 0,
            document_sha256: String::new(),
            attempt: 0,
            lease_expires_at: 0,
        };
        match self.heartbeat(&probe).await {
            Err(AgentClientError::LeaseLost) => Ok(()),
            Ok(_) => Err(AgentClientError::Api {
                status: 200,
                detail: "the API renewed a lease that cannot exist".into(),
            }),
            Err(e) => Err(e),
        }
    }

    /// Waits up to `wait` (at most 30 s) for the webhook events of the fax `provider_sid` sent for `job_id`
    /// (leased to this agent) after `after`; the API records `provider_sid` on the job. A job no longer leased
    /// to this agent is [`AgentClientError::LeaseLost`].
    pub async fn provider_events(
        &self,
        job_id: &str,
        provider: &str,
        provider_sid: &str,
        after: i64,
        wait: Duration,
    ) -> Result<Vec<ProviderEventView>, AgentClientError> {
        let out: ProviderEvents = self
            .post_json(
                &format!("agent/v1/jobs/{job_id}/provider-events"),
                &ProviderEventsRequest {
                    provider: provider.to_owned(),
                    provider_sid: provider_sid.to_owned(),
                    after,
                    wait_seconds: wait.as_secs().min(30),
                },
            )
            .await?;
        Ok(out.events)
    }

    /// A signed, expiring link to the document of `job_id` (leased to this agent) under the API's public URL,
    /// for a provider that fetches the document itself. A job no longer leased to this agent is
    /// [`AgentClientError::LeaseLost`].
    pub async fn document_link(&self, job_id: &str) -> Result<DocumentLink, AgentClientError> {
        self.post_json(
            &format!("agent/v1/jobs/{job_id}/document-link"),
            &serde_json::json!({}),
        )
        .await
    }

    /// Downloads the job's document and checks its SHA-256 (whole, in memory; see
    /// [`AgentClient::document_to`] for the streamed form).
    pub async fn document(&self, job: &LeasedJob) -> Result<Vec<u8>, AgentClientError> {
        let mut out = Vec::new();
        self.document_to(job, &mut out).await?;
        Ok(out)
    }

    /// Streams the job's document into `out` a piece at a time, hashing as it goes; returns its
    /// length. More bytes than the job's `document_size`, or a SHA-256 other than its
    /// `document_sha256`, is [`AgentClientError::Checksum`]: what was written to `out` must then
    /// be thrown away (the caller owns it).
    pub async fn document_to<W>(
        &self,
        job: &LeasedJob,
        out: &mut W,
    ) -> Result<u64, AgentClientError>
    where
        W: tokio::io::AsyncWrite + Unpin + ?Sized,
    {
        use sha2::{Digest, Sha256};
        use tokio::io::AsyncWriteExt;
        let _slot = self
            .in_flight
            .acquire()
            .await
            .expect("the semaphore is never closed");
        let mut resp = self
            .request(
                reqwest::Method::GET,
                &format!(
                    "agent/v1/jobs/{}/document?lease_id={}",
                    job.job_id, job.lease_id
                ),
                Payload::Bytes(Vec::new()),
                None,
            )
            .await?;
        let limit = u64::try_from(job.document_size).unwrap_or(0);
        let (mut hash, mut len) = (Sha256::new(), 0u64);
        while let Some(piece) = resp.chunk().await? {
            len += piece.len() as u64;
            if len > limit {
                return Err(AgentClientError::Checksum);
            }
            hash.update(&piece);
            out.write_all(&piece)
                .await
                .map_err(AgentClientError::Write)?;
        }
        out.flush().await.map_err(AgentClientError::Write)?;
        if hex::encode(hash.finalize()) != job.document_sha256 {
            return Err(AgentClientError::Checksum);
        }
        Ok(len)
    }

    /// Uploads a received fax (PDF); returns its inbound id.
    pub async fn upload_inbound(
        &self,
        meta: &InboundMeta,
        pdf: &[u8],
    ) -> Result<String, AgentClientError> {
        let form = InboundForm::new(meta);
        let mut body = Vec::with_capacity(form.head.len() + pdf.len() + form.tail.len());
        body.extend_from_slice(&form.head);
        body.extend_from_slice(pdf);
        body.extend_from_slice(&form.tail);
        let reply = self
            .send(
                reqwest::Method::POST,
                "agent/v1/inbound",
                body,
                Some(&form.content_type()),
            )
            .await?;
        inbound_id(&reply)
    }

    /// [`AgentClient::upload_inbound`] of the PDF in the file at `pdf`, which is never held whole:
    /// the body is hashed from the file for the signature, then sent from it a piece at a time,
    /// with its length. The file must not change in between (it would fail the signature: 401).
    pub async fn upload_inbound_file(
        &self,
        meta: &InboundMeta,
        pdf: &std::path::Path,
    ) -> Result<String, AgentClientError> {
        use sha2::{Digest, Sha256};
        use tokio::io::{AsyncReadExt, AsyncSeekExt};
        let form = InboundForm::new(meta);
        let mut hash = Sha256::new();
        hash.update(&form.head);
        let mut file = tokio::fs::File::open(pdf)
            .await
            .map_err(AgentClientError::Read)?;
        let mut buf = vec![0u8; 64 * 1024];
        let mut file_len = 0u64;
        loop {
            let n = file.read(&mut buf).await.map_err(AgentClientError::Read)?;
            if n == 0 {
                break;
            }
            hash.update(&buf[..n]);
            file_len += n as u64;
        }
        hash.update(&form.tail);
        let sha256_hex = hex::encode(hash.finalize());
        let len = form.head.len() as u64 + file_len + form.tail.len() as u64;
        // The same open file, read again from its start: what was hashed is what is sent.
        file.rewind().await.map_err(AgentClientError::Read)?;
        let file = file.take(file_len);
        let reader = std::io::Cursor::new(form.head.clone())
            .chain(file)
            .chain(std::io::Cursor::new(form.tail.clone()));
        let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::with_capacity(
            reader,
            64 * 1024,
        ));
        let reply = self
            .send(
                reqwest::Method::POST,
                "agent/v1/inbound",
                Payload::Stream {
                    sha256_hex,
                    len,
                    body,
                },
                Some(&form.content_type()),
            )
            .await?;
        inbound_id(&reply)
    }
}

/// A request body and what its signature covers.
enum Payload {
    /// Held in memory; hashed when it is signed.
    Bytes(Vec<u8>),
    /// Sent a piece at a time: its SHA-256 (lowercase hex) and length were taken beforehand.
    Stream {
        sha256_hex: String,
        len: u64,
        body: reqwest::Body,
    },
}

impl From<Vec<u8>> for Payload {
    fn from(body: Vec<u8>) -> Self {
        Payload::Bytes(body)
    }
}

/// The multipart framing of an inbound upload around the PDF: `metadata` (JSON), then the
/// `file` part's headers before it and the closing boundary after it.
struct InboundForm {
    boundary: String,
    head: Vec<u8>,
    tail: Vec<u8>,
}

impl InboundForm {
    fn new(meta: &InboundMeta) -> Self {
        let mut tag = [0u8; 12];
        rand::fill(&mut tag[..]);
        let boundary = format!("faxline-{}", hex::encode(tag));
        let mut head = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"metadata\"\r\nContent-Type: application/json\r\n\r\n"
        )
        .into_bytes();
        head.extend_from_slice(&serde_json::to_vec(meta).expect("plain struct"));
        head.extend_from_slice(
            format!(
                "\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"fax.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
            )
            .as_bytes(),
        );
        let tail = format!("\r\n--{boundary}--\r\n").into_bytes();
        Self {
            boundary,
            head,
            tail,
        }
    }

    fn content_type(&self) -> String {
        format!("multipart/form-data; boundary={}", self.boundary)
    }
}

/// The inbound id in the API's answer. A discarding API (inbound off) names none: the upload is
/// done all the same.
fn inbound_id(reply: &[u8]) -> Result<String, AgentClientError> {
    let out: InboundAnswer = parse_json(reply)?;
    Ok(out.id.unwrap_or_default())
}

/// The one field of a job the agent reads from the API's answer to a result or a release (the answer is
/// the whole Faxbot job object).
#[derive(Debug, Deserialize)]
struct StatusOnly {
    status: JobStatus,
}

fn parse_json<R: for<'de> Deserialize<'de>>(reply: &[u8]) -> Result<R, AgentClientError> {
    Ok(serde_json::from_slice(reply)?)
}

/// The request id of a request about one job (`agent/v1/jobs/{id}/...`): the job id, so the API's log lines
/// of every call the agent makes for that job carry the same id the agent's own log lines name. Not signed:
/// it only labels logs. `None` for other requests (the API then makes one up).
fn job_request_id(rel: &str) -> Option<&str> {
    let id = rel.strip_prefix("agent/v1/jobs/")?.split('/').next()?;
    (!id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')))
    .then_some(id)
}

#[cfg(test)]
mod tests {
    use super::job_request_id;

    #[test]
    fn job_requests_carry_the_job_id_as_request_id() {
        assert_eq!(job_request_id("agent/v1/jobs/4f2a/heartbeat"), Some("4f2a"));
        assert_eq!(job_request_id("agent/v1/jobs/4f2a"), Some("4f2a"));
        assert_eq!(job_request_id("agent/v1/lease"), None);
        assert_eq!(job_request_id("agent/v1/jobs/a%0Ab/result"), None);
        assert_eq!(job_request_id("agent/v1/jobs//result"), None);
    }
}
