//! `faxline send <file> --to <number> [--line loopback|sim]`: send a PDF, text file or fax TIFF now.
//!
//! `loopback` (the default) places the call on the agent's loopback [`Line`], the one `faxline serve` uses: our
//! own answering endpoint over real SIP and UDPTL on 127.0.0.1, in real time unless `--speed` compresses it.
//! `sim` runs the call through the in-process line simulator in simulated time. Either way the received fax is
//! written as TIFF-F and decoded to PDF with previews.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use faxline_agent::engine::line::{CallRequest, Document, Line, Progress};
use faxline_agent::lines::LineKind;
use faxline_agent::lines::loopback::LoopbackLine;
use faxline_protocol::{PhoneNumber, mask_number};
use faxline_t38::session::{FaxOptions, G711Law, T38Params};
use faxline_t38::sim::{Call, CallConfig, ChannelModel, Loss, Transport};
use faxline_t38::udptl::{ErrorCorrection, RedundancyDepth};
use tokio_util::sync::CancellationToken;

/// UDPTL error correction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EcArg {
    /// No error correction.
    None,
    /// Redundancy (3 secondaries for control, 2 for image data).
    Redundancy,
    /// Parity FEC (span 3, 3 entries).
    Fec,
}

/// The media path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MediaArg {
    /// T.38 over UDPTL.
    T38,
    /// G.711 µ-law audio (PCMU).
    Pcmu,
    /// G.711 A-law audio (PCMA).
    Pcma,
}

/// Send a fax.
#[derive(Debug, Clone, clap::Args)]
pub struct SendArgs {
    /// The document: a PDF, a UTF-8 text file or a bilevel fax TIFF (type read from the content).
    pub file: PathBuf,
    /// Destination number (only the last 4 digits are ever logged).
    #[arg(long)]
    pub to: String,
    /// Line to use: `loopback` or `sim` (the `asterisk` and `sip` lines send through `faxline agent`).
    #[arg(long, value_enum, default_value = "loopback")]
    pub line: LineKind,
    /// Loopback line only: time compression (1 = real time, 10 = ten times faster).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=50))]
    pub speed: u32,
    /// Where the far end writes what it received (a PDF and PNG previews are written next to it).
    #[arg(short = 'o', long, default_value = "received.tif")]
    pub output: PathBuf,
    /// Use error correction mode (default).
    #[arg(long, overrides_with = "no_ecm")]
    pub ecm: bool,
    /// Do not use error correction mode.
    #[arg(long)]
    pub no_ecm: bool,
    /// Packet loss in percent, both directions (e.g. 5 for 5 %).
    #[arg(long, default_value_t = 0.0)]
    pub loss: f64,
    /// Make the loss bursty (Gilbert–Elliott, mean burst 4 packets) instead of independent.
    #[arg(long)]
    pub bursty: bool,
    /// One-way latency in milliseconds.
    #[arg(long, default_value_t = 40)]
    pub latency_ms: u32,
    /// Jitter in milliseconds.
    #[arg(long, default_value_t = 10)]
    pub jitter_ms: u32,
    /// Seed of the simulated line (same seed, same call).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// T.38 version (0 or 3; 1 and 2 behave like 3).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=3))]
    pub version: u8,
    /// UDPTL error correction.
    #[arg(long, value_enum, default_value = "redundancy")]
    pub ec: EcArg,
    /// Fastest image bit rate (14400, 9600, 4800, ...).
    #[arg(long, default_value_t = 14400)]
    pub max_rate: u32,
    /// T.38 or G.711 audio.
    #[arg(long, value_enum, default_value = "t38")]
    pub media: MediaArg,
    /// Do not pace packets (image data in bursts): the call simulates in milliseconds, but the
    /// line time is no longer realistic.
    #[arg(long)]
    pub no_pacing: bool,
    /// Our station identity (TSI).
    #[arg(long, default_value = "FAXLINE")]
    pub ident: String,
}

