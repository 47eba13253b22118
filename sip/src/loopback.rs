//! `line = "loopback"`: the agent calls its own answering endpoint over real SIP and UDPTL on
//! 127.0.0.1; the answering side receives the fax as an inbound fax.
//!
//! Both ends are full SIP user agents (rsipstack, each on its own UDP socket) running the same call
//! control as real calls, with fax sessions on the media runtime: T.38 on UDPTL normally, G.711 on
//! RTP when the answering side is set to refuse T.38. `speed` > 1 compresses time (tests); the
//! command a user runs is real time.

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use faxline_t38::session::{Direction, FaxOptions, FaxReport};
use faxline_t38::sim::ChannelModel;

use crate::call::CallConfig;
use crate::called::{CalledPolicy, Numbers};
use crate::driver::CallSummary;
use crate::fax_leg::{LegError, LegSpec, MediaPorts, answer, place};
use crate::media::{MediaError, MediaRuntime, MediaStats};
use crate::stack::{DialTarget, SipEndpoint, StackError};

/// How a loopback fax runs.
#[derive(Debug, Clone)]
pub struct LoopbackOptions {
    /// Time compression: 1 = real time; 10 runs ten 20 ms ticks per 20 ms.
    pub speed: u32,
    /// T.30 options of the sender (its `local_ident` is the TSI).
    pub sender: FaxOptions,
    /// T.30 options of the receiver (CSI).
    pub receiver: FaxOptions,
    /// Directory for the received TIFF.
    pub received_dir: PathBuf,
    /// Media (UDPTL and RTP) port range on 127.0.0.1.
    pub udptl_ports: std::ops::RangeInclusive<u16>,
    /// Loss model in front of each end's sockets (so both directions), with a seed.
    pub loss: Option<(ChannelModel, u64)>,
    /// Whether the answering side accepts T.38. Off: it refuses the switch (488) and the fax runs
    /// over G.711 RTP, the audio fallback.
    pub answer_t38: bool,
    /// The G.711 law the caller offers first (and so the one used in audio): PCMU 0 or PCMA 8.
    pub audio_payload: u8,
    /// Give up after this much wall time.
    pub timeout: Duration,
}

impl LoopbackOptions {
    /// Real-time defaults writing into `received_dir`.
    pub fn new(received_dir: PathBuf) -> Self {
        Self {
            speed: 1,
            sender: FaxOptions {
                local_ident: "FAXLINE LOOPBACK TX".into(),
                ..FaxOptions::default()
            },
            receiver: FaxOptions {
                local_ident: "FAXLINE LOOPBACK RX".into(),
                ..FaxOptions::default()
            },
            received_dir,
            udptl_ports: 4000..=4999,
            loss: None,
            answer_t38: true,
            audio_payload: crate::media_sdp::PCMU,
            timeout: Duration::from_secs(15 * 60),
        }
    }
}

/// Where a loopback fax stands (for progress output).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoopbackStage {
    /// SIP endpoints bound, dialing.
    Calling,
    /// The answering side picked up.
    Answered,
    /// Both ends finished.
    Done,
}

/// Everything about a finished loopback fax.
#[derive(Debug, Clone)]
pub struct LoopbackReport {
    /// The sender's T.30 report.
    pub sender: FaxReport,
    /// The receiver's T.30 report.
    pub receiver: FaxReport,
    /// The received TIFF-F (exists when at least one page arrived).
    pub received_tiff: PathBuf,
    /// Wall time of the whole call.
    pub elapsed: Duration,
    /// SIP-side record of the sender's and receiver's call.
    pub calls: (CallSummary, CallSummary),
    /// Media (UDPTL or RTP) counters of both ends.
    pub media: (MediaStats, MediaStats),
}

impl LoopbackReport {
    /// True when both ends report success.
    pub fn is_success(&self) -> bool {
        self.sender.is_success() && self.receiver.is_success()
    }
}

