//! Admin pages: API keys (create with scopes, rotate, revoke; a new secret is shown once, on the
//! answer to the form that made it), agents and their lines' health, and the effective
//! configuration with every secret masked. Admins only ([`AdminSession`]).

use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::page::{Chrome, error_page, html, when};
use super::session::AdminSession;
use super::{see_other, store_failed};
use crate::auth::{self, ALL_SCOPES};
use crate::server::AppState;
use crate::store::ApiKeyRow;
use faxline_protocol::time::now_us;

struct KeyRow {
    key_id: String,
    name: String,
    scopes: String,
    created: String,
    last_used: String,
    state: String,
    live: bool,
}

#[derive(Template)]
#[template(path = "console/keys.html")]
struct KeysPage {
    chrome: Chrome,
    keys: Vec<KeyRow>,
    scopes: Vec<&'static str>,
    /// A secret minted by this request: shown once.
    token: Option<(String, String)>,
    error: Option<String>,
}

async fn keys_page(
    st: &AppState,
    s: &super::session::Session,
    token: Option<(String, String)>,
    error: Option<String>,
) -> Response {
    let keys = match st.store.keys().list().await {
        Ok(k) => k,
        Err(e) => return store_failed(e),
    };
    let now = now_us();
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    html(
        status,
        &KeysPage {
            chrome: Chrome::new(s, "keys"),
            keys: keys
                .into_iter()
                .map(|k| {
                    let state = match (k.revoked_at, k.expires_at) {
                        (Some(r), _) => format!("revoked {}", when(r)),
                        (None, Some(e)) if e <= now => format!("expired {}", when(e)),
                        (None, Some(e)) => format!("active until {}", when(e)),
                        (None, None) => "active".into(),
                    };
                    KeyRow {
                        live: k.revoked_at.is_none(),
                        key_id: k.key_id,
                        name: k.name.unwrap_or_default(),
                        scopes: k.scopes.replace(',', ", "),
                        created: when(k.created_at),
                        last_used: k.last_used_at.map(when).unwrap_or_else(|| "never".into()),
                        state,
                    }
                })
                .collect(),
            scopes: ALL_SCOPES.to_vec(),
            token,
            error,
        },
    )
}

pub(super) async fn keys(State(st): State<AppState>, AdminSession(s): AdminSession) -> Response {
    keys_page(&st, &s, None, None).await
}

/// The create form: `csrf`, `name`, and one `scope` field per ticked box.
pub(super) async fn create_key(
    State(st): State<AppState>,
    AdminSession(s): AdminSession,
    body: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let Form(fields) = match body {
        Ok(f) => f,
        Err(e) => return super::bad_form(e),
    };
    let get = |k: &str| fields.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    if let Err(r) = s.check_csrf(get("csrf")) {
        return r;
    }
    let name = get("name")
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| n.chars().take(100).collect::<String>());
    let scopes: Vec<String> = fields
        .iter()
        .filter(|(n, _)| n == "scope")
        .map(|(_, v)| v.clone())
        .collect();
    if scopes.is_empty() {
        return keys_page(&st, &s, None, Some("Choose at least one scope.".into())).await;
    }
    if let Some(bad) = scopes.iter().find(|v| !ALL_SCOPES.contains(&v.as_str())) {
        return keys_page(&st, &s, None, Some(format!("Unknown scope: {bad}"))).await;
    }
    let k = auth::mint_key(st.server_secret.as_bytes(), None);
    let row = ApiKeyRow {
        key_id: k.key_id.clone(),
        key_hash: k.hash.clone(),
        name: name.clone(),
        owner: Some(s.actor()),
        scopes: scopes.join(","),
        note: Some("created in the console".into()),
        created_at: now_us(),
        last_used_at: None,
        expires_at: None,
        revoked_at: None,
    };
    if let Err(e) = st.store.keys().insert(&row).await {
        return store_failed(e);
    }
    crate::audit!("api_key_created", key_id = %k.key_id, by = %s.actor(), scopes = %scopes.join(","));
    keys_page(&st, &s, Some((k.key_id, k.token)), None).await
}

