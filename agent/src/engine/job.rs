//! One leased outbound job, as a state machine (sans-IO).
//!
//! leased → document ready → (journal written) call placed → outcome → retry after backoff, or report → done.
//! The machine decides; the shell ([`super::runner`]) fetches, renders, writes the journal, places calls,
//! sleeps and talks to the API, feeding the results back.
//!
//! The agent's state machines share one convention: inputs go in through `handle_*` (here
//! [`JobMachine::handle_input`] and [`JobMachine::handle_timeout`]), outputs come out of `poll_*`
//! ([`JobMachine::poll_action`] until `None`), the next moment the machine wants to be woken is
//! [`JobMachine::poll_timeout`], and time is always passed in: nothing inside reads a clock. Invariants:
//! - a call is placed only after the journal records it ([`Action::Dial`] means "record, then dial");
//! - a job whose journal says a call may be running is never dialled again (outcome unknown → failure);
//! - a job whose journal holds an outcome reports it instead of calling again;
//! - every path ends in [`Action::Report`] with a definite, explained result.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::journal::CallRecord;
use super::outcome::{CallOutcome, FailureClass};
use super::retry::{RetryDecision, decide};
use crate::config::RetryConfig;

/// Input from the shell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// The job was leased; `record` is what the journal holds for it, written `age` ago.
    Leased {
        record: Option<CallRecord>,
        age: Duration,
    },
    /// The document is fetched and rendered into the spool.
    DocumentReady { pages: u32 },
    /// Fetching or rendering failed.
    DocumentFailed { error: String },
    /// The attempt's call ended.
    CallEnded { outcome: CallOutcome },
    /// The API accepted the result.
    Reported,
    /// The agent is shutting down: a backoff wait ends now (the next attempt then meets the shutdown and the job
    /// reports, going back to the queue).
    Stopping,
}

/// What the shell must do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Download the document and render it into the spool; answer with `DocumentReady`/`DocumentFailed`.
    PrepareDocument,
    /// Record `InFlight { attempt, token }` durably, THEN place the call; answer with `CallEnded`.
    Dial {
        attempt: u32,
        token: String,
        ecm: Option<bool>,
    },
    /// Record `Ended` durably when `record` is set (before anything else), then wait `after`: until
    /// [`JobMachine::poll_timeout`], then [`JobMachine::handle_timeout`]. `None`: the journal already holds the
    /// record, and its age is when the wait began, so it must not be rewritten.
    Backoff {
        record: Option<CallRecord>,
        after: Duration,
    },
    /// Record the outcome durably (when `record` is set), then report the job's result; answer `Reported`.
    Report {
        record: Option<CallRecord>,
        outcome: CallOutcome,
        attempts: u32,
        /// No attempt of this lease can have delivered anything ([`CallOutcome::unplaced`] for every one of
        /// them), so the API may send the job through another line.
        unplaced: bool,
    },
    /// Delete the spool file and the journal record; the job is done.
    Cleanup,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    New,
    Preparing,
    Calling,
    Waiting,
    Reporting,
    Done,
}

/// The job machine.
#[derive(Debug)]
pub struct JobMachine {
    job_id: String,
    retry: RetryConfig,
    state: State,
    /// The attempt the next (or current) call is.
    attempt: u32,
    ecm: Option<bool>,
    document_ready: bool,
    /// An attempt of this job may have reached the far end (its outcome was not
    /// [`CallOutcome::unplaced`]), or the journal cannot tell for earlier attempts.
    placed: bool,
    /// When the backoff wait ends (while `Waiting`).
    wake_at: Option<Instant>,
    /// Actions not yet polled.
    actions: VecDeque<Action>,
}

impl JobMachine {
    pub fn new(job_id: impl Into<String>, retry: RetryConfig) -> Self {
        Self {
            job_id: job_id.into(),
            retry,
            state: State::New,
            attempt: 1,
            ecm: None,
            document_ready: false,
            placed: false,
            wake_at: None,
            actions: VecDeque::new(),
        }
    }

