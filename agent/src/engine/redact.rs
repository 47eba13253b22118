//! Log hygiene: phone numbers are shown by their last four digits only.

/// `+15551234567` → `…4567`; fewer than five digits → `…` only. The SIP line's rule, so that every log of the
/// agent masks a number the same way.
pub use faxline_sip::called::mask as mask_number;

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_four_digits() {
        assert_eq!(super::mask_number("+1 555 123 4567"), "…4567");
        assert_eq!(super::mask_number("123"), "…");
    }
}
