//! `faxline storage migrate`, the real binary: documents stored in the database by an earlier
//! version move to the local backend named in the configuration file, with nothing left behind in
//! the database, and a second run has nothing to do. `faxline storage rewrap`, the real binary: a key
//! rotation re-wraps what the old key sealed.

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
                requested_backend: None,
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

fn storage(command: &str, config: &std::path::Path) -> (bool, String) {
    let out = Command::new(binary())
        .args(["storage", command, "--config"])
        .arg(config)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// `faxline storage rewrap`: documents sealed under the old key are re-wrapped under the new one
/// named in the configuration; the new key alone then opens them; a second run only skips; a run
/// without the old key configured names what it cannot re-wrap and fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rewrap_moves_documents_to_the_new_key() {
    use faxline_api::store::{Keyring, MasterKey};
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let docs = data.join("documents");
    let url = format!("sqlite://{}", data.join("faxline.db").display());
    let (old_hex, new_hex) = ("5d".repeat(32), "a7".repeat(32));
    let key_file = |name: &str, hex: &str| {
        let p = tmp.path().join(name);
        std::fs::write(&p, hex).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        p
    };
    let (old_file, new_file) = (key_file("old.key", &old_hex), key_file("new.key", &new_hex));
    let old = MasterKey::parse(&old_hex).unwrap();
    std::fs::create_dir_all(&data).unwrap();
    let backend = DocumentBackend::Local(docs.clone());
    let store = Store::connect_encrypted(&url, &backend, Some(Keyring::from(old.clone())))
        .await
        .unwrap();
    let mut ids = Vec::new();
    for (n, content) in [&b"first document"[..], b"second"].into_iter().enumerate() {
        let id = uuid_like(100 + n);
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
                requested_backend: None,
                owner_key_id: None,
                idempotency_key: None,
                created_at: 1,
                content: content.to_vec().into(),
            })
            .await
            .unwrap();
        ids.push((id, content));
    }
    store.close().await;

    let base = format!(
        "[api]\ndata_dir = \"{}\"\nagent_secret = \"d83b1f6e09a4c27e5b10f9d6a3c84e27b5f01a9c\"\n\
         storage_backend = \"local\"\nstorage_dir = \"{}\"\nstorage_encryption_key_file = \"{}\"\n",
        data.display(),
        docs.display(),
        new_file.display()
    );
    // Without the old key the documents cannot be re-wrapped: named, and a failure.
    let config = tmp.path().join("faxline.toml");
    std::fs::write(&config, &base).unwrap();
    let (ok, out) = storage("rewrap", &config);
    assert!(!ok, "{out}");
    assert!(out.contains("2 failed") && out.contains(&ids[0].0), "{out}");

    std::fs::write(
        &config,
        format!(
            "{base}storage_previous_key_files = [\"{}\"]\n",
            old_file.display()
        ),
    )
    .unwrap();
    let (ok, out) = storage("rewrap", &config);
    assert!(ok, "{out}");
    assert!(
        out.contains("2 documents re-wrapped under the current key, 0 already under it"),
        "{out}"
    );
    let (ok, out) = storage("rewrap", &config);
    assert!(ok, "{out}");
    assert!(
        out.contains("0 documents re-wrapped under the current key, 2 already under it"),
        "{out}"
    );
    let store = Store::connect_encrypted(
        &url,
        &backend,
        Some(Keyring::from(MasterKey::parse(&new_hex).unwrap())),
    )
    .await
    .unwrap();
    for (id, content) in ids {
        assert_eq!(
            store
                .documents()
                .get(&DocumentId::Job(id))
                .await
                .unwrap()
                .as_deref(),
            Some(content)
        );
    }
    store.close().await;
}
