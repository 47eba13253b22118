//! The job's document in the spool: where it lives in each form (`out/<job>.tif` rendered, `out/<job>.orig` as
//! uploaded), each attempt's link named by its token (what Asterisk reads), the render under the render budget,
//! and the cleanup of all of it.

use std::path::{Path, PathBuf};

use super::line::DocumentForm;
use super::spool::{remove_durably, write_durably};
use crate::config::Config;

/// The spool file's extension for a document form: `.tif` (what Asterisk reads) or `.orig`.
fn extension(form: DocumentForm) -> &'static str {
    match form {
        DocumentForm::FaxTiff => "tif",
        DocumentForm::Original => "orig",
    }
}

/// The job's document in the spool, in the line's form.
pub(super) fn job_file(cfg: &Config, job_id: &str, form: DocumentForm) -> PathBuf {
    cfg.spool
        .outgoing_dir()
        .join(format!("{job_id}.{}", extension(form)))
}

/// One attempt's link to the job's document (named by its token, which the line may need).
pub(super) fn token_file(cfg: &Config, token: &str, form: DocumentForm) -> PathBuf {
    cfg.spool
        .outgoing_dir()
        .join(format!("{token}.{}", extension(form)))
}

/// Renders at once in this process: one per core. A burst of leased jobs (hundreds after a queue built up)
/// would otherwise start as many render workers, each with its own memory budget, competing for the same
/// cores as the calls already running; queued here they finish in the same total time, one core each.
static RENDER_SLOTS: std::sync::LazyLock<tokio::sync::Semaphore> = std::sync::LazyLock::new(|| {
    tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(1, |n| n.get()))
});

/// The document as TIFF-F with its page count: a fax TIFF as it is, anything else rendered under the render
/// budget (in the render worker when the binary set one up).
pub(super) async fn render(cfg: &Config, bytes: Vec<u8>) -> Result<(Vec<u8>, u32), String> {
    let Ok(_slot) = RENDER_SLOTS.acquire().await else {
        return Err("rendering stopped".into());
    };
    let limits = cfg.limits.clone();
    let rendered = tokio::task::spawn_blocking(move || {
        if faxline_document::sniff(&bytes) == faxline_document::ContentKind::Tiff {
            let pages = faxline_document::decode_tiff(&bytes).map(|p| p.len())?;
            Ok((bytes, pages))
        } else {
            let job = faxline_document::worker::Job::Render;
            match limits
                .render_isolation
                .run(job, &bytes, &limits.render_options())?
            {
                faxline_document::worker::Output::Tiff { tiff, pages } => Ok((tiff, pages)),
                _ => Err(faxline_document::DocError::Worker(
                    "unexpected answer".into(),
                )),
            }
        }
    })
    .await;
    match rendered {
        Ok(Ok((tiff, pages))) => Ok((tiff, u32::try_from(pages).unwrap_or(u32::MAX))),
        Ok(Err(e)) => Err(format!("the document cannot be rendered: {e}")),
        Err(e) => Err(format!("rendering stopped: {e}")),
    }
}

/// Gives an attempt its own name for the job's document: a hard link, or a durable copy where links fail.
pub(super) fn link_or_copy(src: &Path, dst: &Path) -> std::io::Result<()> {
    if dst.exists() {
        return Ok(());
    }
    if std::fs::hard_link(src, dst).is_ok() {
        return Ok(());
    }
    let bytes = std::fs::read(src)?;
    write_durably(dst, &bytes)
}

/// Removes a job's spool files: the document in either form and every attempt's link (`<job>_<n>.tif`), which
/// a crash during a call leaves behind.
pub(super) fn remove_job_files(cfg: &Config, job_id: &str) {
    let dir = cfg.spool.outgoing_dir();
    for form in [DocumentForm::FaxTiff, DocumentForm::Original] {
        let _ = remove_durably(&job_file(cfg, job_id, form));
    }
    let Ok(rd) = std::fs::read_dir(&dir) else {
        return;
    };
    let prefix = format!("{job_id}_");
    for e in rd.filter_map(Result::ok) {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        let is_attempt = name
            .strip_prefix(&prefix)
            .and_then(|rest| {
                rest.strip_suffix(".tif")
                    .or_else(|| rest.strip_suffix(".orig"))
            })
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if is_attempt {
            let _ = remove_durably(&e.path());
        }
    }
}
