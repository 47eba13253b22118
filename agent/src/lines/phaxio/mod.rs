//! The Phaxio line (`[line] kind = "phaxio"`, or Faxbot's `FAX_BACKEND=phaxio`): Phaxio's REST API v2.1 with
//! HTTP Basic auth (API key and secret). `POST /faxes` uploads the original document (PDF or text, which
//! Phaxio renders) as `file` with the number as `to`, the job as the tag `faxline_job` and, when configured,
//! the status `callback_url` (the API's `/phaxio-callback`, where the signed callback is verified);
//! `GET /faxes/{id}` is the reconcile poll. Following the fax is the shared cloud machinery
//! ([`crate::lines::cloud`]).

pub mod config;

use std::time::Duration;

use serde::Deserialize;

pub use config::PhaxioConfig;

use crate::config::Config;
use crate::engine::line::CallRequest;
use crate::engine::outcome::FailureClass;
use crate::lines::cloud::{CloudLine, FaxState, Provider, ProviderError, Timing, transport_error};
use faxline_protocol::JobStatus;
use faxline_protocol::client::AgentClient;
use faxline_protocol::phaxio::{Fax, JOB_TAG, clean_text};

/// Phaxio's answer is a small JSON document; more is not Phaxio.
const MAX_ANSWER_BYTES: usize = 256 * 1024;

/// Phaxio's REST API.
pub struct Phaxio {
    http: reqwest::Client,
    base: String,
    api_key: String,
    api_secret: String,
    callback_url: Option<String>,
}

/// Why the Phaxio line cannot start.
#[derive(Debug, thiserror::Error)]
pub enum PhaxioLineError {
    #[error(
        "the Phaxio line needs PHAXIO_API_KEY and PHAXIO_API_SECRET (phaxio.api_key, FAXLINE_PHAXIO__API_SECRET or phaxio.api_secret_file)"
    )]
    NoCredentials,
    #[error("cannot build the HTTP client: {0}")]
    Http(#[from] reqwest::Error),
}

