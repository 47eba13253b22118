//! The Telnyx line (`[line] kind = "telnyx"`, or `FAX_BACKEND=telnyx`): Telnyx's Programmable Fax API v2 with
//! a bearer API key. Telnyx takes a document only by URL, so each fax's PDF is offered as a signed, expiring
//! link to that one job under the API's public URL (`POST /agent/v1/jobs/{id}/document-link`), and
//! `POST /v2/faxes` names it as `media_url` with the application (`connection_id`), the numbers, the job id
//! as `client_state` (echoed in every webhook of the fax) and `store_media = false` (Telnyx keeps no copy).
//! The webhooks go to the application's webhook URL, the API's `/telnyx-callback`; `GET /v2/faxes/{id}` is the
//! reconcile poll. Following the fax is the shared cloud machinery ([`crate::lines::cloud`]).

pub mod config;

use std::time::Duration;

use serde::Deserialize;

pub use config::TelnyxConfig;

use crate::config::Config;
use crate::engine::line::CallRequest;
use crate::engine::outcome::FailureClass;
use crate::lines::cloud::{CloudLine, FaxState, Provider, ProviderError, Timing, transport_error};
use faxline_protocol::client::AgentClient;
use faxline_protocol::telnyx::{Fax, clean_text, client_state, valid_sid};

/// Telnyx's answer is a small JSON document; more is not Telnyx.
const MAX_ANSWER_BYTES: usize = 256 * 1024;

/// Telnyx's REST API.
pub struct Telnyx {
    http: reqwest::Client,
    base: String,
    api_key: String,
    connection_id: String,
    from: String,
    quality: Option<String>,
    /// Where the document links come from (`None` for `faxline agent --check`, which sends nothing).
    api: Option<AgentClient>,
}

/// Why the Telnyx line cannot start.
#[derive(Debug, thiserror::Error)]
pub enum TelnyxLineError {
    #[error(
        "the Telnyx line needs TELNYX_API_KEY, TELNYX_CONNECTION_ID and TELNYX_FROM_NUMBER (telnyx.api_key_file, telnyx.connection_id, telnyx.from_number)"
    )]
    NotConfigured,
    #[error("cannot build the HTTP client: {0}")]
    Http(#[from] reqwest::Error),
}

