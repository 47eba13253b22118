//! The typed errors of document conversion. Every bad input ends here, never in a panic.

use std::time::Duration;

/// Why a document could not be converted.
#[derive(Debug, thiserror::Error)]
pub enum DocError {
    /// The input is neither a PDF nor UTF-8 text (the type is decided by content, not by name).
    #[error("unsupported document type: only PDF and UTF-8 text can be faxed")]
    UnsupportedType,
    /// The input is larger than [`crate::RenderOptions::max_bytes`].
    #[error("document is {size} bytes, over the limit of {limit} bytes")]
    TooLarge {
        /// Size of the input.
        size: usize,
        /// The configured limit.
        limit: usize,
    },
    /// The PDF needs a password we do not have.
    #[error("the PDF is password-protected; remove the password and send it again")]
    PasswordProtected,
    /// The PDF is encrypted in a way that cannot be opened.
    #[error("the PDF's encryption is invalid or unsupported")]
    BadEncryption,
    /// The PDF could not be parsed.
    #[error("the PDF is damaged and cannot be read")]
    CorruptPdf,
    /// The document has no pages.
    #[error("the document has no pages")]
    NoPages,
    /// More pages than [`crate::RenderOptions::max_pages`].
    #[error("the document has {pages} pages, over the limit of {limit}")]
    TooManyPages {
        /// Pages in the document.
        pages: usize,
        /// The configured limit.
        limit: usize,
    },
    /// A text document needs more than [`crate::RenderOptions::max_pages`] pages (layout stops
    /// there, so the exact count is not known).
    #[error("the text needs more than {limit} pages")]
    TextTooLong {
        /// The configured limit.
        limit: usize,
    },
    /// Rendering the document would need more memory or time than the render budget allows
    /// (found before rendering by the PDF pre-scan, or when the render worker hit its limits).
    #[error("the document is over the render budget: {0}")]
    OverBudget(String),
    /// A preview asked for a page the document does not have.
    #[error("page {page} does not exist (the document has {pages})")]
    NoSuchPage {
        /// The 1-based page asked for.
        page: usize,
        /// Pages in the document.
        pages: usize,
    },
    /// The render worker process failed in a way that says nothing about the document (it could
    /// not be started, or answered garbage); the message says what happened.
    #[error("render worker: {0}")]
    Worker(String),
    /// One page took longer than [`crate::RenderOptions::page_timeout`] to render.
    #[error("page {page} took longer than {limit:?} to render")]
    PageTimeout {
        /// 1-based page number.
        page: usize,
        /// The configured limit.
        limit: Duration,
    },
    /// The renderer failed on a page (it panicked or produced no image).
    #[error("page {page} could not be rendered")]
    RenderFailed {
        /// 1-based page number.
        page: usize,
    },
    /// The Ghostscript backend failed.
    #[error("ghostscript failed: {0}")]
    Ghostscript(String),
    /// The Ghostscript backend ran over its time limit and was killed.
    #[error("ghostscript took longer than {0:?} and was stopped")]
    GhostscriptTimeout(Duration),
    /// A TIFF could not be read, or is not a bilevel fax TIFF we can pass through.
    #[error("invalid fax TIFF: {0}")]
    BadTiff(String),
    /// Writing a TIFF or PDF failed.
    #[error("could not write {what}: {detail}")]
    Write {
        /// What was being written.
        what: &'static str,
        /// The underlying error.
        detail: String,
    },
    /// Reading or writing a file failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}
