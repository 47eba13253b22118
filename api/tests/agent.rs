//! The agent protocol over real HTTP: leasing (also under concurrency), heartbeats, documents,
//! results, retries, lease expiry, restarts, inbound uploads, the Asterisk hook, and signature
//! failures. On SQLite and PostgreSQL.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::{
    ADMIN_KEY, AGENT_SECRET, Db, INTERNAL_SECRET, TestServer, http, one_page_pdf, send_fax,
};
use faxline_protocol::auth as agent_auth;
use faxline_protocol::client::{AgentClientError, CallDetails, InboundMeta, SendResult};
use faxline_protocol::messages::{HEADER_DOCUMENT_KIND, HEADER_DOCUMENT_SHA256};
use faxline_protocol::{DocKind, JobStatus};
use serde_json::Value;

async fn queue(s: &TestServer, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        let r = send_fax(
            s,
            ADMIN_KEY,
            &format!("+1555000{:04}", i),
            "d.pdf",
            one_page_pdf(),
        )
        .await;
        assert_eq!(r.status(), 202);
        ids.push(
            r.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    ids
}

async fn status(s: &TestServer, id: &str) -> Value {
    http()
        .get(s.url(&format!("/fax/{id}")))
        .header("X-API-Key", ADMIN_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn lease_flow(db: Db) {
    let Some(s) = TestServer::start(db, |_| {}).await else {
        return;
    };
    let agent = s.agent("agent-1");
    assert!(agent.lease(Duration::ZERO, 1).await.unwrap().is_empty());
    let ids = queue(&s, 1).await;
    let jobs = agent.lease(Duration::from_secs(5), 5).await.unwrap();
    assert_eq!(jobs.len(), 1);
    let job = &jobs[0];
    assert_eq!(job.job_id, ids[0]);
    assert_eq!(job.to, "+15550000000");
    assert_eq!(job.document_kind, DocKind::Pdf);
    assert_eq!(job.attempt, 1);
    assert_eq!(status(&s, &ids[0]).await["status"], "in_progress");
    assert_eq!(agent.document(job).await.unwrap(), one_page_pdf());
    // Streamed into a writer: the same bytes and length; a checksum other than the job's, or more
    // bytes than its announced size, is refused.
    let mut streamed = Vec::new();
    let len = agent.document_to(job, &mut streamed).await.unwrap();
    assert_eq!(
        (len, streamed),
        (one_page_pdf().len() as u64, one_page_pdf())
    );
    let mut wrong = job.clone();
    wrong.document_sha256 = "00".repeat(32);
    assert!(matches!(
        agent.document(&wrong).await,
        Err(AgentClientError::Checksum)
    ));
    let mut short = job.clone();
    short.document_size = 10;
    assert!(matches!(
        agent.document(&short).await,
        Err(AgentClientError::Checksum)
    ));
    assert!(agent.heartbeat(job).await.unwrap() > 0);
    agent.progress(job, 1, Some(1)).await.unwrap();
    let st = agent
        .result(
            job,
            &SendResult {
                status: JobStatus::Success,
                error: None,
                pages: Some(1),
                provider_sid: Some("call-1".into()),
            },
        )
        .await
        .unwrap();
    assert_eq!(st, JobStatus::Success);
    let v = status(&s, &ids[0]).await;
    assert_eq!(v["status"], "SUCCESS");
    assert_eq!(v["pages"], 1);
    // the lease is gone now
    assert!(matches!(
        agent.heartbeat(job).await,
        Err(AgentClientError::LeaseLost)
    ));
    assert!(matches!(
        agent.document(job).await,
        Err(AgentClientError::LeaseLost)
    ));

    // long poll wakes up when a job arrives
    let a2 = s.agent("agent-2");
    let waiter = tokio::spawn(async move { a2.lease(Duration::from_secs(20), 1).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let t0 = std::time::Instant::now();
    let ids = queue(&s, 1).await;
    let got = waiter.await.unwrap().unwrap();
    assert_eq!(got[0].job_id, ids[0]);
    assert!(t0.elapsed() < Duration::from_secs(5));

    // A result is final: a failure (the agent's `[retry]` policy already ran its attempts) is not
    // queued again by the API, and the job is not offered to any agent.
    let job = got[0].clone();
    let busy = SendResult {
        status: JobStatus::Failed,
        error: Some("BUSY".into()),
        pages: None,
        provider_sid: None,
    };
    assert_eq!(
        s.agent("agent-2").result(&job, &busy).await.unwrap(),
        JobStatus::Failed
    );
    let v = status(&s, &job.job_id).await;
    assert_eq!(v["status"], "FAILED", "{v}");
    assert_eq!(v["stage"], "failed", "{v}");
    let later = s.agent("agent-3").lease(Duration::ZERO, 10).await.unwrap();
    assert!(later.iter().all(|j| j.job_id != job.job_id));

    // readiness lists agents
    let v: Value = http()
        .get(s.url("/health/ready"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["checks"]["agents_connected"], true);
    let names: Vec<&str> = v["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["agent_id"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"agent-1") && names.contains(&"agent-2"));
}
both_stores!(lease_flow_on, lease_flow);

/// Progress stages and the delivery details of a result are stored and shown by `GET /fax/{id}`
/// (next to every Faxbot field); an agent can ask for a job's status.
async fn delivery_details(db: Db) {
    let Some(s) = TestServer::start(db, |_| {}).await else {
        return;
    };
    let agent = s.agent("agent-1");
    let ids = queue(&s, 2).await;
    let jobs = agent.lease(Duration::ZERO, 2).await.unwrap();
    let job = jobs.iter().find(|j| j.job_id == ids[0]).unwrap();
    let other = jobs.iter().find(|j| j.job_id == ids[1]).unwrap();
    let v = status(&s, &ids[0]).await;
    for k in ["pages_sent", "stage", "bitrate", "mode", "remote_ident"] {
        assert!(v[k].is_null(), "{k} in {v}");
    }
    // Control characters are dropped; the stage is kept until a later one replaces it.
    agent
        .progress_stage(job, "T.38\u{7} Negotiated", None)
        .await
        .unwrap();
    agent.progress(job, 1, None).await.unwrap();
    let v = status(&s, &ids[0]).await;
    assert_eq!(v["stage"], "T.38 Negotiated", "{v}");
    assert_eq!(v["pages_sent"], 1, "{v}");
    let st = agent.job_status(&ids[0]).await.unwrap().unwrap();
    assert!(st.leased_to_you && !st.is_final() && st.status == JobStatus::InProgress);
    assert!(
        !s.agent("agent-2")
            .job_status(&ids[0])
            .await
            .unwrap()
            .unwrap()
            .leased_to_you
    );
    assert_eq!(
        agent
            .job_status("0123456789abcdef0123456789abcdef")
            .await
            .unwrap(),
        None
    );
    let ok = SendResult {
        status: JobStatus::Success,
        error: None,
        pages: Some(1),
        provider_sid: Some("job_1".into()),
    };
    let details = CallDetails {
        bitrate: Some(14400),
        mode: Some("T38".into()),
        remote_ident: Some("+1 555 0199".into()),
        agent_attempt: Some(1),
        unplaced: None,
    };
    agent.result_with_details(job, &ok, &details).await.unwrap();
    let v = status(&s, &ids[0]).await;
    assert_eq!(v["status"], "SUCCESS", "{v}");
    assert_eq!(v["pages"], 1);
    assert_eq!(v["bitrate"], 14400);
    assert_eq!(v["mode"], "T38");
    assert_eq!(v["remote_ident"], "+1 555 0199");
    // A finished job shows its final stage and the pages that went, not the last call phase.
    assert_eq!(v["stage"], "completed", "{v}");
    assert_eq!(v["pages_sent"], 1, "{v}");
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
        assert!(v.get(k).is_some(), "missing {k} in {v}");
    }
    let st = agent.job_status(&ids[0]).await.unwrap().unwrap();
    assert!(st.is_final() && !st.leased_to_you);
    // The list shows the same fields.
    let list: Value = http()
        .get(s.url("/fax?status=SUCCESS"))
        .header("X-API-Key", ADMIN_KEY)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["jobs"][0]["remote_ident"], "+1 555 0199");
    // Nonsense values are not stored; a plain result (no details) leaves them empty.
    let bad = CallDetails {
        bitrate: Some(-5),
        mode: Some("  ".into()),
        remote_ident: None,
        agent_attempt: None,
        unplaced: None,
    };
    let failed = SendResult {
        status: JobStatus::Failed,
        error: Some("busy".into()),
        pages: None,
        provider_sid: None,
    };
    agent
        .result_with_details(other, &failed, &bad)
        .await
        .unwrap();
    let v = status(&s, &ids[1]).await;
    assert_eq!(v["status"], "FAILED");
    assert!(v["bitrate"].is_null() && v["mode"].is_null(), "{v}");
    assert_eq!(v["stage"], "failed", "{v}");
    assert_eq!(v["pages_sent"], 0, "{v}");
    // The OpenAPI document describes the additions.
    let doc: Value = http()
        .get(s.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let props = &doc["components"]["schemas"]["FaxJobOut"]["properties"];
    for k in ["pages_sent", "stage", "bitrate", "mode", "remote_ident"] {
        assert!(props.get(k).is_some(), "{k} not in the OpenAPI schema");
    }
    assert_eq!(
        props["status"]["enum"],
        serde_json::json!(["queued", "in_progress", "SUCCESS", "FAILED", "cancelled"])
    );
}
both_stores!(delivery_details_on, delivery_details);

/// A fax that fails part-way keeps the document's page count in `pages` and shows the pages that went in
/// `pages_sent`; a success reported without pages counts the whole document; a job sent back to the queue
/// and a cancelled one say so in `stage`.
async fn pages_and_final_stage(db: Db) {
    let Some(s) = TestServer::start(db, |_| {}).await else {
        return;
    };
    let five = common::fixture("pdf/gs-man-groff.pdf");
    let mut ids = Vec::new();
    for to in ["+15550000001", "+15550000002", "+15550000003"] {
        let r = send_fax(&s, ADMIN_KEY, to, "d.pdf", five.clone()).await;
        assert_eq!(r.status(), 202);
        ids.push(
            r.json::<Value>().await.unwrap()["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let doc_pages = status(&s, &ids[0]).await["pages"].as_i64().unwrap();
    assert!(doc_pages > 2, "a multi-page fixture: {doc_pages}");
    let agent = s.agent("agent-1");
    let jobs = agent.lease(Duration::ZERO, 3).await.unwrap();
    let job = |id: &str| jobs.iter().find(|j| j.job_id == id).unwrap().clone();
    let (a, b, c) = (job(&ids[0]), job(&ids[1]), job(&ids[2]));
    for j in [&a, &b, &c] {
        agent.progress(j, 0, Some(doc_pages)).await.unwrap();
        agent
            .progress_stage(j, "sending page 2", None)
            .await
            .unwrap();
    }
    let failed_part_way = SendResult {
        status: JobStatus::Failed,
        error: Some("fax transfer failed: the far end hung up during the fax".into()),
        pages: Some(2),
        provider_sid: None,
    };
    agent.result(&a, &failed_part_way).await.unwrap();
    let v = status(&s, &ids[0]).await;
    assert_eq!(v["status"], "FAILED", "{v}");
    assert_eq!(v["pages"], doc_pages, "the document's count is kept: {v}");
    assert_eq!(v["pages_sent"], 2, "{v}");
    assert_eq!(v["stage"], "failed", "{v}");

    // (Asterisk's FAXPAGES can be empty or 0 when its result event races the hangup.)
    let success_without_pages = SendResult {
        status: JobStatus::Success,
        error: None,
        pages: Some(0),
        provider_sid: None,
    };
    agent.result(&b, &success_without_pages).await.unwrap();
    let v = status(&s, &ids[1]).await;
    assert_eq!(v["pages"], doc_pages, "{v}");
    assert_eq!(v["pages_sent"], doc_pages, "{v}");
    assert_eq!(v["stage"], "completed", "{v}");

    assert_eq!(
        agent
            .release(&c, "agent shutdown", None, Duration::ZERO)
            .await
            .unwrap(),
        JobStatus::Queued
    );
    let v = status(&s, &ids[2]).await;
    assert_eq!(v["stage"], "retry scheduled", "{v}");
    assert_eq!(v["pages"], doc_pages, "{v}");
    let r = http()
        .post(s.url(&format!("/fax/{}/cancel", ids[2])))
        .header("X-API-Key", ADMIN_KEY)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let v = status(&s, &ids[2]).await;
    assert_eq!(v["status"], "cancelled", "{v}");
    assert_eq!(v["stage"], "cancelled", "{v}");
}
both_stores!(pages_and_final_stage_on, pages_and_final_stage);

async fn many_agents(db: Db) {
    let Some(s) = TestServer::start(db, |_| {}).await else {
        return;
    };
    let ids: HashSet<String> = queue(&s, 40).await.into_iter().collect();
    let mut tasks = Vec::new();
    for a in 0..8 {
        let agent = s.agent(&format!("agent-{a}"));
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let jobs = agent.lease(Duration::ZERO, 2).await.unwrap();
                if jobs.is_empty() {
                    return mine;
                }
                mine.extend(jobs.into_iter().map(|j| j.job_id));
            }
        }));
    }
    let mut seen = Vec::new();
    for t in tasks {
        seen.extend(t.await.unwrap());
    }
    let unique: HashSet<String> = seen.iter().cloned().collect();
    assert_eq!(seen.len(), 40, "every job leased exactly once");
    assert_eq!(unique, ids);
}
both_stores!(many_agents_on, many_agents);

async fn expiry_and_restart(db: Db) {
    let Some(s) = TestServer::start(db, |c| c.lease_seconds = 1).await else {
        return;
    };
    let ids = queue(&s, 2).await;
    let dead = s.agent("dead-agent");
    let first = dead.lease(Duration::ZERO, 1).await.unwrap().remove(0);
    // the agent dies; its lease expires and the job returns to the queue with attempt 2
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let other = s.agent("live-agent");
    let again = other.lease(Duration::ZERO, 1).await.unwrap().remove(0);
    assert_eq!(again.job_id, first.job_id);
    assert_eq!(again.attempt, 2);
    assert!(matches!(
        dead.heartbeat(&first).await,
        Err(AgentClientError::LeaseLost)
    ));

    // restart in the middle: queued jobs, leases and the admin key survive
    let mut cfg_lease = s.cfg.clone();
    cfg_lease.lease_seconds = 60;
    let mut s = s;
    s.stop().await;
    let s = TestServer::start_with(cfg_lease).await;
    let other = s.agent("live-agent");
    other
        .heartbeat(&again)
        .await
        .expect("lease survives the restart");
    let rest = other.lease(Duration::ZERO, 5).await.unwrap();
    assert_eq!(rest.len(), 1);
    assert!(ids.contains(&rest[0].job_id) && rest[0].job_id != again.job_id);
    let ok = SendResult {
        status: JobStatus::Success,
        error: None,
        pages: Some(1),
        provider_sid: None,
    };
    other.result(&again, &ok).await.unwrap();
    assert_eq!(status(&s, &again.job_id).await["status"], "SUCCESS");
}
both_stores!(expiry_and_restart_on, expiry_and_restart);

async fn signatures(db: Db) {
    let Some(s) = TestServer::start(db, |_| {}).await else {
        return;
    };
    let path = "/agent/v1/lease";
    let body = br#"{"wait_seconds":0}"#.to_vec();
    let post = |h: agent_auth::SignedHeaders, body: Vec<u8>| {
        let mut rb = http().post(s.url(path)).body(body);
        for (k, v) in h.pairs() {
            rb = rb.header(k, v);
        }
        rb.send()
    };
    let good = agent_auth::sign_now(AGENT_SECRET.as_bytes(), "POST", path, "a1", &body);
    assert_eq!(
        post(good.clone(), body.clone()).await.unwrap().status(),
        200
    );
    // exact replay
    let r = post(good.clone(), body.clone()).await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.json::<Value>().await.unwrap()["detail"],
        "Replayed request"
    );
    // tampered body
    let h = agent_auth::sign_now(AGENT_SECRET.as_bytes(), "POST", path, "a1", &body);
    assert_eq!(
        post(h, br#"{"wait_seconds":1}"#.to_vec())
            .await
            .unwrap()
            .status(),
        401
    );
    // wrong secret
    let h = agent_auth::sign_now(
        b"another-secret-another-secret-another",
        "POST",
        path,
        "a1",
        &body,
    );
    assert_eq!(post(h, body.clone()).await.unwrap().status(), 401);
    // stale timestamp
    let ts = faxline_protocol::time::now_s() - 1000;
    let sig = agent_auth::sign_request(
        AGENT_SECRET.as_bytes(),
        "POST",
        path,
        "a1",
        ts,
        "0123456789abcdef0123",
        &body,
    );
    let h = agent_auth::SignedHeaders {
        agent_id: "a1".into(),
        timestamp: ts,
        nonce: "0123456789abcdef0123".into(),
        signature: sig,
    };
    let r = post(h, body.clone()).await.unwrap();
    assert_eq!(r.status(), 401);
    // unsigned
    assert_eq!(
        http()
            .post(s.url(path))
            .body(body)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
}
both_stores!(signatures_on, signatures);

/// A job its agent gives back unfinished (it is stopping) is queued again, with the reason, for a lease
/// after the delay the agent asks for, until the API's `max_attempts` (3) leases are used; then it fails
/// for good. An agent of the previous release gives a job back with `retry: true` on a failed result:
/// that is the same release, held 60 s as those agents' jobs were.
async fn release(db: Db) {
    let Some(s) = TestServer::start(db, |_| {}).await else {
        return;
    };
    let ids = queue(&s, 1).await;
    let agent = s.agent("agent-1");
    let first = agent.lease(Duration::ZERO, 1).await.unwrap().remove(0);
    assert_eq!(first.attempt, 1);
    assert_eq!(
        agent
            .release(&first, "agent shutdown", Some(1), Duration::ZERO)
            .await
            .unwrap(),
        JobStatus::Queued
    );
    let v = status(&s, &ids[0]).await;
    assert_eq!(v["status"], "queued", "{v}");
    assert_eq!(v["stage"], "retry scheduled", "{v}");
    assert_eq!(v["error"], "agent shutdown", "{v}");
    assert_eq!(v["pages_sent"], 1, "{v}");
    // The lease is gone: the old lease can neither report nor release again.
    assert!(matches!(
        agent.release(&first, "again", None, Duration::ZERO).await,
        Err(AgentClientError::LeaseLost)
    ));

    // No delay asked: leased again at once. A delay holds the job back.
    let second = s
        .agent("agent-2")
        .lease(Duration::ZERO, 1)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(
        (second.job_id.as_str(), second.attempt),
        (ids[0].as_str(), 2)
    );
    let agent2 = s.agent("agent-2");
    agent2
        .release(&second, "agent shutdown", None, Duration::from_secs(2))
        .await
        .unwrap();
    assert!(agent.lease(Duration::ZERO, 1).await.unwrap().is_empty());
    let third = agent
        .lease(Duration::from_secs(10), 1)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(third.attempt, 3);

    // A result names SUCCESS or FAILED; anything else is refused (and the lease kept).
    let path = format!("/agent/v1/jobs/{}/result", third.job_id);
    for bad in ["DONE", "queued"] {
        let body = serde_json::to_vec(&serde_json::json!({
            "lease_id": third.lease_id, "status": bad, "error": null, "pages": null, "provider_sid": null
        }))
        .unwrap();
        let h = agent_auth::sign_now(AGENT_SECRET.as_bytes(), "POST", &path, "agent-1", &body);
        let mut rb = http().post(s.url(&path)).body(body);
        for (k, v) in h.pairs() {
            rb = rb.header(k, v);
        }
        let r = rb.send().await.unwrap();
        assert_eq!(r.status(), 400, "{bad}");
        assert_eq!(
            r.json::<Value>().await.unwrap()["detail"],
            "status must be SUCCESS or FAILED"
        );
    }

    // The third lease is the last: giving it back, here the old way, fails the job for good.
    let body = serde_json::to_vec(&serde_json::json!({
        "lease_id": third.lease_id, "status": "FAILED", "error": "agent shutdown",
        "pages": null, "provider_sid": null, "retry": true, "agent_attempt": 1
    }))
    .unwrap();
    let h = agent_auth::sign_now(AGENT_SECRET.as_bytes(), "POST", &path, "agent-1", &body);
    let mut rb = http().post(s.url(&path)).body(body);
    for (k, v) in h.pairs() {
        rb = rb.header(k, v);
    }
    let r = rb.send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "FAILED");
    let v = status(&s, &ids[0]).await;
    assert_eq!(v["stage"], "failed", "{v}");
    assert!(agent.lease(Duration::ZERO, 1).await.unwrap().is_empty());
}
both_stores!(release_on, release);

/// The document comes with its checksum and kind in the protocol's headers.
async fn document_headers(db: Db) {
    let Some(s) = TestServer::start(db, |_| {}).await else {
        return;
    };
    queue(&s, 1).await;
    let job = s
        .agent("agent-1")
        .lease(Duration::ZERO, 1)
        .await
        .unwrap()
        .remove(0);
    let path = format!(
        "/agent/v1/jobs/{}/document?lease_id={}",
        job.job_id, job.lease_id
    );
    let h = agent_auth::sign_now(AGENT_SECRET.as_bytes(), "GET", &path, "agent-1", b"");
    let mut rb = http().get(s.url(&path));
    for (k, v) in h.pairs() {
        rb = rb.header(k, v);
    }
    let r = rb.send().await.unwrap();
    assert_eq!(r.status(), 200);
    let header = |n: &str| r.headers()[n].to_str().unwrap().to_owned();
    assert_eq!(header(HEADER_DOCUMENT_SHA256), job.document_sha256);
    assert_eq!(header(HEADER_DOCUMENT_KIND), "pdf");
    assert_eq!(header("content-type"), DocKind::Pdf.content_type());
    assert_eq!(r.bytes().await.unwrap(), one_page_pdf());
}
both_stores!(document_headers_on, document_headers);

async fn inbound(db: Db) {
    let Some(s) = TestServer::start(db, |_| {}).await else {
        return;
    };
    let pdf = one_page_pdf();
    let agent = s.agent("rx-agent");
    let meta = InboundMeta {
        from: Some("+15557654321".into()),
        to: Some("+15551112222".into()),
        pages: Some(1),
        call_id: Some("1700000000.1".into()),
        ..Default::default()
    };
    let id = agent.upload_inbound(&meta, &pdf).await.unwrap();
    // the same call uploaded twice is stored once
    assert_eq!(agent.upload_inbound(&meta, &pdf).await.unwrap(), id);
    assert!(matches!(
        agent.upload_inbound(&meta, b"not a pdf").await,
        Err(AgentClientError::Api { status: 415, .. })
    ));

    let (_, key) = common::create_key(&s, &["inbound:list", "inbound:read"]).await;
    let list: Value = http()
        .get(s.url("/inbound"))
        .header("X-API-Key", &key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let arr = list.as_array().unwrap();
    assert_eq!(arr.len(), 1);
    assert_eq!(arr[0]["fr"], "+15557654321");
    assert_eq!(arr[0]["mailbox"], Value::Null);
    let r = http()
        .get(s.url(&format!("/inbound/{id}")))
        .header("X-API-Key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = http()
        .get(s.url(&format!("/inbound/{id}/pdf")))
        .header("X-API-Key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert_eq!(r.bytes().await.unwrap().as_ref(), pdf.as_slice());
    // token-only download works without a key (Faxbot's bug fixed)
    let link: Value = http()
        .post(s.url(&format!("/inbound/{id}/pdf-link")))
        .header("X-API-Key", &key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let r = http()
        .get(s.url(&format!(
            "/inbound/{id}/pdf?token={}",
            link["token"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // a fax link does not open an inbound document
    let r = http()
        .get(s.url(&format!("/inbound/{id}/pdf?token=1.AAAA")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = http()
        .get(s.url("/inbound/0123456789abcdef0123456789abcdef"))
        .header("X-API-Key", &key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap()["detail"],
        "Inbound fax not found"
    );

    // Faxbot-compatible Asterisk hook: only files inside the spool
    let spool = s.cfg.inbound_spool_dir.clone().unwrap();
    std::fs::write(spool.join("fax1.pdf"), &pdf).unwrap();
    let outside = s.dir.join("outside.pdf");
    std::fs::write(&outside, &pdf).unwrap();
    std::os::unix::fs::symlink(&outside, spool.join("link.pdf")).unwrap();
    let hook = |path: String, secret: &'static str| {
        http()
            .post(s.url("/_internal/asterisk/inbound"))
            .header("X-Internal-Secret", secret)
            .json(&serde_json::json!({"tiff_path": path, "to_number": "+15551112222", "from_number": "+15553334444", "faxstatus": "SUCCESS", "faxpages": "1", "uniqueid": "u-1"}))
            .send()
    };
    let r = hook(
        spool.join("fax1.pdf").display().to_string(),
        INTERNAL_SECRET,
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "ok");
    let r = hook(
        spool.join("fax1.pdf").display().to_string(),
        "wrong-secret-0123456789",
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 401);
    let r = hook(
        spool.join("../outside.pdf").display().to_string(),
        INTERNAL_SECRET,
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 400);
    let r = hook(
        spool.join("link.pdf").display().to_string(),
        INTERNAL_SECRET,
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 400);
    let r = hook("/etc/passwd".into(), INTERNAL_SECRET).await.unwrap();
    assert_eq!(r.status(), 400);
    let list: Value = http()
        .get(s.url("/inbound"))
        .header("X-API-Key", &key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);
}
both_stores!(inbound_on, inbound);

#[tokio::test]
async fn startup_refuses_unsafe_configs() {
    let tmp = tempfile::tempdir().unwrap();
    let base = common::base_config(
        tmp.path(),
        format!("sqlite://{}", tmp.path().join("x.db").display()),
    );
    let refuse = |c: faxline_api::Config, what: &str| {
        let e = c.validate().expect_err(what).to_string();
        assert!(!e.contains(AGENT_SECRET), "secret in error text");
    };
    let mut c = base.clone();
    c.agent_secret = None;
    refuse(c, "missing agent secret");
    let mut c = base.clone();
    c.agent_secret = Some(faxline_api::config::Secret::new("short-secret"));
    refuse(c, "short agent secret");
    let mut c = base.clone();
    c.api_key = c.agent_secret.clone();
    refuse(c, "agent secret reused as API_KEY");
    let mut c = base.clone();
    c.require_api_key = false;
    c.listen = "0.0.0.0:8080".parse().unwrap();
    refuse(c, "auth off on a public address");
    let mut c = base.clone();
    c.public_api_url = Some("http://fax.example.org".into());
    refuse(c, "http public URL");
    assert!(faxline_api::App::start(base.clone()).await.is_ok());
    let mut c = base;
    c.agent_secret = None;
    assert!(faxline_api::App::start(c).await.is_err());
}

#[tokio::test]
async fn first_admin_key_is_minted_once() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cfg = common::base_config(
        tmp.path(),
        format!("sqlite://{}", tmp.path().join("x.db").display()),
    );
    cfg.api_key = None;
    let app = faxline_api::App::start(cfg.clone()).await.unwrap();
    let token = app.first_admin_key().expect("first key").to_string();
    assert!(token.starts_with("fbk_live_"));
    drop(app);
    let app = faxline_api::App::start(cfg).await.unwrap();
    assert!(app.first_admin_key().is_none());
    let s = {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(app.run(listener, std::future::pending()));
        addr
    };
    let r = http()
        .get(format!("http://{s}/admin/api-keys"))
        .header("X-API-Key", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

/// An unsigned (or stale) upload is answered 401 from its headers: the server does not wait for
/// the body. Before, each of 40 parallel unsigned 10 MB uploads was read whole first (~215 MB).
/// Here the client sends the headers and 64 KB of a declared 10 MB body and reads the answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_bodies_are_not_read() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Some(s) = TestServer::start(Db::Sqlite, |_| {}).await else {
        return;
    };
    let stale = format!(
        "x-faxline-agent: a1\r\nx-faxline-timestamp: 1000\r\nx-faxline-nonce: 0123456789abcdef0123\r\nx-faxline-signature: {}\r\n",
        "0".repeat(64)
    );
    for extra in [String::new(), stale] {
        let addr = s
            .url("")
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let mut c = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let head = format!(
            "POST /agent/v1/inbound HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/pdf\r\n{extra}content-length: 10000000\r\n\r\n"
        );
        c.write_all(head.as_bytes()).await.unwrap();
        c.write_all(&vec![b'%'; 64 * 1024]).await.unwrap();
        let mut answer = vec![0u8; 64];
        let n = tokio::time::timeout(Duration::from_secs(20), c.read(&mut answer))
            .await
            .expect("no answer while the body is incomplete: the server is reading it")
            .unwrap();
        let answer = String::from_utf8_lossy(&answer[..n]);
        assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    }
}
