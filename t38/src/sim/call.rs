//! A whole simulated fax call: a sending and a receiving session joined by two [`Channel`]s, over
//! real UDPTL (T.38) or a G.711 audio stream, on a simulated 20 ms clock.
//!
//! Sans-IO: the call's only clock is its step counter; what a run costs in real time is measured
//! around it by the [`meter`](super::meter).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::session::{
    AudioSession, AudioSessionConfig, Direction, FaxError, FaxOptions, FaxReport, G711Law,
    SessionError, SessionEvent, T38Params, T38Session, T38SessionConfig,
};
use crate::udptl::{
    ErrorCorrection, IfpInbox, Receiver, RxStats, Sender, SenderConfig, UdptlError,
};

use super::channel::{Channel, ChannelModel, ChannelStats, SentPacket};
use super::meter::StepCost;

/// One simulation step: 20 ms, 160 samples at 8 kHz.
pub const STEP: Duration = Duration::from_millis(20);
const STEP_SAMPLES: u32 = 160;
const STEP_US: u64 = 20_000;

/// How the two ends are joined.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Transport {
    /// T.38 over UDPTL.
    T38 {
        /// The negotiated T.38 parameters (both ends).
        params: T38Params,
        /// UDPTL error correction (both directions).
        error_correction: ErrorCorrection,
        /// Largest UDPTL datagram either end accepts.
        max_datagram: usize,
        /// spandsp pacing (off runs the image phase in a burst: fast, for tests).
        pacing: bool,
    },
    /// G.711 audio through spandsp's modems, 20 ms frames.
    Audio {
        /// PCMU or PCMA.
        law: G711Law,
    },
}

/// Everything a simulated call needs.
#[derive(Debug, Clone, PartialEq)]
pub struct CallConfig {
    /// The TIFF to send.
    pub document: PathBuf,
    /// Where the receiving end writes the TIFF-F it receives.
    pub received: PathBuf,
    /// T.30 options of the sending end.
    pub sender: FaxOptions,
    /// T.30 options of the receiving end.
    pub receiver: FaxOptions,
    /// T.38 or audio.
    pub transport: Transport,
    /// Sender → receiver line.
    pub forward: ChannelModel,
    /// Receiver → sender line.
    pub backward: ChannelModel,
    /// Seed of all randomness (same seed, same call).
    pub seed: u64,
    /// Simulated time after which both ends are hung up.
    pub max_duration: Duration,
    /// Label prefix for logs.
    pub label: String,
}

impl CallConfig {
    /// A T.38 call at the given version and error correction over clean default lines, ECM on,
    /// pacing off.
    pub fn t38(
        document: PathBuf,
        received: PathBuf,
        version: u8,
        error_correction: ErrorCorrection,
    ) -> Self {
        Self {
            document,
            received,
            sender: FaxOptions {
                local_ident: "FAXLINE SIM TX".into(),
                ..FaxOptions::default()
            },
            receiver: FaxOptions {
                local_ident: "FAXLINE SIM RX".into(),
                ..FaxOptions::default()
            },
            transport: Transport::T38 {
                params: T38Params {
                    version,
                    ..T38Params::default()
                },
                error_correction,
                max_datagram: 400,
                pacing: false,
            },
            forward: ChannelModel::default(),
            backward: ChannelModel::default(),
            seed: 1,
            max_duration: Duration::from_secs(30 * 60),
            label: "sim".into(),
        }
    }
}

/// What one direction of the line did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LinkStats {
    /// IFPs (or audio frames) the sending session produced.
    pub payloads: u64,
    /// The channel's counters (datagrams).
    pub channel: ChannelStats,
    /// The UDPTL receiver's counters (T.38 only).
    pub udptl: RxStats,
    /// IFPs spandsp rejected as malformed.
    pub rejected_ifps: u64,
}

