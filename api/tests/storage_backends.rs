//! The document backends on their own and through the store: the database, a local directory and
//! S3 (moto's server on 127.0.0.1, see `common::s3`). The same contract for each (put, get, delete,
//! purge, retention), the durability promise (a commit that fails after the document was written
//! leaves no document behind), and what only one backend has: private files, server-side
//! encryption headers, a 503 when the bucket is down.

mod common;

use std::path::Path;

use bytes::Bytes;
use common::{Db, s3};
use faxline_api::store::{
    DocumentBackend, DocumentError, DocumentId, DocumentStore, Inbound, NewJob, S3Settings,
    ServerSideEncryption, Store, StoreError,
};
use sqlx::Connection;

#[derive(Clone, Copy, Debug)]
enum Backend {
    Database,
    Local,
    S3,
}

/// A store on a fresh database with its documents in `backend`; the database URL; the bucket (S3).
struct Opened {
    store: Store,
    url: String,
    backend: DocumentBackend,
    _tmp: tempfile::TempDir,
}

async fn open(db: Db, backend: Backend) -> Option<Opened> {
    let tmp = tempfile::tempdir().unwrap();
    let url = match db {
        Db::Sqlite => format!("sqlite://{}", tmp.path().join("docs.db").display()),
        Db::Postgres => common::pg_database().await?,
    };
    let backend = match backend {
        Backend::Database => DocumentBackend::Database,
        Backend::Local => DocumentBackend::Local(tmp.path().join("documents")),
        Backend::S3 => DocumentBackend::S3(
            tokio::task::spawn_blocking(|| s3::settings(ServerSideEncryption::S3))
                .await
                .unwrap(),
        ),
    };
    let store = Store::connect_with(&url, &backend).await.unwrap();
    Some(Opened {
        store,
        url,
        backend,
        _tmp: tmp,
    })
}

