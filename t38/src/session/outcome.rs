//! How a fax session ended, what it reported on the way, and the T.30 completion codes.

/// A T.30 completion code other than OK (spandsp's `t30_err_e`; the discriminant is the code).
///
/// Stable: the numbers match spandsp and Asterisk's `FAXERROR`, so they can be stored and compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i32)]
#[non_exhaustive]
pub enum T30Error {
    CedTone = 1,
    T0Expired = 2,
    T1Expired = 3,
    T3Expired = 4,
    HdlcCarrier = 5,
    CannotTrain = 6,
    OperatorInterruptFailed = 7,
    Incompatible = 8,
    RxIncapable = 9,
    TxIncapable = 10,
    NoResolutionSupport = 11,
    NoSizeSupport = 12,
    Unexpected = 13,
    TxBadDcs = 14,
    TxBadPostPage = 15,
    TxEcmPhaseD = 16,
    TxGotDcn = 17,
    TxInvalidResponse = 18,
    TxNoDis = 19,
    TxPhaseBDead = 20,
    TxPhaseDDead = 21,
    TxT5Expired = 22,
    RxEcmPhaseD = 23,
    RxGotDcs = 24,
    RxInvalidCommand = 25,
    RxNoCarrier = 26,
    RxNoEol = 27,
    RxNoFax = 28,
    RxT2ExpiredDcn = 29,
    RxT2ExpiredD = 30,
    RxT2ExpiredFax = 31,
    RxT2ExpiredMps = 32,
    RxT2ExpiredRr = 33,
    RxT2Expired = 34,
    RxDcnWhy = 35,
    RxDcnData = 36,
    RxDcnFax = 37,
    RxDcnPhaseD = 38,
    RxDcnRrd = 39,
    RxDcnNoRtn = 40,
    FileError = 41,
    NoPage = 42,
    BadTiff = 43,
    BadPage = 44,
    BadTag = 45,
    BadTiffHeader = 46,
    NoMemory = 47,
    RetryDcn = 48,
    CallDropped = 49,
    NoPoll = 50,
    IdentUnacceptable = 51,
    SubUnacceptable = 52,
    SepUnacceptable = 53,
    PsaUnacceptable = 54,
    SidUnacceptable = 55,
    PwdUnacceptable = 56,
    TsaUnacceptable = 57,
    IraUnacceptable = 58,
    CiaUnacceptable = 59,
    IspUnacceptable = 60,
    CsaUnacceptable = 61,
    /// A code this build does not know.
    Unknown = -1,
}

impl T30Error {
    /// Maps a spandsp completion code; `None` for 0 (OK).
    pub fn from_code(code: i32) -> Option<Self> {
        Some(match code {
            0 => return None,
            1 => Self::CedTone,
            2 => Self::T0Expired,
            3 => Self::T1Expired,
            4 => Self::T3Expired,
            5 => Self::HdlcCarrier,
            6 => Self::CannotTrain,
            7 => Self::OperatorInterruptFailed,
            8 => Self::Incompatible,
            9 => Self::RxIncapable,
            10 => Self::TxIncapable,
            11 => Self::NoResolutionSupport,
            12 => Self::NoSizeSupport,
            13 => Self::Unexpected,
            14 => Self::TxBadDcs,
            15 => Self::TxBadPostPage,
            16 => Self::TxEcmPhaseD,
            17 => Self::TxGotDcn,
            18 => Self::TxInvalidResponse,
            19 => Self::TxNoDis,
            20 => Self::TxPhaseBDead,
            21 => Self::TxPhaseDDead,
            22 => Self::TxT5Expired,
            23 => Self::RxEcmPhaseD,
            24 => Self::RxGotDcs,
            25 => Self::RxInvalidCommand,
            26 => Self::RxNoCarrier,
            27 => Self::RxNoEol,
            28 => Self::RxNoFax,
            29 => Self::RxT2ExpiredDcn,
            30 => Self::RxT2ExpiredD,
            31 => Self::RxT2ExpiredFax,
            32 => Self::RxT2ExpiredMps,
            33 => Self::RxT2ExpiredRr,
            34 => Self::RxT2Expired,
            35 => Self::RxDcnWhy,
            36 => Self::RxDcnData,
            37 => Self::RxDcnFax,
            38 => Self::RxDcnPhaseD,
            39 => Self::RxDcnRrd,
            40 => Self::RxDcnNoRtn,
            41 => Self::FileError,
            42 => Self::NoPage,
            43 => Self::BadTiff,
            44 => Self::BadPage,
            45 => Self::BadTag,
            46 => Self::BadTiffHeader,
            47 => Self::NoMemory,
            48 => Self::RetryDcn,
            49 => Self::CallDropped,
            50 => Self::NoPoll,
            51 => Self::IdentUnacceptable,
            52 => Self::SubUnacceptable,
            53 => Self::SepUnacceptable,
            54 => Self::PsaUnacceptable,
            55 => Self::SidUnacceptable,
            56 => Self::PwdUnacceptable,
            57 => Self::TsaUnacceptable,
            58 => Self::IraUnacceptable,
            59 => Self::CiaUnacceptable,
            60 => Self::IspUnacceptable,
            61 => Self::CsaUnacceptable,
            _ => Self::Unknown,
        })
    }

