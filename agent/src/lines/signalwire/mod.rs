//! The SignalWire line (`[line] kind = "signalwire"`, or `FAX_BACKEND=signalwire`): SignalWire's
//! Compatibility (LaML/cXML) Fax API, HTTP Basic with the project id and API token. SignalWire takes a
//! document only by URL, so each fax's PDF is offered as a signed, expiring link to that one job under the
//! API's public URL (`POST /agent/v1/jobs/{id}/document-link`); `POST .../Accounts/{project}/Faxes` names it
//! as `MediaUrl` with the numbers and `StatusCallback` = the API's `/signalwire-callback?job_id=<id>` (the
//! query is covered by SignalWire's signature, so the callback names its job). `GET .../Faxes/{sid}.json` is
//! the reconcile poll. Following the fax is the shared cloud machinery ([`crate::lines::cloud`]).

pub mod config;

use std::time::Duration;

use serde::Deserialize;

pub use config::SignalWireConfig;

use crate::config::Config;
use crate::engine::line::CallRequest;
use crate::engine::outcome::FailureClass;
use crate::lines::cloud::{CloudLine, FaxState, Provider, ProviderError, Timing, transport_error};
use faxline_protocol::JobStatus;
use faxline_protocol::client::AgentClient;
use faxline_protocol::phaxio::clean_text;

/// SignalWire's answer is a small JSON document; more is not SignalWire.
const MAX_ANSWER_BYTES: usize = 256 * 1024;

/// SignalWire's Compatibility REST API.
pub struct SignalWire {
    http: reqwest::Client,
    /// `https://<space>/api/laml/2010-04-01/Accounts/<project>`.
    account: String,
    project_id: String,
    api_token: String,
    from: String,
    callback_url: Option<String>,
    quality: Option<String>,
    /// Where the document links come from (`None` for `faxline agent --check`, which sends nothing).
    api: Option<AgentClient>,
}

/// Why the SignalWire line cannot start.
#[derive(Debug, thiserror::Error)]
pub enum SignalWireLineError {
    #[error(
        "the SignalWire line needs SIGNALWIRE_SPACE_URL, SIGNALWIRE_PROJECT_ID, SIGNALWIRE_API_TOKEN and SIGNALWIRE_FAX_FROM_E164 (signalwire.space_url, signalwire.project_id, signalwire.api_token_file, signalwire.from_number)"
    )]
    NotConfigured,
    #[error("cannot build the HTTP client: {0}")]
    Http(#[from] reqwest::Error),
}

/// The line `[line] kind = "signalwire"` runs.
pub fn line(cfg: &Config, api: AgentClient) -> Result<CloudLine<SignalWire>, SignalWireLineError> {
    let c = &cfg.lines.signalwire;
    let provider =
        SignalWire::from_config(cfg, c.request_timeout_seconds.max(1), Some(api.clone()))?;
    Ok(CloudLine::new(
        provider,
        api,
        Timing {
            reconcile_after: Duration::from_secs(c.reconcile_after_seconds.max(1)),
            max_wait: Duration::from_secs(c.max_wait_seconds.max(60)),
            health_every: Duration::from_secs(c.health_check_seconds.max(1)),
        },
    ))
}

/// `faxline agent --check`: SignalWire accepts the project's credentials (the line's own health check, which
/// sends nothing; at most 30 s).
pub async fn check_connectivity(cfg: &Config) -> Vec<crate::lines::Check> {
    use crate::lines::Check;
    let timeout = cfg.lines.signalwire.request_timeout_seconds.clamp(1, 30);
    let provider = match SignalWire::from_config(cfg, timeout, None) {
        Ok(p) => p,
        // Missing settings are reported by the configuration check.
        Err(SignalWireLineError::NotConfigured) => return Vec::new(),
        Err(e) => return vec![Check::error(format!("SignalWire: {e}"))],
    };
    match provider.check().await {
        Ok(()) => vec![Check::ok("SignalWire accepts the project's credentials")],
        Err(e) => vec![Check::error(format!("SignalWire: {}", e.detail))],
    }
}