fn job(to: &str, content: &'static [u8]) -> NewJob {
    NewJob {
        id: uuid::Uuid::new_v4().simple().to_string(),
        to_number: to.into(),
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

fn inbound(from: Option<&str>) -> Inbound {
    Inbound {
        id: uuid::Uuid::new_v4().simple().to_string(),
        from_number: from.map(str::to_string),
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

/// Where a document lives outside the database, to look at it without the store: the file, or
/// the bucket and key.
fn raw_location(backend: &DocumentBackend, id: &DocumentId) -> Option<(String, String)> {
    let (kind, owner) = match id {
        DocumentId::Job(o) => ("jobs", o),
        DocumentId::Inbound(o) => ("inbound", o),
        DocumentId::Draft(o) => ("drafts", o),
        DocumentId::Bulk(o) => ("bulk", o),
    };
    match backend {
        DocumentBackend::Database => None,
        DocumentBackend::Local(dir) => Some((
            String::new(),
            dir.join(kind).join(owner).display().to_string(),
        )),
        DocumentBackend::S3(s) => Some((s.bucket.clone(), format!("{}/{kind}/{owner}", s.prefix))),
    }
}

/// Whether the raw file or object exists (always `None` for the database).
async fn raw_exists(backend: &DocumentBackend, id: &DocumentId) -> Option<bool> {
    let (bucket, key) = raw_location(backend, id)?;
    Some(if bucket.is_empty() {
        Path::new(&key).exists()
    } else {
        let DocumentBackend::S3(settings) = backend else {
            unreachable!("a bucket is an S3 backend's")
        };
        s3::head_object(settings, &key).await.is_some()
    })
}

/// Put, get, delete and purge by id through the store, each kind in its own place.
async fn contract(db: Db, backend: Backend) {
    let Some(o) = open(db, backend).await else {
        return;
    };
    let (store, docs) = (&o.store, o.store.documents());
    let a = job("+15551234567", b"first document");
    let b = job("+15551234567", b"second document");
    let (a_id, b_id) = (DocumentId::Job(a.id.clone()), DocumentId::Job(b.id.clone()));
    store.jobs().insert(a).await.unwrap();
    store.jobs().insert(b).await.unwrap();
    let fax = inbound(None);
    let fax_id = DocumentId::Inbound(fax.id.clone());
    store
        .inbound()
        .insert(&fax, &Bytes::from_static(b"%PDF"))
        .await
        .unwrap();

    assert_eq!(
        docs.get(&a_id).await.unwrap().as_deref(),
        Some(&b"first document"[..])
    );
    assert_eq!(
        docs.get(&fax_id).await.unwrap().as_deref(),
        Some(&b"%PDF"[..])
    );
    assert_ne!(raw_exists(&o.backend, &a_id).await, Some(false));
    // Kinds do not mix: the job's id as an inbound document is nothing.
    assert_eq!(
        docs.get(&DocumentId::Inbound(a_id.owner().into()))
            .await
            .unwrap(),
        None
    );
    let missing = DocumentId::Job("0123456789abcdef0123456789abcdef".into());
    assert_eq!(docs.get(&missing).await.unwrap(), None);
    assert!(!docs.delete(&missing).await.unwrap());

    assert!(docs.delete(&a_id).await.unwrap());
    assert_eq!(docs.get(&a_id).await.unwrap(), None);
    assert_ne!(raw_exists(&o.backend, &a_id).await, Some(true));
    assert!(!docs.delete(&a_id).await.unwrap());

    let n = docs
        .purge(&[b_id.clone(), fax_id.clone(), a_id.clone(), missing])
        .await
        .unwrap();
    assert_eq!(n, 2);
    assert_eq!(docs.get(&b_id).await.unwrap(), None);
    assert_eq!(docs.get(&fax_id).await.unwrap(), None);
    assert_eq!(docs.purge(&[]).await.unwrap(), 0);
    // The rows stay.
    assert!(store.jobs().get(b_id.owner()).await.unwrap().is_some());
    assert!(store.inbound().get(&fax.id).await.unwrap().is_some());
    store.close().await;
}

/// Retention deletes from the backend: finished jobs and received faxes past the cut-off, not a
/// queued job; a later pass takes it once it is finished.
async fn retention(db: Db, backend: Backend) {
    let Some(o) = open(db, backend).await else {
        return;
    };
    let store = &o.store;
    let waiting = job("+15551234567", b"waiting");
    let done = job("+15551234567", b"done");
    let (waiting_id, done_id) = (waiting.id.clone(), done.id.clone());
    store.jobs().insert(waiting).await.unwrap();
    store.jobs().insert(done).await.unwrap();
    store.jobs().cancel(&done_id, 2).await.unwrap();
    let fax = inbound(None);
    store
        .inbound()
        .insert(&fax, &Bytes::from_static(b"%PDF"))
        .await
        .unwrap();

    assert_eq!(store.retention().purge_documents(1, 10).await.unwrap(), 0);
    assert_eq!(store.retention().purge_documents(100, 10).await.unwrap(), 2);
    let docs = store.documents();
    let done_doc = DocumentId::Job(done_id.clone());
    assert_eq!(docs.get(&done_doc).await.unwrap(), None);
    assert_ne!(raw_exists(&o.backend, &done_doc).await, Some(true));
    let fax_doc = DocumentId::Inbound(fax.id.clone());
    assert_eq!(docs.get(&fax_doc).await.unwrap(), None);
    assert_ne!(raw_exists(&o.backend, &fax_doc).await, Some(true));
    let waiting_doc = DocumentId::Job(waiting_id.clone());
    assert!(docs.get(&waiting_doc).await.unwrap().is_some());
    store.jobs().cancel(&waiting_id, 3).await.unwrap();
    assert_eq!(store.retention().purge_documents(100, 11).await.unwrap(), 1);
    assert_eq!(docs.get(&waiting_doc).await.unwrap(), None);
    assert_ne!(raw_exists(&o.backend, &waiting_doc).await, Some(true));
    assert_eq!(store.retention().purge_documents(100, 12).await.unwrap(), 0);
    // Metadata stays.
    assert!(store.jobs().get(&done_id).await.unwrap().is_some());
    assert!(store.inbound().get(&fax.id).await.unwrap().is_some());
    store.close().await;
}

/// The number whose row insert fails at commit, after its document was written.
const POISON: &str = "+15550000000";

/// Makes the commit of a job to [`POISON`] (or an inbound fax from it) fail, from a second
/// connection: a deferred constraint checked only at COMMIT, so the document has been put by then.
async fn poison_commits(url: &str) {
    if url.starts_with("sqlite") {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        for sql in [
            "CREATE TABLE poison_parent (id TEXT PRIMARY KEY)",
            "CREATE TABLE poison (ref TEXT REFERENCES poison_parent(id) DEFERRABLE INITIALLY DEFERRED)",
            "CREATE TRIGGER poison_jobs AFTER INSERT ON fax_jobs WHEN NEW.to_number = '+15550000000' \
             BEGIN INSERT INTO poison (ref) VALUES ('missing'); END",
            "CREATE TRIGGER poison_inbound AFTER INSERT ON inbound_faxes WHEN NEW.from_number = '+15550000000' \
             BEGIN INSERT INTO poison (ref) VALUES ('missing'); END",
        ] {
            sqlx::query(sql).execute(&mut c).await.unwrap();
        }
    } else {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        for sql in [
            "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'injected commit failure'; END $$",
            "CREATE CONSTRAINT TRIGGER poison_jobs AFTER INSERT ON fax_jobs \
             DEFERRABLE INITIALLY DEFERRED FOR EACH ROW \
             WHEN (NEW.to_number = '+15550000000') EXECUTE FUNCTION poison()",
            "CREATE CONSTRAINT TRIGGER poison_inbound AFTER INSERT ON inbound_faxes \
             DEFERRABLE INITIALLY DEFERRED FOR EACH ROW \
             WHEN (NEW.from_number = '+15550000000') EXECUTE FUNCTION poison()",
        ] {
            sqlx::query(sql).execute(&mut c).await.unwrap();
        }
    }
}

/// The durability promise across two stores: when the row's commit fails after its document was
/// written, the insert fails, there is no row, and the document is gone from the backend too.
async fn failed_commit_leaves_nothing(db: Db, backend: Backend) {
    let Some(o) = open(db, backend).await else {
        return;
    };
    poison_commits(&o.url).await;
    let store = &o.store;

    let bad = job(POISON, b"never committed");
    let bad_id = bad.id.clone();
    let bad_doc = DocumentId::Job(bad_id.clone());
    assert!(store.jobs().insert(bad).await.is_err());
    assert!(store.jobs().get(&bad_id).await.unwrap().is_none());
    assert_eq!(store.documents().get(&bad_doc).await.unwrap(), None);
    assert_ne!(raw_exists(&o.backend, &bad_doc).await, Some(true));

    let fax = inbound(Some(POISON));
    let fax_doc = DocumentId::Inbound(fax.id.clone());
    assert!(
        store
            .inbound()
            .insert(&fax, &Bytes::from_static(b"%PDF"))
            .await
            .is_err()
    );
    assert!(store.inbound().get(&fax.id).await.unwrap().is_none());
    assert_eq!(store.documents().get(&fax_doc).await.unwrap(), None);
    assert_ne!(raw_exists(&o.backend, &fax_doc).await, Some(true));

    // Nothing else is left in the directory or the bucket either (temporary files included).
    match &o.backend {
        DocumentBackend::Local(dir) => {
            for kind in ["jobs", "inbound"] {
                let left: Vec<_> = std::fs::read_dir(dir.join(kind)).unwrap().collect();
                assert!(left.is_empty(), "left in {kind}: {left:?}");
            }
        }
        DocumentBackend::S3(s) => assert_eq!(s3::keys(s).await, Vec::<String>::new()),
        DocumentBackend::Database => {}
    }

    // A good job still goes through the same store afterwards.
    let good = job("+15551234567", b"committed");
    let good_id = good.id.clone();
    store.jobs().insert(good).await.unwrap();
    assert_eq!(
        store
            .documents()
            .get(&DocumentId::Job(good_id))
            .await
            .unwrap()
            .as_deref(),
        Some(&b"committed"[..])
    );
    store.close().await;
}

/// What a process killed between a document's write and its row's commit leaves behind (the
/// document written in a transaction that never commits) is found by the orphan sweep once it is
/// old enough, and only it: committed documents stay.
async fn orphans_are_swept(db: Db, backend: Backend) {
    let Some(o) = open(db, backend).await else {
        return;
    };
    let store = &o.store;
    let kept = job("+15551234567", b"committed");
    let kept_id = DocumentId::Job(kept.id.clone());
    store.jobs().insert(kept).await.unwrap();
    let orphan = DocumentId::Job(uuid::Uuid::new_v4().simple().to_string());
    let orphan_fax = DocumentId::Inbound(uuid::Uuid::new_v4().simple().to_string());
    for id in [&orphan, &orphan_fax] {
        put_uncommitted(&o.url, store, id).await;
    }
    if let DocumentBackend::Local(dir) = &o.backend {
        // An interrupted write's temporary file.
        std::fs::write(dir.join("jobs").join(".x.tmp"), b"partial").unwrap();
    }
    let expected_orphans = match backend {
        Backend::Database => None,
        _ => Some(true),
    };
    assert_eq!(raw_exists(&o.backend, &orphan).await, expected_orphans);

    let now = faxline_protocol::time::now_us();
    // Not old enough yet: nothing goes.
    assert_eq!(
        faxline_api::retention::sweep_orphans(store, now)
            .await
            .unwrap(),
        0
    );
    assert_eq!(raw_exists(&o.backend, &orphan).await, expected_orphans);
    // An hour and more later the orphans go; the committed document stays.
    let later = now + faxline_api::retention::ORPHAN_AGE_US + 1_000_000;
    let swept = faxline_api::retention::sweep_orphans(store, later)
        .await
        .unwrap();
    assert_eq!(swept, if expected_orphans.is_some() { 2 } else { 0 });
    assert_ne!(raw_exists(&o.backend, &orphan).await, Some(true));
    assert_ne!(raw_exists(&o.backend, &orphan_fax).await, Some(true));
    assert!(store.documents().get(&kept_id).await.unwrap().is_some());
    if let DocumentBackend::Local(dir) = &o.backend {
        assert!(!dir.join("jobs").join(".x.tmp").exists());
    }
    store.close().await;
}

/// Writes `id`'s document in a transaction that is rolled back, as if the process died before
/// the commit.
async fn put_uncommitted(url: &str, store: &Store, id: &DocumentId) {
    use faxline_api::store::OwnerTx;
    let content = Bytes::from_static(b"orphan");
    if url.starts_with("sqlite") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
        let mut tx = conn.begin().await.unwrap();
        let res = store
            .documents()
            .put(&mut OwnerTx::from(&mut *tx), id, &content)
            .await;
        // The database store refuses a document without its owner row; others write it.
        drop(res);
        tx.rollback().await.unwrap();
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        let mut tx = conn.begin().await.unwrap();
        let res = store
            .documents()
            .put(&mut OwnerTx::from(&mut *tx), id, &content)
            .await;
        drop(res);
        tx.rollback().await.unwrap();
    }
}

/// Client-side encryption: the stored bytes hold no plaintext, the store reads it back, and a store
/// opened with another key names the key instead of returning garbage.
async fn encrypted_at_rest(db: Db, backend: Backend) {
    use faxline_api::store::{EnvelopeError, MasterKey};
    let Some(o) = open(db, backend).await else {
        return;
    };
    o.store.close().await;
    let key = MasterKey::parse(&"5a".repeat(32)).unwrap();
    let store = Store::connect_encrypted(&o.url, &o.backend, Some(key.clone().into()))
        .await
        .unwrap();
    const SECRET: &[u8] = b"Patient: Jane Example, diagnosis confidential";
    let j = job("+15551234567", SECRET);
    let id = DocumentId::Job(j.id.clone());
    store.jobs().insert(j).await.unwrap();
    assert_eq!(
        store.documents().get(&id).await.unwrap().as_deref(),
        Some(SECRET)
    );

    let raw: Vec<u8> = match &o.backend {
        DocumentBackend::Database => {
            if o.url.starts_with("sqlite") {
                let mut c = sqlx::SqliteConnection::connect(&o.url).await.unwrap();
                sqlx::query_scalar("SELECT content FROM fax_documents WHERE job_id = $1")
                    .bind(id.owner())
                    .fetch_one(&mut c)
                    .await
                    .unwrap()
            } else {
                let mut c = sqlx::PgConnection::connect(&o.url).await.unwrap();
                sqlx::query_scalar("SELECT content FROM fax_documents WHERE job_id = $1")
                    .bind(id.owner())
                    .fetch_one(&mut c)
                    .await
                    .unwrap()
            }
        }
        DocumentBackend::Local(dir) => std::fs::read(dir.join("jobs").join(id.owner())).unwrap(),
        DocumentBackend::S3(s) => s3::raw_object(s, &format!("{}/jobs/{}", s.prefix, id.owner()))
            .await
            .unwrap()
            .to_vec(),
    };
    assert!(raw.starts_with(b"FXE2"));
    for word in [&b"Patient"[..], b"Jane", b"confidential"] {
        assert!(!raw.windows(word.len()).any(|w| w == word));
    }
    store.close().await;

    // Another key: a clear error naming both keys.
    let other = MasterKey::parse(&"a5".repeat(32)).unwrap();
    let wrong = Store::connect_encrypted(&o.url, &o.backend, Some(other.clone().into()))
        .await
        .unwrap();
    let err = wrong.documents().get(&id).await.unwrap_err();
    assert!(
        matches!(err, DocumentError::Envelope(EnvelopeError::OtherKey { .. })),
        "{err}"
    );
    assert!(err.to_string().contains("encrypted with key"), "{err}");
    wrong.close().await;

    // Rotation: a new current key with the old one kept as previous reads both old and new.
    let rotated = Store::connect_encrypted(
        &o.url,
        &o.backend,
        Some(faxline_api::store::Keyring::new(other, vec![key])),
    )
    .await
    .unwrap();
    assert_eq!(
        rotated.documents().get(&id).await.unwrap().as_deref(),
        Some(SECRET)
    );
    rotated.close().await;
}

/// A document of several encryption segments and several database pieces comes back through
/// `get_stream` as it was stored, in pieces from every backend, with and without client-side
/// encryption; a sealed file cut short, or a database document missing a piece, fails the stream
/// instead of ending it early; an unknown id is `None`.
async fn streamed(db: Db, backend: Backend) {
    use faxline_api::store::MasterKey;
    use futures::StreamExt;
    let Some(o) = open(db, backend).await else {
        return;
    };
    o.store.close().await;
    // Three database pieces (1 MiB each).
    let content: Vec<u8> = (0..2_300_000u32).map(|i| (i % 253) as u8).collect();
    for key in [None, Some(MasterKey::parse(&"5a".repeat(32)).unwrap())] {
        let sealed = key.is_some();
        let store = Store::connect_encrypted(&o.url, &o.backend, key.map(Into::into))
            .await
            .unwrap();
        let mut j = job("+15551234567", b"");
        j.content = Bytes::from(content.clone());
        let id = DocumentId::Job(j.id.clone());
        store.jobs().insert(j).await.unwrap();
        let mut stream = store.documents().get_stream(&id).await.unwrap().unwrap();
        let (mut got, mut pieces) = (Vec::new(), 0);
        while let Some(piece) = stream.next().await {
            got.extend_from_slice(&piece.unwrap());
            pieces += 1;
        }
        assert!(got == content, "sealed: {sealed}");
        assert!(pieces >= 3, "{pieces} pieces (sealed: {sealed})");
        assert!(store.documents().get(&id).await.unwrap().unwrap() == content);
        let unknown = DocumentId::Job("0123456789abcdef".into());
        assert!(
            store
                .documents()
                .get_stream(&unknown)
                .await
                .unwrap()
                .is_none()
        );
        if let (DocumentBackend::Local(dir), true) = (&o.backend, sealed) {
            let file = dir.join("jobs").join(id.owner());
            let raw = std::fs::read(&file).unwrap();
            // Cut at the end of the second segment: every remaining segment opens, the last is missing.
            std::fs::write(&file, &raw[..79 + 2 * (64 * 1024 + 16)]).unwrap();
            let mut stream = store.documents().get_stream(&id).await.unwrap().unwrap();
            let mut failed = false;
            while let Some(piece) = stream.next().await {
                failed |= piece.is_err();
            }
            assert!(failed, "a truncated document must not stream as complete");
        }
        if matches!(o.backend, DocumentBackend::Database) {
            assert_eq!(
                scalar::<i64>(
                    &o.url,
                    &format!(
                        "SELECT COUNT(*) FROM fax_document_pieces WHERE job_id = '{}'",
                        id.owner()
                    )
                )
                .await,
                2
            );
            // A piece lost (deleted behind the store's back) is an error, whole or streamed.
            exec(
                &o.url,
                &format!(
                    "DELETE FROM fax_document_pieces WHERE job_id = '{}' AND seq = 2",
                    id.owner()
                ),
            )
            .await;
            assert!(store.documents().get(&id).await.is_err());
            let mut stream = store.documents().get_stream(&id).await.unwrap().unwrap();
            let mut failed = false;
            while let Some(piece) = stream.next().await {
                failed |= piece.is_err();
            }
            assert!(
                failed,
                "a document missing a piece must not stream as complete"
            );
            // Replaced by a shorter document: its old pieces go; then by a longer one again.
            put_in_transaction(&o.url, &store, &id, Bytes::from_static(b"short"), true).await;
            assert_eq!(
                store.documents().get(&id).await.unwrap().as_deref(),
                Some(&b"short"[..])
            );
            assert_eq!(
                scalar::<i64>(&o.url, "SELECT COUNT(*) FROM fax_document_pieces").await,
                0
            );
            let longer = Bytes::from(content.repeat(2));
            put_in_transaction(&o.url, &store, &id, longer.clone(), true).await;
            assert!(store.documents().get(&id).await.unwrap().unwrap() == longer);
            // Deleted with its head.
            assert!(store.documents().delete(&id).await.unwrap());
            assert_eq!(
                scalar::<i64>(&o.url, "SELECT COUNT(*) FROM fax_document_pieces").await,
                0
            );
        }
        store.close().await;
    }
}

/// Runs a statement on the database behind the store's back.
async fn exec(url: &str, sql: &str) {
    let sql = sqlx::AssertSqlSafe(sql.to_string());
    if url.starts_with("sqlite") {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query(sql).execute(&mut c).await.unwrap();
    } else {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query(sql).execute(&mut c).await.unwrap();
    }
}

/// A database that had client-side encryption on moves to a file or object backend: the blobs
/// sealed in the database are stored as they are (not sealed a second time), one stored before
/// encryption was on is sealed on the way, and a document of several pieces moves whole; each
/// reads back as it was.
async fn encrypted_migration(db: Db, backend: Backend) {
    use faxline_api::store::MasterKey;
    let Some(o) = open(db, backend).await else {
        return;
    };
    o.store.close().await;
    if matches!(backend, Backend::Database) {
        return;
    }
    let key = || -> Option<faxline_api::store::Keyring> {
        Some(MasterKey::parse(&"3c".repeat(32)).unwrap().into())
    };
    let plain = Store::connect(&o.url).await.unwrap();
    let before = job("+15551234567", b"stored before encryption");
    let before_id = DocumentId::Job(before.id.clone());
    plain.jobs().insert(before).await.unwrap();
    plain.close().await;
    let sealed = Store::connect_encrypted(&o.url, &DocumentBackend::Database, key())
        .await
        .unwrap();
    let large: Vec<u8> = (0..2_500_000u32).map(|i| (i % 251) as u8).collect();
    let mut big = job("+15551234567", b"");
    big.content = Bytes::from(large.clone());
    let small = job("+15551234567", b"sealed in the database");
    let (big_id, small_id) = (
        DocumentId::Job(big.id.clone()),
        DocumentId::Job(small.id.clone()),
    );
    sealed.jobs().insert(big).await.unwrap();
    sealed.jobs().insert(small).await.unwrap();
    sealed.close().await;

    let store = Store::connect_encrypted(&o.url, &o.backend, key())
        .await
        .unwrap();
    let done = store.migrate_documents(|_| {}).await.unwrap();
    assert_eq!(done.documents, 3);
    assert_eq!(raw_exists(&o.backend, &big_id).await, Some(true));
    for (id, content) in [
        (&before_id, &b"stored before encryption"[..]),
        (&small_id, b"sealed in the database"),
        (&big_id, &large),
    ] {
        assert!(
            store.documents().get(id).await.unwrap().as_deref() == Some(content),
            "{id:?}"
        );
    }
    store.close().await;
}

/// `migrate_documents` moves the database's blobs to the configured backend: before it the
/// documents are read from the database, after it from the backend with no blob left, and a run
/// after an interrupted one (a document written but its blob not yet deleted) finishes the job.
async fn migration_from_the_database(db: Db, backend: Backend) {
    let Some(o) = open(db, backend).await else {
        return;
    };
    o.store.close().await;
    if matches!(backend, Backend::Database) {
        let store = Store::connect(&o.url).await.unwrap();
        assert!(store.migrate_documents(|_| {}).await.is_err());
        return;
    }
    // Documents stored the old way, in the database.
    let old = Store::connect(&o.url).await.unwrap();
    let jobs = [
        job("+15551234567", b"first"),
        job("+15551234567", b"second"),
    ];
    let ids: Vec<DocumentId> = jobs.iter().map(|j| DocumentId::Job(j.id.clone())).collect();
    for j in jobs {
        old.jobs().insert(j).await.unwrap();
    }
    let fax = inbound(None);
    let fax_id = DocumentId::Inbound(fax.id.clone());
    old.inbound()
        .insert(&fax, &Bytes::from_static(b"%PDF"))
        .await
        .unwrap();
    old.close().await;

    let store = Store::connect_with(&o.url, &o.backend).await.unwrap();
    // Readable before the migration, from the database.
    assert_eq!(
        store.documents().get(&ids[0]).await.unwrap().as_deref(),
        Some(&b"first"[..])
    );
    assert_eq!(raw_exists(&o.backend, &ids[0]).await, Some(false));
    let mut seen = 0;
    let done = store
        .migrate_documents(|m| seen = m.documents)
        .await
        .unwrap();
    assert_eq!((done.documents, done.bytes, seen), (3, 15, 3));
    for (id, content) in [
        (&ids[0], &b"first"[..]),
        (&ids[1], b"second"),
        (&fax_id, b"%PDF"),
    ] {
        assert_eq!(raw_exists(&o.backend, id).await, Some(true));
        assert_eq!(
            store.documents().get(id).await.unwrap().as_deref(),
            Some(content)
        );
    }
    let blobs = |table: &'static str| {
        let url = o.url.clone();
        async move {
            let sql = format!("SELECT COUNT(*) FROM {table}");
            if url.starts_with("sqlite") {
                let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
                sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql))
                    .fetch_one(&mut c)
                    .await
                    .unwrap()
            } else {
                let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
                sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql))
                    .fetch_one(&mut c)
                    .await
                    .unwrap()
            }
        }
    };
    assert_eq!(blobs("fax_documents").await, 0);
    assert_eq!(blobs("inbound_documents").await, 0);
    // Nothing left: a second run does nothing.
    assert_eq!(store.migrate_documents(|_| {}).await.unwrap().documents, 0);
    store.close().await;

    // Interrupted between the write and the blob's delete: the next run completes it.
    let old = Store::connect(&o.url).await.unwrap();
    let late = job("+15551234567", b"late");
    let late_id = DocumentId::Job(late.id.clone());
    old.jobs().insert(late).await.unwrap();
    old.close().await;
    let store = Store::connect_with(&o.url, &o.backend).await.unwrap();
    put_uncommitted_copy(&o.url, &store, &late_id, b"late").await;
    assert_eq!(blobs("fax_documents").await, 1);
    assert_eq!(store.migrate_documents(|_| {}).await.unwrap().documents, 1);
    assert_eq!(blobs("fax_documents").await, 0);
    assert_eq!(
        store.documents().get(&late_id).await.unwrap().as_deref(),
        Some(&b"late"[..])
    );
    store.close().await;
}

