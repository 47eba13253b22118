//! The UDPTL sender: numbers IFPs, keeps the history that redundancy and FEC need, and builds
//! each datagram into a caller-provided buffer — never larger than the peer's maximum datagram
//! and never truncating an IFP.

use super::error::UdptlError;
use super::packet::{self, MAX_IFP_LEN};

/// Most secondaries a packet may carry.
pub const MAX_REDUNDANCY_DEPTH: u8 = 16;
/// Largest FEC span (packets per XOR group) the sender builds and the receiver tracks.
pub const MAX_FEC_SPAN: u8 = 8;
/// Largest number of FEC entries per packet the sender builds and the receiver tracks.
pub const MAX_FEC_ENTRIES: u8 = 8;

/// The most past IFPs a sender keeps (power of two, > `MAX_FEC_SPAN * MAX_FEC_ENTRIES`). Each
/// sender keeps only what its scheme reaches back to ([`history_len`]): 4 with Asterisk's
/// redundancy depth 3, not 128, which matters with a thousand calls up.
const MAX_HISTORY: usize = 128;

/// Past IFPs kept for a scheme: a power of two above the farthest packet a secondary or an FEC
/// entry repeats (so indexing by the wrapping 16-bit sequence number stays consistent).
fn history_len(ec: ErrorCorrection) -> usize {
    let reach = match ec {
        ErrorCorrection::None => 0,
        ErrorCorrection::Redundancy(depth) => usize::from(depth.max()),
        ErrorCorrection::Fec { span, entries } => usize::from(span) * usize::from(entries),
    };
    (reach + 1).next_power_of_two().min(MAX_HISTORY)
}

/// What an outgoing IFP is, so important packets can be repeated more (spandsp's
/// `T38_PACKET_CATEGORY_*`, in the same order: `kind as u8` is spandsp's category number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IfpKind {
    /// A t30-indicator.
    Indicator,
    /// V.21 control data (HDLC of T.30) not ending the signal.
    ControlData,
    /// V.21 control data ending the signal.
    ControlDataEnd,
    /// Image data.
    ImageData,
    /// Image data ending the signal.
    ImageDataEnd,
}

impl IfpKind {
    /// From spandsp's category number (0–4).
    pub fn from_spandsp_category(c: u8) -> Option<Self> {
        [
            Self::Indicator,
            Self::ControlData,
            Self::ControlDataEnd,
            Self::ImageData,
            Self::ImageDataEnd,
        ]
        .get(usize::from(c))
        .copied()
    }

    /// How many identical copies of the datagram whose primary is an IFP of this kind go on the wire (at
    /// least; spandsp's own count for the IFP may ask for more).
    ///
    /// Indicators and the IFPs that end a control or image signal are the packets whose loss ends a fax (the
    /// receiving terminal never sees the carrier change: spandsp then fails with "HDLC carrier not stopped"
    /// or a phase D timeout). They are also the last packet of their burst: the sender falls silent after
    /// them, so no later packet carries them as redundancy or FEC. spandsp's T.38 terminal asks for three
    /// transmissions of exactly these in its paced (UDP) mode; Asterisk's res_fax_spandsp ignores that count,
    /// and so did the SIP line, while the simulator honoured it only without error correction. The receiver
    /// drops the copies as duplicates (by sequence number, as Asterisk's and spandsp's UDPTL do); they are a
    /// few small packets per second. On the simulator's matrix (50 calls per cell, 10-page ECM faxes with
    /// redundancy), sending them also with error correction took 10 % random loss from 34 to 50 of 50 and
    /// 20 % from 5 to 50; five copies rather than three did better on bursty lines (5 % bursty: 40 against
    /// 37, T.38 version 3: 43 against 28, FEC: 43 against 36), where three back-to-back copies are often
    /// lost in one burst. Eight rather than five: a signal's end and the `no-signal` after it go out back to
    /// back, so with five copies each one burst of ten packets ended the fax ("HDLC carrier not stopped");
    /// 10-page ECM faxes with redundancy at 5 % bursty loss went from 95–96 to 98–100 of 100 (T.38 version 0
    /// and 3; `sim_matrix --targets`).
    pub const fn transmissions(self) -> usize {
        match self {
            Self::Indicator | Self::ControlDataEnd | Self::ImageDataEnd => 8,
            Self::ControlData | Self::ImageData => 1,
        }
    }
}

