//! Where the MCP tools' REST requests go: the [`RestBackend`] port. `/mcp` on the API runs them
//! in-process against the API's own router ([`InProcess`]), carrying the caller's credentials, so
//! authentication, scopes, ownership, limits, audit and error messages are the API's; `faxline mcp`
//! on stdio sends them over HTTP to a configured API (its backend lives with the command).

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, header, request::Parts};
use bytes::{Bytes, BytesMut};
use futures::future::BoxFuture;
use tower::ServiceExt;

use crate::server::AppState;

/// A document to send: the multipart `POST /fax` the API takes.
#[derive(Debug, Clone)]
pub struct Upload {
    pub to: String,
    pub file_name: String,
    pub content: Bytes,
}

/// One REST request a tool makes: a method, a path with its query, and for `POST /fax` the upload.
#[derive(Debug, Clone)]
pub struct RestRequest {
    pub method: Method,
    pub path: String,
    pub upload: Option<Upload>,
}

impl RestRequest {
    pub fn get(path: impl Into<String>) -> Self {
        Self {
            method: Method::GET,
            path: path.into(),
            upload: None,
        }
    }

    pub fn post(path: impl Into<String>) -> Self {
        Self {
            method: Method::POST,
            path: path.into(),
            upload: None,
        }
    }
}

/// The API's answer: status, content type and body.
#[derive(Debug, Clone)]
pub struct RestResponse {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Bytes,
}

/// The API could not be asked (not an API refusal, which is a [`RestResponse`]).
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error("cannot reach the Faxline API: {0}")]
    Unreachable(String),
    #[error("the Faxline API's answer is larger than {0} bytes")]
    TooLarge(usize),
}

/// Executes the tools' REST requests. `origin` is the HTTP request the MCP message came in on
/// (`/mcp`), whose credentials and client address an in-process backend forwards; `None` on stdio.
pub trait RestBackend: Send + Sync + 'static {
    fn call<'a>(
        &'a self,
        origin: Option<&'a Parts>,
        request: RestRequest,
    ) -> BoxFuture<'a, Result<RestResponse, BackendError>>;
}

/// The API's own router, called in-process with the caller's `X-API-Key` (and address), so every
/// rule of the REST API applies unchanged.
#[derive(Clone)]
pub(crate) struct InProcess {
    state: AppState,
    /// Built on first use: the router contains `/mcp`, whose service holds this backend.
    router: Arc<OnceLock<Router>>,
}

impl InProcess {
    pub(crate) fn new(state: AppState) -> Self {
        Self {
            state,
            router: Arc::new(OnceLock::new()),
        }
    }

    /// The most a response body may hold: previews and PDFs of documents within the upload limit.
    fn response_limit(&self) -> usize {
        (self.state.cfg.max_file_bytes() as usize)
            .saturating_mul(4)
            .max(64 << 20)
    }
}

/// Headers of the MCP request that the REST request carries on.
const FORWARDED: [&str; 3] = ["x-api-key", "x-forwarded-for", "x-request-id"];

impl RestBackend for InProcess {
    fn call<'a>(
        &'a self,
        origin: Option<&'a Parts>,
        request: RestRequest,
    ) -> BoxFuture<'a, Result<RestResponse, BackendError>> {
        Box::pin(async move {
            let router = self
                .router
                .get_or_init(|| crate::routes::router(self.state.clone()))
                .clone();
            let mut builder = Request::builder().method(request.method).uri(&request.path);
            if let Some(parts) = origin {
                for name in FORWARDED {
                    for value in parts.headers.get_all(name) {
                        builder = builder.header(name, value);
                    }
                }
                if let Some(ci) = parts.extensions.get::<ConnectInfo<SocketAddr>>() {
                    builder = builder.extension(*ci);
                }
                if let Some(d) = parts.extensions.get::<super::Delegated>() {
                    builder = builder.extension(d.clone());
                }
            }
            let body = match request.upload {
                None => Body::empty(),
                Some(upload) => {
                    let (content_type, body) = multipart(&upload);
                    builder = builder.header(header::CONTENT_TYPE, content_type);
                    Body::from(body)
                }
            };
            let req = builder
                .body(body)
                .map_err(|e| BackendError::Unreachable(e.to_string()))?;
            let resp = router
                .oneshot(req)
                .await
                .unwrap_or_else(|never| match never {});
            let status = resp.status().as_u16();
            let content_type = resp
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let limit = self.response_limit();
            let body = axum::body::to_bytes(resp.into_body(), limit)
                .await
                .map_err(|_| BackendError::TooLarge(limit))?;
            Ok(RestResponse {
                status,
                content_type,
                body,
            })
        })
    }
}

/// `multipart/form-data` with the fields `to` and `file`, as the API's `POST /fax` reads them.
/// The boundary is random, so a document cannot contain it by accident or on purpose.
fn multipart(upload: &Upload) -> (String, Bytes) {
    let boundary = format!("faxline-{}", uuid::Uuid::new_v4().simple());
    let file_name: String = upload
        .file_name
        .chars()
        .map(|c| if c == '"' || c.is_control() { '_' } else { c })
        .collect();
    let mut body = BytesMut::with_capacity(upload.content.len() + 512);
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"to\"\r\n\r\n{}\r\n",
            upload.to.replace(['\r', '\n'], "")
        )
        .as_bytes(),
    );
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(&upload.content);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (
        format!("multipart/form-data; boundary={boundary}"),
        body.freeze(),
    )
}
