//! `faxline storage migrate [--config FILE]`: moves the documents and received faxes still stored
//! in the database to the configured backend (`[api] storage_backend = "local"` or `"s3"`). Safe to
//! run while the API serves (documents not yet moved are read from the database) and to interrupt:
//! each document is written to the backend before its blob is deleted, and the next run continues.
//!
//! `faxline storage rewrap [--config FILE]`: after a new `storage_encryption_key_file` (the old
//! key listed in `storage_previous_key_files`), re-wraps every document's data key under the new
//! key without re-encrypting content; resumable (documents under the new key are skipped). When it
//! reports none failed, the previous key files can be removed from the configuration.

use anyhow::Context;

#[derive(Debug, clap::Args)]
pub struct StorageArgs {
    #[command(subcommand)]
    pub command: StorageCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum StorageCommand {
    /// Move every document still in the database to the configured backend (resumable).
    Migrate(super::api::ApiArgs),
    /// Re-wrap every document's data key under the current encryption key (resumable).
    Rewrap(super::api::ApiArgs),
}

pub async fn run(args: StorageArgs) -> anyhow::Result<()> {
    match args.command {
        StorageCommand::Migrate(a) => migrate(a).await,
        StorageCommand::Rewrap(a) => rewrap(a).await,
    }
}

async fn rewrap(api_args: super::api::ApiArgs) -> anyhow::Result<()> {
    let cfg = super::api::load_config(&api_args)?;
    let key = cfg.document_key()?.ok_or_else(|| {
        anyhow::anyhow!(
            "storage_encryption_key_file is not set: set it to the new key and list the old key in storage_previous_key_files"
        )
    })?;
    let store = faxline_api::store::Store::connect_encrypted(
        &cfg.effective_database_url(),
        &cfg.document_backend()?,
        Some(key),
    )
    .await
    .context("opening the database and the document backend")?;
    let started = std::time::Instant::now();
    let done = store
        .rewrap_documents(|r| {
            let seen = r.rewrapped + r.current + r.not_encrypted + r.missing + r.failed;
            if seen % 1000 == 0 {
                eprintln!(
                    "faxline: {seen} documents looked at, {} re-wrapped",
                    r.rewrapped
                );
            }
        })
        .await
        .context("re-wrapping the documents")?;
    store.close().await;
    println!(
        "{} documents re-wrapped under the current key, {} already under it, {} not encrypted, {} missing, {} failed ({:.1} s)",
        done.rewrapped,
        done.current,
        done.not_encrypted,
        done.missing,
        done.failed,
        started.elapsed().as_secs_f64()
    );
    if done.failed > 0 {
        anyhow::bail!(
            "{} documents could not be re-wrapped (sealed under a key that is not configured, or damaged), e.g. {}; keep the previous keys",
            done.failed,
            done.failed_ids.join(", ")
        );
    }
    Ok(())
}

async fn migrate(api_args: super::api::ApiArgs) -> anyhow::Result<()> {
    let cfg = super::api::load_config(&api_args)?;
    let store = faxline_api::store::Store::connect_encrypted(
        &cfg.effective_database_url(),
        &cfg.document_backend()?,
        cfg.document_key()?,
    )
    .await
    .context("opening the database and the document backend")?;
    let started = std::time::Instant::now();
    let done = store
        .migrate_documents(|m| {
            if m.documents % 100 == 0 {
                eprintln!(
                    "faxline: {} documents moved ({} bytes)",
                    m.documents, m.bytes
                );
            }
        })
        .await
        .context("moving the documents")?;
    store.close().await;
    println!(
        "{} documents ({} bytes) moved from the database to the {} backend in {:.1} s",
        done.documents,
        done.bytes,
        cfg.storage_backend,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
