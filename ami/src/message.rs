//! One AMI message as received: an ordered multimap of `Key: Value` headers over one shared buffer.
//!
//! Asterisk repeats keys on purpose (`Variable:`, `Output:`, `ChanVariable:`, `FileName:`), so headers are kept in
//! wire order and never collapsed. The message owns a single immutable [`Bytes`] buffer and stores byte ranges into
//! it: decoding does not allocate a string per header, which keeps the reader task fast under event floods.

use std::fmt;

use bytes::{BufMut, Bytes, BytesMut};

use crate::redact;

/// A byte range `start..end` into the message buffer.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Span {
    pub(crate) start: u32,
    pub(crate) end: u32,
}

impl Span {
    pub(crate) fn new(start: usize, end: usize) -> Self {
        // Messages are bounded by `Limits::max_message` (far below 4 GiB), checked before spans are built.
        Span {
            start: start as u32,
            end: end as u32,
        }
    }
}

/// The key and value ranges of one header line.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct HeaderSpan {
    pub(crate) key: Span,
    pub(crate) value: Span,
}

/// What a message is, decided by `Event:` first: an `OriginateResponse` event also carries a `Response:` key.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum MessageKind<'a> {
    /// `Event: <name>` is present.
    Event(&'a str),
    /// No `Event:`, but `Response: <Success|Error|Goodbye|Follows>`.
    Response(&'a str),
    /// Neither (never sent by Asterisk; kept rather than rejected).
    Unknown,
}

/// A decoded AMI message (event or response).
///
/// Header lookups are ASCII case-insensitive, like Asterisk's own `astman_get_header`. `Debug` masks phone numbers
/// and hides secrets, so a message can be logged.
#[derive(Clone)]
pub struct Message {
    buf: Bytes,
    headers: Vec<HeaderSpan>,
    body: Option<Span>,
}

impl Message {
    /// Builds a message from a UTF-8 buffer and spans that the parser computed for it.
    pub(crate) fn from_parts(buf: Bytes, headers: Vec<HeaderSpan>, body: Option<Span>) -> Self {
        debug_assert!(std::str::from_utf8(&buf).is_ok());
        Message { buf, headers, body }
    }

    /// Builds a message from `(key, value)` pairs, in order (for tests, the test server and synthetic events).
    pub fn from_pairs<K: AsRef<str>, V: AsRef<str>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        let mut buf = BytesMut::new();
        let mut headers = Vec::new();
        for (k, v) in pairs {
            let (k, v) = (k.as_ref(), v.as_ref());
            let ks = buf.len();
            buf.put_slice(k.as_bytes());
            let ke = buf.len();
            buf.put_slice(b": ");
            let vs = buf.len();
            buf.put_slice(v.as_bytes());
            let ve = buf.len();
            buf.put_slice(b"\n");
            headers.push(HeaderSpan {
                key: Span::new(ks, ke),
                value: Span::new(vs, ve),
            });
        }
        Message {
            buf: buf.freeze(),
            headers,
            body: None,
        }
    }

    fn text(&self, span: Span) -> &str {
        let bytes = &self.buf[span.start as usize..span.end as usize];
        // The buffer is valid UTF-8 (checked or converted by the parser) and every span starts and ends at an ASCII
        // delimiter (`:`, a blank, CR, LF) or a buffer edge, so it is a char boundary. Fall back to "" rather than
        // panic if that invariant were ever broken.
        std::str::from_utf8(bytes).unwrap_or("")
    }

    /// Number of header lines.
    pub fn len(&self) -> usize {
        self.headers.len()
    }

    /// True if the message has no headers.
    pub fn is_empty(&self) -> bool {
        self.headers.is_empty()
    }

    /// All headers in wire order, duplicates included.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.headers
            .iter()
            .map(|h| (self.text(h.key), self.text(h.value)))
    }

    /// The first value of `key` (case-insensitive).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| self.text(h.key).eq_ignore_ascii_case(key))
            .map(|h| self.text(h.value))
    }

    /// Every value of `key` (case-insensitive), in wire order.
    pub fn get_all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |h| self.text(h.key).eq_ignore_ascii_case(key))
            .map(|h| self.text(h.value))
    }

    /// Event or response, classified by `Event:` first.
    pub fn kind(&self) -> MessageKind<'_> {
        if let Some(name) = self.get("Event") {
            MessageKind::Event(name)
        } else if let Some(r) = self.get("Response") {
            MessageKind::Response(r)
        } else {
            MessageKind::Unknown
        }
    }

    /// The `Event:` name, if this is an event.
    pub fn event_name(&self) -> Option<&str> {
        self.get("Event")
    }

    /// The `ActionID:` value, if any.
    pub fn action_id(&self) -> Option<&str> {
        self.get("ActionID")
    }

    /// The raw text of a legacy `Response: Follows` reply (between the headers and `--END COMMAND--`).
    pub fn follows_body(&self) -> Option<&str> {
        self.body.map(|s| self.text(s))
    }

    /// Appends the wire form (`Key: Value\r\n` lines, a legacy body if any, then a blank line) to `dst`.
    pub fn write_wire(&self, dst: &mut BytesMut) {
        for (k, v) in self.headers() {
            dst.reserve(k.len() + v.len() + 4);
            dst.put_slice(k.as_bytes());
            dst.put_slice(b": ");
            dst.put_slice(v.as_bytes());
            dst.put_slice(b"\r\n");
        }
        if let Some(body) = self.follows_body() {
            dst.put_slice(body.as_bytes());
            if !body.is_empty() && !body.ends_with('\n') {
                dst.put_slice(b"\n");
            }
            dst.put_slice(b"--END COMMAND--\r\n");
        }
        dst.put_slice(b"\r\n");
    }

    /// The wire form as one buffer.
    pub fn to_wire(&self) -> Bytes {
        let mut b = BytesMut::with_capacity(self.buf.len() + self.headers.len() + 4);
        self.write_wire(&mut b);
        b.freeze()
    }
}

