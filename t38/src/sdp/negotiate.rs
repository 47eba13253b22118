//! T.38 offer/answer negotiation and UDPTL datagram sizing, as pure functions.
//!
//! # Rules
//! - **Version** = min(ours, theirs). Versions are not interoperable (the IFP syntax differs), so
//!   both IFP codecs must use the negotiated value.
//! - **Bit rate** = min(ours, theirs), rounded down to a fax modem rate (2400…14400). Asterisk
//!   does not min() this when answering; we do, and the caller gives the result to spandsp.
//! - **Rate management** is always `transferredTCF`: it is the only mode defined for UDPTL.
//!   A peer asking for `localTCF` is answered with `transferredTCF` and a note.
//! - **Flags** (fill-bit removal, MMR/JBIG transcoding) are AND-ed.
//! - **Error correction**: when answering we support every mode the peer offers and pick, among
//!   the offered ones, the first in our preference list (default: redundancy, then FEC, then
//!   none). When our offer is answered we take the mode the answer chose.
//! - **Datagram sizing never truncates an IFP** — see below.
//!
//! # Datagram arithmetic
//! `T38FaxMaxDatagram` is read as the largest *UDPTL payload* the far end accepts (not the largest
//! IFP). When it is absent, 0 or above 1400 we use 400, as Asterisk does; a per-peer override
//! replaces the SDP value entirely. Our encoder (telephony.md §3.1) produces, for IFPs of at most
//! `L` bytes, with `h(L)` = 1 length octet when `L < 128`, else 2:
//!
//! | EC mode                  | worst-case UDPTL payload                                  |
//! |--------------------------|-----------------------------------------------------------|
//! | none                     | `2 seq + (h+L) + 1 EC choice + 1 count       = (L+h) + 4`  |
//! | redundancy, depth `d`    | `2 + (h+L) + 1 + 1 + d·(h+L)                 = (d+1)(L+h) + 4` |
//! | FEC, `e` entries         | `2 + (h+L) + 1 + 2 span + 1 count + e·(h+L)  = (e+1)(L+h) + 6` |
//!
//! (FEC parity entries are as long as the longest IFP they cover, so `L` bounds them too.) The
//! largest IFP we may send is the largest `L` for which that payload fits the far maximum. This is
//! exact, so no 5 % "insurance" as in Asterisk is needed. If `L` is below `min_ifp` (the largest
//! IFP our fax engine produces, 59 bytes measured at 14400 bit/s, 72 by default) we first reduce
//! the redundancy depth (or the FEC entries), one at a time; redundancy may go down to depth 0,
//! which is byte-identical to no EC on the wire. If even that does not fit, negotiation fails with
//! [`NegotiationError::DatagramTooSmall`] and the call should refuse T.38 rather than corrupt data.
//!
//! What we advertise (`local_max_datagram`) is the configured value clamped to 400…1400: we can
//! receive any UDP datagram, so the only reasons to limit it are the far end (Asterisk falls back
//! to 400 for values above 1400) and the path MTU (1400 + 28 bytes of IP/UDP stays below 1500).
//! 1400 is what Asterisk itself advertises as a T.38 terminal with redundancy.

use super::attributes::{RateManagement, T38Attributes, UdpEc};
use super::error::NegotiationError;
use crate::session::T38Params;
use crate::udptl::{ErrorCorrection, RedundancyDepth};

/// The fax modem rates, slowest first.
pub const FAX_BIT_RATES: [u32; 6] = [2400, 4800, 7200, 9600, 12000, 14400];
/// Far maximum datagram assumed when the SDP gives none, 0, or a value above
/// [`FAR_MAX_DATAGRAM_LIMIT`] (Asterisk's `DEFAULT_FAX_MAX_DATAGRAM`).
pub const DEFAULT_FAR_MAX_DATAGRAM: u32 = 400;
/// Largest far maximum datagram taken from SDP as-is (Asterisk's `FAX_MAX_DATAGRAM_LIMIT`).
pub const FAR_MAX_DATAGRAM_LIMIT: u32 = 1400;
/// Bounds of what we advertise as our own `T38FaxMaxDatagram`.
pub const LOCAL_MAX_DATAGRAM_RANGE: (u32, u32) = (400, 1400);
/// Largest IFP a single UDPTL length determinant can describe without fragmentation.
pub const MAX_UNFRAGMENTED_IFP: u32 = 16_383;