/// Runs the command.
pub fn run(args: SendArgs) -> anyhow::Result<()> {
    if let Err(e) = PhoneNumber::parse(&args.to) {
        bail!("--to {}: {e}", mask_number(&args.to));
    }
    if !(0.0..=100.0).contains(&args.loss) {
        bail!("--loss is a percentage between 0 and 100");
    }
    let work = tempfile::tempdir().context("cannot create a temporary directory")?;
    let document = prepare_document(&args.file, work.path())?;
    let success = match args.line {
        LineKind::Loopback => run_loopback(&args, &document, work.path())?,
        LineKind::Sim => run_sim(&args, &document)?,
        other => bail!(
            "`faxline send` sends on the loopback line or the simulator; the {} line sends through `faxline agent`",
            other.as_str()
        ),
    };
    if args.output.is_file() {
        write_received_pdf(&args.output)?;
    }
    if success {
        Ok(())
    } else {
        bail!("the fax did not go through")
    }
}

/// The TIFF to send: a fax TIFF as it is, a PDF or text file rendered to TIFF-F first.
fn prepare_document(file: &Path, work: &Path) -> anyhow::Result<PathBuf> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    if faxline_document::sniff(&bytes) == faxline_document::ContentKind::Tiff {
        return Ok(file.to_path_buf());
    }
    let started = Instant::now();
    let doc = faxline_document::render(&bytes, &faxline_document::RenderOptions::default())
        .with_context(|| format!("cannot render {}", file.display()))?;
    let tiff = work.join("document.tif");
    std::fs::write(&tiff, &doc.tiff).with_context(|| format!("cannot write {}", tiff.display()))?;
    println!(
        "document:    {} page(s) rendered in {:.0} ms",
        doc.page_count(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    Ok(tiff)
}

/// Decode the received TIFF to `<output>.pdf` and write PNG previews into `<output>-previews/`.
fn write_received_pdf(received: &Path) -> anyhow::Result<()> {
    let tiff =
        std::fs::read(received).with_context(|| format!("cannot read {}", received.display()))?;
    let pdf_path = received.with_extension("pdf");
    let pdf = faxline_document::tiff_to_pdf(&tiff)
        .with_context(|| format!("cannot convert {} to PDF", received.display()))?;
    super::render::write_atomically(&pdf_path, &pdf)?;
    let stem = received
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "received".into());
    let previews = received.with_file_name(format!("{stem}-previews"));
    std::fs::create_dir_all(&previews)
        .with_context(|| format!("cannot create {}", previews.display()))?;
    let pages = faxline_document::decode_tiff(&tiff)
        .with_context(|| format!("cannot decode {}", received.display()))?;
    for (i, (page, dpi)) in pages.iter().enumerate() {
        let full = faxline_document::preview_png(page, *dpi, faxline_document::PreviewSize::Full)?;
        let thumb = faxline_document::preview_png(
            page,
            *dpi,
            faxline_document::PreviewSize::Thumbnail { width: 200 },
        )?;
        super::render::write_atomically(&previews.join(format!("page-{}.png", i + 1)), &full)?;
        super::render::write_atomically(
            &previews.join(format!("page-{}-thumb.png", i + 1)),
            &thumb,
        )?;
    }
    println!("received:    {} (TIFF-F)", received.display());
    println!("             {} (PDF)", pdf_path.display());
    println!(
        "             {}/ ({} page previews)",
        previews.display(),
        pages.len()
    );
    Ok(())
}

fn fax_options(args: &SendArgs, ident: &str) -> FaxOptions {
    FaxOptions {
        local_ident: ident.to_owned(),
        ecm: !args.no_ecm,
        max_bit_rate: args.max_rate,
        ..FaxOptions::default()
    }
}

