//! The UDPTL receiver: turns datagrams (in any order, with losses and duplicates) into IFPs
//! handed upward in sequence order, each exactly once, recovering what redundancy and FEC allow.

use super::error::UdptlError;
use super::packet::{Recovery, UdptlPacket};
use super::sender::{MAX_FEC_ENTRIES, MAX_FEC_SPAN, xor_into};

/// The most slots a receiver keeps (power of two): `WINDOW` ahead of the delivery point plus the
/// largest FEC reach behind it.
const MAX_RING: usize = 256;
/// The slots a receiver starts with. An in-order stream with redundancy (Asterisk's default)
/// never needs more; the ring doubles when a packet lands farther ahead or FEC reaches farther
/// back ([`Receiver::reserve`]), so a thousand calls do not each carry 256 slots they never use.
const MIN_RING: usize = 16;
/// How far beyond the next undelivered packet a packet may land before the receiver gives up on
/// the packets in between.
const WINDOW: i64 = 128;

/// What the receiver hands upward, in sequence order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RxEvent<'a> {
    /// The IFP with sequence number `seq` (feed it to spandsp's `t38_core_rx_ifp_packet`).
    Ifp {
        /// Its sequence number.
        seq: u16,
        /// The IFP octets. A packet repaired by FEC has the length of its parity entry, i.e. it
        /// may end in zero padding when the group's IFPs differ in length (a limit of T.38 FEC).
        ifp: &'a [u8],
        /// True when it was rebuilt from a secondary or FEC rather than received as a primary.
        recovered: bool,
    },
    /// `count` IFPs from `first_seq` on (wrapping) are lost for good: neither received nor
    /// recoverable. spandsp notices the gap from the next IFP's sequence number and runs its
    /// missing-packet handling; this event is for logs and statistics.
    Lost {
        /// First lost sequence number.
        first_seq: u16,
        /// How many consecutive sequence numbers.
        count: u16,
    },
    /// The stream jumped by more than the resync threshold (peer restarted its numbering, or a
    /// huge outage). Held IFPs were delivered first; numbering continues at `received`, and the
    /// unknown gap is not counted as lost.
    Resync {
        /// The sequence number the receiver expected next.
        expected: u16,
        /// The sequence number that arrived.
        received: u16,
    },
}

/// Receiver tuning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiverConfig {
    /// How many packets beyond a missing one the receiver waits for it (to come late or be
    /// repaired by FEC) before declaring it lost. `None` = automatic: 0 until FEC is seen, then
    /// `span * entries` of the largest FEC seen (the farthest packet whose parity can repair it).
    /// Redundancy repairs a gap with the very next packet, so it needs no wait.
    pub max_hold: Option<u16>,
    /// A sequence number more than this far ahead of, or behind, the expected one restarts the
    /// stream ([`RxEvent::Resync`]) instead of being treated as a gap or a late packet.
    pub resync_threshold: u16,
}

impl Default for ReceiverConfig {
    fn default() -> Self {
        Self {
            max_hold: None,
            resync_threshold: 1024,
        }
    }
}

/// Receiver counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RxStats {
    /// Well-formed datagrams received.
    pub received: u64,
    /// IFPs rebuilt from secondaries or FEC (and delivered or held for delivery).
    pub recovered: u64,
    /// IFPs declared lost ([`RxEvent::Lost`] counts).
    pub lost: u64,
    /// Primaries already received or recovered (dropped).
    pub duplicate: u64,
    /// Primaries arriving after their sequence number was declared lost (dropped).
    pub late: u64,
    /// Datagrams rejected as malformed (each also returned as an error).
    pub malformed: u64,
    /// Times the stream was resynchronised.
    pub resyncs: u64,
}

#[derive(Debug, Clone, Default)]
struct Slot {
    /// Extended sequence number the IFP data belongs to (valid when `has_ifp`).
    seq: i64,
    has_ifp: bool,
    recovered: bool,
    ifp: Vec<u8>,
    /// Extended sequence number of the packet whose FEC record this is (valid when `fec_entries > 0`).
    fec_seq: i64,
    fec_span: u8,
    fec_entries: u8,
    fec: Vec<Vec<u8>>,
}

