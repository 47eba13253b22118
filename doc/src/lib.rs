//! Fax documents: rendering PDF and text to TIFF-F, decoding received TIFF-F to PDF, previews.
#![forbid(unsafe_code)]
