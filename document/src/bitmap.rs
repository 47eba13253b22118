//! A bilevel page image: one bit per pixel, rows packed MSB-first, 1 = black.

/// A bilevel image. Rows are `stride()` bytes, the leftmost pixel in the most significant bit,
/// bit set = black (the fax convention; TIFF writes it with PhotometricInterpretation 0).
#[derive(Clone, PartialEq, Eq)]
pub struct Bitmap {
    width: u32,
    height: u32,
    data: Vec<u8>,
}

impl std::fmt::Debug for Bitmap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Bitmap({}x{})", self.width, self.height)
    }
}

impl Bitmap {
    /// An all-white image.
    pub fn new(width: u32, height: u32) -> Self {
        let stride = width.div_ceil(8) as usize;
        Self {
            width,
            height,
            data: vec![0; stride * height as usize],
        }
    }

    /// Wrap packed rows; `None` if the length does not match.
    pub fn from_packed(width: u32, height: u32, data: Vec<u8>) -> Option<Self> {
        (data.len() == width.div_ceil(8) as usize * height as usize).then_some(Self {
            width,
            height,
            data,
        })
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Bytes per row.
    pub fn stride(&self) -> usize {
        self.width.div_ceil(8) as usize
    }

    /// All rows, packed.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// One row, packed.
    pub fn row(&self, y: u32) -> &[u8] {
        let s = self.stride();
        &self.data[y as usize * s..(y as usize + 1) * s]
    }

    /// One row, packed and writable.
    pub fn row_mut(&mut self, y: u32) -> &mut [u8] {
        let s = self.stride();
        &mut self.data[y as usize * s..(y as usize + 1) * s]
    }

    /// Whether the pixel is black (out of range reads as white).
    pub fn get(&self, x: u32, y: u32) -> bool {
        if x >= self.width || y >= self.height {
            return false;
        }
        self.row(y)[(x / 8) as usize] & (0x80 >> (x % 8)) != 0
    }

    /// Paint one pixel black (out of range is ignored).
    pub fn set_black(&mut self, x: u32, y: u32) {
        if x < self.width && y < self.height {
            let s = self.stride();
            self.data[y as usize * s + (x / 8) as usize] |= 0x80 >> (x % 8);
        }
    }

    /// Add the black pixels of `other`, placed with its top left corner at `(x0, y0)`; what falls
    /// outside this image is dropped.
    pub(crate) fn or_at(&mut self, other: &Bitmap, x0: u32, y0: u32) {
        let shift = x0 % 8;
        let first = (x0 / 8) as usize;
        let stride = self.stride();
        for sy in 0..other.height {
            let y = y0 + sy;
            if y >= self.height {
                break;
            }
            let dst = &mut self.data[y as usize * stride..][..stride];
            for (i, &b) in other.row(sy).iter().enumerate() {
                if b == 0 {
                    continue;
                }
                if let Some(d) = dst.get_mut(first + i) {
                    *d |= b >> shift;
                }
                if shift != 0
                    && let Some(d) = dst.get_mut(first + i + 1)
                {
                    *d |= b << (8 - shift);
                }
            }
        }
        // Padding bits past the width must stay white.
        let tail = self.width % 8;
        if tail != 0 {
            let mask = 0xffu8 << (8 - tail);
            for y in 0..self.height as usize {
                self.data[y * stride + stride - 1] &= mask;
            }
        }
    }

    /// Number of black pixels.
    pub fn black_pixels(&self) -> u64 {
        // Padding bits are never set, so counting all bytes is exact.
        self.data.iter().map(|b| u64::from(b.count_ones())).sum()
    }

    /// The colour-change positions of one row (T.4 "changing elements"): each row starts white,
    /// `changes[0]` is the first black pixel, `changes[1]` the next white one, and so on.
    ///
    /// Works on 64 pixels at a time: XOR with the word shifted by one pixel marks every change,
    /// and the marks are read off with `leading_zeros`. Words of one colour cost one comparison.
    pub fn row_changes(&self, y: u32, out: &mut Vec<u32>) {
        out.clear();
        let row = self.row(y);
        let width = self.width;
        let mut prev = 0u64; // colour of the pixel left of the word: 0 white, 1 black
        for (i, chunk) in row.chunks(8).enumerate() {
            let mut bytes = [0u8; 8];
            bytes[..chunk.len()].copy_from_slice(chunk);
            let word = u64::from_be_bytes(bytes);
            if word == 0u64.wrapping_sub(prev) {
                continue; // all 64 pixels the colour of the previous one
            }
            let mut marks = word ^ ((word >> 1) | (prev << 63));
            let base = i as u32 * 64;
            while marks != 0 {
                let x = base + marks.leading_zeros();
                if x >= width {
                    return; // padding bits past the last pixel
                }
                out.push(x);
                marks &= !(1u64 << (63 - (x - base)));
            }
            prev = word & 1;
        }
    }

    /// Build a row from changing elements (the inverse of [`Bitmap::row_changes`]).
    pub fn fill_row_from_changes(&mut self, y: u32, changes: &[u32]) {
        let width = self.width;
        let row = self.row_mut(y);
        row.fill(0);
        for pair in changes.chunks(2) {
            let start = pair[0].min(width);
            let end = pair.get(1).copied().unwrap_or(width).min(width);
            fill_bits(row, start, end);
        }
    }
}

/// Set bits `[start, end)` of a packed row: masks for the two end bytes, a fill in between.
pub(crate) fn fill_bits(row: &mut [u8], start: u32, end: u32) {
    if start >= end {
        return;
    }
    let (first, last) = ((start / 8) as usize, ((end - 1) / 8) as usize);
    let head = 0xffu8 >> (start % 8);
    let tail = 0xffu8 << (7 - (end - 1) % 8);
    if first == last {
        row[first] |= head & tail;
    } else {
        row[first] |= head;
        row[first + 1..last].fill(0xff);
        row[last] |= tail;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_changes_match_a_pixel_walk() {
        for width in [1u32, 7, 8, 63, 64, 65, 130, 1728] {
            let mut b = Bitmap::new(width, 4);
            for x in 0..width {
                // Row 0 white, row 1 black, rows 2–3 irregular runs across word boundaries.
                b.set_black(x, 1);
                if (x * 7 + 3) % 11 < 4 || (60..70).contains(&x) {
                    b.set_black(x, 2);
                }
                if x % 3 == 0 || x + 1 == width {
                    b.set_black(x, 3);
                }
            }
            for y in 0..4 {
                let mut want = Vec::new();
                let mut black = false;
                for x in 0..width {
                    if b.get(x, y) != black {
                        want.push(x);
                        black = !black;
                    }
                }
                let mut got = Vec::new();
                b.row_changes(y, &mut got);
                assert_eq!(got, want, "width {width} row {y}");
            }
        }
    }

    #[test]
    fn fill_bits_sets_exactly_the_range() {
        for start in 0..40u32 {
            for end in start..48u32 {
                let mut row = [0u8; 6];
                fill_bits(&mut row, start, end);
                for x in 0..48u32 {
                    let set = row[(x / 8) as usize] & (0x80 >> (x % 8)) != 0;
                    assert_eq!(set, (start..end).contains(&x), "{start}..{end} at {x}");
                }
            }
        }
    }
}
