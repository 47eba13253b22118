//! Decode throughput measured in thread CPU time (not wall time), for loaded machines:
//! `cargo run -p faxline-ami --profile bench --example decode_cpu`.
use bytes::BytesMut;
use faxline_ami::{AmiCodec, Limits};
use tokio_util::codec::Decoder;

fn cpu_ns() -> u64 {
    // First field of schedstat: nanoseconds this thread spent on a CPU.
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn main() {
    let mut all = Vec::new();
    for name in [
        "t38_fax_from_agent_ami_received.raw",
        "t38_fax_loopback_ami_received.raw",
        "t38_fax_to_agent_ami_received.raw",
    ] {
        let bytes = std::fs::read(format!(
            "{}/../fixtures/captures/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let nl = bytes.iter().position(|&b| b == b'\n').unwrap();
        all.extend_from_slice(&bytes[nl + 1..]);
    }
    let mut codec = AmiCodec::new(Limits::default());
    let (mut msgs, passes) = (0u64, 2000);
    let (w0, c0) = (std::time::Instant::now(), cpu_ns());
    for _ in 0..passes {
        let mut buf = BytesMut::from(&all[..]);
        while let Some(f) = codec.decode(&mut buf).unwrap() {
            std::hint::black_box(f);
            msgs += 1;
        }
    }
    let (wall, cpu) = (w0.elapsed().as_secs_f64(), (cpu_ns() - c0) as f64 / 1e9);
    println!(
        "{msgs} messages ({} per pass, {} bytes per pass): {:.2} M msg/s per CPU-second ({:.0} MB/s); wall {:.2} M msg/s",
        msgs / passes,
        all.len(),
        msgs as f64 / cpu / 1e6,
        (all.len() as f64 * passes as f64) / cpu / 1e6,
        msgs as f64 / wall / 1e6
    );
}