/// Why a loopback fax could not run.
#[derive(Debug, thiserror::Error)]
pub enum LoopbackError {
    /// SIP setup failed.
    #[error(transparent)]
    Sip(#[from] StackError),
    /// Media setup failed.
    #[error(transparent)]
    Media(#[from] MediaError),
    /// A leg could not start.
    #[error(transparent)]
    Leg(#[from] LegError),
    /// The document to send does not exist.
    #[error("document not found: {0}")]
    NoDocument(PathBuf),
    /// The call did not finish in time or a side produced no report.
    #[error("loopback call did not complete: {0}")]
    Incomplete(&'static str),
}

/// Sends `tiff` to number `to` over the loopback line and waits for both ends.
pub async fn send_fax(
    tiff: &Path,
    to: &str,
    options: LoopbackOptions,
    progress: impl Fn(LoopbackStage) + Send + Sync + 'static,
) -> Result<LoopbackReport, LoopbackError> {
    if !tiff.is_file() {
        return Err(LoopbackError::NoDocument(tiff.to_path_buf()));
    }
    let runtime = Arc::new(MediaRuntime::start(1, options.speed));
    let result = run_pair(tiff, to, &options, runtime.clone(), progress).await;
    if let Ok(rt) = Arc::try_unwrap(runtime) {
        rt.shutdown();
    }
    result
}

async fn run_pair(
    tiff: &Path,
    to: &str,
    options: &LoopbackOptions,
    runtime: Arc<MediaRuntime>,
    progress: impl Fn(LoopbackStage) + Send + Sync + 'static,
) -> Result<LoopbackReport, LoopbackError> {
    let started = Instant::now();
    let local: IpAddr = Ipv4Addr::LOCALHOST.into();
    // UDPTL and RTP share the one range; a port taken by one pool is skipped by the other.
    let ports = Arc::new(MediaPorts::new(
        local,
        options.udptl_ports.clone(),
        options.udptl_ports.clone(),
    ));
    let number = to.to_string();
    let (answerer, mut incoming) = SipEndpoint::bind(
        (local, 0).into(),
        CalledPolicy::new(Numbers::Listed(vec![number])),
    )
    .await?;
    let (caller, _none) =
        SipEndpoint::bind((local, 0).into(), CalledPolicy::new(Numbers::None)).await?;
    let speed = options.speed.max(1);
    let scaled = move |d: Duration| d / speed;

    // Answering side: one inbound call.
    let received_tiff = options
        .received_dir
        .join(format!("loopback-{}.tif", std::process::id()));
    let mut rx_config = CallConfig::new(local, 0, 0);
    rx_config.ced = scaled(Duration::from_secs(3));
    rx_config.t38_answer_timeout = scaled(rx_config.t38_answer_timeout);
    rx_config.t38_enabled = options.answer_t38;
    let rx_spec = LegSpec {
        config: rx_config,
        direction: Direction::Receive {
            tiff: received_tiff.clone(),
        },
        fax: options.receiver.clone(),
        label: "loopback-rx".into(),
        loss: options.loss.map(|(m, seed)| (m, seed.wrapping_add(1))),
        session_events: None,
        observer: None,
        hangup: None,
    };
    let rx_timeout = options.timeout;
    let progress = Arc::new(progress);
    let rx_progress = progress.clone();
    let (rx_runtime, rx_ports) = (runtime.clone(), ports.clone());
    let receiver = tokio::spawn(async move {
        let call = tokio::time::timeout(rx_timeout, incoming.recv())
            .await
            .ok()
            .flatten()?;
        rx_progress(LoopbackStage::Answered);
        Some(answer(rx_runtime, &rx_ports, call, rx_spec).await)
    });

    // Calling side.
    progress(LoopbackStage::Calling);
    let mut config = CallConfig::new(local, 0, 0);
    config.g711 = match options.audio_payload {
        crate::media_sdp::PCMA => vec![crate::media_sdp::PCMA, crate::media_sdp::PCMU],
        _ => vec![crate::media_sdp::PCMU, crate::media_sdp::PCMA],
    };
    // The receiver re-INVITEs after its CED; the sender waits longer before trying itself.
    config.t38_wait = scaled(Duration::from_secs(5));
    config.t38_answer_timeout = scaled(config.t38_answer_timeout);
    let tx_spec = LegSpec {
        config,
        direction: Direction::Send {
            tiff: tiff.to_path_buf(),
        },
        fax: options.sender.clone(),
        label: "loopback-tx".into(),
        loss: options.loss,
        session_events: None,
        observer: None,
        hangup: None,
    };
    let target = DialTarget {
        uri: format!("sip:{to}@{}", answerer.local_addr()),
        from_user: "faxline".into(),
        from_domain: None,
        credentials: None,
        identity: None,
    };
    let tx = tokio::time::timeout(
        options.timeout,
        place(runtime.clone(), &ports, &caller, target, tx_spec),
    )
    .await
    .map_err(|_| LoopbackError::Incomplete("sender timed out"))??;
    let rx = tokio::time::timeout(Duration::from_secs(30), receiver)
        .await
        .map_err(|_| LoopbackError::Incomplete("receiver did not finish"))?
        .ok()
        .flatten()
        .ok_or(LoopbackError::Incomplete("receiver got no call"))??;
    caller.shutdown();
    answerer.shutdown();
    progress(LoopbackStage::Done);
    let tx_out = tx
        .fax
        .ok_or(LoopbackError::Incomplete("sender fax never started"))?;
    let rx_out = rx
        .fax
        .ok_or(LoopbackError::Incomplete("receiver fax never started"))?;
    Ok(LoopbackReport {
        sender: tx_out.report,
        receiver: rx_out.report,
        received_tiff,
        elapsed: started.elapsed(),
        calls: (tx.call, rx.call),
        media: (tx_out.stats, rx_out.stats),
    })
}
