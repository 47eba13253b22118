//! The web console against the real router and server: login and sessions (durable across a
//! restart, idle and absolute expiry, logout everywhere), CSRF and cross-origin refusals, login
//! throttling that cannot lock a user out of their own browser, role checks on every route, and
//! sending, outbox, previews and inbox through the console.

mod common;

use std::collections::HashMap;

use bytes::Bytes;
use common::{ADMIN_KEY, Db, TestServer, http};
use faxline_api::store::{DocumentId, DocumentStore, Inbound};
use reqwest::StatusCode;
use reqwest::header::{LOCATION, RETRY_AFTER, SET_COOKIE};

const PASSWORD: &str = "tulip-7Qx!marble-42";

/// A browser: keeps cookies by name, never follows redirects, sends `X-Forwarded-For` when told.
struct Browser {
    base: String,
    client: reqwest::Client,
    cookies: HashMap<String, String>,
    forwarded_for: Option<String>,
    /// The raw `Set-Cookie` headers of the last response.
    last_set_cookie: Vec<String>,
}

impl Browser {
    fn new(s: &TestServer) -> Self {
        Self {
            base: s.base.clone(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: HashMap::new(),
            forwarded_for: None,
            last_set_cookie: Vec::new(),
        }
    }

    fn at_address(mut self, ip: &str) -> Self {
        self.forwarded_for = Some(ip.into());
        self
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep_cookies(&mut self, r: &reqwest::Response) {
        self.last_set_cookie.clear();
        for v in r.headers().get_all(SET_COOKIE) {
            let v = v.to_str().unwrap().to_string();
            let (kv, attrs) = v.split_once(';').unwrap_or((&v, ""));
            let (k, val) = kv.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_string(), val.to_string());
            }
            self.last_set_cookie.push(v.clone());
        }
    }

    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut b = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("cookie", self.cookie_header());
        if let Some(ip) = &self.forwarded_for {
            b = b.header("x-forwarded-for", ip);
        }
        b
    }

    async fn get(&mut self, path: &str) -> reqwest::Response {
        let r = self.req(reqwest::Method::GET, path).send().await.unwrap();
        self.keep_cookies(&r);
        r
    }

    async fn text(&mut self, path: &str) -> (StatusCode, String) {
        let r = self.get(path).await;
        (r.status(), r.text().await.unwrap())
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let r = self
            .req(reqwest::Method::POST, path)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form_body(form))
            .send()
            .await
            .unwrap();
        self.keep_cookies(&r);
        r
    }

    /// Opens the login page and submits it.
    async fn login(&mut self, user: &str, password: &str) -> reqwest::Response {
        let (status, page) = self.text("/login").await;
        assert_eq!(status, 200);
        let nonce = hidden(&page, "login_nonce");
        self.post(
            "/login",
            &[
                ("username", user),
                ("password", password),
                ("login_nonce", &nonce),
                ("next", "/outbox"),
            ],
        )
        .await
    }

    /// Submits the login's second step (a code, after the password).
    async fn code(&mut self, code: &str, nonce: &str, next: &str) -> reqwest::Response {
        self.post(
            "/login/code",
            &[("code", code), ("login_nonce", nonce), ("next", next)],
        )
        .await
    }

    /// The CSRF token of a page's forms.
    async fn csrf(&mut self) -> String {
        let (status, page) = self.text("/send").await;
        assert_eq!(status, 200, "{page}");
        hidden(&page, "csrf")
    }
}

/// `application/x-www-form-urlencoded`, as a browser sends a form.
fn form_body(pairs: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                b' ' => "+".to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The value of the hidden input `name` in `page`.
fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {page}"))
        + marker.len();
    page[start..].split('"').next().unwrap().to_string()
}

async fn add(s: &TestServer, name: &str, role: &str) -> faxline_api::store::ConsoleUser {
    faxline_api::console::add_user(&s.store, name, PASSWORD, role)
        .await
        .unwrap()
}

/// Runs SQL on the server's database (to age sessions).
async fn sql(s: &TestServer, stmt: &str) {
    let url = &s.cfg.database_url;
    if url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(stmt.to_string()))
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(stmt.to_string()))
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    }
}

fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get(LOCATION)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

