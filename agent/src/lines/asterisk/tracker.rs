//! One outbound call on Asterisk, followed from AMI events (sans-IO).
//!
//! The tracker is fed the events of the AMI connection (all of them; it picks its own), connection changes,
//! the answer to a channel check, and the time, and it yields exactly one [`CallOutcome`]. Later input is
//! ignored, so a duplicated result event cannot change or repeat a result. It follows the agent's convention for
//! state machines (see [`crate::engine::job`]): `handle_event` / `handle_signal` / `handle_timeout` in,
//! `poll_step` and `poll_timeout` out, the time always passed in.
//!
//! Correlation: the Originate carries `ChannelId = token`, so the `;1` half of the Local channel has
//! `Uniqueid = token` and every channel of the call has `Linkedid = token`; the dialplan's result event
//! carries `JobID = token`; the `OriginateResponse` carries our ActionID.
//!
//! Exactly one result per call: the first *complete* result event wins and everything after it is ignored (a later
//! empty one can never overwrite a SUCCESS). The `;2` half's dial result for an answered call is not complete —
//! the channel that ran SendFAX reports the fax ([`FaxResultEvent::is_complete`]) — so it is kept only as the
//! explanation if the fax result never comes.
//!
//! Every path ends: a failed `OriginateResponse` (busy, no answer, congestion, channel unavailable), the result
//! event, a hangup with no result within the grace period ("no fax result"), the AMI connection lost and the
//! call gone after reconnecting, or not restored in time (outcome unknown), or the overall deadline.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use faxline_ami::Event;
use faxline_ami::event::{EventKind, OriginateReason};

use super::dialplan::{Direction, FaxMode, FaxResultEvent, FaxStatus, RESULT_EVENT};
use crate::engine::outcome::{CallOutcome, Delivery, FailureClass};

/// Timing of a tracked call.
#[derive(Debug, Clone, Copy)]
pub struct CallTimers {
    /// After the call's channels hang up, how long to wait for the result event.
    pub result_grace: Duration,
    /// How long the AMI connection may stay lost before the call is given up as unknown.
    pub lost_timeout: Duration,
    /// The whole call, from Originate to result.
    pub deadline: Duration,
}

/// Input besides AMI events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// The AMI connection dropped: events may be missed from now on.
    Disconnected,
    /// Logged in again (a new session): events in between are lost.
    Reconnected,
    /// Result of a channel check: whether any channel of the call still exists.
    ChannelCheck { alive: bool },
    /// Originate was refused by Asterisk (`Response: Error`) or could not be sent.
    OriginateFailed,
    /// The agent is shutting down and its grace period is over: the call must end now. The tracker asks for a
    /// hang-up ([`Step::Abort`]) and keeps following the call for the result its fax channel still reports.
    Shutdown,
}

/// What the IO shell must do for the tracker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Ask Asterisk whether a channel with this Linkedid/Uniqueid still exists, then feed [`Signal::ChannelCheck`].
    CheckChannel,
    /// The deadline passed: hang the call up (by channel name when known); `outcome` is final.
    Hangup {
        channel: Option<String>,
        outcome: CallOutcome,
    },
    /// Hang the call up now (by channel name when known) and keep feeding events: the fax channel's hangup handler
    /// still reports what went through, and the tracker ends within the result grace period.
    Abort { channel: Option<String> },
    /// The fax moved to a new phase (Asterisk's `FAXStatus` text, e.g. `T.38 Negotiated`): worth a progress
    /// report. Given once per change; the shell throttles the reports.
    Progress(String),
    /// The definite outcome (given once).
    Done(CallOutcome),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Phase {
    /// Originate sent, no OriginateResponse yet.
    Originating,
    /// Answered (for the Local channel: the dialplan runs).
    InCall,
    /// A channel of the call hung up at `since`; waiting for the result event.
    HungUp {
        since: Instant,
        cause: String,
    },
    /// The connection is lost since `since`.
    Lost {
        since: Instant,
    },
    /// Reconnected, a channel check is outstanding.
    Checking {
        since: Instant,
    },
    Finished,
}

/// Follows one call. See the module documentation.
#[derive(Debug)]
pub struct CallTracker {
    token: String,
    action_id: Option<String>,
    channel: Option<String>,
    timers: CallTimers,
    started: Instant,
    phase: Phase,
    /// The phase before the connection was lost, restored when the call is found alive.
    before_loss: Option<Box<Phase>>,
    /// The last `FAXStatus` of the send.
    fax_stage: Option<String>,
    /// An incomplete result (the dial side of an answered call), while the fax channel's result is awaited.
    pending: Option<FaxResultEvent>,
    /// When the agent hung the call up at shutdown: a failure after it is the shutdown's, not the line's.
    aborted: Option<Instant>,
    /// Steps not yet polled.
    steps: VecDeque<Step>,
}

