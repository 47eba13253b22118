//! A fixed-delay playout buffer: G.711 fax needs a steady stream, not an adaptive one
//! (telephony.md §6.5: adaptive jitter buffers and clock slips break fax modems).
//!
//! Frames are held until `depth` of them are buffered, then exactly one frame leaves per tick in
//! sequence order. A frame that has not arrived by its turn is played as a gap (the session fills
//! it with silence so T.30 timers keep running); one that arrives after its turn is dropped. When
//! the buffer overflows (a sender clock running fast, a burst after a stall) it is trimmed back to
//! `depth`, which slips frames in one place instead of letting delay grow.

use std::collections::BTreeMap;

/// What to play this tick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Playout {
    /// The next frame in sequence.
    Frame(Vec<u8>),
    /// Its frame is missing (lost or late): play a gap.
    Missing,
    /// Still filling to the playout depth (nothing received yet, or just reset).
    Filling,
}

/// Counters of a playout buffer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PlayoutStats {
    /// Frames played.
    pub played: u64,
    /// Turns with no frame (lost or late).
    pub missing: u64,
    /// Frames that arrived after their turn.
    pub late: u64,
    /// Frames received twice.
    pub duplicate: u64,
    /// Frames dropped to trim an overflowing buffer.
    pub trimmed: u64,
    /// Times the stream jumped and the buffer started over.
    pub resets: u64,
}

/// Sequence distance beyond which a packet is taken as a new stream, not a gap.
const JUMP: i64 = 1000;

/// One stream's fixed-delay playout buffer, keyed by RTP sequence number.
#[derive(Debug, Clone)]
pub struct PlayoutBuffer {
    depth: usize,
    capacity: usize,
    /// Extended (wrap-free) sequence numbers → payload.
    frames: BTreeMap<i64, Vec<u8>>,
    highest: Option<i64>,
    next: Option<i64>,
    stats: PlayoutStats,
}

impl PlayoutBuffer {
    /// A buffer playing out after `depth` frames (≥1) and trimming beyond `4 × depth + 8`.
    pub fn new(depth: usize) -> Self {
        let depth = depth.max(1);
        Self {
            depth,
            capacity: depth * 4 + 8,
            frames: BTreeMap::new(),
            highest: None,
            next: None,
            stats: PlayoutStats::default(),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> PlayoutStats {
        self.stats
    }

    /// Forgets everything buffered (a new SSRC, a moved stream).
    pub fn reset(&mut self) {
        self.frames.clear();
        self.highest = None;
        self.next = None;
        self.stats.resets += 1;
    }

    /// Takes a received frame.
    pub fn push(&mut self, seq: u16, payload: &[u8]) {
        let ext = match self.highest {
            None => i64::from(seq),
            Some(h) => h + i64::from(seq.wrapping_sub(h as u16) as i16),
        };
        if let Some(h) = self.highest
            && (ext - h).abs() > JUMP
        {
            self.reset();
            return self.push(seq, payload);
        }
        if self.next.is_some_and(|n| ext < n) {
            self.stats.late += 1;
            return;
        }
        if self.frames.insert(ext, payload.to_vec()).is_some() {
            self.stats.duplicate += 1;
        }
        self.highest = Some(self.highest.map_or(ext, |h| h.max(ext)));
        if self.frames.len() > self.capacity {
            while self.frames.len() > self.depth {
                self.frames.pop_first();
                self.stats.trimmed += 1;
            }
            self.next = self.frames.first_key_value().map(|(k, _)| *k);
        }
    }

    /// What to play this tick.
    pub fn pop(&mut self) -> Playout {
        let next = match self.next {
            Some(n) => n,
            None if self.frames.len() >= self.depth => match self.frames.first_key_value() {
                Some((k, _)) => *k,
                None => return Playout::Filling,
            },
            None => return Playout::Filling,
        };
        self.next = Some(next + 1);
        match self.frames.remove(&next) {
            Some(f) => {
                self.stats.played += 1;
                Playout::Frame(f)
            }
            None => {
                self.stats.missing += 1;
                Playout::Missing
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(b: u8) -> Vec<u8> {
        vec![b; 4]
    }

    #[test]
    fn fills_to_depth_then_plays_in_order_with_gaps() {
        let mut p = PlayoutBuffer::new(2);
        assert_eq!(p.pop(), Playout::Filling);
        p.push(11, &frame(11));
        assert_eq!(p.pop(), Playout::Filling);
        p.push(10, &frame(10)); // reordered
        assert_eq!(p.pop(), Playout::Frame(frame(10)));
        assert_eq!(p.pop(), Playout::Frame(frame(11)));
        // 12 lost, 13 arrives in time.
        p.push(13, &frame(13));
        assert_eq!(p.pop(), Playout::Missing);
        assert_eq!(p.pop(), Playout::Frame(frame(13)));
        // 12 turns up late: dropped.
        p.push(12, &frame(12));
        assert_eq!(p.stats().late, 1);
        assert_eq!(p.stats().missing, 1);
        assert_eq!(p.stats().played, 3);
    }

    #[test]
    fn sequence_wrap_is_continuous() {
        let mut p = PlayoutBuffer::new(1);
        for s in [0xfffeu16, 0xffff, 0, 1] {
            p.push(s, &frame(s as u8));
            assert_eq!(p.pop(), Playout::Frame(frame(s as u8)));
        }
        assert_eq!(p.stats().resets, 0);
    }

    #[test]
    fn overflow_trims_to_depth_and_a_jump_starts_over() {
        let mut p = PlayoutBuffer::new(2);
        for s in 0..20u16 {
            p.push(s, &frame(s as u8));
        }
        // Capacity 16 exceeded at the 17th frame: trimmed back to the newest 2 (15, 16), then 17..19.
        assert_eq!(p.stats().trimmed, 15);
        assert_eq!(p.pop(), Playout::Frame(frame(15)));
        p.push(30_000, &frame(1));
        assert_eq!(p.stats().resets, 1);
        assert_eq!(p.pop(), Playout::Filling);
        p.push(30_001, &frame(2));
        assert_eq!(p.pop(), Playout::Frame(frame(1)));
        assert_eq!(p.pop(), Playout::Frame(frame(2)));
        p.push(30_001, &frame(2));
        assert_eq!(
            p.stats().duplicate,
            0,
            "already played: late, not duplicate"
        );
        assert_eq!(p.stats().late, 1);
    }
}