/// The result of a simulated call.
#[derive(Debug, Clone, PartialEq)]
pub struct CallReport {
    /// The sending end's report.
    pub sender: FaxReport,
    /// The receiving end's report.
    pub receiver: FaxReport,
    /// Simulated line time until both ends finished.
    pub line_time: Duration,
    /// CPU time of both ends plus the simulator: the thread's CPU time for [`Call::run`] on Linux,
    /// otherwise the wall time spent stepping (measured by the [`meter`](super::meter)).
    pub cpu_time: Duration,
    /// The slowest single 20 ms step (page starts read and encode a whole page).
    pub slowest_step: Duration,
    /// True when neither end had finished at the call's time limit, so both were hung up (their
    /// reports then say `CallDropped`; this says why). One end finishing first ends the call
    /// 10 s later, as its BYE would.
    pub timed_out: bool,
    /// Which end's fax session ended first by itself, when one did before the other.
    pub ended_first: Option<Side>,
    /// Sender → receiver.
    pub forward: LinkStats,
    /// Receiver → sender.
    pub backward: LinkStats,
    /// What the line carried, when the call was recording ([`Call::record`]).
    pub capture: Option<LineCapture>,
    /// The sending end's events.
    pub sender_events: Vec<SessionEvent>,
    /// The receiving end's events.
    pub receiver_events: Vec<SessionEvent>,
}

/// Every datagram a recording call's line carried, each direction in sending order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LineCapture {
    /// Sender → receiver.
    pub forward: Vec<SentPacket>,
    /// Receiver → sender.
    pub backward: Vec<SentPacket>,
}

impl LineCapture {
    /// The trace as two pcaps: what each end sent, stamped when sent, and what each end
    /// received, stamped when it arrived (a lost datagram is only in the first). The sender is
    /// 127.0.0.1:`sender_port`, the receiver the next port; UDPTL when T.38 (decode with
    /// `tshark -d udp.port==PORT,t38`), RTP when audio.
    pub fn pcaps(&self, sender_port: u16) -> (super::pcap::PcapWriter, super::pcap::PcapWriter) {
        let receiver_port = sender_port.wrapping_add(1);
        let mut sent: Vec<(u64, u16, u16, &[u8])> = Vec::new();
        let mut arrived: Vec<(u64, u16, u16, &[u8])> = Vec::new();
        for (packets, src, dst) in [
            (&self.forward, sender_port, receiver_port),
            (&self.backward, receiver_port, sender_port),
        ] {
            for p in packets {
                sent.push((p.sent_us, src, dst, &p.datagram));
                if let Some(at) = p.arrival_us {
                    arrived.push((at, src, dst, &p.datagram));
                }
            }
        }
        let write = |mut list: Vec<(u64, u16, u16, &[u8])>| {
            list.sort_by_key(|p| p.0);
            let mut w = super::pcap::PcapWriter::new();
            for (at, src, dst, d) in list {
                w.udp_at(at, src, dst, d);
            }
            w
        };
        (write(sent), write(arrived))
    }
}

/// One end of a simulated call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The end sending the pages.
    Sender,
    /// The end receiving them.
    Receiver,
}

impl CallReport {
    /// True when both ends report success.
    pub fn is_success(&self) -> bool {
        self.sender.is_success() && self.receiver.is_success()
    }

    /// Why the call failed: the error of the end that gave up first (the other was then hung up
    /// and reports `CallDropped`), else the sender's, else the receiver's. `None` on success.
    pub fn failure(&self) -> Option<&FaxError> {
        let (first, second) = match self.ended_first {
            Some(Side::Receiver) => (&self.receiver, &self.sender),
            _ => (&self.sender, &self.receiver),
        };
        first
            .outcome
            .as_ref()
            .err()
            .or(second.outcome.as_ref().err())
    }
}

/// Why a call could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A session could not be created.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// The UDPTL configuration is invalid.
    #[error(transparent)]
    Udptl(#[from] UdptlError),
}

/// A T.38 endpoint: session plus its UDPTL halves.
struct T38End {
    session: T38Session,
    tx: Sender,
    inbox: IfpInbox,
    wire: Vec<u8>,
}