impl CallTracker {
    pub fn new(token: impl Into<String>, timers: CallTimers, now: Instant) -> Self {
        Self {
            token: token.into(),
            action_id: None,
            channel: None,
            timers,
            started: now,
            phase: Phase::Originating,
            before_loss: None,
            fax_stage: None,
            pending: None,
            aborted: None,
            steps: VecDeque::new(),
        }
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    /// The Originate's ActionID (known once Asterisk queued it).
    pub fn set_action_id(&mut self, id: impl Into<String>) {
        self.action_id = Some(id.into());
    }

    /// The last fax phase Asterisk reported for this call (`FAXStatus`), if any.
    pub fn fax_stage(&self) -> Option<&str> {
        self.fax_stage.as_deref()
    }

    pub fn is_finished(&self) -> bool {
        self.phase == Phase::Finished
    }

    fn finish(&mut self, outcome: CallOutcome) -> Option<Step> {
        self.phase = Phase::Finished;
        let outcome = match outcome {
            // We hung up: whatever failed after that failed because of it, so the job goes back to the queue
            // (a success that completed before the hang-up stays a success; an unknown outcome stays unknown).
            CallOutcome::Failed {
                class,
                detail,
                pages,
                ..
            } if self.aborted.is_some() && class != FailureClass::Unknown => CallOutcome::Failed {
                class: FailureClass::Shutdown,
                detail: format!(
                    "the call was hung up at the end of the shutdown grace period ({detail})"
                ),
                pages,
                unplaced: false,
            },
            other => other,
        };
        Some(Step::Done(outcome))
    }

    /// Whether an event belongs to this call.
    pub fn concerns(&self, event: &Event) -> bool {
        let m = event.message();
        if let EventKind::UserEvent(u) = event.kind()
            && u.name.eq_ignore_ascii_case(RESULT_EVENT)
        {
            return FaxResultEvent::from_headers(m.headers())
                .is_ok_and(|r| r.direction == Direction::Send && r.job_id == self.token);
        }
        m.get("Uniqueid") == Some(self.token.as_str())
            || m.get("Linkedid") == Some(self.token.as_str())
            || (self.action_id.is_some() && event.action_id() == self.action_id.as_deref())
    }

    /// Feeds one AMI event (events of other calls are ignored); what it leads to comes out of
    /// [`CallTracker::poll_step`].
    pub fn handle_event(&mut self, event: &Event, now: Instant) {
        let step = self.step_event(event, now);
        self.steps.extend(step);
    }

    /// Feeds a connection change, a check answer, a refused Originate or the shutdown.
    pub fn handle_signal(&mut self, signal: Signal, now: Instant) {
        let step = self.step_signal(signal, now);
        self.steps.extend(step);
    }

    /// Time passed: the result grace, the lost-connection timeout and the call's deadline are judged at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if !self.is_finished() {
            let step = self.step_timeout(now);
            self.steps.extend(step);
        }
    }

    /// The next thing the shell must do, in order; `None` while the tracker waits.
    pub fn poll_step(&mut self) -> Option<Step> {
        self.steps.pop_front()
    }

    /// When the tracker wants [`CallTracker::handle_timeout`] next: the earliest of the call's deadline, the end
    /// of the result grace (after a hang-up, ours at shutdown included) and the lost-connection timeout.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.is_finished() {
            return None;
        }
        let lost = matches!(self.phase, Phase::Lost { .. } | Phase::Checking { .. });
        let aborted = self
            .aborted
            .filter(|_| !lost)
            .map(|at| at + self.timers.result_grace);
        let phase = match &self.phase {
            Phase::HungUp { since, .. } => Some(*since + self.timers.result_grace),
            Phase::Lost { since } | Phase::Checking { since } => {
                Some(*since + self.timers.lost_timeout)
            }
            _ => None,
        };
        [Some(self.started + self.timers.deadline), aborted, phase]
            .into_iter()
            .flatten()
            .min()
    }

    fn step_event(&mut self, event: &Event, now: Instant) -> Option<Step> {
        if self.is_finished() || !self.concerns(event) {
            return None;
        }
        match event.kind() {
            EventKind::OriginateResponse(r) => {
                if !r.channel.is_empty() {
                    self.channel = Some(r.channel.clone());
                }
                if r.success {
                    if self.phase == Phase::Originating {
                        self.phase = Phase::InCall;
                    }
                    None
                } else {
                    let (class, why) = match r.reason {
                        OriginateReason::Busy => {
                            (FailureClass::Busy, "the far end is busy".to_owned())
                        }
                        OriginateReason::NoAnswer => (
                            FailureClass::NoAnswer,
                            "no answer before the ring timeout".to_owned(),
                        ),
                        OriginateReason::Congestion => (
                            FailureClass::Congestion,
                            "the network is congested".to_owned(),
                        ),
                        OriginateReason::Failure => (
                            FailureClass::ChannelUnavailable,
                            "the channel could not be created (OriginateResponse reason 0)"
                                .to_owned(),
                        ),
                        OriginateReason::Hangup => (
                            FailureClass::ChannelUnavailable,
                            "the call was hung up before it was answered (reason 1)".to_owned(),
                        ),
                        OriginateReason::Answered => (
                            FailureClass::ChannelUnavailable,
                            "Originate failed after answer".to_owned(),
                        ),
                        OriginateReason::Other(c) => (
                            FailureClass::ChannelUnavailable,
                            format!("Originate failed (reason {c})"),
                        ),
                    };
                    self.finish(CallOutcome::failed(class, why))
                }
            }
            EventKind::UserEvent(_) => {
                match FaxResultEvent::from_headers(event.message().headers()) {
                    Ok(result) if result.is_complete() => {
                        let outcome = outcome_of(&result);
                        self.finish(outcome)
                    }
                    Ok(result) => {
                        // The dial side of an answered call: its channel is ending, the fax channel's result
                        // follows. Wait for it as after a hangup.
                        if matches!(self.phase, Phase::Originating | Phase::InCall) {
                            let cause = result
                                .hangup_cause
                                .map_or_else(|| "no cause".to_owned(), |c| format!("cause {c}"));
                            self.phase = Phase::HungUp { since: now, cause };
                        }
                        self.pending = Some(result);
                        None
                    }
                    Err(_) => None,
                }
            }
            EventKind::Hangup(h) => {
                if matches!(self.phase, Phase::Originating | Phase::InCall) {
                    let cause = match h.cause {
                        Some(c) => format!("cause {c} {}", h.cause_txt),
                        None => "no cause".to_owned(),
                    };
                    self.phase = Phase::HungUp {
                        since: now,
                        cause: cause.trim().to_owned(),
                    };
                }
                None
            }
            // Progress of SendFAX on a channel of this call (events need `statusevents=yes` or option `s`).
            EventKind::FaxStatus(f)
                if f.operation.eq_ignore_ascii_case("send")
                    && !f.status.trim().is_empty()
                    && self.fax_stage.as_deref() != Some(f.status.trim()) =>
            {
                let stage = f.status.trim().to_owned();
                self.fax_stage = Some(stage.clone());
                Some(Step::Progress(stage))
            }
            EventKind::Newchannel(c) if c.uniqueid == self.token => {
                self.channel = Some(c.channel.clone());
                None
            }
            _ => None,
        }
    }

    fn step_signal(&mut self, signal: Signal, now: Instant) -> Option<Step> {
        if self.is_finished() {
            return None;
        }
        match signal {
            Signal::OriginateFailed => self.finish(CallOutcome::failed(
                FailureClass::ChannelUnavailable,
                "Asterisk refused the Originate",
            )),
            Signal::Disconnected => {
                if !matches!(self.phase, Phase::Lost { .. }) {
                    let prev = std::mem::replace(&mut self.phase, Phase::Lost { since: now });
                    if !matches!(prev, Phase::Checking { .. }) {
                        self.before_loss = Some(Box::new(prev));
                    }
                }
                None
            }
            Signal::Reconnected => {
                if let Phase::Lost { since } = self.phase {
                    self.phase = Phase::Checking { since };
                    Some(Step::CheckChannel)
                } else {
                    None
                }
            }
            Signal::ChannelCheck { alive } => {
                if !matches!(self.phase, Phase::Checking { .. }) {
                    return None;
                }
                if alive {
                    // Still running: its result event will come on this session.
                    self.phase = self.before_loss.take().map_or(Phase::InCall, |p| *p);
                    None
                } else {
                    self.finish(CallOutcome::failed(
                        FailureClass::Unknown,
                        "the AMI connection was lost during the call and the call had ended when it came back; \
                         its result was missed, so the fax is not redialled (it may have been delivered)",
                    ))
                }
            }
            Signal::Shutdown => {
                if self.aborted.is_some() {
                    return None;
                }
                if matches!(self.phase, Phase::Lost { .. } | Phase::Checking { .. }) {
                    // Nothing can be hung up or heard without AMI: the call may still deliver.
                    return self.finish(CallOutcome::failed(
                        FailureClass::Unknown,
                        "the agent shut down while the AMI connection was lost during the call; the outcome is \
                         unknown, so the fax is not redialled",
                    ));
                }
                self.aborted = Some(now);
                Some(Step::Abort {
                    channel: self.channel.clone(),
                })
            }
        }
    }

    fn step_timeout(&mut self, now: Instant) -> Option<Step> {
        if let Some(at) = self.aborted
            && now >= at + self.timers.result_grace
            && !matches!(self.phase, Phase::Lost { .. } | Phase::Checking { .. })
        {
            let detail = format!(
                "no {RESULT_EVENT} event within {} s after the hang-up",
                self.timers.result_grace.as_secs()
            );
            return self.finish(CallOutcome::failed(FailureClass::NoResult, detail));
        }
        match &self.phase {
            Phase::HungUp { since, cause } if now >= *since + self.timers.result_grace => {
                let detail = if self.pending.is_some() {
                    format!(
                        "the call was answered and ended ({cause}), but the fax channel's {RESULT_EVENT} event did \
                         not arrive within {} s; the fax may have been delivered, so it is not redialled",
                        self.timers.result_grace.as_secs()
                    )
                } else {
                    format!(
                        "the call ended ({cause}) without a {RESULT_EVENT} event within {} s",
                        self.timers.result_grace.as_secs()
                    )
                };
                return self.finish(CallOutcome::failed(FailureClass::NoResult, detail));
            }
            Phase::Lost { since } | Phase::Checking { since }
                if now >= *since + self.timers.lost_timeout =>
            {
                let detail = format!(
                    "the AMI connection was lost during the call and not restored within {} s; the outcome is \
                     unknown, so the fax is not redialled",
                    self.timers.lost_timeout.as_secs()
                );
                return self.finish(CallOutcome::failed(FailureClass::Unknown, detail));
            }
            _ => {}
        }
        if now >= self.started + self.timers.deadline {
            let channel = self.channel.clone();
            let detail = format!(
                "no result within {} s; the call was hung up",
                self.timers.deadline.as_secs()
            );
            self.phase = Phase::Finished;
            return Some(Step::Hangup {
                channel,
                outcome: CallOutcome::failed(FailureClass::Timeout, detail),
            });
        }
        None
    }
}