/// Writes a copy of a document to the (file or object) backend outside any commit.
async fn put_uncommitted_copy(url: &str, store: &Store, id: &DocumentId, content: &'static [u8]) {
    put_in_transaction(url, store, id, Bytes::from_static(content), false).await;
}

/// `DocumentStore::put` in a transaction of its own, committed or rolled back.
async fn put_in_transaction(
    url: &str,
    store: &Store,
    id: &DocumentId,
    content: Bytes,
    commit: bool,
) {
    use faxline_api::store::OwnerTx;
    if url.starts_with("sqlite") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
        let mut tx = conn.begin().await.unwrap();
        store
            .documents()
            .put(&mut OwnerTx::from(&mut *tx), id, &content)
            .await
            .unwrap();
        if commit {
            tx.commit().await.unwrap();
        } else {
            tx.rollback().await.unwrap();
        }
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        let mut tx = conn.begin().await.unwrap();
        store
            .documents()
            .put(&mut OwnerTx::from(&mut *tx), id, &content)
            .await
            .unwrap();
        if commit {
            tx.commit().await.unwrap();
        } else {
            tx.rollback().await.unwrap();
        }
    }
}

macro_rules! per_backend {
    ($name:ident, $body:path) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite_database() {
                $body(Db::Sqlite, Backend::Database).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite_local() {
                $body(Db::Sqlite, Backend::Local).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite_s3() {
                $body(Db::Sqlite, Backend::S3).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres_local() {
                $body(Db::Postgres, Backend::Local).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres_s3() {
                $body(Db::Postgres, Backend::S3).await
            }
        }
    };
}

per_backend!(contract_on, contract);
per_backend!(retention_on, retention);
per_backend!(failed_commit_on, failed_commit_leaves_nothing);
per_backend!(orphans_swept_on, orphans_are_swept);
per_backend!(encrypted_on, encrypted_at_rest);
per_backend!(migration_on, migration_from_the_database);
per_backend!(streamed_on, streamed);
per_backend!(encrypted_migration_on, encrypted_migration);
per_backend!(console_documents_on, console_drafts_and_bulk_documents);

/// A scalar from the database behind the store's back.
async fn scalar<T>(url: &str, sql: &str) -> T
where
    T: Send + Unpin + for<'r> sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    if url.starts_with("sqlite") {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_one(&mut c)
            .await
            .unwrap()
    } else {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_one(&mut c)
            .await
            .unwrap()
    }
}