pub(super) async fn rotate_key(
    State(st): State<AppState>,
    AdminSession(s): AdminSession,
    Path(key_id): Path<String>,
    form: Result<Form<super::CsrfForm>, FormRejection>,
) -> Response {
    if let Err(r) = super::checked_form(&s, form) {
        return r;
    }
    if auth::parse_token(&format!("fbk_live_{key_id}_x")).is_none() {
        return error_page(StatusCode::NOT_FOUND, "There is no such key.");
    }
    let k = auth::mint_key(st.server_secret.as_bytes(), Some(&key_id));
    let rotated = match st.store.keys().rotate(&key_id, &k.hash).await {
        Ok(r) => r,
        Err(e) => return store_failed(e),
    };
    st.forget_key(&key_id);
    if !rotated {
        return error_page(StatusCode::NOT_FOUND, "There is no such active key.");
    }
    crate::audit!("api_key_rotated", key_id = %key_id, by = %s.actor());
    keys_page(&st, &s, Some((key_id, k.token)), None).await
}

pub(super) async fn revoke_key(
    State(st): State<AppState>,
    AdminSession(s): AdminSession,
    Path(key_id): Path<String>,
    form: Result<Form<super::CsrfForm>, FormRejection>,
) -> Response {
    if let Err(r) = super::checked_form(&s, form) {
        return r;
    }
    let revoked = match st.store.keys().revoke(&key_id, now_us()).await {
        Ok(r) => r,
        Err(e) => return store_failed(e),
    };
    st.forget_key(&key_id);
    if !revoked {
        return error_page(StatusCode::NOT_FOUND, "There is no such active key.");
    }
    crate::audit!("api_key_revoked", key_id = %key_id, by = %s.actor());
    see_other("/settings/keys")
}

struct AgentView {
    id: String,
    line: String,
    health: String,
    healthy: bool,
    first_seen: String,
    last_seen: String,
}

#[derive(Template)]
#[template(path = "console/system.html")]
struct SystemPage {
    chrome: Chrome,
    agents: Vec<AgentView>,
    config: String,
}

/// The effective configuration, secrets masked: `Secret` prints itself redacted, and the password
/// of a database URL is masked here.
pub fn masked_config(cfg: &crate::Config) -> String {
    let text = format!("{cfg:#?}");
    text.lines()
        .map(|l| match l.find("://") {
            Some(i) => {
                let (head, rest) = l.split_at(i + 3);
                match (rest.find('@'), rest.find(':')) {
                    (Some(at), Some(colon)) if colon < at => {
                        format!("{head}{}:<redacted>{}", &rest[..colon], &rest[at..])
                    }
                    _ => l.to_string(),
                }
            }
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub(super) async fn system(State(st): State<AppState>, AdminSession(s): AdminSession) -> Response {
    let agents = match st.store.agents().list().await {
        Ok(a) => a,
        Err(e) => return store_failed(e),
    };
    let agents = agents
        .into_iter()
        .take(200)
        .map(|a| {
            let line = a.line();
            let (kind, health, healthy) = match &line {
                Some(h) if h.healthy() => (h.kind.clone(), "healthy".to_string(), true),
                Some(h) => (h.kind.clone(), h.problems.join("; "), false),
                None => ("—".into(), "not reported to this instance".into(), false),
            };
            AgentView {
                id: a.agent_id,
                line: kind,
                health,
                healthy,
                first_seen: when(a.first_seen_at),
                last_seen: when(a.last_seen_at),
            }
        })
        .collect();
    html(
        StatusCode::OK,
        &SystemPage {
            chrome: Chrome::new(&s, "system"),
            agents,
            config: masked_config(&st.cfg),
        },
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_passwords_are_masked() {
        let cfg = crate::Config {
            database_url: "postgres://fax:hunter2-very-secret@db.example:5432/fax".into(),
            api_key: Some(crate::config::Secret::new("bootstrap-admin-key-0123456789")),
            ..crate::Config::default()
        };
        let text = super::masked_config(&cfg);
        assert!(!text.contains("hunter2"), "{text}");
        assert!(!text.contains("bootstrap-admin-key"), "{text}");
        assert!(
            text.contains("postgres://fax:<redacted>@db.example:5432/fax"),
            "{text}"
        );
    }
}