/// Maps the dialplan's result to an outcome.
pub fn outcome_of(r: &FaxResultEvent) -> CallOutcome {
    if r.status == FaxStatus::Success {
        return CallOutcome::Success(Delivery {
            pages: r.pages,
            bitrate: r.bitrate,
            mode: r.mode.as_ref().map(|m| match m {
                FaxMode::T38 => "T38".to_owned(),
                FaxMode::Audio => "audio".to_owned(),
                FaxMode::Other(o) => o.clone(),
            }),
            remote_id: r.remote_station_id.clone(),
            provider_sid: None,
        });
    }
    let cause = r
        .hangup_cause
        .map(|c| format!(", hangup cause {c}"))
        .unwrap_or_default();
    if let Some(pre) = &r.pre_error {
        return CallOutcome::failed(
            FailureClass::Rejected,
            format!("the dialplan refused the attempt ({pre})"),
        );
    }
    let dial = r.dial_status.as_deref().unwrap_or("").to_ascii_uppercase();
    // For a call that was not answered, the Q.850 cause says more than CHANUNAVAIL or CONGESTION (a SIP 404 is
    // cause 1, "unallocated number", and no retry can help).
    let by_cause = r
        .hangup_cause
        .and_then(crate::lines::q850::meaning)
        .filter(|_| !dial.is_empty() && dial != "ANSWER");
    let (class, what) = match dial.as_str() {
        "BUSY" => (FailureClass::Busy, "the far end is busy".to_owned()),
        "NOANSWER" => (
            FailureClass::NoAnswer,
            "no answer before the ring timeout".to_owned(),
        ),
        _ if by_cause.is_some() => {
            let m = by_cause.expect("checked");
            (m.class, m.text.to_owned())
        }
        "CONGESTION" => (
            FailureClass::Congestion,
            "the network is congested".to_owned(),
        ),
        "CHANUNAVAIL" => (
            FailureClass::ChannelUnavailable,
            "the trunk could not place the call".to_owned(),
        ),
        "CANCEL" | "DONTCALL" | "TORTURE" | "INVALIDARGS" => {
            (FailureClass::Rejected, format!("Dial ended with {dial}"))
        }
        _ => {
            let error = r.error.as_deref().unwrap_or("");
            let text = r.status_string.as_deref().unwrap_or("");
            let class = if error == "FILE_ERROR" {
                FailureClass::FileUnreadable
            } else if error.contains("T38") || error.contains("NEG") {
                FailureClass::Negotiation
            } else {
                FailureClass::TransferFailed
            };
            let what = match (error, r.fax_ran()) {
                ("FILE_ERROR", _) => format!(
                    "Asterisk could not read the fax file ({text}); the spool file must be readable by \
                     Asterisk's group"
                ),
                ("", false) => "the call was answered but the fax did not start".to_owned(),
                ("", true) => format!("unknown error {text}").trim().to_owned(),
                _ if text.is_empty() || text == error => error.to_owned(),
                _ => format!("{error} {text}"),
            };
            (class, what)
        }
    };
    let pages = r.pages.filter(|p| *p > 0);
    CallOutcome::Failed {
        class,
        detail: format!("{what}{cause}"),
        // Congestion and no channel come only from a Dial that was never answered (see `by_cause`).
        unplaced: class.never_connects() && pages.is_none() && dial != "ANSWER",
        pages,
    }
}

