//! The typed `a=T38…` attribute set of one `m=image … udptl t38` stream (ITU-T T.38 Annex D).
//!
//! Parsing follows what real peers send rather than the letter of the grammar: attribute names are
//! matched case-insensitively, the aliases `T38FaxMaxRate` and `T38MaxDatagram` are accepted, flag
//! attributes are true by mere presence (a value such as `:0` is ignored, exactly as Asterisk reads
//! it), a repeated attribute takes the last value, and a missing `T38FaxVersion` means version 0.
//! Emitting is canonical and never writes a false flag, because a peer like Asterisk would read
//! `T38FaxFillBitRemoval:0` as *true*.

use sdp_types::Attribute;

use super::error::SdpError;

/// `T38FaxRateManagement`: who generates the TCF training check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RateManagement {
    /// `localTCF`: each gateway generates TCF locally (meant for TCP transport).
    LocalTcf,
    /// `transferredTCF`: TCF is carried end to end (required for UDPTL).
    TransferredTcf,
}

impl RateManagement {
    /// The SDP token.
    pub fn as_str(self) -> &'static str {
        match self {
            RateManagement::LocalTcf => "localTCF",
            RateManagement::TransferredTcf => "transferredTCF",
        }
    }
}

/// One `T38FaxUdpEC` value. An offer may carry several lines; an answer carries at most one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UdpEc {
    /// `t38UDPRedundancy`: earlier IFPs repeated as secondaries.
    Redundancy,
    /// `t38UDPFEC`: XOR parity over spans of earlier IFPs.
    Fec,
    /// `t38UDPNoEC`: sent explicitly by some gateways; same as omitting the attribute.
    NoEc,
}

impl UdpEc {
    /// The SDP token.
    pub fn as_str(self) -> &'static str {
        match self {
            UdpEc::Redundancy => "t38UDPRedundancy",
            UdpEc::Fec => "t38UDPFEC",
            UdpEc::NoEc => "t38UDPNoEC",
        }
    }
}

/// `T38FaxUdpECDepth:<minred> [<maxred>]` (T.38 Annex D, 2010 and later).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EcDepth {
    /// Minimum redundancy depth.
    pub min: u32,
    /// Optional maximum redundancy depth.
    pub max: Option<u32>,
}

/// Every `a=T38…` attribute of one image stream, typed.
///
/// `Default` is the empty attribute set, which by the rules above means version 0, no EC, no flags.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct T38Attributes {
    /// `T38FaxVersion` (0 when absent).
    pub version: u8,
    /// `T38MaxBitRate` / `T38FaxMaxRate` in bit/s.
    pub max_bit_rate: Option<u32>,
    /// `T38FaxFillBitRemoval` (flag).
    pub fill_bit_removal: bool,
    /// `T38FaxTranscodingMMR` (flag).
    pub transcoding_mmr: bool,
    /// `T38FaxTranscodingJBIG` (flag).
    pub transcoding_jbig: bool,
    /// `T38FaxRateManagement` (the only attribute Annex D makes mandatory; we tolerate its absence).
    pub rate_management: Option<RateManagement>,
    /// `T38FaxMaxBuffer` in bytes (informational; Asterisk ignores it too).
    pub max_buffer: Option<u32>,
    /// `T38FaxMaxDatagram` / `T38MaxDatagram`: the largest UDPTL payload the sender of this SDP accepts.
    pub max_datagram: Option<u32>,
    /// `T38FaxMaxIFP`: the largest IFP the sender of this SDP accepts (rare; newer Annex D).
    pub max_ifp: Option<u32>,
    /// `T38FaxUdpEC` lines in the order received (an offer may list several).
    pub udp_ec: Vec<UdpEc>,
    /// `T38FaxUdpECDepth`.
    pub udp_ec_depth: Option<EcDepth>,
    /// `T38FaxUdpFECMaxSpan`.
    pub udp_fec_max_span: Option<u32>,
    /// Other `T38…` attributes (e.g. `T38VendorInfo`, `T38ModemType`) kept verbatim, in order.
    pub unknown: Vec<(String, Option<String>)>,
}

