//! Received faxes on their way to the API: a durable queue (one fsync'd JSON entry per fax in
//! `<spool>/queue/`, written by temp + rename) and the worker that decodes each TIFF to PDF and uploads it,
//! signed. An entry is removed only after the API accepted the upload, so a fax survives an API outage and an
//! agent restart; uploads repeat with backoff. Entries that can never be delivered (file gone, not a fax TIFF)
//! move to `queue/failed/` with the reason, instead of being dropped silently. A delivered id leaves a small
//! marker in `queue/delivered/`, so neither a late result event nor a spool scan uploads it a second time.
//!
//! A line that finds received files by scanning its spool (the Asterisk line) asks [`InboundQueue::knows`]
//! which ones the queue has not seen.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use faxline_protocol::client::{AgentClient, AgentClientError, InboundMeta};
use tokio::sync::Notify;

use super::spool::{remove_durably, write_durably};
use faxline_protocol::mask_number;

/// One received fax waiting for delivery.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InboundItem {
    /// The call's id (the dialplan's `in_<uniqueid>`); also the API's de-duplication key.
    pub id: String,
    /// The received TIFF, as the agent sees it.
    pub file: PathBuf,
    pub from: Option<String>,
    pub to: Option<String>,
    pub pages: Option<u32>,
    /// `received` or `failed` (partial).
    pub status: String,
    /// ISO 8601.
    pub received_at: String,
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("inbound queue {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("inbound id {0:?} cannot name a queue entry")]
    BadId(String),
}

/// The durable queue. Cheap to clone.
#[derive(Debug, Clone)]
pub struct InboundQueue {
    dir: PathBuf,
    notify: Arc<Notify>,
}

fn valid_id(id: &str) -> bool {
    crate::engine::spool::is_valid_job_token(id)
}

/// The queue's subdirectory of PDFs being uploaded.
const UPLOADING: &str = "uploading";

/// How long a delivered marker outlives its TIFF (guards against a very late duplicate result event).
const DELIVERED_MARKER_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