impl PartialEq for Message {
    fn eq(&self, other: &Self) -> bool {
        self.headers().eq(other.headers()) && self.follows_body() == other.follows_body()
    }
}

impl Eq for Message {}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        for (k, v) in self.headers() {
            m.entry(&k, &redact::Redacted::header(k, v));
        }
        if let Some(body) = self.follows_body() {
            m.entry(&"<body>", &format_args!("{} bytes", body.len()));
        }
        m.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_is_case_insensitive_and_keeps_duplicates_in_order() {
        let m = Message::from_pairs([
            ("Response", "Success"),
            ("ActionID", "a-1"),
            ("Output", "first"),
            ("output", ""),
            ("OUTPUT", "third: with colon"),
        ]);
        assert_eq!(m.get("actionid"), Some("a-1"));
        assert_eq!(
            m.get_all("Output").collect::<Vec<_>>(),
            ["first", "", "third: with colon"]
        );
        assert_eq!(m.kind(), MessageKind::Response("Success"));
    }

    #[test]
    fn event_wins_over_response() {
        let m = Message::from_pairs([("Event", "OriginateResponse"), ("Response", "Failure")]);
        assert_eq!(m.kind(), MessageKind::Event("OriginateResponse"));
    }

    #[test]
    fn debug_masks_numbers_and_secrets() {
        let m = Message::from_pairs([
            ("CallerIDNum", "+15551234567"),
            ("Secret", "hunter2"),
            ("Channel", "SIP/x"),
        ]);
        let d = format!("{m:?}");
        assert!(!d.contains("555123"), "{d}");
        assert!(d.contains("4567"), "{d}");
        assert!(!d.contains("hunter2"), "{d}");
        assert!(d.contains("SIP/x"), "{d}");
    }
}