/// How many later packets repeat an IFP of each kind as a secondary.
///
/// An IFP of kind `k` sent as packet `n` is carried in packets `n+1 ..= n+depth(k)`. Secondaries
/// are positional (`seq-1`, `seq-2`, …), so a packet carries every IFP back to the oldest one
/// that still wants repeating: with `indicator: 4, image: 1`, a CED indicator is still repeated
/// three image packets later (and the image packets between ride along).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RedundancyDepth {
    /// Indicators (CNG, CED, preambles, trainings).
    pub indicator: u8,
    /// V.21 control data (T.30 frames), including the signal end.
    pub control: u8,
    /// Image data, including the signal end.
    pub image: u8,
}

impl RedundancyDepth {
    /// The same depth for every kind (what Asterisk does; its default is 3).
    pub const fn uniform(depth: u8) -> Self {
        Self {
            indicator: depth,
            control: depth,
            image: depth,
        }
    }

    fn for_kind(&self, kind: IfpKind) -> u8 {
        match kind {
            IfpKind::Indicator => self.indicator,
            IfpKind::ControlData | IfpKind::ControlDataEnd => self.control,
            IfpKind::ImageData | IfpKind::ImageDataEnd => self.image,
        }
    }

    fn max(&self) -> u8 {
        self.indicator.max(self.control).max(self.image)
    }
}

/// The error-correction scheme negotiated in SDP (`T38FaxUdpEC`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCorrection {
    /// No error correction (an empty secondary list on the wire).
    None,
    /// `t38UDPRedundancy` with per-kind depths.
    Redundancy(RedundancyDepth),
    /// `t38UDPFEC`: each packet carries `entries` XOR parities over groups of `span` earlier
    /// packets (Asterisk's sample config: 3 and 3).
    Fec {
        /// Packets per XOR group (1..=[`MAX_FEC_SPAN`]).
        span: u8,
        /// Parity entries per packet (1..=[`MAX_FEC_ENTRIES`]).
        entries: u8,
    },
}

/// Sender settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderConfig {
    /// The error-correction scheme.
    pub error_correction: ErrorCorrection,
    /// The peer's maximum datagram (`T38FaxMaxDatagram` or a per-peer override); packets are
    /// never built larger. Asterisk's fallback for a missing/0/over-1400 value is 400.
    pub max_datagram: usize,
}

impl SenderConfig {
    fn validate(&self) -> Result<(), UdptlError> {
        match self.error_correction {
            ErrorCorrection::None => {}
            ErrorCorrection::Redundancy(d) => {
                if d.max() > MAX_REDUNDANCY_DEPTH {
                    return Err(UdptlError::InvalidConfig("redundancy depth above 16"));
                }
            }
            ErrorCorrection::Fec { span, entries } => {
                if !(1..=MAX_FEC_SPAN).contains(&span) || !(1..=MAX_FEC_ENTRIES).contains(&entries)
                {
                    return Err(UdptlError::InvalidConfig(
                        "FEC span and entries must be 1..=8",
                    ));
                }
            }
        }
        if self.max_datagram < 8 {
            return Err(UdptlError::InvalidConfig("max datagram below 8 octets"));
        }
        Ok(())
    }
}

/// What [`Sender::handle_ifp`] built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SentPacket {
    /// The packet's sequence number.
    pub seq: u16,
    /// Octets appended to the output buffer.
    pub len: usize,
    /// Secondaries (redundancy) or FEC entries carried.
    pub ec_items: usize,
    /// True when error-correction data was dropped to fit the maximum datagram.
    pub reduced: bool,
}

#[derive(Debug, Clone)]
struct Sent {
    kind: IfpKind,
    data: Vec<u8>,
}

/// The sending half of a UDPTL stream. Sans-IO: every IFP handed to [`Sender::handle_ifp`]
/// becomes one datagram at once, appended to a buffer the caller then writes to its socket (the
/// crate's convention for codecs whose output is immediate: the output buffer is passed in rather
/// than queued for a `poll_*`).
#[derive(Debug, Clone)]
pub struct Sender {
    config: SenderConfig,
    next_seq: u16,
    /// Packets sent so far (saturating), for the redundancy and FEC wind-up.
    sent: u64,
    history: Vec<Sent>,
    fec: Vec<Vec<u8>>,
}

