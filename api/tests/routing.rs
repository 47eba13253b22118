//! Routing between lines over real HTTP, on SQLite and PostgreSQL: which agent's line may lease a job (the
//! failover order, lines that are down, jobs pinned to a line with `backend`), a failed attempt that could not
//! have delivered anything going on to the next line, and every failure that may have delivered pages staying
//! failed.

mod common;

use std::time::Duration;

use common::{ADMIN_KEY, Db, TestServer, http, one_page_pdf};
use faxline_protocol::JobStatus;
use faxline_protocol::client::{AgentClient, CallDetails, LeasedJob, SendResult};
use faxline_protocol::messages::LineHealth;
use serde_json::Value;

fn routed(cfg: &mut faxline_api::config::Config) {
    cfg.routing = vec!["sip".into(), "phaxio".into()];
    cfg.backends = vec!["phaxio".into(), "sip".into()];
}

fn healthy(kind: &str) -> Option<LineHealth> {
    Some(LineHealth {
        kind: kind.into(),
        problems: Vec::new(),
    })
}

/// An agent of line `kind` leases what it may (no wait).
async fn lease(agent: &AgentClient, kind: &str) -> Vec<LeasedJob> {
    agent
        .lease_reporting(Duration::ZERO, 5, healthy(kind))
        .await
        .unwrap()
}

/// POST /fax, with `backend` when given; the answer's status and body.
async fn submit(s: &TestServer, backend: Option<&str>) -> (u16, Value) {
    let mut form = reqwest::multipart::Form::new()
        .text("to", "+15550001234")
        .part(
            "file",
            reqwest::multipart::Part::bytes(one_page_pdf()).file_name("d.pdf"),
        );
    if let Some(b) = backend {
        form = form.text("backend", b.to_owned());
    }
    let r = http()
        .post(s.url("/fax"))
        .header("X-API-Key", ADMIN_KEY)
        .multipart(form)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn job(s: &TestServer, id: &str) -> Value {
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

fn failed(error: &str, pages: Option<i64>) -> SendResult {
    SendResult {
        status: JobStatus::Failed,
        error: Some(error.into()),
        pages,
        provider_sid: None,
    }
}

fn unplaced(v: bool) -> CallDetails {
    CallDetails {
        agent_attempt: Some(1),
        unplaced: Some(v),
        ..CallDetails::default()
    }
}

/// The SIP line could not place the call: the job goes on to Phaxio, which sends it; the job says so.
async fn an_unplaced_failure_goes_to_the_next_line(db: Db) {
    let Some(s) = TestServer::start(db, routed).await else {
        return;
    };
    let sip = s.agent("sip-1");
    let cloud = s.agent("cloud-1");
    // Both lines up: the job is the SIP line's; the cloud line gets nothing yet.
    assert!(lease(&sip, "sip").await.is_empty());
    let (code, v) = submit(&s, None).await;
    assert_eq!(code, 202, "{v}");
    let id = v["id"].as_str().unwrap().to_owned();
    assert_eq!(v["line"], Value::Null, "{v}");
    assert_eq!(v["lines_tried"], serde_json::json!([]), "{v}");
    assert!(lease(&cloud, "phaxio").await.is_empty());
    let jobs = lease(&sip, "sip").await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(job(&s, &id).await["line"], "sip");
    let status = sip
        .result_with_details(
            &jobs[0],
            &failed(
                "channel unavailable: the trunk answered 503 (attempt 1 of 1)",
                None,
            ),
            &unplaced(true),
        )
        .await
        .unwrap();
    assert_eq!(status, JobStatus::Queued);
    let v = job(&s, &id).await;
    assert_eq!(v["status"], "queued", "{v}");
    assert_eq!(v["stage"], "failover scheduled", "{v}");
    assert_eq!(v["lines_tried"], serde_json::json!(["sip"]), "{v}");
    let error = v["error"].as_str().unwrap();
    assert!(
        error.contains("sip line could not place the call") && error.contains("503"),
        "{error}"
    );
    // Never back to the line that could not place it; the cloud line takes it.
    assert!(lease(&sip, "sip").await.is_empty());
    let jobs = lease(&cloud, "phaxio").await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].attempt, 2);
    let ok = SendResult {
        status: JobStatus::Success,
        error: None,
        pages: Some(1),
        provider_sid: Some("70001".into()),
    };
    cloud.result(&jobs[0], &ok).await.unwrap();
    let v = job(&s, &id).await;
    assert_eq!(v["status"], "SUCCESS", "{v}");
    assert_eq!(v["line"], "phaxio", "{v}");
    assert_eq!(v["backend"], "phaxio", "Faxbot's field names the line: {v}");
    assert_eq!(v["lines_tried"], serde_json::json!(["sip"]), "{v}");
    // The last line of the order failing too: nothing is left, the job fails.
    let (_, v) = submit(&s, None).await;
    let id = v["id"].as_str().unwrap().to_owned();
    let jobs = lease(&sip, "sip").await;
    sip.result_with_details(&jobs[0], &failed("congestion", None), &unplaced(true))
        .await
        .unwrap();
    let jobs = lease(&cloud, "phaxio").await;
    let status = cloud
        .result_with_details(
            &jobs[0],
            &failed("channel unavailable: phaxio: answered 500", None),
            &unplaced(true),
        )
        .await
        .unwrap();
    assert_eq!(status, JobStatus::Failed);
    let v = job(&s, &id).await;
    assert_eq!(v["status"], "FAILED", "{v}");
    assert_eq!(v["line"], "phaxio", "{v}");
}
both_stores!(
    unplaced_failure_goes_to_the_next_line,
    an_unplaced_failure_goes_to_the_next_line
);

