//! The SIP trunk as Asterisk sees it, for readiness and metrics: is the generated outbound registration
//! registered, and does the trunk answer Asterisk's qualify OPTIONS?
//!
//! Both come from AMI events of the `system` read class, so the agent needs neither `system` *write* access
//! (which would let it Originate into `System()`) nor any polling action:
//! - `Registry` (res_pjsip_outbound_registration) follows **every** REGISTER response, refreshes included, with
//!   `Status: Registered | Unregistered | Rejected` (a timeout or a 403 is `Rejected`); `Domain` is the
//!   registration's `server_uri`. With `expiration = 300` a registered trunk is confirmed about every 290 s, and
//!   a failing one every `retry_interval` (60 s) or `forbidden_retry_interval` (600 s).
//! - `ContactStatus` (res_pjsip qualify) is sent when the AOR contact's state *changes*: `Reachable`,
//!   `Unreachable`, `Unknown`, `Unqualified`, `Removed`, `Updated`.
//! - `FullyBooted` follows every login and carries Asterisk's `Uptime`: when Asterisk has restarted since the
//!   last login, what was known about the trunk is forgotten.
//!
//! Until an event arrives the state is unknown and no problem is reported (the AMI connection's own state says
//! whether Asterisk is there at all). Sans-IO: fed events and time, asked for the state.

use std::time::{Duration, Instant};

use faxline_ami::Message;

/// Asterisk's word for the outbound registration's state (`sip_outbound_registration_status_str`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registration {
    Registered,
    Unregistered,
    /// Refused by the registrar (403, 401 after authenticating) or not answered (408, 503, transport error).
    Rejected,
}

/// What is known about the trunk.
#[derive(Debug)]
pub struct TrunkWatch {
    /// The registration's `server_uri` when `[sip] register` is on (`None`: no registration to follow).
    server_uri: Option<String>,
    /// The trunk's AOR name in pjsip.conf.
    aor: String,
    registration: Option<Registration>,
    reachable: Option<bool>,
    /// When Asterisk started, by the last `FullyBooted` (to tell a restart from a reconnect).
    booted_at: Option<Instant>,
}

/// A restart shows as a boot time that moved by more than this (uptime is whole seconds; events take time).
const BOOT_TOLERANCE: Duration = Duration::from_secs(5);

impl TrunkWatch {
    pub fn new(server_uri: Option<String>, aor: impl Into<String>) -> Self {
        TrunkWatch {
            server_uri,
            aor: aor.into(),
            registration: None,
            reachable: None,
            booted_at: None,
        }
    }

    /// Feeds one AMI event; returns whether the state changed. Events about other registrations or AORs, and
    /// values Asterisk may add later, are ignored.
    pub fn handle_event(&mut self, event: &Message, now: Instant) -> bool {
        let before = (self.registration, self.reachable);
        let name = event.event_name().unwrap_or_default();
        if name.eq_ignore_ascii_case("Registry") {
            self.registry(event);
        } else if name.eq_ignore_ascii_case("ContactStatus") {
            self.contact_status(event);
        } else if name.eq_ignore_ascii_case("FullyBooted") {
            self.fully_booted(event, now);
        }
        before != (self.registration, self.reachable)
    }

    fn registry(&mut self, e: &Message) {
        let Some(ours) = &self.server_uri else { return };
        let pjsip = e
            .get("ChannelType")
            .is_some_and(|t| t.eq_ignore_ascii_case("PJSIP"));
        let domain = e.get("Domain").unwrap_or_default();
        if !pjsip || !domain.eq_ignore_ascii_case(ours) {
            return;
        }
        self.registration = match e.get("Status").unwrap_or_default() {
            s if s.eq_ignore_ascii_case("Registered") => Some(Registration::Registered),
            s if s.eq_ignore_ascii_case("Unregistered") => Some(Registration::Unregistered),
            // chan_sip's `Failed` means the same as PJSIP's `Rejected` for our purpose.
            s if s.eq_ignore_ascii_case("Rejected") || s.eq_ignore_ascii_case("Failed") => {
                Some(Registration::Rejected)
            }
            _ => self.registration,
        };
    }