impl Sender {
    /// A sender starting at sequence number 0 (as Asterisk does).
    pub fn new(config: SenderConfig) -> Result<Self, UdptlError> {
        config.validate()?;
        Ok(Self {
            config,
            next_seq: 0,
            sent: 0,
            history: vec![
                Sent {
                    kind: IfpKind::ImageData,
                    data: Vec::new()
                };
                history_len(config.error_correction)
            ],
            fec: Vec::new(),
        })
    }

    /// Starts numbering at `seq` instead of 0.
    pub fn with_initial_seq(mut self, seq: u16) -> Self {
        self.next_seq = seq;
        self
    }

    /// The configuration in use.
    pub fn config(&self) -> &SenderConfig {
        &self.config
    }

    /// Changes the maximum datagram (e.g. after a re-negotiation).
    pub fn set_max_datagram(&mut self, max_datagram: usize) -> Result<(), UdptlError> {
        let config = SenderConfig {
            max_datagram,
            ..self.config
        };
        config.validate()?;
        self.config = config;
        Ok(())
    }

    /// The sequence number the next packet will carry.
    pub fn next_seq(&self) -> u16 {
        self.next_seq
    }

    /// The size of the smallest packet that carries an IFP of `ifp_len` octets in the current
    /// mode (no secondaries / no FEC entries). An IFP for which this exceeds the maximum
    /// datagram can't be sent; callers sizing IFPs (spandsp's max IFP) use this.
    pub fn min_packet_len(&self, ifp_len: usize) -> usize {
        match self.config.error_correction {
            ErrorCorrection::Fec { .. } => packet::fec_packet_len(ifp_len, []),
            _ => packet::redundancy_packet_len(ifp_len, []),
        }
    }

    /// The size the next packet would take with an IFP of `ifp_len` octets and full error
    /// correction (before any reduction to the maximum datagram).
    pub fn packet_len(&self, ifp_len: usize) -> usize {
        match self.config.error_correction {
            ErrorCorrection::None => packet::redundancy_packet_len(ifp_len, []),
            ErrorCorrection::Redundancy(depth) => {
                let n = self.secondaries_wanted(&depth);
                packet::redundancy_packet_len(ifp_len, (1..=n).map(|j| self.past(j).data.len()))
            }
            ErrorCorrection::Fec { span, entries } => {
                let (span, entries) = self.fec_geometry(span, entries);
                let lens = (0..entries).map(|m| {
                    self.fec_group(span, entries, m)
                        .map(|d| d.data.len())
                        .max()
                        .unwrap_or(0)
                });
                packet::fec_packet_len(ifp_len, lens)
            }
        }
    }

