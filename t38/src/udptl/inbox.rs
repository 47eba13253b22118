//! Between the UDPTL receiver and a fax session: the IFPs a T.38 endpoint hands spandsp, in
//! sequence order, with FEC padding cut, and gaps given up when the peer goes quiet. One place
//! for what the SIP line's media and the simulator both do with received datagrams.

use std::collections::VecDeque;

use super::error::UdptlError;
use super::receiver::{Receiver, RxEvent, RxStats};
use crate::ifp::strip_fec_padding;

/// Quiet steps after which IFPs held behind a gap are given up (FEC waits for later packets;
/// a quiet peer sends none, and T.30 must not stall on the transport).
const QUIET_STEPS_BEFORE_FLUSH: u32 = 2;

/// Received IFPs on their way to a fax session. Sans-IO: datagrams and steps in, IFPs out.
#[derive(Debug, Clone)]
pub struct IfpInbox {
    rx: Receiver,
    /// The negotiated T.38 version: FEC padding is cut by parsing the IFP under it.
    version: u8,
    quiet_steps: u32,
    ready: VecDeque<(u16, Vec<u8>)>,
}

impl IfpInbox {
    /// An inbox over `rx` for IFPs of T.38 `version`.
    pub fn new(rx: Receiver, version: u8) -> Self {
        Self {
            rx,
            version,
            quiet_steps: 0,
            ready: VecDeque::new(),
        }
    }

    /// A datagram arrived. Returns how many IFPs it made the receiver give up as lost; a
    /// malformed datagram is the receiver's error and changes nothing else.
    pub fn handle_datagram(&mut self, datagram: &[u8]) -> Result<u64, UdptlError> {
        self.quiet_steps = 0;
        let (ready, version) = (&mut self.ready, self.version);
        let mut lost = 0;
        self.rx.handle_datagram(datagram, |ev| match ev {
            RxEvent::Lost { count, .. } => lost += u64::from(count),
            ev => queue(ready, version, ev),
        })?;
        Ok(lost)
    }

    /// A step passed in which nothing arrived. The second such step in a row hands up every IFP
    /// still held (the gaps it gives up are counted in [`IfpInbox::stats`] only).
    pub fn handle_quiet_step(&mut self) {
        self.quiet_steps += 1;
        if self.quiet_steps == QUIET_STEPS_BEFORE_FLUSH {
            let (ready, version) = (&mut self.ready, self.version);
            self.rx.handle_flush(|ev| queue(ready, version, ev));
        }
    }

    /// The next IFP for the session, with its sequence number.
    pub fn poll_ifp(&mut self) -> Option<(u16, Vec<u8>)> {
        self.ready.pop_front()
    }

    /// The receiver's counters.
    pub fn stats(&self) -> RxStats {
        self.rx.stats()
    }
}

/// Queues a delivered IFP; one repaired by FEC loses its zero padding first (spandsp refuses an
/// IFP with trailing octets).
fn queue(ready: &mut VecDeque<(u16, Vec<u8>)>, version: u8, ev: RxEvent<'_>) {
    if let RxEvent::Ifp {
        seq,
        ifp,
        recovered,
    } = ev
    {
        let ifp = if recovered {
            strip_fec_padding(ifp, version)
        } else {
            ifp
        };
        ready.push_back((seq, ifp.to_vec()));
    }
}
