//! A T.38 fax on UDPTL: UDPTL receiver → spandsp T.38 terminal → UDPTL sender.

use faxline_t38::ifp::strip_fec_padding;
use faxline_t38::sdp::NegotiatedT38;
use faxline_t38::session::{FaxReport, SessionEvent, T38Session, T38SessionConfig};
use faxline_t38::udptl::{Receiver, ReceiverConfig, RxEvent, Sender, SenderConfig, UdptlPacket};

use super::TICK_SAMPLES;
use super::port::FaxStream;
use super::wire::Wire;
use super::{MediaError, MediaJob, MediaStats};

/// An IFP rebuilt by FEC carries zero padding up to its group's longest member; spandsp refuses
/// trailing octets, so it is cut back to the IFP itself.
fn unpad(ifp: &[u8], recovered: bool, version: u8) -> &[u8] {
    if recovered {
        strip_fec_padding(ifp, version)
    } else {
        ifp
    }
}

pub(super) struct UdptlStream {
    session: T38Session,
    tx: Sender,
    rx: Receiver,
    out: Vec<u8>,
    ifps: Vec<(u16, Vec<u8>)>,
    idle_ticks: u32,
    /// The negotiated T.38 version: FEC padding is cut by parsing the IFP under it.
    version: u8,
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
            rx: Receiver::new(ReceiverConfig::default()),
            out: Vec::with_capacity(1500),
            ifps: Vec::new(),
            idle_ticks: 0,
            version: p.version,
        })
    }

    fn receive(&mut self, wire: &mut Wire, stats: &mut MediaStats) {
        let (rx, ifps, version) = (&mut self.rx, &mut self.ifps, self.version);
        let (mut malformed, mut lost) = (0, 0);
        let got = wire.receive(
            stats,
            |d| UdptlPacket::decode(d).is_ok(),
            |d| {
                let r = rx.handle_datagram(d, |ev| match ev {
                    RxEvent::Ifp {
                        seq,
                        ifp,
                        recovered,
                    } => ifps.push((seq, unpad(ifp, recovered, version).to_vec())),
                    RxEvent::Lost { count, .. } => lost += u64::from(count),
                    RxEvent::Resync { .. } => {}
                });
                if r.is_err() {
                    malformed += 1;
                }
            },
        );
        stats.malformed += malformed;
        stats.lost += lost;
        if got {
            self.idle_ticks = 0;
        } else {
            self.idle_ticks += 1;
            if self.idle_ticks == 2 {
                let (ifps, version) = (&mut self.ifps, self.version);
                self.rx.handle_flush(|ev| {
                    if let RxEvent::Ifp {
                        seq,
                        ifp,
                        recovered,
                    } = ev
                    {
                        ifps.push((seq, unpad(ifp, recovered, version).to_vec()));
                    }
                });
            }
        }
        for (seq, ifp) in self.ifps.drain(..) {
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
            wire.send(&self.out, stats);
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
