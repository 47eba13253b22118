//! Typed events for what a fax agent needs (telephony.md §1.4–§1.7, §2.3), with the raw message kept alongside.
//!
//! Only the events the agent acts on are parsed into structs; everything else is [`EventKind::Other`] and is
//! still available through [`Event::message`]. Parsing is lenient: a missing optional field becomes `None` or an
//! empty string, because Asterisk versions differ in what they add.

use std::fmt;

use crate::message::Message;
use crate::redact::{self, HeaderNumber};

/// An AMI event: the typed view plus the full message.
#[derive(Clone)]
pub struct Event {
    kind: EventKind,
    message: Message,
}

/// The typed view of an event.
#[derive(Clone, Debug)]
pub enum EventKind {
    /// Result of an async Originate.
    OriginateResponse(OriginateResponse),
    /// A channel was created.
    Newchannel(ChannelSnapshot),
    /// A channel hung up.
    Hangup(Hangup),
    /// A `UserEvent` (from the dialplan app or the action), e.g. the agent's own `FaxResult`.
    UserEvent(UserEvent),
    /// `SendFAX` / `ReceiveFAX`: the fax application finished (no success field — see [`FaxFinished`]).
    FaxFinished(FaxFinished),
    /// `FAXStatus` progress (only with `statusevents=yes` or the `s` option).
    FaxStatus(FaxStatus),
    /// Asterisk is fully booted (sent right after login): a good moment to resynchronise state.
    FullyBooted(FullyBooted),
    /// Any other event; read it through [`Event::message`].
    Other,
}

impl Event {
    /// Classifies and parses an event message. Returns `None` if the message is not an event.
    pub fn from_message(message: Message) -> Option<Event> {
        let name = message.event_name()?;
        let kind = if name.eq_ignore_ascii_case("OriginateResponse") {
            EventKind::OriginateResponse(OriginateResponse::parse(&message))
        } else if name.eq_ignore_ascii_case("Newchannel") {
            ChannelSnapshot::parse(&message).map_or(EventKind::Other, EventKind::Newchannel)
        } else if name.eq_ignore_ascii_case("Hangup") {
            Hangup::parse(&message).map_or(EventKind::Other, EventKind::Hangup)
        } else if name.eq_ignore_ascii_case("UserEvent") {
            EventKind::UserEvent(UserEvent::parse(&message))
        } else if name.eq_ignore_ascii_case("SendFAX") {
            FaxFinished::parse(&message, FaxDirection::Send)
                .map_or(EventKind::Other, EventKind::FaxFinished)
        } else if name.eq_ignore_ascii_case("ReceiveFAX") {
            FaxFinished::parse(&message, FaxDirection::Receive)
                .map_or(EventKind::Other, EventKind::FaxFinished)
        } else if name.eq_ignore_ascii_case("FAXStatus") {
            FaxStatus::parse(&message).map_or(EventKind::Other, EventKind::FaxStatus)
        } else if name.eq_ignore_ascii_case("FullyBooted") {
            EventKind::FullyBooted(FullyBooted::parse(&message))
        } else {
            EventKind::Other
        };
        Some(Event { kind, message })
    }

    /// The typed view.
    pub fn kind(&self) -> &EventKind {
        &self.kind
    }

    /// The full message (every header, duplicates in order).
    pub fn message(&self) -> &Message {
        &self.message
    }

    /// The event name (`Event:` value).
    pub fn name(&self) -> &str {
        self.message.event_name().unwrap_or("")
    }

    /// The channel `Uniqueid`, if the event has one (with Originate's `ChannelId`, this is the agent's job id).
    pub fn uniqueid(&self) -> Option<&str> {
        self.message.get("Uniqueid")
    }

    /// The `ActionID`, if the event answers an action.
    pub fn action_id(&self) -> Option<&str> {
        self.message.action_id()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            EventKind::Other => f.debug_tuple("Event").field(&self.message).finish(),
            kind => f.debug_tuple("Event").field(kind).finish(),
        }
    }
}

