//! Console page times with a full database: starts the API in-process on SQLite (or a fresh
//! PostgreSQL database), fills it through the API's own routes (jobs through `POST /fax`, inbound
//! faxes as the agent stores them, bulk sends through the console's form, confirmed), gives the
//! jobs a mix of statuses, logs in as an admin and requests each console page several times,
//! printing p50 / p99 / max of the time to the whole response on 127.0.0.1 (the server's time plus
//! a loopback round trip).
//!
//! ```sh
//! cargo run --release -p faxline-api --example console_pages                 # 10,000 jobs, SQLite
//! cargo run --release -p faxline-api --example console_pages -- --postgres URL
//! cargo run -p faxline-api --example console_pages -- --quick                # CI: 300 jobs, 3 rounds
//! ```
//!
//! Exits 1 when a page answers anything but 200, or (with `--max-ms N`) when a page's p99 is over
//! N ms.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use faxline_api::config::{Config, Secret};
use faxline_api::store::Inbound;
use reqwest::StatusCode;
use reqwest::header::{LOCATION, SET_COOKIE};

const ADMIN_KEY: &str = "bench-admin-key-0123456789abcdef";
const AGENT_SECRET: &str = "bench-agent-secret-0123456789abcdef0123";
const INTERNAL_SECRET: &str = "bench-internal-secret-0123456789";
const PASSWORD: &str = "tulip-7Qx!marble-42";

struct Args {
    jobs: usize,
    inbound: usize,
    rounds: usize,
    postgres: Option<String>,
    max_ms: Option<f64>,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        jobs: 10_000,
        inbound: 1_000,
        rounds: 30,
        postgres: None,
        max_ms: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--quick" => {
                a.jobs = 300;
                a.inbound = 30;
                a.rounds = 3;
            }
            "--jobs" => {
                a.jobs = value("--jobs")?
                    .parse()
                    .map_err(|e| format!("--jobs: {e}"))?
            }
            "--rounds" => {
                a.rounds = value("--rounds")?
                    .parse()
                    .map_err(|e| format!("--rounds: {e}"))?
            }
            "--postgres" => a.postgres = Some(value("--postgres")?),
            "--max-ms" => {
                a.max_ms = Some(
                    value("--max-ms")?
                        .parse()
                        .map_err(|e| format!("--max-ms: {e}"))?,
                )
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(a)
}

/// A logged-in browser: cookies by name, redirects not followed.
struct Browser {
    base: String,
    client: reqwest::Client,
    cookies: HashMap<String, String>,
}

impl Browser {
    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let cookie = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        self.client
            .request(method, format!("{}{path}", self.base))
            .header("cookie", cookie)
    }

    fn keep(&mut self, r: &reqwest::Response) {
        for v in r.headers().get_all(SET_COOKIE) {
            let v = v.to_str().unwrap_or_default();
            let kv = v.split(';').next().unwrap_or_default();
            if let Some((k, val)) = kv.split_once('=') {
                self.cookies.insert(k.to_owned(), val.to_owned());
            }
        }
    }

    async fn get(&mut self, path: &str) -> Result<(StatusCode, String), String> {
        let r = self
            .req(reqwest::Method::GET, path)
            .send()
            .await
            .map_err(|e| format!("GET {path}: {e}"))?;
        self.keep(&r);
        let status = r.status();
        Ok((status, r.text().await.map_err(|e| e.to_string())?))
    }

    async fn post(
        &mut self,
        path: &str,
        form: &[(&str, &str)],
    ) -> Result<reqwest::Response, String> {
        let body: String = form
            .iter()
            .map(|(k, v)| format!("{k}={}", urlencode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let r = self
            .req(reqwest::Method::POST, path)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|e| format!("POST {path}: {e}"))?;
        self.keep(&r);
        Ok(r)
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn hidden(page: &str, name: &str) -> Result<String, String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page
        .find(&marker)
        .ok_or(format!("no hidden input {name}"))?
        + marker.len();
    let len = page[start..].find('"').ok_or("unterminated value")?;
    Ok(page[start..start + len].to_owned())
}

/// A fresh database on the PostgreSQL server of `url`: its URL and name.
async fn pg_database(url: &str) -> Result<(String, String), String> {
    use sqlx::Connection;
    let name = format!("faxline_bench_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .map_err(|e| format!("CREATE DATABASE: {e}"))?;
    let mut u = reqwest::Url::parse(url).map_err(|e| e.to_string())?;
    u.set_path(&format!("/{name}"));
    Ok((u.to_string(), name))
}

/// Drops the benchmark's database again.
async fn drop_pg_database(url: &str, name: &str) -> Result<(), String> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut conn)
    .await
    .map_err(|e| format!("DROP DATABASE: {e}"))?;
    Ok(())
}

