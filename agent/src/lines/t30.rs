//! The T.30 session of the lines that run it themselves (sip, loopback): its options from `[fax]`, and what a
//! failed session means for a job: the session's own [`faxline_t38::session::FailureClass`] decides, mapped once here to the
//! line-neutral class, as the Asterisk line maps res_fax's result.

use faxline_t38::session::{FaxError, FaxOptions, T30FailureClass as T30Class};

use crate::config::Config;
use crate::engine::outcome::FailureClass;

/// The class of a failed session: capabilities the ends could not agree on are a negotiation failure, a
/// document the session could not read a file error (retrying cannot help), everything else on the line a
/// failed transfer.
pub fn failure_class(error: &FaxError) -> FailureClass {
    match error.kind.class() {
        T30Class::Negotiation => FailureClass::Negotiation,
        T30Class::File => FailureClass::FileUnreadable,
        T30Class::LineOrTraining
        | T30Class::TransmitProtocol
        | T30Class::ReceiveProtocol
        | T30Class::Retries
        | T30Class::CallDropped
        | T30Class::Other => FailureClass::TransferFailed,
    }
}

/// The T.30 options every line's sending and receiving sessions use, from `[fax]`.
pub fn fax_options(cfg: &Config) -> FaxOptions {
    let mut fax = FaxOptions {
        ecm: cfg.fax.ecm,
        max_bit_rate: cfg.fax.max_rate,
        min_bit_rate: cfg.fax.min_rate,
        ..FaxOptions::default()
    };
    if !cfg.fax.local_station_id.is_empty() {
        fax.local_ident = cfg.fax.local_station_id.clone();
    }
    if !cfg.fax.header_info.is_empty() {
        fax.page_header = Some(cfg.fax.header_info.clone());
    }
    fax
}

#[cfg(test)]
mod tests {
    use faxline_t38::session::T30Error;

    use super::*;

    fn error(code: i32) -> FaxError {
        FaxError {
            kind: T30Error::from_code(code).expect("a T.30 code"),
            text: String::new(),
        }
    }

    #[test]
    fn the_sessions_own_class_decides() {
        // 2: training failed; 10: the far end cannot take the document's capabilities (phase B); 43: bad TIFF;
        // 49: the call dropped.
        assert_eq!(failure_class(&error(2)), FailureClass::TransferFailed);
        assert_eq!(failure_class(&error(10)), FailureClass::Negotiation);
        assert_eq!(failure_class(&error(43)), FailureClass::FileUnreadable);
        assert_eq!(failure_class(&error(49)), FailureClass::TransferFailed);
    }
}