fn owned(m: &Message, key: &str) -> String {
    m.get(key).unwrap_or("").to_owned()
}

fn number<T: std::str::FromStr>(m: &Message, key: &str) -> Option<T> {
    m.get(key).and_then(|v| v.trim().parse().ok())
}

/// `<unknown>` and empty mean "no value" in Asterisk's output.
fn known(v: Option<&str>) -> Option<String> {
    v.filter(|v| !v.is_empty() && *v != "<unknown>")
        .map(str::to_owned)
}

/// The channel snapshot block carried by channel events.
#[derive(Clone, PartialEq, Eq)]
pub struct ChannelSnapshot {
    /// Channel name, e.g. `PJSIP/trunk-00000001`.
    pub channel: String,
    /// Uniqueid (the `ChannelId` given to Originate, if any).
    pub uniqueid: String,
    /// Linkedid (the Uniqueid of the oldest channel of the call).
    pub linkedid: String,
    /// `ChannelState` number.
    pub state: Option<u8>,
    /// `ChannelStateDesc`, e.g. `Up`.
    pub state_desc: String,
    /// Caller number.
    pub caller_id_num: HeaderNumber,
    /// Caller name.
    pub caller_id_name: String,
    /// Connected line number.
    pub connected_line_num: HeaderNumber,
    /// Dialplan context.
    pub context: String,
    /// Dialplan extension (often the dialled number).
    pub exten: HeaderNumber,
    /// Dialplan priority.
    pub priority: String,
    /// `ChanVariable` entries (`channelvars=` in manager.conf), name and value, in order.
    pub variables: Vec<(String, String)>,
}

impl ChannelSnapshot {
    /// Parses the snapshot; `None` if `Channel` or `Uniqueid` is missing.
    pub fn parse(m: &Message) -> Option<Self> {
        let channel = m.get("Channel")?.to_owned();
        let uniqueid = m.get("Uniqueid")?.to_owned();
        let variables = m
            .headers()
            .filter(|(k, _)| k.len() >= 12 && k[..12].eq_ignore_ascii_case("ChanVariable"))
            .filter_map(|(_, v)| {
                v.split_once('=')
                    .map(|(n, val)| (n.to_owned(), val.to_owned()))
            })
            .collect();
        Some(ChannelSnapshot {
            channel,
            uniqueid,
            linkedid: owned(m, "Linkedid"),
            state: number(m, "ChannelState"),
            state_desc: owned(m, "ChannelStateDesc"),
            caller_id_num: HeaderNumber::new(owned(m, "CallerIDNum")),
            caller_id_name: owned(m, "CallerIDName"),
            connected_line_num: HeaderNumber::new(owned(m, "ConnectedLineNum")),
            context: owned(m, "Context"),
            exten: HeaderNumber::new(owned(m, "Exten")),
            priority: owned(m, "Priority"),
            variables,
        })
    }

