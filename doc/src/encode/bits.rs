//! An MSB-first bit writer.

pub(crate) struct BitWriter {
    out: Vec<u8>,
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
        self.acc = (self.acc << len) | u64::from(code & ((1u64 << len) - 1) as u32);
        self.n += len;
        while self.n >= 8 {
            self.n -= 8;
            self.out.push((self.acc >> self.n) as u8);
        }
        self.acc &= (1u64 << self.n) - 1;
    }

    /// Pad with zeros so that a following 12-bit EOL ends on a byte boundary (TIFF fill bits).
    pub(crate) fn align_for_eol(&mut self) {
        // An EOL that starts at bit offset 4 of a byte ends on the next boundary.
        let pad = (4 + 8 - self.n) % 8;
        if pad > 0 {
            self.put(0, pad as u8);
        }
    }

    /// Pad to a byte boundary with zeros and return the bytes.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        if self.n > 0 {
            let pad = 8 - self.n;
            self.put(0, pad as u8);
        }
        self.out
    }
}
