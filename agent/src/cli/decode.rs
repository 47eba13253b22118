//! `faxline decode in.tif -o out.pdf`: a received fax TIFF to PDF, the CCITT data passed through.

use anyhow::Context;
use std::path::PathBuf;

/// Convert a received fax TIFF to PDF.
#[derive(Debug, clap::Args)]
pub struct DecodeArgs {
    /// The TIFF-F (MH, MR or MMR; either fill order).
    pub input: PathBuf,
    /// Where to write the PDF.
    #[arg(short, long)]
    pub output: PathBuf,
}

/// Run `faxline decode`.
pub fn run(args: DecodeArgs) -> anyhow::Result<()> {
    let tiff = std::fs::read(&args.input)
        .with_context(|| format!("cannot read {}", args.input.display()))?;
    let pdf = faxline_document::tiff_to_pdf(&tiff)
        .with_context(|| format!("cannot convert {}", args.input.display()))?;
    super::render::write_atomically(&args.output, &pdf)?;
    println!("{}: {} bytes", args.output.display(), pdf.len());
    Ok(())
}
