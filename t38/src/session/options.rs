//! What a fax session is asked to do: the document, the T.30 options and the negotiated T.38 parameters.

use std::path::PathBuf;

use crate::sdp::RateManagement;

/// Which way the pages go. Like Asterisk, the sending side is spandsp's "calling party",
/// independent of who placed the SIP call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Direction {
    /// Send the pages of this TIFF (any fax-geometry bilevel TIFF: G3/G4, 1728 px wide, fax resolutions).
    Send { tiff: PathBuf },
    /// Receive into this TIFF-F file. spandsp writes a `.part` sibling first; it is renamed to this path
    /// when the call ends with at least one page, and removed otherwise.
    Receive { tiff: PathBuf },
}

impl Direction {
    /// True for the sending side.
    pub fn is_send(&self) -> bool {
        matches!(self, Direction::Send { .. })
    }
}

/// The fax modems a session may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Modems {
    /// V.27ter: 2400/4800 bit/s.
    pub v27ter: bool,
    /// V.29: 7200/9600 bit/s.
    pub v29: bool,
    /// V.17: 7200–14400 bit/s.
    pub v17: bool,
}

impl Default for Modems {
    fn default() -> Self {
        Self {
            v27ter: true,
            v29: true,
            v17: true,
        }
    }
}

/// The T.30 side of a session (the same for T.38 and G.711 audio).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaxOptions {
    /// Local identity sent as TSI (sender) or CSI (receiver); at most 20 printable characters.
    pub local_ident: String,
    /// Page header line printed by the sender at the top of every page; `None` for no header.
    pub page_header: Option<String>,
    /// Offer/accept error correction mode (ECM). With ECM the page is sent as checked HDLC frames and
    /// T.6 (MMR) compression becomes available.
    pub ecm: bool,
    /// Highest image bit rate: 14400, 12000, 9600, 7200, 4800 or 2400. Modems that cannot run at or
    /// below it are still allowed (they fall back), but V.17 is dropped below 12000.
    pub max_bit_rate: u32,
    /// Lowest image bit rate we accept: modems whose fastest rate is below it are disabled (so 9600
    /// drops V.27ter). spandsp itself has no lower bound on fallback within a modem.
    pub min_bit_rate: u32,
    /// Allowed modems before the bit-rate limits are applied.
    pub modems: Modems,
    /// How a receiving session compresses the TIFF-F it writes (the line's compression is
    /// negotiated separately; spandsp always decodes the line data and re-encodes the page).
    pub received_compression: ReceivedCompression,
}

/// The compression of a received TIFF-F file.
///
/// Why MH is the default: it is the TIFF Class F baseline every reader supports, and it is the
/// cheapest to write — re-encoding a page as MR costs about 25 % more CPU for the whole call
/// (`one_call` example under callgrind: 26.7 M instructions per page with MH, 30.4 M with MR,
/// 31.4 M with MMR), the largest single cost after decoding the line data. MMR files are about
/// a third the size, for archives that care more about bytes than CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReceivedCompression {
    /// T.4 one-dimensional (Modified Huffman).
    #[default]
    Mh,
    /// T.4 two-dimensional (Modified READ); spandsp's own default.
    Mr,
    /// T.6 (Modified Modified READ): the smallest files.
    Mmr,
}

impl Default for FaxOptions {
    fn default() -> Self {
        Self {
            local_ident: String::new(),
            page_header: None,
            ecm: true,
            max_bit_rate: 14400,
            min_bit_rate: 2400,
            modems: Modems::default(),
            received_compression: ReceivedCompression::default(),
        }
    }
}

impl FaxOptions {
    /// The modems left after applying the bit-rate limits.
    pub fn effective_modems(&self) -> Modems {
        let mut m = self.modems;
        if self.max_bit_rate < 12000 {
            m.v17 = false;
        }
        if self.max_bit_rate < 7200 {
            m.v29 = false;
        }
        if self.min_bit_rate > 4800 {
            m.v27ter = false;
        }
        if self.min_bit_rate > 9600 {
            m.v29 = false;
        }
        m
    }
}

/// The T.38 parameters a session runs with: resolved values, not the SDP attribute set they came
/// from ([`crate::sdp::T38Attributes`], where every attribute may be absent). A SIP call gets them
/// from [`NegotiatedT38::session_params`](crate::sdp::NegotiatedT38::session_params); the
/// simulator sets them directly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct T38Params {
    /// `T38FaxVersion` (0 = 1998 syntax, 1–3 = 2002 syntax). Both ends must use the same value.
    pub version: u8,
    /// The far end's maximum IFP size in octets (`T38FaxMaxIFP`/`T38FaxMaxDatagram` as interpreted by
    /// the UDPTL layer). spandsp keeps its IFPs within it.
    pub max_ifp: u16,
    /// `T38FaxRateManagement`.
    pub rate_management: RateManagement,
    /// `T38FaxFillBitRemoval`.
    pub fill_bit_removal: bool,
    /// `T38MaxBitRate`: the fastest image data rate on this link.
    pub max_bit_rate: u32,
}

impl Default for T38Params {
    fn default() -> Self {
        Self {
            version: 0,
            max_ifp: 400,
            rate_management: RateManagement::TransferredTcf,
            fill_bit_removal: false,
            max_bit_rate: 14400,
        }
    }
}

/// Everything needed to start a [`T38Session`](super::T38Session).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct T38SessionConfig {
    /// Send or receive, with the file.
    pub direction: Direction,
    /// T.30 options.
    pub fax: FaxOptions,
    /// The negotiated T.38 parameters.
    pub t38: T38Params,
    /// Pace IFPs like a real line (30 ms chunks of image data). Off runs a whole call in a few
    /// simulated milliseconds of image time, which suits tests; real calls must pace.
    pub pacing: bool,
    /// A short label carried on every log line of this session (e.g. a call id). No phone numbers.
    pub label: String,
}

/// G.711 law of an audio session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum G711Law {
    /// PCMU (µ-law), RTP payload type 0.
    Ulaw,
    /// PCMA (A-law), RTP payload type 8.
    Alaw,
}

/// Everything needed to start an [`AudioSession`](super::AudioSession).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioSessionConfig {
    /// Send or receive, with the file.
    pub direction: Direction,
    /// T.30 options.
    pub fax: FaxOptions,
    /// The G.711 law on the wire.
    pub law: G711Law,
    /// A short label carried on every log line of this session.
    pub label: String,
}
