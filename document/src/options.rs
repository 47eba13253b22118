//! What the caller chooses about a conversion.

use crate::encode::Encoding;
use std::path::PathBuf;
use std::time::Duration;

/// Vertical resolution. Both are 204 dpi across (1728 pixels on a 215 mm fax line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Resolution {
    /// 204 × 196 dpi.
    #[default]
    Fine,
    /// 204 × 98 dpi.
    Standard,
}

impl Resolution {
    /// Horizontal dots per inch.
    pub fn x_dpi(self) -> u32 {
        204
    }

    /// Vertical dots per inch.
    pub fn y_dpi(self) -> u32 {
        match self {
            Resolution::Fine => 196,
            Resolution::Standard => 98,
        }
    }
}

/// The paper each page is fitted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Paper {
    /// US Letter, 8.5 × 11 in.
    #[default]
    Letter,
    /// ISO A4, 210 × 297 mm.
    A4,
}

impl Paper {
    /// Width and height in PDF points (1/72 in).
    pub fn size_pt(self) -> (f64, f64) {
        match self {
            Paper::Letter => (612.0, 792.0),
            Paper::A4 => (595.276, 841.89),
        }
    }

    /// Page height in fax rows at a resolution.
    pub fn rows(self, res: Resolution) -> u32 {
        (self.size_pt().1 / 72.0 * f64::from(res.y_dpi())).round() as u32
    }
}

/// Fax page width in pixels (T.4, ISO A4 line at 8 pels/mm; the same for Letter).
pub const FAX_WIDTH: u32 = 1728;

/// Which rasterizer turns PDF pages into pixels.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Backend {
    /// hayro, in-process, pure Rust. The default.
    #[default]
    Hayro,
    /// The Ghostscript command, for PDFs hayro renders badly. Runs with `-dSAFER` and a time limit.
    Ghostscript(GhostscriptConfig),
}

/// How to run Ghostscript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GhostscriptConfig {
    /// The `gs` executable.
    pub program: PathBuf,
    /// Wall-clock limit for the whole document; the process is killed after it.
    pub timeout: Duration,
}

impl Default for GhostscriptConfig {
    fn default() -> Self {
        Self {
            program: PathBuf::from("gs"),
            timeout: Duration::from_secs(60),
        }
    }
}

/// Options for [`crate::render`].
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// Fine (default) or standard.
    pub resolution: Resolution,
    /// Letter (default) or A4.
    pub paper: Paper,
    /// MMR/G4 (default), MR or MH.
    pub encoding: Encoding,
    /// Refuse documents with more pages (default 100).
    pub max_pages: usize,
    /// Refuse inputs larger than this many bytes (default 50 MiB).
    pub max_bytes: usize,
    /// Give up on a page that takes longer than this to render (default 20 s).
    pub page_timeout: Duration,
    /// The PDF rasterizer.
    pub backend: Backend,
    /// Worker threads for PDF pages; `None` uses one per core.
    pub threads: Option<usize>,
    /// The memory budget of one render in bytes (default 512 MiB): PDF images and streams that
    /// would decode past a share of it are refused before rendering (see [`crate::PdfLimits`]);
    /// the render worker also runs under it as an address-space limit.
    pub memory_limit: u64,
}

impl Default for RenderOptions {
    fn default() -> Self {
        Self {
            resolution: Resolution::Fine,
            paper: Paper::Letter,
            encoding: Encoding::Mmr,
            max_pages: 100,
            max_bytes: 50 * 1024 * 1024,
            page_timeout: Duration::from_secs(20),
            backend: Backend::Hayro,
            threads: None,
            memory_limit: 512 * 1024 * 1024,
        }
    }
}
