//! A minimal classic-pcap writer for UDP-over-IPv4 loopback datagrams, so independent dissectors
//! (tshark, Wireshark) read packets our code built or a simulated line carried: Ethernet II
//! framing, IPv4 without options, UDP with checksum 0 (allowed for IPv4).

use std::io::{self, Write};

const START_MICROS: u64 = 1_700_000_000_000_000;

/// Builds a pcap in memory; [`write_to`](Self::write_to) writes it out.
#[derive(Debug, Clone)]
pub struct PcapWriter {
    buf: Vec<u8>,
    micros: u64,
}

impl Default for PcapWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl PcapWriter {
    /// An empty capture (link type Ethernet).
    pub fn new() -> Self {
        let mut buf = Vec::new();
        buf.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        buf.extend_from_slice(&2u16.to_le_bytes());
        buf.extend_from_slice(&4u16.to_le_bytes());
        buf.extend_from_slice(&0i32.to_le_bytes());
        buf.extend_from_slice(&0u32.to_le_bytes());
        buf.extend_from_slice(&65535u32.to_le_bytes());
        buf.extend_from_slice(&1u32.to_le_bytes());
        Self { buf, micros: 0 }
    }

    /// Appends one UDP datagram 127.0.0.1:`src` → 127.0.0.1:`dst`, 20 ms after the previous one.
    pub fn udp(&mut self, src: u16, dst: u16, payload: &[u8]) {
        self.udp_at(self.micros + 20_000, src, dst, payload);
    }

    /// Appends one UDP datagram stamped `micros` after the capture's start (2023-11-14, so the
    /// times read as offsets into the call).
    pub fn udp_at(&mut self, micros: u64, src: u16, dst: u16, payload: &[u8]) {
        let udp_len = 8 + payload.len();
        let ip_len = 20 + udp_len;
        let mut frame = Vec::with_capacity(14 + ip_len);
        frame.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x00]);
        let mut ip = [0u8; 20];
        ip[0] = 0x45;
        ip[2..4].copy_from_slice(&(ip_len as u16).to_be_bytes());
        ip[8] = 64;
        ip[9] = 17;
        ip[12..16].copy_from_slice(&[127, 0, 0, 1]);
        ip[16..20].copy_from_slice(&[127, 0, 0, 1]);
        let sum = ip
            .chunks(2)
            .fold(0u32, |s, w| s + u32::from(u16::from_be_bytes([w[0], w[1]])));
        let sum = (sum & 0xffff) + (sum >> 16);
        let sum = (sum & 0xffff) + (sum >> 16);
        ip[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
        frame.extend_from_slice(&ip);
        frame.extend_from_slice(&src.to_be_bytes());
        frame.extend_from_slice(&dst.to_be_bytes());
        frame.extend_from_slice(&(udp_len as u16).to_be_bytes());
        frame.extend_from_slice(&[0, 0]);
        frame.extend_from_slice(payload);
        self.micros = micros;
        let at = START_MICROS + micros;
        self.buf
            .extend_from_slice(&((at / 1_000_000) as u32).to_le_bytes());
        self.buf
            .extend_from_slice(&((at % 1_000_000) as u32).to_le_bytes());
        self.buf
            .extend_from_slice(&(frame.len() as u32).to_le_bytes());
        self.buf
            .extend_from_slice(&(frame.len() as u32).to_le_bytes());
        self.buf.extend_from_slice(&frame);
    }

    /// Writes the capture to `w`.
    pub fn write_to(&self, mut w: impl Write) -> io::Result<()> {
        w.write_all(&self.buf)
    }
}
