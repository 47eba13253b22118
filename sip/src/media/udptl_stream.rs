//! A T.38 fax on UDPTL: UDPTL receiver → spandsp T.38 terminal → UDPTL sender.

use faxline_t38::sdp::NegotiatedT38;
use faxline_t38::session::{FaxReport, SessionEvent, T38Session, T38SessionConfig};
use faxline_t38::udptl::{IfpInbox, Receiver, ReceiverConfig, Sender, SenderConfig, UdptlPacket};

use super::TICK_SAMPLES;
use super::port::FaxStream;
use super::wire::Wire;
use super::{MediaError, MediaJob, MediaStats};

pub(super) struct UdptlStream {
    session: T38Session,
    tx: Sender,
    inbox: IfpInbox,
    out: Vec<u8>,
}

impl UdptlStream {
    pub(super) fn new(job: &MediaJob, p: &NegotiatedT38, pacing: bool) -> Result<Self, MediaError> {
        let ec = p.ec.to_udptl();
        let max_datagram = p.far_max_datagram as usize;
        let tx = Sender::new(SenderConfig {
            error_correction: ec,
            max_datagram,
        })
        .map_err(|e| MediaError::Session(e.to_string()))?;
        let session = T38Session::new(T38SessionConfig {
            direction: job.direction.clone(),
            fax: job.fax.clone(),
            t38: p.session_params(),
            pacing,
            label: job.label.clone(),
        })
        .map_err(|e| MediaError::Session(e.to_string()))?;
        Ok(Self {
            session,
            tx,
            inbox: IfpInbox::new(Receiver::new(ReceiverConfig::default()), p.version),
            out: Vec::with_capacity(1500),
        })
    }

    fn receive(&mut self, wire: &mut Wire, stats: &mut MediaStats) {
        let inbox = &mut self.inbox;
        let (mut malformed, mut lost) = (0, 0);
        let got = wire.receive(
            stats,
            |d| UdptlPacket::decode(d).is_ok(),
            |d| match inbox.handle_datagram(d) {
                Ok(n) => lost += n,
                Err(_) => malformed += 1,
            },
        );
        stats.malformed += malformed;
        stats.lost += lost;
        // The receiver counts for the whole session; one stream per session, so its total is ours.
        stats.recovered = self.inbox.stats().recovered;
        if !got {
            self.inbox.handle_quiet_step();
        }
        while let Some((seq, ifp)) = self.inbox.poll_ifp() {
            if self.session.handle_ifp(seq, &ifp).is_err() {
                stats.malformed += 1;
            }
        }
    }

    fn send(&mut self, wire: &mut Wire, stats: &mut MediaStats) {
        while let Some(ifp) = self.session.poll_transmit() {
            self.out.clear();
            if self
                .tx
                .handle_ifp(&ifp.data, ifp.category, &mut self.out)
                .is_err()
            {
                continue;
            }
            // Indicators and the end of each signal go several times (`OutgoingIfp::copies`).
            for _ in 0..ifp.copies() {
                wire.send(&self.out, stats);
            }
        }
    }
}

impl FaxStream for UdptlStream {
    fn step(&mut self, wire: &mut Wire, stats: &mut MediaStats) {
        self.receive(wire, stats);
        self.session.handle_elapsed(TICK_SAMPLES);
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
