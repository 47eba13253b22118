//! The retry decision, from `[retry]`: which failure classes are retried, how many attempts in all, how long to
//! wait, and whether the next attempt turns ECM off.

use std::time::Duration;

use super::outcome::{CallOutcome, FailureClass};
use crate::config::{RetryConfig, RetryReason};

/// What to do after a failed attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryDecision {
    /// Place attempt `attempt` after `after`; `ecm` overrides ECM for it (`Some(false)` = retry without ECM).
    Retry {
        attempt: u32,
        after: Duration,
        ecm: Option<bool>,
    },
    /// The job fails with this attempt's outcome.
    GiveUp,
}

/// Decides retries. Never retries a success or an attempt whose outcome is unknown.
pub fn decide(cfg: &RetryConfig, attempt: u32, outcome: &CallOutcome) -> RetryDecision {
    let CallOutcome::Failed { class, .. } = outcome else {
        return RetryDecision::GiveUp;
    };
    let Some(reason) = class.retry_reason() else {
        return RetryDecision::GiveUp;
    };
    if attempt >= cfg.max_attempts || !cfg.retry_on.contains(&reason) {
        return RetryDecision::GiveUp;
    }
    let ecm = (cfg.retry_without_ecm && *class == FailureClass::TransferFailed).then_some(false);
    RetryDecision::Retry {
        attempt: attempt + 1,
        after: cfg.backoff(attempt + 1),
        ecm,
    }
}

/// Whether `reason` is retried at all (for messages).
pub fn retried(cfg: &RetryConfig, reason: RetryReason) -> bool {
    cfg.retry_on.contains(&reason) && cfg.max_attempts > 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> RetryConfig {
        RetryConfig {
            max_attempts: 3,
            backoff_initial_secs: 10,
            backoff_max_secs: 15,
            backoff_multiplier: 2.0,
            ..RetryConfig::default()
        }
    }

    #[test]
    fn busy_is_retried_with_backoff_until_max_attempts() {
        let busy = CallOutcome::failed(FailureClass::Busy, "");
        assert_eq!(
            decide(&cfg(), 1, &busy),
            RetryDecision::Retry {
                attempt: 2,
                after: Duration::from_secs(10),
                ecm: None
            }
        );
        assert_eq!(
            decide(&cfg(), 2, &busy),
            RetryDecision::Retry {
                attempt: 3,
                after: Duration::from_secs(15),
                ecm: None
            }
        );
        assert_eq!(decide(&cfg(), 3, &busy), RetryDecision::GiveUp);
    }

    #[test]
    fn unknown_outcomes_are_never_retried() {
        for class in [
            FailureClass::Unknown,
            FailureClass::NoResult,
            FailureClass::Timeout,
            FailureClass::Rejected,
            FailureClass::Document,
        ] {
            assert_eq!(
                decide(&cfg(), 1, &CallOutcome::failed(class, "")),
                RetryDecision::GiveUp
            );
        }
    }

    #[test]
    fn transfer_failures_retry_without_ecm_when_configured() {
        let mut c = cfg();
        c.retry_on.push(RetryReason::TransferFailed);
        let d = decide(
            &c,
            1,
            &CallOutcome::failed(FailureClass::TransferFailed, ""),
        );
        assert!(matches!(
            d,
            RetryDecision::Retry {
                ecm: Some(false),
                ..
            }
        ));
        c.retry_on.clear();
        assert_eq!(
            decide(&c, 1, &CallOutcome::failed(FailureClass::Busy, "")),
            RetryDecision::GiveUp
        );
        assert!(!retried(&c, RetryReason::Busy));
    }
}