impl InboundQueue {
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, QueueError> {
        let dir = dir.into();
        // PDFs being uploaded when the agent last stopped: the TIFFs they were made from are still
        // queued, and each upload makes its PDF again.
        let _ = std::fs::remove_dir_all(dir.join(UPLOADING));
        for sub in ["failed", "delivered", UPLOADING] {
            std::fs::create_dir_all(dir.join(sub)).map_err(|source| QueueError::Io {
                path: dir.clone(),
                source,
            })?;
        }
        Ok(Self {
            dir,
            notify: Arc::new(Notify::new()),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where a received fax's PDF is written while it is uploaded (emptied when the queue opens).
    fn uploading(&self) -> PathBuf {
        self.dir.join(UPLOADING)
    }

    /// Stores an entry durably and wakes the worker. Enqueuing the same id twice keeps one entry (the later
    /// one's metadata); an id that was already delivered is not queued again.
    pub fn enqueue(&self, item: &InboundItem) -> Result<(), QueueError> {
        if !valid_id(&item.id) {
            return Err(QueueError::BadId(item.id.clone()));
        }
        if self.delivered(&item.id) {
            tracing::info!(job = %item.id, "inbound fax was already delivered; not queued again");
            return Ok(());
        }
        let path = self.dir.join(format!("{}.json", item.id));
        let bytes = serde_json::to_vec_pretty(item).map_err(|e| QueueError::Io {
            path: path.clone(),
            source: std::io::Error::other(e),
        })?;
        write_durably(&path, &bytes).map_err(|source| QueueError::Io { path, source })?;
        self.notify.notify_one();
        Ok(())
    }

    /// The waiting entries, oldest first (unreadable entries are moved to `failed/`).
    pub fn pending(&self) -> Result<Vec<InboundItem>, QueueError> {
        let rd = std::fs::read_dir(&self.dir).map_err(|source| QueueError::Io {
            path: self.dir.clone(),
            source,
        })?;
        let mut entries: Vec<(std::time::SystemTime, InboundItem)> = Vec::new();
        for e in rd.filter_map(Result::ok) {
            let path = e.path();
            if path.extension().is_none_or(|x| x != "json") {
                continue;
            }
            let modified = e
                .metadata()
                .and_then(|m| m.modified())
                .unwrap_or(std::time::UNIX_EPOCH);
            match std::fs::read(&path)
                .ok()
                .and_then(|b| serde_json::from_slice::<InboundItem>(&b).ok())
            {
                Some(item) if valid_id(&item.id) => entries.push((modified, item)),
                _ => {
                    tracing::error!(entry = %path.display(), "unreadable inbound queue entry set aside");
                    let _ = std::fs::rename(&path, self.dir.join("failed").join(e.file_name()));
                }
            }
        }
        entries.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.id.cmp(&b.1.id)));
        Ok(entries.into_iter().map(|(_, i)| i).collect())
    }

    fn entry(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    fn marker(&self, id: &str) -> PathBuf {
        self.dir.join("delivered").join(id)
    }

    /// Whether `id` was delivered (its marker exists).
    pub fn delivered(&self, id: &str) -> bool {
        self.marker(id).exists()
    }

    /// Whether the queue knows `id`: waiting, delivered or set aside.
    pub fn knows(&self, id: &str) -> bool {
        self.entry(id).exists()
            || self.delivered(id)
            || self.dir.join("failed").join(format!("{id}.json")).exists()
    }

    /// Removes a delivered entry, leaving the delivered marker first (a crash in between means one more
    /// upload, which the API stores once; never a lost fax).
    pub fn done(&self, id: &str) -> Result<(), QueueError> {
        let marker = self.marker(id);
        write_durably(&marker, b"").map_err(|source| QueueError::Io {
            path: marker,
            source,
        })?;
        let path = self.entry(id);
        remove_durably(&path).map_err(|source| QueueError::Io { path, source })
    }

    /// Forgets delivered markers older than a week, except those of ids in `present` (their files are still in
    /// the spool, so a late duplicate result event or a spool scan could still offer them).
    pub fn forget_old_markers(
        &self,
        present: &HashSet<String>,
        now: SystemTime,
    ) -> Result<(), QueueError> {
        let delivered = self.dir.join("delivered");
        let entries = std::fs::read_dir(&delivered).map_err(|source| QueueError::Io {
            path: delivered.clone(),
            source,
        })?;
        for e in entries.filter_map(Result::ok) {
            let name = e.file_name();
            let Some(id) = name.to_str() else { continue };
            let old = e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|m| now.duration_since(m).ok())
                .is_some_and(|age| age > DELIVERED_MARKER_TTL);
            if old && !present.contains(id) {
                let _ = remove_durably(&e.path());
            }
        }
        Ok(())
    }

    /// Moves an undeliverable entry to `failed/` with the reason next to it.
    pub fn set_aside(&self, id: &str, reason: &str) -> Result<(), QueueError> {
        let from = self.entry(id);
        let failed = self.dir.join("failed");
        let reason_path = failed.join(format!("{id}.reason.txt"));
        write_durably(&reason_path, reason.as_bytes()).map_err(|source| QueueError::Io {
            path: reason_path.clone(),
            source,
        })?;
        std::fs::rename(&from, failed.join(format!("{id}.json")))
            .map_err(|source| QueueError::Io { path: from, source })
    }

    /// Waits until something is enqueued (or `timeout` passes).
    pub async fn wait(&self, timeout: Duration) {
        let _ = tokio::time::timeout(timeout, self.notify.notified()).await;
    }
}

/// Why one delivery did not happen.
#[derive(Debug)]
enum Delivery {
    /// Try again later (API down, 5xx, transport error).
    Later(String),
    /// Will never work (file gone, not a fax TIFF, refused as invalid).
    Never(String),
}

/// Delivers queued faxes forever: decode TIFF → PDF, upload, then remove the entry (and the TIFF when
/// `delete_after_upload`). Failed uploads are retried with exponential backoff up to `max_backoff`.
pub async fn deliver_forever(
    queue: InboundQueue,
    api: AgentClient,
    delete_after_upload: bool,
    max_backoff: Duration,
) {
    let mut backoff = Duration::from_millis(500);
    loop {
        let items = match queue.pending() {
            Ok(items) => {
                metrics::gauge!("faxline_agent_inbound_queue_depth").set(items.len() as f64);
                items
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot read the inbound queue");
                queue.wait(max_backoff).await;
                continue;
            }
        };
        let mut failed_any = false;
        for item in items {
            match deliver(&api, &item, &queue.uploading()).await {
                Ok(id) => {
                    tracing::info!(job = %item.id, inbound_id = %id, from = %mask_number(item.from.as_deref().unwrap_or("")), "inbound fax delivered");
                    if let Err(e) = queue.done(&item.id) {
                        tracing::error!(job = %item.id, error = %e, "cannot remove a delivered queue entry");
                    }
                    if delete_after_upload && let Err(e) = remove_durably(&item.file) {
                        tracing::warn!(job = %item.id, error = %e, "cannot delete the received TIFF");
                    }
                    backoff = Duration::from_millis(500);
                }
                Err(Delivery::Never(why)) => {
                    tracing::error!(job = %item.id, reason = %why, "inbound fax cannot be delivered; set aside in queue/failed");
                    if let Err(e) = queue.set_aside(&item.id, &why) {
                        tracing::error!(job = %item.id, error = %e, "cannot set the entry aside");
                    }
                }
                Err(Delivery::Later(why)) => {
                    tracing::warn!(job = %item.id, reason = %why, retry_in_ms = backoff.as_millis() as u64, "inbound upload failed; will retry");
                    failed_any = true;
                    break;
                }
            }
        }
        if failed_any {
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(max_backoff);
        } else {
            queue.wait(Duration::from_secs(30)).await;
        }
    }
}

/// Converts the received TIFF to a PDF in a spool file (0600, in `spool_dir`) and uploads it from
/// there: the PDF is never held in memory whole, only the TIFF it is made from.
async fn deliver(
    api: &AgentClient,
    item: &InboundItem,
    spool_dir: &Path,
) -> Result<String, Delivery> {
    let tiff = match tokio::fs::read(&item.file).await {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Delivery::Never(format!(
                "the received TIFF {} is gone",
                item.file.display()
            )));
        }
        Err(e) => {
            return Err(Delivery::Later(format!(
                "cannot read the received TIFF: {e}"
            )));
        }
    };
    let cannot_write =
        |e: std::io::Error| Delivery::Later(format!("cannot write the PDF to upload: {e}"));
    let spool = crate::engine::spool::temp_in(spool_dir).map_err(cannot_write)?;
    let out = spool.as_file().try_clone().map_err(cannot_write)?;
    let converted = tokio::task::spawn_blocking(move || {
        faxline_document::tiff_to_pdf_to(&tiff, &mut std::io::BufWriter::new(out))
    })
    .await
    .map_err(|e| Delivery::Later(e.to_string()))?;
    let pages = match converted {
        // A fax found in the spool (its result event was missed) has no page count: the TIFF has it.
        Ok(n) => item.pages.or(u32::try_from(n).ok()),
        Err(e @ faxline_document::DocError::Write { .. }) => {
            return Err(Delivery::Later(format!(
                "cannot write the PDF to upload: {e}"
            )));
        }
        Err(e) => {
            return Err(Delivery::Never(format!(
                "the received TIFF cannot be converted: {e}"
            )));
        }
    };
    let meta = InboundMeta {
        from: item.from.clone(),
        to: item.to.clone(),
        pages: pages.map(i64::from),
        status: Some(item.status.clone()),
        call_id: Some(item.id.clone()),
        received_at: Some(item.received_at.clone()),
    };
    match api.upload_inbound_file(&meta, spool.path()).await {
        Ok(id) => {
            metrics::counter!("faxline_agent_faxes_received_total").increment(1);
            metrics::counter!("faxline_agent_pages_received_total")
                .increment(u64::from(pages.unwrap_or(0)));
            Ok(id)
        }
        Err(AgentClientError::Api { status, detail })
            if (400..500).contains(&status) && ![401, 403, 408, 409, 429].contains(&status) =>
        {
            Err(Delivery::Never(format!(
                "the API refused the upload ({status}): {detail}"
            )))
        }
        Err(e) => Err(Delivery::Later(e.to_string())),
    }
}

