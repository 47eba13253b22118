//! spandsp accepts our MH and MR TIFF-F for sending, not only the default MMR: a rendered document
//! goes through a simulated T.38 call (two spandsp terminals, real UDPTL packets, a clean line)
//! and arrives with every page, pixel-identical to what we rendered.
//!
//! With ECM the line carries T.6 and spandsp re-encodes from its own decode of our file; without
//! ECM it sends T.4 (MR if both ends offer it). Both paths start by reading our strips with
//! libtiff inside spandsp's `t4_tx`, which is what this test is about. Our spandsp patch reads those
//! strips one row at a time (not the whole page) and holds received rows packed until the page is
//! written; every received compression is checked here, so both sides must stay pixel-exact.

mod common;

use common::pdf;
use faxline_document::{Encoding, RenderOptions, decode_tiff, render};
use faxline_t38::session::ReceivedCompression;
use faxline_t38::sim::{Call, CallConfig};
use faxline_t38::udptl::ErrorCorrection;

fn send(encoding: Encoding, ecm: bool) {
    send_received_as(encoding, ecm, ReceivedCompression::Mh);
}

fn send_received_as(encoding: Encoding, ecm: bool, stored: ReceivedCompression) {
    let opts = RenderOptions {
        encoding,
        ..RenderOptions::default()
    };
    // Two pages: a PDF page (dithered graphics and text) and a text page.
    let mut doc = render(&pdf("form-photo-a4.pdf"), &opts).unwrap();
    let text = render(b"Second page of the test fax.\n", &opts).unwrap();
    doc.pages.truncate(1);
    doc.pages.extend(text.pages);
    let tiff = faxline_document::write_tiff(&doc.pages, doc.resolution, encoding).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let sent = dir.path().join("sent.tif");
    let received = dir.path().join("received.tif");
    std::fs::write(&sent, &tiff).unwrap();
    let mut call = CallConfig::t38(sent, received.clone(), 0, ErrorCorrection::None);
    call.sender.ecm = ecm;
    call.receiver.ecm = ecm;
    call.receiver.received_compression = stored;
    call.label = format!("{encoding:?}-ecm{ecm}-{stored:?}");
    let report = Call::new(call).expect("call setup").run();
    assert!(
        report.is_success(),
        "{encoding:?} ecm={ecm}: sender {:?}, receiver {:?}",
        report.sender.outcome,
        report.receiver.outcome
    );
    assert_eq!(report.sender.pages, 2, "{encoding:?} ecm={ecm}");
    assert_eq!(report.receiver.pages, 2, "{encoding:?} ecm={ecm}");

    let got = decode_tiff(&std::fs::read(&received).unwrap()).unwrap();
    assert_eq!(got.len(), 2);
    for (i, ((page, _dpi), ours)) in got.iter().zip(&doc.pages).enumerate() {
        assert!(
            page == ours,
            "{encoding:?} ecm={ecm}: page {} arrived different ({:?} vs {:?}, {} vs {} black)",
            i + 1,
            page,
            ours,
            page.black_pixels(),
            ours.black_pixels()
        );
    }
}

#[test]
fn spandsp_sends_our_mh_tiff() {
    send(Encoding::Mh, true);
    send(Encoding::Mh, false);
}

#[test]
fn spandsp_sends_our_mr_tiff() {
    send(Encoding::Mr, true);
    send(Encoding::Mr, false);
}

#[test]
fn spandsp_sends_our_mmr_tiff() {
    send(Encoding::Mmr, true);
    send(Encoding::Mmr, false);
}

#[test]
fn received_pages_are_exact_in_every_received_compression() {
    for stored in [ReceivedCompression::Mr, ReceivedCompression::Mmr] {
        send_received_as(Encoding::Mmr, true, stored);
        send_received_as(Encoding::Mh, false, stored);
    }
}
