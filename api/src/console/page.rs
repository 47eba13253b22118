//! Rendering: the askama templates (checked at compile time, HTML-escaped), the page chrome, error
//! pages, and small formatting helpers.

use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::session::Session;

/// What every logged-in page shows around its content: who is logged in, the CSRF token of the
/// logout forms, and which tab is active.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub username: String,
    pub is_admin: bool,
    pub csrf: String,
    pub active: &'static str,
}

impl Chrome {
    pub fn new(s: &Session, active: &'static str) -> Self {
        Self {
            username: s.username.clone(),
            is_admin: s.is_admin(),
            csrf: s.csrf.clone(),
            active,
        }
    }
}

/// A rendered page with no-store caching (pages show patient data) and a strict CSP: no script or
/// style from anywhere but this server.
pub fn html(status: StatusCode, t: &impl Template) -> Response {
    match t.render() {
        Ok(body) => (
            status,
            [
                (header::CACHE_CONTROL, "no-store"),
                (
                    header::CONTENT_SECURITY_POLICY,
                    "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; \
                     form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
                ),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                (header::REFERRER_POLICY, "same-origin"),
            ],
            Html(body),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "console template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "console/error.html")]
struct ErrorPage<'a> {
    status: u16,
    reason: &'a str,
    message: &'a str,
}

/// A plain error page.
pub fn error_page(status: StatusCode, message: &str) -> Response {
    html(
        status,
        &ErrorPage {
            status: status.as_u16(),
            reason: status.canonical_reason().unwrap_or("Error"),
            message,
        },
    )
}

/// Percent-encodes a query value.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Microseconds since the epoch as `YYYY-MM-DD HH:MM UTC`.
pub fn when(us: i64) -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    time::OffsetDateTime::from_unix_timestamp_nanos(us as i128 * 1000)
        .ok()
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_default()
}

/// A local redirect target from a `next` parameter: a path on this server, never another host.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/outbox".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_server() {
        assert_eq!(safe_next(Some("/inbox?page=2")), "/inbox?page=2");
        assert_eq!(safe_next(Some("//evil.example/")), "/outbox");
        assert_eq!(safe_next(Some("https://evil.example/")), "/outbox");
        assert_eq!(safe_next(Some("/\\evil.example")), "/outbox");
        assert_eq!(safe_next(None), "/outbox");
    }

    #[test]
    fn encodes_and_formats() {
        assert_eq!(url_encode("/inbox?page=2"), "%2Finbox%3Fpage%3D2");
        assert_eq!(when(0), "1970-01-01 00:00 UTC");
    }
}
