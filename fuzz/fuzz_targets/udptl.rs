//! UDPTL parser and receiver under arbitrary datagrams: never a panic; whatever decodes
//! re-encodes to an equal packet; a receiver fed a stream of fuzz datagrams keeps its delivery
//! order.
#![no_main]

use faxline_t38::udptl::{Receiver, RxEvent, UdptlPacket};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = UdptlPacket::decode(data) {
        let mut out = Vec::new();
        p.encode(&mut out).expect("a decoded packet re-encodes");
        assert_eq!(UdptlPacket::decode(&out).expect("re-encoding decodes"), p);
    }
    // The same bytes split into several datagrams (first byte = chunk length) drive a receiver.
    let mut rx = Receiver::default();
    let mut last: Option<u16> = None;
    let mut rest = data;
    while let Some((&n, tail)) = rest.split_first() {
        let n = usize::from(n).min(tail.len());
        let (datagram, tail) = tail.split_at(n);
        rest = tail;
        let _ = rx.handle_datagram(datagram, |ev| {
            if let RxEvent::Ifp { seq, .. } = ev {
                if let Some(prev) = last {
                    assert_ne!(prev, seq, "delivered twice in a row");
                }
                last = Some(seq);
            }
        });
    }
    rx.handle_flush(|_| ());
});
