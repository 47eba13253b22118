//! Outgoing actions: a generic ordered header list plus typed builders for what the fax agent sends.
//!
//! Everything written to Asterisk is validated first, so a caller-supplied value can never inject a line break
//! (and with it a second action), exceed Asterisk's 1024-byte input line, or be split by Originate's
//! comma-separated `Variable:` syntax (telephony.md §1.1, §1.5).

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use crate::redact::{self, Redacted};

/// Asterisk reads at most 1024 bytes per input line (manager.c `inbuf[1025]`).
pub const MAX_LINE: usize = 1024;
/// Asterisk accepts at most 128 header lines per action (`AST_MAX_MANHEADERS`).
pub const MAX_HEADERS: usize = 128;
/// `ChannelId`/`OtherChannelId` are at most 149 characters.
pub const MAX_CHANNEL_ID: usize = 149;

/// Why an action cannot be sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ActionError {
    /// A header name is empty or contains `:`, a blank or a control character.
    #[error("invalid header name {key:?}")]
    InvalidHeaderName {
        /// The offending name.
        key: String,
    },
    /// A header value contains CR, LF or another control character (would inject lines).
    #[error("value of header {key} contains a control character")]
    ControlCharacter {
        /// The header.
        key: String,
    },
    /// A header line would exceed Asterisk's input line limit.
    #[error("header {key} is {len} bytes long, Asterisk accepts at most {MAX_LINE}")]
    LineTooLong {
        /// The header.
        key: String,
        /// The line length.
        len: usize,
    },
    /// More header lines than Asterisk accepts.
    #[error("{count} header lines, Asterisk accepts at most {MAX_HEADERS}")]
    TooManyHeaders {
        /// Number of lines.
        count: usize,
    },
    /// A channel variable name is empty or contains characters outside `[A-Za-z0-9_()]`.
    #[error("invalid channel variable name {name:?}")]
    InvalidVariableName {
        /// The name.
        name: String,
    },
    /// A channel variable value contains a comma: Asterisk would split it into a second variable.
    #[error(
        "value of channel variable {name} contains a comma, which Asterisk's Variable syntax would split"
    )]
    CommaInVariableValue {
        /// The variable.
        name: String,
    },
    /// A required field is empty.
    #[error("{field} must not be empty")]
    Empty {
        /// The field.
        field: &'static str,
    },
    /// `ChannelId` or `OtherChannelId` longer than Asterisk allows.
    #[error("{field} is {len} characters, Asterisk accepts at most {MAX_CHANNEL_ID}")]
    ChannelIdTooLong {
        /// The field.
        field: &'static str,
        /// Its length.
        len: usize,
    },
}

/// One AMI action: `Action: <name>` plus headers in order. The client adds the `ActionID`.
#[derive(Clone, PartialEq, Eq)]
pub struct Action {
    name: Cow<'static, str>,
    headers: Vec<(Cow<'static, str>, String)>,
}

impl Action {
    /// A new action named `name` (e.g. `Ping`).
    pub fn new(name: impl Into<Cow<'static, str>>) -> Self {
        Action {
            name: name.into(),
            headers: Vec::new(),
        }
    }

    /// Adds a header (builder style). Repeated keys are kept in order.
    pub fn header(mut self, key: impl Into<Cow<'static, str>>, value: impl Into<String>) -> Self {
        self.push_header(key, value);
        self
    }

    /// Adds a header.
    pub fn push_header(&mut self, key: impl Into<Cow<'static, str>>, value: impl Into<String>) {
        self.headers.push((key.into(), value.into()));
    }

    /// Replaces every header `key` by one with `value` (used for `ActionID`).
    pub fn set_header(&mut self, key: &'static str, value: impl Into<String>) {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(key));
        self.headers.push((Cow::Borrowed(key), value.into()));
    }

    /// The action name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Headers in order, without the `Action:` line.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> {
        self.headers.iter().map(|(k, v)| (k.as_ref(), v.as_str()))
    }

    /// The first value of `key` (case-insensitive).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.headers()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    }

    /// Bytes on the wire.
    pub(crate) fn wire_len(&self) -> usize {
        10 + self.name.len()
            + self
                .headers
                .iter()
                .map(|(k, v)| k.len() + v.len() + 4)
                .sum::<usize>()
            + 2
    }

    /// Checks that the action can be written without breaking the protocol.
    pub fn validate(&self) -> Result<(), ActionError> {
        check_line("Action", &self.name)?;
        if self.headers.len() + 1 > MAX_HEADERS {
            return Err(ActionError::TooManyHeaders {
                count: self.headers.len() + 1,
            });
        }
        for (k, v) in self.headers() {
            check_line(k, v)?;
        }
        Ok(())
    }
}

