//! A one-way packet channel with latency, jitter, reordering, duplication and loss, on a simulated
//! clock. Deterministic: the same seed gives the same fate to the same packet sequence.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// A small, stable PRNG (SplitMix64). Hand-written on purpose: results must not change when a
/// dependency's generator changes, or every recorded seed would mean something else.
#[derive(Debug, Clone)]
pub struct SimRng(u64);

impl SimRng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.next_f64() < p
    }
}

/// How packets get lost.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Loss {
    /// No loss.
    None,
    /// Each packet lost independently with this probability.
    Random(f64),
    /// Gilbert–Elliott bursty loss: a two-state Markov chain, moving Good→Bad with `p_good_to_bad`
    /// and Bad→Good with `p_bad_to_good` per packet, losing packets with `loss_in_good` /
    /// `loss_in_bad`.
    GilbertElliott {
        /// Good→Bad transition probability per packet.
        p_good_to_bad: f64,
        /// Bad→Good transition probability per packet.
        p_bad_to_good: f64,
        /// Loss probability in the good state.
        loss_in_good: f64,
        /// Loss probability in the bad state.
        loss_in_bad: f64,
    },
}

impl Loss {
    /// Bursty loss with the given long-run average and mean burst length (packets), losing every
    /// packet in the bad state and none in the good one (the classic Gilbert model).
    pub fn bursty(average: f64, mean_burst: f64) -> Self {
        if average <= 0.0 {
            return Self::None;
        }
        let average = average.min(0.99);
        let p_bad_to_good = 1.0 / mean_burst.max(1.0);
        let p_good_to_bad = (average * p_bad_to_good / (1.0 - average)).min(1.0);
        Self::GilbertElliott {
            p_good_to_bad,
            p_bad_to_good,
            loss_in_good: 0.0,
            loss_in_bad: 1.0,
        }
    }

    /// Long-run average loss rate.
    pub fn average(&self) -> f64 {
        match *self {
            Self::None => 0.0,
            Self::Random(p) => p,
            Self::GilbertElliott {
                p_good_to_bad,
                p_bad_to_good,
                loss_in_good,
                loss_in_bad,
            } => {
                let denom = p_good_to_bad + p_bad_to_good;
                if denom <= 0.0 {
                    return loss_in_good;
                }
                let bad = p_good_to_bad / denom;
                bad * loss_in_bad + (1.0 - bad) * loss_in_good
            }
        }
    }
}

/// The impairments of one direction of a line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChannelModel {
    /// Fixed one-way delay, milliseconds.
    pub latency_ms: u32,
    /// Extra delay uniformly drawn from [0, jitter_ms] per packet. Jitter keeps packet order (a
    /// packet never overtakes the one sent before it, as on a single network path); reordering
    /// comes only from `reorder`.
    pub jitter_ms: u32,
    /// Probability that a packet is held back by an extra `reorder_delay_ms` (forced reordering).
    pub reorder: f64,
    /// Delay of a reordered packet, milliseconds.
    pub reorder_delay_ms: u32,
    /// Probability that a packet arrives twice.
    pub duplicate: f64,
    /// Loss model.
    pub loss: Loss,
}

impl Default for ChannelModel {
    /// A clean, typical line: 40 ms latency, 10 ms jitter, nothing else.
    fn default() -> Self {
        Self {
            latency_ms: 40,
            jitter_ms: 10,
            reorder: 0.0,
            reorder_delay_ms: 60,
            duplicate: 0.0,
            loss: Loss::None,
        }
    }
}

impl ChannelModel {
    /// The default line with a loss model.
    pub fn with_loss(loss: Loss) -> Self {
        Self {
            loss,
            ..Self::default()
        }
    }
}

/// Counters of one channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChannelStats {
    /// Packets offered.
    pub sent: u64,
    /// Packets dropped by the loss model.
    pub lost: u64,
    /// Extra copies delivered.
    pub duplicated: u64,
    /// Packets held back for reordering.
    pub reordered: u64,
}

/// One direction of the simulated line, carrying opaque datagrams.
#[derive(Debug, Clone)]
pub struct Channel {
    model: ChannelModel,
    rng: SimRng,
    bad_state: bool,
    /// (delivery time µs, insertion counter) → payload; the counter keeps equal times in FIFO order.
    in_flight: BinaryHeap<Reverse<(u64, u64, Vec<u8>)>>,
    counter: u64,
    /// Delivery time of the last in-order packet (jitter never reorders).
    last_in_order_us: u64,
    stats: ChannelStats,
    /// Every datagram offered and what became of it, when recording (see [`Channel::record`]).
    recorded: Option<Vec<SentPacket>>,
}

/// One datagram offered to a recording [`Channel`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentPacket {
    /// When it was sent (simulated µs).
    pub sent_us: u64,
    /// When it arrives; `None` when the line lost it. A duplicated packet arrives twice: this is
    /// the first copy.
    pub arrival_us: Option<u64>,
    pub datagram: Vec<u8>,
}

impl Channel {
    /// A channel with its own seeded randomness.
    pub fn new(model: ChannelModel, seed: u64) -> Self {
        Self {
            model,
            rng: SimRng::new(seed),
            bad_state: false,
            in_flight: BinaryHeap::new(),
            counter: 0,
            last_in_order_us: 0,
            stats: ChannelStats::default(),
            recorded: None,
        }
    }

    /// Records every datagram from now on, for a trace of the call ([`Channel::take_recorded`]).
    /// Off by default: a matrix of thousands of calls keeps nothing.
    pub fn record(&mut self) {
        self.recorded.get_or_insert_with(Vec::new);
    }

