//! Rotating the client-side encryption key by re-wrapping (`faxline storage rewrap`): every stored
//! document sealed under a previous key gets its data key sealed under the current key
//! ([`super::envelope::Keyring::rewrap`]); its content is not decrypted or re-encrypted, so the
//! work per document is one read and one write of the same size: the whole file or object, or a
//! database document's first piece (where the key header is). Resumable: a document that
//! already names the current key is skipped, so an interrupted run is simply run again. Once a
//! run reports nothing left under previous keys, they can be dropped from
//! `storage_previous_key_files`.

use sqlx::Row;

use super::db::{q, with_reader};
use super::documents::{DocumentError, DocumentId};
use super::envelope::EnvelopeError;
use super::{Store, StoreResult};

/// Owner rows read per round.
const PAGE: i64 = 256;

/// What a re-wrap run found and did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Rewrapped {
    /// Documents moved from a previous key to the current one.
    pub rewrapped: u64,
    /// Documents already under the current key (nothing to do).
    pub current: u64,
    /// Documents stored before client-side encryption was on (left as they are).
    pub not_encrypted: u64,
    /// Rows whose document is gone (deleted meanwhile, or lost).
    pub missing: u64,
    /// Documents that could not be re-wrapped: sealed under a key that is not configured, or
    /// damaged; the first few ids.
    pub failed: u64,
    pub failed_ids: Vec<String>,
}

/// An owner table, which of its rows still have their document, and the document id of a row.
type Owner = (&'static str, &'static str, fn(String) -> DocumentId);

/// The tables whose rows own documents.
const OWNERS: [Owner; 4] = [
    ("fax_jobs", "document_purged_at IS NULL", DocumentId::Job),
    (
        "inbound_faxes",
        "document_purged_at IS NULL",
        DocumentId::Inbound,
    ),
    ("console_drafts", "sent_at IS NULL", DocumentId::Draft),
    (
        "bulk_batches",
        "document_deleted_at IS NULL AND state IN ('running', 'paused')",
        DocumentId::Bulk,
    ),
];

/// Ids of failures kept for the report.
const FAILED_IDS_KEPT: usize = 10;

impl Store {
    /// Re-wraps every document still kept: of jobs and received faxes not purged by retention,
    /// console drafts not sent, bulk sends not finished; `progress` is called after each document. Needs client-side encryption.
    pub async fn rewrap_documents(
        &self,
        mut progress: impl FnMut(&Rewrapped),
    ) -> StoreResult<Rewrapped> {
        let Some(ring) = self.documents.keyring() else {
            return Err(DocumentError::Config(
                "client-side encryption is off: set storage_encryption_key_file to the new key and \
                 list the old one in storage_previous_key_files"
                    .into(),
            )
            .into());
        };
        let mut done = Rewrapped::default();
        for (table, kept, doc) in OWNERS {
            let select =
                format!("SELECT id FROM {table} WHERE id > $1 AND {kept} ORDER BY id LIMIT $2");
            let mut after = String::new();
            loop {
                let ids: Vec<String> = with_reader!(&self.db, |p| {
                    q(&select)
                        .bind(&after)
                        .bind(PAGE)
                        .fetch_all(p)
                        .await?
                        .iter()
                        .map(|r| r.try_get::<String, _>(0))
                        .collect::<sqlx::Result<Vec<_>>>()?
                });
                let Some(last) = ids.last() else { break };
                after = last.clone();
                for owner in ids {
                    let id = doc(owner);
                    match self.documents.stored_head(&id).await? {
                        None => done.missing += 1,
                        Some((sealed, at)) => match ring.rewrap(&sealed) {
                            Ok(None) => done.current += 1,
                            Ok(Some(moved)) => {
                                if self
                                    .documents
                                    .replace_stored_head(&id, at, &moved.into())
                                    .await?
                                {
                                    done.rewrapped += 1;
                                } else {
                                    done.missing += 1;
                                }
                            }
                            Err(EnvelopeError::NotEncrypted) => done.not_encrypted += 1,
                            Err(e) => {
                                tracing::error!(document = id.owner(), error = %e, "cannot re-wrap a document");
                                done.failed += 1;
                                if done.failed_ids.len() < FAILED_IDS_KEPT {
                                    done.failed_ids.push(id.owner().to_owned());
                                }
                            }
                        },
                    }
                    progress(&done);
                }
            }
        }
        Ok(done)
    }
}
