//! The socket side of one media port: a non-blocking UDP socket, the latch deciding where to send
//! and whom to listen to, and the optional loss model in front of the socket.

use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};

use faxline_t38::sim::{Channel, ChannelModel};

use super::MediaStats;
use super::latch::{Latch, Verdict};

/// Media time of one tick in microseconds (the loss model's clock).
const TICK_US: u64 = 20_000;

/// One port's socket, latch and loss model.
pub(super) struct Wire {
    socket: UdpSocket,
    pub(super) latch: Latch,
    loss: Option<Channel>,
    now_us: u64,
    buf: Vec<u8>,
}

impl Wire {
    pub(super) fn new(
        socket: UdpSocket,
        remote: SocketAddr,
        loss: Option<(ChannelModel, u64)>,
    ) -> Self {
        Self {
            socket,
            latch: Latch::new(remote),
            loss: loss.map(|(m, seed)| Channel::new(m, seed)),
            now_us: 0,
            buf: vec![0; 2048],
        }
    }

    /// Receives every waiting datagram. `valid` says whether one decodes; valid datagrams the
    /// latch accepts go to `use_it`. Returns whether anything usable arrived.
    pub(super) fn receive(
        &mut self,
        stats: &mut MediaStats,
        mut valid: impl FnMut(&[u8]) -> bool,
        mut use_it: impl FnMut(&[u8]),
    ) -> bool {
        let mut got = false;
        loop {
            let (n, from) = match self.socket.recv_from(&mut self.buf) {
                Ok(r) => r,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                // ICMP port unreachable and the like: the peer may come back.
                Err(_) => break,
            };
            stats.received += 1;
            let data = &self.buf[..n];
            if !self.latch.may_consider(from) {
                stats.ignored += 1;
                continue;
            }
            if !valid(data) {
                stats.malformed += 1;
                continue;
            }
            match self.latch.valid_packet(from) {
                Verdict::Accept => {}
                Verdict::Relatched => stats.relatched += 1,
                Verdict::Ignore => {
                    stats.ignored += 1;
                    continue;
                }
            }
            got = true;
            use_it(data);
        }
        got
    }

    /// Sends one datagram to the latched address (through the loss model when there is one).
    pub(super) fn send(&mut self, datagram: &[u8], stats: &mut MediaStats) {
        match &mut self.loss {
            Some(ch) => ch.send(self.now_us, datagram.to_vec()),
            None => {
                if self.socket.send_to(datagram, self.latch.target()).is_ok() {
                    stats.sent += 1;
                }
            }
        }
    }

    /// Ends the tick: releases what the loss model lets through and advances media time.
    pub(super) fn end_tick(&mut self, stats: &mut MediaStats) {
        if let Some(ch) = &mut self.loss {
            while let Some(d) = ch.receive(self.now_us) {
                if self.socket.send_to(&d, self.latch.target()).is_ok() {
                    stats.sent += 1;
                }
            }
            stats.channel_lost = ch.stats().lost;
        }
        self.now_us += TICK_US;
    }
}
