//! Reading the `FaxResult` UserEvent the generated dialplan raises (and the older, unencoded form seen in the
//! captured Asterisk 20 transcripts), so the orchestration and the dialplan share one definition of its keys.

use super::dialplan::{RESULT_EVENT, SOURCE_DIAL, SOURCE_FAX, uri_decode};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Send,
    Receive,
}

/// `FAXSTATUS` as reported: anything but `SUCCESS` is a failure (res_fax initialises it to `FAILED`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaxStatus {
    Success,
    Failed,
}

/// `FAXMODE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaxMode {
    T38,
    Audio,
    Other(String),
}

/// Which channel raised a send result (`Source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultSource {
    /// The trunk channel that ran SendFAX, from its own res_fax variables.
    Fax,
    /// The `;2` half of the Local channel: the dial outcome, no fax values.
    Dial,
}

/// One fax attempt's result, values decoded. Empty values are `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaxResultEvent {
    pub direction: Direction,
    /// Which channel reported it (`None`: an event without `Source`, from an older dialplan).
    pub source: Option<ResultSource>,
    /// The job token (outbound) or `in_<uniqueid>` (inbound).
    pub job_id: String,
    pub status: FaxStatus,
    /// `FAXERROR` (may be set even on success, e.g. `HANGUP`).
    pub error: Option<String>,
    pub status_string: Option<String>,
    /// The dialplan refused the attempt before dialling (`INVALID_ARGUMENTS`, `NO_SUCH_FILE`).
    pub pre_error: Option<String>,
    /// `DIALSTATUS` (outbound): ANSWER, BUSY, NOANSWER, CONGESTION, CHANUNAVAIL, CANCEL…
    pub dial_status: Option<String>,
    /// Q.850 cause.
    pub hangup_cause: Option<u16>,
    pub mode: Option<FaxMode>,
    pub pages: Option<u32>,
    pub bitrate: Option<u32>,
    /// `XxY` in pixels per metre, as spandsp reports it.
    pub resolution: Option<String>,
    pub local_station_id: Option<String>,
    pub remote_station_id: Option<String>,
    /// The TIFF as Asterisk named it.
    pub file: Option<String>,
    /// Inbound: the number called.
    pub did: Option<String>,
    /// Inbound: the caller's number (remote-controlled: treat as untrusted text).
    pub caller_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResultParseError {
    #[error("not a {RESULT_EVENT} UserEvent")]
    NotFaxResult,
    #[error("{RESULT_EVENT} without {0}")]
    MissingKey(&'static str),
    #[error("{RESULT_EVENT}: {key} has an invalid value")]
    BadValue { key: &'static str },
}

impl FaxResultEvent {
    /// Parse from the headers of an AMI event (any order, keys case-insensitive, repeated keys: first wins).
    /// Values are URI-decoded when the event carries `Encoding: uri` (the generated dialplan always does).
    pub fn from_headers<'a>(
        headers: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, ResultParseError> {
        let headers: Vec<(&str, &str)> = headers.into_iter().collect();
        let raw = |key: &str| -> Option<&str> {
            headers
                .iter()
                .find(|(k, _)| k.trim().eq_ignore_ascii_case(key))
                .map(|(_, v)| v.trim())
        };
        if !raw("Event").is_none_or(|e| e.eq_ignore_ascii_case("UserEvent"))
            || !raw("UserEvent").is_some_and(|u| u.eq_ignore_ascii_case(RESULT_EVENT))
        {
            return Err(ResultParseError::NotFaxResult);
        }
        let encoded = raw("Encoding").is_some_and(|e| e.eq_ignore_ascii_case("uri"));
        let get = |key: &str| -> Option<String> {
            raw(key)
                .map(|v| if encoded { uri_decode(v) } else { v.to_owned() })
                .filter(|v| !v.is_empty())
        };
        let number = |key: &'static str| -> Result<Option<u32>, ResultParseError> {
            get(key)
                .map(|v| v.parse().map_err(|_| ResultParseError::BadValue { key }))
                .transpose()
        };
        let direction = match get("Direction")
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("send") => Direction::Send,
            Some("receive") => Direction::Receive,
            Some(_) => return Err(ResultParseError::BadValue { key: "Direction" }),
            None => return Err(ResultParseError::MissingKey("Direction")),
        };
        let source = match get("Source").map(|s| s.to_ascii_lowercase()) {
            None => None,
            Some(s) if s == SOURCE_FAX => Some(ResultSource::Fax),
            Some(s) if s == SOURCE_DIAL => Some(ResultSource::Dial),
            Some(_) => return Err(ResultParseError::BadValue { key: "Source" }),
        };
        let job_id = get("JobID").ok_or(ResultParseError::MissingKey("JobID"))?;
        let status = match get("Status") {
            Some(s) if s.eq_ignore_ascii_case("SUCCESS") => FaxStatus::Success,
            Some(_) => FaxStatus::Failed,
            None => return Err(ResultParseError::MissingKey("Status")),
        };
        let hangup_cause = get("HangupCause")
            .map(|v| {
                v.parse::<u16>()
                    .map_err(|_| ResultParseError::BadValue { key: "HangupCause" })
            })
            .transpose()?;
        Ok(Self {
            direction,
            source,
            job_id,
            status,
            error: get("Error"),
            status_string: get("StatusString"),
            pre_error: get("PreError"),
            dial_status: get("DialStatus"),
            hangup_cause,
            mode: get("Mode").map(|m| match m.as_str() {
                "T38" => FaxMode::T38,
                "audio" => FaxMode::Audio,
                _ => FaxMode::Other(m),
            }),
            pages: number("Pages")?,
            bitrate: number("Bitrate")?,
            resolution: get("Resolution"),
            local_station_id: get("LocalStationID"),
            remote_station_id: get("RemoteStationID"),
            file: get("File"),
            did: get("DID"),
            caller_id: get("CallerID"),
        })
    }
}

impl FaxResultEvent {
    /// Whether res_fax ran for this attempt (it sets `FAXSTATUS` and `FAXMODE`, or reported a status text).
    pub fn fax_ran(&self) -> bool {
        self.status == FaxStatus::Success || self.mode.is_some() || self.status_string.is_some()
    }

    /// Whether this event settles the attempt. A dial outcome settles it only when the call was not answered (or
    /// the dialplan refused it): for an answered call the channel that ran SendFAX reports the fax. An event
    /// without `Source` (an older dialplan) that says "answered" but carries no fax values at all is the empty
    /// result of the lost hand-over between channels, never an answer.
    pub fn is_complete(&self) -> bool {
        if self.pre_error.is_some() {
            return true;
        }
        let answered = self
            .dial_status
            .as_deref()
            .is_none_or(|d| d.eq_ignore_ascii_case("ANSWER"));
        match self.source {
            Some(ResultSource::Fax) => true,
            Some(ResultSource::Dial) => !answered,
            None => {
                !answered
                    || self.status == FaxStatus::Success
                    || self.error.is_some()
                    || self.status_string.is_some()
                    || self.mode.is_some()
            }
        }
    }
}