#[cfg(test)]
mod tests {
    use faxline_ami::Message;

    use super::*;

    const T: &str = "job7_1";

    fn timers() -> CallTimers {
        CallTimers {
            result_grace: Duration::from_secs(2),
            lost_timeout: Duration::from_secs(10),
            deadline: Duration::from_secs(100),
        }
    }

    fn ev(pairs: &[(&str, &str)]) -> Event {
        Event::from_message(Message::from_pairs(pairs.iter().copied())).unwrap()
    }

    fn originate_response(reason: &str, success: bool) -> Event {
        ev(&[
            ("Event", "OriginateResponse"),
            ("ActionID", "a-1"),
            ("Response", if success { "Success" } else { "Failure" }),
            ("Channel", "Local/send@faxline-out-00000001;1"),
            ("Reason", reason),
            ("Uniqueid", T),
        ])
    }

    fn hangup(uniqueid: &str) -> Event {
        ev(&[
            ("Event", "Hangup"),
            ("Channel", "Local/send@faxline-out-00000001;1"),
            ("Uniqueid", uniqueid),
            ("Linkedid", T),
            ("Cause", "16"),
            ("Cause-txt", "Normal Clearing"),
        ])
    }

    fn result(job: &str, status: &str, dial: &str) -> Event {
        ev(&[
            ("Event", "UserEvent"),
            ("Channel", "Local/send@faxline-out-00000001;2"),
            ("Uniqueid", "x.2"),
            ("Linkedid", T),
            ("UserEvent", "FaxResult"),
            ("Encoding", "uri"),
            ("Direction", "send"),
            ("JobID", job),
            ("Status", status),
            ("DialStatus", dial),
            ("Pages", "3"),
            ("Mode", "T38"),
            ("RemoteStationID", "%2B1%20555%200199"),
        ])
    }