    /// The datagrams recorded so far (empty when not recording).
    pub fn take_recorded(&mut self) -> Vec<SentPacket> {
        self.recorded
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// Counters so far.
    pub fn stats(&self) -> ChannelStats {
        self.stats
    }

    fn lost(&mut self) -> bool {
        match self.model.loss {
            Loss::None => false,
            Loss::Random(p) => self.rng.chance(p),
            Loss::GilbertElliott {
                p_good_to_bad,
                p_bad_to_good,
                loss_in_good,
                loss_in_bad,
            } => {
                let flip = if self.bad_state {
                    p_bad_to_good
                } else {
                    p_good_to_bad
                };
                if self.rng.chance(flip) {
                    self.bad_state = !self.bad_state;
                }
                self.rng.chance(if self.bad_state {
                    loss_in_bad
                } else {
                    loss_in_good
                })
            }
        }
    }

    /// Delivery time of a packet sent at `now_us`.
    fn arrival_us(&mut self, now_us: u64) -> u64 {
        let mut at = now_us + u64::from(self.model.latency_ms) * 1000;
        if self.model.jitter_ms > 0 {
            at += (self.rng.next_f64() * f64::from(self.model.jitter_ms) * 1000.0) as u64;
        }
        if self.rng.chance(self.model.reorder) {
            self.stats.reordered += 1;
            return at + u64::from(self.model.reorder_delay_ms) * 1000;
        }
        at = at.max(self.last_in_order_us);
        self.last_in_order_us = at;
        at
    }

    /// Offers a datagram at simulated time `now_us`.
    pub fn send(&mut self, now_us: u64, datagram: Vec<u8>) {
        self.stats.sent += 1;
        if self.lost() {
            self.stats.lost += 1;
            self.note(now_us, None, &datagram);
            return;
        }
        let mut first = None;
        if self.rng.chance(self.model.duplicate) {
            self.stats.duplicated += 1;
            let at = self.arrival_us(now_us);
            first = Some(at);
            self.push(at, datagram.clone());
        }
        let at = self.arrival_us(now_us);
        self.note(now_us, Some(first.map_or(at, |f| f.min(at))), &datagram);
        self.push(at, datagram);
    }

    fn note(&mut self, sent_us: u64, arrival_us: Option<u64>, datagram: &[u8]) {
        if let Some(r) = &mut self.recorded {
            r.push(SentPacket {
                sent_us,
                arrival_us,
                datagram: datagram.to_vec(),
            });
        }
    }

    fn push(&mut self, at: u64, datagram: Vec<u8>) {
        self.counter += 1;
        self.in_flight.push(Reverse((at, self.counter, datagram)));
    }

    /// The next datagram due at or before `now_us`, in arrival order.
    pub fn receive(&mut self, now_us: u64) -> Option<Vec<u8>> {
        if self
            .in_flight
            .peek()
            .is_some_and(|Reverse((at, _, _))| *at <= now_us)
        {
            self.in_flight.pop().map(|Reverse((_, _, d))| d)
        } else {
            None
        }
    }

    /// Packets still on the line.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loss_rate(model: ChannelModel, n: u64, seed: u64) -> f64 {
        let mut ch = Channel::new(model, seed);
        for i in 0..n {
            ch.send(i * 20_000, vec![0]);
        }
        ch.stats().lost as f64 / n as f64
    }

    #[test]
    fn loss_models_hit_their_average() {
        let r = loss_rate(ChannelModel::with_loss(Loss::Random(0.05)), 200_000, 1);
        assert!((r - 0.05).abs() < 0.005, "{r}");
        let b = Loss::bursty(0.10, 4.0);
        assert!((b.average() - 0.10).abs() < 1e-9);
        let r = loss_rate(ChannelModel::with_loss(b), 200_000, 2);
        assert!((r - 0.10).abs() < 0.01, "{r}");
    }

    #[test]
    fn bursty_loss_comes_in_runs() {
        let mut ch = Channel::new(ChannelModel::with_loss(Loss::bursty(0.05, 5.0)), 3);
        let mut runs = Vec::new();
        let mut run = 0;
        for i in 0..100_000u64 {
            let before = ch.stats().lost;
            ch.send(i, vec![]);
            if ch.stats().lost > before {
                run += 1;
            } else if run > 0 {
                runs.push(run);
                run = 0;
            }
        }
        let mean = runs.iter().sum::<u32>() as f64 / runs.len() as f64;
        assert!((mean - 5.0).abs() < 0.5, "{mean}");
    }

    #[test]
    fn jitter_alone_keeps_order() {
        let mut ch = Channel::new(
            ChannelModel {
                jitter_ms: 50,
                ..Default::default()
            },
            9,
        );
        let mut out = Vec::new();
        for i in 0..1000u64 {
            ch.send(i * 20_000, i.to_be_bytes().to_vec());
            while let Some(d) = ch.receive(i * 20_000) {
                out.push(u64::from_be_bytes(d.try_into().unwrap()));
            }
        }
        assert!(out.windows(2).all(|w| w[1] == w[0] + 1));
    }

    #[test]
    fn same_seed_same_fate() {
        let model = ChannelModel {
            jitter_ms: 50,
            duplicate: 0.1,
            reorder: 0.05,
            loss: Loss::Random(0.1),
            ..Default::default()
        };
        let run = |seed| {
            let mut ch = Channel::new(model, seed);
            let mut out = Vec::new();
            for i in 0..1000u64 {
                ch.send(i * 20_000, i.to_be_bytes().to_vec());
                while let Some(d) = ch.receive(i * 20_000) {
                    out.push(u64::from_be_bytes(d.try_into().unwrap()));
                }
            }
            out
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        let out = run(7);
        assert!(out.windows(2).any(|w| w[1] < w[0]), "reordering happens");
        assert!(out.windows(2).any(|w| w[1] == w[0]), "duplicates arrive");
    }
}
