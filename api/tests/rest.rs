//! The public REST API over real HTTP, on SQLite and PostgreSQL.

mod common;

use common::{ADMIN_KEY, Db, TestServer, create_key, http, one_page_pdf, send_fax};
use serde_json::Value;

async fn fax_endpoints(db: Db) {
    let Some(s) = TestServer::start(db, |c| c.max_file_size_mb = 1).await else {
        return;
    };
    // health
    let r = http().get(s.url("/health")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "ok");
    // No agent has polled yet: not ready (api/tests/operations.rs covers readiness).
    let r = http().get(s.url("/health/ready")).send().await.unwrap();
    assert_eq!(r.status(), 503);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["checks"]["db"], true);
    assert_eq!(v["checks"]["agent_signature_verification"], true);

    // send a PDF: 202 with Faxbot's FaxJobOut
    let r = send_fax(&s, ADMIN_KEY, "+15551234567", "doc.pdf", one_page_pdf()).await;
    assert_eq!(r.status(), 202);
    let text = r.text().await.unwrap();
    let job: Value = serde_json::from_str(&text).unwrap();
    let keys: Vec<&str> = job
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for k in [
        "id",
        "to",
        "status",
        "error",
        "pages",
        "backend",
        "provider_sid",
        "created_at",
        "updated_at",
    ] {
        assert!(keys.contains(&k), "missing {k} in {text}");
    }
    let id = job["id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 32);
    assert_eq!(job["status"], "queued");
    assert_eq!(job["to"], "+15551234567");
    assert_eq!(job["backend"], "sip");
    assert!(!job["created_at"].as_str().unwrap().ends_with('Z'));

    // text upload
    let r = send_fax(&s, ADMIN_KEY, "15551234567", "a.txt", "hello\nfax\n".into()).await;
    assert_eq!(r.status(), 202);

    // status
    let r = http()
        .get(s.url(&format!("/fax/{id}")))
        .header("X-API-Key", ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["id"], id.as_str());
    let r = http()
        .get(s.url("/fax/0123456789abcdef0123456789abcdef"))
        .header("X-API-Key", ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.json::<Value>().await.unwrap()["detail"], "Job not found");

    // error cases with Faxbot's texts
    let r = send_fax(&s, ADMIN_KEY, "+1 (555) 123", "doc.pdf", one_page_pdf()).await;
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap()["detail"],
        "'to' must be E.164 or digits only"
    );
    let r = send_fax(
        &s,
        ADMIN_KEY,
        "+15551234567",
        "x.png",
        b"\x89PNG\r\n\x1a\n\x00\x00\xff".to_vec(),
    )
    .await;
    assert_eq!(r.status(), 415);
    assert_eq!(
        r.json::<Value>().await.unwrap()["detail"],
        "Only PDF and TXT are allowed"
    );
    let r = send_fax(&s, ADMIN_KEY, "+15551234567", "e.txt", vec![]).await;
    assert_eq!(r.status(), 400);
    let mut big = b"%PDF-1.4\n".to_vec();
    big.resize(1024 * 1024 + 10, b'a');
    let r = send_fax(&s, ADMIN_KEY, "+15551234567", "big.pdf", big).await;
    assert_eq!(r.status(), 413);
    assert_eq!(
        r.json::<Value>().await.unwrap()["detail"],
        "File exceeds 1 MB limit"
    );
    // missing field: FastAPI-style 422
    let form = reqwest::multipart::Form::new().text("to", "+15551234567");
    let r = http()
        .post(s.url("/fax"))
        .header("X-API-Key", ADMIN_KEY)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["detail"][0]["loc"], serde_json::json!(["body", "file"]));
    assert_eq!(v["detail"][0]["type"], "missing");
    let r = http()
        .post(s.url("/fax"))
        .header("X-API-Key", ADMIN_KEY)
        .body("junk")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    // malformed multipart
    let r = http()
        .post(s.url("/fax"))
        .header("X-API-Key", ADMIN_KEY)
        .header("content-type", "multipart/form-data; boundary=XX")
        .body("--XX\r\nContent-Disposition: form-data; name=\"to\"\r\n\r\n123")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    // auth
    let r = send_fax(
        &s,
        "fbk_live_abcdefabcdef_wrong",
        "+15551234567",
        "d.pdf",
        one_page_pdf(),
    )
    .await;
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.json::<Value>().await.unwrap()["detail"],
        "Invalid or missing API key"
    );
    let r = http()
        .get(s.url(&format!("/fax/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // list + cancel + idempotency
    let r = http()
        .get(s.url("/fax?status=queued&limit=1"))
        .header("X-API-Key", ADMIN_KEY)
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["total"], 2);
    assert_eq!(v["jobs"].as_array().unwrap().len(), 1);
    let r = http()
        .post(s.url(&format!("/fax/{id}/cancel")))
        .header("X-API-Key", ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "cancelled");
    let r = http()
        .post(s.url(&format!("/fax/{id}/cancel")))
        .header("X-API-Key", ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let idem = |body: Vec<u8>| {
        let form = reqwest::multipart::Form::new()
            .text("to", "+15550001111")
            .part(
                "file",
                reqwest::multipart::Part::bytes(body).file_name("d.pdf"),
            );
        http()
            .post(s.url("/fax"))
            .header("X-API-Key", ADMIN_KEY)
            .header("Idempotency-Key", "order-42")
            .multipart(form)
            .send()
    };
    let a: Value = idem(one_page_pdf()).await.unwrap().json().await.unwrap();
    let b: Value = idem(one_page_pdf()).await.unwrap().json().await.unwrap();
    assert_eq!(a["id"], b["id"]);

    // OpenAPI
    let r = http().get(s.url("/openapi.json")).send().await.unwrap();
    let v: Value = r.json().await.unwrap();
    assert!(v["paths"]["/fax"]["post"].is_object());
}
both_stores!(fax_endpoints_on, fax_endpoints);

async fn keys_and_scopes(db: Db) {
    let Some(s) = TestServer::start(db, |_| {}).await else {
        return;
    };
    let (key_id, token) = create_key(&s, &["fax:send", "fax:read"]).await;
    assert!(token.starts_with(&format!("fbk_live_{key_id}_")));
    let r = send_fax(&s, &token, "+15551234567", "d.pdf", one_page_pdf()).await;
    assert_eq!(r.status(), 202);
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();

    // scope checks with Faxbot's texts
    let (_, read_only) = create_key(&s, &["fax:read"]).await;
    let r = send_fax(&s, &read_only, "+15551234567", "d.pdf", one_page_pdf()).await;
    assert_eq!(r.status(), 403);
    assert_eq!(
        r.json::<Value>().await.unwrap()["detail"],
        "Insufficient scope: fax:send required"
    );
    // fax:read reads only the key's own jobs: another key's job is not found (hardening.rs
    // covers ownership and fax:admin).
    let r = http()
        .get(s.url(&format!("/fax/{id}")))
        .header("X-API-Key", &read_only)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // a non-admin key on admin routes
    let r = http()
        .get(s.url("/admin/api-keys"))
        .header("X-API-Key", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.json::<Value>().await.unwrap()["detail"],
        "Admin authentication failed"
    );

    // list shows the key without its secret
    let r = http()
        .get(s.url("/admin/api-keys"))
        .header("X-API-Key", ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-frame-options"], "DENY");
    let text = r.text().await.unwrap();
    assert!(text.contains(&key_id));
    assert!(!text.contains(token.rsplit('_').next().unwrap()));

    // rotate: old secret dead at once, new one works
    let r = http()
        .post(s.url(&format!("/admin/api-keys/{key_id}/rotate")))
        .header("X-API-Key", ADMIN_KEY)
        .send()
        .await
        .unwrap();
    let new_token = r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let get = |t: String| {
        http()
            .get(s.url(&format!("/fax/{id}")))
            .header("X-API-Key", t)
            .send()
    };
    assert_eq!(get(token.clone()).await.unwrap().status(), 401);
    assert_eq!(get(new_token.clone()).await.unwrap().status(), 200);

    // revoke
    let r = http()
        .delete(s.url(&format!("/admin/api-keys/{key_id}")))
        .header("X-API-Key", ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "ok");
    assert_eq!(get(new_token).await.unwrap().status(), 401);
    let r = http()
        .delete(s.url(&format!("/admin/api-keys/{key_id}")))
        .header("X-API-Key", ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // a key-manager DB key is admin
    let (_, manager) = create_key(&s, &["keys:manage"]).await;
    let r = http()
        .get(s.url("/admin/api-keys"))
        .header("X-API-Key", &manager)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // unknown scope refused
    let r = http()
        .post(s.url("/admin/api-keys"))
        .header("X-API-Key", ADMIN_KEY)
        .json(&serde_json::json!({"scopes": ["fax:*"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}
both_stores!(keys_and_scopes_on, keys_and_scopes);

async fn throttling_and_rate_limits(db: Db) {
    let Some(s) = TestServer::start(db, |c| {
        c.auth_failures_before_lockout = 3;
        c.max_requests_per_minute = 2;
    })
    .await
    else {
        return;
    };
    let (_, token) = create_key(&s, &["fax:send", "fax:read"]).await;
    // rate limit: the third send within the minute → 429 with Retry-After
    // (two may straddle a minute boundary: retry once in a fresh window)
    let mut limited = None;
    for _ in 0..5 {
        let r = send_fax(&s, &token, "+15551234567", "d.pdf", one_page_pdf()).await;
        if r.status() == 429 {
            limited = Some(r);
            break;
        }
    }
    let r = limited.expect("rate limit reached");
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry));
    assert_eq!(
        r.json::<Value>().await.unwrap()["detail"],
        "Rate limit exceeded"
    );

    // failed-auth lockout for this address, even for a then-valid key
    for _ in 0..3 {
        let r = http()
            .get(s.url("/fax/0123456789abcdef0123456789abcdef"))
            .header("X-API-Key", "fbk_live_abcdefabcdef_guess")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
    }
    let r = http()
        .get(s.url("/fax/0123456789abcdef0123456789abcdef"))
        .header("X-API-Key", ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 200);
}
both_stores!(throttling_on, throttling_and_rate_limits);

async fn signed_links(db: Db) {
    let Some(s) = TestServer::start(db, |_| {}).await else {
        return;
    };
    let pdf = one_page_pdf();
    let r = send_fax(&s, ADMIN_KEY, "+15551234567", "d.pdf", pdf.clone()).await;
    let id = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = http()
        .post(s.url(&format!("/fax/{id}/pdf-link")))
        .header("X-API-Key", ADMIN_KEY)
        .send()
        .await
        .unwrap();
    let link: Value = r.json().await.unwrap();
    let url = link["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("https://fax.example.org/fax/{id}/pdf?token=")));
    let token = link["token"].as_str().unwrap();
    // no API key needed: the token is the credential
    let r = http()
        .get(s.url(&format!("/fax/{id}/pdf?token={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert_eq!(
        r.headers()["cache-control"],
        "no-cache, no-store, must-revalidate"
    );
    assert_eq!(r.bytes().await.unwrap().as_ref(), pdf.as_slice());
    // forged, extended, missing, wrong job
    let (exp, sig) = token.split_once('.').unwrap();
    let extended = format!("{}.{sig}", exp.parse::<i64>().unwrap() + 3600);
    for bad in [format!("{exp}.AAAA"), extended, "nonsense".into()] {
        let r = http()
            .get(s.url(&format!("/fax/{id}/pdf?token={bad}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        assert_eq!(r.json::<Value>().await.unwrap()["detail"], "Invalid token");
    }
    let r = http()
        .get(s.url(&format!("/fax/{id}/pdf")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = http()
        .get(s.url(&format!(
            "/fax/0123456789abcdef0123456789abcdef/pdf?token={token}"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // an expired link (signed in the past with the server secret)
    let secret = std::fs::read_to_string(s.dir.join("server_secret")).unwrap();
    let old = faxline_api::links::sign(
        secret.trim().as_bytes(),
        faxline_api::links::LinkKind::Fax,
        &id,
        1000,
    );
    let r = http()
        .get(s.url(&format!("/fax/{id}/pdf?token={old}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(r.json::<Value>().await.unwrap()["detail"], "Token expired");
}
both_stores!(signed_links_on, signed_links);
