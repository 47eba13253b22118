//! `faxline render in.pdf -o out.tif [--standard] [--paper a4] [--previews DIR]`: a PDF or text file
//! to fax TIFF-F, the way the agent renders documents before sending.

use anyhow::Context;
use faxline_document::{
    Backend, Encoding, GhostscriptConfig, Paper, PreviewSize, Progress, RenderOptions, Resolution,
};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Paper choices on the command line.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum PaperArg {
    /// US Letter.
    Letter,
    /// ISO A4.
    A4,
}

/// Compression choices on the command line.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum EncodingArg {
    /// T.6 / G4 (default).
    G4,
    /// T.4 two-dimensional.
    Mr,
    /// T.4 one-dimensional.
    Mh,
}

/// Render a PDF or text file to fax TIFF-F.
#[derive(Debug, clap::Args)]
pub struct RenderArgs {
    /// The PDF or UTF-8 text file (the type is read from the content).
    pub input: PathBuf,
    /// Where to write the TIFF-F.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Standard resolution (204×98) instead of fine (204×196).
    #[arg(long)]
    pub standard: bool,
    /// Paper the pages are fitted to.
    #[arg(long, value_enum, default_value = "letter")]
    pub paper: PaperArg,
    /// Compression of the TIFF.
    #[arg(long, value_enum, default_value = "g4")]
    pub encoding: EncodingArg,
    /// Also write PNG previews (page-N.png and page-N-thumb.png) into this directory.
    #[arg(long)]
    pub previews: Option<PathBuf>,
    /// Render PDFs with Ghostscript instead of the built-in renderer.
    #[arg(long)]
    pub ghostscript: bool,
    /// Refuse documents with more pages.
    #[arg(long, default_value_t = 100)]
    pub max_pages: usize,
    /// Per-page render time limit, in seconds.
    #[arg(long, default_value_t = 20)]
    pub page_timeout: u64,
}

/// Run `faxline render`.
pub fn run(args: RenderArgs) -> anyhow::Result<()> {
    let opts = RenderOptions {
        resolution: if args.standard {
            Resolution::Standard
        } else {
            Resolution::Fine
        },
        paper: match args.paper {
            PaperArg::Letter => Paper::Letter,
            PaperArg::A4 => Paper::A4,
        },
        encoding: match args.encoding {
            EncodingArg::G4 => Encoding::Mmr,
            EncodingArg::Mr => Encoding::Mr,
            EncodingArg::Mh => Encoding::Mh,
        },
        max_pages: args.max_pages,
        page_timeout: Duration::from_secs(args.page_timeout),
        backend: if args.ghostscript {
            Backend::Ghostscript(GhostscriptConfig::default())
        } else {
            Backend::Hayro
        },
        ..RenderOptions::default()
    };
    let meta = std::fs::metadata(&args.input)
        .with_context(|| format!("cannot read {}", args.input.display()))?;
    if meta.len() > opts.max_bytes as u64 {
        anyhow::bail!(
            "{} is {} bytes, over the limit of {}",
            args.input.display(),
            meta.len(),
            opts.max_bytes
        );
    }
    let bytes = std::fs::read(&args.input)
        .with_context(|| format!("cannot read {}", args.input.display()))?;

    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} pages")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message("rendering");
    let doc = faxline_document::render_with_progress(&bytes, &opts, &|p: Progress| {
        bar.set_length(p.pages_total as u64);
        bar.set_position(p.pages_done as u64);
    })
    .with_context(|| format!("cannot render {}", args.input.display()))?;
    bar.finish_and_clear();

    write_atomically(&args.output, &doc.tiff)?;
    if let Some(dir) = &args.previews {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        for (i, page) in doc.pages.iter().enumerate() {
            let full = faxline_document::preview_png(page, doc.dpi(), PreviewSize::Full)?;
            let thumb = faxline_document::preview_png(
                page,
                doc.dpi(),
                PreviewSize::Thumbnail { width: 200 },
            )?;
            write_atomically(&dir.join(format!("page-{}.png", i + 1)), &full)?;
            write_atomically(&dir.join(format!("page-{}-thumb.png", i + 1)), &thumb)?;
        }
    }
    println!(
        "{}: {} page(s), {:?}, {} bytes",
        args.output.display(),
        doc.page_count(),
        doc.encoding,
        doc.tiff.len()
    );
    Ok(())
}

/// Write to a temporary file next to `path`, then rename, so no half-written file is left.
pub fn write_atomically(path: &Path, data: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    let name = path
        .file_name()
        .with_context(|| format!("{} is not a file name", path.display()))?;
    let tmp = dir.unwrap_or(Path::new(".")).join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    std::fs::write(&tmp, data).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot write {}", path.display())
    })
}