/// Error correction as used on the wire after negotiation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EcMode {
    /// Primary IFP only.
    None,
    /// Up to `depth` earlier IFPs as secondaries (depth 0 is plain packets).
    Redundancy {
        /// Maximum number of secondaries per packet.
        depth: u8,
    },
    /// XOR parity: `entries` parity blocks, each over `span` packets.
    Fec {
        /// Packets covered by each parity entry.
        span: u8,
        /// Parity entries per packet.
        entries: u8,
    },
}

/// Secondary IFPs behind each T.30 control message (V.21 HDLC at 300 bit/s: a few bytes per IFP).
/// A control frame lost for good costs a command repeat at best, and a partial page request or
/// its answer lost in a burst ends ECM calls (`RxDcnData`/`TxPhaseDDead`): in the line simulator
/// (`sim_matrix`, 10-page ECM call, 5 % bursty loss, mean burst 3, 50 seeds) depth 3 gave 40/50
/// (v0) and 43/50 (v3) delivered, depth 6 gives 47/50 and 47/50, random-loss cells unchanged.
pub const CONTROL_REDUNDANCY: u8 = 6;

impl EcMode {
    /// The UDPTL sender's settings for this mode. Redundancy keeps the negotiated depth for
    /// indicators, at least [`CONTROL_REDUNDANCY`] for T.30 control messages, and at most 2 for
    /// image data (telephony.md §6.4: more for the few packets whose loss stalls T.30, 1–2 for the
    /// bulk, so datagrams stay small). Redundancy is the sender's choice: the far end reads any
    /// number of secondary IFPs, and the sender drops the oldest when a datagram would exceed the
    /// far end's maximum.
    pub fn to_udptl(self) -> ErrorCorrection {
        match self {
            EcMode::None => ErrorCorrection::None,
            EcMode::Redundancy { depth } => ErrorCorrection::Redundancy(RedundancyDepth {
                indicator: depth,
                control: depth.max(CONTROL_REDUNDANCY),
                image: depth.min(2),
            }),
            EcMode::Fec { span, entries } => ErrorCorrection::Fec { span, entries },
        }
    }

    /// The `T38FaxUdpEC` value announcing this mode (`None` for no EC: the attribute is omitted).
    pub fn udp_ec(self) -> Option<UdpEc> {
        match self {
            EcMode::None => None,
            EcMode::Redundancy { .. } => Some(UdpEc::Redundancy),
            EcMode::Fec { .. } => Some(UdpEc::Fec),
        }
    }

    fn label(self) -> &'static str {
        match self {
            EcMode::None => "no error correction",
            EcMode::Redundancy { .. } => "redundancy",
            EcMode::Fec { .. } => "FEC",
        }
    }
}

