//! The generated dialplan run by the scripted PBX (faxline-ami's `testing::pbx`: Asterisk 20's Local channels,
//! Dial `U()`, hangup handlers run concurrently with the interleavings real threads produce, `SHARED()` to a
//! vanished channel, res_fax's `access()` check), alone and with the real agent and API.
//!
//! First, the PBX is checked against what real Asterisk 20.20.1 did with the dialplan Faxline generated before
//! (fixtures/asterisk/extensions-20.20.1-race.conf; the logs are in fixtures/captures/real-asterisk-20.20.1/): it
//! must reproduce the failures seen there — delivered faxes reported without a result, the reason of a dropped
//! call lost, an unreadable TIFF leaving a silent bridge. Then the generated dialplan must report every call
//! exactly, and the agent must store what the far end received.

mod common;

use std::collections::HashMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use faxline_agent::config::{Config, Secret as AgentSecret, SecretSource};
use faxline_agent::lines::LineKind;
use faxline_agent::lines::asterisk::dialplan::{
    self, Direction, FaxResultEvent, FaxStatus, ResultSource, originate_headers,
};
use faxline_ami::Message;
use faxline_ami::testing::dialplan::Dialplan;
use faxline_ami::testing::pbx::{Dialed, FarEnd, FaxBehaviour, ObservedCall, Pbx};
use faxline_ami::testing::{Credentials, TestServer};
use faxline_protocol::Secret;
use faxline_protocol::client::AgentClient;

use common::{ADMIN_KEY, AGENT_SECRET, Api, fixtures};

const AMI_SECRET: &str = "ami-secret-0123456789-abcdef";
/// The container layout: Asterisk runs as 10010, the agent as 10001, both in the spool group 10000.
const ASTERISK_UID: u32 = 10010;
const AGENT_UID: u32 = 10001;
const SPOOL_GID: u32 = 10000;

fn agent_config(spool: &Path, ami_port: u16, api_base: &str, max_attempts: u32) -> Config {
    let mut c = Config::default();
    c.line.kind = LineKind::Asterisk;
    c.lines.ami.host = "127.0.0.1".into();
    c.lines.ami.port = ami_port;
    c.lines.ami.username = "faxline".into();
    c.lines.ami.secret = Some(AgentSecret::with_source(AMI_SECRET, SecretSource::Inline));
    c.lines.ami.ping_interval_secs = 0;
    c.lines.ami.reconnect_max_secs = 1;
    c.spool.dir = spool.to_path_buf();
    c.api_client.base_url = Some(api_base.to_owned());
    c.api_client.agent_id = Some("site1".into());
    c.api_client.agent_secret = Some(AgentSecret::with_source(AGENT_SECRET, SecretSource::Inline));
    c.api_client.allow_http = true;
    c.agent.lease_poll_secs = 1;
    c.agent.shutdown_grace_secs = 0;
    c.lines.asterisk.result_grace_secs = 2;
    c.lines.asterisk.ami_lost_timeout_secs = 5;
    c.retry.max_attempts = max_attempts;
    c.retry.backoff_initial_secs = 0;
    c.limits.max_calls = 100;
    c.limits.max_calls_per_trunk = 100;
    c
}

fn extensions(cfg: &Config) -> Dialplan {
    let text = dialplan::generate(cfg)
        .into_iter()
        .find(|f| f.name == "extensions.conf")
        .unwrap()
        .contents;
    Dialplan::parse(&text).unwrap()
}

/// The Originate the agent sends for `token`.
fn originate(cfg: &Config, token: &str, to: &str) -> Message {
    let mut pairs: Vec<(&str, String)> = vec![
        ("Action", "Originate".into()),
        ("ActionID", format!("a-{token}")),
    ];
    pairs.extend(originate_headers(cfg, token, to, None).unwrap());
    pairs.push(("ChannelId", token.to_owned()));
    Message::from_pairs(pairs.iter().map(|(k, v)| (*k, v.as_str())))
}

/// The send results of one played call.
fn results(events: &[Message]) -> Vec<FaxResultEvent> {
    events
        .iter()
        .filter(|m| m.get("Event") == Some("UserEvent"))
        .filter_map(|m| FaxResultEvent::from_headers(m.headers()).ok())
        .filter(|r| r.direction == Direction::Send)
        .collect()
}

