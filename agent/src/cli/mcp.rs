//! `faxline mcp`: the MCP server on stdio, for an assistant on this machine (Claude Desktop and other
//! clients start it as a subprocess). Its tools call the REST API at `FAXLINE_API_URL` with the key in
//! `FAXLINE_API_KEY` (or the file `FAXLINE_API_KEY_FILE`), so the key's scopes and the API's rules apply
//! as they do to any client; documents may be given as paths to local files. Logs go to standard error
//! (standard output carries the protocol).

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use faxline_api::mcp::{
    BackendError, BoxFuture, Documents, FaxMcp, RestBackend, RestRequest, RestResponse,
};
use faxline_protocol::Secret;

#[derive(Debug, clap::Args)]
pub struct McpArgs {
    /// The Faxline API: `https://…`; plain `http://` only to this machine (loopback) or, with
    /// --allow-http, to a private address or container name.
    #[arg(long, env = "FAXLINE_API_URL", default_value = "http://127.0.0.1:8080")]
    pub api_url: String,
    /// Allow plain HTTP to a private (non-loopback) address, for a local network without TLS.
    #[arg(long, env = "FAXLINE_MCP_ALLOW_HTTP")]
    pub allow_http: bool,
    /// The largest document file `send_fax` reads from a path, in MB.
    #[arg(long, env = "FAXLINE_MCP_MAX_FILE_MB", default_value_t = 25)]
    pub max_file_mb: u64,
}

/// The API key: `FAXLINE_API_KEY`, or the contents of the file `FAXLINE_API_KEY_FILE`.
fn api_key() -> anyhow::Result<Option<Secret>> {
    if let Ok(v) = std::env::var("FAXLINE_API_KEY") {
        return Ok(Some(Secret::new(v.trim())).filter(|s| !s.expose().is_empty()));
    }
    if let Some(path) = std::env::var_os("FAXLINE_API_KEY_FILE") {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading FAXLINE_API_KEY_FILE {}", path.display()))?;
        return Ok(Some(Secret::new(text.trim())).filter(|s| !s.expose().is_empty()));
    }
    Ok(None)
}

/// The API's base URL, checked: HTTPS unless the API is on this machine (or, with `allow_http`, on a
/// private address); no credentials in it.
fn api_url(text: &str, allow_http: bool) -> anyhow::Result<url::Url> {
    let url = url::Url::parse(text.trim()).with_context(|| format!("FAXLINE_API_URL {text:?}"))?;
    if !url.username().is_empty() || url.password().is_some() {
        bail!("FAXLINE_API_URL must not contain credentials; set FAXLINE_API_KEY");
    }
    let host = url.host_str().unwrap_or("");
    let loopback = host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" if allow_http && faxline_agent::config::is_local_host(host) => {}
        "http" if allow_http => bail!(
            "FAXLINE_API_URL: plain http is only allowed to a private address or container name, not {host}; use https"
        ),
        "http" => bail!(
            "FAXLINE_API_URL must use https unless the API is on this machine (--allow-http for a private network)"
        ),
        other => bail!("FAXLINE_API_URL: unsupported scheme {other:?}; use https"),
    }
    Ok(url)
}

/// The tools' REST requests over HTTP, each with the key.
struct Remote {
    http: reqwest::Client,
    base: String,
    key: Option<Secret>,
    /// The most a response body may hold (previews and PDFs).
    limit: usize,
}

impl Remote {
    async fn send(&self, request: RestRequest) -> Result<RestResponse, BackendError> {
        let url = format!("{}{}", self.base, request.path);
        let mut req = self.http.request(request.method, &url);
        if let Some(key) = &self.key {
            req = req.header("X-API-Key", key.expose());
        }
        if let Some(upload) = request.upload {
            let part = reqwest::multipart::Part::bytes(upload.content.to_vec())
                .file_name(upload.file_name);
            req = req.multipart(
                reqwest::multipart::Form::new()
                    .text("to", upload.to)
                    .part("file", part),
            );
        }
        // The error names the URL and the cause, never the key.
        let unreachable =
            |e: reqwest::Error| BackendError::Unreachable(e.without_url().to_string());
        let mut resp = req.send().await.map_err(unreachable)?;
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(unreachable)? {
            if body.len() + chunk.len() > self.limit {
                return Err(BackendError::TooLarge(self.limit));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(RestResponse {
            status,
            content_type,
            body: body.into(),
        })
    }
}

impl RestBackend for Remote {
    fn call<'a>(
        &'a self,
        _origin: Option<&'a faxline_api::mcp::Parts>,
        request: RestRequest,
    ) -> BoxFuture<'a, Result<RestResponse, BackendError>> {
        Box::pin(self.send(request))
    }
}

pub async fn run(args: McpArgs) -> anyhow::Result<()> {
    let url = api_url(&args.api_url, args.allow_http)?;
    let key = api_key()?;
    if key.is_none() {
        tracing::warn!(
            "FAXLINE_API_KEY is not set: the API will refuse every tool unless it runs without keys (development)"
        );
    }
    let max_bytes = args.max_file_mb.max(1) * 1024 * 1024;
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(120))
        .build()
        .context("building the HTTP client")?;
    let backend = Remote {
        http,
        base: url.as_str().trim_end_matches('/').to_owned(),
        key,
        limit: usize::try_from(max_bytes.saturating_mul(4).max(64 << 20)).unwrap_or(usize::MAX),
    };
    tracing::info!(api = %url.origin().ascii_serialization(), "MCP server on stdio");
    FaxMcp::new(
        Arc::new(backend),
        Documents::PathsAllowed { max_bytes },
        "stdio",
    )
    .serve_stdio()
    .await
    .context("serving MCP on stdio")
}

#[cfg(test)]
mod tests {
    use super::api_url;

    #[test]
    fn plain_http_only_to_this_machine_or_when_allowed_to_a_private_host() {
        assert!(api_url("https://fax.example.org", false).is_ok());
        assert!(api_url("http://127.0.0.1:8080", false).is_ok());
        assert!(api_url("http://localhost:8080", false).is_ok());
        assert!(api_url("http://[::1]:8080", false).is_ok());
        let e = api_url("http://fax.example.org", false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("https"), "{e}");
        assert!(api_url("http://10.0.0.5:8080", false).is_err());
        assert!(api_url("http://10.0.0.5:8080", true).is_ok());
        assert!(api_url("http://fax.example.org", true).is_err());
        assert!(api_url("ftp://127.0.0.1", false).is_err());
        let e = api_url("https://user:pw@fax.example.org", false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("credentials"), "{e}");
    }
}