impl End for T38End {
    fn deliver(&mut self, datagram: &[u8], stats: &mut LinkStats) {
        // A malformed datagram is counted by the receiver and otherwise ignored, as on a real line.
        let _ = self.inbox.handle_datagram(datagram);
        self.feed(stats);
    }

    fn idle(&mut self, stats: &mut LinkStats) {
        self.inbox.handle_quiet_step();
        self.feed(stats);
    }

    fn advance(&mut self, _step: u64) {
        self.session.handle_elapsed(STEP_SAMPLES);
    }

    fn send_out(&mut self, now_us: u64, channel: &mut Channel, stats: &mut LinkStats) {
        while let Some(ifp) = self.session.poll_transmit() {
            stats.payloads += 1;
            self.wire.clear();
            if self
                .tx
                .handle_ifp(&ifp.data, ifp.category, &mut self.wire)
                .is_err()
            {
                // Larger than the peer's datagram even without EC: spandsp was told the limit, so
                // this cannot happen short of a configuration error; the IFP is dropped like a
                // real sender would have to.
                continue;
            }
            // As the SIP line sends (`OutgoingIfp::copies`).
            let copies = ifp.copies();
            for _ in 0..copies {
                channel.send(now_us, self.wire.clone());
            }
        }
    }

    fn session(&mut self) -> &mut dyn Session {
        &mut self.session
    }

    fn report(&self) -> Option<FaxReport> {
        self.session.report().cloned()
    }

    fn udptl(&self) -> RxStats {
        self.inbox.stats()
    }
}

impl T38End {
    fn feed(&mut self, stats: &mut LinkStats) {
        while let Some((seq, ifp)) = self.inbox.poll_ifp() {
            if self.session.handle_ifp(seq, &ifp).is_err() {
                stats.rejected_ifps += 1;
            }
        }
    }
}

/// An audio endpoint with a fixed playout buffer (what a fax-safe jitter buffer does).
struct AudioEnd {
    session: AudioSession,
    tx_seq: u64,
    /// Frames by sequence number waiting for their playout time.
    playout: BTreeMap<u64, Vec<u8>>,
    next_play: u64,
    /// Steps of delay before frame 0 plays (covers latency and jitter).
    playout_delay: u64,
}

impl End for AudioEnd {
    fn deliver(&mut self, datagram: &[u8], _stats: &mut LinkStats) {
        if datagram.len() < 8 {
            return;
        }
        let (seq, payload) = datagram.split_at(8);
        let seq = u64::from_be_bytes(seq.try_into().unwrap_or_default());
        if seq >= self.next_play {
            self.playout.insert(seq, payload.to_vec());
        }
    }

    /// Plays the frame due in this step (a gap when it is missing or playout has not begun).
    fn advance(&mut self, step: u64) {
        if step < self.playout_delay {
            self.session.handle_gap(STEP_SAMPLES);
            return;
        }
        match self.playout.remove(&self.next_play) {
            Some(frame) => self.session.handle_audio(&frame),
            None => self.session.handle_gap(STEP_SAMPLES),
        }
        self.next_play += 1;
        // Frames too late for their slot are useless now.
        while self
            .playout
            .first_key_value()
            .is_some_and(|(k, _)| *k < self.next_play)
        {
            self.playout.pop_first();
        }
    }

    fn send_out(&mut self, now_us: u64, channel: &mut Channel, stats: &mut LinkStats) {
        let frame = self.session.poll_transmit(STEP_SAMPLES as usize);
        stats.payloads += 1;
        let mut datagram = Vec::with_capacity(8 + frame.len());
        datagram.extend_from_slice(&self.tx_seq.to_be_bytes());
        datagram.extend_from_slice(&frame);
        self.tx_seq += 1;
        channel.send(now_us, datagram);
    }

    fn session(&mut self) -> &mut dyn Session {
        &mut self.session
    }

    fn report(&self) -> Option<FaxReport> {
        self.session.report().cloned()
    }
}