#[cfg(test)]
impl InboundItem {
    /// A queued fax for tests (its file does not exist).
    pub(crate) fn sample(id: &str) -> Self {
        InboundItem {
            id: id.into(),
            file: PathBuf::from("/nonexistent.tif"),
            from: Some("+15551230000".into()),
            to: None,
            pages: Some(1),
            status: "received".into(),
            received_at: "2026-01-01T00:00:00Z".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str) -> InboundItem {
        InboundItem::sample(id)
    }

    #[test]
    fn entries_survive_reopen_and_bad_ones_are_set_aside() {
        let dir = tempfile::tempdir().unwrap();
        let q = InboundQueue::open(dir.path().join("queue")).unwrap();
        q.enqueue(&item("in_1")).unwrap();
        q.enqueue(&item("in_1")).unwrap();
        q.enqueue(&item("in_2")).unwrap();
        assert!(q.enqueue(&item("../evil")).is_err());
        std::fs::write(dir.path().join("queue/junk.json"), b"not json").unwrap();
        let q = InboundQueue::open(dir.path().join("queue")).unwrap();
        let ids: Vec<String> = q.pending().unwrap().into_iter().map(|i| i.id).collect();
        assert_eq!(ids.len(), 2);
        assert!(dir.path().join("queue/failed/junk.json").exists());
        q.done("in_1").unwrap();
        q.set_aside("in_2", "why").unwrap();
        assert!(q.pending().unwrap().is_empty());
        assert!(dir.path().join("queue/failed/in_2.reason.txt").exists());
        // Delivered ids are not queued again.
        assert!(q.delivered("in_1"));
        q.enqueue(&item("in_1")).unwrap();
        assert!(q.pending().unwrap().is_empty());
    }

    /// A PDF left mid-upload by a crash is removed when the queue opens again; its TIFF, still
    /// queued, is converted afresh.
    #[test]
    fn a_pdf_left_mid_upload_is_removed_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let q = InboundQueue::open(dir.path().join("queue")).unwrap();
        q.enqueue(&item("in_1")).unwrap();
        let left = crate::engine::spool::temp_in(&q.uploading()).unwrap();
        let (_, left) = left.keep().unwrap();
        assert!(left.exists());
        let q = InboundQueue::open(dir.path().join("queue")).unwrap();
        assert!(!left.exists());
        assert!(q.uploading().is_dir());
        assert_eq!(q.pending().unwrap().len(), 1);
    }
}