/// Canonical attribute names as emitted.
pub mod names {
    /// `T38FaxVersion`
    pub const VERSION: &str = "T38FaxVersion";
    /// `T38MaxBitRate` (alias `T38FaxMaxRate` accepted)
    pub const MAX_BIT_RATE: &str = "T38MaxBitRate";
    /// `T38FaxFillBitRemoval`
    pub const FILL_BIT_REMOVAL: &str = "T38FaxFillBitRemoval";
    /// `T38FaxTranscodingMMR`
    pub const TRANSCODING_MMR: &str = "T38FaxTranscodingMMR";
    /// `T38FaxTranscodingJBIG`
    pub const TRANSCODING_JBIG: &str = "T38FaxTranscodingJBIG";
    /// `T38FaxRateManagement`
    pub const RATE_MANAGEMENT: &str = "T38FaxRateManagement";
    /// `T38FaxMaxBuffer`
    pub const MAX_BUFFER: &str = "T38FaxMaxBuffer";
    /// `T38FaxMaxDatagram` (alias `T38MaxDatagram` accepted)
    pub const MAX_DATAGRAM: &str = "T38FaxMaxDatagram";
    /// `T38FaxMaxIFP`
    pub const MAX_IFP: &str = "T38FaxMaxIFP";
    /// `T38FaxUdpEC`
    pub const UDP_EC: &str = "T38FaxUdpEC";
    /// `T38FaxUdpECDepth`
    pub const UDP_EC_DEPTH: &str = "T38FaxUdpECDepth";
    /// `T38FaxUdpFECMaxSpan`
    pub const UDP_FEC_MAX_SPAN: &str = "T38FaxUdpFECMaxSpan";
}

/// Which known attribute a name denotes (case-insensitive, aliases folded).
#[derive(Clone, Copy)]
enum Known {
    Version,
    MaxBitRate,
    FillBitRemoval,
    TranscodingMmr,
    TranscodingJbig,
    RateManagement,
    MaxBuffer,
    MaxDatagram,
    MaxIfp,
    UdpEc,
    UdpEcDepth,
    UdpFecMaxSpan,
}

fn classify(name: &str) -> Option<Known> {
    const TABLE: &[(&str, Known)] = &[
        ("T38FaxVersion", Known::Version),
        ("T38MaxBitRate", Known::MaxBitRate),
        ("T38FaxMaxRate", Known::MaxBitRate),
        ("T38FaxFillBitRemoval", Known::FillBitRemoval),
        ("T38FaxTranscodingMMR", Known::TranscodingMmr),
        ("T38FaxTranscodingJBIG", Known::TranscodingJbig),
        ("T38FaxRateManagement", Known::RateManagement),
        ("T38FaxMaxBuffer", Known::MaxBuffer),
        ("T38FaxMaxDatagram", Known::MaxDatagram),
        ("T38MaxDatagram", Known::MaxDatagram),
        ("T38FaxMaxIFP", Known::MaxIfp),
        ("T38FaxUdpEC", Known::UdpEc),
        ("T38FaxUdpECDepth", Known::UdpEcDepth),
        ("T38FaxUdpFECMaxSpan", Known::UdpFecMaxSpan),
    ];
    TABLE
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|&(_, k)| k)
}

/// True for attribute names that belong to the T.38 set (known or not).
pub fn is_t38_attribute(name: &str) -> bool {
    name.as_bytes()
        .get(..3)
        .is_some_and(|p| p.eq_ignore_ascii_case(b"T38"))
}

fn required<'a>(name: &'static str, value: Option<&'a str>) -> Result<&'a str, SdpError> {
    match value.map(str::trim) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(SdpError::MissingValue { name }),
    }
}

