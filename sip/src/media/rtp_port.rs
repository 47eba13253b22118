//! A G.711 audio fax session on an RTP socket (the fallback when T.38 is refused): RTP in →
//! fixed playout buffer → spandsp fax modems → 20 ms G.711 frames → RTP out.
//!
//! The audio stream is spandsp's clock (telephony.md §5.3): every tick plays exactly one frame
//! in, a received one or a gap, and sends exactly one frame out, silence when idle, so the far
//! end sees a continuous stream and T.30 timers advance even when nothing arrives.

use std::net::{SocketAddr, UdpSocket};

use faxline_t38::session::{AudioSession, AudioSessionConfig, G711Law};

use super::TICK_SAMPLES;
use super::wire::Wire;
use super::{
    AudioJob, DoneFn, MediaError, MediaPort, MediaStats, SessionEvents, deliver_outcome,
    linger_over,
};
use crate::rtp::{Playout, PlayoutBuffer, RtpPacket, RtpSender};

/// Frames held before playout starts: 60 ms, enough for scheduling jitter on one host or a LAN.
const PLAYOUT_DEPTH: usize = 3;

pub(super) struct RtpPort {
    id: u64,
    session: AudioSession,
    wire: Wire,
    payload_type: u8,
    sender: RtpSender,
    playout: PlayoutBuffer,
    far_ssrc: Option<u32>,
    stats: MediaStats,
    linger: Option<u32>,
    events: Option<SessionEvents>,
    done: Option<DoneFn>,
    out: Vec<u8>,
}

impl RtpPort {
    pub(super) fn new(
        job: AudioJob,
        socket: UdpSocket,
        id: u64,
        done: DoneFn,
    ) -> Result<Self, MediaError> {
        let events = job.events.clone();
        let law = match job.payload_type {
            crate::media_sdp::PCMU => G711Law::Ulaw,
            crate::media_sdp::PCMA => G711Law::Alaw,
            other => {
                return Err(MediaError::Session(format!(
                    "payload type {other} is not G.711"
                )));
            }
        };
        let session = AudioSession::new(AudioSessionConfig {
            direction: job.direction,
            fax: job.fax,
            law,
            label: job.label,
        })
        .map_err(|e| MediaError::Session(e.to_string()))?;
        Ok(Self {
            id,
            session,
            wire: Wire::new(socket, job.remote, job.loss),
            payload_type: job.payload_type,
            sender: RtpSender::new(
                job.payload_type,
                rand::random(),
                rand::random(),
                rand::random(),
            ),
            playout: PlayoutBuffer::new(PLAYOUT_DEPTH),
            far_ssrc: None,
            stats: MediaStats::default(),
            linger: None,
            events,
            done: Some(done),
            out: Vec::with_capacity(12 + TICK_SAMPLES as usize),
        })
    }

    fn receive(&mut self) {
        let pt = self.payload_type;
        let (playout, far_ssrc) = (&mut self.playout, &mut self.far_ssrc);
        self.wire.receive(
            &mut self.stats,
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
                self.stats.lost += 1;
                self.session.handle_gap(TICK_SAMPLES);
            }
            Playout::Filling => self.session.handle_gap(TICK_SAMPLES),
        }
    }

    fn send(&mut self) {
        let frame = self.session.poll_transmit(TICK_SAMPLES as usize);
        self.sender.packetize(&frame, &mut self.out);
        self.wire.send(&self.out, &mut self.stats);
        self.wire.end_tick(&mut self.stats);
    }
}

impl MediaPort for RtpPort {
    fn id(&self) -> u64 {
        self.id
    }

    fn tick(&mut self) -> bool {
        self.receive();
        self.send();
        SessionEvents::forward(self.events.as_ref(), || self.session.poll_event());
        linger_over(&mut self.linger, self.session.is_finished())
    }

    fn retarget(&mut self, remote: SocketAddr) {
        self.wire.latch.retarget(remote);
    }

    fn stats(&self) -> MediaStats {
        self.stats
    }

    fn finish(&mut self) {
        self.session.handle_hangup();
        deliver_outcome(&mut self.done, self.session.report(), self.stats);
    }
}
