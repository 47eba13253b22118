//! Upload type detection, by content through `faxline_doc::sniff` (the agents render with the same
//! rules). Faxbot sniffs only the first 64 KiB (`%PDF` prefix, else "decodes as UTF-8") and accepts
//! empty files; Faxline looks for `%PDF-` within the first 1024 bytes (as PDF readers tolerate
//! leading junk), requires the *whole* file to be UTF-8 without NUL bytes for text, and refuses
//! empty uploads with 400 because an empty fax is always a client mistake.

pub use faxline_protocol::DocKind;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SniffError {
    #[error("Empty file")]
    Empty,
    #[error("Only PDF and TXT are allowed")]
    Unsupported,
}

pub fn sniff(data: &[u8]) -> Result<DocKind, SniffError> {
    if data.is_empty() {
        return Err(SniffError::Empty);
    }
    match faxline_doc::sniff(data) {
        faxline_doc::DocKind::Pdf => Ok(DocKind::Pdf),
        faxline_doc::DocKind::Text => Ok(DocKind::Text),
        faxline_doc::DocKind::Tiff | faxline_doc::DocKind::Unknown => Err(SniffError::Unsupported),
    }
}

/// True when `data` looks like a PDF (used for inbound uploads, which must be PDFs).
pub fn is_pdf(data: &[u8]) -> bool {
    matches!(sniff(data), Ok(DocKind::Pdf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing() {
        assert_eq!(sniff(b""), Err(SniffError::Empty));
        assert_eq!(sniff(b"%PDF-1.4\n..."), Ok(DocKind::Pdf));
        assert_eq!(sniff(b"\xef\xbb\xbfjunk %PDF-1.7"), Ok(DocKind::Pdf));
        assert_eq!(sniff("Grüße\n".as_bytes()), Ok(DocKind::Text));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n"), Err(SniffError::Unsupported));
        assert_eq!(sniff(b"II*\0\x08\0\0\0"), Err(SniffError::Unsupported));
        assert_eq!(sniff(b"text\0with nul"), Err(SniffError::Unsupported));
        // Text for 100 KiB, then a binary byte: Faxbot would accept this, Faxline does not.
        let mut late_binary = vec![b'a'; 100 * 1024];
        late_binary.push(0xff);
        assert_eq!(sniff(&late_binary), Err(SniffError::Unsupported));
        // `%PDF-` beyond the first KiB does not make a PDF.
        let mut far = vec![b' '; 2000];
        far.extend_from_slice(b"%PDF-1.4");
        assert_eq!(sniff(&far), Ok(DocKind::Text));
    }
}