/// A fax resource, or an error (Twilio's shape: `code`, `message`).
#[derive(Debug, Default, Deserialize)]
struct Answer {
    #[serde(default)]
    sid: Option<String>,
    /// The fax's status (a string); in an error, the HTTP status (a number).
    #[serde(default)]
    status: Option<serde_json::Value>,
    #[serde(default)]
    num_pages: Option<serde_json::Value>,
    #[serde(default)]
    error_code: Option<serde_json::Value>,
    #[serde(default)]
    error_message: Option<String>,
    #[serde(default)]
    code: Option<serde_json::Value>,
    #[serde(default)]
    message: Option<String>,
}

/// A JSON number or numeric string as an integer (SignalWire writes both).
fn int(v: &Option<serde_json::Value>) -> Option<i64> {
    match v.as_ref()? {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Provider text fit for the job and the log: bounded, no control characters, any phone number masked.
fn safe(s: &str) -> Option<String> {
    clean_text(&faxline_protocol::mask_numbers_in(s))
}

impl Answer {
    /// The error's message and code.
    fn message(&self) -> String {
        let m = self.message.as_deref().and_then(safe);
        match (m, int(&self.code)) {
            (Some(m), Some(c)) => format!("{m} (SignalWire error {c})"),
            (Some(m), None) => m,
            (None, Some(c)) => format!("SignalWire error {c}"),
            (None, None) => String::new(),
        }
    }

    /// Whether SignalWire refused the destination number (Twilio's 21211 "invalid To", 21214 "not
    /// reachable", or a message about `To`).
    fn about_the_number(&self) -> bool {
        matches!(int(&self.code), Some(21211 | 21214 | 21217))
            || self.message.as_deref().is_some_and(|m| m.contains("'To'"))
    }

    /// A failed fax's reason: SignalWire's code and message, else its status (`busy`, `no-answer`).
    fn error_text(&self, status: &str) -> String {
        let m = self.error_message.as_deref().and_then(safe);
        match (m, int(&self.error_code)) {
            (Some(m), Some(c)) => format!("{m} (SignalWire error {c})"),
            (Some(m), None) => m,
            (None, Some(c)) => format!("{status} (SignalWire error {c})"),
            (None, None) => status.to_owned(),
        }
    }
}

/// The job status a fax's `status` means.
fn map_status(status: &str) -> Option<JobStatus> {
    Some(match status {
        "queued" => JobStatus::Queued,
        "processing" | "sending" => JobStatus::InProgress,
        "delivered" => JobStatus::Success,
        "no-answer" | "busy" | "failed" | "canceled" => JobStatus::Failed,
        _ => return None,
    })
}

/// SignalWire's ids are UUIDs: letters, digits and `-`, at most 64.
fn valid_sid(sid: &str) -> bool {
    !sid.is_empty() && sid.len() <= 64 && sid.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// `+` and the digits: SignalWire takes E.164.
fn e164(to: &str) -> String {
    let digits: String = to.chars().filter(char::is_ascii_digit).collect();
    format!("+{digits}")
}

impl SignalWire {
    /// The API client of `[signalwire]`, each request bounded by `timeout_seconds`.
    fn from_config(
        cfg: &Config,
        timeout_seconds: u64,
        api: Option<AgentClient>,
    ) -> Result<Self, SignalWireLineError> {
        let c = &cfg.lines.signalwire;
        let (Some(base), Some(project), Some(token), Some(from)) =
            (c.api_base(), &c.project_id, &c.api_token, &c.from_number)
        else {
            return Err(SignalWireLineError::NotConfigured);
        };
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(timeout_seconds))
            // SignalWire answers itself; the credentials are not carried to another host.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(SignalWire {
            http,
            account: format!("{base}/Accounts/{project}"),
            project_id: project.clone(),
            api_token: token.expose().to_owned(),
            from: from.clone(),
            callback_url: c.callback_url.clone(),
            quality: c.quality.clone(),
            api,
        })
    }

    /// Reads an answer: the JSON on success, a classified error otherwise.
    async fn read(resp: reqwest::Response, what: &str) -> Result<Answer, ProviderError> {
        let status = resp.status();
        let body = match crate::lines::cloud::read_bounded(resp, MAX_ANSWER_BYTES).await {
            Ok(b) => b,
            Err(e) => return Err(transport_error(&e, what)),
        };
        let parsed: Option<Answer> = serde_json::from_slice(&body).ok();
        if status.is_success() {
            return parsed.ok_or_else(|| {
                ProviderError::new(
                    FailureClass::Unknown,
                    format!(
                        "SignalWire's answer to {what} is not JSON (HTTP {}); it may have taken the fax",
                        status.as_u16()
                    ),
                )
            });
        }
        let message = parsed.as_ref().map(Answer::message).unwrap_or_default();
        let detail = if message.is_empty() {
            format!("SignalWire answered HTTP {} to {what}", status.as_u16())
        } else {
            format!(
                "SignalWire answered HTTP {} to {what}: {message}",
                status.as_u16()
            )
        };
        let class = match status.as_u16() {
            401 => return Err(ProviderError::credentials(detail)),
            400 | 422 if parsed.as_ref().is_some_and(Answer::about_the_number) => {
                FailureClass::InvalidNumber
            }
            429 => FailureClass::Congestion,
            s if s >= 500 => FailureClass::ChannelUnavailable,
            // A redirect is not SignalWire's API answering.
            s if (300..400).contains(&s) => FailureClass::Unknown,
            _ => FailureClass::Rejected,
        };
        Err(ProviderError::new(class, detail))
    }

    /// The signed link SignalWire fetches the job's PDF from.
    async fn media_url(&self, req: &CallRequest) -> Result<String, ProviderError> {
        crate::lines::cloud::pdf_link("SignalWire", self.api.as_ref(), req).await
    }

    /// Where SignalWire posts this job's status: the configured callback, else the API's
    /// `/signalwire-callback` under the public URL the document link is under; `?job_id=` names the job.
    fn status_callback(&self, job_id: &str, media_url: &str) -> Result<String, ProviderError> {
        let base = match &self.callback_url {
            Some(u) => u.clone(),
            None => media_url
                .find(&format!("/fax/{job_id}/pdf"))
                .map(|i| format!("{}/signalwire-callback", &media_url[..i]))
                .ok_or_else(|| {
                    ProviderError::new(
                        FailureClass::Rejected,
                        "no status callback URL: set signalwire.callback_url (SIGNALWIRE_STATUS_CALLBACK_URL)",
                    )
                })?,
        };
        let sep = if base.contains('?') { '&' } else { '?' };
        Ok(format!("{base}{sep}job_id={job_id}"))
    }
}

