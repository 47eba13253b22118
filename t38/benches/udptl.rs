//! UDPTL throughput: encode + decode of redundancy-depth-3 packets carrying 60-byte IFPs.
//!
//! `codec`: the sender builds each datagram into a reused buffer and the stateless decoder
//! parses it (borrowing). `receiver`: the same plus the full receiver (ordering, storage,
//! delivery). Run: `cargo bench -p faxline-t38 --bench udptl`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use faxline_t38::udptl::{
    ErrorCorrection, IfpKind, Receiver, Recovery, RedundancyDepth, RxEvent, Sender, SenderConfig,
    UdptlPacket,
};

fn sender() -> Sender {
    Sender::new(SenderConfig {
        error_correction: ErrorCorrection::Redundancy(RedundancyDepth::uniform(3)),
        max_datagram: 1400,
    })
    .unwrap()
}

fn bench(c: &mut Criterion) {
    let ifp: Vec<u8> = (0..60u8).collect();
    let mut g = c.benchmark_group("udptl_redundancy3_ifp60");
    g.throughput(Throughput::Elements(1));

    let mut tx = sender();
    let mut buf = Vec::with_capacity(512);
    g.bench_function("encode_decode", |b| {
        b.iter(|| {
            buf.clear();
            tx.handle_ifp(black_box(&ifp), IfpKind::ImageData, &mut buf)
                .unwrap();
            let p = UdptlPacket::decode(black_box(&buf)).unwrap();
            let Recovery::Redundancy(sec) = p.recovery else {
                unreachable!()
            };
            black_box((p.seq, p.primary.len(), sec.len()))
        })
    });

    let mut tx = sender();
    let mut rx = Receiver::default();
    g.bench_function("encode_receive", |b| {
        b.iter(|| {
            buf.clear();
            tx.handle_ifp(black_box(&ifp), IfpKind::ImageData, &mut buf)
                .unwrap();
            let mut n = 0usize;
            rx.handle_datagram(black_box(&buf), |ev| {
                if let RxEvent::Ifp { ifp, .. } = ev {
                    n += ifp.len();
                }
            })
            .unwrap();
            black_box(n)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