/// A call that may have delivered pages is never sent again elsewhere: the agent says it was placed, the
/// result or the job's progress shows pages, or an older agent says nothing.
async fn a_call_that_may_have_delivered_pages_is_not_resent(db: Db) {
    let Some(s) = TestServer::start(db, routed).await else {
        return;
    };
    let sip = s.agent("sip-1");
    let cloud = s.agent("cloud-1");
    assert!(lease(&sip, "sip").await.is_empty());
    assert!(lease(&cloud, "phaxio").await.is_empty());
    // (result, details, progress pages before it)
    let cases = [
        (
            failed(
                "fax transfer failed: the far end hung up during the fax",
                None,
            ),
            unplaced(false),
            None,
        ),
        (failed("congestion", Some(1)), unplaced(true), None),
        (failed("channel unavailable", None), unplaced(true), Some(1)),
        (failed("no fax result", None), CallDetails::default(), None),
    ];
    for (result, details, progress) in cases {
        let (_, v) = submit(&s, None).await;
        let id = v["id"].as_str().unwrap().to_owned();
        let jobs = lease(&sip, "sip").await;
        assert_eq!(jobs.len(), 1);
        if let Some(p) = progress {
            sip.progress(&jobs[0], p, Some(2)).await.unwrap();
        }
        let status = sip
            .result_with_details(&jobs[0], &result, &details)
            .await
            .unwrap();
        assert_eq!(status, JobStatus::Failed, "{result:?} {details:?}");
        let v = job(&s, &id).await;
        assert_eq!(v["status"], "FAILED", "{v}");
        assert_eq!(v["line"], "sip", "{v}");
        assert_eq!(v["lines_tried"], serde_json::json!([]), "{v}");
        assert!(lease(&cloud, "phaxio").await.is_empty(), "{v}");
    }
}
both_stores!(
    pages_are_never_resent,
    a_call_that_may_have_delivered_pages_is_not_resent
);

