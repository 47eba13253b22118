//! Replays the real Asterisk 20 AMI byte streams recorded in the lab (fixtures/captures/*_ami_received.raw),
//! split into chunks of every size from 1 byte up to the whole stream, and checks that the decoder yields exactly
//! the same frames every time, plus known content of the captured calls.

use bytes::BytesMut;
use faxline_ami::event::{EventKind, FaxDirection, OriginateReason};
use faxline_ami::{AmiCodec, Event, Frame, Limits, MessageKind};
use tokio_util::codec::Decoder;

const STREAMS: [&str; 3] = [
    "t38_fax_from_agent_ami_received.raw",
    "t38_fax_loopback_ami_received.raw",
    "t38_fax_to_agent_ami_received.raw",
];

fn load(name: &str) -> Vec<u8> {
    let path = format!("{}/../fixtures/captures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn decode_whole(bytes: &[u8]) -> Vec<Frame> {
    faxline_ami::codec::decode_all(bytes, Limits::default()).expect("stream decodes")
}

/// Feeds `bytes` in chunks of `chunk` bytes and checks each frame against `expected` as it comes out.
fn check_split(bytes: &[u8], chunk: usize, expected: &[Frame]) {
    let mut codec = AmiCodec::new(Limits::default());
    let mut buf = BytesMut::with_capacity(chunk.min(bytes.len()) + 4096);
    let mut n = 0;
    for piece in bytes.chunks(chunk) {
        buf.extend_from_slice(piece);
        while let Some(frame) = codec.decode(&mut buf).expect("no decode error") {
            assert!(n < expected.len(), "chunk {chunk}: extra frame {frame:?}");
            assert_eq!(frame, expected[n], "chunk {chunk}: frame {n} differs");
            n += 1;
        }
    }
    while let Some(frame) = codec.decode_eof(&mut buf).expect("clean end of stream") {
        assert_eq!(
            frame, expected[n],
            "chunk {chunk}: frame {n} differs at eof"
        );
        n += 1;
    }
    assert_eq!(n, expected.len(), "chunk {chunk}: frame count");
}

/// Chunk sizes swept over each whole stream in the default test run: every size up to 256 bytes (smaller than
/// nearly every message, so chunk edges land at every offset inside lines, CRLFs and blank lines), then a
/// geometric sweep (×1.07) up to the whole stream. Every size from 1 to the whole stream is Θ(n²) — 12.6 GB of
/// decoding for the three captures, about half an hour unoptimised — so that exhaustive sweep is the ignored test
/// below, for release runs.
fn chunk_sizes(len: usize) -> Vec<usize> {
    let mut sizes: Vec<usize> = (1..=256.min(len)).collect();
    let mut k = 257.0f64;
    while (k as usize) < len {
        sizes.push(k as usize);
        k *= 1.07;
    }
    sizes.extend([len.saturating_sub(1).max(1), len]);
    sizes.dedup();
    sizes
}

#[test]
fn chunked_replay_gives_the_same_frames() {
    for name in STREAMS {
        let bytes = load(name);
        let expected = decode_whole(&bytes);
        for chunk in chunk_sizes(bytes.len()) {
            check_split(&bytes, chunk, &expected);
        }
    }
}

/// Every split point of every message: each message (with the banner, the stream's first "message") is fed to a
/// fresh decoder in two pieces cut at each byte offset, and in 1-byte pieces. Σ(message length²) is small, so this
/// covers all boundary positions exhaustively in well under a second.
#[test]
fn every_split_point_inside_every_message() {
    for name in STREAMS {
        let bytes = load(name);
        let expected = decode_whole(&bytes);
        // Message boundaries: after the banner line and after each CRLF CRLF.
        let mut cuts = vec![0, bytes.iter().position(|&b| b == b'\n').unwrap() + 1];
        cuts.extend(
            bytes
                .windows(4)
                .enumerate()
                .filter(|(_, w)| w == b"\r\n\r\n")
                .map(|(i, _)| i + 4),
        );
        assert_eq!(cuts.len(), expected.len() + 1, "{name}");
        for (i, pair) in cuts.windows(2).enumerate() {
            let msg = &bytes[pair[0]..pair[1]];
            let want = std::slice::from_ref(&expected[i]);
            for p in 0..=msg.len() {
                let mut codec = AmiCodec::new(Limits::default());
                let mut buf = BytesMut::new();
                let mut got = Vec::new();
                for piece in [&msg[..p], &msg[p..]] {
                    buf.extend_from_slice(piece);
                    while let Some(f) = codec.decode(&mut buf).unwrap() {
                        got.push(f);
                    }
                }
                assert_eq!(got, want, "{name}: message {i} split at {p}");
                assert!(buf.is_empty());
            }
        }
    }
}

/// Literally every chunk size from 1 byte to the whole stream. Θ(n²): run it optimised,
/// `cargo test -p faxline-ami --release --test replay -- --ignored`.
#[test]
#[ignore = "exhaustive Θ(n²) sweep, ~1 min optimised: .ci/test runs it with --release -- --ignored"]
fn every_chunk_size_gives_the_same_frames() {
    for name in STREAMS {
        let bytes = load(name);
        let expected = decode_whole(&bytes);
        for chunk in 1..=bytes.len() {
            check_split(&bytes, chunk, &expected);
        }
    }
}

#[test]
fn streams_have_the_expected_shape() {
    for name in STREAMS {
        let bytes = load(name);
        let frames = decode_whole(&bytes);
        // Independent count: every message ends with an empty CRLF line in these captures.
        let blank_lines = bytes.windows(4).filter(|w| w == b"\r\n\r\n").count();
        assert_eq!(
            frames.len(),
            blank_lines + 1,
            "{name}: banner + one frame per message"
        );
        assert_eq!(
            frames[0],
            Frame::Banner("Asterisk Call Manager/9.0.0".into()),
            "{name}"
        );
        assert!(
            frames[1..].iter().all(|f| matches!(f, Frame::Message(_))),
            "{name}: nothing dropped"
        );
        let Frame::Message(login) = &frames[1] else {
            unreachable!()
        };
        assert_eq!(login.kind(), MessageKind::Response("Success"));
        assert_eq!(login.action_id(), Some("login-1"));
        assert_eq!(login.get("message"), Some("Authentication accepted"));
        let Frame::Message(last) = frames.last().unwrap() else {
            unreachable!()
        };
        assert_eq!(last.kind(), MessageKind::Response("Goodbye"));
        assert_eq!(last.get("Message"), Some("Thanks for all the fish."));
    }
}

fn events(name: &str) -> Vec<Event> {
    decode_whole(&load(name))
        .into_iter()
        .filter_map(|f| match f {
            Frame::Message(m) => Event::from_message(m),
            _ => None,
        })
        .collect()
}

#[test]
fn loopback_call_typed_events() {
    let evs = events("t38_fax_loopback_ami_received.raw");
    let orig: Vec<_> = evs
        .iter()
        .filter_map(|e| match e.kind() {
            EventKind::OriginateResponse(o) => Some(o),
            _ => None,
        })
        .collect();
    assert_eq!(orig.len(), 1);
    let o = orig[0];
    assert!(o.success);
    assert_eq!(o.reason, OriginateReason::Answered);
    assert_eq!(o.action_id.as_deref(), Some("orig-capture-loopback"));
    assert_eq!(o.channel, "Local/s@faxout-00000000;1");
    assert_eq!(o.uniqueid.as_deref(), Some("1795349058.0"));
    assert_eq!(o.caller_id_num.as_str(), "5550100");

    let finished: Vec<_> = evs
        .iter()
        .filter_map(|e| match e.kind() {
            EventKind::FaxFinished(f) => Some(f),
            _ => None,
        })
        .collect();
    assert_eq!(finished.len(), 2);
    let rx = finished
        .iter()
        .find(|f| f.direction == FaxDirection::Receive)
        .unwrap();
    assert_eq!(rx.pages, Some(2));
    assert_eq!(rx.resolution, "8031x7700");
    assert_eq!(rx.transfer_rate, Some(14400));
    assert_eq!(rx.files, ["/tmp/asterisk-lab/spool/1795349058.3.tif"]);
    assert_eq!(rx.channel.uniqueid, "1795349058.3");

    let results: Vec<_> = evs
        .iter()
        .filter_map(|e| match e.kind() {
            EventKind::UserEvent(u) if u.name == "FaxResult" => Some(u),
            _ => None,
        })
        .collect();
    assert_eq!(results.len(), 2);
    let send = results
        .iter()
        .find(|u| u.get("Direction") == Some("send"))
        .unwrap();
    assert_eq!(send.get("status"), Some("SUCCESS"));
    assert_eq!(send.get("JobID"), Some("capture-loopback"));
    assert_eq!(send.get("Pages"), Some("2"));
    assert_eq!(send.get("Error"), Some("HANGUP"));
    assert_eq!(send.get("HangupCause"), Some("16"));

    let hangups: Vec<_> = evs
        .iter()
        .filter_map(|e| match e.kind() {
            EventKind::Hangup(h) => Some(h),
            _ => None,
        })
        .collect();
    assert_eq!(hangups.len(), 4);
    assert!(
        hangups
            .iter()
            .all(|h| h.cause == Some(16) && h.cause_txt == "Normal Clearing")
    );

    let statuses: Vec<_> = evs
        .iter()
        .filter_map(|e| match e.kind() {
            EventKind::FaxStatus(s) => Some(s.status.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(statuses.len(), 6);
    assert!(statuses.contains(&"T.38 Negotiated"));
    assert!(matches!(evs[0].kind(), EventKind::FullyBooted(b) if b.uptime == Some(8)));
    // VarSet keeps Variable/Value pairs in order, unparsed.
    let varset = evs.iter().find(|e| e.name() == "VarSet").unwrap();
    assert!(matches!(varset.kind(), EventKind::Other));
    assert!(varset.message().get("Variable").is_some());
}

#[test]
fn every_captured_event_is_classified_by_event_first() {
    for name in STREAMS {
        for f in decode_whole(&load(name)) {
            if let Frame::Message(m) = f {
                let has_event = m.event_name().is_some();
                assert_eq!(matches!(m.kind(), MessageKind::Event(_)), has_event);
            }
        }
    }
}