/// The receiving half of a UDPTL stream. Sans-IO: feed datagrams to
/// [`Receiver::handle_datagram`], which calls the sink for every event in order (the crate's
/// convention for codecs whose output is immediate: the events borrow the receiver's ring, so
/// they go to a sink passed in rather than a queue drained by a `poll_*`, and no IFP is copied).
///
/// Sequence numbers are unwrapped into a 64-bit counter relative to the expected one, so the
/// 16-bit wrap (65535 → 0) is seamless. Delivery starts at the first packet received.
#[derive(Debug, Clone)]
pub struct Receiver {
    config: ReceiverConfig,
    started: bool,
    /// Extended sequence number of the next IFP to hand upward.
    next: i64,
    /// Highest extended sequence number stored.
    highest: i64,
    /// Largest `span * entries` seen in FEC packets.
    fec_reach: u16,
    /// How far back the ring keeps packets for FEC: `span` times the most entries a packet may
    /// carry, not the entries seen so far. A sender winds its entries up over the first packets
    /// (as Asterisk does), and a later record's groups reach back to packets an earlier, shorter
    /// reach had let go.
    ring_reach: u16,
    /// Start of the run of lost packets not yet reported.
    lost_run_start: Option<i64>,
    slots: Vec<Slot>,
    stats: RxStats,
}

impl Default for Receiver {
    fn default() -> Self {
        Self::new(ReceiverConfig::default())
    }
}

