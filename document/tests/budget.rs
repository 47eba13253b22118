//! Hostile documents against the render budget: decompression bombs refused by the pre-scan
//! before anything is allocated, a text file of one huge line laid out in linear memory.

mod hostile;

use faxline_document::{DocError, RenderOptions, count_pages, render, render_page};

fn over_budget(r: Result<impl std::fmt::Debug, DocError>, what: &str) {
    match r {
        Err(DocError::OverBudget(m)) => assert!(m.contains(what), "{m}"),
        other => panic!("expected OverBudget({what}), got {other:?}"),
    }
}

/// A 60000×60000 1-bit image cost hayro gigabytes; the pre-scan refuses it from its dictionary.
#[test]
fn an_image_bomb_is_refused_before_rendering() {
    let pdf = hostile::image_bomb();
    assert!(pdf.len() < 1 << 20, "{} bytes", pdf.len());
    let opts = RenderOptions::default();
    over_budget(count_pages(&pdf, &opts), "60000×60000");
    over_budget(render(&pdf, &opts), "60000×60000");
    over_budget(render_page(&pdf, 1, &opts), "60000×60000");
}

/// A JPEG image claiming 100000×100000 pixels (in a few bytes) is refused from its dictionary,
/// before any decoder sees it.
#[test]
fn a_huge_jpeg_is_refused_before_rendering() {
    let pdf = hostile::pdf(
        "/Contents 4 0 R /Resources << /XObject << /Im0 5 0 R >> >>",
        &[
            hostile::stream("", b"q 612 0 0 792 0 0 cm /Im0 Do Q"),
            hostile::stream(
                "/Type /XObject /Subtype /Image /Width 100000 /Height 100000 /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode",
                b"\xff\xd8\xff\xd9",
            ),
        ],
    );
    let opts = RenderOptions::default();
    over_budget(count_pages(&pdf, &opts), "100000×100000");
    over_budget(render(&pdf, &opts), "100000×100000");
}

/// A content stream inflating to 300 MiB (over a quarter of the default 512 MiB budget) is
/// measured by a bounded inflate and refused.
#[test]
fn a_content_stream_bomb_is_refused_before_rendering() {
    let pdf = hostile::content_bomb(300);
    assert!(pdf.len() < 1 << 20, "{} bytes", pdf.len());
    let opts = RenderOptions::default();
    over_budget(count_pages(&pdf, &opts), "stream decodes to more than");
    over_budget(render(&pdf, &opts), "stream decodes to more than");
}

/// The limits follow the budget: the same 100 MiB stream fits 512 MiB and not 256 MiB.
#[test]
fn the_limits_scale_with_the_memory_budget() {
    let pdf = hostile::content_bomb(100);
    let big = RenderOptions::default();
    assert_eq!(count_pages(&pdf, &big).unwrap(), 1);
    let small = RenderOptions {
        memory_limit: 256 << 20,
        ..RenderOptions::default()
    };
    over_budget(count_pages(&pdf, &small), "stream decodes to more than");
}

/// A stream is measured by inflating it only when its worst case (1032 to 1 for Flate) could
/// pass the limit; either way the answer is the decoded size's. 64 KiB of zeros comes from 70
/// bytes (cannot pass: not measured, taken); 96 KiB of noise (worst case 100 MB, over a 64 MiB
/// limit) is measured and taken; the 100 MiB bomb is measured and refused.
#[test]
fn streams_are_measured_only_when_they_could_pass_the_limit() {
    use std::io::Write;
    let small = RenderOptions {
        memory_limit: 256 << 20,
        ..RenderOptions::default()
    };
    let tiny = hostile::pdf(
        "/Contents 4 0 R",
        &[hostile::stream(
            "/Filter /FlateDecode",
            &hostile::zeros_flate(64 << 10),
        )],
    );
    assert_eq!(count_pages(&tiny, &small).unwrap(), 1);
    let mut x: u32 = 0x9e37_79b9;
    let noise: Vec<u8> = (0..96 << 10)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect();
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(&noise).unwrap();
    let raw = z.finish().unwrap();
    assert!(
        raw.len() as u64 * 1032 > (256u64 << 20) / 4,
        "the worst case must be over"
    );
    let measured = hostile::pdf(
        "/Contents 4 0 R",
        &[hostile::stream("/Filter /FlateDecode", &raw)],
    );
    assert_eq!(count_pages(&measured, &small).unwrap(), 1);
    over_budget(
        count_pages(&hostile::content_bomb(100), &small),
        "stream decodes to more than",
    );
}

/// 9 MB of text without a newline took the whole server down; now it stops at the page limit,
/// and a 100 KB line (which peaked at ~230 MB) is wrapped onto its 21 pages.
#[test]
fn one_huge_text_line_is_bounded() {
    let opts = RenderOptions::default();
    let huge = hostile::one_long_line(9 << 20);
    assert!(matches!(
        count_pages(&huge, &opts),
        Err(DocError::TextTooLong { limit: 100 })
    ));
    assert!(matches!(
        render(&huge, &opts),
        Err(DocError::TextTooLong { limit: 100 })
    ));
    let long = hostile::one_long_line(100_000);
    let doc = render(&long, &opts).unwrap();
    assert_eq!(doc.page_count(), count_pages(&long, &opts).unwrap());
    assert!(
        (15..=25).contains(&doc.page_count()),
        "{}",
        doc.page_count()
    );
}

/// A worker that does not answer is killed at its wall-clock deadline (here `sleep`, standing in
/// for a render stuck in a loop): the caller gets `OverBudget` and the process is gone.
#[test]
fn a_worker_past_its_deadline_is_killed() {
    use faxline_document::worker::{Isolation, Job, WorkerCommand};
    let stuck = Isolation::Worker(WorkerCommand {
        program: "sleep".into(),
        args: vec!["600".into()],
    });
    let opts = RenderOptions {
        page_timeout: std::time::Duration::from_millis(100),
        ..RenderOptions::default()
    };
    let err = stuck.run(Job::Count, b"hello\n", &opts).unwrap_err();
    assert!(
        matches!(&err, DocError::OverBudget(m) if m.contains("took longer")),
        "{err:?}"
    );
    // Nor when the document is more than the pipe holds and the worker never reads it.
    let big = vec![b'a'; 1 << 20];
    let err = stuck.run(Job::Count, &big, &opts).unwrap_err();
    assert!(
        matches!(&err, DocError::OverBudget(m) if m.contains("took longer")),
        "{err:?}"
    );
    let missing = Isolation::Worker(WorkerCommand {
        program: "/nonexistent/faxline".into(),
        args: vec![],
    });
    let err = missing.run(Job::Count, b"hello\n", &opts).unwrap_err();
    assert!(matches!(err, DocError::Worker(_)), "{err:?}");
}