/// Our side's T.38 capabilities and policy (per trunk or peer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalT38Config {
    /// Highest T.38 version we speak. Default 0, like Asterisk's res_fax: every peer supports it.
    pub max_version: u8,
    /// Highest bit rate we offer/accept. Default 14400 (V.17).
    pub max_bit_rate: u32,
    /// Whether we can do fill-bit removal. Default false (spandsp terminals do not).
    pub fill_bit_removal: bool,
    /// Whether we can transcode to MMR. Default false.
    pub transcoding_mmr: bool,
    /// Whether we can transcode to JBIG. Default false.
    pub transcoding_jbig: bool,
    /// Acceptable EC modes, best first. Modes not listed are never chosen when answering an offer
    /// that also lists a listed one; no EC is always the last resort. Default: redundancy, FEC.
    pub ec_preference: Vec<UdpEc>,
    /// Redundancy depth we aim for. Default 3 (Asterisk's default entries).
    pub redundancy_depth: u8,
    /// FEC span. Default 3.
    pub fec_span: u8,
    /// FEC entries we aim for. Default 3.
    pub fec_entries: u8,
    /// The largest IFP our fax engine emits; every send limit must allow at least this. Default 72.
    pub min_ifp: u32,
    /// Per-peer replacement for the far end's `T38FaxMaxDatagram` (Asterisk
    /// `t38_udptl_maxdatagram`). `None` (or `Some(0)`) uses the SDP value.
    pub far_max_datagram_override: Option<u32>,
    /// Our advertised `T38FaxMaxDatagram`, clamped to [`LOCAL_MAX_DATAGRAM_RANGE`]. Default 1400.
    pub local_max_datagram: u32,
}

impl Default for LocalT38Config {
    fn default() -> Self {
        LocalT38Config {
            max_version: 0,
            max_bit_rate: 14_400,
            fill_bit_removal: false,
            transcoding_mmr: false,
            transcoding_jbig: false,
            ec_preference: vec![UdpEc::Redundancy, UdpEc::Fec],
            redundancy_depth: 3,
            fec_span: 3,
            fec_entries: 3,
            min_ifp: 72,
            far_max_datagram_override: None,
            local_max_datagram: 1400,
        }
    }
}

/// Something negotiation adjusted that is worth a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NegotiationNote {
    /// The far `T38FaxMaxDatagram` was absent, 0 or above 1400; 400 was used.
    FarMaxDatagramDefaulted {
        /// What the SDP said.
        offered: Option<u32>,
    },
    /// The per-peer override replaced the far `T38FaxMaxDatagram`.
    FarMaxDatagramOverridden {
        /// What the SDP said.
        offered: Option<u32>,
        /// The override used.
        used: u32,
    },
    /// The bit rate was not a modem rate and was rounded down.
    BitRateRounded {
        /// min(ours, theirs) before rounding.
        from: u32,
        /// The modem rate used.
        to: u32,
    },
    /// The redundancy depth was reduced so that `min_ifp` still fits.
    RedundancyDepthReduced {
        /// Configured depth.
        from: u8,
        /// Depth used.
        to: u8,
    },
    /// The FEC entries were reduced so that `min_ifp` still fits.
    FecEntriesReduced {
        /// Configured entries.
        from: u8,
        /// Entries used.
        to: u8,
    },
    /// The FEC span was lowered to the peer's `T38FaxUdpFECMaxSpan`.
    FecSpanLimited {
        /// Configured span.
        from: u8,
        /// Span used.
        to: u8,
    },
    /// The peer asked for `localTCF`, which is not defined over UDPTL; we use `transferredTCF`.
    PeerRequestedLocalTcf,
    /// The peer sent no `T38FaxRateManagement` (mandatory in Annex D); we use `transferredTCF`.
    RateManagementMissing,
    /// The peer's `T38FaxMaxIFP` limited our IFP size below what the datagram allowed.
    FarMaxIfpApplied {
        /// The peer's limit.
        max_ifp: u32,
    },
}

