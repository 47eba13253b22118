//! Rows and inputs of the store.

use faxline_protocol::JobStatus;

/// An outbound fax job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: String,
    pub to_number: String,
    pub file_name: String,
    /// `pdf` or `txt`.
    pub doc_kind: String,
    pub doc_size: i64,
    pub doc_sha256: String,
    pub status: JobStatus,
    pub error: Option<String>,
    pub pages: Option<i64>,
    pub pages_sent: Option<i64>,
    pub backend: String,
    pub provider_sid: Option<String>,
    pub owner_key_id: Option<String>,
    pub attempts: i64,
    pub lease_id: Option<String>,
    pub lease_agent: Option<String>,
    pub lease_expires_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Image bit rate of the delivered fax (bit/s), as the agent reported it.
    pub bitrate: Option<i64>,
    /// `T38` or `audio`, as the agent reported it.
    pub fax_mode: Option<String>,
    /// The far end's station identifier (CSI).
    pub remote_ident: Option<String>,
    /// The last call phase the agent reported while sending (e.g. `T.38 Negotiated`).
    pub stage: Option<String>,
    /// The line kind the client asked for (`backend` on `POST /fax`): only that line carries the job.
    pub requested_backend: Option<String>,
    /// The line kind of the agent that leased the job last: the line that carried it, once final.
    pub line: Option<String>,
    /// The line kinds that could not place the job, comma-separated (see [`Job::lines_tried`]).
    pub lines_tried: Option<String>,
}

impl Job {
    /// The line kinds that could not place the job, in the order they were tried.
    pub fn lines_tried(&self) -> Vec<String> {
        self.lines_tried
            .as_deref()
            .unwrap_or("")
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

/// A job to insert, with its document.
#[derive(Clone)]
pub struct NewJob {
    pub id: String,
    pub to_number: String,
    pub file_name: String,
    pub doc_kind: String,
    pub doc_sha256: String,
    /// Pages as faxline-document renders the document, counted at submission.
    pub pages: Option<i64>,
    pub backend: String,
    /// The line kind the client asked for (`backend` on `POST /fax`, checked against the API's `backends`).
    pub requested_backend: Option<String>,
    pub owner_key_id: Option<String>,
    /// `<key id>:<Idempotency-Key header>`.
    pub idempotency_key: Option<String>,
    pub created_at: i64,
    pub content: bytes::Bytes,
}

impl std::fmt::Debug for NewJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewJob")
            .field("id", &self.id)
            .field("doc_kind", &self.doc_kind)
            .field("size", &self.content.len())
            .finish_non_exhaustive()
    }
}

impl NewJob {
    pub fn to_job(&self) -> Job {
        Job {
            id: self.id.clone(),
            to_number: self.to_number.clone(),
            file_name: self.file_name.clone(),
            doc_kind: self.doc_kind.clone(),
            doc_size: self.content.len() as i64,
            doc_sha256: self.doc_sha256.clone(),
            status: JobStatus::Queued,
            error: None,
            pages: self.pages,
            pages_sent: None,
            backend: self.backend.clone(),
            provider_sid: None,
            owner_key_id: self.owner_key_id.clone(),
            attempts: 0,
            lease_id: None,
            lease_agent: None,
            lease_expires_at: None,
            created_at: self.created_at,
            updated_at: self.created_at,
            bitrate: None,
            fax_mode: None,
            remote_ident: None,
            stage: None,
            requested_backend: self.requested_backend.clone(),
            line: None,
            lines_tried: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsertOutcome {
    Created(Job),
    /// The idempotency key was used before: this is the original job.
    Existing(Job),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelOutcome {
    Cancelled(Job),
    NotQueued(Job),
    NotFound,
}

#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    /// Only the jobs of this key (`owner_key_id`); `None` for every job.
    pub owner_key_id: Option<String>,
    pub status: Option<String>,
    pub to_number: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

/// An agent's final report on a job.
#[derive(Debug, Clone)]
pub struct JobResult {
    /// [`JobStatus::Success`] or [`JobStatus::Failed`].
    pub status: JobStatus,
    pub error: Option<String>,
    pub pages: Option<i64>,
    pub provider_sid: Option<String>,
    /// Delivery details (absent ones keep what the job had).
    pub bitrate: Option<i64>,
    pub fax_mode: Option<String>,
    pub remote_ident: Option<String>,
}

/// A job its agent gives back unfinished (it is stopping).
#[derive(Debug, Clone)]
pub struct JobRelease {
    /// Why, kept as the job's error.
    pub reason: String,
    /// Pages transferred before the call was cut.
    pub pages_sent: Option<i64>,
    /// When the job may be leased again (µs since the epoch), as the agent asked.
    pub due: i64,
}

/// What an agent reports while it works on a job (also renews the lease).
#[derive(Debug, Clone, Default)]
pub struct JobProgress {
    pub pages_sent: Option<i64>,
    pub pages_total: Option<i64>,
    /// The call phase (short text, e.g. `T.38 Negotiated`).
    pub stage: Option<String>,
}

#[derive(Clone, PartialEq, Eq)]
pub struct ApiKeyRow {
    pub key_id: String,
    pub key_hash: String,
    pub name: Option<String>,
    pub owner: Option<String>,
    pub scopes: String,
    pub note: Option<String>,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl std::fmt::Debug for ApiKeyRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeyRow")
            .field("key_id", &self.key_id)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

/// A received fax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbound {
    pub id: String,
    pub from_number: Option<String>,
    pub to_number: Option<String>,
    pub status: String,
    pub backend: String,
    pub provider_sid: Option<String>,
    pub pages: Option<i64>,
    pub size_bytes: Option<i64>,
    pub sha256: Option<String>,
    pub mailbox_label: Option<String>,
    pub error: Option<String>,
    pub created_at: i64,
    pub received_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Default)]
pub struct InboundFilter {
    pub to_number: Option<String>,
    pub status: Option<String>,
    pub mailbox: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentRow {
    pub agent_id: String,
    pub first_seen_at: i64,
    pub last_seen_at: i64,
    /// The kind of line the agent last reported (`None`: it sends no report).
    pub line_kind: Option<String>,
    /// That report's problems, a JSON array of strings.
    pub line_problems: Option<String>,
}

impl AgentRow {
    /// The line health the agent last reported, from any API instance on this database.
    pub fn line(&self) -> Option<faxline_protocol::messages::LineHealth> {
        let kind = self.line_kind.clone()?;
        let problems = self
            .line_problems
            .as_deref()
            .and_then(|p| serde_json::from_str::<Vec<String>>(p).ok())
            .unwrap_or_default();
        Some(faxline_protocol::messages::LineHealth { kind, problems })
    }
}

/// A cloud provider's webhook event, normalised (see `store/provider_events.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderEvent {
    /// Assigned by the database; ignored on insert.
    pub seq: i64,
    /// `phaxio`, ...
    pub provider: String,
    pub provider_sid: String,
    pub event: String,
    pub job_id: Option<String>,
    pub status: faxline_protocol::JobStatus,
    pub pages: Option<i64>,
    pub error: Option<String>,
    /// Unix microseconds.
    pub received_at: i64,
}
