//! A request id on every API log line: taken from the client's `X-Request-Id` when it is a short token (so a
//! proxy's id carries through), else a new one; it is the `request` span's field and is echoed in the answer.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

const HEADER: &str = "x-request-id";

/// A client id is used only when it is 1–64 characters of `[A-Za-z0-9._-]`: it goes into logs as is.
fn acceptable(v: &str) -> bool {
    (1..=64).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

pub(crate) async fn request_id(mut req: Request, next: Next) -> Response {
    let id = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    let value = HeaderValue::from_str(&id).expect("checked or generated: visible ASCII");
    req.headers_mut().insert(HEADER, value.clone());
    let span = tracing::info_span!("request", id = %id, method = %req.method());
    let mut resp = next.run(req).instrument(span).await;
    resp.headers_mut().insert(HEADER, value);
    resp
}

#[cfg(test)]
mod tests {
    use super::acceptable;

    #[test]
    fn only_short_plain_ids_are_taken_from_clients() {
        assert!(acceptable("3f2a-11.b_c"));
        assert!(!acceptable(""));
        assert!(!acceptable(&"a".repeat(65)));
        assert!(!acceptable("id\nforged=1"));
        assert!(!acceptable("a b"));
    }
}