    fn contact_status(&mut self, e: &Message) {
        if e.get("AOR") != Some(self.aor.as_str()) {
            return;
        }
        self.reachable = match e.get("ContactStatus").unwrap_or_default() {
            s if s.eq_ignore_ascii_case("Reachable") => Some(true),
            s if s.eq_ignore_ascii_case("Unreachable") => Some(false),
            // Qualify off, contact removed or state not yet known: no claim either way.
            s if s.eq_ignore_ascii_case("Unqualified")
                || s.eq_ignore_ascii_case("NonQualified")
                || s.eq_ignore_ascii_case("Removed")
                || s.eq_ignore_ascii_case("Unknown") =>
            {
                None
            }
            // `Created`/`Updated` say nothing about reachability.
            _ => self.reachable,
        };
    }

    fn fully_booted(&mut self, e: &Message, now: Instant) {
        let Some(uptime) = e.get("Uptime").and_then(|u| u.trim().parse::<u64>().ok()) else {
            return;
        };
        let Some(booted_at) = now.checked_sub(Duration::from_secs(uptime)) else {
            return;
        };
        if let Some(before) = self.booted_at {
            let moved = if booted_at > before {
                booted_at - before
            } else {
                before - booted_at
            };
            if moved > BOOT_TOLERANCE {
                // A new Asterisk: it registers and qualifies afresh.
                self.registration = None;
                self.reachable = None;
            }
        }
        self.booted_at = Some(booted_at);
    }

    /// Whether a registration is configured at all.
    pub fn follows_registration(&self) -> bool {
        self.server_uri.is_some()
    }

    /// The registration's last reported state (`None`: not configured, or no `Registry` event yet).
    pub fn registration(&self) -> Option<Registration> {
        self.registration
    }

    /// Whether the trunk answered the last qualify (`None`: not known).
    pub fn reachable(&self) -> Option<bool> {
        self.reachable
    }

