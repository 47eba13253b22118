//! `faxline send <file.tif> --to <number> --line sim`: a full T.38 (or G.711) fax call simulated
//! in-process, writing the received TIFF. The real SIP line arrives with its own issue; the
//! simulated line exercises exactly the session and UDPTL code a real call uses.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use faxline_t38::session::{FaxOptions, G711Law, T38Params};
use faxline_t38::sim::{Call, CallConfig, ChannelModel, Loss, Transport};
use faxline_t38::udptl::{ErrorCorrection, RedundancyDepth};

/// Which line carries the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LineKind {
    /// The in-process line simulator.
    Sim,
}

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
    /// The document: a bilevel fax TIFF (G3/G4, 1728 px wide).
    pub file: PathBuf,
    /// Destination number (only the last 4 digits are ever logged).
    #[arg(long)]
    pub to: String,
    /// Line to use.
    #[arg(long, value_enum, default_value = "sim")]
    pub line: LineKind,
    /// Where the simulated far end writes what it received.
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

/// `+49 30 1234 5678` → `***5678`.
pub fn mask_number(number: &str) -> String {
    let digits: Vec<char> = number.chars().filter(char::is_ascii_digit).collect();
    let tail: String = digits[digits.len().saturating_sub(4)..].iter().collect();
    format!("***{tail}")
}

fn valid_number(number: &str) -> bool {
    let rest = number.strip_prefix('+').unwrap_or(number);
    let digits = rest.chars().filter(char::is_ascii_digit).count();
    (1..=20).contains(&digits)
        && rest
            .chars()
            .all(|c| c.is_ascii_digit() || " -()".contains(c))
}

/// Runs the command.
pub fn run(args: SendArgs) -> anyhow::Result<()> {
    if !valid_number(&args.to) {
        bail!(
            "--to must be a phone number (digits, optional leading +), got {}",
            mask_number(&args.to)
        );
    }
    if !(0.0..=100.0).contains(&args.loss) {
        bail!("--loss is a percentage between 0 and 100");
    }
    let LineKind::Sim = args.line;
    std::fs::metadata(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    tracing::info!(to = %mask_number(&args.to), line = "sim", "sending fax");

    let ecm = !args.no_ecm;
    let fax = |ident: &str| FaxOptions {
        local_ident: ident.to_owned(),
        ecm,
        max_bit_rate: args.max_rate,
        ..FaxOptions::default()
    };
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
    let p = args.loss / 100.0;
    let loss = match (p > 0.0, args.bursty) {
        (false, _) => Loss::None,
        (true, false) => Loss::Random(p),
        (true, true) => Loss::bursty(p, 4.0),
    };
    let line = ChannelModel {
        latency_ms: args.latency_ms,
        jitter_ms: args.jitter_ms,
        loss,
        ..ChannelModel::default()
    };
    let config = CallConfig {
        document: args.file.clone(),
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
    if rx.pages > 0 {
        println!("received:    {}", args.output.display());
    }
    if report.is_success() {
        Ok(())
    } else {
        bail!("the fax did not go through")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_masked_and_checked() {
        assert_eq!(mask_number("+49 30 1234 5678"), "***5678");
        assert_eq!(mask_number("12"), "***12");
        assert!(valid_number("+4930123456"));
        assert!(!valid_number("sip:evil@x"));
        assert!(!valid_number(""));
    }
}