async fn sql(url: &str, stmt: &str) -> Result<(), String> {
    if url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(url)
            .await
            .map_err(|e| e.to_string())?;
        sqlx::query(sqlx::AssertSqlSafe(stmt.to_owned()))
            .execute(&pool)
            .await
            .map_err(|e| e.to_string())?;
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url)
            .await
            .map_err(|e| e.to_string())?;
        sqlx::query(sqlx::AssertSqlSafe(stmt.to_owned()))
            .execute(&pool)
            .await
            .map_err(|e| e.to_string())?;
        pool.close().await;
    }
    Ok(())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    match run().await {
        Ok(true) => {}
        Ok(false) => std::process::exit(1),
        Err(e) => {
            eprintln!("console_pages: {e}");
            std::process::exit(1);
        }
    }
}

async fn run() -> Result<bool, String> {
    let a = args()?;
    let (database_url, pg_name) = match &a.postgres {
        Some(url) => {
            let (db, name) = pg_database(url).await?;
            (db, Some(name))
        }
        None => (String::new(), None),
    };
    let result = measure(&a, database_url).await;
    if let (Some(url), Some(name)) = (&a.postgres, pg_name)
        && let Err(e) = drop_pg_database(url, &name).await
    {
        eprintln!("console_pages: {e}");
    }
    result
}