fn check_line(key: &str, value: &str) -> Result<(), ActionError> {
    if key.is_empty()
        || key
            .bytes()
            .any(|b| b == b':' || b.is_ascii_whitespace() || b.is_ascii_control())
    {
        return Err(ActionError::InvalidHeaderName {
            key: key.to_owned(),
        });
    }
    if value.chars().any(char::is_control) {
        return Err(ActionError::ControlCharacter {
            key: key.to_owned(),
        });
    }
    let len = key.len() + 2 + value.len() + 2;
    if len > MAX_LINE {
        return Err(ActionError::LineTooLong {
            key: key.to_owned(),
            len,
        });
    }
    Ok(())
}

impl fmt::Debug for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        m.entry(&"Action", &self.name);
        for (k, v) in self.headers() {
            m.entry(&k, &Redacted::header(k, v));
        }
        m.finish()
    }
}

/// Where an originated channel goes once answered.
#[derive(Clone, PartialEq, Eq)]
pub enum OriginateTarget {
    /// A dialplan location.
    Extension {
        /// Dialplan context.
        context: String,
        /// Extension (often a phone number).
        exten: String,
        /// Priority, numeric or a label.
        priority: String,
    },
    /// A dialplan application.
    Application {
        /// Application name, e.g. `SendFAX`.
        application: String,
        /// Its argument string.
        data: String,
    },
}

/// An asynchronous Originate (always sent with `Async: true`: a synchronous one blocks the whole AMI session).
///
/// Give it a `channel_id` (e.g. the job's UUID) so that every later event of the call carries it as `Uniqueid`,
/// even before the `OriginateResponse` arrives.
#[derive(Clone, PartialEq, Eq)]
pub struct Originate {
    /// The channel to dial, `Tech/data`.
    pub channel: String,
    /// Where the answered channel goes.
    pub target: OriginateTarget,
    /// How long to wait for an answer (Asterisk's default is 30 s).
    pub timeout: Option<Duration>,
    /// Caller ID, e.g. `"Faxline" <5550100>`.
    pub caller_id: Option<String>,
    /// Uniqueid to give the new channel (≤ 149 characters).
    pub channel_id: Option<String>,
    /// Uniqueid for the second leg of a Local channel (≤ 149 characters).
    pub other_channel_id: Option<String>,
    /// Account code.
    pub account: Option<String>,
    /// Codec list, e.g. `ulaw,alaw`.
    pub codecs: Option<String>,
    /// Channel variables, each sent as its own `Variable: NAME=value` header.
    pub variables: Vec<(String, String)>,
}

impl Originate {
    /// Originate `channel` into `context`/`exten`/`priority`.
    pub fn to_extension(
        channel: impl Into<String>,
        context: impl Into<String>,
        exten: impl Into<String>,
        priority: impl Into<String>,
    ) -> Self {
        Self::new(
            channel.into(),
            OriginateTarget::Extension {
                context: context.into(),
                exten: exten.into(),
                priority: priority.into(),
            },
        )
    }

    /// Originate `channel` into an application.
    pub fn to_application(
        channel: impl Into<String>,
        application: impl Into<String>,
        data: impl Into<String>,
    ) -> Self {
        Self::new(
            channel.into(),
            OriginateTarget::Application {
                application: application.into(),
                data: data.into(),
            },
        )
    }

    fn new(channel: String, target: OriginateTarget) -> Self {
        Originate {
            channel,
            target,
            timeout: None,
            caller_id: None,
            channel_id: None,
            other_channel_id: None,
            account: None,
            codecs: None,
            variables: Vec::new(),
        }
    }

    /// Sets the answer timeout.
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = Some(t);
        self
    }

    /// Sets the caller ID.
    pub fn caller_id(mut self, c: impl Into<String>) -> Self {
        self.caller_id = Some(c.into());
        self
    }

    /// Sets the new channel's Uniqueid.
    pub fn channel_id(mut self, id: impl Into<String>) -> Self {
        self.channel_id = Some(id.into());
        self
    }

    /// Sets the second leg's Uniqueid.
    pub fn other_channel_id(mut self, id: impl Into<String>) -> Self {
        self.other_channel_id = Some(id.into());
        self
    }

    /// Sets the account code.
    pub fn account(mut self, a: impl Into<String>) -> Self {
        self.account = Some(a.into());
        self
    }

    /// Adds a channel variable.
    pub fn variable(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.variables.push((name.into(), value.into()));
        self
    }

    /// The validated action (`Async: true`).
    pub fn to_action(&self) -> Result<Action, ActionError> {
        if self.channel.is_empty() {
            return Err(ActionError::Empty { field: "Channel" });
        }
        let mut a = Action::new("Originate").header("Channel", self.channel.clone());
        match &self.target {
            OriginateTarget::Extension {
                context,
                exten,
                priority,
            } => {
                for (field, v) in [
                    ("Context", context),
                    ("Exten", exten),
                    ("Priority", priority),
                ] {
                    if v.is_empty() {
                        return Err(ActionError::Empty { field });
                    }
                }
                a = a
                    .header("Context", context.clone())
                    .header("Exten", exten.clone())
                    .header("Priority", priority.clone());
            }
            OriginateTarget::Application { application, data } => {
                if application.is_empty() {
                    return Err(ActionError::Empty {
                        field: "Application",
                    });
                }
                a = a
                    .header("Application", application.clone())
                    .header("Data", data.clone());
            }
        }
        a = a.header("Async", "true");
        if let Some(t) = self.timeout {
            a = a.header("Timeout", t.as_millis().to_string());
        }
        if let Some(c) = &self.caller_id {
            a = a.header("CallerID", c.clone());
        }
        for (field, id) in [
            ("ChannelId", &self.channel_id),
            ("OtherChannelId", &self.other_channel_id),
        ] {
            if let Some(id) = id {
                let len = id.chars().count();
                if len > MAX_CHANNEL_ID {
                    return Err(ActionError::ChannelIdTooLong { field, len });
                }
                if id.is_empty() {
                    return Err(ActionError::Empty { field });
                }
                a = a.header(field, id.clone());
            }
        }
        if let Some(acc) = &self.account {
            a = a.header("Account", acc.clone());
        }
        if let Some(c) = &self.codecs {
            a = a.header("Codecs", c.clone());
        }
        for (name, value) in &self.variables {
            check_variable(name, value)?;
            a = a.header("Variable", format!("{name}={value}"));
        }
        a.validate()?;
        Ok(a)
    }
}