/// A one-page TIFF (the PBX counts IFDs).
fn write_tiff(path: &Path, pages: usize) {
    let mut b = b"II*\0".to_vec();
    b.extend_from_slice(&8u32.to_le_bytes());
    for p in 0..pages {
        let next = if p + 1 == pages {
            0
        } else {
            8 + (p as u32 + 1) * 6
        };
        b.extend_from_slice(&0u16.to_le_bytes());
        b.extend_from_slice(&next.to_le_bytes());
    }
    std::fs::write(path, b).unwrap();
}

fn is_root() -> bool {
    let probe = tempfile::NamedTempFile::new().unwrap();
    std::fs::metadata(probe.path()).unwrap().uid() == 0
}

#[test]
fn the_scripted_pbx_reproduces_what_real_asterisk_did_with_the_old_dialplan() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cfg = Config::default();
    cfg.spool.dir = tmp.path().to_path_buf();
    std::fs::create_dir_all(tmp.path().join("out")).unwrap();
    let old =
        std::fs::read_to_string(fixtures().join("asterisk/extensions-20.20.1-race.conf")).unwrap();
    let mut old = Dialplan::parse(&old).unwrap();
    old.globals.insert(
        "FAXLINE_SPOOL_OUT".into(),
        tmp.path().join("out").display().to_string(),
    );

    // Delivered faxes whose receiver hangs up first (the normal end): real Asterisk reported some with empty
    // fields, racing the ;2 channel's UserEvent against the trunk's SHARED() writes.
    let pbx = Pbx::new(old.clone(), |_| {
        FarEnd::Answer(FaxBehaviour::Receive {
            hangs_up_first: true,
        })
    })
    .seed(7);
    let mut empty = 0;
    for i in 0..40 {
        let token = format!("job{i:03}_1");
        write_tiff(&tmp.path().join(format!("out/{token}.tif")), 1);
        let r = results(&pbx.play(&originate(&cfg, &token, "+15551234567")));
        assert_eq!(r.len(), 1, "the old dialplan raises one result per call");
        if r[0].status != FaxStatus::Success {
            empty += 1;
        }
    }
    let records = pbx.records();
    assert!(records.iter().all(|c| c.received == Some((1, true))));
    assert!(
        empty > 0,
        "every delivered fax was reported: the PBX does not run the race"
    );
    // The failed SHARED() writes to the vanished ;2 channel are the ones real Asterisk logged, word for word
    // (channel numbers aside; the far end's station id differs).
    let normal = |line: &str| -> String {
        let line = &line[line.find("func_global.c").unwrap()..];
        let start = line.find("faxline-out-").unwrap() + "faxline-out-".len();
        format!("{}N{}", &line[..start], &line[start + 8..])
    };
    let real = std::fs::read_to_string(
        fixtures()
            .join("captures/real-asterisk-20.20.1/delivered-fax-reported-failed-under-load.log"),
    )
    .unwrap();
    let real: std::collections::BTreeSet<String> = real
        .lines()
        .filter(|l| l.contains("func_global.c: Channel"))
        .map(normal)
        .collect();
    let ours: std::collections::BTreeSet<String> = records
        .iter()
        .flat_map(|c| &c.errors)
        .filter(|e| !e.contains("FAXLINE_R_REMOTEID"))
        .map(|e| normal(e))
        .collect();
    assert!(!ours.is_empty(), "no SHARED() write to a vanished channel");
    let unseen: Vec<_> = ours.difference(&real).collect();
    assert!(unseen.is_empty(), "real Asterisk never logged {unseen:#?}");

    // An unreadable TIFF: SendFAX fails at once, U() ends abnormally, the answered trunk is bridged.
    let pbx = Pbx::new(old, |_| {
        FarEnd::Answer(FaxBehaviour::Receive {
            hangs_up_first: true,
        })
    })
    .asterisk_user(ASTERISK_UID, SPOOL_GID);
    let token = "unreadable_1";
    let tiff = tmp.path().join(format!("out/{token}.tif"));
    write_tiff(&tiff, 1);
    std::fs::set_permissions(&tiff, std::fs::Permissions::from_mode(0o600)).unwrap();
    let r = results(&pbx.play(&originate(&cfg, token, "+15551234567")));
    let rec = &pbx.records()[0];
    assert!(rec.silent_bridge, "{:#?}", rec.trace);
    assert!(
        rec.errors
            .iter()
            .any(|e| e.contains("res_fax.c: access failure"))
    );
    assert_eq!(rec.received, None);
    assert_eq!(r.len(), 1);
}

