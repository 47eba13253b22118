//! Deciding a document's type from its content, never from its name.

/// What a byte string is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
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
pub fn sniff(bytes: &[u8]) -> DocKind {
    let head = &bytes[..bytes.len().min(1024)];
    if head.windows(5).any(|w| w == b"%PDF-") {
        return DocKind::Pdf;
    }
    if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        return DocKind::Tiff;
    }
    if !bytes.is_empty() && !bytes.contains(&0) && std::str::from_utf8(bytes).is_ok() {
        return DocKind::Text;
    }
    DocKind::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_by_content() {
        assert_eq!(sniff(b"%PDF-1.7\n..."), DocKind::Pdf);
        assert_eq!(sniff(b"\xef\xbb\xbfhello\n"), DocKind::Text);
        assert_eq!(sniff("naïve café\n".as_bytes()), DocKind::Text);
        assert_eq!(sniff(b"II*\0\x08\0\0\0"), DocKind::Tiff);
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n"), DocKind::Unknown);
        assert_eq!(sniff(b"text\0with nul"), DocKind::Unknown);
        assert_eq!(sniff(b"\xff\xfe latin-1 \xe9"), DocKind::Unknown);
        assert_eq!(sniff(b""), DocKind::Unknown);
    }
}