/// The console's Send drafts and bulk documents go through the document store like every other
/// document: in the configured backend, sealed under client-side encryption, deleted with their
/// draft (discard, expiry) or when their batch finishes; a bulk batch made before migration 0010
/// (its document in `bulk_batches.content`) is still read, and `migrate_documents` moves it.
async fn console_drafts_and_bulk_documents(db: Db, backend: Backend) {
    use faxline_api::store::{BULK_DONE, BULK_RUNNING, BulkBatch, Draft, MasterKey};
    let Some(o) = open(db, backend).await else {
        return;
    };
    o.store.close().await;
    let key = MasterKey::parse(&"5a".repeat(32)).unwrap();
    let store = Store::connect_encrypted(&o.url, &o.backend, Some(key.into()))
        .await
        .unwrap();
    let user = faxline_api::console::add_user(&store, "ann", "tulip-7Qx!marble-42", "staff")
        .await
        .unwrap();
    const SECRET: &[u8] = b"Patient: Jane Example, referral letter";
    let now = faxline_protocol::time::now_us();
    let draft = |id: &str| Draft {
        id: id.to_string(),
        user_id: user.id.clone(),
        numbers: "+15551234567\n+15559876543".into(),
        file_name: "fax.pdf".into(),
        doc_kind: "txt".into(),
        pages: 1,
        size_bytes: SECRET.len() as i64,
        parts: 1,
        cover: 0,
        created_at: now,
        expires_at: now + 3_600_000_000,
        sent_at: None,
        sent: 0,
        bulk_batch: None,
    };
    let (kept, expired) = ("a".repeat(32), "b".repeat(32));
    for id in [&kept, &expired] {
        store
            .drafts()
            .create(&draft(id), &Bytes::from_static(SECRET))
            .await
            .unwrap();
    }
    let batch = BulkBatch {
        id: "c".repeat(32),
        created_by: "user:ann".into(),
        file_name: "memo.txt".into(),
        state: BULK_RUNNING.into(),
        total: 1,
        created_at: now,
        updated_at: now,
        cover: 0,
    };
    store
        .bulk()
        .create(
            &batch,
            &Bytes::from_static(SECRET),
            &[faxline_api::store::NewRecipient {
                number: "+15551234567".into(),
                ..Default::default()
            }],
        )
        .await
        .unwrap();
    for id in [
        DocumentId::Draft(kept.clone()),
        DocumentId::Bulk(batch.id.clone()),
    ] {
        assert_eq!(
            store.documents().get(&id).await.unwrap().as_deref(),
            Some(SECRET)
        );
        // Sealed at rest, wherever it is.
        let raw: Vec<u8> = match &o.backend {
            DocumentBackend::Database => {
                let (table, col) = match &id {
                    DocumentId::Draft(_) => ("draft_documents", "draft_id"),
                    _ => ("bulk_documents", "batch_id"),
                };
                scalar(
                    &o.url,
                    &format!("SELECT content FROM {table} WHERE {col} = '{}'", id.owner()),
                )
                .await
            }
            DocumentBackend::Local(_) | DocumentBackend::S3(_) => {
                assert_eq!(raw_exists(&o.backend, &id).await, Some(true));
                let (bucket, key) = raw_location(&o.backend, &id).unwrap();
                match &o.backend {
                    DocumentBackend::S3(s) if !bucket.is_empty() => {
                        s3::raw_object(s, &key).await.unwrap().to_vec()
                    }
                    _ => std::fs::read(&key).unwrap(),
                }
            }
        };
        assert!(raw.starts_with(b"FXE2"), "{id:?} sealed");
        assert!(!raw.windows(7).any(|w| w == b"Patient"));
    }
    let column: i64 = scalar(
        &o.url,
        &format!(
            "SELECT COUNT(*) FROM bulk_batches WHERE id = '{}' AND length(content) = 0",
            batch.id
        ),
    )
    .await;
    assert_eq!(column, 1, "no document in bulk_batches.content");
    assert_eq!(
        store.bulk().content(&batch.id).await.unwrap().as_deref(),
        Some(SECRET)
    );

    // Expiry: the sweep deletes the expired draft and its document, and keeps the other.
    store.drafts().sweep(now + 3_600_000_000 - 1).await.unwrap();
    assert!(store.drafts().get(&kept).await.unwrap().is_some());
    store.drafts().delete(&kept).await.unwrap();
    assert_eq!(store.drafts().sweep(now + 3_600_000_000).await.unwrap(), 1);
    for id in [&kept, &expired] {
        assert!(store.drafts().get(id).await.unwrap().is_none());
        let doc = DocumentId::Draft(id.clone());
        assert!(store.documents().get(&doc).await.unwrap().is_none());
        assert_ne!(raw_exists(&o.backend, &doc).await, Some(true));
    }

    // A batch that finishes drops its document.
    assert!(
        store
            .bulk()
            .set_state(&batch.id, &[BULK_RUNNING], BULK_DONE, now)
            .await
            .unwrap()
    );
    assert!(store.bulk().content(&batch.id).await.unwrap().is_none());
    assert_ne!(
        raw_exists(&o.backend, &DocumentId::Bulk(batch.id.clone())).await,
        Some(true)
    );
    assert_eq!(
        store.bulk().drop_finished_documents(now, 10).await.unwrap(),
        0,
        "recorded as deleted"
    );

    // A batch made before migration 0010: its document in bulk_batches.content.
    let legacy = "d".repeat(32);
    let insert = format!(
        "INSERT INTO bulk_batches (id, created_by, file_name, content, state, total, created_at, updated_at) \
         VALUES ('{legacy}', 'user:ann', 'old.txt', {}, 'running', 0, {now}, {now})",
        if o.url.starts_with("sqlite") {
            "X'4f6c6420626174636821'"
        } else {
            "'\\x4f6c6420626174636821'::bytea"
        }
    );
    let _: i64 = scalar(&o.url, &format!("{insert} RETURNING CAST(0 AS BIGINT)")).await;
    assert_eq!(
        store.bulk().content(&legacy).await.unwrap().as_deref(),
        Some(&b"Old batch!"[..])
    );
    if matches!(backend, Backend::Database) {
        return;
    }
    let moved = store.migrate_documents(|_| {}).await.unwrap();
    assert_eq!((moved.documents, moved.bytes), (1, 10));
    let legacy_id = DocumentId::Bulk(legacy.clone());
    assert_eq!(raw_exists(&o.backend, &legacy_id).await, Some(true));
    assert_eq!(
        store.bulk().content(&legacy).await.unwrap().as_deref(),
        Some(&b"Old batch!"[..])
    );
    let left: i64 = scalar(
        &o.url,
        "SELECT COUNT(*) FROM bulk_batches WHERE length(content) > 0",
    )
    .await;
    assert_eq!(left, 0);
    assert_eq!(store.migrate_documents(|_| {}).await.unwrap().documents, 0);
    store.close().await;
}