/// The line `[line] kind = "phaxio"` runs.
pub fn line(cfg: &Config, api: AgentClient) -> Result<CloudLine<Phaxio>, PhaxioLineError> {
    let c = &cfg.lines.phaxio;
    let provider = Phaxio::from_config(cfg, c.request_timeout_seconds.max(1))?;
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

/// `faxline agent --check`: Phaxio accepts the API key and secret (the line's own health check,
/// `GET /account/status`, which sends nothing; at most 30 s).
pub async fn check_connectivity(cfg: &Config) -> Vec<crate::lines::Check> {
    use crate::lines::Check;
    let timeout = cfg.lines.phaxio.request_timeout_seconds.clamp(1, 30);
    let provider = match Phaxio::from_config(cfg, timeout) {
        Ok(p) => p,
        // Missing credentials are reported by the configuration check.
        Err(PhaxioLineError::NoCredentials) => return Vec::new(),
        Err(e) => return vec![Check::error(format!("Phaxio: {e}"))],
    };
    match provider.check().await {
        Ok(()) => vec![Check::ok("Phaxio accepts the API key and secret")],
        Err(e) => vec![Check::error(format!("Phaxio: {}", e.detail))],
    }
}

#[derive(Debug, Deserialize)]
struct Answer {
    #[serde(default)]
    success: Option<bool>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    data: Option<serde_json::Value>,
}

/// Provider text, bounded, without control characters.
fn clean(s: &str) -> String {
    clean_text(s).unwrap_or_default()
}

/// `+` and the digits: Phaxio takes E.164.
fn e164(to: &str) -> String {
    let digits: String = to.chars().filter(char::is_ascii_digit).collect();
    format!("+{digits}")
}

impl Phaxio {
    /// The API client of `[phaxio]`, each request bounded by `timeout_seconds`.
    fn from_config(cfg: &Config, timeout_seconds: u64) -> Result<Self, PhaxioLineError> {
        let c = &cfg.lines.phaxio;
        let (Some(key), Some(secret)) = (&c.api_key, &c.api_secret) else {
            return Err(PhaxioLineError::NoCredentials);
        };
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(timeout_seconds))
            .build()?;
        Ok(Phaxio {
            http,
            base: c.base_url.trim_end_matches('/').to_owned(),
            api_key: key.clone(),
            api_secret: secret.expose().to_owned(),
            callback_url: c.callback_url.clone(),
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
        let message = parsed
            .as_ref()
            .and_then(|a| a.message.as_deref())
            .map(clean)
            .unwrap_or_default();
        if status.is_success() {
            return match parsed {
                Some(a) if a.success != Some(false) => Ok(a),
                Some(_) => Err(ProviderError::new(
                    FailureClass::Rejected,
                    format!("Phaxio refused {what}: {message}"),
                )),
                None => Err(ProviderError::new(
                    FailureClass::Unknown,
                    format!(
                        "Phaxio's answer to {what} is not JSON (HTTP {}); it may have taken the fax",
                        status.as_u16()
                    ),
                )),
            };
        }
        if status.as_u16() == 401 {
            return Err(ProviderError::credentials(if message.is_empty() {
                format!("Phaxio answered HTTP 401 to {what}")
            } else {
                format!("Phaxio answered HTTP 401 to {what}: {message}")
            }));
        }
        let class = match status.as_u16() {
            403 => FailureClass::Rejected,
            422 if message.to_ascii_lowercase().contains("number") => FailureClass::InvalidNumber,
            429 => FailureClass::Congestion,
            s if s >= 500 => FailureClass::ChannelUnavailable,
            _ => FailureClass::Rejected,
        };
        let detail = if message.is_empty() {
            format!("Phaxio answered HTTP {} to {what}", status.as_u16())
        } else {
            format!(
                "Phaxio answered HTTP {} to {what}: {message}",
                status.as_u16()
            )
        };
        Err(ProviderError::new(class, detail))
    }
}

impl Provider for Phaxio {
    const NAME: &'static str = "phaxio";

    async fn submit(&self, req: &CallRequest) -> Result<String, ProviderError> {
        let (kind, path) = match &req.document {
            crate::engine::line::Document::Original { kind, path } => (*kind, path.clone()),
            other => {
                return Err(ProviderError::new(
                    FailureClass::Document,
                    format!("the Phaxio line sends the original document, got {other:?}"),
                ));
            }
        };
        let bytes = tokio::fs::read(&path).await.map_err(|e| {
            ProviderError::new(
                FailureClass::FileUnreadable,
                format!("cannot read the document: {e}"),
            )
        })?;
        let file = reqwest::multipart::Part::bytes(bytes)
            .file_name(format!("document.{}", kind.as_str()))
            .mime_str(kind.content_type())
            .map_err(|e| ProviderError::new(FailureClass::Document, e.to_string()))?;
        let mut form = reqwest::multipart::Form::new()
            .text("to", e164(&req.to))
            .text(format!("tags[{JOB_TAG}]"), req.job_id.clone())
            .part("file", file);
        if let Some(url) = &self.callback_url {
            form = form.text("callback_url", url.clone());
        }
        let resp = self
            .http
            .post(format!("{}/faxes", self.base))
            .basic_auth(&self.api_key, Some(&self.api_secret))
            .multipart(form)
            .send()
            .await
            .map_err(|e| transport_error(&e, "the fax submission"))?;
        let answer = Self::read(resp, "the fax submission").await?;
        let id = answer
            .data
            .as_ref()
            .and_then(|d| d.get("id"))
            .and_then(|id| match id {
                serde_json::Value::Number(n) => Some(n.to_string()),
                serde_json::Value::String(s) => Some(s.clone()),
                _ => None,
            })
            .filter(|id| {
                !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric())
            });
        id.ok_or_else(|| {
            ProviderError::new(
                FailureClass::Unknown,
                "Phaxio accepted the submission without a usable fax id; it may have taken the fax",
            )
        })
    }

    async fn status(&self, sid: &str) -> Result<FaxState, ProviderError> {
        let resp = self
            .http
            .get(format!("{}/faxes/{sid}", self.base))
            .basic_auth(&self.api_key, Some(&self.api_secret))
            .send()
            .await
            .map_err(|e| transport_error(&e, "the status poll"))?;
        let answer = Self::read(resp, "the status poll").await?;
        let fax: Fax = answer
            .data
            .and_then(|d| serde_json::from_value(d).ok())
            .ok_or_else(|| {
                ProviderError::new(FailureClass::Unknown, "Phaxio's status answer has no fax")
            })?;
        let status = fax.job_status().ok_or_else(|| {
            ProviderError::new(
                FailureClass::Unknown,
                format!(
                    "Phaxio reported an unknown status {:?}",
                    clean(fax.status.as_deref().unwrap_or(""))
                ),
            )
        })?;
        Ok(FaxState {
            status,
            pages: fax.pages(),
            error: (status == JobStatus::Failed).then(|| fax.error_text()),
        })
    }

    /// `GET /account/status`: sends nothing, needs the API key and secret.
    async fn check(&self) -> Result<(), ProviderError> {
        let resp = self
            .http
            .get(format!("{}/account/status", self.base))
            .basic_auth(&self.api_key, Some(&self.api_secret))
            .send()
            .await
            .map_err(|e| crate::lines::cloud::check_error("Phaxio", &e, "the account status"))?;
        let status = resp.status().as_u16();
        crate::lines::cloud::check_answer(status, Self::read(resp, "the account status").await)
    }

    /// From Phaxio's error text (`error_message (error_type)`).
    fn classify(&self, error: &str) -> FailureClass {
        let e = error.to_ascii_lowercase();
        if e.contains("busy") {
            FailureClass::Busy
        } else if e.contains("no answer") || e.contains("not answer") {
            FailureClass::NoAnswer
        } else if e.contains("documentconversionerror") {
            FailureClass::Document
        } else if e.contains("number")
            && (e.contains("invalid") || e.contains("not operational") || e.contains("bad"))
        {
            FailureClass::InvalidNumber
        } else if e.contains("not a fax") || e.contains("no fax") || e.contains("voice") {
            FailureClass::Incompatible
        } else if e.contains("fatalerror") {
            FailureClass::Declined
        } else {
            FailureClass::TransferFailed
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_errors() {
        assert_eq!(e164("+1 (555) 123-4567"), "+15551234567");
        let p = Phaxio {
            http: reqwest::Client::new(),
            base: String::new(),
            api_key: String::new(),
            api_secret: String::new(),
            callback_url: None,
        };
        assert_eq!(p.classify("Busy (lineError)"), FailureClass::Busy);
        assert_eq!(p.classify("No answer (lineError)"), FailureClass::NoAnswer);
        assert_eq!(
            p.classify("Phone number not operational (fatalError)"),
            FailureClass::InvalidNumber
        );
        assert_eq!(
            p.classify("Could not convert (documentConversionError)"),
            FailureClass::Document
        );
        assert_eq!(
            p.classify("Training failed (faxError)"),
            FailureClass::TransferFailed
        );
    }
}