/// After one end's fax session ends, the other gets this long before it is hung up: what a
/// real call does when the finished side sends BYE (spandsp's receiver can otherwise wait for a
/// lost DCN far longer than any caller would stay on the line).
const HANG_UP_GRACE_STEPS: u64 = 10_000_000 / STEP_US;

/// The call's simulated clock and the hang-up rules.
struct Clock {
    step: u64,
    max_steps: u64,
    /// Set when the first end finished: the step at which the other is hung up.
    hang_up_at: Option<u64>,
    /// Which end finished by itself first (true = the sender), when they did not finish together.
    first_sender: Option<bool>,
    timed_out: bool,
}

/// One end of the line, whatever carries the fax: what a step does with it, and what the
/// hang-up rules and the report need from it. One step is the same for both transports.
trait End {
    /// A datagram arrived from the channel.
    fn deliver(&mut self, datagram: &[u8], stats: &mut LinkStats);
    /// Nothing arrived in this step.
    fn idle(&mut self, _stats: &mut LinkStats) {}
    /// Passes this step's 20 ms to the session (`step` counts from 1).
    fn advance(&mut self, step: u64);
    /// Sends what the session produced into `channel`.
    fn send_out(&mut self, now_us: u64, channel: &mut Channel, stats: &mut LinkStats);
    /// The fax session, for the hang-up rules.
    fn session(&mut self) -> &mut dyn Session;
    /// The session's report, once finished.
    fn report(&self) -> Option<FaxReport>;
    /// The UDPTL receiver's counters (T.38 only).
    fn udptl(&self) -> RxStats {
        RxStats::default()
    }
}

/// What the hang-up rules need from a session of either kind.
trait Session {
    fn finished(&self) -> bool;
    fn terminate(&mut self);
    fn drain_events(&mut self, into: &mut Vec<SessionEvent>);
}

impl Session for T38Session {
    fn finished(&self) -> bool {
        self.is_finished()
    }
    fn terminate(&mut self) {
        self.handle_hangup();
    }
    fn drain_events(&mut self, into: &mut Vec<SessionEvent>) {
        into.extend(std::iter::from_fn(|| self.poll_event()));
    }
}

impl Session for AudioSession {
    fn finished(&self) -> bool {
        self.is_finished()
    }
    fn terminate(&mut self) {
        self.handle_hangup();
    }
    fn drain_events(&mut self, into: &mut Vec<SessionEvent>) {
        into.extend(std::iter::from_fn(|| self.poll_event()));
    }
}

impl Clock {
    /// Collects events, applies the time limit and the hang-up grace; true when both are done.
    fn end_step(
        &mut self,
        a: &mut dyn Session,
        b: &mut dyn Session,
        a_events: &mut Vec<SessionEvent>,
        b_events: &mut Vec<SessionEvent>,
    ) -> bool {
        a.drain_events(a_events);
        b.drain_events(b_events);
        let (fa, fb) = (a.finished(), b.finished());
        if fa != fb && self.hang_up_at.is_none() {
            self.hang_up_at = Some(self.step + HANG_UP_GRACE_STEPS);
            self.first_sender = Some(fa);
        }
        let limit = self.step >= self.max_steps;
        let grace_over = self.hang_up_at.is_some_and(|at| self.step >= at);
        if !(fa && fb) && (limit || grace_over) {
            // The time limit counts only when neither end had ended by itself.
            self.timed_out |= limit && !fa && !fb;
            a.terminate();
            b.terminate();
            a.drain_events(a_events);
            b.drain_events(b_events);
        }
        a.finished() && b.finished()
    }
}

enum Ends {
    T38(Box<(T38End, T38End)>),
    Audio(Box<(AudioEnd, AudioEnd)>),
}

/// Everything between the two ends: the channels each way, their counters, the clock and the
/// events collected so far.
struct Line {
    forward: Channel,
    backward: Channel,
    fwd_stats: LinkStats,
    bwd_stats: LinkStats,
    clock: Clock,
    sender_events: Vec<SessionEvent>,
    receiver_events: Vec<SessionEvent>,
    recording: bool,
}