/// A channel variable for Originate's `Variable:` header: the name must be a plain identifier (function syntax
/// such as `FAXOPT(ecm)` is allowed) and the value must not contain a comma, which Asterisk splits on.
pub fn check_variable(name: &str, value: &str) -> Result<(), ActionError> {
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'(' | b')' | b'-' | b'.'))
    {
        return Err(ActionError::InvalidVariableName {
            name: name.to_owned(),
        });
    }
    if value.contains(',') {
        return Err(ActionError::CommaInVariableValue {
            name: name.to_owned(),
        });
    }
    if value.chars().any(char::is_control) {
        return Err(ActionError::ControlCharacter {
            key: format!("Variable {name}"),
        });
    }
    Ok(())
}

impl fmt::Debug for Originate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Originate");
        d.field("channel", &redact::mask_numbers_in(&self.channel));
        match &self.target {
            OriginateTarget::Extension {
                context,
                exten,
                priority,
            } => {
                d.field("context", context)
                    .field("exten", &redact::mask_phone(exten))
                    .field("priority", priority);
            }
            OriginateTarget::Application { application, data } => {
                d.field("application", application)
                    .field("data", &redact::mask_numbers_in(data));
            }
        }
        d.field("timeout", &self.timeout)
            .field(
                "caller_id",
                &self.caller_id.as_deref().map(redact::mask_phone),
            )
            .field("channel_id", &self.channel_id)
            .field(
                "variables",
                &self.variables.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn originate_is_async_with_ordered_variables() {
        let a = Originate::to_application("PJSIP/5551234567@trunk", "SendFAX", "/spool/j1.tif,z")
            .channel_id("job-1")
            .variable("FAXJOBID", "job-1")
            .variable("FAXOPT(ecm)", "yes")
            .timeout(Duration::from_secs(45))
            .to_action()
            .unwrap();
        assert_eq!(a.get("Async"), Some("true"));
        assert_eq!(a.get("Timeout"), Some("45000"));
        let vars: Vec<_> = a
            .headers()
            .filter(|(k, _)| *k == "Variable")
            .map(|(_, v)| v)
            .collect();
        assert_eq!(vars, ["FAXJOBID=job-1", "FAXOPT(ecm)=yes"]);
    }

    #[test]
    fn variable_values_that_asterisk_would_split_are_rejected() {
        let o = Originate::to_extension("Local/s@faxout", "faxout", "s", "1");
        assert_eq!(
            o.clone().variable("FAXFILE", "/a,b.tif").to_action(),
            Err(ActionError::CommaInVariableValue {
                name: "FAXFILE".into()
            })
        );
        assert!(matches!(
            o.clone().variable("A=B", "x").to_action(),
            Err(ActionError::InvalidVariableName { .. })
        ));
        assert!(matches!(
            o.clone().variable("A", "x\r\nAction: Logoff").to_action(),
            Err(ActionError::ControlCharacter { .. })
        ));
        assert!(matches!(
            o.clone().variable("A", "x".repeat(2000)).to_action(),
            Err(ActionError::LineTooLong { .. })
        ));
        assert!(matches!(
            o.channel_id("u".repeat(150)).to_action(),
            Err(ActionError::ChannelIdTooLong { len: 150, .. })
        ));
    }

    #[test]
    fn debug_hides_secrets_and_numbers() {
        let a = Action::new("Login")
            .header("Username", "agent")
            .header("Secret", "hunter2");
        assert!(!format!("{a:?}").contains("hunter2"));
        let o = Originate::to_extension("PJSIP/+15551234567@trunk", "out", "+15551234567", "1")
            .caller_id("\"Lab\" <5550100123>");
        let d = format!("{o:?}");
        assert!(!d.contains("555123") && !d.contains("5550100"), "{d}");
    }
}