#[test]
fn the_generated_dialplan_reports_every_call_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let mut cfg = Config::default();
    cfg.spool.dir = tmp.path().to_path_buf();
    std::fs::create_dir_all(tmp.path().join("out")).unwrap();
    let behaviours = [
        FaxBehaviour::Receive {
            hangs_up_first: true,
        },
        FaxBehaviour::Receive {
            hangs_up_first: false,
        },
        FaxBehaviour::DropAfter { pages: 0 },
        FaxBehaviour::DropAfter { pages: 1 },
    ];
    let pick = move |d: &Dialed| -> FaxBehaviour {
        let i: usize = d.number[d.number.len() - 1..].parse().unwrap();
        behaviours[i % behaviours.len()].clone()
    };
    let pbx = Pbx::new(extensions(&cfg), move |d| FarEnd::Answer(pick(d))).seed(11);
    for i in 0..80 {
        let token = format!("job{i:03}_1");
        write_tiff(&tmp.path().join(format!("out/{token}.tif")), 1 + i % 3);
        let events = pbx.play(&originate(&cfg, &token, &format!("+1555000000{}", i % 10)));
        let r = results(&events);
        let rec = pbx.records().pop().unwrap();
        assert!(rec.errors.is_empty(), "{:?}", rec.errors);
        assert!(!rec.silent_bridge, "{:#?}", rec.trace);
        assert!(rec.finished);
        // One fax result from the channel that ran SendFAX, one dial result from ;2 (incomplete: answered).
        let fax: Vec<_> = r
            .iter()
            .filter(|r| r.source == Some(ResultSource::Fax))
            .collect();
        assert_eq!(fax.len(), 1, "{r:?}");
        assert!(fax[0].is_complete());
        assert_eq!(fax[0].job_id, token);
        let dial: Vec<_> = r
            .iter()
            .filter(|r| r.source == Some(ResultSource::Dial))
            .collect();
        assert_eq!(dial.len(), 1, "{r:?}");
        assert!(!dial[0].is_complete());
        let (pages, complete) = rec.received.unwrap();
        assert_eq!(fax[0].status == FaxStatus::Success, complete, "{rec:#?}");
        assert_eq!(fax[0].pages, Some(pages));
        if !complete {
            assert_eq!(
                fax[0].error.as_deref(),
                Some("The call dropped prematurely")
            );
        }
    }

    // An unreadable TIFF: both legs hang up at once, and the fax channel reports FILE_ERROR.
    let pbx = Pbx::new(extensions(&cfg), |_| {
        FarEnd::Answer(FaxBehaviour::Receive {
            hangs_up_first: true,
        })
    })
    .asterisk_user(ASTERISK_UID, SPOOL_GID);
    let tiff = tmp.path().join("out/unreadable_1.tif");
    write_tiff(&tiff, 1);
    std::fs::set_permissions(&tiff, std::fs::Permissions::from_mode(0o600)).unwrap();
    let r = results(&pbx.play(&originate(&cfg, "unreadable_1", "+15551234567")));
    let rec = &pbx.records()[0];
    assert!(!rec.silent_bridge, "{:#?}", rec.trace);
    assert!(rec.finished);
    let fax = r
        .iter()
        .find(|r| r.source == Some(ResultSource::Fax))
        .unwrap();
    assert_eq!(fax.error.as_deref(), Some("FILE_ERROR"));

    // Not answered: the dial result is the result, with the Q.850 cause.
    let pbx = Pbx::new(extensions(&cfg), |_| FarEnd::Unavailable { cause: 1 });
    write_tiff(&tmp.path().join("out/nonumber_1.tif"), 1);
    let r = results(&pbx.play(&originate(&cfg, "nonumber_1", "+15551234567")));
    assert_eq!(r.len(), 1);
    assert!(r[0].is_complete());
    assert_eq!(
        (r[0].dial_status.as_deref(), r[0].hangup_cause),
        (Some("CHANUNAVAIL"), Some(1))
    );
}

