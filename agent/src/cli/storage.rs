//! `faxline storage migrate [--config FILE]`: moves the documents and received faxes still stored
//! in the database to the configured backend (`[api] storage_backend = "local"` or `"s3"`). Safe to
//! run while the API serves (documents not yet moved are read from the database) and to interrupt:
//! each document is written to the backend before its blob is deleted, and the next run continues.

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
}

pub async fn run(args: StorageArgs) -> anyhow::Result<()> {
    let StorageCommand::Migrate(api_args) = args.command;
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
