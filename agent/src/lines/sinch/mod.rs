//! The Sinch line (`[line] kind = "sinch"`, or Faxbot's `FAX_BACKEND=sinch`): Sinch's Fax API v3 with HTTP
//! Basic auth (the access key's id and secret). `POST /v3/projects/{projectId}/faxes` uploads the original
//! document (multipart `file`, which Sinch converts itself) with the number as `to` and, when configured, a
//! `callbackUrl` (the API's `/sinch-callback?job_id=<id>`, carrying the webhook's Basic credentials, which is
//! how Sinch authenticates a callback) with `callbackUrlContentType = application/json`;
//! `GET /v3/projects/{projectId}/faxes/{id}` is the reconcile poll and `GET .../faxes?pageSize=1` the health
//! check. Following the fax is the shared cloud machinery ([`crate::lines::cloud`]).

pub mod config;

use std::time::Duration;

use serde::Deserialize;

pub use config::SinchConfig;

use crate::config::Config;
use crate::engine::line::CallRequest;
use crate::engine::outcome::FailureClass;
use crate::lines::cloud::{CloudLine, FaxState, Provider, ProviderError, Timing, transport_error};
use faxline_protocol::JobStatus;
use faxline_protocol::client::AgentClient;
use faxline_protocol::sinch::{Fax, clean_text};

/// Sinch's answer is a small JSON document; more is not Sinch.
const MAX_ANSWER_BYTES: usize = 256 * 1024;

/// Sinch's Fax REST API.
pub struct Sinch {
    http: reqwest::Client,
    /// `<base_url>/projects/<project_id>`.
    project: String,
    key_id: String,
    key_secret: String,
    from: Option<String>,
    service_id: Option<String>,
    /// The API's `/sinch-callback` with the webhook credentials in it (never logged).
    callback: Option<url::Url>,
}

/// Why the Sinch line cannot start.
#[derive(Debug, thiserror::Error)]
pub enum SinchLineError {
    #[error(
        "the Sinch line needs SINCH_PROJECT_ID, SINCH_API_KEY and SINCH_API_SECRET (sinch.project_id, sinch.key_id, sinch.key_secret_file)"
    )]
    NotConfigured,
    #[error(
        "sinch.callback_url is not a URL, or sinch.webhook_user / sinch.webhook_password are missing or unusable"
    )]
    Callback,
    #[error("cannot build the HTTP client: {0}")]
    Http(#[from] reqwest::Error),
}

