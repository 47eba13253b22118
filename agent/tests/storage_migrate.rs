//! `faxline storage migrate`, the real binary: documents stored in the database by an earlier
//! version move to the local backend named in the configuration file, with nothing left behind in
//! the database, and a second run has nothing to do.

use std::process::Command;

use faxline_api::store::{DocumentBackend, DocumentId, DocumentStore, NewJob, Store};

fn binary() -> std::path::PathBuf {
    std::env::var_os("FAXLINE_TEST_BIN")
        .map(Into::into)
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_faxline").into())
}

fn migrate(config: &std::path::Path) -> String {
    let out = Command::new(binary())
        .args(["storage", "migrate", "--config"])
        .arg(config)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_moves_database_documents_to_local_files() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let url = format!("sqlite://{}", data.join("faxline.db").display());
    let store = Store::connect(&url).await.unwrap();
    let mut ids = Vec::new();
    for content in [&b"first document"[..], b"second"] {
        let id = uuid_like(ids.len());
        store
            .jobs()
            .insert(NewJob {
                id: id.clone(),
                to_number: "+15551234567".into(),
                file_name: "d.txt".into(),
                doc_kind: "txt".into(),
                doc_sha256: String::new(),
                pages: Some(1),
                backend: "sip".into(),
                owner_key_id: None,
                idempotency_key: None,
                created_at: 1,
                content: content.to_vec().into(),
            })
            .await
            .unwrap();
        ids.push(id);
    }
    store.close().await;

    let docs = data.join("documents");
    let config = tmp.path().join("faxline.toml");
    std::fs::write(
        &config,
        format!(
            "[api]\ndata_dir = \"{}\"\nagent_secret = \"d83b1f6e09a4c27e5b10f9d6a3c84e27b5f01a9c\"\n\
             storage_backend = \"local\"\nstorage_dir = \"{}\"\n",
            data.display(),
            docs.display()
        ),
    )
    .unwrap();
    let out = migrate(&config);
    assert!(out.contains("2 documents (20 bytes) moved"), "{out}");
    assert_eq!(
        std::fs::read(docs.join("jobs").join(&ids[0])).unwrap(),
        b"first document"
    );
    // The database keeps no copy; the store reads the file.
    let blob = Store::connect(&url).await.unwrap();
    assert_eq!(
        blob.documents()
            .get(&DocumentId::Job(ids[0].clone()))
            .await
            .unwrap(),
        None
    );
    blob.close().await;
    let local = Store::connect_with(&url, &DocumentBackend::Local(docs.clone()))
        .await
        .unwrap();
    assert_eq!(
        local
            .documents()
            .get(&DocumentId::Job(ids[1].clone()))
            .await
            .unwrap()
            .as_deref(),
        Some(&b"second"[..])
    );
    local.close().await;
    assert!(migrate(&config).contains("0 documents (0 bytes) moved"));
}

fn uuid_like(n: usize) -> String {
    format!("{n:032x}")
}