    /// The value of a `ChanVariable` (case-insensitive name).
    pub fn variable(&self, name: &str) -> Option<&str> {
        self.variables
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl fmt::Debug for ChannelSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChannelSnapshot")
            .field("channel", &redact::mask_numbers_in(&self.channel))
            .field("uniqueid", &self.uniqueid)
            .field("linkedid", &self.linkedid)
            .field("state", &self.state)
            .field("caller_id_num", &self.caller_id_num)
            .field("exten", &self.exten)
            .field("context", &self.context)
            .field(
                "variables",
                &self.variables.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// Why an async Originate ended (the last control frame seen, telephony.md §1.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OriginateReason {
    /// 0: no such channel, or failure before any progress.
    Failure,
    /// 1: hung up.
    Hangup,
    /// 3: still ringing when the timeout expired (no answer).
    NoAnswer,
    /// 4: answered.
    Answered,
    /// 5: busy.
    Busy,
    /// 8: congestion.
    Congestion,
    /// Any other code.
    Other(i32),
}

impl OriginateReason {
    /// From Asterisk's numeric `Reason`.
    pub fn from_code(code: i32) -> Self {
        match code {
            0 => Self::Failure,
            1 => Self::Hangup,
            3 => Self::NoAnswer,
            4 => Self::Answered,
            5 => Self::Busy,
            8 => Self::Congestion,
            other => Self::Other(other),
        }
    }
}

/// `Event: OriginateResponse`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OriginateResponse {
    /// The Originate's ActionID.
    pub action_id: Option<String>,
    /// `Response: Success` (the call was answered); `Failure` otherwise.
    pub success: bool,
    /// The reason code.
    pub reason: OriginateReason,
    /// Channel name (or the `Tech/data` dialled if no channel was created).
    pub channel: String,
    /// Uniqueid (the `ChannelId` if one was given); `None` for `<unknown>`.
    pub uniqueid: Option<String>,
    /// Caller number as sent.
    pub caller_id_num: HeaderNumber,
}

impl OriginateResponse {
    fn parse(m: &Message) -> Self {
        OriginateResponse {
            action_id: m.action_id().map(str::to_owned),
            success: m
                .get("Response")
                .is_some_and(|r| r.eq_ignore_ascii_case("Success")),
            reason: OriginateReason::from_code(number(m, "Reason").unwrap_or(0)),
            channel: owned(m, "Channel"),
            uniqueid: known(m.get("Uniqueid")),
            caller_id_num: HeaderNumber::new(owned(m, "CallerIDNum")),
        }
    }
}

/// `Event: Hangup`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hangup {
    /// The channel.
    pub channel: ChannelSnapshot,
    /// Q.850 cause code (16 = normal clearing).
    pub cause: Option<u16>,
    /// Cause text, e.g. `Normal Clearing`.
    pub cause_txt: String,
}

impl Hangup {
    fn parse(m: &Message) -> Option<Self> {
        Some(Hangup {
            channel: ChannelSnapshot::parse(m)?,
            cause: number(m, "Cause"),
            cause_txt: owned(m, "Cause-txt"),
        })
    }
}

/// `Event: UserEvent`. The user's own fields are the headers after the `UserEvent:` line.
#[derive(Clone, PartialEq, Eq)]
pub struct UserEvent {
    /// The user event name, e.g. `FaxResult`.
    pub name: String,
    /// The channel, when raised from the dialplan.
    pub channel: Option<ChannelSnapshot>,
    /// The user fields in order (key case as written in the dialplan).
    pub fields: Vec<(String, String)>,
}

impl UserEvent {
    fn parse(m: &Message) -> Self {
        let mut name = String::new();
        let mut fields = Vec::new();
        let mut after = false;
        for (k, v) in m.headers() {
            if after {
                fields.push((k.to_owned(), v.to_owned()));
            } else if k.eq_ignore_ascii_case("UserEvent") {
                name = v.to_owned();
                after = true;
            }
        }
        UserEvent {
            name,
            channel: ChannelSnapshot::parse(m),
            fields,
        }
    }

    /// A user field (case-insensitive key).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }
}

impl fmt::Debug for UserEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Field values may carry numbers (CallerID, DID) or paths: show the keys only.
        f.debug_struct("UserEvent")
            .field("name", &self.name)
            .field("channel", &self.channel)
            .field(
                "fields",
                &self.fields.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Which fax application finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaxDirection {
    /// `SendFAX`.
    Send,
    /// `ReceiveFAX`.
    Receive,
}

/// `Event: SendFAX` / `Event: ReceiveFAX`. These carry no success field: read `FAXSTATUS`/`FAXERROR` (Getvar, a
/// `ChanVariable` on Hangup, or a hangup-handler `UserEvent`) to know whether the fax succeeded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaxFinished {
    /// Send or receive.
    pub direction: FaxDirection,
    /// The channel.
    pub channel: ChannelSnapshot,
    /// Our station id.
    pub local_station_id: HeaderNumber,
    /// The far end's station id.
    pub remote_station_id: HeaderNumber,
    /// Pages transferred.
    pub pages: Option<u32>,
    /// Resolution as `XxY` pixels per metre, e.g. `8031x7700`.
    pub resolution: String,
    /// Bit rate, e.g. 14400.
    pub transfer_rate: Option<u32>,
    /// Files, in order.
    pub files: Vec<String>,
}

