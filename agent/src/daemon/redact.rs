//! Log hygiene: phone numbers are shown by their last four digits only.

/// `+15551234567` → `…4567`; fewer than five digits → `…` only.
pub fn mask_number(number: &str) -> String {
    let digits: Vec<char> = number.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 5 {
        return "…".to_owned();
    }
    let tail: String = digits[digits.len() - 4..].iter().collect();
    format!("…{tail}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_four_digits() {
        assert_eq!(super::mask_number("+1 555 123 4567"), "…4567");
        assert_eq!(super::mask_number("123"), "…");
    }
}