    /// Feeds one input and takes what it produced (one step at most per input).
    trait Feed {
        fn event(&mut self, event: &Event, now: Instant) -> Option<Step>;
        fn signal(&mut self, signal: Signal, now: Instant) -> Option<Step>;
        fn tick(&mut self, now: Instant) -> Option<Step>;
    }

    impl Feed for CallTracker {
        fn event(&mut self, event: &Event, now: Instant) -> Option<Step> {
            self.handle_event(event, now);
            let step = self.poll_step();
            assert_eq!(self.poll_step(), None);
            step
        }
        fn signal(&mut self, signal: Signal, now: Instant) -> Option<Step> {
            self.handle_signal(signal, now);
            let step = self.poll_step();
            assert_eq!(self.poll_step(), None);
            step
        }
        fn tick(&mut self, now: Instant) -> Option<Step> {
            self.handle_timeout(now);
            let step = self.poll_step();
            assert_eq!(self.poll_step(), None);
            step
        }
    }

    fn done(step: Option<Step>) -> CallOutcome {
        match step {
            Some(Step::Done(o)) => o,
            other => panic!("expected an outcome, got {other:?}"),
        }
    }

    #[test]
    fn success_then_duplicates_are_ignored() {
        let t0 = Instant::now();
        let mut c = CallTracker::new(T, timers(), t0);
        c.set_action_id("a-1");
        assert_eq!(c.event(&originate_response("4", true), t0), None);
        let o = done(c.event(&result(T, "SUCCESS", "ANSWER"), t0));
        let CallOutcome::Success(d) = o else {
            panic!("{o:?}")
        };
        assert_eq!(d.pages, Some(3));
        assert_eq!(d.remote_id.as_deref(), Some("+1 555 0199"));
        assert_eq!(c.event(&result(T, "FAILED", "BUSY"), t0), None);
        assert_eq!(c.tick(t0 + Duration::from_secs(999)), None);
    }

    #[test]
    fn shutdown_hangs_up_and_keeps_a_success_that_completed() {
        let t0 = Instant::now();
        let mut c = CallTracker::new(T, timers(), t0);
        c.event(&originate_response("4", true), t0);
        assert_eq!(
            c.signal(Signal::Shutdown, t0),
            Some(Step::Abort {
                channel: Some("Local/send@faxline-out-00000001;1".into())
            })
        );
        // Asked once only.
        assert_eq!(c.signal(Signal::Shutdown, t0), None);
        // The fax had finished as the hang-up came: its success stands.
        assert!(done(c.event(&result(T, "SUCCESS", "ANSWER"), t0)).is_success());
    }

