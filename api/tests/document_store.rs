//! The database-blob [`DocumentStore`] on its own, on SQLite and PostgreSQL: put, get, delete and
//! purge by id, missing ids, and a put that rolls back with its owner's transaction.

mod common;

use bytes::Bytes;
use common::Db;
use faxline_api::store::{DocumentId, DocumentStore, Inbound, NewJob, OwnerTx, Store};
use sqlx::Connection;

/// A store on a fresh database, and its URL (for a second connection).
async fn open(db: Db) -> Option<(Store, String, Option<tempfile::TempDir>)> {
    let (url, tmp) = match db {
        Db::Sqlite => {
            let tmp = tempfile::tempdir().unwrap();
            let url = format!("sqlite://{}", tmp.path().join("docs.db").display());
            (url, Some(tmp))
        }
        Db::Postgres => (common::pg_database().await?, None),
    };
    Some((Store::connect(&url).await.unwrap(), url, tmp))
}

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

fn inbound(id: &str) -> Inbound {
    Inbound {
        id: id.into(),
        from_number: None,
        to_number: None,
        status: "received".into(),
        backend: "sip".into(),
        provider_sid: None,
        pages: Some(1),
        size_bytes: Some(3),
        sha256: None,
        mailbox_label: None,
        error: None,
        created_at: 1,
        received_at: 1,
        updated_at: 1,
    }
}

/// Puts `content` for `id` in a transaction of a second connection, committed or rolled back.
async fn put_in_tx(
    store: &Store,
    url: &str,
    id: &DocumentId,
    content: &'static [u8],
    commit: bool,
) {
    let content = Bytes::from_static(content);
    if url.starts_with("sqlite") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
        let mut tx = conn.begin().await.unwrap();
        let mut owner = OwnerTx::from(&mut *tx);
        store
            .documents()
            .put(&mut owner, id, &content)
            .await
            .unwrap();
        if commit {
            tx.commit().await.unwrap()
        } else {
            tx.rollback().await.unwrap()
        }
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        let mut tx = conn.begin().await.unwrap();
        let mut owner = OwnerTx::from(&mut *tx);
        store
            .documents()
            .put(&mut owner, id, &content)
            .await
            .unwrap();
        if commit {
            tx.commit().await.unwrap()
        } else {
            tx.rollback().await.unwrap()
        }
    }
}

async fn blob_documents(db: Db) {
    let Some((store, url, _tmp)) = open(db).await else {
        return;
    };
    let docs = store.documents();
    let a = job(b"first document");
    let b = job(b"second document");
    let (a_id, b_id) = (DocumentId::Job(a.id.clone()), DocumentId::Job(b.id.clone()));
    store.jobs().insert(a).await.unwrap();
    store.jobs().insert(b).await.unwrap();
    let fax_id = uuid::Uuid::new_v4().simple().to_string();
    store
        .inbound()
        .insert(&inbound(&fax_id), &Bytes::from_static(b"%PDF"))
        .await
        .unwrap();
    let fax = DocumentId::Inbound(fax_id.clone());

    // Stored with their owners; each kind in its own place.
    assert_eq!(
        docs.get(&a_id).await.unwrap().as_deref(),
        Some(&b"first document"[..])
    );
    assert_eq!(docs.get(&fax).await.unwrap().as_deref(), Some(&b"%PDF"[..]));
    assert_eq!(
        docs.get(&DocumentId::Inbound(a_id.owner().into()))
            .await
            .unwrap(),
        None
    );

    // Missing ids: nothing to get, nothing deleted.
    let missing = DocumentId::Job("0123456789abcdef0123456789abcdef".into());
    assert_eq!(docs.get(&missing).await.unwrap(), None);
    assert!(!docs.delete(&missing).await.unwrap());

    // A put replaces, and goes with its transaction: a rolled-back one leaves the old content.
    put_in_tx(&store, &url, &a_id, b"replaced", true).await;
    assert_eq!(
        docs.get(&a_id).await.unwrap().as_deref(),
        Some(&b"replaced"[..])
    );
    put_in_tx(&store, &url, &a_id, b"rolled back", false).await;
    assert_eq!(
        docs.get(&a_id).await.unwrap().as_deref(),
        Some(&b"replaced"[..])
    );

    // Delete once; the second time there is nothing.
    assert!(docs.delete(&a_id).await.unwrap());
    assert_eq!(docs.get(&a_id).await.unwrap(), None);
    assert!(!docs.delete(&a_id).await.unwrap());

    // Purge counts what it deleted, across kinds, ignoring missing ids.
    let n = docs
        .purge(&[b_id.clone(), fax.clone(), a_id.clone(), missing])
        .await
        .unwrap();
    assert_eq!(n, 2);
    assert_eq!(docs.get(&b_id).await.unwrap(), None);
    assert_eq!(docs.get(&fax).await.unwrap(), None);
    assert_eq!(docs.purge(&[]).await.unwrap(), 0);
    // The rows stay.
    assert!(store.jobs().get(b_id.owner()).await.unwrap().is_some());
    assert!(store.inbound().get(&fax_id).await.unwrap().is_some());
    store.close().await;
}
both_stores!(blob_documents_on, blob_documents);

/// Retention asks the document store only about rows it has not purged yet, and a job that was
/// still queued at one pass has its document purged at a later pass once it is finished.
async fn retention_through_the_seam(db: Db) {
    let Some((store, _url, _tmp)) = open(db).await else {
        return;
    };
    let waiting = job(b"waiting");
    let done = job(b"done");
    let (waiting_id, done_id) = (waiting.id.clone(), done.id.clone());
    store.jobs().insert(waiting).await.unwrap();
    store.jobs().insert(done).await.unwrap();
    store.jobs().cancel(&done_id, 2).await.unwrap();
    let fax_id = uuid::Uuid::new_v4().simple().to_string();
    store
        .inbound()
        .insert(&inbound(&fax_id), &Bytes::from_static(b"%PDF"))
        .await
        .unwrap();

    // Nothing is older than the cut-off yet.
    assert_eq!(store.retention().purge_documents(1, 10).await.unwrap(), 0);
    // The finished job's and the received fax's documents go; the queued job keeps its own.
    assert_eq!(store.retention().purge_documents(100, 10).await.unwrap(), 2);
    let docs = store.documents();
    assert_eq!(docs.get(&DocumentId::Job(done_id)).await.unwrap(), None);
    assert_eq!(docs.get(&DocumentId::Inbound(fax_id)).await.unwrap(), None);
    let waiting_doc = DocumentId::Job(waiting_id.clone());
    assert!(docs.get(&waiting_doc).await.unwrap().is_some());
    // Once it is finished, the next pass takes it; after that there is nothing left to do.
    store.jobs().cancel(&waiting_id, 3).await.unwrap();
    assert_eq!(store.retention().purge_documents(100, 11).await.unwrap(), 1);
    assert_eq!(docs.get(&waiting_doc).await.unwrap(), None);
    assert_eq!(store.retention().purge_documents(100, 12).await.unwrap(), 0);
    store.close().await;
}
both_stores!(retention_through_the_seam_on, retention_through_the_seam);
