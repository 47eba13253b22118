//! A T.38 session on a UDPTL socket: UDPTL receiver → spandsp T.38 terminal → UDPTL sender.

use std::net::UdpSocket;

use faxline_t38::ifp::strip_fec_padding;
use faxline_t38::session::{T38Session, T38SessionConfig};
use faxline_t38::udptl::{Receiver, ReceiverConfig, RxEvent, Sender, SenderConfig, UdptlPacket};

use super::TICK_SAMPLES;
use super::wire::Wire;
use super::{
    DoneFn, MediaError, MediaPort, MediaStats, SessionEvents, T38Job, deliver_outcome, linger_over,
};

/// An IFP rebuilt by FEC carries zero padding up to its group's longest member; spandsp refuses
/// trailing octets, so it is cut back to the IFP itself.
fn unpad(ifp: &[u8], recovered: bool, version: u8) -> &[u8] {
    if recovered {
        strip_fec_padding(ifp, version)
    } else {
        ifp
    }
}

pub(super) struct UdptlPort {
    id: u64,
    session: T38Session,
    wire: Wire,
    tx: Sender,
    rx: Receiver,
    stats: MediaStats,
    linger: Option<u32>,
    events: Option<SessionEvents>,
    done: Option<DoneFn>,
    out: Vec<u8>,
    ifps: Vec<(u16, Vec<u8>)>,
    idle_ticks: u32,
    /// The negotiated T.38 version: FEC padding is cut by parsing the IFP under it.
    version: u8,
}

impl UdptlPort {
    pub(super) fn new(
        job: T38Job,
        socket: UdpSocket,
        pacing: bool,
        id: u64,
        done: DoneFn,
    ) -> Result<Self, MediaError> {
        let events = job.events.clone();
        let p = job.params;
        let ec = p.ec.to_udptl();
        let max_datagram = p.far_max_datagram as usize;
        let tx = Sender::new(SenderConfig {
            error_correction: ec,
            max_datagram,
        })
        .map_err(|e| MediaError::Session(e.to_string()))?;
        let session = T38Session::new(T38SessionConfig {
            direction: job.direction,
            fax: job.fax,
            t38: p.session_params(),
            pacing,
            label: job.label,
        })
        .map_err(|e| MediaError::Session(e.to_string()))?;
        Ok(Self {
            id,
            session,
            wire: Wire::new(socket, job.remote, job.loss),
            tx,
            rx: Receiver::new(ReceiverConfig::default()),
            stats: MediaStats::default(),
            linger: None,
            events,
            done: Some(done),
            out: Vec::with_capacity(1500),
            ifps: Vec::new(),
            idle_ticks: 0,
            version: p.version,
        })
    }

    fn receive(&mut self) {
        let (rx, ifps, version) = (&mut self.rx, &mut self.ifps, self.version);
        let (mut malformed, mut lost) = (0, 0);
        let got = self.wire.receive(
            &mut self.stats,
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
        self.stats.malformed += malformed;
        self.stats.lost += lost;
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
                self.stats.malformed += 1;
            }
        }
    }

    fn send(&mut self) {
        while let Some(ifp) = self.session.poll_transmit() {
            self.out.clear();
            if self
                .tx
                .handle_ifp(&ifp.data, ifp.category, &mut self.out)
                .is_err()
            {
                continue;
            }
            self.wire.send(&self.out, &mut self.stats);
        }
        self.wire.end_tick(&mut self.stats);
    }
}

impl MediaPort for UdptlPort {
    fn id(&self) -> u64 {
        self.id
    }

    fn tick(&mut self) -> bool {
        self.receive();
        self.session.handle_elapsed(TICK_SAMPLES);
        SessionEvents::forward(self.events.as_ref(), || self.session.poll_event());
        self.send();
        linger_over(&mut self.linger, self.session.is_finished())
    }

    fn retarget(&mut self, remote: std::net::SocketAddr) {
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