/// The line `[line] kind = "sinch"` runs.
pub fn line(cfg: &Config, api: AgentClient) -> Result<CloudLine<Sinch>, SinchLineError> {
    let c = &cfg.lines.sinch;
    let provider = Sinch::from_config(cfg, c.request_timeout_seconds.max(1))?;
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

/// `faxline agent --check`: Sinch accepts the access key (the line's own health check, which sends nothing;
/// at most 30 s).
pub async fn check_connectivity(cfg: &Config) -> Vec<crate::lines::Check> {
    use crate::lines::Check;
    let timeout = cfg.lines.sinch.request_timeout_seconds.clamp(1, 30);
    let provider = match Sinch::from_config(cfg, timeout) {
        Ok(p) => p,
        // Missing settings are reported by the configuration check.
        Err(SinchLineError::NotConfigured | SinchLineError::Callback) => return Vec::new(),
        Err(e) => return vec![Check::error(format!("Sinch: {e}"))],
    };
    match provider.check().await {
        Ok(()) => vec![Check::ok("Sinch accepts the access key")],
        Err(e) => vec![Check::error(format!("Sinch: {}", e.detail))],
    }
}

/// Sinch's error answer: `{code, error, message, details: {fieldViolations: [{field, description}]}}`.
#[derive(Debug, Default, Deserialize)]
struct ApiError {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    details: Option<Details>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Details {
    #[serde(default)]
    field_violations: Vec<Violation>,
}

#[derive(Debug, Default, Deserialize)]
struct Violation {
    #[serde(default)]
    field: Option<String>,
    #[serde(default)]
    description: Option<String>,
}

/// Provider text fit for the job and the log: bounded, no control characters, any phone number masked.
fn safe(s: &str) -> Option<String> {
    clean_text(&faxline_protocol::mask_numbers_in(s))
}

impl ApiError {
    /// The error's title, message and first field violation.
    fn text(&self) -> String {
        let violation = self
            .details
            .as_ref()
            .and_then(|d| d.field_violations.first())
            .map(|v| {
                format!(
                    "{}: {}",
                    v.field.as_deref().and_then(clean_text).unwrap_or_default(),
                    v.description.as_deref().and_then(safe).unwrap_or_default()
                )
            });
        [
            self.error.as_deref().and_then(safe),
            self.message.as_deref().and_then(safe),
            violation,
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(": ")
    }

    /// Whether Sinch refused the destination number (a violation of the field `to`).
    fn about_the_number(&self) -> bool {
        self.details.as_ref().is_some_and(|d| {
            d.field_violations
                .iter()
                .any(|v| v.field.as_deref() == Some("to"))
        })
    }
}

/// `+` and the digits: Sinch takes E.164.
fn e164(to: &str) -> String {
    let digits: String = to.chars().filter(char::is_ascii_digit).collect();
    format!("+{digits}")
}

impl Sinch {
    /// The API client of `[sinch]`, each request bounded by `timeout_seconds`.
    fn from_config(cfg: &Config, timeout_seconds: u64) -> Result<Self, SinchLineError> {
        let c = &cfg.lines.sinch;
        let (Some(project), Some(key_id), Some(secret)) = (&c.project_id, &c.key_id, &c.key_secret)
        else {
            return Err(SinchLineError::NotConfigured);
        };
        let callback = match &c.callback_url {
            None => None,
            Some(u) => {
                let (Some(user), Some(password)) = (&c.webhook_user, &c.webhook_password) else {
                    return Err(SinchLineError::Callback);
                };
                let mut url = url::Url::parse(u).map_err(|_| SinchLineError::Callback)?;
                url.set_username(user)
                    .and_then(|()| url.set_password(Some(password.expose())))
                    .map_err(|()| SinchLineError::Callback)?;
                Some(url)
            }
        };
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(timeout_seconds))
            // Sinch answers itself; the credentials are not carried to another host.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Sinch {
            http,
            project: format!("{}/projects/{project}", c.base_url.trim_end_matches('/')),
            key_id: key_id.clone(),
            key_secret: secret.expose().to_owned(),
            from: c.from_number.clone(),
            service_id: c.service_id.clone(),
            callback,
        })
    }

    /// Reads an answer: the fax on success, a classified error otherwise.
    async fn read(resp: reqwest::Response, what: &str) -> Result<Fax, ProviderError> {
        let status = resp.status();
        let body = match crate::lines::cloud::read_bounded(resp, MAX_ANSWER_BYTES).await {
            Ok(b) => b,
            Err(e) => return Err(transport_error(&e, what)),
        };
        if status.is_success() {
            return serde_json::from_slice::<Fax>(&body).map_err(|_| {
                ProviderError::new(
                    FailureClass::Unknown,
                    format!(
                        "Sinch's answer to {what} is not JSON (HTTP {}); it may have taken the fax",
                        status.as_u16()
                    ),
                )
            });
        }
        let parsed: Option<ApiError> = serde_json::from_slice(&body).ok();
        let text = parsed.as_ref().map(ApiError::text).unwrap_or_default();
        let detail = if text.is_empty() {
            format!("Sinch answered HTTP {} to {what}", status.as_u16())
        } else {
            format!("Sinch answered HTTP {} to {what}: {text}", status.as_u16())
        };
        let class = match status.as_u16() {
            401 => return Err(ProviderError::credentials(detail)),
            400 | 422 if parsed.as_ref().is_some_and(ApiError::about_the_number) => {
                FailureClass::InvalidNumber
            }
            429 => FailureClass::Congestion,
            s if s >= 500 => FailureClass::ChannelUnavailable,
            // A redirect is not Sinch's API answering.
            s if (300..400).contains(&s) => FailureClass::Unknown,
            // 400, 402 (no balance), 403, 404, 422: refused.
            _ => FailureClass::Rejected,
        };
        Err(ProviderError::new(class, detail))
    }

    /// Where Sinch posts this job's result: the configured callback with `?job_id=` (the credentials are in
    /// it already).
    fn callback_for(&self, job_id: &str) -> Option<String> {
        let mut url = self.callback.clone()?;
        url.query_pairs_mut().append_pair("job_id", job_id);
        Some(url.into())
    }
}

impl Provider for Sinch {
    const NAME: &'static str = "sinch";

