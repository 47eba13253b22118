//! Decoding throughput on the captured Asterisk 20 event mix.
//!
//! The three recorded AMI streams (fixtures/captures/*_ami_received.raw) are concatenated without their banner
//! lines, then decoded from one buffer, as the reader task would after a large socket read. Throughput is reported
//! in messages (elements) per second: `cargo bench -p faxline-ami --bench decode`.

use std::hint::black_box;

use bytes::BytesMut;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use faxline_ami::codec::BANNER_PREFIX;
use faxline_ami::{AmiCodec, Event, Frame, Limits};
use tokio_util::codec::Decoder;

fn event_mix() -> (Vec<u8>, u64) {
    let mut all = Vec::new();
    for name in [
        "t38_fax_from_agent_ami_received.raw",
        "t38_fax_loopback_ami_received.raw",
        "t38_fax_to_agent_ami_received.raw",
    ] {
        let path = format!("{}/../fixtures/captures/{name}", env!("CARGO_MANIFEST_DIR"));
        let bytes = std::fs::read(&path).expect("capture present");
        let body = match bytes.iter().position(|&b| b == b'\n') {
            Some(i) if bytes.starts_with(BANNER_PREFIX.as_bytes()) => &bytes[i + 1..],
            _ => &bytes[..],
        };
        all.extend_from_slice(body);
    }
    let frames = faxline_ami::codec::decode_all(&all, Limits::default()).unwrap();
    assert!(frames.iter().all(|f| matches!(f, Frame::Message(_))));
    (all, frames.len() as u64)
}

fn bench(c: &mut Criterion) {
    let (stream, messages) = event_mix();
    let mut g = c.benchmark_group("ami_decode");
    g.throughput(Throughput::Elements(messages));
    g.bench_function("frames", |b| {
        let mut codec = AmiCodec::new(Limits::default());
        b.iter(|| {
            let mut buf = BytesMut::from(&stream[..]);
            let mut n = 0u64;
            while let Some(f) = codec.decode(&mut buf).unwrap() {
                black_box(&f);
                n += 1;
            }
            assert_eq!(n, messages);
        })
    });
    g.bench_function("frames_and_typed_events", |b| {
        let mut codec = AmiCodec::new(Limits::default());
        b.iter(|| {
            let mut buf = BytesMut::from(&stream[..]);
            while let Some(Frame::Message(m)) = codec.decode(&mut buf).unwrap() {
                black_box(Event::from_message(m));
            }
        })
    });
    g.throughput(Throughput::Bytes(stream.len() as u64));
    g.bench_function("bytes", |b| {
        let mut codec = AmiCodec::new(Limits::default());
        b.iter(|| {
            let mut buf = BytesMut::from(&stream[..]);
            while let Some(f) = codec.decode(&mut buf).unwrap() {
                black_box(f);
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
