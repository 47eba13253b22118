//! The RTP fixed header (RFC 3550 §5.1): version 2, padding, extension, CSRC list, marker,
//! payload type, sequence number, timestamp, SSRC.

/// Why a datagram is not a usable RTP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RtpError {
    /// Shorter than the 12-octet fixed header (or than its CSRC list / extension).
    #[error("RTP packet truncated ({0} octets)")]
    Truncated(usize),
    /// Version field is not 2.
    #[error("RTP version {0}, expected 2")]
    Version(u8),
    /// The padding count is zero or exceeds the packet.
    #[error("RTP padding length invalid")]
    Padding,
}

/// A parsed RTP packet borrowing its payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    /// Marker bit (set on the first packet of a talk spurt).
    pub marker: bool,
    /// Payload type (0 PCMU, 8 PCMA, 13 comfort noise, ...).
    pub payload_type: u8,
    /// Sequence number.
    pub seq: u16,
    /// Sampling-clock timestamp.
    pub timestamp: u32,
    /// Synchronisation source.
    pub ssrc: u32,
    /// The payload, without header, CSRCs, extension or padding.
    pub payload: &'a [u8],
}

const HEADER: usize = 12;

impl<'a> RtpPacket<'a> {
    /// Parses one datagram.
    pub fn parse(data: &'a [u8]) -> Result<Self, RtpError> {
        if data.len() < HEADER {
            return Err(RtpError::Truncated(data.len()));
        }
        let version = data[0] >> 6;
        if version != 2 {
            return Err(RtpError::Version(version));
        }
        let padding = data[0] & 0x20 != 0;
        let extension = data[0] & 0x10 != 0;
        let csrcs = usize::from(data[0] & 0x0f);
        let mut start = HEADER + 4 * csrcs;
        if data.len() < start {
            return Err(RtpError::Truncated(data.len()));
        }
        if extension {
            if data.len() < start + 4 {
                return Err(RtpError::Truncated(data.len()));
            }
            let words = usize::from(u16::from_be_bytes([data[start + 2], data[start + 3]]));
            start += 4 + 4 * words;
            if data.len() < start {
                return Err(RtpError::Truncated(data.len()));
            }
        }
        let mut end = data.len();
        if padding {
            let pad = usize::from(data[end - 1]);
            if pad == 0 || pad > end - start {
                return Err(RtpError::Padding);
            }
            end -= pad;
        }
        Ok(Self {
            marker: data[1] & 0x80 != 0,
            payload_type: data[1] & 0x7f,
            seq: u16::from_be_bytes([data[2], data[3]]),
            timestamp: u32::from_be_bytes([data[4], data[5], data[6], data[7]]),
            ssrc: u32::from_be_bytes([data[8], data[9], data[10], data[11]]),
            payload: &data[start..end],
        })
    }

    /// Appends the packet (fixed header, no CSRC, no extension, no padding) to `out`.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.push(0x80);
        out.push(u8::from(self.marker) << 7 | (self.payload_type & 0x7f));
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        out.extend_from_slice(self.payload);
    }
}

/// Numbers one outgoing RTP stream: random initial sequence number and timestamp (RFC 3550 §5.1),
/// one SSRC, the marker on the first packet.
#[derive(Debug, Clone)]
pub struct RtpSender {
    payload_type: u8,
    ssrc: u32,
    seq: u16,
    timestamp: u32,
    first: bool,
}

impl RtpSender {
    /// A stream of `payload_type` with the given SSRC and random starting points.
    pub fn new(payload_type: u8, ssrc: u32, initial_seq: u16, initial_timestamp: u32) -> Self {
        Self {
            payload_type,
            ssrc,
            seq: initial_seq,
            timestamp: initial_timestamp,
            first: true,
        }
    }

    /// Writes the next packet carrying `payload` (one sample per octet for G.711) into `out`
    /// (cleared first) and advances sequence number and timestamp.
    pub fn packetize(&mut self, payload: &[u8], out: &mut Vec<u8>) {
        out.clear();
        RtpPacket {
            marker: self.first,
            payload_type: self.payload_type,
            seq: self.seq,
            timestamp: self.timestamp,
            ssrc: self.ssrc,
            payload,
        }
        .write(out);
        self.first = false;
        self.seq = self.seq.wrapping_add(1);
        self.timestamp = self.timestamp.wrapping_add(payload.len() as u32);
    }

    /// The SSRC of this stream.
    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sender_numbers_packets_and_parse_reads_them_back() {
        let mut s = RtpSender::new(8, 0xdead_beef, 0xfffe, 1000);
        let mut out = Vec::new();
        let frame = [0xd5u8; 160];
        let mut got = Vec::new();
        for _ in 0..3 {
            s.packetize(&frame, &mut out);
            let p = RtpPacket::parse(&out).unwrap();
            assert_eq!(p.payload, &frame[..]);
            got.push((p.marker, p.payload_type, p.seq, p.timestamp, p.ssrc));
        }
        assert_eq!(
            got,
            vec![
                (true, 8, 0xfffe, 1000, 0xdead_beef),
                (false, 8, 0xffff, 1160, 0xdead_beef),
                (false, 8, 0x0000, 1320, 0xdead_beef),
            ]
        );
    }

    #[test]
    fn csrcs_extension_and_padding_are_skipped() {
        // V=2 P=1 X=1 CC=1, M=1 PT=0, seq 7, ts 9, ssrc 1, one CSRC, a one-word extension,
        // payload "ab", three padding octets.
        let mut d = vec![0xb1, 0x80, 0, 7, 0, 0, 0, 9, 0, 0, 0, 1];
        d.extend_from_slice(&[0, 0, 0, 2]);
        d.extend_from_slice(&[0xbe, 0xde, 0, 1, 1, 2, 3, 4]);
        d.extend_from_slice(b"ab");
        d.extend_from_slice(&[0, 0, 3]);
        let p = RtpPacket::parse(&d).unwrap();
        assert_eq!(
            (p.marker, p.payload_type, p.seq, p.timestamp),
            (true, 0, 7, 9)
        );
        assert_eq!(p.payload, b"ab");
    }

    #[test]
    fn broken_packets_are_typed_errors() {
        assert_eq!(RtpPacket::parse(&[0x80; 5]), Err(RtpError::Truncated(5)));
        assert_eq!(RtpPacket::parse(&[0x40; 12]), Err(RtpError::Version(1)));
        // CSRC count beyond the datagram.
        assert_eq!(RtpPacket::parse(&[0x8f; 12]), Err(RtpError::Truncated(12)));
        // Padding longer than the payload.
        let mut d = vec![0xa0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0x55, 9];
        assert_eq!(RtpPacket::parse(&d), Err(RtpError::Padding));
        d[13] = 0;
        assert_eq!(RtpPacket::parse(&d), Err(RtpError::Padding));
    }
}