    async fn submit(&self, req: &CallRequest) -> Result<String, ProviderError> {
        let (kind, path) = match &req.document {
            crate::engine::line::Document::Original { kind, path } => (*kind, path.clone()),
            other => {
                return Err(ProviderError::new(
                    FailureClass::Document,
                    format!("the Sinch line sends the original document, got {other:?}"),
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
            .part("file", file);
        if let Some(from) = &self.from {
            form = form.text("from", from.clone());
        }
        if let Some(service) = &self.service_id {
            form = form.text("serviceId", service.clone());
        }
        if let Some(callback) = self.callback_for(&req.job_id) {
            form = form
                .text("callbackUrl", callback)
                .text("callbackUrlContentType", "application/json");
        }
        let resp = self
            .http
            .post(format!("{}/faxes", self.project))
            .basic_auth(&self.key_id, Some(&self.key_secret))
            .multipart(form)
            .send()
            .await
            .map_err(|e| transport_error(&e, "the fax submission"))?;
        let fax = Self::read(resp, "the fax submission").await?;
        fax.sid().ok_or_else(|| {
            ProviderError::new(
                FailureClass::Unknown,
                "Sinch accepted the submission without a usable fax id; it may have taken the fax",
            )
        })
    }

    async fn status(&self, sid: &str) -> Result<FaxState, ProviderError> {
        let resp = self
            .http
            .get(format!("{}/faxes/{sid}", self.project))
            .basic_auth(&self.key_id, Some(&self.key_secret))
            .send()
            .await
            .map_err(|e| transport_error(&e, "the status poll"))?;
        let fax = Self::read(resp, "the status poll").await?;
        let status = fax.job_status().ok_or_else(|| {
            ProviderError::new(
                FailureClass::Unknown,
                format!("Sinch reported an unknown status {:?}", fax.status_text()),
            )
        })?;
        Ok(FaxState {
            status,
            pages: fax.pages(),
            error: (status == JobStatus::Failed).then(|| fax.error_text()),
        })
    }

    /// `GET .../faxes?pageSize=1`: sends nothing, needs the access key and fax rights.
    async fn check(&self) -> Result<(), ProviderError> {
        let resp = self
            .http
            .get(format!("{}/faxes?pageSize=1", self.project))
            .basic_auth(&self.key_id, Some(&self.key_secret))
            .send()
            .await
            .map_err(|e| crate::lines::cloud::check_error("Sinch", &e, "the fax list"))?;
        let status = resp.status().as_u16();
        crate::lines::cloud::check_answer(status, Self::read(resp, "the fax list").await)
    }

    /// From Sinch's error text (`message (ERROR_TYPE code)`).
    fn classify(&self, error: &str) -> FailureClass {
        let e = error.to_ascii_lowercase();
        if e.contains("busy") {
            FailureClass::Busy
        } else if e.contains("no answer") || e.contains("not answer") || e.contains("no_answer") {
            FailureClass::NoAnswer
        } else if e.contains("document_conversion_error") {
            FailureClass::Document
        } else if e.contains("number")
            && (e.contains("invalid")
                || e.contains("not in service")
                || e.contains("unallocated")
                || e.contains("not operational"))
        {
            FailureClass::InvalidNumber
        } else if e.contains("not a fax") || e.contains("no fax") || e.contains("voice") {
            FailureClass::Incompatible
        } else if e.contains("rejected") || e.contains("declined") {
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
    fn numbers_callbacks_and_errors() {
        assert_eq!(e164("+1 (555) 123-4567"), "+15551234567");
        let mut callback = url::Url::parse("https://fax.example.org/sinch-callback").unwrap();
        callback.set_username("sinch-hooks").unwrap();
        callback
            .set_password(Some("3f9c1a7e5b2d4068a1c3e5f7091b2d4f"))
            .unwrap();
        let s = Sinch {
            http: reqwest::Client::new(),
            project: String::new(),
            key_id: String::new(),
            key_secret: String::new(),
            from: None,
            service_id: None,
            callback: Some(callback),
        };
        let u = url::Url::parse(&s.callback_for("job1").unwrap()).unwrap();
        assert_eq!(u.username(), "sinch-hooks");
        assert_eq!(u.password(), Some("3f9c1a7e5b2d4068a1c3e5f7091b2d4f"));
        assert_eq!(u.query(), Some("job_id=job1"));
        assert_eq!(u.path(), "/sinch-callback");
        for (text, class) in [
            ("Busy (CALL_ERROR 17)", FailureClass::Busy),
            ("No answer (CALL_ERROR 19)", FailureClass::NoAnswer),
            (
                "Mimetype not supported (DOCUMENT_CONVERSION_ERROR 129)",
                FailureClass::Document,
            ),
            (
                "The number is not in service (FATAL_ERROR 30)",
                FailureClass::InvalidNumber,
            ),
            (
                "Not a fax machine (FAX_ERROR 22)",
                FailureClass::Incompatible,
            ),
            (
                "Communication error (FAX_ERROR 41)",
                FailureClass::TransferFailed,
            ),
        ] {
            assert_eq!(s.classify(text), class, "{text}");
        }
        let e: ApiError = serde_json::from_str(
            r#"{"code":"422","error":"Invalid parameters","message":"bad","details":{"fieldViolations":[{"field":"to","description":"The (+15551) is not a valid phone number"}]}}"#,
        )
        .unwrap();
        assert!(e.about_the_number());
        let t = e.text();
        assert!(t.starts_with("Invalid parameters: bad: to: The ("), "{t}");
    }
}
