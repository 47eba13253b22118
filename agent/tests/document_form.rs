//! The engine hands each line the document in the form the line declares: a line that renders documents itself
//! (a cloud provider, say) gets the upload as it is, never a TIFF; the telephony lines' TIFF path is covered by
//! the Asterisk, SIP and loopback tests.

mod common;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use faxline_agent::config::{Config, Secret as AgentSecret, SecretSource};
use faxline_agent::engine::line::{CallRequest, Document, DocumentForm, Line};
use faxline_agent::engine::{CallOutcome, Daemon, Delivery, InboundQueue};
use faxline_protocol::Secret;
use faxline_protocol::client::AgentClient;

use common::{AGENT_SECRET, Api, fixtures};

/// What the line was given: the document and its bytes at call time.
type Seen = (Document, Vec<u8>);

/// A line that takes the original and records what it was given.
#[derive(Clone, Default)]
struct OriginalLine {
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Line for OriginalLine {
    fn kind(&self) -> &'static str {
        "original"
    }

    fn document_form(&self) -> DocumentForm {
        DocumentForm::Original
    }

    fn ready(&self) -> bool {
        true
    }

    async fn place(&self, req: CallRequest) -> CallOutcome {
        let bytes = std::fs::read(req.document.path()).unwrap_or_default();
        self.seen
            .lock()
            .unwrap()
            .push((req.document.clone(), bytes));
        CallOutcome::Success(Delivery {
            pages: Some(1),
            ..Delivery::default()
        })
    }
}

fn agent_config(spool: &Path, api_base: &str) -> Config {
    let mut c = Config::default();
    c.spool.dir = spool.to_path_buf();
    c.api_client.base_url = Some(api_base.to_owned());
    c.api_client.agent_id = Some("site1".into());
    c.api_client.agent_secret = Some(AgentSecret::with_source(AGENT_SECRET, SecretSource::Inline));
    c.api_client.allow_http = true;
    c.agent.lease_poll_secs = 1;
    c.agent.shutdown_grace_secs = 0;
    // Kept after the send, so the check that nothing was rendered sees what was written.
    c.spool.delete_after_send = false;
    c
}

fn spool_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_line_that_renders_itself_gets_the_original_and_nothing_is_rendered() {
    let tmp = tempfile::tempdir().unwrap();
    let spool = tmp.path().join("spool");
    let api = Api::start(tmp.path(), "127.0.0.1:0").await;
    let cfg = Arc::new(agent_config(&spool, &api.base));
    let client = AgentClient::new(&api.base, "site1", Secret::new(AGENT_SECRET)).unwrap();
    let line = OriginalLine::default();
    let inbound = InboundQueue::open(cfg.spool.queue_dir()).unwrap();
    let daemon = Daemon::new(cfg.clone(), client, line.clone(), inbound).unwrap();
    let agent = tokio::spawn(daemon.run(std::future::pending()));

    let id = api.submit("+15551230000").await;
    let job = api.final_job(&id).await;
    assert_eq!(job["status"], "SUCCESS", "{job}");

    let seen = line.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "one call");
    let (document, bytes) = &seen[0];
    let upload = std::fs::read(fixtures().join("pdf/dummy.pdf")).unwrap();
    match document {
        Document::Original { kind, path } => {
            assert_eq!(*kind, faxline_protocol::DocKind::Pdf);
            assert_eq!(path.extension().and_then(|e| e.to_str()), Some("orig"));
        }
        other => panic!("expected the original, got {other:?}"),
    }
    assert_eq!(bytes, &upload, "the line gets the upload byte for byte");
    assert!(document.fax_tiff().is_none());
    // Nothing was rendered: the spool's out/ holds the original, no TIFF.
    let files = spool_files(&cfg.spool.outgoing_dir());
    assert!(
        files.iter().any(|p| p.ends_with(format!("{id}.orig"))),
        "{files:?}"
    );
    assert!(
        !files
            .iter()
            .any(|p| p.extension().is_some_and(|e| e == "tif")),
        "{files:?}"
    );
    agent.abort();
    let _ = tokio::time::timeout(Duration::from_secs(5), agent).await;
}
