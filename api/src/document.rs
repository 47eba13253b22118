//! Upload type detection, by content through `faxline_document::sniff` (the agents render with the same
//! rules). Faxbot sniffs only the first 64 KiB (`%PDF` prefix, else "decodes as UTF-8") and accepts
//! empty files; Faxline looks for `%PDF-` within the first 1024 bytes (as PDF readers tolerate
//! leading junk), requires the *whole* file to be UTF-8 without NUL bytes for text, and refuses
//! empty uploads with 400 because an empty fax is always a client mistake.

pub use faxline_protocol::DocKind;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
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
    match faxline_document::sniff(data) {
        faxline_document::ContentKind::Pdf => Ok(DocKind::Pdf),
        faxline_document::ContentKind::Text => Ok(DocKind::Text),
        faxline_document::ContentKind::Tiff | faxline_document::ContentKind::Unknown => {
            Err(SniffError::Unsupported)
        }
    }
}

/// [`sniff`] of a document that arrives in pieces, without holding it: the first KiB is kept (where
/// `%PDF-` and the TIFF magic are looked for), the rest is checked as UTF-8 without NUL bytes as it
/// passes. [`Sniffer::finish`] answers what [`sniff`] answers for the whole.
#[derive(Debug, Default)]
pub struct Sniffer {
    head: Vec<u8>,
    len: u64,
    /// Not text: a NUL byte or invalid UTF-8 was seen.
    not_text: bool,
    /// The start of a UTF-8 sequence cut at the end of the last piece.
    carry: Vec<u8>,
}

/// What [`Sniffer`] keeps of the start.
const SNIFF_HEAD: usize = 1024;

impl Sniffer {
    /// The next piece.
    pub fn push(&mut self, mut piece: &[u8]) {
        self.len += piece.len() as u64;
        if self.head.len() < SNIFF_HEAD {
            let take = (SNIFF_HEAD - self.head.len()).min(piece.len());
            self.head.extend_from_slice(&piece[..take]);
        }
        if self.not_text {
            return;
        }
        if piece.contains(&0) {
            self.not_text = true;
            return;
        }
        // Complete a sequence cut at the end of the previous piece.
        while !self.carry.is_empty() {
            let Some((&b, rest)) = piece.split_first() else {
                return;
            };
            self.carry.push(b);
            piece = rest;
            match std::str::from_utf8(&self.carry) {
                Ok(_) => self.carry.clear(),
                Err(e) if e.error_len().is_none() && self.carry.len() < 4 => {}
                Err(_) => {
                    self.not_text = true;
                    return;
                }
            }
        }
        if let Err(e) = std::str::from_utf8(piece) {
            match e.error_len() {
                Some(_) => self.not_text = true,
                None => self.carry = piece[e.valid_up_to()..].to_vec(),
            }
        }
    }

    /// The type of everything pushed.
    pub fn finish(self) -> Result<DocKind, SniffError> {
        if self.len == 0 {
            return Err(SniffError::Empty);
        }
        if faxline_document::sniff(&self.head) == faxline_document::ContentKind::Pdf {
            return Ok(DocKind::Pdf);
        }
        if self.head.starts_with(b"II*\0") || self.head.starts_with(b"MM\0*") {
            return Err(SniffError::Unsupported);
        }
        if self.not_text || !self.carry.is_empty() {
            return Err(SniffError::Unsupported);
        }
        Ok(DocKind::Text)
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

    /// The incremental sniffer agrees with [`sniff`] on the whole, however the document is cut.
    #[test]
    fn sniffing_in_pieces() {
        let mut late_binary = vec![b'a'; 3000];
        late_binary.push(0xff);
        let mut far = vec![b' '; 2000];
        far.extend_from_slice(b"%PDF-1.4");
        let cases: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"%PDF-1.4\n...".to_vec(),
            b"\xef\xbb\xbfjunk %PDF-1.7".to_vec(),
            "Grüße ✓ 𝄞 end\n".as_bytes().to_vec(),
            b"\x89PNG\r\n\x1a\n".to_vec(),
            b"II*\0\x08\0\0\0".to_vec(),
            b"text\0with nul".to_vec(),
            b"cut \xe2\x9c".to_vec(),
            b"bad \xe2\x28\xa1 seq".to_vec(),
            late_binary,
            far,
        ];
        for case in &cases {
            let whole = sniff(case);
            for cut in 0..=case.len().min(40) {
                for step in [1usize, 2, 3, 7, 1024] {
                    let mut s = Sniffer::default();
                    s.push(&case[..cut]);
                    for piece in case[cut..].chunks(step) {
                        s.push(piece);
                    }
                    assert_eq!(s.finish(), whole, "{case:?} cut at {cut}, step {step}");
                }
            }
        }
    }
}