impl Provider for SignalWire {
    const NAME: &'static str = "signalwire";

    async fn submit(&self, req: &CallRequest) -> Result<String, ProviderError> {
        let media_url = self.media_url(req).await?;
        let callback = self.status_callback(&req.job_id, &media_url)?;
        let to = e164(&req.to);
        let mut form: Vec<(&str, &str)> = vec![
            ("To", to.as_str()),
            ("From", self.from.as_str()),
            ("MediaUrl", media_url.as_str()),
            ("StatusCallback", callback.as_str()),
        ];
        if let Some(q) = &self.quality {
            form.push(("Quality", q.as_str()));
        }
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let resp = self
            .http
            .post(format!("{}/Faxes", self.account))
            .basic_auth(&self.project_id, Some(&self.api_token))
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(body)
            .send()
            .await
            .map_err(|e| transport_error(&e, "the fax submission"))?;
        let answer = Self::read(resp, "the fax submission").await?;
        answer
            .sid
            .filter(|id| valid_sid(id))
            .ok_or_else(|| {
                ProviderError::new(
                    FailureClass::Unknown,
                    "SignalWire accepted the submission without a usable fax sid; it may have taken the fax",
                )
            })
    }

    async fn status(&self, sid: &str) -> Result<FaxState, ProviderError> {
        let resp = self
            .http
            .get(format!("{}/Faxes/{sid}.json", self.account))
            .basic_auth(&self.project_id, Some(&self.api_token))
            .send()
            .await
            .map_err(|e| transport_error(&e, "the status poll"))?;
        let answer = Self::read(resp, "the status poll").await?;
        let raw = answer
            .status
            .as_ref()
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let status = map_status(&raw).ok_or_else(|| {
            ProviderError::new(
                FailureClass::Unknown,
                format!(
                    "SignalWire reported an unknown status {:?}",
                    clean_text(&raw).unwrap_or_default()
                ),
            )
        })?;
        Ok(FaxState {
            status,
            pages: int(&answer.num_pages),
            error: (status == JobStatus::Failed).then(|| answer.error_text(&raw)),
        })
    }

