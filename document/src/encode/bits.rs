//! An MSB-first bit writer.

/// Bits collect in a 64-bit accumulator and leave in 32-bit words, so most codes cost a shift and
/// an OR.
pub(crate) struct BitWriter {
    out: Vec<u8>,
    /// The low `n` bits are pending output; higher bits are stale and never written.
    acc: u64,
    n: u32,
}

impl BitWriter {
    pub(crate) fn with_capacity(bytes: usize) -> Self {
        Self {
            out: Vec::with_capacity(bytes),
            acc: 0,
            n: 0,
        }
    }

    /// Append the low `len` bits of `code` (len ≤ 32).
    #[inline]
    pub(crate) fn put(&mut self, code: u32, len: u8) {
        let len = u32::from(len);
        // n < 32 here, so n + len < 64 and no pending bit is shifted out.
        self.acc = (self.acc << len) | (u64::from(code) & ((1u64 << len) - 1));
        self.n += len;
        if self.n >= 32 {
            self.n -= 32;
            self.out
                .extend_from_slice(&((self.acc >> self.n) as u32).to_be_bytes());
        }
    }

    /// Pad with zeros so that a following 12-bit EOL ends on a byte boundary (TIFF fill bits).
    pub(crate) fn align_for_eol(&mut self) {
        // An EOL that starts at bit offset 4 of a byte ends on the next boundary.
        let pad = (12 - self.n % 8) % 8;
        if pad > 0 {
            self.put(0, pad as u8);
        }
    }

    /// Pad to a byte boundary with zeros and return the bytes.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        if !self.n.is_multiple_of(8) {
            let pad = 8 - self.n % 8;
            self.put(0, pad as u8);
        }
        while self.n >= 8 {
            self.n -= 8;
            self.out.push((self.acc >> self.n) as u8);
        }
        self.out
    }
}