/// The outcome of a negotiation: everything the session and UDPTL layers need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegotiatedT38 {
    /// T.38 version for both IFP codecs and spandsp.
    pub version: u8,
    /// Maximum bit rate to give spandsp (one of [`FAX_BIT_RATES`]).
    pub max_bit_rate: u32,
    /// Always `TransferredTcf` over UDPTL.
    pub rate_management: RateManagement,
    /// Fill-bit removal agreed by both sides.
    pub fill_bit_removal: bool,
    /// MMR transcoding agreed by both sides.
    pub transcoding_mmr: bool,
    /// JBIG transcoding agreed by both sides.
    pub transcoding_jbig: bool,
    /// EC mode, with the depth/entries that fit the far datagram limit.
    pub ec: EcMode,
    /// The far end's maximum UDPTL payload we respect (after default/override).
    pub far_max_datagram: u32,
    /// The largest IFP we may send: give this to spandsp as its max datagram size. Every IFP up to
    /// this size fits `far_max_datagram` with `ec`, so nothing is ever truncated.
    pub max_ifp_send: u32,
    /// What we advertise as our `T38FaxMaxDatagram`; our receiver must accept datagrams this big.
    pub local_max_datagram: u32,
    /// Adjustments made on the way (for logs).
    pub notes: Vec<NegotiationNote>,
}

impl NegotiatedT38 {
    /// The T.38 attributes of our answer (when we answered an offer): the negotiated values,
    /// our advertised maximum datagram and the chosen EC (omitted for none, like Asterisk).
    pub fn answer_attributes(&self) -> T38Attributes {
        T38Attributes {
            version: self.version,
            max_bit_rate: Some(self.max_bit_rate),
            fill_bit_removal: self.fill_bit_removal,
            transcoding_mmr: self.transcoding_mmr,
            transcoding_jbig: self.transcoding_jbig,
            rate_management: Some(self.rate_management),
            max_datagram: Some(self.local_max_datagram),
            udp_ec: self.ec.udp_ec().into_iter().collect(),
            ..T38Attributes::default()
        }
    }

    /// What the fax session runs with. Every IFP up to `max_ifp_send` fits the far datagram limit
    /// with the EC mode; spandsp is held to at most 400, what res_fax's terminal uses and far above
    /// spandsp's largest IFP (59 octets).
    pub fn session_params(&self) -> T38Params {
        T38Params {
            version: self.version,
            max_ifp: self.max_ifp_send.min(400) as u16,
            rate_management: self.rate_management,
            fill_bit_removal: self.fill_bit_removal,
            max_bit_rate: self.max_bit_rate,
        }
    }
}

/// Worst-case UDPTL payload for IFPs of at most `ifp` bytes carried `copies` times (primary plus
/// secondaries or FEC entries) with `fixed` octets of sequence number and EC framing.
pub fn udptl_payload_size(ifp: u32, copies: u32, fixed: u32) -> u32 {
    let h = if ifp < 128 { 1 } else { 2 };
    copies * (ifp + h) + fixed
}

/// The largest IFP `L` such that [`udptl_payload_size`]`(L, copies, fixed) <= datagram`
/// (0 when nothing fits), capped at [`MAX_UNFRAGMENTED_IFP`].
pub fn max_ifp_for_datagram(datagram: u32, copies: u32, fixed: u32) -> u32 {
    let per_copy = datagram.saturating_sub(fixed) / copies.max(1);
    let l = if per_copy >= 130 {
        per_copy - 2 // two-octet length determinant (L >= 128)
    } else {
        per_copy.saturating_sub(1).min(127) // one-octet length determinant
    };
    l.min(MAX_UNFRAGMENTED_IFP)
}

/// Fixed octets for no EC or redundancy: seq (2) + EC choice (1) + secondary count (1).
const FIXED_REDUNDANCY: u32 = 4;
/// Fixed octets for FEC: seq (2) + EC choice (1) + span (2) + entry count (1).
const FIXED_FEC: u32 = 6;

/// The largest IFP that fits `far_max_datagram` with `ec`.
pub fn max_ifp_for_ec(far_max_datagram: u32, ec: EcMode) -> u32 {
    match ec {
        EcMode::None => max_ifp_for_datagram(far_max_datagram, 1, FIXED_REDUNDANCY),
        EcMode::Redundancy { depth } => {
            max_ifp_for_datagram(far_max_datagram, u32::from(depth) + 1, FIXED_REDUNDANCY)
        }
        EcMode::Fec { entries, .. } => {
            max_ifp_for_datagram(far_max_datagram, u32::from(entries) + 1, FIXED_FEC)
        }
    }
}