impl FaxFinished {
    fn parse(m: &Message, direction: FaxDirection) -> Option<Self> {
        Some(FaxFinished {
            direction,
            channel: ChannelSnapshot::parse(m)?,
            local_station_id: HeaderNumber::new(owned(m, "LocalStationID")),
            remote_station_id: HeaderNumber::new(owned(m, "RemoteStationID")),
            pages: number(m, "PagesTransferred"),
            resolution: owned(m, "Resolution"),
            transfer_rate: number(m, "TransferRate"),
            files: m.get_all("FileName").map(str::to_owned).collect(),
        })
    }
}

/// `Event: FAXStatus` (progress).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaxStatus {
    /// The channel.
    pub channel: ChannelSnapshot,
    /// `send`, `receive` or `gateway`.
    pub operation: String,
    /// e.g. `T.38 Negotiated`, `FAX Transmission In Progress`.
    pub status: String,
    /// Files, in order.
    pub files: Vec<String>,
}

impl FaxStatus {
    fn parse(m: &Message) -> Option<Self> {
        Some(FaxStatus {
            channel: ChannelSnapshot::parse(m)?,
            operation: owned(m, "Operation"),
            status: owned(m, "Status"),
            files: m.get_all("FileName").map(str::to_owned).collect(),
        })
    }
}

/// `Event: FullyBooted`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FullyBooted {
    /// Seconds since Asterisk started.
    pub uptime: Option<u64>,
    /// Seconds since the last reload.
    pub last_reload: Option<u64>,
}

impl FullyBooted {
    fn parse(m: &Message) -> Self {
        FullyBooted {
            uptime: number(m, "Uptime"),
            last_reload: number(m, "LastReload"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hangup_with_cause_and_chan_variables() {
        let m = Message::from_pairs([
            ("Event", "Hangup"),
            ("Channel", "PJSIP/trunk-00000001"),
            ("Uniqueid", "job-7"),
            ("CallerIDNum", "+15551234567"),
            ("ChanVariable", "FAXSTATUS=FAILED"),
            ("ChanVariable(PJSIP/trunk-00000001)", "FAXERROR=TIMEOUT"),
            ("Cause", "17"),
            ("Cause-txt", "User busy"),
        ]);
        let e = Event::from_message(m).unwrap();
        let EventKind::Hangup(h) = e.kind() else {
            panic!("{e:?}")
        };
        assert_eq!(h.cause, Some(17));
        assert_eq!(h.channel.variable("faxstatus"), Some("FAILED"));
        assert_eq!(h.channel.variable("FAXERROR"), Some("TIMEOUT"));
        assert_eq!(h.channel.caller_id_num.as_str(), "+15551234567");
        assert!(!format!("{e:?}").contains("555123"));
    }

    #[test]
    fn originate_response_is_an_event_despite_its_response_key() {
        let m = Message::from_pairs([
            ("Event", "OriginateResponse"),
            ("ActionID", "o-1"),
            ("Response", "Failure"),
            ("Channel", "PJSIP/x"),
            ("Reason", "5"),
            ("Uniqueid", "<unknown>"),
        ]);
        let e = Event::from_message(m).unwrap();
        let EventKind::OriginateResponse(o) = e.kind() else {
            panic!("{e:?}")
        };
        assert!(!o.success);
        assert_eq!(o.reason, OriginateReason::Busy);
        assert_eq!(o.uniqueid, None);
        assert_eq!(o.action_id.as_deref(), Some("o-1"));
    }
}
