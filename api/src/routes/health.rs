//! `/health` (liveness, no auth) and `/health/ready` (what an operator needs to know).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::server::AppState;
use faxline_protocol::time::{iso, now_us};

/// How long readiness waits for the database.
const DB_PING_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

pub(crate) async fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Ready only when every part works: the database, the document storage when it is not the database, at least one agent
/// that polled for work within two lease periods (unless `ready_requires_agent = false`), and the line of
/// every such agent, as the agent last reported it. `reasons` names each part that does not work.
///
/// An agent is "seen" only when it polls for work or holds a lease: `faxline agent --check`'s signed
/// probe does not count, and an agent whose line is down still polls (leasing nothing) to report it.
pub(crate) async fn ready(State(st): State<AppState>) -> (StatusCode, Json<Value>) {
    // A database that hangs is as unusable as one that refuses: readiness answers within seconds either way.
    let db = tokio::time::timeout(DB_PING_TIMEOUT, st.store.ping())
        .await
        .unwrap_or(false);
    let now = now_us();
    let fresh_us = (st.cfg.lease_seconds.max(30) * 2 * 1_000_000) as i64;
    let agents = if db {
        st.store.agents().list().await.unwrap_or_default()
    } else {
        vec![]
    };
    let documents_backend = st.store.documents_backend();
    let external = documents_backend != "database";
    let storage = if external {
        match tokio::time::timeout(DB_PING_TIMEOUT, st.store.documents_probe()).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!("no answer within {} s", DB_PING_TIMEOUT.as_secs())),
        }
    } else {
        Ok(())
    };
    let mut reasons = Vec::new();
    if !db {
        let also = if external {
            ""
        } else {
            " (documents are stored there too)"
        };
        reasons.push(format!("database: not reachable{also}"));
    }
    if let Err(e) = &storage {
        reasons.push(format!("document storage ({documents_backend}): {e}"));
    }
    let mut connected = 0;
    let mut listed = Vec::new();
    for a in &agents {
        let fresh = now - a.last_seen_at <= fresh_us;
        let line = a.line();
        if fresh {
            connected += 1;
            if let Some(h) = line.as_ref().filter(|h| !h.healthy()) {
                reasons.push(format!(
                    "agent {}: {} line: {}",
                    a.agent_id,
                    h.kind,
                    h.problems.join("; ")
                ));
            }
        }
        listed.push(json!({
            "agent_id": a.agent_id,
            "last_seen_at": iso(a.last_seen_at),
            "seconds_since_seen": (now - a.last_seen_at) / 1_000_000,
            "connected": fresh,
            "line": line.map(|h| json!({
                "kind": h.kind,
                "healthy": h.healthy(),
                "problems": h.problems,
            })),
        }));
    }
    let mut warnings = Vec::new();
    if db && connected == 0 {
        let text = format!(
            "agents: none polled for work in the last {} s; queued faxes will wait",
            fresh_us / 1_000_000
        );
        if st.cfg.ready_requires_agent {
            reasons.push(text);
        } else {
            warnings.push(text);
        }
    }
    if !st.cfg.require_api_key {
        warnings.push("authentication is disabled (development setting)".to_string());
    }
    // Cloud providers' webhooks: whether each is taken, verified, and its key configured.
    let phaxio_on = st.cfg.phaxio_enabled();
    if phaxio_on && !st.cfg.phaxio_verify_signature {
        warnings.push(
            "phaxio: webhook signature verification is disabled (PHAXIO_VERIFY_SIGNATURE=false, development setting)"
                .to_string(),
        );
    }
    let telnyx_on = st.cfg.telnyx_enabled();
    if telnyx_on && !st.cfg.telnyx_verify_signature {
        warnings.push(
            "telnyx: webhook signature verification is disabled (TELNYX_VERIFY_SIGNATURE=false, development setting)"
                .to_string(),
        );
    }
    let signalwire_on = st.cfg.signalwire_enabled();
    if signalwire_on && !st.cfg.signalwire_verify_signature {
        warnings.push(
            "signalwire: webhook signature verification is disabled (SIGNALWIRE_VERIFY_SIGNATURE=false, development setting)"
                .to_string(),
        );
    }
    let sinch_on = st.cfg.sinch_enabled();
    if sinch_on && !st.cfg.sinch_verify_auth {
        warnings.push(
            "sinch: webhook authentication is disabled (SINCH_VERIFY_WEBHOOK_AUTH=false, development setting)"
                .to_string(),
        );
    }
    let sinch_url = |route: &str| {
        sinch_on
            .then(|| {
                st.cfg
                    .public_api_url
                    .as_deref()
                    .map(|b| format!("{}{route}", b.trim_end_matches('/')))
            })
            .flatten()
    };
    let providers = json!({
        "phaxio": {
            "webhooks": phaxio_on,
            "verification_required": st.cfg.phaxio_verify_signature,
            "key_configured": st.cfg.phaxio_callback_token.is_some(),
            "callback_url": if phaxio_on { st.cfg.phaxio_url("/phaxio-callback") } else { None },
        },
        "signalwire": {
            "webhooks": signalwire_on,
            "verification_required": st.cfg.signalwire_verify_signature,
            "key_configured": st.cfg.signalwire_signing_key.is_some(),
            "callback_url": if signalwire_on { st.cfg.signalwire_url() } else { None },
        },
        "sinch": {
            "webhooks": sinch_on,
            // Sinch signs no fax webhook: Basic credentials in the callback URLs are what is verified.
            "verification": "basic_auth",
            "verification_required": st.cfg.sinch_verify_auth,
            "key_configured": st.cfg.sinch_credentials().is_some(),
            "callback_url": sinch_url("/sinch-callback"),
            "inbound_url": sinch_url("/sinch-inbound"),
        },
        "telnyx": {
            "webhooks": telnyx_on,
            "verification_required": st.cfg.telnyx_verify_signature,
            "key_configured": st.cfg.telnyx_key().is_some(),
            "callback_url": if telnyx_on { st.cfg.public_api_url.as_deref().map(|b| format!("{}/telnyx-callback", b.trim_end_matches('/'))) } else { None },
        },
    });
    let ready = reasons.is_empty();
    let body = json!({
        "status": if ready { "ready" } else { "not_ready" },
        "reasons": reasons,
        "backend": st.cfg.backend,
        "checks": {
            "db": db,
            "database": st.store.backend_name(),
            "documents": documents_backend,
            "document_storage": storage.is_ok(),
            "agents_connected": connected > 0,
            "agent_signature_verification": true,
            "auth_required": st.cfg.require_api_key,
        },
        "agents": listed,
        "providers": providers,
        "warnings": warnings,
    });
    let code = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(body))
}