    /// The job token of an attempt: the channel id, the spool file's name and the result event's JobID.
    pub fn token(job_id: &str, attempt: u32) -> String {
        format!("{job_id}_{attempt}")
    }

    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    fn report(&mut self, record: Option<CallRecord>, outcome: CallOutcome) -> Vec<Action> {
        self.state = State::Reporting;
        let unplaced = !self.placed && outcome.unplaced();
        vec![Action::Report {
            record,
            outcome,
            attempts: self.attempt,
            unplaced,
        }]
    }

    fn dial(&mut self) -> Vec<Action> {
        self.state = State::Calling;
        vec![Action::Dial {
            attempt: self.attempt,
            token: Self::token(&self.job_id, self.attempt),
            ecm: self.ecm,
        }]
    }

    fn after_failure(&mut self, token: String, outcome: CallOutcome) -> Vec<Action> {
        if !outcome.unplaced() {
            self.placed = true;
        }
        let record = CallRecord::Ended {
            attempt: self.attempt,
            token,
            outcome: outcome.clone(),
        };
        match decide(&self.retry, self.attempt, &outcome) {
            RetryDecision::Retry {
                attempt,
                after,
                ecm,
            } => {
                self.attempt = attempt;
                self.ecm = ecm;
                self.state = State::Waiting;
                vec![Action::Backoff {
                    record: Some(record),
                    after,
                }]
            }
            RetryDecision::GiveUp => self.report(Some(record), outcome),
        }
    }

    /// Feeds one input at `now`; the actions it leads to come out of [`JobMachine::poll_action`]. Input that
    /// does not fit the state is ignored.
    pub fn handle_input(&mut self, input: Input, now: Instant) {
        let actions = match input {
            Input::Stopping => self.backoff_over(),
            input => self.step(input),
        };
        for action in &actions {
            if let Action::Backoff { after, .. } = action {
                self.wake_at = Some(now + *after);
            }
        }
        self.actions.extend(actions);
    }

