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

    /// Number of black pixels.
    pub fn black_pixels(&self) -> u64 {
        // Padding bits are never set, so counting all bytes is exact.
        self.data.iter().map(|b| u64::from(b.count_ones())).sum()
    }

    /// The colour-change positions of one row (T.4 "changing elements"): each row starts white,
    /// `changes[0]` is the first black pixel, `changes[1]` the next white one, and so on.
    pub fn row_changes(&self, y: u32, out: &mut Vec<u32>) {
        out.clear();
        let row = self.row(y);
        let width = self.width;
        let mut black = false;
        for (i, &byte) in row.iter().enumerate() {
            // Whole bytes of the current colour carry no change: the common case on fax pages.
            if byte == if black { 0xff } else { 0x00 } {
                continue;
            }
            let base = i as u32 * 8;
            for bit in 0..8u32 {
                let x = base + bit;
                if x >= width {
                    break;
                }
                let is_black = byte & (0x80 >> bit) != 0;
                if is_black != black {
                    out.push(x);
                    black = is_black;
                }
            }
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
