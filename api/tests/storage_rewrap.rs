//! Key rotation by re-wrapping (`Store::rewrap_documents`, `faxline storage rewrap`): documents
//! sealed under the previous key get their data keys sealed under the new one, their content
//! bytes unchanged, in each backend (database, local directory, S3 on moto's server); afterwards
//! the new key alone opens everything, and a second run (as after an interruption) only skips.

mod common;

use bytes::Bytes;
use common::s3;
use faxline_api::store::{
    DocumentBackend, DocumentId, DocumentStore, Inbound, Keyring, MasterKey, NewJob, Rewrapped,
    ServerSideEncryption, Store,
};

const OLD: &str = "7c1f0e9a2b4d6f8e0a1c3e5f7a9b1d3f5e7c9a0b2d4f6e8a1c3b5d7f9e0a2c4b";
const NEW: &str = "e3a5c7e9f1b3d5f7a9c1e3b5d7f9a1c3e5b7d9f1a3c5e7b9d1f3a5c7e9b1d3f5";
/// Where the sealed content starts: magic, key id, nonce, sealed data key.
const CONTENT_AT: usize = 4 + 8 + 12 + 32 + 16;

fn job(content: &'static [u8]) -> NewJob {
    NewJob {
        id: uuid::Uuid::new_v4().simple().to_string(),
        to_number: "+15551234567".into(),
        file_name: "d.txt".into(),
        doc_kind: "txt".into(),
        doc_sha256: String::new(),
        pages: Some(1),
        backend: "sip".into(),
        requested_backend: None,
        owner_key_id: None,
        idempotency_key: None,
        created_at: 1,
        content: Bytes::from_static(content),
    }
}

fn inbound() -> Inbound {
    Inbound {
        id: uuid::Uuid::new_v4().simple().to_string(),
        from_number: None,
        to_number: None,
        status: "received".into(),
        backend: "sip".into(),
        provider_sid: None,
        pages: Some(1),
        size_bytes: Some(4),
        sha256: None,
        mailbox_label: None,
        error: None,
        created_at: 1,
        received_at: 1,
        updated_at: 1,
    }
}

/// The document as stored, read behind the store's back.
async fn raw(backend: &DocumentBackend, url: &str, id: &DocumentId) -> Vec<u8> {
    let kind = match id {
        DocumentId::Job(_) => "jobs",
        DocumentId::Inbound(_) => "inbound",
        DocumentId::Draft(_) => "drafts",
        DocumentId::Bulk(_) => "bulk",
    };
    match backend {
        DocumentBackend::Database => common::database_document(url, id).await.0,
        DocumentBackend::Local(dir) => std::fs::read(dir.join(kind).join(id.owner())).unwrap(),
        DocumentBackend::S3(s) => s3::raw_object(s, &format!("{}/{kind}/{}", s.prefix, id.owner()))
            .await
            .unwrap()
            .to_vec(),
    }
}

async fn rotation(which: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", tmp.path().join("rewrap.db").display());
    let backend = match which {
        "database" => DocumentBackend::Database,
        "local" => DocumentBackend::Local(tmp.path().join("documents")),
        _ => DocumentBackend::S3(
            tokio::task::spawn_blocking(|| s3::settings(ServerSideEncryption::S3))
                .await
                .unwrap(),
        ),
    };
    let (old, new) = (
        MasterKey::parse(OLD).unwrap(),
        MasterKey::parse(NEW).unwrap(),
    );
    // The last one is three pieces in the database.
    let large: &'static [u8] = Vec::leak((0..2_200_000u32).map(|i| (i % 249) as u8).collect());
    let contents: [&'static [u8]; 4] = [b"first letter", b"second letter", b"", large];

    // Sealed under the old key: three jobs and a received fax.
    let store = Store::connect_encrypted(&url, &backend, Some(Keyring::from(old.clone())))
        .await
        .unwrap();
    let mut ids = Vec::new();
    for c in contents {
        let j = job(c);
        ids.push((DocumentId::Job(j.id.clone()), c));
        store.jobs().insert(j).await.unwrap();
    }
    let fax = inbound();
    store
        .inbound()
        .insert(&fax, &Bytes::from_static(b"%PDF-fax"))
        .await
        .unwrap();
    ids.push((DocumentId::Inbound(fax.id.clone()), b"%PDF-fax"));
    store.close().await;
    let mut before = Vec::new();
    for (id, _) in &ids {
        before.push(raw(&backend, &url, id).await);
    }

    // Rotated: the new key seals, the old one still opens. One job already under the new key,
    // as after an interrupted run.
    let ring = Keyring::new(new.clone(), vec![old.clone()]);
    let store = Store::connect_encrypted(&url, &backend, Some(ring.clone()))
        .await
        .unwrap();
    let fresh = job(b"sealed under the new key");
    let fresh_id = DocumentId::Job(fresh.id.clone());
    store.jobs().insert(fresh).await.unwrap();
    let mut seen = 0;
    let done = store.rewrap_documents(|_| seen += 1).await.unwrap();
    assert_eq!(
        done,
        Rewrapped {
            rewrapped: 5,
            current: 1,
            ..Rewrapped::default()
        }
    );
    assert_eq!(seen, 6);
    for ((id, _), was) in ids.iter().zip(&before) {
        let now = raw(&backend, &url, id).await;
        assert_eq!(now.len(), was.len());
        assert_eq!(now[CONTENT_AT..], was[CONTENT_AT..], "content re-encrypted");
        assert_ne!(now[..CONTENT_AT], was[..CONTENT_AT]);
    }
    // A second run has nothing left to do.
    let again = store.rewrap_documents(|_| {}).await.unwrap();
    assert_eq!((again.rewrapped, again.current), (0, 6));
    store.close().await;

    // The new key alone opens every document.
    let store = Store::connect_encrypted(&url, &backend, Some(Keyring::from(new)))
        .await
        .unwrap();
    for (id, content) in &ids {
        assert_eq!(
            store.documents().get(id).await.unwrap().as_deref(),
            Some(*content),
            "{id:?}"
        );
    }
    assert!(store.documents().get(&fresh_id).await.unwrap().is_some());
    // Without the key that sealed a document (here: the old key is gone and a document under it
    // is planted), the run reports it and leaves it alone.
    store.close().await;
    let planted = job(b"under a key no longer configured");
    let planted_id = planted.id.clone();
    let store = Store::connect_encrypted(&url, &backend, Some(Keyring::from(old)))
        .await
        .unwrap();
    store.jobs().insert(planted).await.unwrap();
    store.close().await;
    let store = Store::connect_encrypted(
        &url,
        &backend,
        Some(Keyring::from(MasterKey::parse(NEW).unwrap())),
    )
    .await
    .unwrap();
    let r = store.rewrap_documents(|_| {}).await.unwrap();
    assert_eq!((r.rewrapped, r.current, r.failed), (0, 6, 1));
    assert_eq!(r.failed_ids, vec![planted_id]);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rewrap_in_the_database() {
    rotation("database").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rewrap_in_a_directory() {
    rotation("local").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rewrap_in_s3() {
    rotation("s3").await;
}

/// Without client-side encryption there is nothing to re-wrap: a clear error.
#[tokio::test]
async fn rewrap_needs_a_key() {
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", tmp.path().join("plain.db").display());
    let store = Store::connect(&url).await.unwrap();
    let err = store.rewrap_documents(|_| {}).await.unwrap_err();
    assert!(
        err.to_string().contains("storage_encryption_key_file"),
        "{err}"
    );
    store.close().await;
}
