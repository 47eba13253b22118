//! `GET /metrics`: the Prometheus text exposition. It needs a key with the `metrics:read` scope (sent as
//! `X-API-Key` or `Authorization: Bearer`, which Prometheus's `authorization` setting sends), because
//! job counts and agent names say how a business uses fax; with `require_api_key = false` it is open
//! like every other route.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::ClientIp;
use super::extract::{Caller, MetricsRead};
use crate::error::ApiResult;
use crate::server::AppState;
use faxline_protocol::time::now_us;

/// The content type of Prometheus's text format 0.0.4.
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

pub(crate) async fn metrics(
    State(st): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let mut headers = headers;
    if !headers.contains_key("x-api-key")
        && let Some(token) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .and_then(|t| HeaderValue::from_str(t.trim()).ok())
    {
        headers.insert("x-api-key", token);
    }
    Caller::<MetricsRead>::check(&st, &headers, ip).await?;
    record_gauges(&st).await;
    Ok((
        [(header::CONTENT_TYPE, TEXT_FORMAT)],
        crate::metrics::render(),
    )
        .into_response())
}

/// Sets the gauges that come from the database. A database that does not answer leaves them as they
/// were and sets `faxline_api_database_up` to 0, so the scrape itself still succeeds.
async fn record_gauges(st: &AppState) {
    let now = now_us();
    match st.store.jobs().stats(now).await {
        Ok(s) => {
            metrics::gauge!("faxline_api_database_up").set(1.0);
            // Labels in lower case (`SUCCESS` and Faxbot's `failed` spelling fold into `success`, `failed`),
            // every status present so a query sees 0 rather than nothing.
            let mut per_label = std::collections::BTreeMap::<String, i64>::new();
            for status in faxline_protocol::JobStatus::ALL {
                let n = s
                    .by_status
                    .iter()
                    .find(|c| c.status == status.as_str())
                    .map_or(0, |c| c.n);
                *per_label
                    .entry(status.as_str().to_ascii_lowercase())
                    .or_default() += n;
            }
            for (label, n) in per_label {
                metrics::gauge!("faxline_api_jobs", "status" => label).set(n as f64);
            }
            let age = s
                .oldest_queued_at
                .map_or(0.0, |t| (now - t).max(0) as f64 / 1e6);
            metrics::gauge!("faxline_api_queue_oldest_age_seconds").set(age);
            metrics::gauge!("faxline_api_leases_outstanding").set(s.leases_outstanding as f64);
        }
        Err(e) => {
            tracing::warn!(error = %e, "metrics: reading the job counts failed");
            metrics::gauge!("faxline_api_database_up").set(0.0);
            return;
        }
    }
    // Agents as readiness counts them (two lease periods), and how many of them report a broken line.
    let fresh_us = (st.cfg.lease_seconds.max(30) * 2 * 1_000_000) as i64;
    match st.store.agents().list().await {
        Ok(agents) => {
            let fresh: Vec<_> = agents
                .iter()
                .filter(|a| now - a.last_seen_at <= fresh_us)
                .collect();
            let broken = fresh
                .iter()
                .filter(|a| a.line().is_some_and(|h| !h.healthy()))
                .count();
            metrics::gauge!("faxline_api_agents_connected").set(fresh.len() as f64);
            metrics::gauge!("faxline_api_agents_line_unhealthy").set(broken as f64);
        }
        Err(e) => {
            tracing::warn!(error = %e, "metrics: reading the agents failed");
            metrics::gauge!("faxline_api_database_up").set(0.0);
        }
    }
}