    /// The numeric code (as spandsp and Asterisk report it).
    pub fn code(self) -> i32 {
        self as i32
    }

    /// Which part of the call failed (Asterisk's buckets).
    pub fn class(self) -> T30FailureClass {
        match self.code() {
            1..=6 => T30FailureClass::LineOrTraining,
            7..=13 => T30FailureClass::Negotiation,
            14..=22 => T30FailureClass::TransmitProtocol,
            23..=40 => T30FailureClass::ReceiveProtocol,
            41..=46 => T30FailureClass::File,
            48 => T30FailureClass::Retries,
            49 => T30FailureClass::CallDropped,
            _ => T30FailureClass::Other,
        }
    }
}

/// Coarse grouping of [`T30Error`]s, in T.30's terms (not the agent's line-neutral failure
/// classes, which a line derives from it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum T30FailureClass {
    /// No answer, no carrier, training failed.
    LineOrTraining,
    /// The two ends could not agree on capabilities.
    Negotiation,
    /// The sender saw a protocol failure.
    TransmitProtocol,
    /// The receiver saw a protocol failure.
    ReceiveProtocol,
    /// The TIFF could not be read or written.
    File,
    /// Gave up after the permitted retries.
    Retries,
    /// The call ended before the fax did.
    CallDropped,
    /// Anything else.
    Other,
}

/// A failed fax: the stable code plus spandsp's text for it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("fax failed: {text} (T.30 code {})", kind.code())]
pub struct FaxError {
    /// The completion code.
    pub kind: T30Error,
    /// spandsp's description of the code.
    pub text: String,
}

/// Image resolution of the last page, in pixels per metre (spandsp's units; 204×196 dpi is 8040×7700).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Resolution {
    /// Horizontal pixels per metre.
    pub x: u32,
    /// Vertical pixels per metre.
    pub y: u32,
}

/// The result of a finished session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaxReport {
    /// `Ok` when T.30 completed with code 0.
    pub outcome: Result<(), FaxError>,
    /// Pages sent (sender) or received (receiver).
    pub pages: u32,
    /// Image bit rate of the last page.
    pub bit_rate: u32,
    /// Resolution of the last page.
    pub resolution: Resolution,
    /// Whether ECM was used.
    pub ecm: bool,
    /// Bad rows in the last received page (non-ECM only; always 0 with ECM).
    pub bad_rows: u32,
    /// ECM frames sent again because the receiver's partial page request (PPR) named them missing or damaged,
    /// summed over the call (the sender counts those it resent, the receiver those it asked for; 0 without
    /// ECM). What a bad line cost, beyond the pages that failed.
    pub ecm_retries: u32,
    /// The far end's TSI/CSI, if it sent one.
    pub remote_ident: Option<String>,
    /// Compression on the line (spandsp's `T4_COMPRESSION_*` bit: 2 = T.4 1-D, 4 = T.4 2-D, 8 = T.6).
    pub compression: u32,
}

impl FaxReport {
    /// True when the fax completed.
    pub fn is_success(&self) -> bool {
        self.outcome.is_ok()
    }
}

/// Progress of a session, in the order it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEvent {
    /// Phase B: the capabilities exchange (DIS/DCS) started; for T.38 this means IFPs flow both ways.
    Negotiating,
    /// Training succeeded (CFR) at this bit rate; `ecm` tells whether ECM was chosen.
    Trained {
        /// Image bit rate.
        bit_rate: u32,
        /// ECM in use.
        ecm: bool,
    },
    /// Page `n` (1-based) started.
    PageStarted(u32),
    /// Page `n` (1-based) was confirmed, with the bad rows seen on it (receiver, non-ECM).
    PageDone {
        /// Page number, 1-based.
        page: u32,
        /// Bad rows on the page.
        bad_rows: u32,
    },
    /// Phase E: the session is over.
    Completed(FaxReport),
}