/// The far maximum datagram we respect, from the SDP value and the per-peer override.
pub fn effective_far_max_datagram(
    sdp_value: Option<u32>,
    override_value: Option<u32>,
    notes: &mut Vec<NegotiationNote>,
) -> u32 {
    if let Some(used) = override_value.filter(|&v| v != 0) {
        notes.push(NegotiationNote::FarMaxDatagramOverridden {
            offered: sdp_value,
            used,
        });
        return used;
    }
    match sdp_value {
        Some(v) if v != 0 && v <= FAR_MAX_DATAGRAM_LIMIT => v,
        offered => {
            notes.push(NegotiationNote::FarMaxDatagramDefaulted { offered });
            DEFAULT_FAR_MAX_DATAGRAM
        }
    }
}

impl LocalT38Config {
    /// What we advertise as `T38FaxMaxDatagram`.
    pub fn advertised_max_datagram(&self) -> u32 {
        let (lo, hi) = LOCAL_MAX_DATAGRAM_RANGE;
        self.local_max_datagram.clamp(lo, hi)
    }

    /// Our offer (e.g. the image-only re-INVITE): our maxima, `transferredTCF`, our advertised
    /// datagram size and a single `T38FaxUdpEC` line with our preferred mode (several lines would
    /// be read as "last wins" by Asterisk).
    pub fn offer(&self) -> T38Attributes {
        T38Attributes {
            version: self.max_version,
            max_bit_rate: Some(self.max_bit_rate),
            fill_bit_removal: self.fill_bit_removal,
            transcoding_mmr: self.transcoding_mmr,
            transcoding_jbig: self.transcoding_jbig,
            rate_management: Some(RateManagement::TransferredTcf),
            max_datagram: Some(self.advertised_max_datagram()),
            udp_ec: self
                .ec_preference
                .iter()
                .copied()
                .find(|e| *e != UdpEc::NoEc)
                .into_iter()
                .collect(),
            ..T38Attributes::default()
        }
    }

    /// We answer the peer's offer: choose among what it offers and size datagrams.
    /// Put [`NegotiatedT38::answer_attributes`] into the answer SDP.
    pub fn answer(&self, offer: &T38Attributes) -> Result<NegotiatedT38, NegotiationError> {
        let choice = self.choose_ec(offer);
        self.negotiate(offer, choice)
    }

    /// The peer answered our offer: take its choices and size datagrams.
    pub fn accept_answer(&self, answer: &T38Attributes) -> Result<NegotiatedT38, NegotiationError> {
        // An answer should carry one EC line; if it carries several, read it like an offer.
        let choice = self.choose_ec(answer);
        self.negotiate(answer, choice)
    }

    /// The strongest offered EC mode by our preference; no EC when nothing preferred is offered.
    fn choose_ec(&self, remote: &T38Attributes) -> UdpEc {
        remote
            .offered_ec(&self.ec_preference)
            .into_iter()
            .find(|e| self.ec_preference.contains(e))
            .unwrap_or(UdpEc::NoEc)
    }