impl Receiver {
    /// A receiver with the given tuning.
    pub fn new(config: ReceiverConfig) -> Self {
        Self {
            config,
            started: false,
            next: 0,
            highest: 0,
            fec_reach: 0,
            ring_reach: 0,
            lost_run_start: None,
            slots: vec![Slot::default(); MIN_RING],
            stats: RxStats::default(),
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> RxStats {
        self.stats
    }

    /// The sequence number of the next IFP to deliver (`None` before the first packet).
    pub fn next_expected(&self) -> Option<u16> {
        self.started.then_some(self.next as u16)
    }

    /// Processes one datagram, calling `sink` for every IFP it makes deliverable and every gap
    /// given up, in sequence order. A malformed datagram changes nothing but the `malformed`
    /// counter and returns its error.
    pub fn handle_datagram(
        &mut self,
        datagram: &[u8],
        mut sink: impl FnMut(RxEvent<'_>),
    ) -> Result<(), UdptlError> {
        let packet = match UdptlPacket::decode(datagram).and_then(|p| check_limits(&p).map(|()| p))
        {
            Ok(p) => p,
            Err(e) => {
                self.stats.malformed += 1;
                return Err(e);
            }
        };
        self.stats.received += 1;
        let seq = packet.seq;
        if !self.started {
            self.started = true;
            // Start well above zero so secondaries of the first packet never go negative.
            self.next = i64::from(seq) + (1 << 20);
            self.highest = self.next - 1;
        }
        let diff = i64::from(seq.wrapping_sub(self.next as u16) as i16);
        let threshold = i64::from(self.config.resync_threshold);
        if diff < -threshold || diff > threshold {
            self.resync(seq, &mut sink);
        } else if diff < 0 {
            let ext = self.next + diff;
            if self.has(ext) {
                self.stats.duplicate += 1;
            } else {
                self.stats.late += 1;
            }
            return Ok(());
        }
        let ext = self.next + i64::from(seq.wrapping_sub(self.next as u16));
        // Keep the window bounded: give up on what lies too far behind the new packet.
        while ext - self.next >= WINDOW {
            self.advance_one(&mut sink);
        }
        // FEC's reach first: growing the ring must keep the packets this record's groups cover.
        if let Recovery::Fec { span, entries } = &packet.recovery {
            self.fec_reach = self.fec_reach.max(u16::from(*span) * entries.len() as u16);
            self.ring_reach = self
                .ring_reach
                .max(u16::from(*span) * u16::from(MAX_FEC_ENTRIES));
        }
        self.reserve(ext);
        if self.has(ext) {
            self.stats.duplicate += 1;
        } else {
            self.store(ext, packet.primary, false);
        }
        self.highest = self.highest.max(ext);
        match packet.recovery {
            Recovery::Redundancy(secondaries) => {
                for (i, ifp) in secondaries.iter().enumerate() {
                    let s = ext - 1 - i as i64;
                    if s < self.next {
                        break;
                    }
                    if !self.has(s) {
                        self.store(s, ifp, true);
                        self.stats.recovered += 1;
                    }
                }
            }
            Recovery::Fec { span, entries } if span > 0 && !entries.is_empty() => {
                let i = self.index(ext);
                let slot = &mut self.slots[i];
                slot.fec_seq = ext;
                slot.fec_span = span;
                slot.fec_entries = entries.len() as u8;
                if slot.fec.len() < entries.len() {
                    slot.fec.resize(entries.len(), Vec::new());
                }
                for (dst, src) in slot.fec.iter_mut().zip(entries.iter()) {
                    dst.clear();
                    dst.extend_from_slice(src);
                }
                self.repair_fec();
            }
            Recovery::Fec { .. } => {}
        }
        self.deliver(false, &mut sink);
        Ok(())
    }

    /// End of stream, or the caller stops waiting for the peer (it went quiet): hands upward every
    /// IFP still held and reports the remaining gaps as lost.
    pub fn handle_flush(&mut self, mut sink: impl FnMut(RxEvent<'_>)) {
        if self.started {
            self.deliver(true, &mut sink);
        }
    }

    fn index(&self, ext: i64) -> usize {
        ext.rem_euclid(self.slots.len() as i64) as usize
    }

    /// Grows the ring until it holds everything from the oldest packet FEC may still need
    /// (`next - ring_reach`) up to `upto`, so storing `upto` overwrites nothing still needed.
    /// Slots are moved by their own tags: a slot's IFP and its FEC record may belong to different
    /// sequence numbers that only shared a slot under the smaller modulus.
    fn reserve(&mut self, upto: i64) {
        let lo = self.next.min(upto) - i64::from(self.ring_reach);
        let mut len = self.slots.len();
        while upto - lo >= len as i64 && len < MAX_RING {
            len *= 2;
        }
        if len == self.slots.len() {
            return;
        }
        let old = std::mem::replace(&mut self.slots, vec![Slot::default(); len]);
        for slot in old {
            if slot.has_ifp {
                let i = self.index(slot.seq);
                let dst = &mut self.slots[i];
                dst.seq = slot.seq;
                dst.has_ifp = true;
                dst.recovered = slot.recovered;
                dst.ifp = slot.ifp;
            }
            if slot.fec_entries > 0 {
                let i = self.index(slot.fec_seq);
                let dst = &mut self.slots[i];
                dst.fec_seq = slot.fec_seq;
                dst.fec_span = slot.fec_span;
                dst.fec_entries = slot.fec_entries;
                dst.fec = slot.fec;
            }
        }
    }

    fn has(&self, ext: i64) -> bool {
        let slot = &self.slots[self.index(ext)];
        slot.has_ifp && slot.seq == ext
    }

    fn store(&mut self, ext: i64, ifp: &[u8], recovered: bool) {
        let i = self.index(ext);
        let slot = &mut self.slots[i];
        slot.seq = ext;
        slot.has_ifp = true;
        slot.recovered = recovered;
        slot.ifp.clear();
        slot.ifp.extend_from_slice(ifp);
    }

    /// The wait before giving up on a missing packet.
    fn hold(&self) -> i64 {
        i64::from(self.config.max_hold.unwrap_or(self.fec_reach))
    }

    /// Delivers in order from `next`; a missing packet is given up when `all`, or when more than
    /// `hold` packets beyond it have arrived.
    fn deliver(&mut self, all: bool, sink: &mut impl FnMut(RxEvent<'_>)) {
        let hold = self.hold();
        while self.next <= self.highest {
            if !self.has(self.next) && !all && self.highest - self.next <= hold {
                break;
            }
            self.advance_one(sink);
        }
        self.flush_lost(sink);
    }

    /// Hands `next` upward (or records it as lost) and moves on. Lost runs are batched in
    /// `pending_lost` and reported by `flush_lost`.
    fn advance_one(&mut self, sink: &mut impl FnMut(RxEvent<'_>)) {
        let ext = self.next;
        if self.has(ext) {
            self.flush_lost(sink);
            let slot = &self.slots[self.index(ext)];
            sink(RxEvent::Ifp {
                seq: ext as u16,
                ifp: &slot.ifp,
                recovered: slot.recovered,
            });
        } else {
            self.stats.lost += 1;
            let i = self.index(ext);
            let slot = &mut self.slots[i];
            // Mark the run: slot.seq = ext with has_ifp false means "declared lost".
            slot.seq = ext;
            slot.has_ifp = false;
            self.lost_run_start.get_or_insert(ext);
        }
        self.next += 1;
    }

    fn flush_lost(&mut self, sink: &mut impl FnMut(RxEvent<'_>)) {
        if let Some(first) = self.lost_run_start.take() {
            let count = self.next - first;
            // Runs are bounded by the window and the resync threshold, both < 65536.
            sink(RxEvent::Lost {
                first_seq: first as u16,
                count: count.min(i64::from(u16::MAX)) as u16,
            });
        }
    }

    fn resync(&mut self, seq: u16, sink: &mut impl FnMut(RxEvent<'_>)) {
        self.deliver(true, sink);
        let expected = self.next as u16;
        // A fresh extended range beyond every slot tag, congruent to `seq`.
        let base = self.highest.max(self.next) + MAX_RING as i64 + 1;
        let next = base + i64::from(seq.wrapping_sub(base as u16));
        self.next = next;
        self.highest = next - 1;
        self.stats.resyncs += 1;
        sink(RxEvent::Resync {
            expected,
            received: seq,
        });
    }

    /// Rebuilds every missing packet (at or after `next`) that is the only missing member of an
    /// FEC group, repeating while repairs make new groups solvable.
    fn repair_fec(&mut self) {
        let reach = i64::from(MAX_FEC_SPAN) * i64::from(MAX_FEC_ENTRIES);
        let mut progress = true;
        let mut scratch = Vec::new();
        while progress {
            progress = false;
            for p in (self.next - reach).max(self.highest - WINDOW)..=self.highest {
                let slot = &self.slots[self.index(p)];
                if slot.fec_entries == 0 || slot.fec_seq != p {
                    continue;
                }
                let (span, entries) = (i64::from(slot.fec_span), i64::from(slot.fec_entries));
                for m in 0..entries {
                    let first = p + m - span * entries;
                    let mut missing = None;
                    let mut missing_count = 0;
                    for k in 0..span {
                        let s = first + k * entries;
                        if !self.has(s) {
                            missing = Some(s);
                            missing_count += 1;
                        }
                    }
                    let Some(target) = missing else { continue };
                    if missing_count != 1 || target < self.next {
                        continue;
                    }
                    scratch.clear();
                    xor_into(&mut scratch, &self.slots[self.index(p)].fec[m as usize]);
                    let fec_len = scratch.len();
                    for k in 0..span {
                        let s = first + k * entries;
                        if s != target {
                            let member = &self.slots[self.index(s)].ifp;
                            let n = member.len().min(fec_len);
                            xor_into(&mut scratch, &member[..n]);
                        }
                    }
                    self.store(target, &scratch, true);
                    self.stats.recovered += 1;
                    progress = true;
                }
            }
        }
    }
}

/// Receiver-side bounds on FEC geometry, checked before anything is stored.
fn check_limits(p: &UdptlPacket<'_>) -> Result<(), UdptlError> {
    match p.recovery {
        Recovery::Fec { span, entries }
            if span > MAX_FEC_SPAN || entries.len() > usize::from(MAX_FEC_ENTRIES) =>
        {
            Err(UdptlError::FecTooLarge {
                span,
                entries: entries.len(),
            })
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::udptl::{ErrorCorrection, IfpKind, RedundancyDepth, Sender, SenderConfig};
    use proptest::prelude::*;

    /// A receiver that starts with every slot, as before the ring grew on demand.
    fn full_ring(config: ReceiverConfig) -> Receiver {
        let mut rx = Receiver::new(config);
        rx.slots = vec![Slot::default(); MAX_RING];
        rx
    }

    fn events(rx: &mut Receiver, wire: &[Vec<u8>]) -> Vec<String> {
        let mut out = Vec::new();
        let mut sink = |e: RxEvent<'_>| out.push(format!("{e:?}"));
        for d in wire {
            rx.handle_datagram(d, &mut sink).unwrap();
        }
        rx.handle_flush(&mut sink);
        out
    }

    fn wire(ec: ErrorCorrection, n: usize) -> Vec<Vec<u8>> {
        let mut tx = Sender::new(SenderConfig {
            error_correction: ec,
            max_datagram: 1400,
        })
        .unwrap();
        (0..n)
            .map(|i| {
                let ifp: Vec<u8> = (0..20 + i % 50).map(|k| (i * 7 + k) as u8 | 1).collect();
                let mut w = Vec::new();
                tx.handle_ifp(&ifp, IfpKind::ImageData, &mut w).unwrap();
                w
            })
            .collect()
    }

    #[test]
    fn an_in_order_stream_keeps_the_smallest_ring() {
        let ec = ErrorCorrection::Redundancy(RedundancyDepth::uniform(3));
        let mut rx = Receiver::default();
        let delivered = events(&mut rx, &wire(ec, 5000)).len();
        assert_eq!(delivered, 5000);
        assert_eq!(rx.slots.len(), MIN_RING);
    }

    #[test]
    fn fec_reach_and_far_landings_grow_the_ring() {
        let ec = ErrorCorrection::Fec {
            span: 8,
            entries: 8,
        };
        let mut w = wire(ec, 400);
        w.remove(300);
        let mut rx = Receiver::default();
        let ev = events(&mut rx, &w);
        assert!(rx.slots.len() > 64, "{}", rx.slots.len());
        assert_eq!(rx.stats().lost, 0, "the dropped packet is rebuilt");
        assert_eq!(ev.len(), 400);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Growing the ring on demand changes nothing a peer or spandsp could see: the events are
        /// those of a receiver holding every slot from the start, under drops, duplicates and
        /// packets held back far (up to past the window). Only the split between `duplicate` and
        /// `late` for packets long behind may differ, since fewer old slots are remembered.
        #[test]
        fn growing_on_demand_matches_a_full_ring(
            fec in any::<bool>(),
            span in 1u8..=8,
            entries in 1u8..=8,
            depth in 0u8..5,
            line in prop::collection::vec((0u8..40, 0usize..160), 300),
            hold in prop::option::of(0u16..80),
        ) {
            let ec = if fec {
                ErrorCorrection::Fec { span, entries }
            } else {
                ErrorCorrection::Redundancy(RedundancyDepth::uniform(depth))
            };
            let sent = wire(ec, line.len());
            // Line: 0-3 drop, 4 duplicate, 5-7 hold back by `delay` packets, else deliver.
            let mut order: Vec<(usize, usize)> = Vec::new();
            for (i, &(what, delay)) in line.iter().enumerate() {
                match what {
                    0..=3 => {}
                    4 => { order.push((i, i)); order.push((i, i)); }
                    5..=7 => order.push((i + delay, i)),
                    _ => order.push((i, i)),
                }
            }
            order.sort_by_key(|&(at, _)| at);
            let w: Vec<Vec<u8>> = order.iter().map(|&(_, i)| sent[i].clone()).collect();
            let config = ReceiverConfig { max_hold: hold, ..Default::default() };
            let (mut grown, mut full) = (Receiver::new(config), full_ring(config));
            let (g, f) = (events(&mut grown, &w), events(&mut full, &w));
            let first_diff = g.iter().zip(&f).position(|(a, b)| a != b);
            prop_assert!(first_diff.is_none() && g.len() == f.len(),
                "event {first_diff:?}: {:?} against {:?}", first_diff.map(|i| &g[i]), first_diff.map(|i| &f[i]));
            let (g, f) = (grown.stats(), full.stats());
            prop_assert_eq!((g.received, g.recovered, g.lost, g.resyncs), (f.received, f.recovered, f.lost, f.resyncs));
            prop_assert_eq!(g.duplicate + g.late, f.duplicate + f.late);
            prop_assert!(grown.slots.len() <= MAX_RING);
        }
    }
}
