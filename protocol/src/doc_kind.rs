//! What a job's document is, as the API stores it and an agent receives it.

use serde::{Deserialize, Serialize};

/// A job's document: a PDF or UTF-8 text (the two kinds Faxbot accepts). On the wire and in the
/// database: `pdf`, `txt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DocKind {
    #[serde(rename = "pdf")]
    Pdf,
    #[serde(rename = "txt")]
    Text,
}

impl DocKind {
    pub const fn as_str(self) -> &'static str {
        match self {
            DocKind::Pdf => "pdf",
            DocKind::Text => "txt",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pdf" => Some(DocKind::Pdf),
            "txt" => Some(DocKind::Text),
            _ => None,
        }
    }

    /// The `Content-Type` the API serves it with.
    pub const fn content_type(self) -> &'static str {
        match self {
            DocKind::Pdf => "application/pdf",
            DocKind::Text => "text/plain; charset=utf-8",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in [DocKind::Pdf, DocKind::Text] {
            assert_eq!(DocKind::parse(k.as_str()), Some(k));
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.as_str()));
        }
        assert_eq!(DocKind::parse("PDF"), None);
        assert_eq!(DocKind::parse("tiff"), None);
    }
}
