//! Time as both sides of the protocol write it: integer microseconds (or seconds) since the Unix epoch
//! (portable across SQLite and PostgreSQL), rendered the way Faxbot does: naive UTC ISO 8601 with
//! microseconds and no zone suffix.

use time::OffsetDateTime;
use time::macros::format_description;

/// Now, in microseconds since the epoch.
pub fn now_us() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1000) as i64
}

/// Now, in whole seconds since the epoch.
pub fn now_s() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// `2025-09-20T06:57:01.215761` (Faxbot's `created_at` format).
pub fn iso(us: i64) -> String {
    let fmt =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]");
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1000)
        .ok()
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_default()
}

/// Parses an ISO 8601 timestamp (RFC 3339, or naive which is taken as UTC) into microseconds.
pub fn parse_iso(s: &str) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some((t.unix_timestamp_nanos() / 1000) as i64);
    }
    let naive = format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][optional [.[subsecond]]]"
    );
    time::PrimitiveDateTime::parse(s, &naive)
        .ok()
        .map(|t| (t.assume_utc().unix_timestamp_nanos() / 1000) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faxbot_format_round_trips() {
        let us = 1_758_351_421_215_761;
        assert_eq!(iso(us), "2025-09-20T06:57:01.215761");
        assert_eq!(parse_iso("2025-09-20T06:57:01.215761"), Some(us));
        assert_eq!(
            parse_iso("2025-09-20T06:57:01Z"),
            Some(1_758_351_421_000_000)
        );
        assert_eq!(parse_iso("yesterday"), None);
    }
}
