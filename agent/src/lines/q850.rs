//! Q.850 hang-up causes for a call that was not answered (Asterisk's `HANGUPCAUSE` after `Dial`; the SIP line
//! maps its final responses to them), in words that hold for any line, with the failure class that decides whether a retry is worth it: a number
//! that does not exist or a destination that is not a fax stays so on the next attempt; a busy, congested or
//! temporarily broken network may not.

use crate::engine::outcome::FailureClass;

/// What a cause means for the job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CauseMeaning {
    pub class: FailureClass,
    /// Line-neutral explanation (no numbers).
    pub text: &'static str,
}

const fn m(class: FailureClass, text: &'static str) -> Option<CauseMeaning> {
    Some(CauseMeaning { class, text })
}

/// The meaning of a Q.850 cause for an unanswered call; `None` for causes that say nothing about why the call
/// failed (16 normal clearing, 31 normal unspecified, …) or are unknown.
pub fn meaning(cause: u16) -> Option<CauseMeaning> {
    use FailureClass::*;
    match cause {
        1 => m(
            InvalidNumber,
            "the number does not exist (unallocated number)",
        ),
        2 => m(InvalidNumber, "no route to the destination's network"),
        3 => m(InvalidNumber, "no route to the destination"),
        22 => m(InvalidNumber, "the number has changed"),
        28 => m(InvalidNumber, "the number is invalid or incomplete"),
        17 => m(Busy, "the far end is busy"),
        18 => m(NoAnswer, "the far end did not respond"),
        19 => m(NoAnswer, "no answer before the ring timeout"),
        20 => m(NoAnswer, "the far end is absent"),
        21 => m(Declined, "the far end rejected the call"),
        29 => m(Declined, "the network rejected the call's facility"),
        50 => m(Declined, "the facility is not subscribed on the trunk"),
        52 => m(Declined, "outgoing calls are barred on the trunk"),
        54 => m(Declined, "the far end bars incoming calls"),
        55 => m(Declined, "the far end bars incoming calls from this group"),
        57 => m(Declined, "the bearer capability is not authorized"),
        87 => m(
            Declined,
            "the caller is not a member of the far end's group",
        ),
        34 => m(Congestion, "no circuit or channel is available"),
        42 => m(Congestion, "the network's switching equipment is congested"),
        44 => m(
            Congestion,
            "the requested circuit or channel is not available",
        ),
        47 => m(Congestion, "no network resource is available"),
        27 => m(ChannelUnavailable, "the destination is out of order"),
        38 => m(ChannelUnavailable, "the network is out of order"),
        41 => m(ChannelUnavailable, "temporary failure in the network"),
        58 => m(
            ChannelUnavailable,
            "the bearer capability is not available now",
        ),
        63 => m(
            ChannelUnavailable,
            "the service or option is not available now",
        ),
        102 => m(ChannelUnavailable, "the network timed out"),
        111 => m(ChannelUnavailable, "protocol error in the network"),
        127 => m(
            ChannelUnavailable,
            "interworking failure (the network gave no reason)",
        ),
        65 => m(
            Incompatible,
            "the bearer capability is not implemented at the far end",
        ),
        66 => m(
            Incompatible,
            "the channel type is not implemented at the far end",
        ),
        79 => m(
            Incompatible,
            "the service or option is not implemented at the far end",
        ),
        88 => m(
            Incompatible,
            "the destination is incompatible with a fax call",
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RetryConfig;
    use crate::engine::outcome::CallOutcome;
    use crate::engine::retry::{RetryDecision, decide};

    #[test]
    fn the_causes_asterisk_reports_are_explained_and_retried_only_when_worth_it() {
        let retry = RetryConfig::default();
        for (cause, retried) in [
            (1, false),
            (3, false),
            (17, true),
            (18, true),
            (19, true),
            (21, false),
            (27, true),
            (28, false),
            (34, true),
            (38, true),
            (41, true),
            (42, true),
            (58, true),
            (88, false),
            (127, true),
        ] {
            let m = meaning(cause).unwrap_or_else(|| panic!("cause {cause} unexplained"));
            assert!(!m.text.is_empty() && !m.text.chars().any(|c| c.is_ascii_digit()));
            let outcome = CallOutcome::failed(m.class, m.text);
            let d = decide(&retry, 1, &outcome);
            assert_eq!(
                matches!(d, RetryDecision::Retry { .. }),
                retried,
                "cause {cause}: {d:?}"
            );
        }
        for silent in [0, 16, 31, 999] {
            assert_eq!(meaning(silent), None);
        }
    }
}