async fn measure(a: &Args, database_url: String) -> Result<bool, String> {
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let database_url = if database_url.is_empty() {
        format!("sqlite://{}", tmp.path().join("faxline.db").display())
    } else {
        database_url
    };
    let spool = tmp.path().join("spool");
    std::fs::create_dir_all(&spool).map_err(|e| e.to_string())?;
    let cfg = Config {
        listen: "127.0.0.1:0".parse().map_err(|_| "address")?,
        database_url: database_url.clone(),
        data_dir: tmp.path().to_path_buf(),
        api_key: Some(Secret::new(ADMIN_KEY)),
        agent_secret: Some(Secret::new(AGENT_SECRET)),
        internal_secret: Some(Secret::new(INTERNAL_SECRET)),
        inbound_enabled: true,
        inbound_spool_dir: Some(spool),
        public_api_url: Some("https://fax.example.org".into()),
        ..Config::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let app = faxline_api::App::start(cfg)
        .await
        .map_err(|e| format!("the API does not start: {e}"))?;
    let store = app.store().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let _ = app
            .run(listener, async {
                let _ = stopped.await;
            })
            .await;
    });
    let base = format!("http://{addr}");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())?;

    // Jobs, through POST /fax (a short text document: counting its page is cheap).
    let t = Instant::now();
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (http, base, next, total) = (http.clone(), base.clone(), next.clone(), a.jobs);
        workers.spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= total {
                    return Ok::<(), String>(());
                }
                let form = reqwest::multipart::Form::new()
                    .text("to", format!("+1555{:07}", 1_000_000 + i))
                    .part(
                        "file",
                        reqwest::multipart::Part::bytes(format!("Memo {i}\n").into_bytes())
                            .file_name("memo.txt"),
                    );
                let r = http
                    .post(format!("{base}/fax"))
                    .header("X-API-Key", ADMIN_KEY)
                    .multipart(form)
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                if !r.status().is_success() {
                    return Err(format!("POST /fax answered {}", r.status()));
                }
            }
        });
    }
    while let Some(done) = workers.join_next().await {
        done.map_err(|e| e.to_string())??;
    }
    // A mix of outcomes, as an installation's history has (ids are random hex).
    sql(
        &database_url,
        "UPDATE fax_jobs SET status = 'SUCCESS', pages = 1 WHERE id < '9'",
    )
    .await?;
    sql(
        &database_url,
        "UPDATE fax_jobs SET status = 'FAILED', error = 'busy' WHERE id >= '9' AND id < 'd'",
    )
    .await?;
    eprintln!("{} jobs in {:.1} s", a.jobs, t.elapsed().as_secs_f64());

    // Inbound faxes, stored as the agent's upload stores them.
    let pdf = Bytes::from_static(b"%PDF-1.4\n% bench\n");
    let mut last_inbound = String::new();
    for i in 0..a.inbound.max(1) {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let now = faxline_protocol::time::now_us() - (a.inbound - i) as i64 * 1_000_000;
        let row = Inbound {
            id: id.clone(),
            from_number: Some(format!("+1555{:07}", 2_000_000 + i)),
            to_number: Some("+15551230000".into()),
            status: "received".into(),
            backend: "sip".into(),
            provider_sid: Some(format!("call-{id}")),
            pages: Some(1),
            size_bytes: Some(pdf.len() as i64),
            sha256: None,
            mailbox_label: None,
            error: None,
            created_at: now,
            received_at: now,
            updated_at: now,
        };
        store
            .inbound()
            .insert(&row, &pdf)
            .await
            .map_err(|e| format!("inbound: {e}"))?;
        last_inbound = id;
    }

    // The admin, logged in.
    faxline_api::console::add_user(&store, "bench", PASSWORD, "admin")
        .await
        .map_err(|e| format!("add user: {e}"))?;
    let mut b = Browser {
        base: base.clone(),
        client: http.clone(),
        cookies: HashMap::new(),
    };
    let (_, login) = b.get("/login").await?;
    let nonce = hidden(&login, "login_nonce")?;
    let r = b
        .post(
            "/login",
            &[
                ("username", "bench"),
                ("password", PASSWORD),
                ("login_nonce", &nonce),
                ("next", "/outbox"),
            ],
        )
        .await?;
    if r.status() != StatusCode::SEE_OTHER {
        return Err(format!("login answered {}", r.status()));
    }
    let (_, send) = b.get("/send").await?;
    let csrf = hidden(&send, "csrf")?;

    // Bulk sends through the form, confirmed: a large one without and a small one with cover
    // pages (their queues make two jobs each; no agent takes them).
    let mut batch_urls = Vec::new();
    for (n, cover) in [(a.jobs / 10, false), (a.jobs / 100, true)] {
        let mut csv = String::from("number,name,subject\n");
        for i in 0..n.max(1) {
            csv += &format!("+1555{:07},Clinic {i},Results\n", 3_000_000 + i);
        }
        let mut form = reqwest::multipart::Form::new()
            .text("csrf", csrf.clone())
            .part(
                "csv",
                reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("r.csv"),
            )
            .part(
                "file",
                reqwest::multipart::Part::bytes(b"Bulk memo\n".to_vec()).file_name("memo.txt"),
            );
        if !cover {
            // The subject column asks for a cover page; this batch goes without.
            form = reqwest::multipart::Form::new()
                .text("csrf", csrf.clone())
                .text(
                    "list",
                    (0..n.max(1))
                        .map(|i| format!("+1555{:07}\n", 4_000_000 + i))
                        .collect::<String>(),
                )
                .part(
                    "file",
                    reqwest::multipart::Part::bytes(b"Bulk memo\n".to_vec()).file_name("memo.txt"),
                );
        }
        let r = b
            .req(reqwest::Method::POST, "/bulk")
            .multipart(form)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let url = r
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(format!("POST /bulk answered {}", r.status()))?
            .to_owned();
        let r = b
            .post(&format!("{url}/confirm"), &[("csrf", &csrf)])
            .await?;
        if r.status() != StatusCode::SEE_OTHER {
            return Err(format!("confirm answered {}", r.status()));
        }
        batch_urls.push(url);
    }
    let any_job = store
        .jobs()
        .list(&faxline_api::store::JobFilter {
            owner_key_id: None,
            status: None,
            to_number: None,
            limit: 1,
            offset: 0,
        })
        .await
        .map_err(|e| e.to_string())?
        .1
        .into_iter()
        .next()
        .ok_or("no job")?;

    let deep = (a.jobs / 50 / 2).max(1);
    let pages: Vec<(&str, String)> = vec![
        ("outbox", "/outbox".into()),
        ("outbox, status filter", "/outbox?status=FAILED".into()),
        ("outbox, last digits search", "/outbox?to=4567".into()),
        ("outbox, one number", "/outbox?to=%2B15551004567".into()),
        (
            "outbox, status + digits",
            "/outbox?status=SUCCESS&to=12".into(),
        ),
        ("outbox, a deep page", format!("/outbox?page={deep}")),
        ("one job", format!("/outbox/{}", any_job.id)),
        ("inbox", "/inbox".into()),
        ("one inbound fax", format!("/inbox/{}", last_inbound)),
        ("bulk list", "/bulk".into()),
        ("bulk progress (large)", batch_urls[0].clone()),
        ("bulk progress (cover pages)", batch_urls[1].clone()),
        ("send", "/send".into()),
        ("users", "/users".into()),
        ("admin: keys", "/settings/keys".into()),
        ("admin: system", "/settings/system".into()),
        ("account", "/account".into()),
    ];
    println!(
        "{} jobs, {} inbound faxes, bulk sends of {} and {} recipients; {} on {}; {} requests per page",
        a.jobs,
        a.inbound,
        (a.jobs / 10).max(1),
        (a.jobs / 100).max(1),
        if cfg!(debug_assertions) {
            "debug build"
        } else {
            "release build"
        },
        if a.postgres.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        a.rounds
    );
    println!(
        "{:<30} {:>9} {:>9} {:>9}",
        "page", "p50 ms", "p99 ms", "max ms"
    );
    let mut ok = true;
    for (name, path) in &pages {
        // One request first, not counted (the connection, the first page's caches).
        let (status, _) = b.get(path).await?;
        if status != StatusCode::OK {
            println!("{name:<30} answered {status}");
            ok = false;
            continue;
        }
        let mut times = Vec::with_capacity(a.rounds);
        for _ in 0..a.rounds {
            let t = Instant::now();
            let (status, body) = b.get(path).await?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            if status != StatusCode::OK || body.is_empty() {
                println!("{name:<30} answered {status}");
                ok = false;
                break;
            }
        }
        times.sort_by(|x, y| x.total_cmp(y));
        let (p50, p99, max) = (
            percentile(&times, 0.5),
            percentile(&times, 0.99),
            times.last().copied().unwrap_or(0.0),
        );
        let over = a.max_ms.is_some_and(|m| p99 > m);
        println!(
            "{name:<30} {p50:>9.2} {p99:>9.2} {max:>9.2}{}",
            if over { "  over" } else { "" }
        );
        ok &= !over;
    }
    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(10), server).await;
    drop(store);
    Ok(ok)
}
