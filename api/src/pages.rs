//! Page counts and PNG previews of documents, through faxline-document (the same rasterizer and text
//! layout the agents fax with, so a preview shows what will be sent). Both run under the render
//! budget ([`RenderBudget`]): in the `faxline` binary's render worker, with the PDF pre-scan.
//! Counting a PDF's pages parses its page tree and measures its streams; text is laid out, not
//! drawn. Previews rasterize a page, so callers run them on the blocking pool, limit how many run
//! at once and keep the answers in a [`PreviewCache`].

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use faxline_document::worker::{Isolation, Job, Output};
use faxline_document::{DocError, Paper, RenderOptions, Resolution};

use crate::config::ConfigError;
use crate::document::DocKind;

/// The most pages a document may have (faxline-document's default render limit, so anything accepted
/// here can be rendered by an agent).
pub const MAX_PAGES: usize = 100;

/// Narrowest thumbnail a client may ask for.
pub const MIN_PREVIEW_WIDTH: u32 = 16;

/// The memory and time one render of an untrusted document may use, and where it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderBudget {
    /// Memory per render, MB (default 512).
    pub memory_mb: u64,
    /// Time per page, seconds (default 20).
    pub seconds_per_page: u64,
    /// In-process (pre-scan limits only) or in the `faxline` binary's render worker.
    pub isolation: Isolation,
}

impl Default for RenderBudget {
    fn default() -> Self {
        Self {
            memory_mb: 512,
            seconds_per_page: 20,
            isolation: Isolation::InProcess,
        }
    }
}