    /// What keeps the trunk from working, as fixed texts for readiness (no addresses or user names).
    pub fn problems(&self) -> Vec<&'static str> {
        let mut p = Vec::new();
        match self.registration {
            Some(Registration::Rejected) => p.push(
                "SIP trunk registration failing (refused or unanswered; check [sip] username, password, registrar)",
            ),
            Some(Registration::Unregistered) => p.push("SIP trunk not registered"),
            Some(Registration::Registered) | None => {}
        }
        if self.reachable == Some(false) {
            p.push("SIP trunk unreachable (it does not answer Asterisk's OPTIONS)");
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVER: &str = "sip:sip.example.net:5060";

    fn event(pairs: &[(&str, &str)]) -> Message {
        Message::from_pairs(pairs.iter().copied())
    }

    fn registry(domain: &str, status: &str) -> Message {
        event(&[
            ("Event", "Registry"),
            ("Privilege", "system,all"),
            ("ChannelType", "PJSIP"),
            ("Username", "sip:4021@sip.example.net"),
            ("Domain", domain),
            ("Status", status),
        ])
    }

    fn contact(aor: &str, status: &str) -> Message {
        event(&[
            ("Event", "ContactStatus"),
            ("Privilege", "system,all"),
            ("URI", "sip:sip.example.net:5060"),
            ("ContactStatus", status),
            ("AOR", aor),
            ("EndpointName", aor),
            ("RoundtripUsec", "0"),
        ])
    }

    fn booted(uptime: u64) -> Message {
        event(&[
            ("Event", "FullyBooted"),
            ("Privilege", "system,all"),
            ("Uptime", &uptime.to_string()),
            ("LastReload", &uptime.to_string()),
            ("Status", "Fully Booted"),
        ])
    }

    #[test]
    fn nothing_known_means_no_problem() {
        let w = TrunkWatch::new(Some(SERVER.into()), "faxline-trunk");
        assert!(w.problems().is_empty());
        assert_eq!(w.registration(), None);
        assert_eq!(w.reachable(), None);
    }

    #[test]
    fn registration_follows_every_response() {
        let mut w = TrunkWatch::new(Some(SERVER.into()), "faxline-trunk");
        let t = Instant::now();
        assert!(w.handle_event(&registry(SERVER, "Rejected"), t));
        assert_eq!(w.registration(), Some(Registration::Rejected));
        assert_eq!(w.problems().len(), 1);
        assert!(w.problems()[0].starts_with("SIP trunk registration failing"));
        // The same state again (a retry that failed too) is no change.
        assert!(!w.handle_event(&registry(SERVER, "Rejected"), t));
        assert!(w.handle_event(&registry(SERVER, "Registered"), t));
        assert!(w.problems().is_empty());
        assert!(w.handle_event(&registry(SERVER, "Unregistered"), t));
        assert_eq!(w.problems(), ["SIP trunk not registered"]);
    }

    #[test]
    fn other_registrations_and_channel_types_are_ignored() {
        let mut w = TrunkWatch::new(Some(SERVER.into()), "faxline-trunk");
        let t = Instant::now();
        assert!(!w.handle_event(&registry("sip:other.example.org:5060", "Rejected"), t));
        let iax = event(&[
            ("Event", "Registry"),
            ("ChannelType", "IAX2"),
            ("Domain", SERVER),
            ("Status", "Rejected"),
        ]);
        assert!(!w.handle_event(&iax, t));
        // A status Asterisk may add one day leaves the state as it was.
        assert!(!w.handle_event(&registry(SERVER, "Stopping"), t));
        assert_eq!(w.registration(), None);
        // Without a registration configured, Registry events say nothing about our trunk.
        let mut none = TrunkWatch::new(None, "faxline-trunk");
        assert!(!none.handle_event(&registry(SERVER, "Rejected"), t));
        assert!(!none.follows_registration());
    }

    #[test]
    fn qualify_changes_reachability_of_our_aor_only() {
        let mut w = TrunkWatch::new(None, "faxline-trunk");
        let t = Instant::now();
        assert!(!w.handle_event(&contact("someone-else", "Unreachable"), t));
        assert!(w.handle_event(&contact("faxline-trunk", "Unreachable"), t));
        assert_eq!(
            w.problems(),
            ["SIP trunk unreachable (it does not answer Asterisk's OPTIONS)"]
        );
        assert!(!w.handle_event(&contact("faxline-trunk", "Updated"), t));
        assert_eq!(w.reachable(), Some(false));
        assert!(w.handle_event(&contact("faxline-trunk", "Reachable"), t));
        assert!(w.problems().is_empty());
        assert!(w.handle_event(&contact("faxline-trunk", "Unqualified"), t));
        assert_eq!(w.reachable(), None);
    }

    #[test]
    fn an_asterisk_restart_forgets_the_trunk_state_but_a_reconnect_does_not() {
        let mut w = TrunkWatch::new(Some(SERVER.into()), "faxline-trunk");
        let t0 = Instant::now();
        w.handle_event(&booted(1000), t0);
        w.handle_event(&registry(SERVER, "Rejected"), t0);
        w.handle_event(&contact("faxline-trunk", "Unreachable"), t0);
        // The AMI connection dropped and came back 30 s later: the same Asterisk.
        let t1 = t0 + Duration::from_secs(30);
        assert!(!w.handle_event(&booted(1030), t1));
        assert_eq!(w.registration(), Some(Registration::Rejected));
        // Asterisk restarted: 10 s of uptime a minute later.
        let t2 = t0 + Duration::from_secs(90);
        assert!(w.handle_event(&booted(10), t2));
        assert_eq!(w.registration(), None);
        assert_eq!(w.reachable(), None);
        assert!(w.problems().is_empty());
        // A garbage uptime changes nothing.
        let bad = event(&[("Event", "FullyBooted"), ("Uptime", "soon")]);
        assert!(!w.handle_event(&bad, t2));
    }
}
