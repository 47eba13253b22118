//! Our RTP packets as an independent dissector reads them: a G.711 stream built by
//! `RtpSender` (marker on the first packet, sequence wrap, 160-sample timestamps) is written to a
//! pcap and dissected by tshark's RTP dissector, which must read the same header fields.

use std::process::Command;

use faxline_sip::rtp::{RtpPacket, RtpSender};
use faxline_tests::pcap_writer::PcapWriter;

#[test]
fn tshark_reads_our_rtp_headers() {
    let mut pcap = PcapWriter::new();
    let mut expected = Vec::new();
    for (port, pt, ssrc, seq0) in [
        (40_000u16, 0u8, 0x0102_0304u32, 65_533u16),
        (40_002, 8, 0xfedc_ba98, 7),
    ] {
        let mut tx = RtpSender::new(pt, ssrc, seq0, 4_294_967_000);
        let mut out = Vec::new();
        for i in 0..6u8 {
            let frame = [0xd5 ^ i; 160];
            tx.packetize(&frame, &mut out);
            let p = RtpPacket::parse(&out).unwrap();
            expected.push(format!(
                "2\t{}\t{}\t{}\t{}\t0x{:08x}\t160",
                u8::from(p.marker),
                p.payload_type,
                p.seq,
                p.timestamp,
                p.ssrc
            ));
            pcap.udp(port + 1000, port, &out);
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rtp.pcap");
    pcap.write_to(std::fs::File::create(&path).unwrap())
        .unwrap();
    let out = Command::new("tshark")
        .arg("-n")
        .arg("-r")
        .arg(&path)
        .args(["-d", "udp.port==40000,rtp", "-d", "udp.port==40002,rtp"])
        .args(["-T", "fields", "-E", "separator=\t"])
        .args(["-e", "rtp.version", "-e", "rtp.marker", "-e", "rtp.p_type"])
        .args(["-e", "rtp.seq", "-e", "rtp.timestamp", "-e", "rtp.ssrc"])
        .args(["-e", "rtp.payload"])
        .output()
        .expect("tshark must be installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let got: Vec<String> = text
        .lines()
        .map(|l| {
            // Compare the payload by its length in octets (tshark prints it as hex).
            let mut f: Vec<String> = l.split('\t').map(str::to_owned).collect();
            let payload = f.pop().unwrap_or_default().replace(':', "");
            f.push((payload.len() / 2).to_string());
            f.join("\t")
        })
        .collect();
    assert_eq!(got, expected, "tshark output:\n{text}");
}