    /// Builds the next packet carrying `ifp` and appends it to `out`.
    ///
    /// Redundancy depth (or FEC data) is reduced until the packet fits the maximum datagram; an
    /// IFP that does not fit even alone is [`UdptlError::IfpTooLarge`] and consumes no sequence
    /// number. On error nothing is appended.
    pub fn handle_ifp(
        &mut self,
        ifp: &[u8],
        kind: IfpKind,
        out: &mut Vec<u8>,
    ) -> Result<SentPacket, UdptlError> {
        if ifp.is_empty() {
            return Err(UdptlError::EmptyIfp);
        }
        if ifp.len() > MAX_IFP_LEN {
            return Err(UdptlError::TooLong(ifp.len()));
        }
        let max = self.config.max_datagram;
        let needed = self.min_packet_len(ifp.len());
        if needed > max {
            return Err(UdptlError::IfpTooLarge {
                ifp_len: ifp.len(),
                needed,
                max_datagram: max,
            });
        }
        let seq = self.next_seq;
        let (len, ec_items, reduced) = match self.config.error_correction {
            ErrorCorrection::None => (packet::encode_redundancy(seq, ifp, [], out)?, 0, false),
            ErrorCorrection::Redundancy(depth) => {
                let wanted = self.secondaries_wanted(&depth);
                let mut n = wanted;
                let mut size = packet::redundancy_packet_len(
                    ifp.len(),
                    (1..=n).map(|j| self.past(j).data.len()),
                );
                while size > max && n > 0 {
                    size -= packet::open_type_len(self.past(n).data.len());
                    size -=
                        packet::length_determinant_len(n) - packet::length_determinant_len(n - 1);
                    n -= 1;
                }
                let secondaries = (1..=n).map(|j| self.past(j).data.as_slice());
                (
                    packet::encode_redundancy(seq, ifp, secondaries, out)?,
                    n,
                    n < wanted,
                )
            }
            ErrorCorrection::Fec { span, entries } => {
                let (span, entries) = self.fec_geometry(span, entries);
                self.build_fec(span, entries);
                let entries = &self.fec[..usize::from(entries)];
                let full = packet::fec_packet_len(ifp.len(), entries.iter().map(Vec::len));
                if full <= max {
                    (
                        packet::encode_fec(seq, ifp, span, entries.iter().map(Vec::as_slice), out)?,
                        entries.len(),
                        false,
                    )
                } else {
                    // Entries are not independent of the entry count (it shapes the groups), so
                    // an oversize packet carries no FEC at all rather than a partial set.
                    (
                        packet::encode_fec(seq, ifp, 0, [], out)?,
                        0,
                        !entries.is_empty(),
                    )
                }
            }
        };
        let kept = self.history.len();
        let slot = &mut self.history[usize::from(seq) % kept];
        slot.kind = kind;
        slot.data.clear();
        slot.data.extend_from_slice(ifp);
        self.next_seq = seq.wrapping_add(1);
        self.sent = self.sent.saturating_add(1);
        Ok(SentPacket {
            seq,
            len,
            ec_items,
            reduced,
        })
    }

    /// The IFP sent `j` packets before the next one.
    fn past(&self, j: usize) -> &Sent {
        &self.history[usize::from(self.next_seq.wrapping_sub(j as u16)) % self.history.len()]
    }

    /// How many secondaries the next packet carries before any size reduction.
    fn secondaries_wanted(&self, depth: &RedundancyDepth) -> usize {
        let avail = usize::try_from(self.sent)
            .unwrap_or(usize::MAX)
            .min(usize::from(depth.max()));
        (1..=avail)
            .rev()
            .find(|&j| j <= usize::from(depth.for_kind(self.past(j).kind)))
            .unwrap_or(0)
    }

    /// Span and entries for the next packet, wound up over the first `span * entries` packets
    /// so that no entry covers packets that were never sent (as Asterisk does).
    fn fec_geometry(&self, span: u8, entries: u8) -> (u8, u8) {
        let full = u64::from(span) * u64::from(entries);
        if self.sent >= full {
            (span, entries)
        } else if self.sent < u64::from(span) {
            (0, 0)
        } else {
            (span, (self.sent / u64::from(span)) as u8)
        }
    }

    /// The packets XOR-ed into FEC entry `m` of the next packet: sequence numbers
    /// `next - span*entries + m + k*entries` for `k in 0..span`.
    fn fec_group(&self, span: u8, entries: u8, m: u8) -> impl Iterator<Item = &Sent> {
        let (span, entries, m) = (usize::from(span), usize::from(entries), usize::from(m));
        (0..span).map(move |k| self.past(span * entries - m - k * entries))
    }

    fn build_fec(&mut self, span: u8, entries: u8) {
        if self.fec.len() < usize::from(entries) {
            self.fec.resize(usize::from(entries), Vec::new());
        }
        let mut fec = std::mem::take(&mut self.fec);
        for (m, out) in fec.iter_mut().enumerate().take(usize::from(entries)) {
            out.clear();
            for member in self.fec_group(span, entries, m as u8) {
                xor_into(out, &member.data);
            }
        }
        self.fec = fec;
    }
}

/// `acc ^= data`, extending `acc` with zeros to the longer length (Asterisk's "high tide").
pub(crate) fn xor_into(acc: &mut Vec<u8>, data: &[u8]) {
    if acc.len() < data.len() {
        acc.resize(data.len(), 0);
    }
    for (a, d) in acc.iter_mut().zip(data) {
        *a ^= d;
    }
}
