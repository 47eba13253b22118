//! Prometheus metrics: one recorder per process (so `faxline serve` exposes the API's and the in-process
//! agent's series on one `/metrics`), request counting by route template, and the job gauges read from the
//! database when Prometheus scrapes (they are the database's truth, shared by every API instance).
//!
//! Labels carry only route templates, methods, statuses and fixed words: never a phone number, a file
//! name, a key or an agent's free text.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// Histogram buckets in seconds: request latency (milliseconds to the 30 s long poll) and render time.
const BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's Prometheus recorder, installed on first use. When the embedding program already
/// installed another recorder, ours stays empty and a warning says so.
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets(&BUCKETS)
            .expect("the bucket list is not empty")
            .build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!(
                "another metrics recorder is installed; /metrics shows only the job gauges"
            );
        }
        handle
    })
}

/// Uses `handle` (whose recorder the caller installed) instead of installing one: `faxline serve` hands over
/// the agent's, so one `/metrics` shows both. Without effect once [`handle`] was called.
pub fn adopt(handle: PrometheusHandle) {
    let _ = HANDLE.set(handle);
}

/// The text exposition, after the periodic upkeep the exporter needs (histogram maintenance).
pub fn render() -> String {
    let h = handle();
    h.run_upkeep();
    h.render()
}

/// Counts every routed request by route template (`/fax/{id}`, never the raw path), method and status,
/// and records its latency. Installed with `route_layer`, so only matched routes are counted.
pub(crate) async fn track(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    // Any token is a valid HTTP method: fold the unknown ones, so a client cannot mint series.
    let method = match *req.method() {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::DELETE => "DELETE",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    };
    let start = Instant::now();
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    metrics::histogram!("faxline_api_request_duration_seconds", "route" => route.clone(), "method" => method)
        .record(start.elapsed().as_secs_f64());
    metrics::counter!("faxline_api_requests_total", "route" => route, "method" => method, "status" => status)
        .increment(1);
    resp
}

/// One refused credential: `kind` is `api_key` or `agent_signature`.
pub(crate) fn auth_failed(kind: &'static str) {
    metrics::counter!("faxline_api_auth_failures_total", "kind" => kind).increment(1);
}

/// One document written to its store: `backend` is `database`, `local` or `s3`; `bytes` what was
/// stored (sealed, with client-side encryption on). Counted when the write succeeds, before the
/// owner row commits: a batch whose commit then fails deletes its documents again, so these count
/// writes, not documents kept.
pub(crate) fn document_stored(backend: &'static str, bytes: usize) {
    metrics::counter!("faxline_api_documents_stored_total", "backend" => backend).increment(1);
    metrics::counter!("faxline_api_document_bytes_stored_total", "backend" => backend)
        .increment(bytes as u64);
}