    #[test]
    fn shutdown_turns_the_failure_it_caused_into_a_shutdown() {
        let t0 = Instant::now();
        let mut c = CallTracker::new(T, timers(), t0);
        c.event(&originate_response("4", true), t0);
        assert!(matches!(
            c.signal(Signal::Shutdown, t0),
            Some(Step::Abort { .. })
        ));
        c.event(&hangup(T), t0);
        match done(c.event(&result(T, "FAILED", "ANSWER"), t0)) {
            CallOutcome::Failed { class, detail, .. } => {
                assert_eq!(class, FailureClass::Shutdown);
                assert!(detail.contains("shutdown grace period"), "{detail}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn shutdown_without_a_result_ends_within_the_grace() {
        let t0 = Instant::now();
        let mut c = CallTracker::new(T, timers(), t0);
        c.event(&originate_response("4", true), t0);
        c.signal(Signal::Shutdown, t0);
        assert_eq!(c.tick(t0 + Duration::from_secs(1)), None);
        match done(c.tick(t0 + Duration::from_secs(2))) {
            CallOutcome::Failed { class, .. } => assert_eq!(class, FailureClass::Shutdown),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn shutdown_while_ami_is_lost_is_an_unknown_outcome() {
        let t0 = Instant::now();
        let mut c = CallTracker::new(T, timers(), t0);
        c.event(&originate_response("4", true), t0);
        c.signal(Signal::Disconnected, t0);
        match done(c.signal(Signal::Shutdown, t0)) {
            CallOutcome::Failed { class, .. } => assert_eq!(class, FailureClass::Unknown),
            other => panic!("{other:?}"),
        }
    }

    fn sourced(source: &str, fields: &[(&str, &str)]) -> Event {
        let mut h = vec![
            ("Event", "UserEvent"),
            ("Channel", "PJSIP/faxline-trunk-00000002"),
            ("Uniqueid", "x.3"),
            ("Linkedid", T),
            ("UserEvent", "FaxResult"),
            ("Encoding", "uri"),
            ("Direction", "send"),
            ("Source", source),
            ("JobID", T),
        ];
        h.extend_from_slice(fields);
        ev(&h)
    }

    const FAX_OK: &[(&str, &str)] = &[
        ("Status", "SUCCESS"),
        ("Error", "HANGUP"),
        ("StatusString", "OK"),
        ("DialStatus", "ANSWER"),
        ("HangupCause", "16"),
        ("Mode", "T38"),
        ("Pages", "2"),
    ];
    const DIAL_ANSWERED: &[(&str, &str)] = &[
        ("Status", "FAILED"),
        ("DialStatus", "ANSWER"),
        ("HangupCause", "16"),
    ];

    #[test]
    fn the_fax_channels_result_wins_in_either_order() {
        let t0 = Instant::now();
        // The ;2 half's dial result first: not a result for an answered call; the fax result follows.
        let mut c = CallTracker::new(T, timers(), t0);
        c.event(&originate_response("4", true), t0);
        assert_eq!(c.event(&sourced("dial", DIAL_ANSWERED), t0), None);
        assert_eq!(c.event(&hangup(T), t0), None);
        let o = done(c.event(&sourced("fax", FAX_OK), t0 + Duration::from_secs(1)));
        assert!(
            matches!(&o, CallOutcome::Success(d) if d.pages == Some(2)),
            "{o:?}"
        );
        // The fax result first: the later dial result changes nothing.
        let mut c = CallTracker::new(T, timers(), t0);
        assert!(done(c.event(&sourced("fax", FAX_OK), t0)).is_success());
        assert_eq!(c.event(&sourced("dial", DIAL_ANSWERED), t0), None);
        // An older dialplan's empty "answered" result (the lost hand-over) is not taken as a failure either.
        let empty = ev(&[
            ("Event", "UserEvent"),
            ("Linkedid", T),
            ("UserEvent", "FaxResult"),
            ("Encoding", "uri"),
            ("Direction", "send"),
            ("JobID", T),
            ("Status", "FAILED"),
            ("Error", ""),
            ("StatusString", ""),
            ("DialStatus", "ANSWER"),
            ("HangupCause", "16"),
            ("Mode", ""),
            ("Pages", ""),
        ]);
        let mut c = CallTracker::new(T, timers(), t0);
        assert_eq!(c.event(&empty, t0), None);
    }

    #[test]
    fn an_answered_call_without_the_fax_result_is_no_result_never_a_failure_to_redial() {
        let t0 = Instant::now();
        let mut c = CallTracker::new(T, timers(), t0);
        c.event(&originate_response("4", true), t0);
        assert_eq!(c.event(&sourced("dial", DIAL_ANSWERED), t0), None);
        assert_eq!(c.tick(t0 + Duration::from_secs(1)), None);
        let o = done(c.tick(t0 + Duration::from_secs(2)));
        let CallOutcome::Failed { class, detail, .. } = &o else {
            panic!("{o:?}")
        };
        assert_eq!(*class, FailureClass::NoResult);
        assert!(detail.contains("fax channel"), "{detail}");
    }

    #[test]
    fn unanswered_calls_are_classified_by_their_q850_cause() {
        let t0 = Instant::now();
        for (dial, cause, class, text) in [
            (
                "CHANUNAVAIL",
                "1",
                FailureClass::InvalidNumber,
                "invalid number: the number does not exist",
            ),
            (
                "CONGESTION",
                "34",
                FailureClass::Congestion,
                "congestion: no circuit",
            ),
            (
                "CHANUNAVAIL",
                "27",
                FailureClass::ChannelUnavailable,
                "channel unavailable: the destination is out of order",
            ),
            (
                "CHANUNAVAIL",
                "88",
                FailureClass::Incompatible,
                "incompatible destination",
            ),
            ("CHANUNAVAIL", "21", FailureClass::Declined, "call rejected"),
            (
                "CHANUNAVAIL",
                "16",
                FailureClass::ChannelUnavailable,
                "channel unavailable: the trunk could not place",
            ),
            ("BUSY", "17", FailureClass::Busy, "busy"),
        ] {
            let mut c = CallTracker::new(T, timers(), t0);
            let o = done(c.event(
                &sourced(
                    "dial",
                    &[
                        ("Status", "FAILED"),
                        ("DialStatus", dial),
                        ("HangupCause", cause),
                    ],
                ),
                t0,
            ));
            assert!(
                matches!(o, CallOutcome::Failed { class: k, .. } if k == class),
                "{cause}: {o:?}"
            );
            let text_out = o.error_text().unwrap();
            assert!(text_out.starts_with(text), "{text_out}");
            assert!(
                text_out.ends_with(&format!("hangup cause {cause}")),
                "{text_out}"
            );
        }
        // SendFAX could not read the file: a spool problem, never retried.
        let mut c = CallTracker::new(T, timers(), t0);
        let o = done(c.event(
            &sourced(
                "fax",
                &[
                    ("Status", "FAILED"),
                    ("Error", "FILE_ERROR"),
                    ("StatusString", "error%20reading%20file"),
                    ("Mode", "audio"),
                    ("Pages", "0"),
                ],
            ),
            t0,
        ));
        assert!(
            matches!(
                o,
                CallOutcome::Failed {
                    class: FailureClass::FileUnreadable,
                    ..
                }
            ),
            "{o:?}"
        );
    }

    #[test]
    fn other_calls_events_are_not_ours() {
        let t0 = Instant::now();
        let mut c = CallTracker::new(T, timers(), t0);
        assert_eq!(c.event(&result("job8_1", "SUCCESS", "ANSWER"), t0), None);
        assert_eq!(c.event(&hangup("other"), t0), None);
        assert!(!c.is_finished());
    }

    #[test]
    fn originate_response_codes() {
        for (code, class) in [
            ("5", FailureClass::Busy),
            ("3", FailureClass::NoAnswer),
            ("8", FailureClass::Congestion),
            ("0", FailureClass::ChannelUnavailable),
            ("1", FailureClass::ChannelUnavailable),
        ] {
            let t0 = Instant::now();
            let mut c = CallTracker::new(T, timers(), t0);
            let o = done(c.event(&originate_response(code, false), t0));
            assert!(
                matches!(o, CallOutcome::Failed { class: k, .. } if k == class),
                "{code}: {o:?}"
            );
        }
    }

    #[test]
    fn dial_status_in_the_result() {
        for (dial, class) in [
            ("BUSY", FailureClass::Busy),
            ("NOANSWER", FailureClass::NoAnswer),
            ("CONGESTION", FailureClass::Congestion),
            ("CHANUNAVAIL", FailureClass::ChannelUnavailable),
            ("ANSWER", FailureClass::TransferFailed),
        ] {
            let t0 = Instant::now();
            let mut c = CallTracker::new(T, timers(), t0);
            let o = done(c.event(&result(T, "FAILED", dial), t0));
            assert!(
                matches!(o, CallOutcome::Failed { class: k, .. } if k == class),
                "{dial}: {o:?}"
            );
        }
    }

    #[test]
    fn hangup_without_result_is_no_fax_result_after_the_grace() {
        let t0 = Instant::now();
        let mut c = CallTracker::new(T, timers(), t0);
        c.event(&originate_response("4", true), t0);
        assert_eq!(c.event(&hangup(T), t0), None);
        assert_eq!(c.tick(t0 + Duration::from_secs(1)), None);
        // The result still counts inside the grace period...
        let mut late = CallTracker::new(T, timers(), t0);
        late.event(&hangup(T), t0);
        assert!(done(late.event(&result(T, "SUCCESS", "ANSWER"), t0)).is_success());
        // ...and after it, the job fails explained.
        let o = done(c.tick(t0 + Duration::from_secs(2)));
        assert!(matches!(
            o,
            CallOutcome::Failed {
                class: FailureClass::NoResult,
                ..
            }
        ));
        assert!(o.error_text().unwrap().contains("cause 16"));
    }

    #[test]
    fn lost_connection_checks_after_reconnect() {
        let t0 = Instant::now();
        let mut c = CallTracker::new(T, timers(), t0);
        c.event(&originate_response("4", true), t0);
        assert_eq!(c.signal(Signal::Disconnected, t0), None);
        assert_eq!(c.signal(Signal::Reconnected, t0), Some(Step::CheckChannel));
        // Still alive: back to waiting for its result.
        assert_eq!(c.signal(Signal::ChannelCheck { alive: true }, t0), None);
        assert!(done(c.event(&result(T, "SUCCESS", "ANSWER"), t0)).is_success());
        // Gone: unknown, never a retry class.
        let mut c = CallTracker::new(T, timers(), t0);
        c.signal(Signal::Disconnected, t0);
        c.signal(Signal::Reconnected, t0);
        let o = done(c.signal(Signal::ChannelCheck { alive: false }, t0));
        assert!(matches!(
            o,
            CallOutcome::Failed {
                class: FailureClass::Unknown,
                ..
            }
        ));
        // Never restored: unknown after the timeout.
        let mut c = CallTracker::new(T, timers(), t0);
        c.signal(Signal::Disconnected, t0);
        assert_eq!(c.tick(t0 + Duration::from_secs(9)), None);
        let o = done(c.tick(t0 + Duration::from_secs(10)));
        assert!(matches!(
            o,
            CallOutcome::Failed {
                class: FailureClass::Unknown,
                ..
            }
        ));
    }

    fn fax_status(operation: &str, status: &str, linkedid: &str) -> Event {
        ev(&[
            ("Event", "FAXStatus"),
            ("Privilege", "call,all"),
            ("Channel", "PJSIP/faxline-trunk-00000003"),
            ("ChannelState", "6"),
            ("ChannelStateDesc", "Up"),
            ("Context", "faxline-out"),
            ("Exten", "s"),
            ("Priority", "7"),
            ("Uniqueid", "1795349058.2"),
            ("Linkedid", linkedid),
            ("Operation", operation),
            ("Status", status),
            ("LocalStationID", "+1 555 0100"),
            ("FileName", "/var/spool/faxline/out/job7_1.tif"),
        ])
    }

    #[test]
    fn fax_status_events_become_progress_once_per_change() {
        let t0 = Instant::now();
        let mut c = CallTracker::new(T, timers(), t0);
        c.event(&originate_response("4", true), t0);
        // The order Asterisk 20 raises them in (fixtures/captures/t38_fax_loopback_ami_transcript.txt).
        assert_eq!(
            c.event(&fax_status("send", "T.38 Negotiated", T), t0),
            Some(Step::Progress("T.38 Negotiated".into()))
        );
        assert_eq!(c.event(&fax_status("send", "T.38 Negotiated", T), t0), None);
        assert_eq!(
            c.event(&fax_status("send", "Allocating Resources", T), t0),
            Some(Step::Progress("Allocating Resources".into()))
        );
        assert_eq!(
            c.event(&fax_status("send", "FAX Transmission In Progress", T), t0),
            Some(Step::Progress("FAX Transmission In Progress".into()))
        );
        // Other calls' and receive-side events are not ours.
        assert_eq!(c.event(&fax_status("send", "SUCCESS", "other.1"), t0), None);
        assert_eq!(
            c.event(&fax_status("receive", "Allocating Resources", T), t0),
            None
        );
        assert_eq!(c.fax_stage(), Some("FAX Transmission In Progress"));
        // Progress never ends the call; the result does.
        assert!(!c.is_finished());
        assert!(done(c.event(&result(T, "SUCCESS", "ANSWER"), t0)).is_success());
        assert_eq!(c.event(&fax_status("send", "Late", T), t0), None);
    }

    #[test]
    fn deadline_hangs_up_by_channel_name() {
        let t0 = Instant::now();
        let mut c = CallTracker::new(T, timers(), t0);
        c.event(&originate_response("4", true), t0);
        match c.tick(t0 + Duration::from_secs(100)) {
            Some(Step::Hangup { channel, outcome }) => {
                assert_eq!(
                    channel.as_deref(),
                    Some("Local/send@faxline-out-00000001;1")
                );
                assert!(matches!(
                    outcome,
                    CallOutcome::Failed {
                        class: FailureClass::Timeout,
                        ..
                    }
                ));
            }
            other => panic!("{other:?}"),
        }
        assert!(c.is_finished());
    }

    #[test]
    fn poll_timeout_names_the_next_moment_that_matters() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let mut c = CallTracker::new(T, timers(), t0);
        // Only the call's deadline at first.
        assert_eq!(c.poll_timeout(), Some(t0 + s(100)));
        c.handle_event(&originate_response("4", true), t0);
        // After a hang-up: the result grace.
        c.handle_event(&hangup(T), t0 + s(5));
        assert_eq!(c.poll_timeout(), Some(t0 + s(7)));
        // Woken early, nothing happens; woken on time, the call ends.
        c.handle_timeout(t0 + s(6));
        assert_eq!(c.poll_step(), None);
        c.handle_timeout(t0 + s(7));
        assert!(matches!(c.poll_step(), Some(Step::Done(_))));
        assert_eq!(c.poll_timeout(), None);
        // A lost connection: its timeout.
        let mut c = CallTracker::new(T, timers(), t0);
        c.handle_signal(Signal::Disconnected, t0 + s(1));
        assert_eq!(c.poll_timeout(), Some(t0 + s(11)));
    }
}
