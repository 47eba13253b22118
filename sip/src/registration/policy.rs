//! The registration policy as a plain state machine: fed REGISTER results and time, it says
//! when to send the next REGISTER and with which expiry.
//!
//! - Refresh at 75 % of the expiry the registrar granted (RFC 3261 §10.2.4: it may grant less
//!   than asked), never sooner than 1 s, so the binding never lapses while we are up.
//! - After a failure (non-2xx, timeout), retry after 1 s, doubling per consecutive failure up to
//!   60 s.
//! - 423 Interval Too Brief: ask again at once for the registrar's `Min-Expires` (RFC 3261
//!   §10.2.8), which then stays our request.
//! - On shutdown, unregister (`Expires: 0`) if a binding may exist, then stop; the shell waits for
//!   that REGISTER before closing the endpoint.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// What the shell must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegisterAction {
    /// Send REGISTER asking for `expires` seconds (0 = unregister).
    Register {
        /// Requested binding lifetime in seconds.
        expires: u32,
    },
    /// Nothing more will be sent.
    Stopped,
}

/// The result of one REGISTER transaction (after any digest challenge).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegisterInput {
    /// 2xx; the registrar granted `granted` seconds (0 after an unregister).
    Registered {
        /// Granted expiry in seconds.
        granted: u32,
    },
    /// A final non-2xx (e.g. 403 after a failed challenge).
    Rejected(u16),
    /// 423 Interval Too Brief, with the registrar's `Min-Expires` when it sent one.
    IntervalTooBrief {
        /// The shortest expiry the registrar accepts.
        min_expires: Option<u32>,
    },
    /// No response (transaction timeout, transport error).
    Failed,
}

/// Where the registration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegisterState {
    /// Not started.
    Idle,
    /// A REGISTER is outstanding.
    Registering,
    /// Bound; the refresh timer runs.
    Registered,
    /// The last attempt failed; the retry timer runs.
    Retrying,
    /// The unregister is outstanding.
    Unregistering,
    /// Done.
    Stopped,
}

/// What happened, for logs and the operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistrationEvent {
    /// Bound for this many seconds.
    Registered {
        /// Granted expiry in seconds.
        granted: u32,
    },
    /// An attempt failed (status code, or `None` for no response); a retry follows.
    Failed {
        /// The final status, if any arrived.
        code: Option<u16>,
    },
    /// The binding was removed (or never existed) and the client stopped.
    Unregistered,
}

/// The registration policy of one trunk.
#[derive(Debug)]
pub struct RegisterPolicy {
    expires: u32,
    state: RegisterState,
    timer: Option<Instant>,
    failures: u32,
    /// A binding may exist at the registrar (a 2xx was seen, or a REGISTER is in flight).
    maybe_bound: bool,
    stopping: bool,
    actions: VecDeque<RegisterAction>,
    events: VecDeque<RegistrationEvent>,
}

const MIN_REFRESH: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(60);

impl RegisterPolicy {
    /// A policy asking for `expires` seconds (3600 is the RFC 3261 default).
    pub fn new(expires: u32) -> Self {
        Self {
            expires: expires.max(1),
            state: RegisterState::Idle,
            timer: None,
            failures: 0,
            maybe_bound: false,
            stopping: false,
            actions: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// The current state.
    pub fn state(&self) -> RegisterState {
        self.state
    }

    /// Sends the first REGISTER.
    pub fn start(&mut self) {
        if self.state == RegisterState::Idle {
            self.register();
        }
    }

    /// The next action.
    pub fn poll_action(&mut self) -> Option<RegisterAction> {
        self.actions.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<RegistrationEvent> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) is next due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timer
    }

    /// Fires the refresh or retry timer.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.timer.is_some_and(|t| now >= t)
            && matches!(
                self.state,
                RegisterState::Registered | RegisterState::Retrying
            )
        {
            self.timer = None;
            self.register();
        }
    }

    /// Feeds the result of the outstanding REGISTER.
    pub fn handle_input(&mut self, input: RegisterInput, now: Instant) {
        match self.state {
            RegisterState::Unregistering => {
                self.maybe_bound = false;
                self.stop();
                return;
            }
            RegisterState::Registering => {}
            _ => return,
        }
        match input {
            RegisterInput::IntervalTooBrief {
                min_expires: Some(min),
            } if min > self.expires => {
                self.expires = min;
                self.register();
            }
            RegisterInput::Registered { granted } => {
                self.failures = 0;
                self.maybe_bound = true;
                let granted = if granted == 0 { self.expires } else { granted };
                self.events
                    .push_back(RegistrationEvent::Registered { granted });
                self.state = RegisterState::Registered;
                let refresh = Duration::from_millis(u64::from(granted) * 750).max(MIN_REFRESH);
                self.timer = Some(now + refresh);
            }
            RegisterInput::Rejected(_)
            | RegisterInput::IntervalTooBrief { .. }
            | RegisterInput::Failed => {
                let code = match input {
                    RegisterInput::Rejected(c) => Some(c),
                    RegisterInput::IntervalTooBrief { .. } => Some(423),
                    RegisterInput::Failed => None,
                    RegisterInput::Registered { .. } => None,
                };
                self.events.push_back(RegistrationEvent::Failed { code });
                let backoff = MIN_REFRESH
                    .saturating_mul(1 << self.failures.min(6))
                    .min(MAX_BACKOFF);
                self.failures += 1;
                self.state = RegisterState::Retrying;
                self.timer = Some(now + backoff);
            }
        }
        if self.stopping && self.state != RegisterState::Registering {
            self.shutdown();
        }
    }

