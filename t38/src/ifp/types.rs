//! The typed IFP model: what a T.38 packet says, independent of the wire syntax.

/// Declares a C-like enum with its ASN.1 index, the number of root values (the rest are the
/// 2002 extension values) and a fallible conversion from the index.
macro_rules! asn1_enum {
    ($(#[$m:meta])* $name:ident, root = $root:expr, { $($(#[$vm:meta])* $v:ident = $i:expr,)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum $name { $($(#[$vm])* $v = $i,)* }

        impl $name {
            /// Every value, in index order.
            pub const ALL: &'static [$name] = &[$($name::$v,)*];
            /// Number of values in the ASN.1 root (indices `>= ROOT` are extension values).
            pub const ROOT: u8 = $root;

            /// The ASN.1 index (equal to spandsp's enum value).
            pub fn index(self) -> u8 { self as u8 }

            /// The value with this ASN.1 index, if there is one.
            pub fn from_index(i: u8) -> Option<Self> { Self::ALL.get(usize::from(i)).copied() }

            /// True for the values added by the 2002 extension (only legal for version ≥ 1).
            pub fn is_extension(self) -> bool { self.index() >= Self::ROOT }
        }
    };
}

asn1_enum!(
    /// `t30-indicator`: a signal the gateway detected on the line (no payload).
    Indicator, root = 16, {
    NoSignal = 0, Cng = 1, Ced = 2, V21Preamble = 3, V27Training2400 = 4, V27Training4800 = 5,
    V29Training7200 = 6, V29Training9600 = 7, V17Training7200Short = 8, V17Training7200Long = 9,
    V17Training9600Short = 10, V17Training9600Long = 11, V17Training12000Short = 12,
    V17Training12000Long = 13, V17Training14400Short = 14, V17Training14400Long = 15,
    V8Ansam = 16, V8Signal = 17, V34CntlChannel1200 = 18, V34PriChannel = 19, V34CcRetrain = 20,
    V33Training12000 = 21, V33Training14400 = 22,
});

asn1_enum!(
    /// `t30-data`: the modulation whose demodulated data the packet carries.
    DataType, root = 9, {
    V21 = 0, V27_2400 = 1, V27_4800 = 2, V29_7200 = 3, V29_9600 = 4, V17_7200 = 5, V17_9600 = 6,
    V17_12000 = 7, V17_14400 = 8, V8 = 9, V34PriRate = 10, V34Cc1200 = 11, V34PriCh = 12,
    V33_12000 = 13, V33_14400 = 14,
});

asn1_enum!(
    /// `field-type` of one data-field item.
    FieldType, root = 8, {
    HdlcData = 0, HdlcSigEnd = 1, HdlcFcsOk = 2, HdlcFcsBad = 3, HdlcFcsOkSigEnd = 4,
    HdlcFcsBadSigEnd = 5, T4NonEcmData = 6, T4NonEcmSigEnd = 7, CmMessage = 8, JmMessage = 9,
    CiMessage = 10, V34Rate = 11,
});

impl FieldType {
    /// True for the field types that end the signal (`*-sig-end`).
    pub fn ends_signal(self) -> bool {
        matches!(
            self,
            Self::HdlcSigEnd
                | Self::HdlcFcsOkSigEnd
                | Self::HdlcFcsBadSigEnd
                | Self::T4NonEcmSigEnd
        )
    }
}

/// `type-of-msg`: an indicator or a data packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TypeOfMsg {
    /// `t30-indicator`
    Indicator(Indicator),
    /// `t30-data` (named `data` in the 1998 syntax)
    Data(DataType),
}

/// One `Data-Field` item. An empty `data` means the optional `field-data` is absent (the ASN.1
/// forbids an empty present one, `SIZE(1..65535)`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DataField {
    /// What the item carries (HDLC data, FCS verdict, T.4 data, …).
    pub field_type: FieldType,
    /// The item's octets; empty when absent.
    pub data: Vec<u8>,
}

/// A whole IFP packet: `IFPPacket ::= SEQUENCE { type-of-msg, data-field OPTIONAL }`.
///
/// `fields` empty means `data-field` is absent. Indicators never carry fields.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IfpPacket {
    /// Indicator or data type.
    pub type_of_msg: TypeOfMsg,
    /// The data-field items, in order (empty = field absent).
    pub fields: Vec<DataField>,
}

impl IfpPacket {
    /// An indicator packet.
    pub fn indicator(ind: Indicator) -> Self {
        Self {
            type_of_msg: TypeOfMsg::Indicator(ind),
            fields: Vec::new(),
        }
    }

    /// A data packet with `(field type, field data)` items (empty data = absent).
    pub fn data(dt: DataType, fields: impl IntoIterator<Item = (FieldType, Vec<u8>)>) -> Self {
        Self {
            type_of_msg: TypeOfMsg::Data(dt),
            fields: fields
                .into_iter()
                .map(|(field_type, data)| DataField { field_type, data })
                .collect(),
        }
    }
}
