//! Symmetric latching (telephony.md §6.6, Asterisk `t38_udptl_nat`/`rtp_symmetric`), sans-IO.
//!
//! The policy, for UDPTL and RTP alike:
//! - Until the first valid packet arrives we send to the address from the SDP.
//! - The first *valid* packet (one that decodes; junk never latches) latches us to its source,
//!   whatever the SDP said: NAT and multi-homed peers send from elsewhere than they advertise.
//! - Once latched, packets from any other address are ignored (counted, never decoded, never
//!   answered), so a third party cannot inject into or hijack the stream. There is no re-latch on
//!   silence: T.38 ends are legitimately silent for the length of a page, exactly when a hijack
//!   would hurt most.
//! - One exception: the SDP address is what the signalling told us, so a packet from it re-latches
//!   there even if another source latched first (a stray or hostile packet that won the race at
//!   call start cannot keep the stream).
//! - A re-INVITE that moves the stream ([`Latch::retarget`]) unlatches and sends to the new SDP
//!   address until a packet arrives again.
//!
//! Not followed: a NAT binding that changes mid-call without a re-INVITE.

use std::net::SocketAddr;

/// What to do with a valid packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// From the latched source (or the first packet, now latched): use it.
    Accept,
    /// From the SDP address while latched elsewhere: latched there now, use it.
    Relatched,
    /// From a third address while latched: drop it.
    Ignore,
}

/// Where to send, and which source to listen to.
#[derive(Debug, Clone)]
pub struct Latch {
    sdp: SocketAddr,
    target: SocketAddr,
    latched: bool,
}

impl Latch {
    /// Sending to `sdp_remote` until a packet arrives.
    pub fn new(sdp_remote: SocketAddr) -> Self {
        Self {
            sdp: sdp_remote,
            target: sdp_remote,
            latched: false,
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

    /// Whether a packet from `from` may be looked at at all; others are dropped undecoded.
    pub fn may_consider(&self, from: SocketAddr) -> bool {
        !self.latched || from == self.target || from == self.sdp
    }

    /// Whether a packet from `from` may be used (call only after it decoded).
    pub fn valid_packet(&mut self, from: SocketAddr) -> Verdict {
        if !self.latched || from == self.target {
            self.latched = true;
            self.target = from;
            return Verdict::Accept;
        }
        if from == self.sdp {
            self.target = from;
            return Verdict::Relatched;
        }
        Verdict::Ignore
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
        assert_eq!(l.valid_packet(a(5000)), Verdict::Accept);
    }

    #[test]
    fn the_sdp_address_wins_back_the_latch_and_retarget_unlatches() {
        let mut l = Latch::new(a(4000));
        assert_eq!(
            l.valid_packet(a(6666)),
            Verdict::Accept,
            "a stray won the race"
        );
        assert!(l.may_consider(a(4000)));
        assert_eq!(l.valid_packet(a(4000)), Verdict::Relatched);
        assert_eq!(l.target(), a(4000));
        assert_eq!(l.valid_packet(a(6666)), Verdict::Ignore);
        l.retarget(a(7000));
        assert!(!l.is_latched());
        assert_eq!(l.target(), a(7000));
        assert_eq!(l.valid_packet(a(8000)), Verdict::Accept);
    }
}