/// The line `[line] kind = "telnyx"` runs.
pub fn line(cfg: &Config, api: AgentClient) -> Result<CloudLine<Telnyx>, TelnyxLineError> {
    let c = &cfg.lines.telnyx;
    let provider = Telnyx::from_config(cfg, c.request_timeout_seconds.max(1), Some(api.clone()))?;
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

/// `faxline agent --check`: Telnyx accepts the API key (the line's own health check, which sends nothing;
/// at most 30 s).
pub async fn check_connectivity(cfg: &Config) -> Vec<crate::lines::Check> {
    use crate::lines::Check;
    let timeout = cfg.lines.telnyx.request_timeout_seconds.clamp(1, 30);
    let provider = match Telnyx::from_config(cfg, timeout, None) {
        Ok(p) => p,
        // Missing settings are reported by the configuration check.
        Err(TelnyxLineError::NotConfigured) => return Vec::new(),
        Err(e) => return vec![Check::error(format!("Telnyx: {e}"))],
    };
    match provider.check().await {
        Ok(()) => vec![Check::ok("Telnyx accepts the API key")],
        Err(e) => vec![Check::error(format!("Telnyx: {}", e.detail))],
    }
}

#[derive(Debug, Deserialize)]
struct Answer {
    #[serde(default)]
    data: Option<serde_json::Value>,
    #[serde(default)]
    errors: Vec<ApiError>,
}

/// One of Telnyx's `errors`.
#[derive(Debug, Deserialize)]
struct ApiError {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    detail: Option<String>,
    #[serde(default)]
    source: Option<ErrorSource>,
}

#[derive(Debug, Deserialize)]
struct ErrorSource {
    #[serde(default)]
    pointer: Option<String>,
}

impl Answer {
    /// The first error's title and detail, bounded, with any phone number in it masked (Telnyx's detail may
    /// quote the number, and this text reaches the log).
    fn message(&self) -> String {
        self.errors
            .first()
            .map(|e| {
                let t = [e.title.as_deref(), e.detail.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(": ");
                clean_text(&faxline_protocol::mask_numbers_in(&t)).unwrap_or_default()
            })
            .unwrap_or_default()
    }

    /// Whether Telnyx refused the destination number (its error points at `/to`).
    fn about_the_number(&self) -> bool {
        self.errors.iter().any(|e| {
            e.source
                .as_ref()
                .and_then(|s| s.pointer.as_deref())
                .is_some_and(|p| p == "/to")
        })
    }
}

/// `+` and the digits: Telnyx takes E.164.
fn e164(to: &str) -> String {
    let digits: String = to.chars().filter(char::is_ascii_digit).collect();
    format!("+{digits}")
}

impl Telnyx {
    /// The API client of `[telnyx]`, each request bounded by `timeout_seconds`.
    fn from_config(
        cfg: &Config,
        timeout_seconds: u64,
        api: Option<AgentClient>,
    ) -> Result<Self, TelnyxLineError> {
        let c = &cfg.lines.telnyx;
        let (Some(key), Some(connection_id), Some(from)) =
            (&c.api_key, &c.connection_id, &c.from_number)
        else {
            return Err(TelnyxLineError::NotConfigured);
        };
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(timeout_seconds))
            .build()?;
        Ok(Telnyx {
            http,
            base: c.base_url.trim_end_matches('/').to_owned(),
            api_key: key.expose().to_owned(),
            connection_id: connection_id.clone(),
            from: from.clone(),
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
                        "Telnyx's answer to {what} is not JSON (HTTP {}); it may have taken the fax",
                        status.as_u16()
                    ),
                )
            });
        }
        let message = parsed.as_ref().map(Answer::message).unwrap_or_default();
        let detail = if message.is_empty() {
            format!("Telnyx answered HTTP {} to {what}", status.as_u16())
        } else {
            format!(
                "Telnyx answered HTTP {} to {what}: {message}",
                status.as_u16()
            )
        };
        let class = match status.as_u16() {
            401 => return Err(ProviderError::credentials(detail)),
            403 => FailureClass::Rejected,
            422 if parsed.as_ref().is_some_and(Answer::about_the_number) => {
                FailureClass::InvalidNumber
            }
            429 => FailureClass::Congestion,
            s if s >= 500 => FailureClass::ChannelUnavailable,
            _ => FailureClass::Rejected,
        };
        Err(ProviderError::new(class, detail))
    }

    /// The signed link Telnyx fetches the job's PDF from.
    async fn media_url(&self, req: &CallRequest) -> Result<String, ProviderError> {
        crate::lines::cloud::pdf_link("Telnyx", self.api.as_ref(), req).await
    }
}

impl Provider for Telnyx {
    const NAME: &'static str = "telnyx";

    async fn submit(&self, req: &CallRequest) -> Result<String, ProviderError> {
        let media_url = self.media_url(req).await?;
        let mut body = serde_json::json!({
            "connection_id": self.connection_id,
            "to": e164(&req.to),
            "from": self.from,
            "media_url": media_url,
            "client_state": client_state(&req.job_id),
            "store_media": false,
        });
        if let Some(q) = &self.quality {
            body["quality"] = q.clone().into();
        }
        let resp = self
            .http
            .post(format!("{}/faxes", self.base))
            .bearer_auth(&self.api_key)
            .json(&body)
            .send()
            .await
            .map_err(|e| transport_error(&e, "the fax submission"))?;
        let answer = Self::read(resp, "the fax submission").await?;
        answer
            .data
            .as_ref()
            .and_then(|d| d.get("id"))
            .and_then(serde_json::Value::as_str)
            .filter(|id| valid_sid(id))
            .map(str::to_owned)
            .ok_or_else(|| {
                ProviderError::new(
                    FailureClass::Unknown,
                    "Telnyx accepted the submission without a usable fax id; it may have taken the fax",
                )
            })
    }

