//! A G.711 audio fax on RTP (the fallback when T.38 is refused): RTP in → fixed playout buffer →
//! spandsp fax modems → 20 ms G.711 frames → RTP out.
//!
//! The audio stream is spandsp's clock (telephony.md §5.3): every tick plays exactly one frame
//! in, a received one or a gap, and sends exactly one frame out, silence when idle, so the far
//! end sees a continuous stream and T.30 timers advance even when nothing arrives.

use faxline_t38::session::{AudioSession, AudioSessionConfig, FaxReport, G711Law, SessionEvent};

use super::TICK_SAMPLES;
use super::port::FaxStream;
use super::wire::Wire;
use super::{MediaError, MediaJob, MediaStats};
use crate::rtp::{Playout, PlayoutBuffer, RtpPacket, RtpSender};

/// Frames held before playout starts: 60 ms, enough for scheduling jitter on one host or a LAN.
const PLAYOUT_DEPTH: usize = 3;

pub(super) struct RtpStream {
    session: AudioSession,
    payload_type: u8,
    sender: RtpSender,
    playout: PlayoutBuffer,
    far_ssrc: Option<u32>,
    out: Vec<u8>,
}

impl RtpStream {
    pub(super) fn new(job: &MediaJob, payload_type: u8) -> Result<Self, MediaError> {
        let law = match payload_type {
            crate::media_sdp::PCMU => G711Law::Ulaw,
            crate::media_sdp::PCMA => G711Law::Alaw,
            other => {
                return Err(MediaError::Session(format!(
                    "payload type {other} is not G.711"
                )));
            }
        };
        let session = AudioSession::new(AudioSessionConfig {
            direction: job.direction.clone(),
            fax: job.fax.clone(),
            law,
            label: job.label.clone(),
        })
        .map_err(|e| MediaError::Session(e.to_string()))?;
        Ok(Self {
            session,
            payload_type,
            sender: RtpSender::new(payload_type, rand::random(), rand::random(), rand::random()),
            playout: PlayoutBuffer::new(PLAYOUT_DEPTH),
            far_ssrc: None,
            out: Vec::with_capacity(12 + TICK_SAMPLES as usize),
        })
    }

    fn receive(&mut self, wire: &mut Wire, stats: &mut MediaStats) {
        let pt = self.payload_type;
        let (playout, far_ssrc) = (&mut self.playout, &mut self.far_ssrc);
        wire.receive(
            stats,
            // Only our negotiated G.711 payload counts (no comfort noise, no DTMF events).
            |d| RtpPacket::parse(d).is_ok_and(|p| p.payload_type == pt && !p.payload.is_empty()),
            |d| {
                let Ok(p) = RtpPacket::parse(d) else { return };
                if far_ssrc.is_some_and(|s| s != p.ssrc) {
                    // A new source (re-latched, restarted): its numbering starts over.
                    playout.reset();
                }
                *far_ssrc = Some(p.ssrc);
                playout.push(p.seq, p.payload);
            },
        );
        match self.playout.pop() {
            Playout::Frame(f) => self.session.handle_audio(&f),
            Playout::Missing => {
                stats.lost += 1;
                self.session.handle_gap(TICK_SAMPLES);
            }
            Playout::Filling => self.session.handle_gap(TICK_SAMPLES),
        }
    }

    fn send(&mut self, wire: &mut Wire, stats: &mut MediaStats) {
        let frame = self.session.poll_transmit(TICK_SAMPLES as usize);
        self.sender.packetize(&frame, &mut self.out);
        wire.send(&self.out, stats);
    }
}

impl FaxStream for RtpStream {
    fn step(&mut self, wire: &mut Wire, stats: &mut MediaStats) {
        self.receive(wire, stats);
        self.send(wire, stats);
    }

    fn poll_event(&mut self) -> Option<SessionEvent> {
        self.session.poll_event()
    }

    fn is_finished(&self) -> bool {
        self.session.is_finished()
    }

    fn hang_up(&mut self) {
        self.session.handle_hangup();
    }

    fn report(&self) -> Option<&FaxReport> {
        self.session.report()
    }
}
