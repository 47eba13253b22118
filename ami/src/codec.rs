//! The AMI wire codec: a sans-IO framer turning bytes into [`Frame`]s, wrapped as a tokio-util `Decoder`/`Encoder`.
//!
//! Framing facts (telephony.md §1.1): one banner line `Asterisk Call Manager/<ver>` without a blank line after it;
//! then messages of `Key: Value` lines ended by CRLF (a bare LF is accepted) and closed by an empty line. The legacy
//! `Response: Follows` reply carries raw text up to `--END COMMAND--` and may contain blank lines.
//!
//! Hostile or broken input never grows the buffer without bound: a line, a header count or a message over its
//! [`Limits`] switches the decoder to *discarding* — the bytes of that message are dropped as they arrive, and at
//! the next empty line it reports [`Frame::Dropped`] and carries on with the following message. Because nothing is
//! kept while discarding, the resync is always memory-safe, and a reader task survives garbage instead of dying.

use bytes::{Buf, BufMut, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use crate::action::{Action, ActionError};
use crate::message::{HeaderSpan, Message, Span};

/// The banner prefix Asterisk writes on connect. Only the prefix is checked; the version differs per branch.
pub const BANNER_PREFIX: &str = "Asterisk Call Manager/";

const END_COMMAND: &[u8] = b"--END COMMAND--";

/// Input limits. Asterisk's own output lines are short, but `Output:`/`Variable:` lines and long caller names can
/// reach a few KiB; the defaults leave room for that while bounding memory per connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Longest accepted line, without its line ending.
    pub max_line: usize,
    /// Most header lines in one message.
    pub max_headers: usize,
    /// Largest message in bytes, line endings included.
    pub max_message: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line: 16 * 1024,
            max_headers: 1024,
            max_message: 1024 * 1024,
        }
    }
}

/// Why a message was dropped (the decoder has already resynchronised at the next empty line).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    /// A line was longer than [`Limits::max_line`].
    #[error("line longer than {limit} bytes")]
    LineTooLong {
        /// The limit in force.
        limit: usize,
    },
    /// A message had more than [`Limits::max_headers`] lines.
    #[error("more than {limit} header lines in one message")]
    TooManyHeaders {
        /// The limit in force.
        limit: usize,
    },
    /// A message was larger than [`Limits::max_message`].
    #[error("message larger than {limit} bytes")]
    MessageTooLarge {
        /// The limit in force.
        limit: usize,
    },
    /// A line inside a message was not `Key: Value` (and not part of a legacy `Follows` body).
    #[error("line is not a `Key: Value` header")]
    MalformedLine,
}

/// Fatal decode errors: the connection cannot be read further.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The socket failed.
    #[error("AMI read failed: {0}")]
    Io(#[from] std::io::Error),
    /// The peer closed the connection in the middle of a message; the partial message is discarded.
    #[error("connection closed in the middle of a message ({pending} bytes pending)")]
    Truncated {
        /// Bytes of the unfinished message.
        pending: usize,
    },
}

/// Encode errors.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    /// The socket failed.
    #[error("AMI write failed: {0}")]
    Io(#[from] std::io::Error),
    /// The action cannot be written safely (for example a value with a line break).
    #[error(transparent)]
    Invalid(#[from] ActionError),
}

/// One decoded unit of the AMI stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// The greeting line, e.g. `Asterisk Call Manager/9.0.0`.
    Banner(String),
    /// An event or a response.
    Message(Message),
    /// A message that broke a limit or was malformed; its bytes were discarded and decoding continues after it.
    Dropped(LimitError),
}

/// Where the decoder is within a legacy `Response: Follows` reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Follows {
    /// Not a Follows reply (or not yet known).
    No,
    /// `Response: Follows` seen, still reading its few headers.
    Headers,
    /// Inside the raw output, which started at this offset.
    Body { start: usize },
    /// `--END COMMAND--` seen; the next empty line ends the message.
    Ended { start: usize, end: usize },
}