/// The local directory is owner-only (0700), each file 0600, written without leftovers; an id
/// that could leave the directory is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let o = open(Db::Sqlite, Backend::Local).await.unwrap();
    let DocumentBackend::Local(dir) = &o.backend else {
        unreachable!()
    };
    let j = job("+15551234567", b"private");
    let id = j.id.clone();
    o.store.jobs().insert(j).await.unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(dir), 0o700);
    assert_eq!(mode(&dir.join("jobs")), 0o700);
    assert_eq!(mode(&dir.join("inbound")), 0o700);
    assert_eq!(mode(&dir.join("jobs").join(&id)), 0o600);
    let names: Vec<String> = std::fs::read_dir(dir.join("jobs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec![id.clone()]);
    for bad in ["../escape", "", "a/b", ".."] {
        let err = o
            .store
            .documents()
            .get(&DocumentId::Job(bad.into()))
            .await
            .unwrap_err();
        assert!(matches!(err, DocumentError::BadId), "{bad:?}: {err}");
    }
    // An existing directory with loose permissions is tightened on open.
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    Store::connect_with(&o.url, &o.backend).await.unwrap();
    assert_eq!(mode(dir), 0o700);
}

/// Every write asks for the configured server-side encryption, as the server reports it back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_server_side_encryption() {
    for (sse, algorithm, key) in [
        (ServerSideEncryption::S3, "AES256", None),
        (
            ServerSideEncryption::Kms(Some("faxline-test-key".into())),
            "aws:kms",
            Some("faxline-test-key"),
        ),
    ] {
        let settings = tokio::task::spawn_blocking(move || s3::settings(sse))
            .await
            .unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", tmp.path().join("d.db").display());
        let backend = DocumentBackend::S3(settings.clone());
        let store = Store::connect_with(&url, &backend).await.unwrap();
        let j = job("+15551234567", b"encrypted at rest");
        let id = j.id.clone();
        store.jobs().insert(j).await.unwrap();
        let headers = s3::head_object(&settings, &format!("{}/jobs/{id}", settings.prefix))
            .await
            .expect("the object exists");
        assert_eq!(
            headers
                .get("x-amz-server-side-encryption")
                .map(|v| v.to_str().unwrap()),
            Some(algorithm)
        );
        if let Some(key) = key {
            let got = headers
                .get("x-amz-server-side-encryption-aws-kms-key-id")
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default();
            assert!(got.ends_with(key), "KMS key id {got:?}");
        }
        store.close().await;
    }
}

