//! How one call attempt ended, in line-neutral terms: why the call did not connect, why the fax failed, and the
//! cases where the agent cannot know (line connection lost, no result), which are never retried. Each line maps
//! its own causes to these classes once (Asterisk: `lines::asterisk::tracker`; SIP: `lines::sip::status`; both
//! through `lines::q850` for hang-up causes, and `lines::t30` for the sessions the agent runs itself).

use crate::config::RetryReason;

/// Why an attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureClass {
    /// The far end was busy.
    Busy,
    /// Nobody answered in time.
    NoAnswer,
    /// The network was congested (no circuit, switching equipment overloaded).
    Congestion,
    /// The line could not place the call: no channel, or the trunk or network out of order or temporarily failing.
    ChannelUnavailable,
    /// The ends could not agree on how to fax: T.38 refused without audio fallback, no usable media, or T.30
    /// capabilities that do not match.
    Negotiation,
    /// The call was answered but the fax transfer failed (training, protocol, the call dropped); the detail says
    /// how.
    TransferFailed,
    /// The number does not exist, is invalid or unroutable: a retry cannot help.
    InvalidNumber,
    /// The far end or the network refused the call (rejected, barred): not retried.
    Declined,
    /// The destination cannot take a fax call: not retried.
    Incompatible,
    /// The line could not read the fax file (a spool permission problem, a TIFF it cannot use): not the far
    /// end's fault, and not retried.
    FileUnreadable,
    /// The line refused the attempt before dialling (bad arguments, our credentials, no file), or the agent could
    /// not record it first.
    Rejected,
    /// The call ended but its fax result never arrived: it may or may not have delivered pages.
    NoResult,
    /// The agent lost track of the call (its connection to the line lost, the agent restarted): the outcome is
    /// unknown.
    Unknown,
    /// The call exceeded its overall deadline and was hung up.
    Timeout,
    /// Fetching or rendering the document failed; no call was placed.
    Document,
    /// The agent shut down: the call was hung up at the end of the grace period, or not placed at all. Not
    /// retried by this agent; the result asks the API to queue the job again (while attempts remain).
    Shutdown,
}

impl FailureClass {
    /// The `[retry] retry_on` class this failure belongs to. `None`: never retried, because a retry could
    /// send the fax twice (unknown outcome) or cannot succeed (bad document, dialplan refusal).
    pub fn retry_reason(self) -> Option<RetryReason> {
        match self {
            FailureClass::Busy => Some(RetryReason::Busy),
            FailureClass::NoAnswer => Some(RetryReason::NoAnswer),
            FailureClass::Congestion => Some(RetryReason::Congestion),
            FailureClass::ChannelUnavailable => Some(RetryReason::ChannelUnavailable),
            FailureClass::Negotiation => Some(RetryReason::Negotiation),
            FailureClass::TransferFailed => Some(RetryReason::TransferFailed),
            FailureClass::Rejected
            | FailureClass::InvalidNumber
            | FailureClass::Declined
            | FailureClass::Incompatible
            | FailureClass::FileUnreadable
            | FailureClass::NoResult
            | FailureClass::Unknown
            | FailureClass::Timeout
            | FailureClass::Document
            | FailureClass::Shutdown => None,
        }
    }

    /// Whether a failure of this class means the line never established a call: no channel, the network
    /// congested, the trunk or the provider refusing before anything was answered or taken. Only these may let
    /// the API send the job through another line (each line still says so per outcome, see
    /// [`CallOutcome::unplaced`]).
    pub fn never_connects(self) -> bool {
        matches!(
            self,
            FailureClass::ChannelUnavailable | FailureClass::Congestion
        )
    }

    /// A short, stable label for the API's error text.
    pub fn label(self) -> &'static str {
        match self {
            FailureClass::Busy => "busy",
            FailureClass::NoAnswer => "no answer",
            FailureClass::Congestion => "congestion",
            FailureClass::ChannelUnavailable => "channel unavailable",
            FailureClass::Negotiation => "T.38 negotiation failed",
            FailureClass::TransferFailed => "fax transfer failed",
            FailureClass::Rejected => "rejected before dialling",
            FailureClass::InvalidNumber => "invalid number",
            FailureClass::Declined => "call rejected",
            FailureClass::Incompatible => "incompatible destination",
            FailureClass::FileUnreadable => "fax file unreadable",
            FailureClass::NoResult => "no fax result",
            FailureClass::Unknown => "outcome unknown",
            FailureClass::Timeout => "call deadline exceeded",
            FailureClass::Document => "document error",
            FailureClass::Shutdown => "agent shutdown",
        }
    }
}

/// What a successful fax reports.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Delivery {
    pub pages: Option<u32>,
    pub bitrate: Option<u32>,
    /// `T38` or `audio`.
    pub mode: Option<String>,
    /// The far end's station id (CSI).
    pub remote_id: Option<String>,
    /// The provider's id of the fax (cloud lines); the job's `provider_sid` is otherwise the call's token.
    #[serde(default)]
    pub provider_sid: Option<String>,
}

/// The definite end of one attempt.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum CallOutcome {
    Success(Delivery),
    Failed {
        class: FailureClass,
        /// Human-readable explanation (no numbers, no document content).
        detail: String,
        /// Pages that went through before the failure, if known.
        pages: Option<u32>,
        /// Nothing can have reached the far end: no call was established and no provider took the fax. Set by
        /// the line that knows (a cloud provider's failure after it took the fax is never unplaced, whatever
        /// its class); journal records written before this field read as `false`.
        #[serde(default)]
        unplaced: bool,
    },
}

impl CallOutcome {
    /// A failure before any page went; unplaced when its class never connects a call
    /// ([`FailureClass::never_connects`]).
    pub fn failed(class: FailureClass, detail: impl Into<String>) -> Self {
        CallOutcome::Failed {
            class,
            detail: detail.into(),
            pages: None,
            unplaced: class.never_connects(),
        }
    }

    /// Whether this attempt could not have delivered anything (see [`CallOutcome::Failed::unplaced`]).
    pub fn unplaced(&self) -> bool {
        matches!(
            self,
            CallOutcome::Failed {
                unplaced: true,
                pages: None | Some(0),
                ..
            }
        )
    }

    pub fn is_success(&self) -> bool {
        matches!(self, CallOutcome::Success(_))
    }

    /// The error text reported to the API: class label, then the detail.
    pub fn error_text(&self) -> Option<String> {
        match self {
            CallOutcome::Success(_) => None,
            CallOutcome::Failed { class, detail, .. } if detail.is_empty() => {
                Some(class.label().to_owned())
            }
            CallOutcome::Failed { class, detail, .. } => {
                Some(format!("{}: {detail}", class.label()))
            }
        }
    }
}
