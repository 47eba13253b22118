//! The refusals of the shared handler preamble (the caller's scope, the job or inbound fax the path
//! names, the page, the query, the signed link), over real HTTP on SQLite and PostgreSQL: each
//! route refuses in the same order and with the same answer.

mod common;

use common::{ADMIN_KEY, Db, TestServer, create_key, http, one_page_pdf, send_fax};
use serde_json::Value;

const UNKNOWN: &str = "0123456789abcdef0123456789abcdef";

async fn get(s: &TestServer, key: Option<&str>, path: &str) -> (u16, Value) {
    let mut r = http().get(s.url(path));
    if let Some(k) = key {
        r = r.header("X-API-Key", k);
    }
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn post(s: &TestServer, key: Option<&str>, path: &str) -> (u16, Value) {
    let mut r = http().post(s.url(path));
    if let Some(k) = key {
        r = r.header("X-API-Key", k);
    }
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn detail(v: &Value) -> &str {
    v["detail"].as_str().unwrap_or_default()
}

async fn job_refusals(db: Db) {
    let Some(s) = TestServer::start(db, |_| {}).await else {
        return;
    };
    let (_, owner) = create_key(&s, &["fax:send", "fax:read"]).await;
    let (_, other) = create_key(&s, &["fax:send", "fax:read"]).await;
    let (_, reader) = create_key(&s, &["fax:read"]).await;
    let r = send_fax(&s, &owner, "+15551234567", "d.pdf", one_page_pdf()).await;
    assert_eq!(r.status(), 202);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();

    // No key, then a key without the scope: 401, then 403 naming the scope.
    let (st, v) = get(&s, None, &format!("/fax/{id}")).await;
    assert_eq!((st, detail(&v)), (401, "Invalid or missing API key"));
    let (st, v) = post(&s, Some(&reader), &format!("/fax/{id}/cancel")).await;
    assert_eq!(
        (st, detail(&v)),
        (403, "Insufficient scope: fax:send required")
    );

    // Another key's job, a malformed id and an unknown one: one and the same "Job not found".
    for path in [
        format!("/fax/{id}"),
        format!("/fax/{id}/pdf-link"),
        format!("/fax/{id}/preview/1"),
        format!("/fax/{UNKNOWN}"),
        "/fax/not-an-id".to_string(),
        format!("/fax/{UNKNOWN}/preview/1"),
    ] {
        let (st, v) = if path.ends_with("pdf-link") {
            post(&s, Some(&other), &path).await
        } else {
            get(&s, Some(&other), &path).await
        };
        assert_eq!((st, detail(&v)), (404, "Job not found"), "{path}");
    }
    let (st, v) = post(&s, Some(&other), &format!("/fax/{id}/cancel")).await;
    assert_eq!((st, detail(&v)), (404, "Job not found"));

    // The owner sees it; a bad page is "Page not found", checked after the job.
    let (st, _) = get(&s, Some(&owner), &format!("/fax/{id}")).await;
    assert_eq!(st, 200);
    for page in ["0", "x", "-1"] {
        let (st, v) = get(&s, Some(&owner), &format!("/fax/{id}/preview/{page}")).await;
        assert_eq!((st, detail(&v)), (404, "Page not found"), "{page}");
    }
    // A bad query is refused before the job is looked up, after the key.
    let (st, v) = get(
        &s,
        Some(&owner),
        &format!("/fax/{UNKNOWN}/preview/1?width=x"),
    )
    .await;
    assert_eq!((st, detail(&v)), (400, "Invalid query parameters"));
    let (st, v) = get(&s, None, &format!("/fax/{UNKNOWN}/preview/1?width=x")).await;
    assert_eq!(st, 401, "{v}");
    let (st, v) = get(&s, Some(&owner), "/fax?limit=many").await;
    assert_eq!((st, detail(&v)), (400, "Invalid query parameters"));
}
both_stores!(job_refusals_on, job_refusals);

async fn inbound_refusals(db: Db) {
    let Some(s) = TestServer::start(db, |_| {}).await else {
        return;
    };
    let (_, fax_only) = create_key(&s, &["fax:read"]).await;
    let (_, lister) = create_key(&s, &["inbound:list"]).await;
    let (_, reader) = create_key(&s, &["inbound:read"]).await;

    let (st, v) = get(&s, Some(&fax_only), "/inbound").await;
    assert_eq!(
        (st, detail(&v)),
        (403, "Insufficient scope: inbound:list required")
    );
    let (st, v) = get(&s, Some(&lister), &format!("/inbound/{UNKNOWN}")).await;
    assert_eq!(
        (st, detail(&v)),
        (403, "Insufficient scope: inbound:read required")
    );
    let (st, _) = get(&s, Some(&lister), "/inbound").await;
    assert_eq!(st, 200);
    let (st, v) = get(&s, Some(&lister), "/inbound?offset=x").await;
    assert_eq!((st, detail(&v)), (400, "Invalid query parameters"));

    for path in [
        format!("/inbound/{UNKNOWN}"),
        "/inbound/nope".to_string(),
        format!("/inbound/{UNKNOWN}/pdf"),
        format!("/inbound/{UNKNOWN}/preview/1"),
    ] {
        let (st, v) = get(&s, Some(&reader), &path).await;
        assert_eq!((st, detail(&v)), (404, "Inbound fax not found"), "{path}");
    }
    let (st, v) = post(&s, Some(&reader), &format!("/inbound/{UNKNOWN}/pdf-link")).await;
    assert_eq!((st, detail(&v)), (404, "Inbound fax not found"));
    // The page is checked before the fax is looked up.
    let (st, v) = get(&s, Some(&reader), &format!("/inbound/{UNKNOWN}/preview/0")).await;
    assert_eq!((st, detail(&v)), (404, "Page not found"));
    // Without a token the PDF needs a key; a forged token is refused whatever the id.
    let (st, v) = get(&s, None, &format!("/inbound/{UNKNOWN}/pdf")).await;
    assert_eq!((st, detail(&v)), (401, "Invalid or missing API key"));
    let (st, v) = get(&s, None, &format!("/inbound/{UNKNOWN}/pdf?token=1.AAAA")).await;
    assert_eq!((st, detail(&v)), (403, "Invalid token"));
}
both_stores!(inbound_refusals_on, inbound_refusals);

async fn inbound_switched_off(db: Db) {
    let Some(s) = TestServer::start(db, |c| c.inbound_enabled = false).await else {
        return;
    };
    // Refused before the key is even looked at.
    for path in [
        "/inbound".to_string(),
        format!("/inbound/{UNKNOWN}"),
        format!("/inbound/{UNKNOWN}/pdf"),
        format!("/inbound/{UNKNOWN}/pdf?token=1.AAAA"),
        format!("/inbound/{UNKNOWN}/preview/1"),
    ] {
        let (st, v) = get(&s, None, &path).await;
        assert_eq!((st, detail(&v)), (404, "Inbound not enabled"), "{path}");
    }
    let (st, v) = post(&s, Some(ADMIN_KEY), &format!("/inbound/{UNKNOWN}/pdf-link")).await;
    assert_eq!((st, detail(&v)), (404, "Inbound not enabled"));
}
both_stores!(inbound_switched_off_on, inbound_switched_off);

async fn admin_refusals(db: Db) {
    let Some(s) = TestServer::start(db, |_| {}).await else {
        return;
    };
    let (key_id, not_admin) = create_key(&s, &["fax:send", "fax:read"]).await;
    for key in [
        None,
        Some(not_admin.as_str()),
        Some("fbk_live_abcdefabcdef_guess"),
    ] {
        let (st, v) = get(&s, key, "/admin/api-keys").await;
        assert_eq!(
            (st, detail(&v)),
            (401, "Admin authentication failed"),
            "{key:?}"
        );
    }
    let (st, v) = post(
        &s,
        Some(&not_admin),
        &format!("/admin/api-keys/{key_id}/rotate"),
    )
    .await;
    assert_eq!((st, detail(&v)), (401, "Admin authentication failed"));
    let (st, _) = get(&s, Some(ADMIN_KEY), "/admin/api-keys").await;
    assert_eq!(st, 200);
}
both_stores!(admin_refusals_on, admin_refusals);

async fn link_lockout(db: Db) {
    let Some(s) = TestServer::start(db, |c| c.auth_failures_before_lockout = 2).await else {
        return;
    };
    let r = send_fax(&s, ADMIN_KEY, "+15551234567", "d.pdf", one_page_pdf()).await;
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Without a token: FastAPI's 422, not a failed attempt.
    let (st, _) = get(&s, None, &format!("/fax/{id}/pdf")).await;
    assert_eq!(st, 422);
    for _ in 0..2 {
        let (st, v) = get(&s, None, &format!("/fax/{id}/pdf?token=1.AAAA")).await;
        assert_eq!((st, detail(&v)), (403, "Invalid token"));
    }
    // Forged links lock the address out of every signed link, fax or inbound.
    for path in [
        format!("/fax/{id}/pdf?token=1.AAAA"),
        format!("/inbound/{UNKNOWN}/pdf?token=1.AAAA"),
    ] {
        let (st, v) = get(&s, None, &path).await;
        assert_eq!(
            (st, detail(&v)),
            (429, "Too many failed authentication attempts"),
            "{path}"
        );
    }
}
both_stores!(link_lockout_on, link_lockout);