    fn negotiate(
        &self,
        remote: &T38Attributes,
        ec: UdpEc,
    ) -> Result<NegotiatedT38, NegotiationError> {
        let mut notes = Vec::new();

        let wanted = remote
            .max_bit_rate
            .filter(|&r| r != 0)
            .map_or(self.max_bit_rate, |r| r.min(self.max_bit_rate));
        let max_bit_rate = FAX_BIT_RATES
            .iter()
            .rev()
            .copied()
            .find(|&r| r <= wanted)
            .ok_or(NegotiationError::BitRateTooLow(wanted))?;
        if max_bit_rate != wanted {
            notes.push(NegotiationNote::BitRateRounded {
                from: wanted,
                to: max_bit_rate,
            });
        }

        match remote.rate_management {
            Some(RateManagement::TransferredTcf) => {}
            Some(RateManagement::LocalTcf) => notes.push(NegotiationNote::PeerRequestedLocalTcf),
            None => notes.push(NegotiationNote::RateManagementMissing),
        }

        let far_max_datagram = effective_far_max_datagram(
            remote.max_datagram,
            self.far_max_datagram_override,
            &mut notes,
        );
        let (ec, mut max_ifp_send) = self.size(far_max_datagram, ec, remote, &mut notes)?;
        if let Some(limit) = remote.max_ifp.filter(|&l| l != 0 && l < max_ifp_send) {
            if limit < self.min_ifp {
                return Err(NegotiationError::DatagramTooSmall {
                    far_max_datagram,
                    min_ifp: self.min_ifp,
                    ec: ec.label(),
                });
            }
            notes.push(NegotiationNote::FarMaxIfpApplied { max_ifp: limit });
            max_ifp_send = limit;
        }

        Ok(NegotiatedT38 {
            version: self.max_version.min(remote.version),
            max_bit_rate,
            rate_management: RateManagement::TransferredTcf,
            fill_bit_removal: self.fill_bit_removal && remote.fill_bit_removal,
            transcoding_mmr: self.transcoding_mmr && remote.transcoding_mmr,
            transcoding_jbig: self.transcoding_jbig && remote.transcoding_jbig,
            ec,
            far_max_datagram,
            max_ifp_send,
            local_max_datagram: self.advertised_max_datagram(),
            notes,
        })
    }

    /// Fits the chosen EC mode into the far datagram limit, reducing depth/entries first.
    fn size(
        &self,
        far: u32,
        ec: UdpEc,
        remote: &T38Attributes,
        notes: &mut Vec<NegotiationNote>,
    ) -> Result<(EcMode, u32), NegotiationError> {
        let too_small = |mode: EcMode| NegotiationError::DatagramTooSmall {
            far_max_datagram: far,
            min_ifp: self.min_ifp,
            ec: mode.label(),
        };
        match ec {
            UdpEc::NoEc => {
                let l = max_ifp_for_ec(far, EcMode::None);
                if l < self.min_ifp {
                    return Err(too_small(EcMode::None));
                }
                Ok((EcMode::None, l))
            }
            UdpEc::Redundancy => {
                let mut depth = self.redundancy_depth;
                loop {
                    let mode = EcMode::Redundancy { depth };
                    let l = max_ifp_for_ec(far, mode);
                    if l >= self.min_ifp {
                        if depth != self.redundancy_depth {
                            notes.push(NegotiationNote::RedundancyDepthReduced {
                                from: self.redundancy_depth,
                                to: depth,
                            });
                        }
                        return Ok((mode, l));
                    }
                    if depth == 0 {
                        return Err(too_small(mode));
                    }
                    depth -= 1;
                }
            }
            UdpEc::Fec => {
                let mut span = self.fec_span.max(1);
                if let Some(max) = remote.udp_fec_max_span.filter(|&m| m != 0) {
                    let limited = u8::try_from(max).unwrap_or(u8::MAX);
                    if limited < span {
                        notes.push(NegotiationNote::FecSpanLimited {
                            from: span,
                            to: limited,
                        });
                        span = limited;
                    }
                }
                let mut entries = self.fec_entries.max(1);
                loop {
                    let mode = EcMode::Fec { span, entries };
                    let l = max_ifp_for_ec(far, mode);
                    if l >= self.min_ifp {
                        if entries != self.fec_entries.max(1) {
                            notes.push(NegotiationNote::FecEntriesReduced {
                                from: self.fec_entries,
                                to: entries,
                            });
                        }
                        return Ok((mode, l));
                    }
                    if entries == 1 {
                        return Err(too_small(mode));
                    }
                    entries -= 1;
                }
            }
        }
    }
}
