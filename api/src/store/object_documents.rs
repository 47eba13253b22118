//! Documents in S3-compatible object storage (`storage_backend = "s3"`: AWS S3, MinIO, Ceph, R2,
//! …) through the `object_store` crate, which does the signing, retries and credential chain.
//! Objects are `<prefix>/jobs/<id>` and `<prefix>/inbound/<id>`; server-side encryption (SSE-S3 or
//! SSE-KMS with a key id) is asked for on every write.
//!
//! A put happens before its owner row commits; when the commit fails the caller deletes the object
//! (see [`super::documents`]).

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::path::Path as ObjectPath;
use object_store::{ClientOptions, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig};

use super::documents::{DocumentError, DocumentId, DocumentResult, DocumentStore, OwnerTx};
use faxline_protocol::Secret;

/// Server-side encryption asked of the object store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerSideEncryption {
    /// The bucket's default.
    None,
    /// SSE-S3 (`AES256`).
    S3,
    /// SSE-KMS, with a key id (or the account's default key when `None`).
    Kms(Option<String>),
}

/// Where and how to reach the bucket.
#[derive(Debug, Clone)]
pub struct S3Settings {
    pub bucket: String,
    /// Key prefix inside the bucket (no leading or trailing `/` needed).
    pub prefix: String,
    pub region: Option<String>,
    /// A self-hosted endpoint (`http://127.0.0.1:9000`); AWS when `None`.
    pub endpoint_url: Option<String>,
    /// `https://host/bucket/key` instead of `https://bucket.host/key` (most self-hosted stores).
    pub path_style: bool,
    /// Static credentials; without them the standard chain (`AWS_*` variables, web identity,
    /// instance metadata) is used.
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<Secret>,
    pub encryption: ServerSideEncryption,
    /// One request's limit ([`DEFAULT_TIMEOUT`] unless configured); retries stop once this much
    /// time has passed since the first attempt.
    pub timeout: Duration,
}

/// Retries of a failed request.
const MAX_RETRIES: usize = 2;
/// Connecting.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// One whole request (a document is at most `max_file_size_mb`) unless `s3_timeout_seconds` says
/// otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Concurrent deletes in [`ObjectDocuments::purge`].
const PURGE_CONCURRENCY: usize = 16;

/// Documents in an S3 bucket; see the module documentation.
#[derive(Clone)]
pub struct ObjectDocuments {
    store: Arc<dyn ObjectStore>,
    prefix: ObjectPath,
}

impl std::fmt::Debug for ObjectDocuments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectDocuments")
            .field("prefix", &self.prefix.as_ref())
            .finish_non_exhaustive()
    }
}

impl ObjectDocuments {
    /// Builds the client (no request is made until the first document).
    pub fn open(s: &S3Settings) -> DocumentResult<Self> {
        if s.bucket.trim().is_empty() {
            return Err(DocumentError::Config("the S3 bucket is not set".into()));
        }
        // Credentials and the rest of the standard chain come from the `AWS_*` variables.
        let mut b = AmazonS3Builder::from_env()
            .with_bucket_name(&s.bucket)
            .with_virtual_hosted_style_request(!s.path_style)
            // A store that is down fails an upload in seconds (503 to the client), not minutes.
            .with_retry(RetryConfig {
                max_retries: MAX_RETRIES,
                retry_timeout: s.timeout,
                ..RetryConfig::default()
            })
            .with_client_options(
                ClientOptions::new()
                    .with_connect_timeout(CONNECT_TIMEOUT.min(s.timeout))
                    .with_timeout(s.timeout),
            );
        if let Some(r) = &s.region {
            b = b.with_region(r);
        }
        if let Some(e) = &s.endpoint_url {
            b = b.with_endpoint(e).with_allow_http(e.starts_with("http://"));
        }
        if let (Some(id), Some(secret)) = (&s.access_key_id, &s.secret_access_key) {
            b = b
                .with_access_key_id(id)
                .with_secret_access_key(secret.expose());
        }
        b = match &s.encryption {
            ServerSideEncryption::None => b,
            ServerSideEncryption::S3 => {
                let key: AmazonS3ConfigKey = "aws_server_side_encryption"
                    .parse()
                    .map_err(DocumentError::Object)?;
                b.with_config(key, "AES256")
            }
            ServerSideEncryption::Kms(key) => {
                b.with_sse_kms_encryption(key.clone().unwrap_or_default())
            }
        };
        let store = b.build().map_err(DocumentError::Object)?;
        let prefix = ObjectPath::parse(s.prefix.trim_matches('/'))
            .map_err(|e| DocumentError::Config(format!("S3 prefix: {e}")))?;
        Ok(Self {
            store: Arc::new(store),
            prefix,
        })
    }

    fn path(&self, id: &DocumentId) -> DocumentResult<ObjectPath> {
        let owner = super::documents::checked_owner(id)?;
        Ok(self.prefix.clone().join(id.kind_dir()).join(owner))
    }
}

fn not_found(e: &object_store::Error) -> bool {
    matches!(e, object_store::Error::NotFound { .. })
}