/// The AMI codec. `Decoder` yields [`Frame`]s; `Encoder` writes [`Action`]s.
#[derive(Debug)]
pub struct AmiCodec {
    limits: Limits,
    /// Offset of the first line of the current message not yet examined (the message always starts at offset 0).
    scan: usize,
    headers: Vec<HeaderSpan>,
    follows: Follows,
    /// Dropping input until an empty line, because of this error.
    discarding: Option<LimitError>,
    /// While discarding: true if the current partial line has only seen `\r` so far.
    discard_line_empty: bool,
}

impl Default for AmiCodec {
    fn default() -> Self {
        Self::new(Limits::default())
    }
}

fn is_token_key(key: &[u8]) -> bool {
    !key.is_empty()
        && key
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
}

fn trim_end_blank(s: &[u8]) -> &[u8] {
    let mut end = s.len();
    while end > 0 && matches!(s[end - 1], b' ' | b'\t') {
        end -= 1;
    }
    &s[..end]
}

impl AmiCodec {
    /// A codec with the given limits.
    pub fn new(limits: Limits) -> Self {
        AmiCodec {
            limits,
            scan: 0,
            headers: Vec::with_capacity(32),
            follows: Follows::No,
            discarding: None,
            discard_line_empty: true,
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    fn reset_message(&mut self) {
        self.scan = 0;
        self.headers.clear();
        self.follows = Follows::No;
    }

    /// Drops the current message: `consumed` bytes of `src` belong to it; `at_line_start` says whether the
    /// discarding continues at the start of a line (a complete line was consumed) or in the middle of one.
    fn start_discard(&mut self, src: &mut BytesMut, consumed: usize, reason: LimitError) {
        src.advance(consumed);
        self.reset_message();
        self.discarding = Some(reason);
        self.discard_line_empty = true;
    }

    /// Discards input up to the next empty line. Returns the drop report once it is found.
    fn discard(&mut self, src: &mut BytesMut) -> Option<Frame> {
        loop {
            match memchr::memchr(b'\n', src) {
                None => {
                    if src.iter().any(|&b| b != b'\r') {
                        self.discard_line_empty = false;
                    }
                    src.clear();
                    return None;
                }
                Some(i) => {
                    let empty = self.discard_line_empty && src[..i].iter().all(|&b| b == b'\r');
                    src.advance(i + 1);
                    self.discard_line_empty = true;
                    if empty {
                        return self.discarding.take().map(Frame::Dropped);
                    }
                }
            }
        }
    }

    /// Turns the first `len` bytes of `src` (one complete message) into a [`Message`].
    fn finish_message(&mut self, src: &mut BytesMut, len: usize) -> Frame {
        let raw = src.split_to(len).freeze();
        let body = match self.follows {
            Follows::Ended { start, end } => {
                let mut end = end;
                // The newline before `--END COMMAND--` ends the output, it is not part of it.
                if end > start && raw[end - 1] == b'\n' {
                    end -= 1;
                    if end > start && raw[end - 1] == b'\r' {
                        end -= 1;
                    }
                }
                Some(Span::new(start, end))
            }
            _ => None,
        };
        let frame = if std::str::from_utf8(&raw).is_ok() {
            let headers = std::mem::replace(&mut self.headers, Vec::with_capacity(32));
            Frame::Message(Message::from_parts(raw, headers, body))
        } else {
            // Rare: a non-UTF-8 byte (e.g. a Latin-1 caller name). Convert and parse the converted text again; a
            // replacement character is 3 bytes, so the nested limits are widened accordingly.
            let text = String::from_utf8_lossy(&raw).into_owned();
            let mut inner = AmiCodec::new(Limits {
                max_line: self.limits.max_line.saturating_mul(3),
                max_headers: self.limits.max_headers,
                max_message: self.limits.max_message.saturating_mul(3),
            });
            let mut buf = BytesMut::from(text.as_bytes());
            match inner.decode(&mut buf) {
                Ok(Some(frame)) => frame,
                _ => Frame::Dropped(LimitError::MalformedLine),
            }
        };
        self.reset_message();
        frame
    }

    /// The sans-IO core: examine complete lines of `src` and return the next frame, if one is complete.
    fn decode_frame(&mut self, src: &mut BytesMut) -> Option<Frame> {
        loop {
            if self.discarding.is_some() {
                match self.discard(src) {
                    Some(frame) => return Some(frame),
                    None => return None,
                }
            }
            let start = self.scan;
            let Some(nl) = memchr::memchr(b'\n', &src[start..]) else {
                let partial = src.len() - start;
                if partial > self.limits.max_line {
                    let limit = self.limits.max_line;
                    let all = src.len();
                    self.start_discard(src, all, LimitError::LineTooLong { limit });
                    self.discard_line_empty = false;
                    continue;
                }
                if src.len() > self.limits.max_message {
                    let limit = self.limits.max_message;
                    let all = src.len();
                    self.start_discard(src, all, LimitError::MessageTooLarge { limit });
                    self.discard_line_empty = false;
                    continue;
                }
                return None;
            };
            let line_end = start + nl;
            let content_end = if line_end > start && src[line_end - 1] == b'\r' {
                line_end - 1
            } else {
                line_end
            };
            let next = line_end + 1;
            if content_end - start > self.limits.max_line {
                let limit = self.limits.max_line;
                self.start_discard(src, next, LimitError::LineTooLong { limit });
                continue;
            }
            if next > self.limits.max_message {
                let limit = self.limits.max_message;
                self.start_discard(src, next, LimitError::MessageTooLarge { limit });
                continue;
            }
            self.scan = next;

            if content_end == start {
                // An empty line.
                match self.follows {
                    Follows::Body { .. } => continue,
                    _ if self.headers.is_empty() && self.follows == Follows::No => {
                        // Stray blank line between messages: skip it.
                        src.advance(next);
                        self.scan = 0;
                        continue;
                    }
                    _ => return Some(self.finish_message(src, next)),
                }
            }

            if let Follows::Body { start: body_start } = self.follows {
                let line = &src[start..content_end];
                if line.ends_with(END_COMMAND) {
                    self.follows = Follows::Ended {
                        start: body_start,
                        end: content_end - END_COMMAND.len(),
                    };
                }
                continue;
            }

            let line = &src[start..content_end];
            let colon = memchr::memchr(b':', line);
            let header = match colon {
                Some(c) if c > 0 => {
                    let key = trim_end_blank(&line[..c]);
                    if key.is_empty() || (self.follows == Follows::Headers && !is_token_key(key)) {
                        None
                    } else {
                        let mut vs = c + 1;
                        while vs < line.len() && matches!(line[vs], b' ' | b'\t') {
                            vs += 1;
                        }
                        Some(HeaderSpan {
                            key: Span::new(start, start + key.len()),
                            value: Span::new(start + vs, content_end),
                        })
                    }
                }
                _ => None,
            };

            match header {
                Some(h) => {
                    if matches!(self.follows, Follows::Ended { .. }) {
                        // Text after `--END COMMAND--` but before the empty line: ignore it.
                        continue;
                    }
                    if self.headers.len() >= self.limits.max_headers {
                        let limit = self.limits.max_headers;
                        self.start_discard(src, next, LimitError::TooManyHeaders { limit });
                        continue;
                    }
                    let key = &src[h.key.start as usize..h.key.end as usize];
                    let value = &src[h.value.start as usize..h.value.end as usize];
                    if self.follows == Follows::No
                        && key.eq_ignore_ascii_case(b"Response")
                        && value.eq_ignore_ascii_case(b"Follows")
                    {
                        self.follows = Follows::Headers;
                    }
                    self.headers.push(h);
                }
                _ => {
                    let line = &src[start..content_end];
                    if self.headers.is_empty() && line.starts_with(BANNER_PREFIX.as_bytes()) {
                        let banner = String::from_utf8_lossy(line).into_owned();
                        src.advance(next);
                        self.reset_message();
                        return Some(Frame::Banner(banner));
                    }
                    match self.follows {
                        Follows::Headers => {
                            self.follows = if line.ends_with(END_COMMAND) {
                                Follows::Ended {
                                    start,
                                    end: content_end - END_COMMAND.len(),
                                }
                            } else {
                                Follows::Body { start }
                            };
                        }
                        Follows::Ended { .. } => {}
                        _ => {
                            self.start_discard(src, next, LimitError::MalformedLine);
                        }
                    }
                }
            }
        }
    }
}

impl Decoder for AmiCodec {
    type Item = Frame;
    type Error = DecodeError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, DecodeError> {
        Ok(self.decode_frame(src))
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, DecodeError> {
        if let Some(frame) = self.decode_frame(src) {
            return Ok(Some(frame));
        }
        if let Some(reason) = self.discarding.take() {
            src.clear();
            return Ok(Some(Frame::Dropped(reason)));
        }
        let pending = src.len();
        let only_blank = src.iter().all(|b| matches!(b, b'\r' | b'\n'));
        src.clear();
        self.reset_message();
        if only_blank {
            Ok(None)
        } else {
            Err(DecodeError::Truncated { pending })
        }
    }
}

impl Encoder<&Action> for AmiCodec {
    type Error = EncodeError;

    fn encode(&mut self, action: &Action, dst: &mut BytesMut) -> Result<(), EncodeError> {
        action.validate()?;
        dst.reserve(action.wire_len());
        dst.put_slice(b"Action: ");
        dst.put_slice(action.name().as_bytes());
        dst.put_slice(b"\r\n");
        for (k, v) in action.headers() {
            dst.put_slice(k.as_bytes());
            dst.put_slice(b": ");
            dst.put_slice(v.as_bytes());
            dst.put_slice(b"\r\n");
        }
        dst.put_slice(b"\r\n");
        Ok(())
    }
}

/// Decodes a complete in-memory stream into frames (for tests, tools and benchmarks).
pub fn decode_all(bytes: &[u8], limits: Limits) -> Result<Vec<Frame>, DecodeError> {
    let mut codec = AmiCodec::new(limits);
    let mut buf = BytesMut::from(bytes);
    let mut out = Vec::new();
    while let Some(f) = codec.decode(&mut buf)? {
        out.push(f);
    }
    while let Some(f) = codec.decode_eof(&mut buf)? {
        out.push(f);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(input: &str) -> Vec<Frame> {
        decode_all(input.as_bytes(), Limits::default()).unwrap()
    }

    fn msg(f: &Frame) -> &Message {
        match f {
            Frame::Message(m) => m,
            other => panic!("expected a message, got {other:?}"),
        }
    }

    #[test]
    fn banner_then_messages_with_lf_and_crlf() {
        let f = frames(
            "Asterisk Call Manager/9.0.0\r\nResponse: Success\r\nActionID: 1\r\n\r\nEvent: X\nKey: a:b: c\n\n",
        );
        assert_eq!(f[0], Frame::Banner("Asterisk Call Manager/9.0.0".into()));
        assert_eq!(msg(&f[1]).action_id(), Some("1"));
        assert_eq!(msg(&f[2]).get("key"), Some("a:b: c"));
        assert_eq!(f.len(), 3);
    }

    #[test]
    fn empty_values_and_stray_blank_lines() {
        let f = frames("\r\n\r\nEvent: X\r\nAccountCode: \r\nOutput:\r\n\r\n\r\n");
        assert_eq!(f.len(), 1);
        let m = msg(&f[0]);
        assert_eq!(m.get("AccountCode"), Some(""));
        assert_eq!(m.get("Output"), Some(""));
    }

    #[test]
    fn legacy_follows_reply_with_blank_lines_in_body() {
        let f = frames(
            "Response: Follows\r\nPrivilege: Command\r\nActionID: c1\r\nChannel  Location: x\n\nline: 3\n--END COMMAND--\r\n\r\nEvent: Y\r\n\r\n",
        );
        assert_eq!(f.len(), 2);
        let m = msg(&f[0]);
        assert_eq!(m.kind(), crate::MessageKind::Response("Follows"));
        assert_eq!(m.action_id(), Some("c1"));
        assert_eq!(m.follows_body(), Some("Channel  Location: x\n\nline: 3"));
        assert_eq!(msg(&f[1]).event_name(), Some("Y"));
    }

    #[test]
    fn follows_with_end_marker_on_the_output_line() {
        let f = frames(
            "Response: Follows\r\nPrivilege: Command\r\nNo such command--END COMMAND--\r\n\r\n",
        );
        assert_eq!(msg(&f[0]).follows_body(), Some("No such command"));
    }

    #[test]
    fn oversize_line_is_dropped_and_decoding_resyncs() {
        let limits = Limits {
            max_line: 64,
            ..Limits::default()
        };
        let long = "x".repeat(1000);
        let input =
            format!("Event: A\r\n\r\nEvent: B\r\nJunk: {long}\r\nMore: 1\r\n\r\nEvent: C\r\n\r\n");
        // Feed byte by byte to prove the discarding state never buffers the long line.
        let mut codec = AmiCodec::new(limits);
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for b in input.bytes() {
            buf.put_u8(b);
            while let Some(f) = codec.decode(&mut buf).unwrap() {
                out.push(f);
            }
            assert!(buf.len() <= 80, "buffer grew to {}", buf.len());
        }
        assert_eq!(out.len(), 3);
        assert_eq!(msg(&out[0]).event_name(), Some("A"));
        assert_eq!(
            out[1],
            Frame::Dropped(LimitError::LineTooLong { limit: 64 })
        );
        assert_eq!(msg(&out[2]).event_name(), Some("C"));
    }

    #[test]
    fn too_many_headers_and_too_large_are_typed() {
        let limits = Limits {
            max_line: 100,
            max_headers: 3,
            max_message: 200,
        };
        let f = decode_all(
            b"Event: A\r\na: 1\r\nb: 2\r\nc: 3\r\n\r\nEvent: ok\r\n\r\n",
            limits,
        )
        .unwrap();
        assert_eq!(
            f[0],
            Frame::Dropped(LimitError::TooManyHeaders { limit: 3 })
        );
        assert_eq!(msg(&f[1]).event_name(), Some("ok"));
        let limits = Limits {
            max_headers: 100,
            ..limits
        };
        let line = format!("k: {}\r\n", "v".repeat(60));
        let big = format!("Event: A\r\n{}\r\nEvent: ok\r\n\r\n", line.repeat(3));
        let f = decode_all(big.as_bytes(), limits).unwrap();
        assert_eq!(
            f[0],
            Frame::Dropped(LimitError::MessageTooLarge { limit: 200 })
        );
        assert_eq!(msg(&f[1]).event_name(), Some("ok"));
    }

    #[test]
    fn garbage_line_drops_only_its_message() {
        let f =
            frames("Event: A\r\n\u{1}\u{2}garbage without colon\r\nX: 1\r\n\r\nEvent: B\r\n\r\n");
        assert_eq!(f[0], Frame::Dropped(LimitError::MalformedLine));
        assert_eq!(msg(&f[1]).event_name(), Some("B"));
    }

    #[test]
    fn invalid_utf8_is_converted_not_rejected() {
        let f = decode_all(
            b"Event: N\r\nCallerIDName: M\xfcller\r\n\r\n",
            Limits::default(),
        )
        .unwrap();
        assert_eq!(msg(&f[0]).get("CallerIDName"), Some("M\u{fffd}ller"));
    }

    #[test]
    fn truncated_message_at_eof_is_an_error() {
        let err = decode_all(b"Event: A\r\nKey: half", Limits::default()).unwrap_err();
        assert!(
            matches!(err, DecodeError::Truncated { pending: 19 }),
            "{err:?}"
        );
    }

    #[test]
    fn encodes_actions_with_crlf() {
        let mut codec = AmiCodec::default();
        let mut dst = BytesMut::new();
        let a = Action::new("Ping").header("ActionID", "p-1");
        codec.encode(&a, &mut dst).unwrap();
        assert_eq!(&dst[..], b"Action: Ping\r\nActionID: p-1\r\n\r\n");
        let bad = Action::new("Getvar").header("Variable", "A\r\nAction: Originate");
        assert!(matches!(
            codec.encode(&bad, &mut dst),
            Err(EncodeError::Invalid(_))
        ));
    }
}