/// A bucket that cannot be reached: the upload fails with a clear 503 within seconds, and neither
/// a job row nor an object is left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_bucket_is_a_503() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let Some(s) = common::TestServer::start(Db::Sqlite, |c| {
        common::use_storage(c, "s3");
        c.s3_endpoint_url = Some(format!("http://127.0.0.1:{port}"));
    })
    .await
    else {
        return;
    };
    let started = std::time::Instant::now();
    let r = common::send_fax(
        &s,
        common::ADMIN_KEY,
        "+15551234567",
        "doc.pdf",
        common::one_page_pdf(),
    )
    .await;
    assert_eq!(r.status(), 503);
    assert!(r.headers().contains_key("retry-after"));
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["detail"], "Document storage unavailable");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM fax_jobs")
        .fetch_one(
            &mut sqlx::SqliteConnection::connect(&s.cfg.effective_database_url())
                .await
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(n, 0);
    // Readiness names the storage that does not answer.
    let r = reqwest::get(s.url("/health/ready")).await.unwrap();
    assert_eq!(r.status(), 503);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["checks"]["document_storage"], false, "{body}");
    assert!(
        body["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r.as_str().unwrap().starts_with("document storage (s3): ")),
        "{body}"
    );
}

/// The S3 backend refuses to start without a bucket, and reports the store's error type.
#[tokio::test]
async fn s3_needs_a_bucket() {
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", tmp.path().join("d.db").display());
    let settings = S3Settings {
        bucket: " ".into(),
        prefix: String::new(),
        region: None,
        endpoint_url: None,
        path_style: false,
        access_key_id: None,
        secret_access_key: None,
        encryption: ServerSideEncryption::None,
        timeout: faxline_api::store::DEFAULT_S3_TIMEOUT,
    };
    let err = Store::connect_with(&url, &DocumentBackend::S3(settings))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Documents(DocumentError::Config(_))),
        "{err}"
    );
}