/// Deletes one object; false when there was none. S3 deletes are idempotent and say nothing about
/// what was there, so the object is looked up first.
async fn delete_object(store: Arc<dyn ObjectStore>, path: ObjectPath) -> DocumentResult<bool> {
    match store.head(&path).await {
        Ok(_) => {}
        Err(e) if not_found(&e) => return Ok(false),
        Err(e) => return Err(e.into()),
    }
    match store.delete(&path).await {
        Ok(()) => Ok(true),
        Err(e) if not_found(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

impl ObjectDocuments {
    /// Writes a document (one PUT, atomic in S3); no transaction is involved.
    pub(crate) async fn write(&self, id: &DocumentId, content: &Bytes) -> DocumentResult<()> {
        let path = self.path(id)?;
        self.store
            .put(&path, PutPayload::from_bytes(content.clone()))
            .await?;
        Ok(())
    }
}

/// The largest document sent as one `PUT` (read whole into memory first); a larger one goes up
/// as a multipart upload of [`PART_SIZE`] parts. One request is faster for the typical fax.
pub const SINGLE_PUT_MAX: u64 = PART_SIZE as u64;
/// The parts of a multipart upload (S3's minimum for all but the last is 5 MiB).
pub const PART_SIZE: usize = 5 * 1024 * 1024;
/// Parts of one upload in flight at once (with the one being filled: at most two parts in memory).
const PART_CONCURRENCY: usize = 1;

impl ObjectDocuments {
    /// Writes a document from a file of `len` bytes: one `PUT` up to [`SINGLE_PUT_MAX`], a
    /// multipart upload above it, read from the file a part at a time. A multipart upload that
    /// fails is aborted (its parts deleted), so nothing half-written stays in the bucket.
    pub(crate) async fn write_file(
        &self,
        id: &DocumentId,
        file: &std::path::Path,
        len: u64,
    ) -> DocumentResult<()> {
        use tokio::io::AsyncReadExt;
        let path = self.path(id)?;
        if len <= SINGLE_PUT_MAX {
            let content = tokio::fs::read(file).await?;
            self.store
                .put(&path, PutPayload::from(Bytes::from(content)))
                .await?;
            return Ok(());
        }
        let mut f = tokio::fs::File::open(file).await?;
        let upload = self.store.put_multipart(&path).await?;
        let mut writer = object_store::WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let fed: DocumentResult<()> = async {
            let mut buf = vec![0u8; super::documents::READ_CHUNK];
            loop {
                writer.wait_for_capacity(PART_CONCURRENCY).await?;
                let n = f.read(&mut buf).await?;
                if n == 0 {
                    return Ok(());
                }
                writer.write(&buf[..n]);
            }
        }
        .await;
        match fed {
            // `finish` aborts the upload itself when a part or the completion fails.
            Ok(()) => writer.finish().await.map(drop).map_err(DocumentError::from),
            Err(e) => {
                if let Err(abort) = writer.abort().await {
                    tracing::warn!(error = %abort, "cannot abort a failed multipart upload");
                }
                Err(e)
            }
        }
    }

    /// The object's body as a stream, as the store sends it; `None` when there is none.
    pub(crate) async fn read_stream(
        &self,
        id: &DocumentId,
    ) -> DocumentResult<Option<super::documents::DocumentStream>> {
        let path = self.path(id)?;
        match self.store.get(&path).await {
            Ok(r) => Ok(Some(r.into_stream().map_err(DocumentError::from).boxed())),
            Err(e) if not_found(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

impl DocumentStore for ObjectDocuments {
    async fn put(
        &self,
        _tx: &mut OwnerTx<'_>,
        id: &DocumentId,
        content: &Bytes,
    ) -> DocumentResult<()> {
        self.write(id, content).await
    }

    async fn get(&self, id: &DocumentId) -> DocumentResult<Option<Bytes>> {
        let path = self.path(id)?;
        match self.store.get(&path).await {
            Ok(r) => Ok(Some(r.bytes().await?)),
            Err(e) if not_found(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn delete(&self, id: &DocumentId) -> DocumentResult<bool> {
        delete_object(self.store.clone(), self.path(id)?).await
    }

    async fn purge(&self, ids: &[DocumentId]) -> DocumentResult<u64> {
        let paths = ids
            .iter()
            .map(|id| self.path(id))
            .collect::<DocumentResult<Vec<_>>>()?;
        let flags: Vec<bool> = futures::stream::iter(
            paths
                .into_iter()
                .map(|p| delete_object(self.store.clone(), p)),
        )
        .buffer_unordered(PURGE_CONCURRENCY)
        .try_collect()
        .await?;
        Ok(flags.into_iter().filter(|d| *d).count() as u64)
    }

    async fn written_before(&self, before_us: i64) -> DocumentResult<Vec<DocumentId>> {
        let mut found = Vec::new();
        for kind in super::documents::KIND_DIRS {
            let dir = self.prefix.clone().join(kind);
            let mut listing = self.store.list(Some(&dir));
            while let Some(meta) = listing.try_next().await? {
                if meta.last_modified.timestamp_micros() >= before_us {
                    continue;
                }
                if let Some(id) = meta
                    .location
                    .filename()
                    .and_then(|name| super::documents::id_of(kind, name))
                {
                    found.push(id);
                }
            }
        }
        Ok(found)
    }
}