impl RenderBudget {
    /// Fax fine resolution on Letter paper (what agents send), under this budget.
    pub fn options(&self) -> RenderOptions {
        RenderOptions {
            paper: Paper::Letter,
            resolution: Resolution::Fine,
            max_pages: MAX_PAGES,
            memory_limit: self.memory_mb.saturating_mul(1024 * 1024),
            page_timeout: Duration::from_secs(self.seconds_per_page),
            ..RenderOptions::default()
        }
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if !(64..=65_536).contains(&self.memory_mb) {
            return Err(ConfigError::Invalid(
                "limits.render_memory_mb must be 64..=65536".into(),
            ));
        }
        if !(1..=600).contains(&self.seconds_per_page) {
            return Err(ConfigError::Invalid(
                "limits.render_seconds_per_page must be 1..=600".into(),
            ));
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    #[error(transparent)]
    Doc(#[from] DocError),
    #[error("page {page} does not exist (the document has {pages})")]
    NoSuchPage { page: usize, pages: usize },
}

/// Counts the pages of a document as faxline-document will render it, under the budget (the PDF
/// pre-scan included; PDFs in the render worker, text here); a PDF that cannot be opened, an empty one, one over [`MAX_PAGES`] or over
/// the budget is an error. Blocking; run it on the blocking pool.
pub fn count_pages(
    budget: &RenderBudget,
    kind: DocKind,
    content: &Bytes,
) -> Result<usize, DocError> {
    let _ = kind; // the type is decided by content, exactly as the agent will decide it
    if faxline_document::sniff(content) == faxline_document::ContentKind::Text {
        // Text layout is linear and stops at the page limit: safe here, no process to start.
        return faxline_document::count_pages(content, &budget.options());
    }
    match budget
        .isolation
        .run(Job::Count, content, &budget.options())?
    {
        Output::Pages(n) => Ok(n),
        _ => Err(DocError::Worker("unexpected answer".into())),
    }
}

/// [`count_pages`] of a spooled upload, without holding it: a PDF is piped to the render worker
/// from its temporary file a piece at a time (opened segment by segment when it was sealed); text
/// is read whole, as it is laid out in the server (linear, and it stops at the page limit).
/// Blocking; run it on the blocking pool.
pub fn count_pages_spooled(
    budget: &RenderBudget,
    spooled: &crate::store::spool::Spooled,
) -> Result<usize, DocError> {
    let unreadable = |e: std::io::Error| DocError::Worker(format!("cannot read the upload: {e}"));
    if spooled.kind() == Ok(DocKind::Text) {
        let content = spooled.read_plain().map_err(unreadable)?;
        return faxline_document::count_pages(&content, &budget.options());
    }
    let len = usize::try_from(spooled.size())
        .map_err(|_| DocError::Worker("the upload is too large".into()))?;
    match budget.isolation.run_reader(
        Job::Count,
        len,
        &|| spooled.open_plain(),
        &budget.options(),
    )? {
        Output::Pages(n) => Ok(n),
        _ => Err(DocError::Worker("unexpected answer".into())),
    }
}

/// A PNG of page `page` (1-based) at fax fine resolution on Letter paper: 1728 pixels wide, or
/// scaled to `width` (a thumbnail), rendered under the budget. Blocking; run it on the blocking pool.
pub fn preview_png(
    budget: &RenderBudget,
    kind: DocKind,
    content: &Bytes,
    page: usize,
    width: Option<u32>,
) -> Result<Vec<u8>, PreviewError> {
    let _ = kind;
    let width = width.map(|w| w.clamp(MIN_PREVIEW_WIDTH, faxline_document::FAX_WIDTH));
    match budget
        .isolation
        .run(Job::Preview { page, width }, content, &budget.options())
    {
        Ok(Output::Png(png)) => Ok(png),
        Ok(_) => Err(DocError::Worker("unexpected answer".into()).into()),
        Err(DocError::NoSuchPage { page, pages }) => Err(PreviewError::NoSuchPage { page, pages }),
        Err(e) => Err(e.into()),
    }
}

/// Why the parts of a Send could not be made into one fax document.
#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    /// Part `index` (1-based, in upload order) could not be read or rendered.
    #[error("document {index} cannot be read: {source}")]
    Part {
        index: usize,
        #[source]
        source: DocError,
    },
    /// The cover page fields are too long or do not fit on a page.
    #[error(transparent)]
    Cover(#[from] faxline_document::CoverError),
    /// All parts together (and the cover) are over [`MAX_PAGES`].
    #[error("the documents have more than {limit} pages in all")]
    TooManyPages { limit: usize },
    /// Joining the rendered pages failed.
    #[error(transparent)]
    Join(DocError),
}

impl ComposeError {
    /// The render worker could not run: not the documents' fault.
    pub fn is_worker_failure(&self) -> bool {
        matches!(
            self,
            ComposeError::Part {
                source: DocError::Worker(_),
                ..
            }
        )
    }
}

/// Makes the one document a fax will send from `parts` (PDF or text, in order) and an optional
/// cover page. One part and no cover is that part unchanged (a PDF keeps its vector pages);
/// otherwise each part is rendered under the budget (in the render worker when configured) and
/// the fax pages are joined into one PDF behind the cover, so counting, previewing and the
/// agent's render of the result all see exactly those pages. Blocking; run it on the blocking pool.
pub fn compose(
    budget: &RenderBudget,
    parts: &[Bytes],
    cover: Option<&faxline_document::CoverPage>,
) -> Result<Bytes, ComposeError> {
    if let Some(c) = cover {
        c.check()?;
    }
    if let ([only], None) = (parts, cover) {
        return Ok(only.clone());
    }
    let opts = budget.options();
    let limit = MAX_PAGES;
    let mut tiffs = Vec::with_capacity(parts.len() + 1);
    let mut total = usize::from(cover.is_some());
    for (i, part) in parts.iter().enumerate() {
        let index = i + 1;
        // Each part alone is limited to what is left of the page budget, so the renders
        // together never do more than MAX_PAGES pages of work.
        let left = limit.saturating_sub(total).max(1);
        let part_opts = faxline_document::RenderOptions {
            max_pages: left,
            ..opts.clone()
        };
        match budget.isolation.run(Job::Render, part, &part_opts) {
            Ok(Output::Tiff { tiff, pages }) => {
                total += pages;
                if total > limit {
                    return Err(ComposeError::TooManyPages { limit });
                }
                tiffs.push(tiff);
            }
            Ok(_) => {
                return Err(ComposeError::Part {
                    index,
                    source: DocError::Worker("unexpected answer".into()),
                });
            }
            Err(DocError::TooManyPages { .. } | DocError::TextTooLong { .. }) => {
                return Err(ComposeError::TooManyPages { limit });
            }
            Err(source) => return Err(ComposeError::Part { index, source }),
        }
    }
    if let Some(c) = cover {
        tiffs.insert(0, faxline_document::cover_tiff(c, total, &opts)?);
    }
    faxline_document::join_to_pdf(&tiffs, &opts)
        .map(Bytes::from)
        .map_err(ComposeError::Join)
}

/// What a preview request produced, kept so that asking again costs nothing: the PNG, or the
/// status and message of the refusal (a document over the budget is not rendered twice).
pub type CachedPreview = Result<Arc<Vec<u8>>, (u16, String)>;

/// Recently served previews, keyed by document and page and width, bounded in total bytes
/// (oldest out first). Documents never change once stored, so entries never go stale.
pub struct PreviewCache {
    inner: Mutex<CacheInner>,
    max_bytes: usize,
}

#[derive(Default)]
struct CacheInner {
    map: HashMap<String, CachedPreview>,
    order: VecDeque<String>,
    bytes: usize,
}

impl PreviewCache {
    /// A cache holding up to `max_bytes` of PNGs.
    pub fn new(max_bytes: usize) -> Self {
        Self {
            inner: Mutex::new(CacheInner::default()),
            max_bytes,
        }
    }

    /// The cache key of a page of a document.
    pub fn key(doc: &str, page: usize, width: Option<u32>) -> String {
        format!("{doc}/{page}/{}", width.unwrap_or(0))
    }

    pub fn get(&self, key: &str) -> Option<CachedPreview> {
        self.inner.lock().ok()?.map.get(key).cloned()
    }

    pub fn put(&self, key: String, value: CachedPreview) {
        let size = match &value {
            Ok(png) => png.len(),
            Err((_, m)) => m.len(),
        } + key.len();
        if size > self.max_bytes {
            return;
        }
        let Ok(mut c) = self.inner.lock() else {
            return;
        };
        if c.map.contains_key(&key) {
            return;
        }
        while c.bytes + size > self.max_bytes {
            let Some(old) = c.order.pop_front() else {
                break;
            };
            if let Some(v) = c.map.remove(&old) {
                c.bytes -= match &v {
                    Ok(png) => png.len(),
                    Err((_, m)) => m.len(),
                } + old.len();
            }
        }
        c.bytes += size;
        c.order.push_back(key.clone());
        c.map.insert(key, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Bytes {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fixtures/pdf")
            .join(name);
        Bytes::from(std::fs::read(p).unwrap())
    }

    #[test]
    fn counts_pdf_and_text_pages() {
        let b = RenderBudget::default();
        assert_eq!(
            count_pages(&b, DocKind::Pdf, &fixture("dummy.pdf")).unwrap(),
            1
        );
        assert_eq!(
            count_pages(&b, DocKind::Text, &Bytes::from_static(b"hello\n")).unwrap(),
            1
        );
        let long: String = (0..200).map(|i| format!("line {i}\n")).collect();
        assert!(count_pages(&b, DocKind::Text, &Bytes::from(long)).unwrap() >= 2);
    }

    #[test]
    fn composed_parts_are_held_to_the_page_limit_in_all() {
        let b = RenderBudget::default();
        let lines = |n: usize| Bytes::from("x\n".repeat(n));
        let one = count_pages(&b, DocKind::Text, &lines(3300)).unwrap();
        assert!((51..MAX_PAGES).contains(&one), "{one}");
        let err = compose(&b, &[lines(3600), lines(3600)], None).unwrap_err();
        assert!(
            matches!(err, ComposeError::TooManyPages { limit: MAX_PAGES }),
            "{err:?}"
        );
        let joined = compose(&b, &[lines(3300), fixture("dummy.pdf")], None).unwrap();
        assert_eq!(count_pages(&b, DocKind::Pdf, &joined).unwrap(), one + 1);
        // One part and no cover is that part, unchanged.
        let pdf = fixture("dummy.pdf");
        assert_eq!(compose(&b, std::slice::from_ref(&pdf), None).unwrap(), pdf);
        let err = compose(&b, &[pdf, Bytes::from_static(b"%PDF-1.4\ngarbage")], None).unwrap_err();
        assert!(
            matches!(
                err,
                ComposeError::Part {
                    index: 2,
                    source: DocError::CorruptPdf
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn the_preview_cache_is_bounded_and_evicts_the_oldest() {
        let c = PreviewCache::new(100);
        let k = |i: usize| PreviewCache::key("job", i, None);
        c.put(k(1), Ok(Arc::new(vec![0; 40])));
        c.put(k(2), Ok(Arc::new(vec![0; 40])));
        assert!(c.get(&k(1)).is_some());
        c.put(k(3), Err((422, "over budget".into())));
        assert!(c.get(&k(1)).is_none(), "the oldest went first");
        assert!(c.get(&k(2)).is_some() && c.get(&k(3)).is_some());
        c.put(k(4), Ok(Arc::new(vec![0; 500])));
        assert!(
            c.get(&k(4)).is_none(),
            "an entry over the whole budget is not kept"
        );
    }

    #[test]
    fn bad_pdfs_are_typed_errors() {
        assert!(matches!(
            count_pages(
                &RenderBudget::default(),
                DocKind::Pdf,
                &Bytes::from_static(b"%PDF-1.4\ngarbage")
            ),
            Err(DocError::CorruptPdf)
        ));
        assert!(matches!(
            count_pages(
                &RenderBudget::default(),
                DocKind::Pdf,
                &fixture("aes256-userpw.pdf")
            ),
            Err(DocError::PasswordProtected)
        ));
    }
}
