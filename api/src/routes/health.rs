//! `/health` (liveness, no auth) and `/health/ready` (what an operator needs to know).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::server::AppState;
use faxline_protocol::time::{iso, now_us};

pub(crate) async fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// An agent counts as connected when it was seen within two lease periods (agents poll far
/// more often than that).
pub(crate) async fn ready(State(st): State<AppState>) -> (StatusCode, Json<Value>) {
    let db = st.store.ping().await;
    let now = now_us();
    let fresh_us = (st.cfg.lease_seconds.max(30) * 2 * 1_000_000) as i64;
    let agents = if db {
        st.store.agents().list().await.unwrap_or_default()
    } else {
        vec![]
    };
    let connected = agents
        .iter()
        .filter(|a| now - a.last_seen_at <= fresh_us)
        .count();
    let mut warnings = Vec::new();
    if connected == 0 {
        warnings.push("no agent has been seen recently; queued faxes will wait".to_string());
    }
    if !st.cfg.require_api_key {
        warnings.push("authentication is disabled (development setting)".to_string());
    }
    let ready = db;
    let body = json!({
        "status": if ready { "ready" } else { "not_ready" },
        "backend": st.cfg.backend,
        "checks": {
            "db": db,
            "database": st.store.backend_name(),
            "agents_connected": connected > 0,
            "agent_signature_verification": true,
            "auth_required": st.cfg.require_api_key,
        },
        "agents": agents.iter().map(|a| json!({
            "agent_id": a.agent_id,
            "last_seen_at": iso(a.last_seen_at),
            "seconds_since_seen": (now - a.last_seen_at) / 1_000_000,
            "connected": now - a.last_seen_at <= fresh_us,
        })).collect::<Vec<_>>(),
        "warnings": warnings,
    });
    let code = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(body))
}
