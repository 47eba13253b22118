//! The UDPTL datagram codec (T.38 Annex / Asterisk `udptl.c` wire format), without state.
//!
//! ```text
//! seq(2, BE) | len-det + primary IFP | 0x00 count(len-det) {len-det + IFP}*   (redundancy; none = count 0)
//!                                    | 0x80 0x01 span count(len-det) {len-det + XOR}*   (FEC)
//! ```
//! Decoding borrows from the datagram and allocates nothing.

use super::error::UdptlError;

/// Longest IFP or FEC entry an unfragmented PER length determinant can carry (16383).
pub const MAX_IFP_LEN: usize = 0x3FFF;

/// One decoded UDPTL packet, borrowing from the datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdptlPacket<'a> {
    /// `seq-number`
    pub seq: u16,
    /// The primary IFP (never empty).
    pub primary: &'a [u8],
    /// The error-recovery part.
    pub recovery: Recovery<'a>,
}

/// The `error-recovery` CHOICE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovery<'a> {
    /// `secondary-ifp-packets`, newest first (`seq-1`, `seq-2`, …). Empty when the sender uses no
    /// error correction (the two are identical on the wire).
    Redundancy(IfpList<'a>),
    /// `fec-info`: `span` and the XOR entries (see [`crate::udptl`] for which packets each covers).
    Fec {
        /// `fec-npackets`
        span: u8,
        /// `fec-data`, entry `m` first at index 0.
        entries: IfpList<'a>,
    },
}

/// A validated run of length-prefixed octet strings inside a datagram; iterate it to get them.
///
/// Equality compares the entries, not the wire bytes: a peer may use a longer-than-needed length
/// determinant, which decodes to the same entries as our canonical encoding.
#[derive(Debug, Clone, Copy, Default)]
pub struct IfpList<'a> {
    count: usize,
    bytes: &'a [u8],
}

impl<'a> IfpList<'a> {
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.count
    }

    /// True when there are no entries.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The entries in wire order.
    pub fn iter(&self) -> IfpListIter<'a> {
        IfpListIter {
            left: self.count,
            bytes: self.bytes,
        }
    }

    /// Entry `i`, if present (linear in `i`).
    pub fn get(&self, i: usize) -> Option<&'a [u8]> {
        self.iter().nth(i)
    }
}

impl<'a> IntoIterator for IfpList<'a> {
    type Item = &'a [u8];
    type IntoIter = IfpListIter<'a>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl PartialEq for IfpList<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.count == other.count && self.iter().eq(other.iter())
    }
}

impl Eq for IfpList<'_> {}

/// Iterator over an [`IfpList`].
#[derive(Debug, Clone)]
pub struct IfpListIter<'a> {
    left: usize,
    bytes: &'a [u8],
}

impl<'a> Iterator for IfpListIter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.left == 0 {
            return None;
        }
        // The run was validated by the decoder, so these reads stay in bounds; `?`/`get` keep
        // even a logic error from panicking.
        let mut r = Reader {
            buf: self.bytes,
            pos: 0,
        };
        let item = r.open_type("entry").ok()?;
        self.bytes = self.bytes.get(r.pos..)?;
        self.left -= 1;
        Some(item)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for IfpListIter<'_> {}

impl<'a> UdptlPacket<'a> {
    /// Decodes and fully validates one datagram. Rejects truncation, lengths past the end,
    /// fragments, zero-length IFPs/entries and trailing octets.
    pub fn decode(datagram: &'a [u8]) -> Result<Self, UdptlError> {
        let mut r = Reader {
            buf: datagram,
            pos: 0,
        };
        let hi = r.byte("seq-number")?;
        let lo = r.byte("seq-number")?;
        let seq = u16::from_be_bytes([hi, lo]);
        let primary = r.open_type("primary IFP")?;
        let choice = r.byte("error-recovery")?;
        let recovery = if choice & 0x80 == 0 {
            Recovery::Redundancy(r.list("secondary IFP")?)
        } else {
            let n = r.byte("fec-npackets")?;
            if n != 1 {
                return Err(UdptlError::FecSpanLength(n));
            }
            let span = r.byte("fec-npackets")?;
            Recovery::Fec {
                span,
                entries: r.list("FEC entry")?,
            }
        };
        if r.pos != datagram.len() {
            return Err(UdptlError::TrailingBytes {
                extra: datagram.len() - r.pos,
            });
        }
        Ok(Self {
            seq,
            primary,
            recovery,
        })
    }

    /// Re-encodes this packet (appending to `out`); returns the number of octets written.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<usize, UdptlError> {
        match self.recovery {
            Recovery::Redundancy(list) => {
                encode_redundancy(self.seq, self.primary, list.iter(), out)
            }
            Recovery::Fec { span, entries } => {
                encode_fec(self.seq, self.primary, span, entries.iter(), out)
            }
        }
    }
}

/// Octets a PER length determinant for `len` takes (1 below 128, else 2).
pub const fn length_determinant_len(len: usize) -> usize {
    if len < 0x80 { 1 } else { 2 }
}

