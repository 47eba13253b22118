//! SDP parser under arbitrary bytes: never a panic; a T.38 stream that parses re-emits to the same
//! parameters, and negotiating it either fails with a typed error or yields a sizing that fits.
#![no_main]

use faxline_t38::sdp::negotiate::max_ifp_for_ec;
use faxline_t38::sdp::{LocalT38Config, SessionDescription, T38Attributes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = T38Attributes::from_sdp_lines(&String::from_utf8_lossy(data));
    let Ok(sdp) = SessionDescription::parse(data) else {
        return;
    };
    let _ = sdp.audio();
    let _ = SessionDescription::parse(&sdp.to_bytes());
    let Ok(Some(image)) = sdp.image() else { return };
    let again = T38Attributes::from_attributes(&image.attributes.to_attributes())
        .expect("re-emitted T.38 attributes parse");
    assert_eq!(again, image.attributes);
    let cfg = LocalT38Config::default();
    for n in [cfg.answer(&image.attributes), cfg.accept_answer(&image.attributes)]
        .into_iter()
        .flatten()
    {
        assert!(n.max_ifp_send >= cfg.min_ifp);
        assert!(n.max_ifp_send <= max_ifp_for_ec(n.far_max_datagram, n.ec));
    }
});