/// A line that is down (its agents report a problem) is passed over at once; lines outside the policy and
/// agents that report no line take nothing.
async fn a_line_that_is_down_is_passed_over(db: Db) {
    let Some(s) = TestServer::start(db, routed).await else {
        return;
    };
    let sip = s.agent("sip-1");
    let cloud = s.agent("cloud-1");
    let other = s.agent("loop-1");
    let old = s.agent("old-1");
    let down = Some(LineHealth {
        kind: "sip".into(),
        problems: vec!["SIP trunk not registered".into()],
    });
    // The SIP agent polls (leasing nothing, as a line that is down does).
    assert!(
        sip.lease_reporting(Duration::ZERO, 0, down.clone())
            .await
            .unwrap()
            .is_empty()
    );
    let (_, v) = submit(&s, None).await;
    let id = v["id"].as_str().unwrap().to_owned();
    assert!(lease(&other, "loopback").await.is_empty());
    assert!(old.lease(Duration::ZERO, 5).await.unwrap().is_empty());
    let jobs = lease(&cloud, "phaxio").await;
    assert_eq!(
        jobs.len(),
        1,
        "the cloud line takes the job of the line that is down"
    );
    assert_eq!(jobs[0].job_id, id);
    assert_eq!(job(&s, &id).await["line"], "phaxio");
    // The trunk registers again: new jobs are the SIP line's.
    assert!(lease(&sip, "sip").await.is_empty());
    let (_, v) = submit(&s, None).await;
    let id = v["id"].as_str().unwrap().to_owned();
    assert!(lease(&cloud, "phaxio").await.is_empty());
    let jobs = lease(&sip, "sip").await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].job_id, id);
}
both_stores!(
    down_lines_are_passed_over,
    a_line_that_is_down_is_passed_over
);

/// `backend` on POST /fax: only from the operator's list; the job goes out on that line only and never
/// fails over.
async fn a_job_may_choose_its_line_from_the_list(db: Db) {
    let Some(s) = TestServer::start(db, routed).await else {
        return;
    };
    let sip = s.agent("sip-1");
    let cloud = s.agent("cloud-1");
    assert!(lease(&sip, "sip").await.is_empty());
    assert!(lease(&cloud, "phaxio").await.is_empty());
    let (code, v) = submit(&s, Some("telnyx")).await;
    assert_eq!(code, 422, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("phaxio, sip"), "{v}");
    let (code, v) = submit(&s, Some(" Phaxio ")).await;
    assert_eq!(code, 202, "{v}");
    assert_eq!(v["requested_backend"], "phaxio", "{v}");
    assert_eq!(v["backend"], "phaxio", "{v}");
    let id = v["id"].as_str().unwrap().to_owned();
    // The SIP line is first in the order and up, but the job is pinned to Phaxio.
    assert!(lease(&sip, "sip").await.is_empty());
    let jobs = lease(&cloud, "phaxio").await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].job_id, id);
    // Pinned: an unplaced failure is final.
    let status = cloud
        .result_with_details(
            &jobs[0],
            &failed("channel unavailable", None),
            &unplaced(true),
        )
        .await
        .unwrap();
    assert_eq!(status, JobStatus::Failed);
    assert!(lease(&sip, "sip").await.is_empty());
    // An empty `backend` is no choice.
    let (code, v) = submit(&s, Some("")).await;
    assert_eq!(code, 202, "{v}");
    assert_eq!(v["requested_backend"], Value::Null, "{v}");
}
both_stores!(
    jobs_choose_lines_from_the_list,
    a_job_may_choose_its_line_from_the_list
);

/// Without a policy: any agent takes any job (older agents too), an unplaced failure is final, and no job
/// may choose its line.
async fn without_a_policy_nothing_changes(db: Db) {
    let Some(s) = TestServer::start(db, |_| {}).await else {
        return;
    };
    let (code, v) = submit(&s, Some("sip")).await;
    assert_eq!(code, 422, "{v}");
    assert!(
        v["detail"].as_str().unwrap().contains("FAXLINE_BACKENDS"),
        "{v}"
    );
    let (_, v) = submit(&s, None).await;
    let id = v["id"].as_str().unwrap().to_owned();
    let old = s.agent("old-1");
    let jobs = old.lease(Duration::ZERO, 5).await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(job(&s, &id).await["line"], Value::Null);
    let status = old
        .result_with_details(&jobs[0], &failed("congestion", None), &unplaced(true))
        .await
        .unwrap();
    assert_eq!(status, JobStatus::Failed);
    let (_, v) = submit(&s, None).await;
    let id = v["id"].as_str().unwrap().to_owned();
    let jobs = lease(&s.agent("sip-1"), "sip").await;
    assert_eq!(jobs.len(), 1);
    let v = job(&s, &id).await;
    assert_eq!(v["line"], "sip", "{v}");
    assert_eq!(v["backend"], "sip", "{v}");
}
both_stores!(no_policy, without_a_policy_nothing_changes);
