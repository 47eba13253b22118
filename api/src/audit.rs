//! The audit log: security-relevant events as structured `tracing` records under the target
//! `audit`. Phone numbers are masked to their last four digits; document content never appears.

/// `+15551234567` → `****4567`; anything shorter than five characters becomes `****`.
pub fn mask_number(number: &str) -> String {
    let digits: Vec<char> = number.chars().filter(|c| c.is_ascii_digit()).collect();
    if digits.len() <= 4 {
        return "****".to_string();
    }
    let last: String = digits[digits.len() - 4..].iter().collect();
    format!("****{last}")
}

/// Emits one audit event: `audit!("job_created", job_id = %id, to = %mask_number(to))`.
#[macro_export]
macro_rules! audit {
    ($event:literal $(, $($field:tt)*)?) => {
        ::tracing::info!(target: "audit", event = $event $(, $($field)*)?)
    };
}

#[cfg(test)]
mod tests {
    use super::mask_number;

    #[test]
    fn masks_to_last_four() {
        assert_eq!(mask_number("+15551234567"), "****4567");
        assert_eq!(mask_number("123"), "****");
        assert_eq!(mask_number(""), "****");
    }
}