/// The agent daemon in this process, against the API and the PBX.
struct World {
    _tmp: tempfile::TempDir,
    spool: PathBuf,
    api: Api,
    pbx: Arc<Pbx>,
    agent: tokio::task::JoinHandle<()>,
}

impl Drop for World {
    fn drop(&mut self) {
        self.agent.abort();
    }
}

impl World {
    /// `prepare` runs on the spool directory before the agent starts; `pbx` gets the generated dialplan.
    async fn new(
        max_attempts: u32,
        prepare: impl FnOnce(&Path),
        pbx: impl FnOnce(Dialplan) -> Pbx,
    ) -> World {
        let tmp = tempfile::tempdir().unwrap();
        let spool = tmp.path().join("spool");
        prepare(&spool);
        // The API's data directory is its own (it is made 0700), beside the spool as on a real host.
        let data = tmp.path().join("api");
        std::fs::create_dir_all(&data).unwrap();
        let api = Api::start(&data, "127.0.0.1:0").await;
        let ami = TestServer::bind().await.unwrap();
        let cfg = agent_config(&spool, ami.addr().port(), &api.base, max_attempts);
        let pbx = Arc::new(pbx(extensions(&cfg)));
        let serving = pbx.clone();
        tokio::spawn(async move {
            let conn = ami
                .accept_logged_in(&Credentials::new("faxline", AMI_SECRET))
                .await
                .unwrap();
            let _ = serving.serve(conn).await;
        });
        let cfg = Arc::new(cfg);
        let client = AgentClient::new(&api.base, "site1", Secret::new(AGENT_SECRET)).unwrap();
        let agent = tokio::spawn(async move {
            faxline_agent::lines::run(cfg, client, std::future::pending())
                .await
                .expect("daemon runs");
        });
        World {
            _tmp: tmp,
            spool,
            api,
            pbx,
            agent,
        }
    }

    /// Submits a text document of `pages` pages (form feeds) to `to`.
    async fn submit(&self, to: &str, pages: usize) -> String {
        let text: Vec<String> = (1..=pages)
            .map(|p| format!("Page {p} of {pages}"))
            .collect();
        let form = reqwest::multipart::Form::new()
            .text("to", to.to_owned())
            .part(
                "file",
                reqwest::multipart::Part::bytes(text.join("\u{c}").into_bytes())
                    .file_name("doc.txt")
                    .mime_str("text/plain")
                    .unwrap(),
            );
        let r = reqwest::Client::new()
            .post(format!("{}/fax", self.api.base))
            .header("X-API-Key", ADMIN_KEY)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
        let v: serde_json::Value = r.json().await.unwrap();
        v["id"].as_str().unwrap().to_owned()
    }

    fn calls_of(&self, job: &str) -> Vec<ObservedCall> {
        self.pbx
            .records()
            .into_iter()
            .filter(|c| c.job.starts_with(job))
            .collect()
    }
}

