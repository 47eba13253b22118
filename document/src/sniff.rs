//! Deciding a document's type from its content, never from its name.

/// What a byte string is, judged from its content (a job's declared kind is `faxline_protocol::DocKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentKind {
    /// A PDF (`%PDF-` within the first KiB, where readers look for it).
    Pdf,
    /// UTF-8 text without NUL bytes.
    Text,
    /// A TIFF (a received fax, for example); not accepted for rendering.
    Tiff,
    /// Anything else.
    Unknown,
}

/// Classify bytes by content.
pub fn sniff(bytes: &[u8]) -> ContentKind {
    let head = &bytes[..bytes.len().min(1024)];
    if head.windows(5).any(|w| w == b"%PDF-") {
        return ContentKind::Pdf;
    }
    if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        return ContentKind::Tiff;
    }
    if !bytes.is_empty() && !bytes.contains(&0) && std::str::from_utf8(bytes).is_ok() {
        return ContentKind::Text;
    }
    ContentKind::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_by_content() {
        assert_eq!(sniff(b"%PDF-1.7\n..."), ContentKind::Pdf);
        assert_eq!(sniff(b"\xef\xbb\xbfhello\n"), ContentKind::Text);
        assert_eq!(sniff("naïve café\n".as_bytes()), ContentKind::Text);
        assert_eq!(sniff(b"II*\0\x08\0\0\0"), ContentKind::Tiff);
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n"), ContentKind::Unknown);
        assert_eq!(sniff(b"text\0with nul"), ContentKind::Unknown);
        assert_eq!(sniff(b"\xff\xfe latin-1 \xe9"), ContentKind::Unknown);
        assert_eq!(sniff(b""), ContentKind::Unknown);
    }
}
