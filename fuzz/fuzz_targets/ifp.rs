//! IFP decoder under arbitrary bytes and every version: never a panic; whatever decodes
//! re-encodes to bytes that decode to the same packet.
#![no_main]

use faxline_t38::ifp::IfpPacket;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&v, bytes)) = data.split_first() else {
        return;
    };
    let version = v % 5; // 4 exercises the unsupported-version error
    if let Ok(p) = IfpPacket::decode(bytes, version) {
        let again = p.to_bytes(version).expect("a decoded packet re-encodes");
        assert_eq!(
            IfpPacket::decode(&again, version).expect("re-encoding decodes"),
            p
        );
    }
});