/// The far end for a number ending in digit `d`.
fn far_end_by_last_digit(d: &Dialed) -> FarEnd {
    match d.number.as_bytes()[d.number.len() - 1] - b'0' {
        0..=4 => FarEnd::Answer(FaxBehaviour::Receive {
            hangs_up_first: true,
        }),
        5 => FarEnd::Answer(FaxBehaviour::Receive {
            hangs_up_first: false,
        }),
        6 => FarEnd::Answer(FaxBehaviour::DropAfter { pages: 1 }),
        7 => FarEnd::Busy,
        8 => FarEnd::Unavailable { cause: 1 },
        _ => FarEnd::Answer(FaxBehaviour::DropAfter { pages: 0 }),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_simultaneous_sends_store_what_the_far_end_received() {
    let w = World::new(
        1,
        |_| {},
        |plan| Pbx::new(plan, far_end_by_last_digit).seed(2026),
    )
    .await;
    let mut jobs = Vec::new();
    for i in 0..100 {
        let to = format!("+1555200{i:04}");
        let pages = 2 + i % 2;
        jobs.push((w.submit(&to, pages).await, to, pages));
    }
    let mut outcomes: HashMap<&str, usize> = HashMap::new();
    for (id, to, pages) in &jobs {
        let job = w.api.final_job(id).await;
        let calls = w.calls_of(id);
        assert_eq!(calls.len(), 1, "{id}: one call per job");
        let call = &calls[0];
        assert!(call.errors.is_empty(), "{:?}", call.errors);
        assert!(!call.silent_bridge);
        let status = job["status"].as_str().unwrap();
        let error = job["error"].as_str().unwrap_or("");
        match call.received {
            Some((got, true)) => {
                assert_eq!(status, "SUCCESS", "{to}: delivered, stored {job}");
                assert_eq!(job["pages"], got, "{job}");
                assert_eq!(got as usize, *pages);
                assert_eq!(job["mode"], "T38", "{job}");
                *outcomes.entry("delivered").or_default() += 1;
            }
            Some((_, false)) => {
                assert_eq!(status, "FAILED", "{job}");
                assert!(
                    error.contains("The call dropped prematurely"),
                    "{to}: the reason was lost: {job}"
                );
                *outcomes.entry("dropped").or_default() += 1;
            }
            None if to.ends_with('7') => {
                assert!(error.starts_with("busy"), "{job}");
                *outcomes.entry("busy").or_default() += 1;
            }
            None => {
                assert!(to.ends_with('8'), "{to}: {call:?}");
                assert!(
                    error.starts_with("invalid number: the number does not exist"),
                    "{job}"
                );
                *outcomes.entry("invalid").or_default() += 1;
            }
        }
    }
    assert_eq!(outcomes["delivered"], 60, "{outcomes:?}");
    assert_eq!(outcomes["dropped"], 20, "{outcomes:?}");
    // The racy orderings happened: in some answered calls the ;2 half's (dial) result went out before the fax
    // channel's, in others after.
    let first_reporter = |c: &ObservedCall| -> Option<bool> {
        let first = c.trace.iter().find(|t| t.contains("] UserEvent("))?;
        Some(first.contains(";2\""))
    };
    let answered: Vec<Option<bool>> = w
        .pbx
        .records()
        .iter()
        .filter(|c| c.received.is_some())
        .map(first_reporter)
        .collect();
    let dial_first = answered.iter().filter(|f| **f == Some(true)).count();
    let fax_first = answered.iter().filter(|f| **f == Some(false)).count();
    eprintln!(
        "answered calls: the dial result first in {dial_first}, the fax result first in {fax_first}"
    );
    assert!(
        dial_first > 0 && fax_first > 0,
        "dial first {dial_first}, fax first {fax_first}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fax_file_asterisk_cannot_read_ends_the_call_at_once_with_file_error() {
    // The spool as a plain directory of root's: Asterisk's user (another uid, group 10000) cannot read it.
    let w = World::new(
        3,
        |_| {},
        |plan| {
            Pbx::new(plan, |_| {
                FarEnd::Answer(FaxBehaviour::Receive {
                    hangs_up_first: true,
                })
            })
            .asterisk_user(ASTERISK_UID, SPOOL_GID)
            .far_end_patience(Duration::from_secs(5))
        },
    )
    .await;
    let id = w.submit("+15551234567", 1).await;
    let job = w.api.final_job(&id).await;
    assert_eq!(job["status"], "FAILED", "{job}");
    let error = job["error"].as_str().unwrap();
    assert!(
        error.starts_with("fax file unreadable: Asterisk could not read the fax file"),
        "{error}"
    );
    let calls = w.calls_of(&id);
    assert_eq!(
        calls.len(),
        1,
        "a spool permission problem is not redialled"
    );
    assert!(
        !calls[0].silent_bridge,
        "the answered trunk was left bridged in silence: {:#?}",
        calls[0].trace
    );
    assert!(calls[0].finished);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_container_layout_lets_asterisk_read_what_the_agent_writes_and_back() {
    if !is_root() {
        // Giving the spool to group 10000 and running as other uids needs root (CI runs the tests as root);
        // the modes alone are checked by the agent's unit tests.
        eprintln!("not root: skipped");
        return;
    }
    // The shared volume as docker/ prepares it: group 10000, setgid, 2770.
    let w = World::new(
        1,
        |spool| {
            // The volume's parent is searchable by every uid (a tempdir is 0700: open it up like /var/spool).
            let parent = spool.parent().unwrap();
            std::fs::set_permissions(parent, std::fs::Permissions::from_mode(0o711)).unwrap();
            std::fs::create_dir_all(spool).unwrap();
            std::os::unix::fs::chown(spool, None, Some(SPOOL_GID)).unwrap();
            std::fs::set_permissions(spool, std::fs::Permissions::from_mode(0o2770)).unwrap();
        },
        |plan| {
            Pbx::new(plan, |_| {
                FarEnd::Answer(FaxBehaviour::Receive {
                    hangs_up_first: true,
                })
            })
            .asterisk_user(ASTERISK_UID, SPOOL_GID)
        },
    )
    .await;
    let id = w.submit("+15551234567", 2).await;
    let job = w.api.final_job(&id).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");
    assert_eq!(w.calls_of(&id)[0].received, Some((2, true)));

    let out = w.spool.join("out");
    let incoming = w.spool.join("in");
    for dir in [&out, &incoming] {
        let m = std::fs::metadata(dir).unwrap();
        assert_eq!(m.mode() & 0o7777, 0o2770, "{}", dir.display());
        assert_eq!(m.gid(), SPOOL_GID, "{}", dir.display());
    }
    // Real processes with the containers' uids: Asterisk reads a spool file the agent wrote; the agent reads a
    // fax Asterisk received (written with the Asterisk entrypoint's umask 007).
    let probe = out.join("probe_1.tif");
    faxline_agent::engine::spool::write_durably(&probe, b"II*\0probe").unwrap();
    let m = std::fs::metadata(&probe).unwrap();
    assert_eq!((m.mode() & 0o777, m.gid()), (0o640, SPOOL_GID));
    let read = Command::new("cat")
        .arg(&probe)
        .uid(ASTERISK_UID)
        .gid(SPOOL_GID)
        .output()
        .unwrap();
    assert!(
        read.status.success(),
        "{}",
        String::from_utf8_lossy(&read.stderr)
    );
    assert_eq!(read.stdout, b"II*\0probe");
    let received = incoming.join("20261204T012719Z-in_1.tif");
    let write = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "umask 007 && printf 'II*' > '{}'",
            received.display()
        ))
        .uid(ASTERISK_UID)
        .gid(SPOOL_GID)
        .status()
        .unwrap();
    assert!(write.success());
    let read = Command::new("cat")
        .arg(&received)
        .uid(AGENT_UID)
        .gid(SPOOL_GID)
        .output()
        .unwrap();
    assert!(
        read.status.success(),
        "{}",
        String::from_utf8_lossy(&read.stderr)
    );
    // And a third uid outside the group reads nothing.
    let other = Command::new("cat")
        .arg(&probe)
        .uid(10099)
        .gid(10099)
        .output()
        .unwrap();
    assert!(!other.status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unallocated_number_is_not_redialled_and_a_broken_destination_is() {
    let w = World::new(
        2,
        |_| {},
        |plan| {
            Pbx::new(plan, |d| match d.number.as_str() {
                "+15550000001" => FarEnd::Unavailable { cause: 1 },
                _ => FarEnd::Unavailable { cause: 27 },
            })
        },
    )
    .await;
    let unallocated = w.submit("+15550000001", 1).await;
    let job = w.api.final_job(&unallocated).await;
    assert_eq!(job["status"], "FAILED");
    let error = job["error"].as_str().unwrap();
    assert!(
        error.starts_with(
            "invalid number: the number does not exist (unallocated number), hangup cause 1"
        ),
        "{error}"
    );
    assert_eq!(w.calls_of(&unallocated).len(), 1, "cause 1 was redialled");
    let out_of_order = w.submit("+15550000027", 1).await;
    let job = w.api.final_job(&out_of_order).await;
    let error = job["error"].as_str().unwrap();
    assert!(
        error.starts_with("channel unavailable: the destination is out of order"),
        "{error}"
    );
    assert_eq!(w.calls_of(&out_of_order).len(), 2, "cause 27 is retried");
}