fn number(name: &'static str, value: Option<&str>) -> Result<u32, SdpError> {
    let v = required(name, value)?;
    if !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SdpError::invalid(name, v, "not a decimal number"));
    }
    v.parse::<u32>()
        .map_err(|_| SdpError::invalid(name, v, "number out of range"))
}

impl T38Attributes {
    /// Reads the T.38 attributes out of an attribute list (non-`T38…` attributes are skipped).
    pub fn from_attributes<'a>(
        attributes: impl IntoIterator<Item = &'a Attribute>,
    ) -> Result<Self, SdpError> {
        let mut p = T38Attributes::default();
        for attr in attributes {
            p.apply(&attr.attribute, attr.value.as_deref())?;
        }
        Ok(p)
    }

    /// Applies one attribute `name[:value]`; unrelated names are ignored.
    fn apply(&mut self, name: &str, value: Option<&str>) -> Result<(), SdpError> {
        let Some(kind) = classify(name) else {
            if is_t38_attribute(name) {
                self.unknown
                    .push((name.to_owned(), value.map(str::to_owned)));
            }
            return Ok(());
        };
        match kind {
            Known::Version => {
                let v = number(names::VERSION, value)?;
                self.version = u8::try_from(v).map_err(|_| {
                    SdpError::invalid(names::VERSION, value.unwrap_or(""), "version above 255")
                })?;
            }
            Known::MaxBitRate => self.max_bit_rate = Some(number(names::MAX_BIT_RATE, value)?),
            Known::FillBitRemoval => self.fill_bit_removal = true,
            Known::TranscodingMmr => self.transcoding_mmr = true,
            Known::TranscodingJbig => self.transcoding_jbig = true,
            Known::RateManagement => {
                let v = required(names::RATE_MANAGEMENT, value)?;
                self.rate_management = Some(if v.eq_ignore_ascii_case("transferredTCF") {
                    RateManagement::TransferredTcf
                } else if v.eq_ignore_ascii_case("localTCF") {
                    RateManagement::LocalTcf
                } else {
                    return Err(SdpError::invalid(
                        names::RATE_MANAGEMENT,
                        v,
                        "expected localTCF or transferredTCF",
                    ));
                });
            }
            Known::MaxBuffer => self.max_buffer = Some(number(names::MAX_BUFFER, value)?),
            Known::MaxDatagram => self.max_datagram = Some(number(names::MAX_DATAGRAM, value)?),
            Known::MaxIfp => self.max_ifp = Some(number(names::MAX_IFP, value)?),
            Known::UdpEc => {
                let v = required(names::UDP_EC, value)?;
                let ec = [UdpEc::Redundancy, UdpEc::Fec, UdpEc::NoEc]
                    .into_iter()
                    .find(|e| e.as_str().eq_ignore_ascii_case(v))
                    .ok_or_else(|| {
                        SdpError::invalid(
                            names::UDP_EC,
                            v,
                            "expected t38UDPRedundancy, t38UDPFEC or t38UDPNoEC",
                        )
                    })?;
                self.udp_ec.push(ec);
            }
            Known::UdpEcDepth => {
                let v = required(names::UDP_EC_DEPTH, value)?;
                let mut parts = v.split_ascii_whitespace();
                let min = number(names::UDP_EC_DEPTH, parts.next())?;
                let max = parts
                    .next()
                    .map(|m| number(names::UDP_EC_DEPTH, Some(m)))
                    .transpose()?;
                if parts.next().is_some() {
                    return Err(SdpError::invalid(
                        names::UDP_EC_DEPTH,
                        v,
                        "expected <minred> [<maxred>]",
                    ));
                }
                self.udp_ec_depth = Some(EcDepth { min, max });
            }
            Known::UdpFecMaxSpan => {
                self.udp_fec_max_span = Some(number(names::UDP_FEC_MAX_SPAN, value)?)
            }
        }
        Ok(())
    }

    /// The attributes in canonical form and order (Asterisk's order for the ones it sends).
    ///
    /// The version is always written (an explicit `T38FaxVersion:0` is clearer than none), flags
    /// only when true, `T38FaxUdpEC` once per entry of [`T38Attributes::udp_ec`].
    pub fn to_attributes(&self) -> Vec<Attribute> {
        let mut out = vec![Attribute::with_value(names::VERSION, self.version)];
        if let Some(rate) = self.max_bit_rate {
            out.push(Attribute::with_value(names::MAX_BIT_RATE, rate));
        }
        for (set, name) in [
            (self.fill_bit_removal, names::FILL_BIT_REMOVAL),
            (self.transcoding_mmr, names::TRANSCODING_MMR),
            (self.transcoding_jbig, names::TRANSCODING_JBIG),
        ] {
            if set {
                out.push(Attribute::new(name));
            }
        }
        if let Some(rm) = self.rate_management {
            out.push(Attribute::with_value(names::RATE_MANAGEMENT, rm.as_str()));
        }
        if let Some(b) = self.max_buffer {
            out.push(Attribute::with_value(names::MAX_BUFFER, b));
        }
        if let Some(d) = self.max_datagram {
            out.push(Attribute::with_value(names::MAX_DATAGRAM, d));
        }
        if let Some(i) = self.max_ifp {
            out.push(Attribute::with_value(names::MAX_IFP, i));
        }
        for ec in &self.udp_ec {
            out.push(Attribute::with_value(names::UDP_EC, ec.as_str()));
        }
        if let Some(depth) = self.udp_ec_depth {
            let v = match depth.max {
                Some(max) => format!("{} {}", depth.min, max),
                None => depth.min.to_string(),
            };
            out.push(Attribute::with_value(names::UDP_EC_DEPTH, v));
        }
        if let Some(span) = self.udp_fec_max_span {
            out.push(Attribute::with_value(names::UDP_FEC_MAX_SPAN, span));
        }
        for (name, value) in &self.unknown {
            out.push(Attribute {
                attribute: name.clone(),
                value: value.clone(),
            });
        }
        out
    }

    /// The attributes as `a=` lines joined by CRLF (each line terminated), for logs and tests.
    pub fn to_sdp_lines(&self) -> String {
        let mut s = String::new();
        for a in self.to_attributes() {
            s.push_str("a=");
            s.push_str(&a.attribute);
            if let Some(v) = &a.value {
                s.push(':');
                s.push_str(v);
            }
            s.push_str("\r\n");
        }
        s
    }

    /// Parses bare `a=…` lines (or `name:value` lines without the `a=`), ignoring blank lines and
    /// any non-attribute lines. Handy for tests and configuration; whole SDP bodies go through
    /// [`super::SessionDescription::parse`].
    pub fn from_sdp_lines(text: &str) -> Result<Self, SdpError> {
        let mut p = T38Attributes::default();
        for line in text.lines() {
            let line = line.trim_end_matches('\r');
            let body = line.strip_prefix("a=").unwrap_or(line);
            if body.is_empty() || body.as_bytes().get(1) == Some(&b'=') {
                continue;
            }
            let (name, value) = match body.split_once(':') {
                Some((n, v)) => (n, Some(v)),
                None => (body, None),
            };
            p.apply(name, value)?;
        }
        Ok(p)
    }

    /// The error-correction modes offered, strongest first according to `preference`, with
    /// duplicates removed. An empty `udp_ec` (or only `t38UDPNoEC`) yields `[NoEc]`.
    pub fn offered_ec(&self, preference: &[UdpEc]) -> Vec<UdpEc> {
        let mut offered: Vec<UdpEc> = Vec::new();
        for ec in &self.udp_ec {
            if !offered.contains(ec) {
                offered.push(*ec);
            }
        }
        if !offered.contains(&UdpEc::NoEc) {
            // Every peer can fall back to plain packets.
            offered.push(UdpEc::NoEc);
        }
        let rank = |e: &UdpEc| {
            preference
                .iter()
                .position(|p| p == e)
                .unwrap_or(preference.len())
        };
        offered.sort_by_key(rank);
        offered
    }
}
