//! Symmetric latching (telephony.md §6.6, Asterisk `t38_udptl_nat`/`rtp_symmetric`), sans-IO.
//!
//! The policy, for UDPTL and RTP alike:
//! - Until the first valid packet arrives we send to the address from the SDP.
//! - The first *valid* packet (one that decodes; junk never latches) latches us to its source,
//!   whatever the SDP said: NAT and multi-homed peers send from elsewhere than they advertise.
//! - Once latched, packets from any other address are ignored (counted), so a third party cannot
//!   inject into or hijack the stream.
//! - Except when the latched source has been silent for [`RELATCH_AFTER_TICKS`] (1 s of media
//!   time): then the next valid packet from a new address re-latches (NAT rebinding, a peer that
//!   moved its media without telling us).
//! - A re-INVITE that moves the stream ([`Latch::retarget`]) unlatches and sends to the new SDP
//!   address until a packet arrives again.

use std::net::SocketAddr;

/// Ticks (20 ms each) of silence from the latched source after which another source may latch.
pub const RELATCH_AFTER_TICKS: u32 = 50;

/// What to do with a valid packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// From the latched source (or the first packet, now latched): use it.
    Accept,
    /// From a new source after the old one went silent: latched there, use it.
    Relatched,
    /// From a third address while latched: drop it.
    Ignore,
}

/// Where to send, and which source to listen to.
#[derive(Debug, Clone)]
pub struct Latch {
    target: SocketAddr,
    latched: bool,
    silent_ticks: u32,
}

impl Latch {
    /// Sending to `sdp_remote` until a packet arrives.
    pub fn new(sdp_remote: SocketAddr) -> Self {
        Self {
            target: sdp_remote,
            latched: false,
            silent_ticks: 0,
        }
    }

    /// Where datagrams go now.
    pub fn target(&self) -> SocketAddr {
        self.target
    }

    /// True once a packet has latched us.
    pub fn is_latched(&self) -> bool {
        self.latched
    }

    /// Whether a packet from `from` may be used (call only after it decoded).
    pub fn valid_packet(&mut self, from: SocketAddr) -> Verdict {
        if !self.latched || from == self.target {
            self.latched = true;
            self.target = from;
            self.silent_ticks = 0;
            return Verdict::Accept;
        }
        if self.silent_ticks >= RELATCH_AFTER_TICKS {
            self.target = from;
            self.silent_ticks = 0;
            return Verdict::Relatched;
        }
        Verdict::Ignore
    }

    /// Whether a packet from `from` may be looked at at all (a foreign source while latched and
    /// the latched one still alive is dropped before decoding).
    pub fn may_consider(&self, from: SocketAddr) -> bool {
        !self.latched || from == self.target || self.silent_ticks >= RELATCH_AFTER_TICKS
    }

    /// One tick passed.
    pub fn tick(&mut self) {
        self.silent_ticks = self.silent_ticks.saturating_add(1);
    }

    /// The stream moved (re-INVITE with a new address): send there until a packet arrives.
    pub fn retarget(&mut self, sdp_remote: SocketAddr) {
        *self = Self::new(sdp_remote);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    #[test]
    fn latches_to_first_source_and_ignores_a_third_address() {
        let mut l = Latch::new(a(4000));
        assert_eq!(l.target(), a(4000));
        assert_eq!(l.valid_packet(a(5000)), Verdict::Accept);
        assert_eq!(l.target(), a(5000));
        assert!(!l.may_consider(a(6000)));
        assert_eq!(l.valid_packet(a(6000)), Verdict::Ignore);
        assert_eq!(l.target(), a(5000));
        assert_eq!(
            l.valid_packet(a(4000)),
            Verdict::Ignore,
            "not even the SDP address"
        );
    }

    #[test]
    fn relatches_after_silence_and_unlatches_on_retarget() {
        let mut l = Latch::new(a(4000));
        l.valid_packet(a(5000));
        for _ in 0..RELATCH_AFTER_TICKS - 1 {
            l.tick();
        }
        assert_eq!(l.valid_packet(a(6000)), Verdict::Ignore);
        l.tick();
        assert!(l.may_consider(a(6000)));
        assert_eq!(l.valid_packet(a(6000)), Verdict::Relatched);
        assert_eq!(l.target(), a(6000));
        l.retarget(a(7000));
        assert!(!l.is_latched());
        assert_eq!(l.target(), a(7000));
        assert_eq!(l.valid_packet(a(8000)), Verdict::Accept);
    }
}
