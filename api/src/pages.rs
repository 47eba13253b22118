//! Page counts and PNG previews of documents, through faxline-doc (the same rasterizer and text
//! layout the agents fax with, so a preview shows what will be sent). Counting a PDF's pages only
//! parses its cross-reference table and page tree (`faxline_doc::pdf_page_count`); text has to be
//! laid out. Previews rasterize a whole page, so callers run them on the blocking pool and limit how
//! many run at once.

use std::sync::Arc;

use bytes::Bytes;
use faxline_doc::{DocError, Paper, PreviewSize, RenderOptions, Resolution};

use crate::document::DocKind;

/// The most pages a document may have (faxline-doc's default render limit, so anything accepted
/// here can be rendered by an agent).
pub const MAX_PAGES: usize = 100;

/// Narrowest thumbnail a client may ask for.
pub const MIN_PREVIEW_WIDTH: u32 = 16;

#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    #[error(transparent)]
    Doc(#[from] DocError),
    #[error("page {page} does not exist (the document has {pages})")]
    NoSuchPage { page: usize, pages: usize },
}

/// Counts the pages of a document as faxline-doc will render it; a PDF that cannot be opened,
/// an empty one or one over [`MAX_PAGES`] is an error.
pub fn count_pages(kind: DocKind, content: &Bytes) -> Result<usize, DocError> {
    let pages = match kind {
        DocKind::Pdf => pdf_page_count(content)?,
        DocKind::Text => text_pages(content)?.len(),
    };
    if pages == 0 {
        return Err(DocError::NoPages);
    }
    if pages > MAX_PAGES {
        return Err(DocError::TooManyPages {
            pages,
            limit: MAX_PAGES,
        });
    }
    Ok(pages)
}

fn pdf_page_count(content: &Bytes) -> Result<usize, DocError> {
    faxline_doc::pdf_page_count(Arc::new(content.clone()))
}

fn text_pages(content: &[u8]) -> Result<Vec<faxline_doc::Bitmap>, DocError> {
    let text = std::str::from_utf8(content).map_err(|_| DocError::UnsupportedType)?;
    let o = RenderOptions::default();
    faxline_doc::render_text(text, o.paper, o.resolution, MAX_PAGES)
}

/// A PNG of page `page` (1-based) at fax fine resolution on Letter paper: 1728 pixels wide, or
/// scaled to `width` (a thumbnail). Blocking; run it on the blocking pool.
pub fn preview_png(
    kind: DocKind,
    content: &Bytes,
    page: usize,
    width: Option<u32>,
) -> Result<Vec<u8>, PreviewError> {
    let opts = RenderOptions {
        paper: Paper::Letter,
        resolution: Resolution::Fine,
        ..RenderOptions::default()
    };
    let bitmap = match kind {
        DocKind::Pdf => {
            let pages = pdf_page_count(content)?;
            if page == 0 || page > pages {
                return Err(PreviewError::NoSuchPage { page, pages });
            }
            faxline_doc::render_pdf_pages(content, &[page - 1], &opts)?
                .pop()
                .ok_or(DocError::RenderFailed { page })?
        }
        DocKind::Text => {
            let mut all = text_pages(content)?;
            let pages = all.len();
            if page == 0 || page > pages {
                return Err(PreviewError::NoSuchPage { page, pages });
            }
            all.swap_remove(page - 1)
        }
    };
    let size = match width {
        Some(w) => PreviewSize::Thumbnail {
            width: w.clamp(MIN_PREVIEW_WIDTH, faxline_doc::FAX_WIDTH),
        },
        None => PreviewSize::Full,
    };
    let dpi = (
        f64::from(opts.resolution.x_dpi()),
        f64::from(opts.resolution.y_dpi()),
    );
    Ok(faxline_doc::preview_png(&bitmap, dpi, size)?)
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
        assert_eq!(count_pages(DocKind::Pdf, &fixture("dummy.pdf")).unwrap(), 1);
        assert_eq!(
            count_pages(DocKind::Text, &Bytes::from_static(b"hello\n")).unwrap(),
            1
        );
        let long: String = (0..200).map(|i| format!("line {i}\n")).collect();
        assert!(count_pages(DocKind::Text, &Bytes::from(long)).unwrap() >= 2);
    }

    #[test]
    fn bad_pdfs_are_typed_errors() {
        assert!(matches!(
            count_pages(DocKind::Pdf, &Bytes::from_static(b"%PDF-1.4\ngarbage")),
            Err(DocError::CorruptPdf)
        ));
        assert!(matches!(
            count_pages(DocKind::Pdf, &fixture("aes256-userpw.pdf")),
            Err(DocError::PasswordProtected)
        ));
    }
}