    /// Unregister (if a binding may exist) and stop. While a REGISTER is outstanding this waits
    /// for its result first.
    pub fn shutdown(&mut self) {
        self.stopping = true;
        match self.state {
            RegisterState::Registering | RegisterState::Unregistering | RegisterState::Stopped => {}
            _ if self.maybe_bound => {
                self.timer = None;
                self.state = RegisterState::Unregistering;
                self.actions
                    .push_back(RegisterAction::Register { expires: 0 });
            }
            _ => self.stop(),
        }
    }

    fn register(&mut self) {
        self.state = RegisterState::Registering;
        self.actions.push_back(RegisterAction::Register {
            expires: self.expires,
        });
    }

    fn stop(&mut self) {
        self.timer = None;
        self.state = RegisterState::Stopped;
        self.events.push_back(RegistrationEvent::Unregistered);
        self.actions.push_back(RegisterAction::Stopped);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_too_brief_asks_again_for_min_expires() {
        let t0 = Instant::now();
        let mut p = RegisterPolicy::new(60);
        p.start();
        assert_eq!(
            drain(&mut p),
            vec![RegisterAction::Register { expires: 60 }]
        );
        p.handle_input(
            RegisterInput::IntervalTooBrief {
                min_expires: Some(300),
            },
            t0,
        );
        assert_eq!(
            drain(&mut p),
            vec![RegisterAction::Register { expires: 300 }]
        );
        // A Min-Expires that is no longer than what we asked (or none) is a plain failure.
        p.handle_input(
            RegisterInput::IntervalTooBrief {
                min_expires: Some(300),
            },
            t0,
        );
        assert!(drain(&mut p).is_empty());
        assert_eq!(p.state(), RegisterState::Retrying);
        assert_eq!(
            p.poll_event(),
            Some(RegistrationEvent::Failed { code: Some(423) })
        );
        p.handle_timeout(t0 + Duration::from_secs(1));
        assert_eq!(
            drain(&mut p),
            vec![RegisterAction::Register { expires: 300 }]
        );
    }

    fn drain(p: &mut RegisterPolicy) -> Vec<RegisterAction> {
        std::iter::from_fn(|| p.poll_action()).collect()
    }

    #[test]
    fn registers_refreshes_at_three_quarters_and_unregisters_on_shutdown() {
        let t0 = Instant::now();
        let mut p = RegisterPolicy::new(3600);
        p.start();
        assert_eq!(
            drain(&mut p),
            vec![RegisterAction::Register { expires: 3600 }]
        );
        // The registrar grants less than asked: refresh follows the grant.
        p.handle_input(RegisterInput::Registered { granted: 600 }, t0);
        assert_eq!(p.state(), RegisterState::Registered);
        assert_eq!(p.poll_timeout(), Some(t0 + Duration::from_secs(450)));
        p.handle_timeout(t0 + Duration::from_secs(449));
        assert!(drain(&mut p).is_empty());
        p.handle_timeout(t0 + Duration::from_secs(450));
        assert_eq!(
            drain(&mut p),
            vec![RegisterAction::Register { expires: 3600 }]
        );
        p.handle_input(RegisterInput::Registered { granted: 600 }, t0);
        p.shutdown();
        assert_eq!(drain(&mut p), vec![RegisterAction::Register { expires: 0 }]);
        assert_eq!(p.poll_timeout(), None);
        p.handle_input(RegisterInput::Registered { granted: 0 }, t0);
        assert_eq!(drain(&mut p), vec![RegisterAction::Stopped]);
        let events: Vec<_> = std::iter::from_fn(|| p.poll_event()).collect();
        assert_eq!(
            events,
            vec![
                RegistrationEvent::Registered { granted: 600 },
                RegistrationEvent::Registered { granted: 600 },
                RegistrationEvent::Unregistered
            ]
        );
    }

    #[test]
    fn failures_back_off_doubling_to_a_minute() {
        let t0 = Instant::now();
        let mut p = RegisterPolicy::new(60);
        p.start();
        let mut waits = Vec::new();
        for i in 0..9 {
            drain(&mut p);
            let input = if i % 2 == 0 {
                RegisterInput::Failed
            } else {
                RegisterInput::Rejected(403)
            };
            p.handle_input(input, t0);
            let at = p.poll_timeout().unwrap();
            waits.push((at - t0).as_secs());
            p.handle_timeout(at);
        }
        assert_eq!(waits, vec![1, 2, 4, 8, 16, 32, 60, 60, 60]);
        // A success resets the backoff; a tiny grant still refreshes no sooner than 1 s.
        drain(&mut p);
        p.handle_input(RegisterInput::Registered { granted: 1 }, t0);
        assert_eq!(p.poll_timeout(), Some(t0 + Duration::from_secs(1)));
    }

    #[test]
    fn shutdown_waits_for_an_outstanding_register_and_skips_unregister_when_never_bound() {
        let t0 = Instant::now();
        let mut p = RegisterPolicy::new(60);
        p.start();
        drain(&mut p);
        p.shutdown();
        assert!(
            drain(&mut p).is_empty(),
            "waits for the outstanding REGISTER"
        );
        p.handle_input(RegisterInput::Registered { granted: 60 }, t0);
        assert_eq!(drain(&mut p), vec![RegisterAction::Register { expires: 0 }]);

        let mut never = RegisterPolicy::new(60);
        never.start();
        drain(&mut never);
        never.handle_input(RegisterInput::Rejected(403), t0);
        never.shutdown();
        assert_eq!(drain(&mut never), vec![RegisterAction::Stopped]);
    }
}