    async fn status(&self, sid: &str) -> Result<FaxState, ProviderError> {
        let resp = self
            .http
            .get(format!("{}/faxes/{sid}", self.base))
            .bearer_auth(&self.api_key)
            .send()
            .await
            .map_err(|e| transport_error(&e, "the status poll"))?;
        let answer = Self::read(resp, "the status poll").await?;
        let fax: Fax = answer
            .data
            .and_then(|d| serde_json::from_value(d).ok())
            .ok_or_else(|| {
                ProviderError::new(FailureClass::Unknown, "Telnyx's status answer has no fax")
            })?;
        let status = fax.job_status().ok_or_else(|| {
            ProviderError::new(
                FailureClass::Unknown,
                format!(
                    "Telnyx reported an unknown status {:?}",
                    clean_text(fax.status.as_deref().unwrap_or("")).unwrap_or_default()
                ),
            )
        })?;
        Ok(FaxState {
            status,
            pages: fax.pages(),
            error: (status == faxline_protocol::JobStatus::Failed).then(|| fax.error_text()),
        })
    }

    /// `GET /faxes?page[size]=1`: sends nothing, needs the API key.
    async fn check(&self) -> Result<(), ProviderError> {
        let resp = self
            .http
            .get(format!("{}/faxes?page%5Bsize%5D=1", self.base))
            .bearer_auth(&self.api_key)
            .send()
            .await
            .map_err(|e| crate::lines::cloud::check_error("Telnyx", &e, "the fax list"))?;
        let status = resp.status().as_u16();
        crate::lines::cloud::check_answer(status, Self::read(resp, "the fax list").await)
    }

    /// From Telnyx's `failure_reason` (e.g. `user_busy`, `receiver_no_answer`).
    fn classify(&self, error: &str) -> FailureClass {
        let e = error.to_ascii_lowercase();
        if e.contains("busy") {
            FailureClass::Busy
        } else if e.contains("no_answer")
            || e.contains("no_response")
            || e.contains("initial_communication_timeout")
        {
            FailureClass::NoAnswer
        } else if e.contains("invalid_number")
            || e.contains("unallocated_number")
            || e.contains("destination_invalid")
        {
            FailureClass::InvalidNumber
        } else if e.contains("incompatible") {
            FailureClass::Incompatible
        } else if e.contains("decline")
            || e.contains("whitelist")
            || e.contains("service_plan")
            || e.contains("account_disabled")
        {
            FailureClass::Declined
        } else if e.contains("channel_limit") {
            FailureClass::Congestion
        } else if e.contains("destination_unreachable") || e.contains("service_unavailable") {
            FailureClass::ChannelUnavailable
        } else if e.contains("media") || e.contains("file_size") || e.contains("page_count") {
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
    fn numbers_and_failure_reasons() {
        assert_eq!(e164("+1 (555) 123-4567"), "+15551234567");
        let t = Telnyx {
            http: reqwest::Client::new(),
            base: String::new(),
            api_key: String::new(),
            connection_id: String::new(),
            from: String::new(),
            quality: None,
            api: None,
        };
        for (reason, class) in [
            ("user_busy", FailureClass::Busy),
            ("receiver_no_answer", FailureClass::NoAnswer),
            ("fax_initial_communication_timeout", FailureClass::NoAnswer),
            (
                "receiver_invalid_number_format",
                FailureClass::InvalidNumber,
            ),
            ("receiver_unallocated_number", FailureClass::InvalidNumber),
            (
                "receiver_incompatible_destination",
                FailureClass::Incompatible,
            ),
            ("receiver_decline", FailureClass::Declined),
            (
                "connection_channel_limit_exceeded",
                FailureClass::Congestion,
            ),
            ("destination_unreachable", FailureClass::ChannelUnavailable),
            ("file_size_limit_exceeded", FailureClass::Document),
            ("receiver_call_dropped", FailureClass::TransferFailed),
        ] {
            assert_eq!(t.classify(reason), class, "{reason}");
        }
    }
}
