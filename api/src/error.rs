//! HTTP errors in Faxbot's shape: `{"detail": "..."}` with its texts and status codes, plus
//! FastAPI-style 422 bodies for missing form fields. Unlike Faxbot, headers such as `Retry-After`
//! are kept. Every error is audited (`api_error`) with its status and detail only.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub detail: String,
    /// Seconds for a `Retry-After` header.
    pub retry_after: Option<u64>,
    /// A FastAPI validation error: `{"detail":[{"type":"missing","loc":["body",<field>],...}]}`.
    pub missing_field: Option<&'static str>,
}

impl ApiError {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            status,
            detail: detail.into(),
            retry_after: None,
            missing_field: None,
        }
    }
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, detail)
    }
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, detail)
    }
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, detail)
    }
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, detail)
    }
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, detail)
    }
    pub fn too_many(detail: impl Into<String>, retry_after: u64) -> Self {
        Self {
            retry_after: Some(retry_after.max(1)),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, detail)
        }
    }
    /// FastAPI's 422 for a missing form field or query parameter.
    pub fn missing(location: &'static str, field: &'static str) -> Self {
        let mut e = Self::new(StatusCode::UNPROCESSABLE_ENTITY, location);
        e.missing_field = Some(field);
        e
    }
    pub fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        tracing::error!(error = %e, "storage error");
        if e.is_document_storage() {
            // Nothing was kept (see `store::documents`); the client may send it again.
            let mut r = Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "Document storage unavailable",
            );
            r.retry_after = Some(5);
            return r;
        }
        Self::internal()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = match self.missing_field {
            Some(field) => json!({"detail": [{
                "type": "missing",
                "loc": [self.detail, field],
                "msg": "Field required",
                "input": null,
            }]}),
            None => {
                crate::audit!(
                    "api_error",
                    status = self.status.as_u16(),
                    detail = %self.detail
                );
                json!({"detail": self.detail})
            }
        };
        let mut resp = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