impl Line {
    /// One 20 ms step of sender `a` and receiver `b`: deliver what each channel releases now,
    /// pass the time, send what the sessions produced, apply the hang-up rules. True when both
    /// ends are done.
    fn step(&mut self, a: &mut impl End, b: &mut impl End) -> bool {
        self.clock.step += 1;
        let now = self.clock.step * STEP_US;
        let mut got = false;
        while let Some(d) = self.forward.receive(now) {
            got = true;
            b.deliver(&d, &mut self.fwd_stats);
        }
        if !got {
            b.idle(&mut self.fwd_stats);
        }
        let mut got = false;
        while let Some(d) = self.backward.receive(now) {
            got = true;
            a.deliver(&d, &mut self.bwd_stats);
        }
        if !got {
            a.idle(&mut self.bwd_stats);
        }
        a.advance(self.clock.step);
        b.advance(self.clock.step);
        a.send_out(now, &mut self.forward, &mut self.fwd_stats);
        b.send_out(now, &mut self.backward, &mut self.bwd_stats);
        self.clock.end_step(
            a.session(),
            b.session(),
            &mut self.sender_events,
            &mut self.receiver_events,
        )
    }

    /// The report once both ends are done.
    fn report(
        mut self,
        a: &impl End,
        b: &impl End,
        line_time: Option<Duration>,
        cost: StepCost,
    ) -> CallReport {
        self.fwd_stats.channel = self.forward.stats();
        self.bwd_stats.channel = self.backward.stats();
        self.fwd_stats.udptl = b.udptl();
        self.bwd_stats.udptl = a.udptl();
        CallReport {
            // Both are finished here: `step` only reports done when both sessions have reports.
            sender: a.report().unwrap_or_else(unfinished),
            receiver: b.report().unwrap_or_else(unfinished),
            line_time: line_time.unwrap_or(STEP * self.clock.step as u32),
            cpu_time: cost.busy,
            slowest_step: cost.slowest,
            timed_out: self.clock.timed_out,
            ended_first: self
                .clock
                .first_sender
                .map(|s| if s { Side::Sender } else { Side::Receiver }),
            forward: self.fwd_stats,
            backward: self.bwd_stats,
            capture: self.recording.then(|| LineCapture {
                forward: self.forward.take_recorded(),
                backward: self.backward.take_recorded(),
            }),
            sender_events: self.sender_events,
            receiver_events: self.receiver_events,
        }
    }
}

/// A simulated call in progress. [`Call::run`] plays it to the end; [`Call::step`] advances it by
/// 20 ms, for drivers that interleave many calls in real time (see [`run_realtime`](super::run_realtime)).
pub struct Call {
    ends: Ends,
    line: Line,
    line_time: Option<Duration>,
}