fn channel_model(args: &SendArgs) -> ChannelModel {
    let p = args.loss / 100.0;
    let loss = match (p > 0.0, args.bursty) {
        (false, _) => Loss::None,
        (true, false) => Loss::Random(p),
        (true, true) => Loss::bursty(p, 4.0),
    };
    ChannelModel {
        latency_ms: args.latency_ms,
        jitter_ms: args.jitter_ms,
        loss,
        ..ChannelModel::default()
    }
}

/// The loopback line: real SIP and UDPTL on 127.0.0.1, our own endpoint answering, driven through the
/// [`Line`] port as the agent drives it (plus the loopback's own report of both ends, printed here).
fn run_loopback(args: &SendArgs, document: &Path, work: &Path) -> anyhow::Result<bool> {
    tracing::info!(to = %mask_number(&args.to), line = "loopback", speed = args.speed, "sending fax");
    let mut options = faxline_sip::loopback::LoopbackOptions::new(work.join("received"));
    options.speed = args.speed;
    options.sender = fax_options(args, &args.ident);
    options.receiver = fax_options(args, "FAXLINE LOOPBACK");
    if args.loss > 0.0 {
        options.loss = Some((channel_model(args), args.seed));
    }
    // G.711: the answering side refuses the T.38 switch and the fax runs over RTP audio, the
    // fallback real calls take when a peer declines T.38.
    match args.media {
        MediaArg::T38 => {}
        MediaArg::Pcmu => (options.answer_t38, options.audio_payload) = (false, 0),
        MediaArg::Pcma => (options.answer_t38, options.audio_payload) = (false, 8),
    }
    let line = LoopbackLine::new(options, None);
    let (progress, mut phases) = Progress::channel();
    let request = CallRequest {
        job_id: "send".into(),
        token: "send_1".into(),
        to: args.to.clone(),
        document: Document::FaxTiff(document.to_path_buf()),
        ecm: None,
        progress,
        hangup: CancellationToken::new(),
    };
    debug_assert_eq!(
        line.document_form(),
        faxline_agent::engine::DocumentForm::FaxTiff
    );
    let started = Instant::now();
    let runtime = tokio::runtime::Runtime::new().context("cannot start the runtime")?;
    let (outcome, report) = runtime.block_on(async {
        let show = async {
            while phases.changed().await.is_ok() {
                if let Some(phase) = phases.borrow_and_update().clone() {
                    eprintln!("  … {}", phase.stage);
                }
            }
            std::future::pending::<()>().await;
        };
        tokio::select! {
            placed = line.place_reporting(request) => placed,
            () = show => unreachable!("the progress display never ends"),
        }
    });
    let Some(report) = report else {
        bail!(
            "the loopback call failed: {}",
            outcome.error_text().unwrap_or_default()
        );
    };
    let tx = &report.sender;
    let rx = &report.receiver;
    println!(
        "to:          {} (loopback line, SIP + {} on 127.0.0.1)",
        mask_number(&args.to),
        match args.media {
            MediaArg::T38 => "UDPTL (T.38)",
            MediaArg::Pcmu => "RTP (G.711 µ-law audio)",
            MediaArg::Pcma => "RTP (G.711 A-law audio)",
        }
    );
    match (&tx.outcome, &rx.outcome) {
        (Ok(()), Ok(())) => println!("result:      OK"),
        (Err(e), _) | (Ok(()), Err(e)) => println!("result:      FAILED — {e}"),
    }
    println!("pages:       {} sent, {} received", tx.pages, rx.pages);
    println!("bit rate:    {} bit/s", tx.bit_rate);
    println!("ECM:         {}", if tx.ecm { "yes" } else { "no" });
    println!(
        "time:        {:.1} s wall ({}× speed)",
        report.elapsed.as_secs_f64(),
        args.speed
    );
    println!(
        "CPU time:    {:.1} ms (whole process)",
        process_cpu_ms(started)
    );
    if report.received_tiff.is_file() {
        std::fs::copy(&report.received_tiff, &args.output)
            .with_context(|| format!("cannot write {}", args.output.display()))?;
    }
    Ok(outcome.is_success())
}

