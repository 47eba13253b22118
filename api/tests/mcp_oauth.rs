//! `/mcp` with OAuth 2.1 bearer tokens: the API as a resource server for one issuer, whose JWKS a
//! stand-in serves on 127.0.0.1 (Ed25519 keys from `fixtures/oauth/`). A token's scopes act like a
//! key's: what it may do, and the faxes its subject owns. Expired, foreign, wrongly addressed or
//! shared-secret tokens get 401 with the `WWW-Authenticate` challenge; `X-API-Key` keeps working.

mod common;

use std::path::Path;

use base64::Engine;
use common::{ADMIN_KEY, Db, TestServer, http};
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};

const AUDIENCE: &str = "https://fax.example.org/mcp";

fn key(name: &str) -> EncodingKey {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/oauth")
        .join(name);
    EncodingKey::from_ed_pem(&std::fs::read(path).unwrap()).unwrap()
}

/// The stand-in issuer: its JWKS (one key, `kid` "k1") on a loopback port; returns its URL.
async fn issuer() -> String {
    let mut jwk =
        Jwk::from_encoding_key(&key("test-issuer-ed25519.pem"), Algorithm::EdDSA).unwrap();
    jwk.common.key_id = Some("k1".into());
    let set = serde_json::to_value(JwkSet { keys: vec![jwk] }).unwrap();
    let app = axum::Router::new().route(
        "/.well-known/jwks.json",
        axum::routing::get(move || {
            let set = set.clone();
            async move { axum::Json(set) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn token(iss: &str, claims: Value, signer: &str, kid: &str) -> String {
    let mut c = json!({"iss": iss, "aud": AUDIENCE, "sub": "alice", "exp": now() + 300});
    for (k, v) in claims.as_object().unwrap() {
        c[k] = v.clone();
    }
    let mut h = Header::new(Algorithm::EdDSA);
    h.kid = Some(kid.into());
    encode(&h, &c, &key(signer)).unwrap()
}

/// One JSON-RPC `tools/call` on `/mcp` with `auth` as the `Authorization` header (or an
/// `X-API-Key`); the HTTP status and the body.
async fn call(s: &TestServer, auth: (&str, &str), tool: &str, args: Value) -> (u16, Value) {
    let r = http()
        .post(s.url("/mcp"))
        .header("Accept", "application/json, text/event-stream")
        .header(auth.0, auth.1)
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": tool, "arguments": args}}))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn bearer(t: &str) -> (&'static str, String) {
    ("Authorization", format!("Bearer {t}"))
}

fn tool_text(body: &Value) -> String {
    body["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bearer_tokens_from_the_configured_issuer() {
    let iss = issuer().await;
    let s = TestServer::start(Db::Sqlite, |c| {
        c.mcp_oauth_issuer = Some(iss.clone());
        c.mcp_oauth_audience = Some(AUDIENCE.into());
        c.public_api_url = Some("https://fax.example.org".into());
    })
    .await
    .unwrap();

    // Protected-resource metadata names the issuer.
    let meta: Value = http()
        .get(s.url("/.well-known/oauth-protected-resource"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(meta["authorization_servers"][0], iss.as_str());
    assert_eq!(meta["resource"], AUDIENCE);

    // A token granting fax:send and fax:read sends and reads as its subject.
    let full = token(
        &iss,
        json!({"scope": "fax:send fax:read"}),
        "test-issuer-ed25519.pem",
        "k1",
    );
    let (a, b) = bearer(&full);
    let doc = base64::engine::general_purpose::STANDARD.encode(common::one_page_pdf());
    let (status, body) = call(
        &s,
        (a, &b),
        "send_fax",
        json!({"to": "+15551234567", "document_base64": doc}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_ne!(body["result"]["isError"], true, "{body}");
    let job: Value = serde_json::from_str(&tool_text(&body)).unwrap();
    assert_eq!(job["status"], "queued", "{job}");
    let id = job["id"].as_str().unwrap();
    let (_, body) = call(&s, (a, &b), "list_faxes", json!({})).await;
    let list: Value = serde_json::from_str(&tool_text(&body)).unwrap();
    assert_eq!(list["total"], 1, "{list}");
    assert_eq!(list["jobs"][0]["id"], id, "{list}");
    // The job exists for the API like any other.
    let r = http()
        .get(s.url(&format!("/fax/{id}")))
        .header("X-API-Key", ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // Another subject sees none of alice's faxes.
    let bob = token(
        &iss,
        json!({"sub": "bob", "scope": "fax:read"}),
        "test-issuer-ed25519.pem",
        "k1",
    );
    let (a2, b2) = bearer(&bob);
    let (_, body) = call(&s, (a2, &b2), "get_fax_status", json!({"id": id})).await;
    assert_eq!(body["result"]["isError"], true, "{body}");
    assert!(tool_text(&body).contains("Job not found"), "{body}");
    // And without fax:send it cannot send: the API's scope message.
    let (_, body) = call(
        &s,
        (a2, &b2),
        "send_fax",
        json!({"to": "+15551234567", "document_base64": "JVBERi0="}),
    )
    .await;
    assert!(
        tool_text(&body).contains("Insufficient scope: fax:send required"),
        "{body}"
    );
    // `scp` as a list works too; keys:manage is never granted by a token.
    let listed = token(
        &iss,
        json!({"sub": "carol", "scp": ["fax:read", "keys:manage"]}),
        "test-issuer-ed25519.pem",
        "k1",
    );
    let (a3, b3) = bearer(&listed);
    let (_, body) = call(&s, (a3, &b3), "list_faxes", json!({})).await;
    assert_ne!(body["result"]["isError"], true, "{body}");
    let r = http()
        .get(s.url("/admin/api-keys"))
        .header("Authorization", format!("Bearer {listed}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "tokens are for /mcp only");

    // Refused tokens: 401 with the challenge, before any tool runs.
    let hs = encode(
        &Header::new(Algorithm::HS256),
        &json!({"iss": iss, "aud": AUDIENCE, "sub": "mallory", "exp": now() + 300, "scope": "fax:send"}),
        &EncodingKey::from_secret(b"guessable shared secret").unwrap(),
    )
    .unwrap();
    let refused = [
        (
            "expired",
            token(
                &iss,
                json!({"exp": now() - 3600}),
                "test-issuer-ed25519.pem",
                "k1",
            ),
        ),
        (
            "wrong audience",
            token(
                &iss,
                json!({"aud": "https://other.example/mcp"}),
                "test-issuer-ed25519.pem",
                "k1",
            ),
        ),
        (
            "wrong issuer",
            token(
                "https://evil.example",
                json!({}),
                "test-issuer-ed25519.pem",
                "k1",
            ),
        ),
        (
            "foreign key",
            token(&iss, json!({}), "other-ed25519.pem", "k1"),
        ),
        (
            "unknown kid",
            token(&iss, json!({}), "other-ed25519.pem", "k2"),
        ),
        ("shared secret", hs),
        ("garbage", "not.a.token".to_string()),
    ];
    for (what, t) in refused {
        let r = http()
            .post(s.url("/mcp"))
            .header("Accept", "application/json, text/event-stream")
            .header("Authorization", format!("Bearer {t}"))
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{what}");
        let challenge = r.headers()["www-authenticate"].to_str().unwrap().to_owned();
        assert!(
            challenge.contains("error=\"invalid_token\""),
            "{what}: {challenge}"
        );
        assert!(
            challenge.contains(
                "resource_metadata=\"https://fax.example.org/.well-known/oauth-protected-resource\""
            ),
            "{what}: {challenge}"
        );
    }
    // No credentials at all: 401 with the challenge (no error: nothing was presented).
    let r = http()
        .post(s.url("/mcp"))
        .header("Accept", "application/json, text/event-stream")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let challenge = r.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert!(
        challenge.starts_with("Bearer resource_metadata="),
        "{challenge}"
    );
    assert!(!challenge.contains("error="), "{challenge}");

    // Keys keep working next to tokens.
    let (status, body) = call(&s, ("X-API-Key", ADMIN_KEY), "list_faxes", json!({})).await;
    assert_eq!(status, 200, "{body}");
    let list: Value = serde_json::from_str(&tool_text(&body)).unwrap();
    assert_eq!(list["total"], 1, "{list}");
}