async fn sessions_survive_restart_and_end_on_logout(db: Db) {
    let Some(s) = TestServer::start(db, |_| {}).await else {
        return;
    };
    add(&s, "ann", "staff").await;
    let mut b = Browser::new(&s);
    // Not logged in: the pages send the browser to the login page, keeping where it wanted to go.
    let r = b.get("/inbox?page=1").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/login?next=%2Finbox%3Fpage%3D1");
    let r = b.login("ann", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "{:?}", r.text().await);
    assert_eq!(location(&r), "/outbox");
    let session = b
        .last_set_cookie
        .iter()
        .find(|c| c.starts_with("faxline_session="))
        .expect("a session cookie")
        .clone();
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/", "Secure"] {
        assert!(session.contains(attr), "{attr} missing: {session}");
    }
    let (status, page) = b.text("/outbox").await;
    assert_eq!(status, 200);
    assert!(page.contains("ann"), "{page}");
    // The session lives in the database: a restarted server knows it.
    let s = s.restart().await;
    b.base = s.base.clone(); // the restarted server listens on a new port
    let (status, _) = b.text("/outbox").await;
    assert_eq!(status, 200, "the session survives a restart");
    // A second browser of the same user, then "log out everywhere" from the first.
    let mut other = Browser::new(&s);
    assert_eq!(
        other.login("ann", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(other.get("/outbox").await.status(), 200);
    let csrf = b.csrf().await;
    let r = b.post("/logout-everywhere", &[("csrf", &csrf)]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(b.get("/outbox").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        other.get("/outbox").await.status(),
        StatusCode::SEE_OTHER,
        "every session ended"
    );
    // Plain logout ends only that session.
    let mut one = Browser::new(&s);
    let mut two = Browser::new(&s);
    one.login("ann", PASSWORD).await;
    two.login("ann", PASSWORD).await;
    let csrf = one.csrf().await;
    assert_eq!(
        one.post("/logout", &[("csrf", &csrf)]).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(one.get("/outbox").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(two.get("/outbox").await.status(), 200);
}
both_stores!(sessions, sessions_survive_restart_and_end_on_logout);

async fn sessions_expire_when_idle_and_absolutely(db: Db) {
    let Some(s) = TestServer::start(db, |_| {}).await else {
        return;
    };
    add(&s, "ann", "staff").await;
    let mut idle = Browser::new(&s);
    idle.login("ann", PASSWORD).await;
    assert_eq!(idle.get("/outbox").await.status(), 200);
    // 31 minutes without a request.
    let long_ago = faxline_protocol::time::now_us() - 31 * 60 * 1_000_000;
    sql(
        &s,
        &format!("UPDATE console_sessions SET last_seen_at = {long_ago}"),
    )
    .await;
    assert_eq!(
        idle.get("/outbox").await.status(),
        StatusCode::SEE_OTHER,
        "idle expiry"
    );

    let mut active = Browser::new(&s);
    active.login("ann", PASSWORD).await;
    assert_eq!(active.get("/outbox").await.status(), 200);
    let past = faxline_protocol::time::now_us() - 1;
    sql(
        &s,
        &format!("UPDATE console_sessions SET expires_at = {past}"),
    )
    .await;
    assert_eq!(
        active.get("/outbox").await.status(),
        StatusCode::SEE_OTHER,
        "absolute expiry"
    );
    // Expired sessions are deleted, not merely refused.
    let mut again = Browser::new(&s);
    again.login("ann", PASSWORD).await;
    sql(
        &s,
        "UPDATE console_sessions SET last_seen_at = last_seen_at",
    )
    .await;
}
both_stores!(expiry, sessions_expire_when_idle_and_absolutely);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_without_the_sessions_csrf_token_or_from_another_site_are_refused() {
    let s = TestServer::start(Db::Sqlite, |_| {}).await.unwrap();
    add(&s, "ann", "admin").await;
    let mut b = Browser::new(&s);
    // A login without the login nonce (e.g. posted from another site) is refused.
    let r = b
        .post(
            "/login",
            &[
                ("username", "ann"),
                ("password", PASSWORD),
                ("login_nonce", "x"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        b.login("ann", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    let csrf = b.csrf().await;
    for (path, form) in [
        ("/logout", vec![]),
        ("/logout", vec![("csrf", "0".repeat(64))]),
        ("/logout-everywhere", vec![("csrf", "wrong".to_string())]),
        (
            "/users",
            vec![
                ("username", "eve".to_string()),
                ("password", PASSWORD.to_string()),
                ("role", "admin".to_string()),
            ],
        ),
        ("/account/totp", vec![("csrf", "wrong".to_string())]),
        (
            "/account/totp/confirm",
            vec![
                ("csrf", "wrong".to_string()),
                ("code", "123456".to_string()),
            ],
        ),
        (
            "/login/code",
            vec![
                ("code", "123456".to_string()),
                ("login_nonce", "x".to_string()),
            ],
        ),
    ] {
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let r = b.post(path, &form).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path} {form:?}");
    }
    assert!(
        faxline_api::store::Store::users(&s.store)
            .by_username("eve")
            .await
            .unwrap()
            .is_none(),
        "nothing was done"
    );
    let ann = s.store.users().by_username("ann").await.unwrap().unwrap();
    let totp = s.store.users().totp(&ann.id).await.unwrap().unwrap();
    assert_eq!(totp.totp_secret, None, "no two-step set up");
    // The multipart send form is checked too.
    let form = reqwest::multipart::Form::new()
        .text("to", "+15551234567")
        .text("text", "hello");
    let r = b
        .req(reqwest::Method::POST, "/send")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (total, _) = list_jobs(&s).await;
    assert_eq!(total, 0, "no fax was queued");
    // Another site's page, even with a valid token, is refused by its Origin.
    let r = b
        .req(reqwest::Method::POST, "/logout")
        .header("origin", "https://evil.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body(&[("csrf", csrf.as_str())]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Still logged in after all of that.
    assert_eq!(b.get("/outbox").await.status(), 200);
    // The right token works.
    assert_eq!(
        b.post("/logout", &[("csrf", &csrf)]).await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_throttling_locks_the_guesser_not_the_user() {
    let s = TestServer::start(Db::Sqlite, |c| {
        c.trusted_proxies = vec!["127.0.0.1/32".into()];
    })
    .await
    .unwrap();
    add(&s, "ann", "staff").await;
    // Ann logs in once from her own browser: it is remembered (device cookie).
    let mut ann = Browser::new(&s).at_address("203.0.113.5");
    assert_eq!(
        ann.login("ann", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    assert!(ann.cookies.contains_key("faxline_device"));
    let csrf = ann.csrf().await;
    ann.post("/logout", &[("csrf", &csrf)]).await;

    // A guesser elsewhere: five wrong passwords, then 429 with Retry-After, even for the right one.
    let mut eve = Browser::new(&s).at_address("192.0.2.66");
    for _ in 0..5 {
        let r = eve.login("ann", "wrong-password-123").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = eve.login("ann", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = r.headers()[RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!(wait > 0 && wait <= 15 * 60, "{wait}");
    // Many more guesses from many addresses pile up only a bounded per-user delay...
    for i in 0..20 {
        let mut g = Browser::new(&s).at_address(&format!("198.51.100.{i}"));
        g.login("ann", "wrong-password-123").await;
    }
    let mut stranger = Browser::new(&s).at_address("198.51.100.200");
    let r = stranger.login("ann", PASSWORD).await;
    if r.status() == StatusCode::TOO_MANY_REQUESTS {
        let wait: u64 = r.headers()[RETRY_AFTER].to_str().unwrap().parse().unwrap();
        assert!(wait <= 5 * 60, "the per-user delay is bounded: {wait}");
    }
    // ...and none of it holds back Ann's own browser.
    let r = ann.login("ann", PASSWORD).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER, "ann is not locked out");
    // A wrong username costs a failure too, and says nothing about which part was wrong.
    let mut probe = Browser::new(&s).at_address("192.0.2.77");
    let (a, b) = (
        probe.login("nobody", PASSWORD).await.text().await.unwrap(),
        probe
            .login("ann", "wrong-password-123")
            .await
            .text()
            .await
            .unwrap(),
    );
    assert!(a.contains("Wrong username or password") && b.contains("Wrong username or password"));
}

/// The throttle's counters are in the database: guesses spread over two API instances on one
/// database lock the pair on both (and after a restart), while the user's own browser gets in at
/// either.
async fn login_throttle_is_shared_by_every_instance(db: Db) {
    let Some(one) = TestServer::start(db, |c| {
        c.trusted_proxies = vec!["127.0.0.1/32".into()];
    })
    .await
    else {
        return;
    };
    let two = TestServer::start_with(one.cfg.clone()).await;
    add(&one, "ann", "staff").await;
    let mut ann = Browser::new(&one).at_address("203.0.113.5");
    assert_eq!(
        ann.login("ann", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    let csrf = ann.csrf().await;
    ann.post("/logout", &[("csrf", &csrf)]).await;
    // Five wrong passwords, alternating between the instances.
    let mut eve_one = Browser::new(&one).at_address("192.0.2.66");
    let mut eve_two = Browser::new(&two).at_address("192.0.2.66");
    for i in 0..5 {
        let eve = if i % 2 == 0 {
            &mut eve_one
        } else {
            &mut eve_two
        };
        let r = eve.login("ann", "wrong-password-123").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "guess {i}");
    }
    for eve in [&mut eve_one, &mut eve_two] {
        let r = eve.login("ann", PASSWORD).await;
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        let wait: u64 = r.headers()[RETRY_AFTER].to_str().unwrap().parse().unwrap();
        assert!(wait > 0 && wait <= 15 * 60, "{wait}");
    }
    // Ann's own browser is let in at the other instance too.
    ann.base = two.base.clone();
    assert_eq!(
        ann.login("ann", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    // A restart forgets nothing.
    let two = two.restart().await;
    eve_two.base = two.base.clone();
    assert_eq!(
        eve_two.login("ann", PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}
both_stores!(throttle_shared, login_throttle_is_shared_by_every_instance);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_checks_login_and_role() {
    let s = TestServer::start(Db::Sqlite, |_| {}).await.unwrap();
    let admin = add(&s, "root", "admin").await;
    add(&s, "ann", "staff").await;
    let id = "0".repeat(32);
    let gets = [
        "/send".to_string(),
        "/outbox".into(),
        format!("/outbox/{id}"),
        format!("/outbox/{id}/page/1"),
        "/inbox".into(),
        format!("/inbox/{id}"),
        format!("/inbox/{id}/page/1"),
        format!("/inbox/{id}/pdf"),
        "/users".into(),
        "/bulk".into(),
        format!("/bulk/{id}"),
        format!("/drafts/{id}"),
        format!("/drafts/{id}/page/1"),
        "/settings/keys".into(),
        "/settings/system".into(),
        "/account".into(),
    ];
    let posts = [
        "/logout".to_string(),
        "/logout-everywhere".into(),
        "/send".into(),
        format!("/outbox/{id}/cancel"),
        format!("/outbox/{id}/retry"),
        format!("/inbox/{id}/read"),
        "/users".into(),
        format!("/users/{}/disable", admin.id),
        format!("/users/{}/enable", admin.id),
        "/bulk".into(),
        format!("/bulk/{id}/pause"),
        format!("/bulk/{id}/resume"),
        format!("/bulk/{id}/cancel"),
        format!("/drafts/{id}/send"),
        format!("/drafts/{id}/discard"),
        "/settings/keys".into(),
        "/settings/keys/abcdef012345/rotate".into(),
        "/settings/keys/abcdef012345/revoke".into(),
        "/account/totp".into(),
        "/account/totp/confirm".into(),
        "/account/totp/disable".into(),
        format!("/users/{}/totp-reset", admin.id),
        format!("/users/{}/mailboxes", admin.id),
    ];
    // Nobody logged in: pages redirect to the login page, forms are refused.
    let mut anon = Browser::new(&s);
    for p in &gets {
        let r = anon.get(p).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER, "{p}");
        assert!(location(&r).starts_with("/login?next="), "{p}");
    }
    for p in &posts {
        assert_eq!(
            anon.post(p, &[]).await.status(),
            StatusCode::UNAUTHORIZED,
            "{p}"
        );
    }
    // An API key is not a console login.
    let r = anon
        .req(reqwest::Method::GET, "/outbox")
        .header("X-API-Key", ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // Staff: the admin pages are 403 (before the form is even looked at); the rest is theirs.
    let mut staff = Browser::new(&s);
    staff.login("ann", PASSWORD).await;
    let csrf = staff.csrf().await;
    for p in ["/users", "/settings/keys", "/settings/system"] {
        assert_eq!(staff.get(p).await.status(), StatusCode::FORBIDDEN, "{p}");
    }
    for p in [
        "/settings/keys",
        "/settings/keys/abcdef012345/rotate",
        "/settings/keys/abcdef012345/revoke",
    ] {
        let r = staff
            .post(p, &[("csrf", &csrf), ("scope", "fax:send")])
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{p}");
    }
    for p in [
        "/users".to_string(),
        format!("/users/{}/disable", admin.id),
        format!("/users/{}/totp-reset", admin.id),
        format!("/users/{}/mailboxes", admin.id),
    ] {
        let r = staff
            .post(
                &p,
                &[
                    ("csrf", &csrf),
                    ("username", "x"),
                    ("password", "y"),
                    ("role", "admin"),
                ],
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{p}");
    }
    for p in ["/send", "/outbox", "/inbox", "/account"] {
        assert_eq!(staff.get(p).await.status(), 200, "{p}");
    }
    assert_eq!(
        staff.get(&format!("/outbox/{id}")).await.status(),
        StatusCode::NOT_FOUND
    );
    // Admin: can manage users; a disabled user's sessions end at once.
    let mut root = Browser::new(&s);
    root.login("root", PASSWORD).await;
    assert_eq!(root.get("/users").await.status(), 200);
    let csrf = root.csrf().await;
    let r = root
        .post(
            "/users",
            &[
                ("csrf", &csrf),
                ("username", "bob"),
                ("password", "short"),
                ("role", "staff"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "weak password refused");
    let r = root
        .post(
            "/users",
            &[
                ("csrf", &csrf),
                ("username", "bob"),
                ("password", "violet-3Kp!harbor-77"),
                ("role", "staff"),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    let ann = s.store.users().by_username("ann").await.unwrap().unwrap();
    let r = root
        .post(&format!("/users/{}/disable", ann.id), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        staff.get("/outbox").await.status(),
        StatusCode::SEE_OTHER,
        "disabled: logged out"
    );
    assert_eq!(
        staff.login("ann", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

/// The text between `start` and the next `end` in `page`.
fn between(page: &str, start: &str, end: &str) -> String {
    let from = page
        .find(start)
        .unwrap_or_else(|| panic!("no {start} in {page}"))
        + start.len();
    page[from..].split(end).next().unwrap().to_string()
}

/// A code the user's authenticator app would show at `at` (seconds), and a wrong one.
fn app_code(secret: &[u8], at: i64) -> String {
    faxline_api::console::totp::code_at(secret, at as u64).unwrap()
}

fn wrong_code(secret: &[u8], at: i64) -> String {
    let right: u32 = app_code(secret, at).parse().unwrap();
    format!("{:06}", (right + 500_000) % 1_000_000)
}

/// Two-step login: set up (the secret shown once, stored sealed, off until a code confirms it), the
/// code asked after the password, one step of drift accepted, a used code refused everywhere after,
/// wrong codes throttled like passwords, turning it off needs a code, an admin's reset.
async fn two_step_login_with_totp(db: Db) {
    let Some(s) = TestServer::start(db, |c| {
        c.trusted_proxies = vec!["127.0.0.1/32".into()];
    })
    .await
    else {
        return;
    };
    add(&s, "root", "admin").await;
    let ann_user = add(&s, "ann", "staff").await;
    let mut ann = Browser::new(&s).at_address("203.0.113.5");
    assert_eq!(
        ann.login("ann", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    let (status, page) = ann.text("/account").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Off: login asks for your password only"),
        "{page}"
    );
    let csrf = hidden(&page, "csrf");
    // Set up: the otpauth URI and the base32 key, shown once.
    let r = ann.post("/account/totp", &[("csrf", &csrf)]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let page = r.text().await.unwrap();
    let key = between(&page, "<code id=\"totp-secret\">", "</code>");
    let uri = between(&page, "id=\"totp-uri\" readonly value=\"", "\"");
    assert!(uri.starts_with("otpauth://totp/Faxline:ann?"), "{uri}");
    assert!(
        uri.contains(&format!("secret={}", key.replace(' ', ""))),
        "{uri}"
    );
    let secret = faxline_api::console::totp::parse_base32(&key).expect("base32");
    // Stored sealed, and not yet in force.
    let stored = s.store.users().totp(&ann_user.id).await.unwrap().unwrap();
    let sealed = stored.totp_secret.expect("stored");
    assert!(!sealed.contains(&key.replace(' ', "")));
    assert_eq!(stored.totp_enabled_at, None);
    assert!(!ann.text("/account").await.1.contains(&key), "shown once");
    let mut before = Browser::new(&s).at_address("203.0.113.5");
    assert_eq!(
        before.login("ann", PASSWORD).await.status(),
        StatusCode::SEE_OTHER,
        "no code asked before confirmation"
    );
    // A wrong code does not confirm it; a right one does.
    let now = faxline_protocol::time::now_s();
    let r = ann
        .post(
            "/account/totp/confirm",
            &[("csrf", &csrf), ("code", &wrong_code(&secret, now))],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("still off"));
    let first = app_code(&secret, now);
    let r = ann
        .post(
            "/account/totp/confirm",
            &[("csrf", &csrf), ("code", &first)],
        )
        .await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("Two-step login is on"));

    // Login now asks for a code after the password, and no session exists until it is right.
    let mut b = Browser::new(&s).at_address("203.0.113.5");
    let r = b.login("ann", PASSWORD).await;
    assert_eq!(r.status(), 200);
    assert!(!b.cookies.contains_key("faxline_session"));
    let page = r.text().await.unwrap();
    assert!(page.contains("Login code"), "{page}");
    let nonce = hidden(&page, "login_nonce");
    assert_eq!(b.get("/outbox").await.status(), StatusCode::SEE_OTHER);
    // The code that confirmed set up is used: refused.
    let r = b.code(&first, &nonce, "/inbox").await;
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "a used code is refused"
    );
    // The app one step ahead (clock drift) is accepted: logged in.
    let ahead = app_code(&secret, now + 30);
    let r = b.code(&ahead, &nonce, "/inbox").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/inbox");
    assert_eq!(b.get("/outbox").await.status(), 200);
    assert!(!b.cookies.contains_key("faxline_mfa"));
    // The same code in another browser, after the password, is refused (a replay).
    let mut c = Browser::new(&s).at_address("203.0.113.5");
    let page = c.login("ann", PASSWORD).await.text().await.unwrap();
    let c_nonce = hidden(&page, "login_nonce");
    let r = c.code(&ahead, &c_nonce, "/outbox").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "replayed code");
    // A code without the password step first is refused.
    let mut skip = Browser::new(&s);
    let page = skip.text("/login").await.1;
    let skip_nonce = hidden(&page, "login_nonce");
    let r = skip.code(&ahead, &skip_nonce, "/outbox").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(!skip.cookies.contains_key("faxline_session"));
    // Someone who knows the password guesses codes: throttled like passwords (429, Retry-After).
    let mut eve = Browser::new(&s).at_address("192.0.2.66");
    let page = eve.login("ann", PASSWORD).await.text().await.unwrap();
    let eve_nonce = hidden(&page, "login_nonce");
    for _ in 0..5 {
        let r = eve
            .code(&wrong_code(&secret, now), &eve_nonce, "/outbox")
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = eve.code(&ahead, &eve_nonce, "/outbox").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = r.headers()[RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!(wait > 0 && wait <= 15 * 60, "{wait}");
    // Turning it off needs a right code.
    let csrf = b.csrf().await;
    let r = b
        .post(
            "/account/totp/disable",
            &[("csrf", &csrf), ("code", &wrong_code(&secret, now))],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(b.text("/account").await.1.contains("On since"));
    // Staff cannot reset anyone's; an admin resets ann's (a lost phone): her sessions end and she
    // logs in with the password alone.
    let r = b
        .post(
            &format!("/users/{}/totp-reset", ann_user.id),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let mut root = Browser::new(&s);
    assert_eq!(
        root.login("root", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    let users = root.text("/users").await.1;
    assert!(
        users.contains(&format!("/users/{}/totp-reset", ann_user.id)),
        "{users}"
    );
    let root_csrf = root.csrf().await;
    let r = root
        .post(
            &format!("/users/{}/totp-reset", ann_user.id),
            &[("csrf", &root_csrf)],
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        b.get("/outbox").await.status(),
        StatusCode::SEE_OTHER,
        "sessions ended"
    );
    let mut after = Browser::new(&s).at_address("203.0.113.5");
    assert_eq!(
        after.login("ann", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    let stored = s.store.users().totp(&ann_user.id).await.unwrap().unwrap();
    assert_eq!(stored.totp_secret, None);
    // Set up again and turn it off with a code.
    let csrf = after.csrf().await;
    let page = after
        .post("/account/totp", &[("csrf", &csrf)])
        .await
        .text()
        .await
        .unwrap();
    let secret = faxline_api::console::totp::parse_base32(&between(
        &page,
        "<code id=\"totp-secret\">",
        "</code>",
    ))
    .unwrap();
    let now = faxline_protocol::time::now_s();
    let r = after
        .post(
            "/account/totp/confirm",
            &[("csrf", &csrf), ("code", &app_code(&secret, now - 30))],
        )
        .await;
    assert_eq!(r.status(), 200, "one step behind is accepted");
    let r = after
        .post(
            "/account/totp/disable",
            &[("csrf", &csrf), ("code", &app_code(&secret, now))],
        )
        .await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("Two-step login is off."));
    let mut last = Browser::new(&s).at_address("203.0.113.5");
    assert_eq!(
        last.login("ann", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
}
both_stores!(two_step, two_step_login_with_totp);

async fn list_jobs(s: &TestServer) -> (i64, Vec<serde_json::Value>) {
    let v: serde_json::Value = http()
        .get(s.url("/fax?limit=100"))
        .header("X-API-Key", ADMIN_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (
        v["total"].as_i64().unwrap(),
        v["jobs"].as_array().unwrap().clone(),
    )
}

/// Posts the Send form with one PDF: the response (a redirect to the new draft when accepted).
async fn send_form(b: &mut Browser, to: &str, pdf: Vec<u8>) -> reqwest::Response {
    let (_, page) = b.text("/send").await;
    let form = reqwest::multipart::Form::new()
        .text("csrf", hidden(&page, "csrf"))
        .text("to", to.to_string())
        .part(
            "file",
            reqwest::multipart::Part::bytes(pdf).file_name("letter.pdf"),
        );
    b.req(reqwest::Method::POST, "/send")
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// The draft a Send form's answer redirects to: its id.
fn draft_of(r: &reqwest::Response) -> String {
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let to = location(r);
    let id = to
        .strip_prefix("/drafts/")
        .unwrap_or_else(|| panic!("not a draft: {to}"));
    assert_eq!(id.len(), 32);
    id.to_string()
}

/// Presses "Send" on a draft's page; the response.
async fn confirm(b: &mut Browser, draft: &str) -> reqwest::Response {
    let (status, page) = b.text(&format!("/drafts/{draft}")).await;
    assert_eq!(status, 200, "{page}");
    let csrf = hidden(&page, "csrf");
    b.post(&format!("/drafts/{draft}/send"), &[("csrf", &csrf)])
        .await
}

async fn send_outbox_and_inbox(db: Db) {
    let Some(s) = TestServer::start(db, |_| {}).await else {
        return;
    };
    add(&s, "ann", "staff").await;
    let mut b = Browser::new(&s);
    b.login("ann", PASSWORD).await;
    let pdf = common::one_page_pdf();
    let r = send_form(&mut b, "+1 555 123 4567\n+15559876543", pdf.clone()).await;
    let draft = draft_of(&r);
    // Nothing is queued before the pages have been shown and Send pressed.
    assert_eq!(list_jobs(&s).await.0, 0);
    let (status, page) = b.text(&format!("/drafts/{draft}")).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("+15551234567")
            && page.contains("+15559876543")
            && page.contains(&format!("/drafts/{draft}/page/1?width=400"))
            && page.contains("Send 2 fax(es)"),
        "{page}"
    );
    let r = b.get(&format!("/drafts/{draft}/page/1?width=400")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(
        image::load_from_memory(&r.bytes().await.unwrap())
            .unwrap()
            .width(),
        400
    );
    assert_eq!(
        b.get(&format!("/drafts/{draft}/page/2")).await.status(),
        StatusCode::NOT_FOUND,
        "one page only"
    );
    // The Send page lists it as waiting.
    let (_, page) = b.text("/send").await;
    assert!(page.contains(&format!("/drafts/{draft}")), "{page}");
    // Another user sees nothing of it and cannot send or discard it.
    add(&s, "bob", "staff").await;
    let mut bob = Browser::new(&s);
    bob.login("bob", PASSWORD).await;
    let bob_csrf = bob.csrf().await;
    assert_eq!(
        bob.get(&format!("/drafts/{draft}")).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        bob.get(&format!("/drafts/{draft}/page/1")).await.status(),
        StatusCode::NOT_FOUND
    );
    for action in ["send", "discard"] {
        let r = bob
            .post(&format!("/drafts/{draft}/{action}"), &[("csrf", &bob_csrf)])
            .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{action}");
    }
    // Send without the session's CSRF token is refused.
    let r = b
        .post(&format!("/drafts/{draft}/send"), &[("csrf", "wrong")])
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(list_jobs(&s).await.0, 0);
    let r = confirm(&mut b, &draft).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/outbox?sent=2");
    let (total, jobs) = list_jobs(&s).await;
    assert_eq!(total, 2);
    let mut to: Vec<_> = jobs
        .iter()
        .map(|j| j["to"].as_str().unwrap().to_string())
        .collect();
    to.sort();
    assert_eq!(to, ["+15551234567", "+15559876543"]);
    assert!(
        jobs.iter()
            .all(|j| j["status"] == "queued" && j["pages"] == 1)
    );
    // Send pressed again (a double click, a reload) queues nothing more; the draft's document is gone.
    let csrf = b.csrf().await;
    let r = b
        .post(&format!("/drafts/{draft}/send"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/outbox?sent=2");
    assert_eq!(
        list_jobs(&s).await.0,
        2,
        "sending a draft twice is idempotent"
    );
    assert!(s.store.drafts().document(&draft).await.unwrap().is_none());
    let (_, page) = b.text("/send").await;
    assert!(
        !page.contains(&format!("/drafts/{draft}")),
        "no longer waiting"
    );
    // Discard: the draft and its document are deleted, nothing is queued.
    let discarded = draft_of(&send_form(&mut b, "+15550000042", pdf.clone()).await);
    assert!(
        s.store
            .drafts()
            .document(&discarded)
            .await
            .unwrap()
            .is_some()
    );
    let r = b
        .post(&format!("/drafts/{discarded}/discard"), &[("csrf", &csrf)])
        .await;
    assert_eq!(location(&r), "/send?discarded=1");
    let (_, page) = b.text("/send?discarded=1").await;
    assert!(page.contains("nothing was sent"), "{page}");
    assert_eq!(
        b.get(&format!("/drafts/{discarded}")).await.status(),
        StatusCode::NOT_FOUND
    );
    assert!(s.store.drafts().get(&discarded).await.unwrap().is_none());
    assert!(
        s.store
            .drafts()
            .document(&discarded)
            .await
            .unwrap()
            .is_none()
    );
    // An expired draft cannot be sent and is swept with its document.
    let stale = draft_of(&send_form(&mut b, "+15550000043", pdf.clone()).await);
    sql(
        &s,
        &format!("UPDATE console_drafts SET expires_at = 1 WHERE id = '{stale}'"),
    )
    .await;
    let r = b
        .post(&format!("/drafts/{stale}/send"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), StatusCode::GONE);
    assert_eq!(
        s.store
            .drafts()
            .sweep(faxline_protocol::time::now_us())
            .await
            .unwrap(),
        1
    );
    assert!(s.store.drafts().get(&stale).await.unwrap().is_none());
    assert!(s.store.drafts().document(&stale).await.unwrap().is_none());
    assert_eq!(list_jobs(&s).await.0, 2);
    // Bad input is a clear error on the form, nothing queued.
    let r = send_form(&mut b, "12ab", common::one_page_pdf()).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("is not a fax number"));
    let r = send_form(
        &mut b,
        "+15551234567",
        vec![0x89, b'P', b'N', b'G', 0, 0, 0xff, 0xfe, 0, 1],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(list_jobs(&s).await.0, 2);
    // The outbox lists them with their status; each fax has its page previews.
    let (status, page) = b.text("/outbox").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("+15559876543") && page.contains("queued"),
        "{page}"
    );
    assert!(
        page.contains("http-equiv=\"refresh\""),
        "refreshes while faxes are pending"
    );
    let id = jobs[0]["id"].as_str().unwrap();
    let (status, page) = b.text(&format!("/outbox/{id}")).await;
    assert_eq!(status, 200);
    assert!(
        page.contains(&format!("/outbox/{id}/page/1?width=400")),
        "{page}"
    );
    let r = b.get(&format!("/outbox/{id}/page/1?width=400")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    let png = r.bytes().await.unwrap();
    let img = image::load_from_memory(&png).unwrap();
    assert_eq!(img.width(), 400);
    // Filter by number and status.
    let (_, page) = b.text("/outbox?to=%2B15551234567").await;
    assert!(
        page.contains("+15551234567") && !page.contains("+15559876543"),
        "{page}"
    );
    // The last digits, as a masked number shows them.
    let (_, page) = b.text("/outbox?to=6543").await;
    assert!(
        page.contains("+15559876543") && !page.contains("+15551234567"),
        "{page}"
    );
    let (_, page) = b.text("/outbox?to=%E2%80%A66543&status=queued").await;
    assert!(page.contains("+15559876543"), "{page}");
    let (_, page) = b.text("/outbox?status=SUCCESS").await;
    assert!(!page.contains("+1555"), "{page}");
    // Cancel one from the console.
    let csrf = b.csrf().await;
    let r = b
        .post(&format!("/outbox/{id}/cancel"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let v: serde_json::Value = http()
        .get(s.url(&format!("/fax/{id}")))
        .header("X-API-Key", ADMIN_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["status"], "cancelled");
    // Send the cancelled fax again: a new job, same number and document; a double click queues it once.
    let (_, page) = b.text(&format!("/outbox/{id}")).await;
    let (csrf, retry_form) = (hidden(&page, "csrf"), hidden(&page, "form_id"));
    let r = b
        .post(
            &format!("/outbox/{id}/retry"),
            &[("csrf", &csrf), ("form_id", &retry_form)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let again = location(&r);
    let r = b
        .post(
            &format!("/outbox/{id}/retry"),
            &[("csrf", &csrf), ("form_id", &retry_form)],
        )
        .await;
    assert_eq!(location(&r), again, "the same job");
    let (total, jobs) = list_jobs(&s).await;
    assert_eq!(total, 3);
    let new_id = again.rsplit('/').next().unwrap();
    let new = jobs.iter().find(|j| j["id"] == new_id).unwrap();
    assert_eq!(new["to"], v["to"]);
    assert_eq!(new["status"], "queued");
    let docs = s.store.documents();
    let doc = |id: &str| faxline_api::store::DocumentId::Job(id.to_owned());
    assert_eq!(
        docs.get(&doc(new_id)).await.unwrap().unwrap(),
        docs.get(&doc(id)).await.unwrap().unwrap(),
        "the same document"
    );
    // A queued fax cannot be "sent again".
    let r = b
        .post(&format!("/outbox/{new_id}/retry"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);

    // A received fax: listed unread with a thumbnail, opened, downloaded by a signed link, marked read.
    let fax_id = uuid::Uuid::new_v4().simple().to_string();
    let now = faxline_protocol::time::now_us();
    let row = Inbound {
        id: fax_id.clone(),
        from_number: Some("+15550001111".into()),
        to_number: Some("+15551234567".into()),
        status: "received".into(),
        backend: "sip".into(),
        provider_sid: Some(format!("call-{fax_id}")),
        pages: Some(1),
        size_bytes: Some(common::one_page_pdf().len() as i64),
        sha256: None,
        mailbox_label: None,
        error: None,
        created_at: now,
        received_at: now,
        updated_at: now,
    };
    s.store
        .inbound()
        .insert(&row, &Bytes::from(common::one_page_pdf()))
        .await
        .unwrap();
    // Staff see the faxes of their mailboxes only (see staff_see_only_their_mailboxes).
    let ann = s.store.users().by_username("ann").await.unwrap().unwrap();
    s.store
        .mailboxes()
        .set(&ann.id, &["+15551234567".to_string()])
        .await
        .unwrap();
    let (status, page) = b.text("/inbox").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("1 unread") && page.contains("+15550001111"),
        "{page}"
    );
    let r = b.get(&format!("/inbox/{fax_id}/page/1?width=160")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        image::load_from_memory(&r.bytes().await.unwrap())
            .unwrap()
            .width(),
        160
    );
    let (status, page) = b.text(&format!("/inbox/{fax_id}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("Mark read"), "{page}");
    let r = b.get(&format!("/inbox/{fax_id}/pdf")).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let link = location(&r);
    assert!(
        link.starts_with(&format!("/inbound/{fax_id}/pdf?token=")),
        "{link}"
    );
    // The signed link works on its own (no cookie, no key).
    let pdf = http().get(s.url(&link)).send().await.unwrap();
    assert_eq!(pdf.status(), 200);
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    assert_eq!(pdf.bytes().await.unwrap(), common::one_page_pdf());
    let csrf = b.csrf().await;
    let r = b
        .post(
            &format!("/inbox/{fax_id}/read"),
            &[("csrf", &csrf), ("read", "1")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (_, page) = b.text("/inbox").await;
    assert!(page.contains("0 unread"), "{page}");
}
both_stores!(send_and_inbox, send_outbox_and_inbox);

/// A Send of one file larger than what an upload keeps in memory (3 MiB) goes through a spool: the
/// draft counts its page and stores it from there (the database backend in pieces, sealed when
/// encryption is on), and "Send" copies it into each number's job byte for byte.
async fn send_streams_one_large_file(db: Db) {
    let Some(s) = TestServer::start(db, |_| {}).await else {
        return;
    };
    add(&s, "ann", "staff").await;
    let mut b = Browser::new(&s);
    b.login("ann", PASSWORD).await;
    let pdf = common::large_pdf(3 << 20);
    let r = send_form(&mut b, "+15551234567\n+15559876543", pdf.clone()).await;
    let draft = draft_of(&r);
    let d = s.store.drafts().get(&draft).await.unwrap().unwrap();
    assert_eq!(
        (d.pages, d.size_bytes, d.parts, d.file_name.as_str()),
        (1, pdf.len() as i64, 1, "letter.pdf")
    );
    let doc = DocumentId::Draft(draft.clone());
    let kept = s.store.documents().get(&doc).await.unwrap().unwrap();
    assert!(kept == pdf, "the draft's document differs from the upload");
    if s.cfg.storage_backend == "database" {
        let (raw, rows) = common::database_document(&s.cfg.database_url, &doc).await;
        assert!(rows >= 3, "{rows} rows for 3 MiB");
        if s.cfg.storage_encryption_key_file.is_some() {
            assert!(
                !raw.windows(common::MARKER.len())
                    .any(|w| w == common::MARKER),
                "plaintext in the stored draft"
            );
        }
    }
    let r = confirm(&mut b, &draft).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/outbox?sent=2");
    let (total, jobs) = list_jobs(&s).await;
    assert_eq!(total, 2);
    for j in jobs {
        let id = j["id"].as_str().unwrap();
        let job_doc = DocumentId::Job(id.to_owned());
        let got = s.store.documents().get(&job_doc).await.unwrap().unwrap();
        assert!(got == pdf, "job {id}'s document differs from the upload");
    }
    // The draft's own document is gone once it became jobs.
    assert!(s.store.documents().get(&doc).await.unwrap().is_none());
}
both_stores!(send_large, send_streams_one_large_file);

/// A received fax to `to`, stored as the agent would; its id.
async fn received(s: &TestServer, to: Option<&str>) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let now = faxline_protocol::time::now_us();
    let row = Inbound {
        id: id.clone(),
        from_number: Some("+15550001111".into()),
        to_number: to.map(str::to_string),
        status: "received".into(),
        backend: "sip".into(),
        provider_sid: Some(format!("call-{id}")),
        pages: Some(1),
        size_bytes: Some(common::one_page_pdf().len() as i64),
        sha256: None,
        mailbox_label: None,
        error: None,
        created_at: now,
        received_at: now,
        updated_at: now,
    };
    s.store
        .inbound()
        .insert(&row, &Bytes::from(common::one_page_pdf()))
        .await
        .unwrap();
    id
}

/// Per-number mailboxes: an admin gives staff inbound numbers; staff see only those numbers' faxes,
/// in the listing and its unread count and on every route of one fax (page, image, PDF link, mark
/// read), where another fax is 404 as if it did not exist; admins see every fax.
async fn staff_see_only_their_mailboxes(db: Db) {
    let Some(s) = TestServer::start(db, |_| {}).await else {
        return;
    };
    let root_user = add(&s, "root", "admin").await;
    let ann_user = add(&s, "ann", "staff").await;
    add(&s, "bob", "staff").await;
    let front = received(&s, Some("+15551110001")).await;
    let billing = received(&s, Some("+15552220002")).await;
    let unknown = received(&s, None).await;
    let mut root = Browser::new(&s);
    root.login("root", PASSWORD).await;
    let csrf = root.csrf().await;
    let r = root
        .post(
            &format!("/users/{}/mailboxes", ann_user.id),
            &[("csrf", &csrf), ("numbers", "+1 555 111-0001")],
        )
        .await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("value=\"+15551110001\""));
    for (numbers, why) in [("+1555111000x", "not a number")] {
        let r = root
            .post(
                &format!("/users/{}/mailboxes", ann_user.id),
                &[("csrf", &csrf), ("numbers", numbers)],
            )
            .await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{why}");
    }
    let r = root
        .post(
            &format!("/users/{}/mailboxes", root_user.id),
            &[("csrf", &csrf), ("numbers", "+15552220002")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "admins see everything");
    // The admin sees every fax.
    let page = root.text("/inbox").await.1;
    for id in [&front, &billing, &unknown] {
        assert!(page.contains(id.as_str()), "{id}");
    }
    assert!(page.contains("3 unread"), "{page}");
    assert!(!page.contains("id=\"mailboxes\""));

    let mut ann = Browser::new(&s);
    ann.login("ann", PASSWORD).await;
    let page = ann.text("/inbox").await.1;
    assert!(page.contains(front.as_str()), "{page}");
    assert!(!page.contains(billing.as_str()) && !page.contains(unknown.as_str()));
    assert!(page.contains("1 unread"), "{page}");
    assert!(page.contains("Your mailboxes: +15551110001"), "{page}");
    let csrf = ann.csrf().await;
    for id in [&billing, &unknown] {
        for path in [
            format!("/inbox/{id}"),
            format!("/inbox/{id}/page/1?width=160"),
            format!("/inbox/{id}/pdf"),
        ] {
            let r = ann.get(&path).await;
            assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
            assert!(location(&r).is_empty(), "no signed link for {path}");
        }
        let r = ann
            .post(&format!("/inbox/{id}/read"), &[("csrf", &csrf)])
            .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }
    assert_eq!(ann.get(&format!("/inbox/{front}")).await.status(), 200);
    assert_eq!(
        ann.get(&format!("/inbox/{front}/page/1?width=160"))
            .await
            .status(),
        200
    );
    let r = ann.get(&format!("/inbox/{front}/pdf")).await;
    assert!(location(&r).starts_with(&format!("/inbound/{front}/pdf?token=")));
    let r = ann
        .post(&format!("/inbox/{front}/read"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(ann.text("/inbox").await.1.contains("0 unread"));
    // Nothing of the others was marked read.
    assert!(root.text("/inbox").await.1.contains("2 unread"));

    // Bob has no mailbox: an empty inbox that says why.
    let mut bob = Browser::new(&s);
    bob.login("bob", PASSWORD).await;
    let page = bob.text("/inbox").await.1;
    assert!(page.contains("No mailbox is assigned to you"), "{page}");
    assert!(
        page.contains("No faxes received") && page.contains("0 unread"),
        "{page}"
    );
    assert_eq!(
        bob.get(&format!("/inbox/{front}")).await.status(),
        StatusCode::NOT_FOUND
    );
    // Taking the number away takes the fax away.
    let csrf = root.csrf().await;
    let r = root
        .post(
            &format!("/users/{}/mailboxes", ann_user.id),
            &[("csrf", &csrf), ("numbers", "")],
        )
        .await;
    assert_eq!(r.status(), 200);
    assert!(!ann.text("/inbox").await.1.contains(front.as_str()));
    assert_eq!(
        ann.get(&format!("/inbox/{front}")).await.status(),
        StatusCode::NOT_FOUND
    );
}
both_stores!(mailboxes, staff_see_only_their_mailboxes);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stylesheet_is_served_and_api_routes_are_untouched() {
    let s = TestServer::start(Db::Sqlite, |_| {}).await.unwrap();
    let r = http()
        .get(s.url("/assets/console.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    // The API keeps its answers: JSON errors, its own auth.
    let r = http().get(s.url("/fax")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = http().get(s.url("/nothing-here")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.headers()["content-type"], "application/json");
    let r = http().get(s.url("/health")).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

/// Finishes every job an agent can lease, as SUCCESS; returns how many.
async fn finish_leased(s: &TestServer) -> usize {
    use faxline_protocol::JobStatus;
    use faxline_protocol::messages::SendResult;
    let agent = s.agent("bulk-agent");
    let jobs = agent
        .lease(std::time::Duration::from_millis(200), 10)
        .await
        .unwrap();
    for job in &jobs {
        agent
            .result(
                job,
                &SendResult {
                    status: JobStatus::Success,
                    error: None,
                    pages: Some(1),
                    provider_sid: Some(format!("call-{}", job.job_id)),
                },
            )
            .await
            .unwrap();
    }
    jobs.len()
}

/// Confirms a bulk send on its preview page (nothing is queued before).
async fn confirm_bulk(b: &mut Browser, batch_url: &str, csrf: &str) {
    let (status, page) = b.text(batch_url).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"confirm\""), "{page}");
    let r = b
        .post(&format!("{batch_url}/confirm"), &[("csrf", csrf)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), batch_url);
}

/// Posts the bulk form: a CSV, the form's cover fields and a one-page PDF; the response.
async fn bulk_form(
    b: &mut Browser,
    csrf: &str,
    csv: &str,
    cover: &[(&'static str, &str)],
) -> reqwest::Response {
    let mut form = reqwest::multipart::Form::new()
        .text("csrf", csrf.to_owned())
        .part(
            "csv",
            reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("r.csv"),
        )
        .part(
            "file",
            reqwest::multipart::Part::bytes(common::one_page_pdf()).file_name("memo.pdf"),
        );
    for (k, v) in cover {
        form = form.text(*k, v.to_string());
    }
    b.req(reqwest::Method::POST, "/bulk")
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// A bulk CSV with cover fields per row: bad rows are refused with their line and reason, the
/// preview shows the first recipient's fax (its cover page first) and queues nothing; only
/// Confirm starts the queue, and each job is that recipient's cover page and the document, the
/// first exactly the previewed one. Discard deletes a batch never confirmed.
async fn bulk_cover_pages_preview_and_confirm(db: Db) {
    use faxline_api::store::DocumentId;
    let Some(s) = TestServer::start(db, |_| {}).await else {
        return;
    };
    add(&s, "ann", "staff").await;
    add(&s, "bob", "staff").await;
    let mut b = Browser::new(&s);
    b.login("ann", PASSWORD).await;
    let (_, page) = b.text("/bulk").await;
    let csrf = hidden(&page, "csrf");
    let long = "s".repeat(faxline_document::COVER_FIELD_MAX + 1);
    let csv = format!(
        "number,name,subject,note\n\
         +15550001001,Dr. Ada,Referral,Please call back\n\
         +15550001002,Dr. Bob,,\n\
         not-a-number,Dr. Eve,,\n\
         +15550001001,Again,,\n\
         +15550001003,Dr. Long,{long},\n"
    );
    let r = bulk_form(&mut b, &csrf, &csv, &[("cover_from", "Main St Clinic")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let batch_url = location(&r);
    let id = batch_url.rsplit('/').next().unwrap().to_string();
    let (status, page) = b.text(&batch_url).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<dd id=\"batch-state\">draft</dd>"), "{page}");
    assert!(page.contains("<dd id=\"bulk-accepted\">2</dd>"), "{page}");
    assert!(page.contains("<dd id=\"bulk-refused\">3</dd>"), "{page}");
    assert!(page.contains("is not a fax number"), "{page}");
    assert!(page.contains("row 4:"), "{page}");
    assert!(page.contains("row 5: the same number as row 2"), "{page}");
    assert!(
        page.contains("row 6: the subject is longer than 100 characters"),
        "{page}"
    );
    // The cover page and the document's page.
    assert!(page.contains("2 page(s)"), "{page}");
    assert!(
        page.contains(&format!("/drafts/{id}/page/2?width=400")),
        "{page}"
    );
    let r = b.get(&format!("/drafts/{id}/page/1?width=200")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "image/png");
    let previewed = s.store.drafts().document(&id).await.unwrap().unwrap();
    // The preview is not a Send draft: not listed, not sendable on its own.
    let (_, send_page) = b.text("/send").await;
    assert!(!send_page.contains(&id), "{send_page}");
    let r = b
        .post(&format!("/drafts/{id}/send"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), batch_url);
    // Nothing is queued before Confirm, not even by a maintenance pass.
    tokio::time::sleep(std::time::Duration::from_secs(6)).await;
    assert_eq!(list_jobs(&s).await.0, 0);
    // Another user sees no preview and cannot confirm it.
    let mut other = Browser::new(&s);
    other.login("bob", PASSWORD).await;
    let (status, _) = other.text(&batch_url).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let other_csrf = other.csrf().await;
    let r = other
        .post(&format!("{batch_url}/confirm"), &[("csrf", &other_csrf)])
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let (_, list) = other.text("/bulk").await;
    assert!(!list.contains(&id), "{list}");

    confirm_bulk(&mut b, &batch_url, &csrf).await;
    // A second press only shows the batch.
    let r = b
        .post(&format!("{batch_url}/confirm"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(s.store.drafts().get(&id).await.unwrap().is_none());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let jobs = loop {
        let (total, jobs) = list_jobs(&s).await;
        if total == 2 {
            break jobs;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "bulk send stalled at {total}"
        );
        finish_leased(&s).await;
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    let mut docs = std::collections::HashMap::new();
    for j in &jobs {
        assert_eq!(j["pages"], 2, "cover page + the document: {j}");
        let job_id = j["id"].as_str().unwrap().to_string();
        let doc = s
            .store
            .documents()
            .get(&DocumentId::Job(job_id))
            .await
            .unwrap()
            .unwrap();
        assert_ne!(&doc[..], &common::one_page_pdf()[..]);
        docs.insert(j["to"].as_str().unwrap().to_string(), doc);
    }
    assert_eq!(docs.len(), 2);
    // The first recipient got exactly the previewed pages; the second its own cover page.
    assert_eq!(docs["+15550001001"], previewed);
    assert_ne!(docs["+15550001002"], previewed);
    // The refused rows stay refused on the batch's page.
    let recipients = s.store.bulk().recipients(&id, 10).await.unwrap();
    assert_eq!(recipients.len(), 5);
    assert_eq!(recipients.iter().filter(|r| r.error.is_some()).count(), 3);
    assert_eq!(recipients[0].cover_from.as_deref(), Some("Main St Clinic"));
    assert_eq!(recipients[0].cover_subject.as_deref(), Some("Referral"));

    // Discard: the batch, its recipients, its document and its preview are gone; nothing sent.
    let r = bulk_form(
        &mut b,
        &csrf,
        "+15550002001\n+15550002002\n",
        &[("cover", "1")],
    )
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let discard_url = location(&r);
    let gone = discard_url.rsplit('/').next().unwrap().to_string();
    let r = other
        .post(&format!("{discard_url}/discard"), &[("csrf", &other_csrf)])
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = b
        .post(&format!("{discard_url}/discard"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&r), "/bulk?discarded=1");
    let (_, page) = b.text("/bulk?discarded=1").await;
    assert!(page.contains("nothing was sent"), "{page}");
    assert!(s.store.bulk().get(&gone).await.unwrap().is_none());
    assert!(s.store.drafts().get(&gone).await.unwrap().is_none());
    assert!(
        s.store
            .documents()
            .get(&DocumentId::Bulk(gone.clone()))
            .await
            .unwrap()
            .is_none()
    );
    let (status, _) = b.text(&discard_url).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(list_jobs(&s).await.0, 2);
    // Not confirmed within the hour: Confirm answers 410, and the sweep's store calls delete it.
    let r = bulk_form(&mut b, &csrf, "+15550004001\n", &[]).await;
    let late_url = location(&r);
    let late = late_url.rsplit('/').next().unwrap().to_string();
    sql(
        &s,
        &format!(
            "UPDATE bulk_batches SET created_at = created_at - 3600000001 WHERE id = '{late}'"
        ),
    )
    .await;
    let r = b
        .post(&format!("{late_url}/confirm"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), StatusCode::GONE);
    let now = faxline_protocol::time::now_us();
    let stale = s
        .store
        .bulk()
        .stale_drafts(now - 3_600_000_000, 10)
        .await
        .unwrap();
    assert_eq!(stale, vec![late.clone()]);
    assert!(s.store.bulk().delete_draft(&late).await.unwrap());
    assert!(s.store.bulk().get(&late).await.unwrap().is_none());
    // A CSV whose header names an unknown column beside cover fields is refused whole.
    let r = bulk_form(&mut b, &csrf, "number,note,colour\n+15550003001,x,y\n", &[]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("unknown column"));
}
both_stores!(bulk_cover, bulk_cover_pages_preview_and_confirm);

async fn bulk_send_is_durable_and_sends_each_recipient_once(db: Db) {
    let Some(mut s) = TestServer::start(db, |_| {}).await else {
        return;
    };
    add(&s, "ann", "staff").await;
    let mut b = Browser::new(&s);
    b.login("ann", PASSWORD).await;
    let (_, page) = b.text("/bulk").await;
    let csrf = hidden(&page, "csrf");
    let mut csv = String::from("number,name\n");
    for i in 0..20 {
        csv += &format!("+1555000{i:04},Clinic {i}\n");
    }
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf.clone())
        .part(
            "csv",
            reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("r.csv"),
        )
        .part(
            "file",
            reqwest::multipart::Part::bytes(common::one_page_pdf()).file_name("memo.pdf"),
        );
    let r = b
        .req(reqwest::Method::POST, "/bulk")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let batch_url = location(&r);
    let batch_id = batch_url.rsplit('/').next().unwrap().to_string();
    confirm_bulk(&mut b, &batch_url, &csrf).await;
    // The document is kept through the document store (not in bulk_batches.content).
    assert_eq!(
        s.store.bulk().content(&batch_id).await.unwrap().as_deref(),
        Some(&common::one_page_pdf()[..])
    );
    assert!(
        s.store
            .documents()
            .get(&faxline_api::store::DocumentId::Bulk(batch_id.clone()))
            .await
            .unwrap()
            .is_some()
    );

    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(150);
    let mut restarted = false;
    let mut crashed_mid_record = false;
    loop {
        let (total, jobs) = list_jobs(&s).await;
        let open = jobs
            .iter()
            .filter(|j| j["status"] == "queued" || j["status"] == "in_progress")
            .count();
        assert!(open <= 2, "at most two jobs of the batch at a time: {open}");
        if total >= 6 && !crashed_mid_record {
            // As if the server died after creating a job but before recording it: the next pass
            // must find the same job (its idempotency key), not fax the recipient again.
            let stmt = format!(
                "UPDATE bulk_recipients SET job_id = NULL WHERE batch_id = '{batch_id}' AND seq = \
                 (SELECT MAX(seq) FROM bulk_recipients WHERE batch_id = '{batch_id}' AND job_id IS NOT NULL)"
            );
            sql(&s, &stmt).await;
            crashed_mid_record = true;
        }
        if total >= 10 && !restarted {
            s = s.restart().await;
            b.base = s.base.clone();
            restarted = true;
        }
        if total == 20 && jobs.iter().all(|j| j["status"] == "SUCCESS") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "bulk send stalled at {total} jobs"
        );
        finish_leased(&s).await;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    let (total, jobs) = list_jobs(&s).await;
    assert_eq!(total, 20, "each recipient faxed exactly once");
    let mut to: Vec<String> = jobs
        .iter()
        .map(|j| j["to"].as_str().unwrap().to_string())
        .collect();
    to.sort();
    to.dedup();
    assert_eq!(to.len(), 20);
    // The batch ends done; its page shows all twenty finished.
    let done = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (_, page) = b.text(&batch_url).await;
        if page.contains("<dd id=\"batch-state\">done</dd>") {
            assert!(page.contains("<span id=\"batch-done\">20</span>"), "{page}");
            break;
        }
        assert!(std::time::Instant::now() < done, "{page}");
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    // Finished: its document is no longer kept. The queue deletes it after marking the batch done (on S3 a
    // request later), so allow it a moment.
    let gone = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while s.store.bulk().content(&batch_id).await.unwrap().is_some() {
        assert!(
            std::time::Instant::now() < gone,
            "the finished batch's document is still kept"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}
both_stores!(
    bulk_durable,
    bulk_send_is_durable_and_sends_each_recipient_once
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_send_pauses_resumes_and_cancels() {
    let s = TestServer::start(Db::Sqlite, |_| {}).await.unwrap();
    add(&s, "ann", "staff").await;
    let mut b = Browser::new(&s);
    b.login("ann", PASSWORD).await;
    let (_, page) = b.text("/bulk").await;
    let csrf = hidden(&page, "csrf");
    // Nothing but bad numbers refuses the whole upload, naming the row.
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf.clone())
        .text("list", "+1555abc\n")
        .part(
            "file",
            reqwest::multipart::Part::bytes(common::one_page_pdf()).file_name("memo.pdf"),
        );
    let r = b
        .req(reqwest::Method::POST, "/bulk")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("row 1"));
    let list: String = (0..6).map(|i| format!("+1555100{i:04}\n")).collect();
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf.clone())
        .text("list", list)
        .part(
            "file",
            reqwest::multipart::Part::bytes(common::one_page_pdf()).file_name("memo.pdf"),
        );
    let r = b
        .req(reqwest::Method::POST, "/bulk")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let batch_url = location(&r);
    confirm_bulk(&mut b, &batch_url, &csrf).await;
    // The first two jobs are created at once (the queue is kicked); then pause.
    let t = std::time::Instant::now();
    while list_jobs(&s).await.0 < 2 {
        assert!(t.elapsed().as_secs() < 20);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let r = b
        .post(&format!("{batch_url}/pause"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(finish_leased(&s).await, 2);
    tokio::time::sleep(std::time::Duration::from_secs(6)).await; // a maintenance pass
    assert_eq!(list_jobs(&s).await.0, 2, "paused: no new jobs");
    let (_, page) = b.text(&batch_url).await;
    assert!(page.contains("id=\"resume\""), "{page}");
    // Resume: two more at once; cancel: the queued ones are cancelled, nothing more is created.
    b.post(&format!("{batch_url}/resume"), &[("csrf", &csrf)])
        .await;
    let t = std::time::Instant::now();
    while list_jobs(&s).await.0 < 4 {
        assert!(t.elapsed().as_secs() < 20);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let r = b
        .post(&format!("{batch_url}/cancel"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    tokio::time::sleep(std::time::Duration::from_secs(6)).await;
    let (total, jobs) = list_jobs(&s).await;
    assert_eq!(total, 4);
    assert_eq!(
        jobs.iter().filter(|j| j["status"] == "cancelled").count(),
        2
    );
    let (_, page) = b.text(&batch_url).await;
    assert!(
        page.contains("<dd id=\"batch-state\">cancelled</dd>"),
        "{page}"
    );
    // A resume after a cancel is refused.
    let r = b
        .post(&format!("{batch_url}/resume"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_manage_api_keys_and_see_agents_and_masked_config() {
    let s = TestServer::start(Db::Sqlite, |_| {}).await.unwrap();
    add(&s, "root", "admin").await;
    let mut b = Browser::new(&s);
    b.login("root", PASSWORD).await;
    let csrf = b.csrf().await;
    let r = b
        .post("/settings/keys", &[("csrf", &csrf), ("name", "billing")])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST, "a key needs a scope");
    let r = b
        .post(
            "/settings/keys",
            &[
                ("csrf", &csrf),
                ("name", "billing"),
                ("scope", "fax:read"),
                ("scope", "inbound:list"),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    let token = page
        .split("<code id=\"new-token\" class=\"token\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    assert!(token.starts_with("fbk_live_"), "{token}");
    let key_id = token
        .trim_start_matches("fbk_live_")
        .split('_')
        .next()
        .unwrap()
        .to_string();
    let api = |t: String| {
        let url = s.url("/fax");
        async move {
            http()
                .get(url)
                .header("X-API-Key", t)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(
        api(token.clone()).await,
        200,
        "the new key works with its scopes"
    );
    // Shown once: the list does not show it again.
    let (_, list) = b.text("/settings/keys").await;
    assert!(list.contains(&key_id) && !list.contains(&token));
    assert!(list.contains("fax:read, inbound:list"), "{list}");
    // Rotate: a new secret, the old one stops working.
    let r = b
        .post(
            &format!("/settings/keys/{key_id}/rotate"),
            &[("csrf", &csrf)],
        )
        .await;
    let page = r.text().await.unwrap();
    let rotated = page
        .split("<code id=\"new-token\" class=\"token\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    assert_ne!(rotated, token);
    assert_eq!(api(token).await, 401);
    assert_eq!(api(rotated.clone()).await, 200);
    // Revoke.
    let r = b
        .post(
            &format!("/settings/keys/{key_id}/revoke"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(api(rotated).await, 401);
    let r = b
        .post(
            &format!("/settings/keys/{key_id}/revoke"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Agents with their line health, and the configuration without a secret in it.
    let agent = s.agent("agent-7");
    agent
        .lease_reporting(
            std::time::Duration::ZERO,
            1,
            Some(faxline_protocol::messages::LineHealth {
                kind: "asterisk".into(),
                problems: vec!["AMI not connected".into()],
            }),
        )
        .await
        .unwrap();
    let (status, page) = b.text("/settings/system").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("agent-7") && page.contains("AMI not connected"),
        "{page}"
    );
    assert!(page.contains("inbound_enabled: true"), "{page}");
    for secret in [ADMIN_KEY, common::AGENT_SECRET, common::INTERNAL_SECRET] {
        assert!(!page.contains(secret), "a secret on the page");
    }
}

/// Posts the Send form with several files (name, bytes) in order and optional extra fields.
async fn send_parts(
    b: &mut Browser,
    to: &str,
    files: &[(&str, Vec<u8>)],
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let (_, page) = b.text("/send").await;
    let mut form = reqwest::multipart::Form::new()
        .text("csrf", hidden(&page, "csrf"))
        .text("to", to.to_string());
    for (name, content) in files {
        form = form.part(
            "file",
            reqwest::multipart::Part::bytes(content.clone()).file_name(name.to_string()),
        );
    }
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    b.req(reqwest::Method::POST, "/send")
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// The PNG the console serves for a page of a queued fax, full width.
async fn page_png(b: &mut Browser, id: &str, page: usize) -> Vec<u8> {
    let r = b.get(&format!("/outbox/{id}/page/{page}")).await;
    assert_eq!(r.status(), StatusCode::OK, "page {page}");
    r.bytes().await.unwrap().to_vec()
}

/// A bitmap as the preview renderer serves it at full width, to compare pages exactly.
fn full_png(page: &faxline_document::Bitmap) -> Vec<u8> {
    faxline_document::preview_png(page, (204.0, 196.0), faxline_document::PreviewSize::Full)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_joins_documents_in_order_behind_a_cover_page() {
    let s = TestServer::start(Db::Sqlite, |_| {}).await.unwrap();
    add(&s, "ann", "staff").await;
    let mut b = Browser::new(&s);
    b.login("ann", PASSWORD).await;
    let text = b"Referral letter, part one.\n".to_vec();
    let pdf = common::one_page_pdf();
    let cover_fields = [
        ("cover_from", "Dr. Ann Example"),
        ("cover_to", "Riverside Clinic"),
        ("cover_subject", "Referral"),
        ("cover_note", "Two documents follow.\nPlease call back."),
    ];
    let r = send_parts(
        &mut b,
        "+15551234567",
        &[("part1.txt", text.clone()), ("part2.pdf", pdf.clone())],
        &cover_fields,
    )
    .await;
    let draft = draft_of(&r);
    let (_, page) = b.text(&format!("/drafts/{draft}")).await;
    assert!(
        page.contains("<dd id=\"draft-pages\">3</dd>") && page.contains("cover page first"),
        "{page}"
    );
    let draft_pages: Vec<Vec<u8>> = {
        let mut v = Vec::new();
        for p in 1..=3 {
            let r = b.get(&format!("/drafts/{draft}/page/{p}")).await;
            assert_eq!(r.status(), StatusCode::OK, "draft page {p}");
            v.push(r.bytes().await.unwrap().to_vec());
        }
        v
    };
    let r = confirm(&mut b, &draft).await;
    assert_eq!(location(&r), "/outbox?sent=1");
    let (total, jobs) = list_jobs(&s).await;
    assert_eq!(total, 1);
    assert_eq!(jobs[0]["pages"], 3, "cover + one text page + one PDF page");
    let id = jobs[0]["id"].as_str().unwrap().to_string();

    // The pages that will be faxed are, exactly: the cover, the text, the PDF.
    let opts = faxline_api::pages::RenderBudget::default().options();
    let cover = faxline_document::CoverPage {
        from: "Dr. Ann Example".into(),
        to: "Riverside Clinic".into(),
        subject: "Referral".into(),
        note: "Two documents follow.\nPlease call back.".into(),
    };
    let expected = [
        faxline_document::render_cover(&cover, 3, &opts).unwrap(),
        faxline_document::render(&text, &opts).unwrap().pages[0].clone(),
        faxline_document::render(&pdf, &opts).unwrap().pages[0].clone(),
    ];
    for (i, want) in expected.iter().enumerate() {
        assert!(
            page_png(&mut b, &id, i + 1).await == full_png(want),
            "page {} is not the expected page",
            i + 1
        );
        // The preview shown before sending was exactly this page.
        assert!(
            draft_pages[i] == full_png(want),
            "draft page {} is not the page faxed",
            i + 1
        );
    }
    // The document an agent downloads renders to the same three pages.
    let agent = s.agent("join-agent");
    let leased = agent
        .lease(std::time::Duration::from_millis(200), 1)
        .await
        .unwrap();
    assert_eq!(leased.len(), 1);
    let doc = agent.document(&leased[0]).await.unwrap();
    let faxed = faxline_document::render(&doc, &opts).unwrap();
    assert_eq!(faxed.pages.len(), 3);
    for (i, (got, want)) in faxed.pages.iter().zip(&expected).enumerate() {
        assert!(got.data() == want.data(), "faxed page {} differs", i + 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_refuses_bad_parts_with_clear_errors() {
    let s = TestServer::start(Db::Sqlite, |c| c.max_file_size_mb = 1)
        .await
        .unwrap();
    add(&s, "ann", "staff").await;
    let mut b = Browser::new(&s);
    b.login("ann", PASSWORD).await;
    let ok = ("ok.txt", b"hello\n".to_vec());
    let long_subject = "s".repeat(101);
    let opts = faxline_api::pages::RenderBudget::default().options();
    let lines = |n: usize| "x\n".repeat(n).into_bytes();
    let sixty_pages = lines(3600);
    let pages = faxline_document::count_pages(&sixty_pages, &opts).unwrap();
    assert!(
        (51..=99).contains(&pages),
        "one part alone fits, two do not"
    );
    // (files, extra form fields, expected status, expected message)
    type Case<'a> = (
        Vec<(&'a str, Vec<u8>)>,
        Vec<(&'a str, &'a str)>,
        StatusCode,
        &'a str,
    );
    let cases: Vec<Case> = vec![
        (
            vec![ok.clone(), ("broken.pdf", b"%PDF-1.4\ngarbage".to_vec())],
            vec![],
            StatusCode::BAD_REQUEST,
            "Document 2 (broken.pdf) cannot be read",
        ),
        (
            vec![
                ok.clone(),
                ("locked.pdf", common::fixture("pdf/aes256-userpw.pdf")),
            ],
            vec![],
            StatusCode::BAD_REQUEST,
            "password-protected",
        ),
        (
            vec![ok.clone(), ("photo.png", b"\x89PNG\r\n\x1a\n\0\0".to_vec())],
            vec![],
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Document 2 (photo.png): Only PDF and TXT are allowed",
        ),
        (
            // Each text part alone fits the page limit; the two together do not.
            vec![
                ("long1.txt", sixty_pages.clone()),
                ("long2.txt", sixty_pages.clone()),
            ],
            vec![],
            StatusCode::BAD_REQUEST,
            "more than 100 pages in all",
        ),
        (
            vec![ok.clone()],
            vec![("cover_subject", long_subject.as_str())],
            StatusCode::BAD_REQUEST,
            "subject is longer than 100 characters",
        ),
        (
            // 1 MB is the limit for all files together, not for each.
            vec![
                ("a.txt", vec![b'a'; 600 * 1024]),
                ("b.txt", vec![b'b'; 600 * 1024]),
            ],
            vec![],
            StatusCode::PAYLOAD_TOO_LARGE,
            "larger than 1 MB in all",
        ),
    ];
    for (files, fields, status, message) in cases {
        let r = send_parts(&mut b, "+15551234567", &files, &fields).await;
        assert_eq!(r.status(), status, "{message}");
        let page = r.text().await.unwrap();
        assert!(page.contains(message), "{message}: {page}");
    }
    assert_eq!(list_jobs(&s).await.0, 0, "nothing was queued");
}