    /// `GET .../Faxes.json?PageSize=1`: sends nothing, needs the project's credentials and fax rights.
    async fn check(&self) -> Result<(), ProviderError> {
        let resp = self
            .http
            .get(format!("{}/Faxes.json?PageSize=1", self.account))
            .basic_auth(&self.project_id, Some(&self.api_token))
            .send()
            .await
            .map_err(|e| crate::lines::cloud::check_error("SignalWire", &e, "the fax list"))?;
        let status = resp.status().as_u16();
        crate::lines::cloud::check_answer(status, Self::read(resp, "the fax list").await)
    }

    /// From the status or SignalWire's error text (`busy`, `no-answer`, `canceled`, `... (SignalWire error
    /// N)`).
    fn classify(&self, error: &str) -> FailureClass {
        let e = error.to_ascii_lowercase();
        if e.contains("busy") {
            FailureClass::Busy
        } else if e.contains("no-answer") || e.contains("no answer") {
            FailureClass::NoAnswer
        } else if e.contains("invalid") && (e.contains("number") || e.contains("'to'")) {
            FailureClass::InvalidNumber
        } else if e.contains("incompatible") || e.contains("not a fax") {
            FailureClass::Incompatible
        } else if e.starts_with("canceled") {
            FailureClass::Rejected
        } else if e.contains("media") || e.contains("document") {
            FailureClass::Document
        } else {
            FailureClass::TransferFailed
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_statuses_and_failure_reasons() {
        assert_eq!(e164("+1 (555) 123-4567"), "+15551234567");
        assert_eq!(map_status("delivered"), Some(JobStatus::Success));
        assert_eq!(map_status("sending"), Some(JobStatus::InProgress));
        assert_eq!(map_status("no-answer"), Some(JobStatus::Failed));
        assert_eq!(map_status("received"), None);
        let t = SignalWire {
            http: reqwest::Client::new(),
            account: String::new(),
            project_id: String::new(),
            api_token: String::new(),
            from: String::new(),
            callback_url: None,
            quality: None,
            api: None,
        };
        for (reason, class) in [
            ("busy", FailureClass::Busy),
            ("no-answer (SignalWire error 15001)", FailureClass::NoAnswer),
            (
                "Invalid 'To' number (SignalWire error 21211)",
                FailureClass::InvalidNumber,
            ),
            (
                "Remote side is not a fax machine",
                FailureClass::Incompatible,
            ),
            ("canceled", FailureClass::Rejected),
            (
                "Media could not be fetched (SignalWire error 15003)",
                FailureClass::Document,
            ),
            ("failed", FailureClass::TransferFailed),
        ] {
            assert_eq!(t.classify(reason), class, "{reason}");
        }
        assert_eq!(
            t.status_callback("j1", "https://fax.example.org/fax/j1/pdf?token=x")
                .unwrap(),
            "https://fax.example.org/signalwire-callback?job_id=j1"
        );
        let a = Answer {
            error_code: Some(15002.into()),
            error_message: Some("Call to +15551234567 failed".into()),
            ..Answer::default()
        };
        let text = a.error_text("failed");
        assert!(!text.contains("5551234567"), "{text}");
        assert!(text.ends_with("(SignalWire error 15002)"), "{text}");
    }
}