/// Octets taken by a length-prefixed IFP of `len` octets.
pub const fn open_type_len(len: usize) -> usize {
    length_determinant_len(len) + len
}

/// Size of a redundancy (or no-EC) packet with a primary of `primary_len` and the given
/// secondary lengths.
pub fn redundancy_packet_len(
    primary_len: usize,
    secondary_lens: impl IntoIterator<Item = usize>,
) -> usize {
    let (n, sum) = secondary_lens
        .into_iter()
        .fold((0, 0), |(n, s), l| (n + 1, s + open_type_len(l)));
    2 + open_type_len(primary_len) + 1 + length_determinant_len(n) + sum
}

/// Size of an FEC packet with a primary of `primary_len` and the given FEC entry lengths.
pub fn fec_packet_len(primary_len: usize, entry_lens: impl IntoIterator<Item = usize>) -> usize {
    let (n, sum) = entry_lens
        .into_iter()
        .fold((0, 0), |(n, s), l| (n + 1, s + open_type_len(l)));
    2 + open_type_len(primary_len) + 3 + length_determinant_len(n) + sum
}

/// Appends a redundancy packet (no-EC when `secondaries` is empty); returns its length. On error
/// nothing is appended.
pub fn encode_redundancy<'s, I>(
    seq: u16,
    primary: &[u8],
    secondaries: I,
    out: &mut Vec<u8>,
) -> Result<usize, UdptlError>
where
    I: IntoIterator<Item = &'s [u8]>,
    I::IntoIter: Clone,
{
    encode_with(seq, primary, 0x00, None, secondaries.into_iter(), out)
}

/// Appends an FEC packet; returns its length. On error nothing is appended.
pub fn encode_fec<'s, I>(
    seq: u16,
    primary: &[u8],
    span: u8,
    entries: I,
    out: &mut Vec<u8>,
) -> Result<usize, UdptlError>
where
    I: IntoIterator<Item = &'s [u8]>,
    I::IntoIter: Clone,
{
    encode_with(seq, primary, 0x80, Some(span), entries.into_iter(), out)
}

fn encode_with<'s, I>(
    seq: u16,
    primary: &[u8],
    choice: u8,
    span: Option<u8>,
    list: I,
    out: &mut Vec<u8>,
) -> Result<usize, UdptlError>
where
    I: Iterator<Item = &'s [u8]> + Clone,
{
    check_ifp(primary)?;
    let mut count = 0;
    for item in list.clone() {
        check_ifp(item)?;
        count += 1;
    }
    if count > MAX_IFP_LEN {
        return Err(UdptlError::TooLong(count));
    }
    let start = out.len();
    out.extend_from_slice(&seq.to_be_bytes());
    push_open_type(out, primary);
    out.push(choice);
    if let Some(span) = span {
        out.push(1);
        out.push(span);
    }
    push_length(out, count);
    for item in list {
        push_open_type(out, item);
    }
    Ok(out.len() - start)
}

fn check_ifp(ifp: &[u8]) -> Result<(), UdptlError> {
    if ifp.is_empty() {
        return Err(UdptlError::EmptyIfp);
    }
    if ifp.len() > MAX_IFP_LEN {
        return Err(UdptlError::TooLong(ifp.len()));
    }
    Ok(())
}

#[inline]
fn push_length(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        out.extend_from_slice(&[0x80 | (len >> 8) as u8, len as u8]);
    }
}

#[inline]
fn push_open_type(out: &mut Vec<u8>, data: &[u8]) {
    push_length(out, data.len());
    out.extend_from_slice(data);
}

/// Bounds-checked cursor.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    #[inline]
    fn byte(&mut self, what: &'static str) -> Result<u8, UdptlError> {
        let b = *self.buf.get(self.pos).ok_or(UdptlError::Truncated(what))?;
        self.pos += 1;
        Ok(b)
    }

    #[inline]
    fn length(&mut self, what: &'static str) -> Result<usize, UdptlError> {
        let b = self.byte(what)?;
        match b {
            0x00..=0x7F => Ok(usize::from(b)),
            0x80..=0xBF => Ok((usize::from(b & 0x3F) << 8) | usize::from(self.byte(what)?)),
            _ => Err(UdptlError::Fragmented(what)),
        }
    }

    /// A length-prefixed, non-empty octet string.
    #[inline]
    fn open_type(&mut self, what: &'static str) -> Result<&'a [u8], UdptlError> {
        let len = self.length(what)?;
        if len == 0 {
            return Err(UdptlError::ZeroLength(what));
        }
        let available = self.buf.len() - self.pos;
        if len > available {
            return Err(UdptlError::LengthPastEnd {
                what,
                len,
                available,
            });
        }
        let s = &self.buf[self.pos..self.pos + len];
        self.pos += len;
        Ok(s)
    }

    /// A count followed by that many open types; validated, returned as a borrowed run.
    fn list(&mut self, what: &'static str) -> Result<IfpList<'a>, UdptlError> {
        let count = self.length(what)?;
        let start = self.pos;
        for _ in 0..count {
            self.open_type(what)?;
        }
        Ok(IfpList {
            count,
            bytes: &self.buf[start..self.pos],
        })
    }
}
