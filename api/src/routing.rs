//! Routing between lines (sans-IO): which queued jobs an agent's line may carry, the line a job goes to next
//! when its line could not place the call, a client's choice of line, and the name Faxbot's job view gives a
//! line. The API is where every agent meets, so the policy lives here (`routing`, `backends` in `[api]`); the
//! store applies it ([`crate::store::Jobs::lease_next`], [`crate::store::Jobs::fail_over`]).

use std::collections::HashSet;

use faxline_protocol::messages::LINE_KINDS;

use crate::store::LineFilter;

/// The line kind an agent reported, when it is one the API knows (anything else counts as no report).
pub fn known_kind(kind: &str) -> Option<&'static str> {
    LINE_KINDS.iter().copied().find(|k| *k == kind)
}

/// What an agent of line `kind` may lease under the failover order `routing` (empty: no policy), with
/// `available` the lines that have an agent seen lately whose line reported no problem.
pub fn lease_filter(
    routing: &[String],
    kind: Option<&str>,
    available: &HashSet<String>,
) -> LineFilter {
    let kind = kind.and_then(known_kind);
    let position = kind.and_then(|k| routing.iter().position(|r| r == k));
    LineFilter {
        kind: kind.map(str::to_owned),
        routed: !routing.is_empty(),
        in_routing: position.is_some(),
        ahead: position
            .map(|i| {
                routing[..i]
                    .iter()
                    .filter(|r| available.contains(r.as_str()))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// After `line` could not place a job that had already failed on `tried`: the first line of `routing` still
/// untried, if any (the job then waits for it, or for a later one while it is down).
pub fn next_line<'a>(routing: &'a [String], tried: &[String], line: &str) -> Option<&'a str> {
    routing
        .iter()
        .map(String::as_str)
        .find(|r| *r != line && !tried.iter().any(|t| t == r))
}

/// Why a client's `backend` on `POST /fax` is refused, if it is.
pub fn check_requested(allowed: &[String], requested: &str) -> Result<(), String> {
    if allowed.iter().any(|a| a == requested) {
        return Ok(());
    }
    if allowed.is_empty() {
        return Err(
            "'backend' is not accepted: this server lets no job choose its line (the operator's `backends` setting, FAXLINE_BACKENDS, is empty)"
                .to_owned(),
        );
    }
    Err(format!(
        "'backend' must be one of: {} (the operator's `backends` setting)",
        allowed.join(", ")
    ))
}

/// The name Faxbot's job view gives the backend that carries a job: its SIP backend is Asterisk, so the
/// `asterisk` line shows as `sip`, like the agent's own SIP line; other lines show their kind.
pub fn faxbot_backend(line: &str) -> &str {
    match line {
        "asterisk" => "sip",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    fn set(items: &[&str]) -> HashSet<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn without_a_policy_any_known_line_takes_any_unpinned_job() {
        let f = lease_filter(&[], Some("sip"), &set(&[]));
        assert_eq!(f.kind.as_deref(), Some("sip"));
        assert!(!f.routed && f.ahead.is_empty());
        // An unknown or missing kind is no kind.
        assert_eq!(lease_filter(&[], Some("sim"), &set(&[])).kind, None);
        assert_eq!(lease_filter(&[], Some("%,x"), &set(&[])).kind, None);
        assert_eq!(lease_filter(&[], None, &set(&[])).kind, None);
    }

    #[test]
    fn a_line_waits_for_the_available_lines_ahead_of_it() {
        let routing = v(&["sip", "phaxio", "telnyx"]);
        let f = lease_filter(&routing, Some("sip"), &set(&["sip", "phaxio"]));
        assert!(f.routed && f.in_routing && f.ahead.is_empty());
        // The SIP line is up: the cloud line takes only what it could not place.
        let f = lease_filter(&routing, Some("phaxio"), &set(&["sip", "phaxio"]));
        assert_eq!(f.ahead, v(&["sip"]));
        // The SIP line is down (or no agent has it): the cloud line takes the jobs at once.
        let f = lease_filter(&routing, Some("phaxio"), &set(&["phaxio"]));
        assert!(f.ahead.is_empty());
        let f = lease_filter(&routing, Some("telnyx"), &set(&["sip", "telnyx"]));
        assert_eq!(f.ahead, v(&["sip"]));
        // A line outside the policy carries only the jobs pinned to it.
        let f = lease_filter(&routing, Some("loopback"), &set(&["sip"]));
        assert!(f.routed && !f.in_routing);
    }

    #[test]
    fn the_next_line_is_the_first_untried_one() {
        let routing = v(&["sip", "phaxio", "telnyx"]);
        assert_eq!(next_line(&routing, &[], "sip"), Some("phaxio"));
        // The job went to phaxio first (sip was down), phaxio could not place it: sip is next.
        assert_eq!(next_line(&routing, &[], "phaxio"), Some("sip"));
        assert_eq!(next_line(&routing, &v(&["sip"]), "phaxio"), Some("telnyx"));
        assert_eq!(next_line(&routing, &v(&["sip", "phaxio"]), "telnyx"), None);
        assert_eq!(next_line(&[], &[], "sip"), None);
    }

    #[test]
    fn requested_lines_are_checked_against_the_list() {
        assert!(check_requested(&v(&["phaxio"]), "phaxio").is_ok());
        let e = check_requested(&v(&["phaxio", "sip"]), "telnyx").unwrap_err();
        assert!(e.contains("phaxio, sip"), "{e}");
        let e = check_requested(&[], "phaxio").unwrap_err();
        assert!(e.contains("FAXLINE_BACKENDS"), "{e}");
    }

    #[test]
    fn faxbot_names_the_asterisk_line_sip() {
        assert_eq!(faxbot_backend("asterisk"), "sip");
        assert_eq!(faxbot_backend("sip"), "sip");
        assert_eq!(faxbot_backend("phaxio"), "phaxio");
    }
}