/// CPU time of this process (user + system) in milliseconds; falls back to wall time off Linux.
fn process_cpu_ms(started: Instant) -> f64 {
    faxline_t38::sim::process_cpu_time()
        .map(|d| d.as_secs_f64() * 1000.0)
        .unwrap_or_else(|| started.elapsed().as_secs_f64() * 1000.0)
}

/// The simulated line: both ends and the channel model in-process, in simulated time. Not a [`Line`]: the
/// simulator is a measuring instrument, not a way to reach a fax machine. It runs both ends and the impaired
/// channel in one synchronous loop on a simulated clock (no SIP, no sockets, no spool, no inbound side), and what
/// it reports (line time, packets lost and recovered, bad rows) has no place in a
/// [`CallOutcome`](faxline_agent::engine::CallOutcome).
fn run_sim(args: &SendArgs, document: &Path) -> anyhow::Result<bool> {
    tracing::info!(to = %mask_number(&args.to), line = "sim", "sending fax");

    let fax = |ident: &str| fax_options(args, ident);
    let error_correction = match args.ec {
        EcArg::None => ErrorCorrection::None,
        EcArg::Redundancy => ErrorCorrection::Redundancy(RedundancyDepth {
            indicator: 3,
            control: 3,
            image: 2,
        }),
        EcArg::Fec => ErrorCorrection::Fec {
            span: 3,
            entries: 3,
        },
    };
    let transport = match args.media {
        MediaArg::T38 => Transport::T38 {
            params: T38Params {
                version: args.version,
                max_bit_rate: args.max_rate,
                ..T38Params::default()
            },
            error_correction,
            max_datagram: 400,
            pacing: !args.no_pacing,
        },
        MediaArg::Pcmu => Transport::Audio { law: G711Law::Ulaw },
        MediaArg::Pcma => Transport::Audio { law: G711Law::Alaw },
    };
    let line = channel_model(args);
    let config = CallConfig {
        document: document.to_path_buf(),
        received: args.output.clone(),
        sender: fax(&args.ident),
        receiver: fax("FAXLINE SIM"),
        transport,
        forward: line,
        backward: line,
        seed: args.seed,
        max_duration: Duration::from_secs(60 * 60),
        label: format!("send-{}", mask_number(&args.to)),
    };
    let report = Call::new(config)
        .context("setting up the simulated call")?
        .run();

    let tx = &report.sender;
    let rx = &report.receiver;
    println!("to:          {} (simulated line)", mask_number(&args.to));
    match (&tx.outcome, &rx.outcome) {
        (Ok(()), Ok(())) => println!("result:      OK"),
        (Err(e), _) | (Ok(()), Err(e)) => println!("result:      FAILED — {e}"),
    }
    println!("pages:       {} sent, {} received", tx.pages, rx.pages);
    println!("bit rate:    {} bit/s", tx.bit_rate);
    println!("ECM:         {}", if tx.ecm { "yes" } else { "no" });
    println!("resolution:  {}×{} px/m", rx.resolution.x, rx.resolution.y);
    if rx.bad_rows > 0 {
        println!("bad rows:    {}", rx.bad_rows);
    }
    println!(
        "line time:   {:.1} s (simulated)",
        report.line_time.as_secs_f64()
    );
    println!(
        "CPU time:    {:.1} ms (both ends and the line)",
        report.cpu_time.as_secs_f64() * 1000.0
    );
    println!(
        "packets:     {} → {} lost {} recovered, ← {} lost {} recovered",
        report.forward.channel.sent,
        report.forward.channel.lost,
        report.forward.udptl.recovered,
        report.backward.channel.lost,
        report.backward.udptl.recovered
    );
    Ok(report.is_success())
}