impl Call {
    /// Sets up both ends (the sender's document must exist).
    pub fn new(config: CallConfig) -> Result<Self, SimError> {
        let send_dir = Direction::Send {
            tiff: config.document.clone(),
        };
        let recv_dir = Direction::Receive {
            tiff: config.received.clone(),
        };
        let ends = match config.transport {
            Transport::T38 {
                params,
                error_correction,
                max_datagram,
                pacing,
            } => {
                // spandsp must keep IFPs small enough for UDPTL framing without EC.
                let max_ifp = params
                    .max_ifp
                    .min(max_datagram.saturating_sub(8).min(u16::MAX as usize) as u16);
                let params = T38Params { max_ifp, ..params };
                let make = |direction, fax: &FaxOptions, who: &str| {
                    T38Session::new(T38SessionConfig {
                        direction,
                        fax: fax.clone(),
                        t38: params,
                        pacing,
                        label: format!("{}-{who}", config.label),
                    })
                };
                let end = |session| -> Result<T38End, SimError> {
                    Ok(T38End {
                        session,
                        tx: Sender::new(SenderConfig {
                            error_correction,
                            max_datagram,
                        })?,
                        inbox: IfpInbox::new(Receiver::default(), params.version),
                        wire: Vec::new(),
                    })
                };
                let a = end(make(send_dir, &config.sender, "tx")?)?;
                let b = end(make(recv_dir, &config.receiver, "rx")?)?;
                Ends::T38(Box::new((a, b)))
            }
            Transport::Audio { law } => {
                let delay_ms = u64::from(config.forward.latency_ms.max(config.backward.latency_ms))
                    + u64::from(config.forward.jitter_ms.max(config.backward.jitter_ms))
                    + 20;
                let playout_delay = delay_ms.div_ceil(20) + 1;
                let make = |direction, fax: &FaxOptions, who: &str| -> Result<AudioEnd, SimError> {
                    Ok(AudioEnd {
                        session: AudioSession::new(AudioSessionConfig {
                            direction,
                            fax: fax.clone(),
                            law,
                            label: format!("{}-{who}", config.label),
                        })?,
                        tx_seq: 0,
                        playout: BTreeMap::new(),
                        next_play: 0,
                        playout_delay,
                    })
                };
                Ends::Audio(Box::new((
                    make(send_dir, &config.sender, "tx")?,
                    make(recv_dir, &config.receiver, "rx")?,
                )))
            }
        };
        let max_steps =
            (config.max_duration.as_micros() / u128::from(STEP_US)).min(u64::MAX as u128) as u64;
        let line = Line {
            forward: Channel::new(config.forward, config.seed),
            backward: Channel::new(config.backward, config.seed ^ 0xA5A5_5A5A_DEAD_BEEF),
            fwd_stats: LinkStats::default(),
            bwd_stats: LinkStats::default(),
            clock: Clock {
                step: 0,
                max_steps,
                hang_up_at: None,
                first_sender: None,
                timed_out: false,
            },
            sender_events: Vec::new(),
            receiver_events: Vec::new(),
            recording: false,
        };
        Ok(Self {
            ends,
            line,
            line_time: None,
        })
    }

    /// True once both ends finished (or were hung up at the time limit).
    pub fn is_done(&self) -> bool {
        self.line_time.is_some()
    }

    /// Advances the call by 20 ms of simulated time. Returns true when the call is over.
    pub fn step(&mut self) -> bool {
        if self.line_time.is_some() {
            return true;
        }
        let both_done = match &mut self.ends {
            Ends::T38(pair) => self.line.step(&mut pair.0, &mut pair.1),
            Ends::Audio(pair) => self.line.step(&mut pair.0, &mut pair.1),
        };
        if both_done {
            self.line_time = Some(STEP * self.line.clock.step as u32);
        }
        both_done
    }

    /// Records every datagram both directions of the line carry (or lose), for
    /// [`CallReport::capture`]: the trace of a call worth looking at, e.g. the first failure of a
    /// matrix cell run again with its seed.
    pub fn record(&mut self) {
        self.line.forward.record();
        self.line.backward.record();
        self.line.recording = true;
    }

    /// Hangs both ends up at the next [`step`](Self::step) (T.30 is then terminated on both).
    pub fn hang_up(&mut self) {
        self.line.clock.max_steps = self.line.clock.step + 1;
    }

    /// The report of a finished call, with what the run cost as the meter measured it.
    pub(super) fn into_report(self, cost: StepCost) -> CallReport {
        match &self.ends {
            Ends::T38(pair) => self.line.report(&pair.0, &pair.1, self.line_time, cost),
            Ends::Audio(pair) => self.line.report(&pair.0, &pair.1, self.line_time, cost),
        }
    }
}

fn unfinished() -> FaxReport {
    use crate::session::{Resolution, T30Error};
    FaxReport {
        outcome: Err(FaxError {
            kind: T30Error::CallDropped,
            text: "simulation ended before phase E".into(),
        }),
        pages: 0,
        bit_rate: 0,
        resolution: Resolution::default(),
        ecm: false,
        bad_rows: 0,
        ecm_retries: 0,
        remote_ident: None,
        compression: 0,
    }
}