    /// Time passed: ends the backoff wait when `now` reached [`JobMachine::poll_timeout`].
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.poll_timeout().is_some_and(|at| now >= at) {
            let actions = self.backoff_over();
            self.actions.extend(actions);
        }
    }

    /// The next action to run, in order; `None` when the machine waits for input or a timeout.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// When the machine wants [`JobMachine::handle_timeout`]: the end of a backoff wait.
    pub fn poll_timeout(&self) -> Option<Instant> {
        (self.state == State::Waiting)
            .then_some(self.wake_at)
            .flatten()
    }

    /// The backoff wait is over (or cut short): the next attempt, with the document prepared again when this
    /// run of the agent has not prepared it yet.
    fn backoff_over(&mut self) -> Vec<Action> {
        if self.state != State::Waiting {
            return Vec::new();
        }
        self.wake_at = None;
        if self.document_ready {
            self.dial()
        } else {
            self.state = State::Preparing;
            vec![Action::PrepareDocument]
        }
    }

    fn step(&mut self, input: Input) -> Vec<Action> {
        match (self.state.clone(), input) {
            (State::New, Input::Leased { record, age }) => match record {
                None => {
                    self.state = State::Preparing;
                    vec![Action::PrepareDocument]
                }
                Some(CallRecord::InFlight { attempt, .. }) => {
                    self.attempt = attempt;
                    self.report(
                        None,
                        CallOutcome::failed(
                            FailureClass::Unknown,
                            format!(
                                "the agent stopped during call attempt {attempt}; its outcome is unknown, so the \
                                 fax is not redialled (it may have been delivered)"
                            ),
                        ),
                    )
                }
                Some(CallRecord::Ended {
                    attempt, outcome, ..
                }) => {
                    self.attempt = attempt;
                    // The record keeps only the last attempt: earlier ones may have reached the far end.
                    self.placed = attempt > 1 || !outcome.unplaced();
                    if outcome.is_success() {
                        return self.report(None, outcome);
                    }
                    match decide(&self.retry, attempt, &outcome) {
                        // The agent restarted during the backoff: wait what is left of it (the record was
                        // written when the wait began), then go on with the next attempt.
                        RetryDecision::Retry {
                            attempt: next,
                            ecm,
                            after,
                        } => {
                            self.attempt = next;
                            self.ecm = ecm;
                            let left = after.saturating_sub(age);
                            if left.is_zero() {
                                self.state = State::Preparing;
                                vec![Action::PrepareDocument]
                            } else {
                                self.state = State::Waiting;
                                vec![Action::Backoff {
                                    record: None,
                                    after: left,
                                }]
                            }
                        }
                        RetryDecision::GiveUp => self.report(None, outcome),
                    }
                }
            },
            (State::Preparing, Input::DocumentReady { .. }) => {
                self.document_ready = true;
                self.dial()
            }
            (State::Preparing, Input::DocumentFailed { error }) => {
                self.report(None, CallOutcome::failed(FailureClass::Document, error))
            }
            (State::Calling, Input::CallEnded { outcome }) => {
                let token = Self::token(&self.job_id, self.attempt);
                if outcome.is_success() {
                    let record = CallRecord::Ended {
                        attempt: self.attempt,
                        token,
                        outcome: outcome.clone(),
                    };
                    self.report(Some(record), outcome)
                } else {
                    self.after_failure(token, outcome)
                }
            }
            (State::Reporting, Input::Reported) => {
                self.state = State::Done;
                vec![Action::Cleanup]
            }
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::outcome::Delivery;

    /// Feeds `input` at `now` and collects every action it leads to.
    fn step_at(m: &mut JobMachine, input: Input, now: Instant) -> Vec<Action> {
        m.handle_input(input, now);
        std::iter::from_fn(|| m.poll_action()).collect()
    }

    fn step(m: &mut JobMachine, input: Input) -> Vec<Action> {
        step_at(m, input, T0.with(|t| *t))
    }

    /// Lets the backoff wait run out.
    fn elapse(m: &mut JobMachine) -> Vec<Action> {
        let at = m.poll_timeout().expect("a backoff wait");
        m.handle_timeout(at);
        std::iter::from_fn(|| m.poll_action()).collect()
    }

    thread_local! {
        static T0: Instant = Instant::now();
    }

    fn retry() -> RetryConfig {
        RetryConfig {
            max_attempts: 2,
            backoff_initial_secs: 1,
            ..RetryConfig::default()
        }
    }

    #[test]
    fn success_path() {
        let mut m = JobMachine::new("j", retry());
        assert_eq!(
            step(
                &mut m,
                Input::Leased {
                    record: None,
                    age: Duration::ZERO,
                }
            ),
            vec![Action::PrepareDocument]
        );
        let a = step(&mut m, Input::DocumentReady { pages: 2 });
        assert!(
            matches!(&a[..], [Action::Dial { attempt: 1, token, ecm: None }] if token == "j_1")
        );
        let a = step(
            &mut m,
            Input::CallEnded {
                outcome: CallOutcome::Success(Delivery::default()),
            },
        );
        assert!(matches!(
            &a[..],
            [Action::Report {
                record: Some(CallRecord::Ended { .. }),
                attempts: 1,
                ..
            }]
        ));
        // A second result is ignored.
        assert!(
            step(
                &mut m,
                Input::CallEnded {
                    outcome: CallOutcome::Success(Delivery::default())
                }
            )
            .is_empty()
        );
        assert_eq!(step(&mut m, Input::Reported), vec![Action::Cleanup]);
        assert!(m.is_done());
    }

    #[test]
    fn busy_retries_once_then_reports() {
        let mut m = JobMachine::new("j", retry());
        step(
            &mut m,
            Input::Leased {
                record: None,
                age: Duration::ZERO,
            },
        );
        step(&mut m, Input::DocumentReady { pages: 1 });
        let busy = CallOutcome::failed(FailureClass::Busy, "");
        let a = step(
            &mut m,
            Input::CallEnded {
                outcome: busy.clone(),
            },
        );
        assert!(
            matches!(&a[..], [Action::Backoff { after, .. }] if *after == Duration::from_secs(1))
        );
        let a = elapse(&mut m);
        assert!(matches!(&a[..], [Action::Dial { attempt: 2, token, .. }] if token == "j_2"));
        let a = step(&mut m, Input::CallEnded { outcome: busy });
        assert!(matches!(
            &a[..],
            [Action::Report {
                attempts: 2,
                outcome: CallOutcome::Failed {
                    class: FailureClass::Busy,
                    ..
                },
                ..
            }]
        ));
    }

    #[test]
    fn in_flight_record_is_never_redialled() {
        let mut m = JobMachine::new("j", retry());
        let a = step(
            &mut m,
            Input::Leased {
                age: Duration::ZERO,
                record: Some(CallRecord::InFlight {
                    attempt: 1,
                    token: "j_1".into(),
                }),
            },
        );
        assert!(matches!(
            &a[..],
            [Action::Report {
                outcome: CallOutcome::Failed {
                    class: FailureClass::Unknown,
                    ..
                },
                ..
            }]
        ));
    }

    #[test]
    fn ended_record_reports_or_continues_the_retry_policy() {
        let mut m = JobMachine::new("j", retry());
        let a = step(
            &mut m,
            Input::Leased {
                age: Duration::ZERO,
                record: Some(CallRecord::Ended {
                    attempt: 1,
                    token: "j_1".into(),
                    outcome: CallOutcome::Success(Delivery::default()),
                }),
            },
        );
        assert!(matches!(
            &a[..],
            [Action::Report {
                outcome: CallOutcome::Success(_),
                ..
            }]
        ));
        let mut m = JobMachine::new("j", retry());
        let a = step(
            &mut m,
            Input::Leased {
                age: Duration::ZERO,
                record: Some(CallRecord::Ended {
                    attempt: 1,
                    token: "j_1".into(),
                    outcome: CallOutcome::failed(FailureClass::Busy, ""),
                }),
            },
        );
        // Restarted at once: the rest of the 1 s backoff is waited first.
        assert!(
            matches!(&a[..], [Action::Backoff { after, .. }] if *after == Duration::from_secs(1)),
            "{a:?}"
        );
        let a = elapse(&mut m);
        assert_eq!(a, vec![Action::PrepareDocument]);
        let a = step(&mut m, Input::DocumentReady { pages: 1 });
        assert!(matches!(&a[..], [Action::Dial { attempt: 2, .. }]));
        // Restarted after the backoff ran out: straight on.
        let mut m = JobMachine::new("j", retry());
        let a = step(
            &mut m,
            Input::Leased {
                age: Duration::from_secs(5),
                record: Some(CallRecord::Ended {
                    attempt: 1,
                    token: "j_1".into(),
                    outcome: CallOutcome::failed(FailureClass::Busy, ""),
                }),
            },
        );
        assert_eq!(a, vec![Action::PrepareDocument]);
    }

    #[test]
    fn document_failure_is_reported() {
        let mut m = JobMachine::new("j", retry());
        step(
            &mut m,
            Input::Leased {
                record: None,
                age: Duration::ZERO,
            },
        );
        let a = step(
            &mut m,
            Input::DocumentFailed {
                error: "not a PDF".into(),
            },
        );
        assert!(matches!(
            &a[..],
            [Action::Report {
                outcome: CallOutcome::Failed {
                    class: FailureClass::Document,
                    ..
                },
                ..
            }]
        ));
    }

    #[test]
    fn the_backoff_wait_is_a_timeout_that_shutdown_cuts_short() {
        let t0 = Instant::now();
        let mut m = JobMachine::new("j", retry());
        step_at(
            &mut m,
            Input::Leased {
                record: None,
                age: Duration::ZERO,
            },
            t0,
        );
        assert_eq!(m.poll_timeout(), None);
        step_at(&mut m, Input::DocumentReady { pages: 1 }, t0);
        let busy = CallOutcome::failed(FailureClass::Busy, "");
        let a = step_at(&mut m, Input::CallEnded { outcome: busy }, t0);
        assert!(matches!(&a[..], [Action::Backoff { .. }]), "{a:?}");
        assert_eq!(m.poll_timeout(), Some(t0 + Duration::from_secs(1)));
        // Too early: nothing happens.
        m.handle_timeout(t0 + Duration::from_millis(500));
        assert_eq!(m.poll_action(), None);
        // Shutdown ends the wait at once; the next attempt meets the shutdown in the shell.
        let a = step_at(&mut m, Input::Stopping, t0 + Duration::from_millis(600));
        assert!(matches!(&a[..], [Action::Dial { attempt: 2, .. }]), "{a:?}");
        assert_eq!(m.poll_timeout(), None);
        // Outside a wait, shutdown changes nothing.
        assert!(step_at(&mut m, Input::Stopping, t0).is_empty());
    }

    /// The `unplaced` a job machine reports after the given attempts' outcomes.
    fn reported_unplaced(m: &mut JobMachine, outcomes: &[CallOutcome]) -> bool {
        let mut last = Vec::new();
        for outcome in outcomes {
            last = step(
                m,
                Input::CallEnded {
                    outcome: outcome.clone(),
                },
            );
            if matches!(&last[..], [Action::Backoff { .. }]) {
                last = elapse(m);
            }
        }
        match &last[..] {
            [Action::Report { unplaced, .. }] => *unplaced,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn only_a_job_no_attempt_of_which_connected_is_reported_unplaced() {
        let no_channel = CallOutcome::failed(FailureClass::ChannelUnavailable, "SIP 503");
        let cut = CallOutcome::Failed {
            class: FailureClass::TransferFailed,
            detail: "the far end hung up during the fax".into(),
            pages: None,
            unplaced: false,
        };
        let mut cfg = retry();
        cfg.retry_on
            .push(crate::config::RetryReason::TransferFailed);
        let start = |cfg: &RetryConfig| {
            let mut m = JobMachine::new("j", cfg.clone());
            step(
                &mut m,
                Input::Leased {
                    record: None,
                    age: Duration::ZERO,
                },
            );
            step(&mut m, Input::DocumentReady { pages: 1 });
            m
        };
        // Twice no channel: nothing can have reached the far end.
        assert!(reported_unplaced(
            &mut start(&cfg),
            &[no_channel.clone(), no_channel.clone()]
        ));
        // A call cut during the fax, then no channel: the first may have delivered pages.
        assert!(!reported_unplaced(
            &mut start(&cfg),
            &[cut.clone(), no_channel.clone()]
        ));
        // A call cut during the fax that is not retried.
        assert!(!reported_unplaced(&mut start(&retry()), &[cut]));
        // Pages went before the failure, whatever the line said.
        let with_pages = CallOutcome::Failed {
            class: FailureClass::Congestion,
            detail: String::new(),
            pages: Some(1),
            unplaced: true,
        };
        assert!(!with_pages.unplaced());
        // Busy means the far end answered the signalling, never "unplaced"; outcome unknown neither.
        assert!(!CallOutcome::failed(FailureClass::Busy, "").unplaced());
        assert!(!CallOutcome::failed(FailureClass::Unknown, "").unplaced());
        assert!(CallOutcome::failed(FailureClass::Congestion, "").unplaced());
    }

    #[test]
    fn a_journal_that_knows_only_a_later_attempt_never_says_unplaced() {
        let no_channel = CallOutcome::failed(FailureClass::ChannelUnavailable, "SIP 503");
        let cfg = RetryConfig {
            max_attempts: 2,
            ..RetryConfig::default()
        };
        for (attempt, expected) in [(1, true), (2, false)] {
            let mut m = JobMachine::new("j", cfg.clone());
            let a = step(
                &mut m,
                Input::Leased {
                    record: Some(CallRecord::Ended {
                        attempt,
                        token: JobMachine::token("j", attempt),
                        outcome: no_channel.clone(),
                    }),
                    // Written long ago: the backoff wait is over.
                    age: Duration::from_secs(86_400),
                },
            );
            let a = if attempt == 1 {
                // Attempt 1 of 2 failed retryably: the agent goes on with attempt 2, which fails the same way.
                assert!(matches!(&a[..], [Action::PrepareDocument]), "{a:?}");
                step(&mut m, Input::DocumentReady { pages: 1 });
                step(
                    &mut m,
                    Input::CallEnded {
                        outcome: no_channel.clone(),
                    },
                )
            } else {
                a
            };
            assert!(
                matches!(&a[..], [Action::Report { unplaced, .. }] if *unplaced == expected),
                "attempt {attempt}: {a:?}"
            );
        }
    }
}
