//! The Asterisk line: Originate over AMI into the generated `faxline-out` dialplan, followed by a
//! [`CallTracker`]; received faxes come as `FaxResult` events with `Direction: receive`, and received TIFFs whose
//! event was missed (agent down, AMI disconnected) are found in the incoming spool at start, after every AMI
//! login and every few minutes ([`spool_scan::settled`] decides when such a file is complete).

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use faxline_ami::client::ConnectionState;
use faxline_ami::event::EventKind;
use faxline_ami::{Action, Client, Error as AmiError, RecvError, Subscription};
use tokio::sync::watch;

pub mod config;
pub mod dialplan;
pub mod result;
pub mod spool_scan;
pub mod tracker;
pub mod trunk;

pub use config::{AmiConfig, AsteriskConfig};

use self::config::spool_dir;
use self::dialplan::{Direction, FaxResultEvent, FaxStatus, RESULT_EVENT};
use self::spool_scan::{Liveness, receive_id_of_uniqueid, settled};
use self::tracker::{CallTimers, CallTracker, Signal, Step};
use self::trunk::{Registration, TrunkWatch};
use crate::config::Config;
use crate::engine::inbound::{InboundItem, InboundQueue};
use crate::engine::line::{CallRequest, DocumentForm, Line};
use crate::engine::outcome::{CallOutcome, FailureClass};
use faxline_protocol::mask_number;

/// How long a received TIFF must be idle, with its channel gone, before a spool scan delivers it (so the
/// result event of a call that just ended comes first, with caller id and status).
const ORPHAN_SETTLE: Duration = Duration::from_secs(60);

/// How often the incoming spool is scanned while the agent runs (besides at start and after each login).
const ORPHAN_RESCAN: Duration = Duration::from_secs(300);

/// The AMI client configuration for the agent's `[ami]` section.
pub fn ami_config(cfg: &Config) -> Option<faxline_ami::Config> {
    let secret = cfg.lines.ami.secret.as_ref()?;
    let host = &cfg.lines.ami.host;
    let addr = if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{}", cfg.lines.ami.port)
    } else {
        format!("{host}:{}", cfg.lines.ami.port)
    };
    let mut c = faxline_ami::Config::new(addr, cfg.lines.ami.username.clone(), secret.expose());
    c.connect_timeout = Duration::from_secs(cfg.lines.ami.connect_timeout_secs.max(1));
    c.ping_interval = (cfg.lines.ami.ping_interval_secs > 0)
        .then(|| Duration::from_secs(cfg.lines.ami.ping_interval_secs));
    c.reconnect.max = Duration::from_secs(cfg.lines.ami.reconnect_max_secs.max(1));
    // `system` for the trunk's Registry and ContactStatus events and FullyBooted (see [`trunk`]); Asterisk
    // sends only what the user's `read=` allows, so an older manager.conf simply leaves the trunk unknown.
    c.events = "call,user,system".into();
    Some(c)
}

/// The Asterisk line.
pub struct AmiLine {
    client: Client,
    cfg: Arc<Config>,
    timers: CallTimers,
    /// The receive task (it holds a client handle, so it must be stopped with the line).
    receiver: tokio::task::AbortHandle,
    /// The task that follows the AMI connection for the metrics.
    state_metrics: tokio::task::AbortHandle,
    /// The SIP trunk's registration and reachability as Asterisk reports them.
    trunk: Arc<std::sync::Mutex<TrunkWatch>>,
    /// The task that feeds [`Self::trunk`].
    trunk_follower: tokio::task::AbortHandle,
}

impl Drop for AmiLine {
    fn drop(&mut self) {
        self.receiver.abort();
        self.state_metrics.abort();
        self.trunk_follower.abort();
    }
}

/// Feeds the trunk's AMI events to `watch` and keeps `faxline_agent_sip_registered` (the same gauge as the
/// agent's own SIP line, so one alert covers both) and `faxline_agent_sip_trunk_reachable` current while known.
async fn follow_trunk(mut events: Subscription, watch: Arc<std::sync::Mutex<TrunkWatch>>) {
    loop {
        let ev = match events.recv().await {
            Ok(ev) => ev,
            Err(RecvError::Lagged(n)) => {
                tracing::debug!(skipped = n, "trunk follower missed AMI events");
                continue;
            }
            Err(RecvError::Closed) => return,
        };
        let (registration, reachable, follows) = {
            let mut w = watch.lock().expect("trunk watch lock");
            if !w.handle_event(ev.message(), Instant::now()) {
                continue;
            }
            (w.registration(), w.reachable(), w.follows_registration())
        };
        if follows {
            match registration {
                Some(r) => {
                    metrics::gauge!("faxline_agent_sip_registered").set(
                        if r == Registration::Registered {
                            1.0
                        } else {
                            0.0
                        },
                    );
                    if r == Registration::Registered {
                        tracing::info!("SIP trunk registered (reported by Asterisk)");
                    } else {
                        tracing::warn!(state = ?r, "SIP trunk registration lost or failing (reported by Asterisk)");
                    }
                }
                None => tracing::info!(
                    "Asterisk restarted; the trunk's registration is unknown until it reports"
                ),
            }
        }
        if let Some(up) = reachable {
            metrics::gauge!("faxline_agent_sip_trunk_reachable").set(if up { 1.0 } else { 0.0 });
            if up {
                tracing::info!("SIP trunk reachable (Asterisk's qualify)");
            } else {
                tracing::warn!("SIP trunk unreachable (Asterisk's qualify OPTIONS unanswered)");
            }
        }
    }
}

/// Keeps `faxline_agent_ami_connected` (1 logged in, 0 not) and `faxline_agent_ami_logins_total` (every
/// successful login; more than one means reconnects) and `faxline_agent_ami_login_refused_total` current.
async fn follow_ami_state(mut state: watch::Receiver<ConnectionState>) {
    let mut last_gen = None;
    loop {
        let s = state.borrow_and_update().clone();
        metrics::gauge!("faxline_agent_ami_connected").set(if s.is_connected() {
            1.0
        } else {
            0.0
        });
        match s {
            ConnectionState::Connected { generation, .. } if last_gen != Some(generation) => {
                last_gen = Some(generation);
                metrics::counter!("faxline_agent_ami_logins_total").increment(1);
            }
            ConnectionState::AuthFailed { .. } => {
                metrics::counter!("faxline_agent_ami_login_refused_total").increment(1);
            }
            _ => {}
        }
        if state.changed().await.is_err() {
            return;
        }
    }
}

/// The AMI connection's state as a readiness problem (fixed texts: Asterisk's messages may echo input).
fn ami_problem(s: &ConnectionState) -> Option<&'static str> {
    match s {
        ConnectionState::Connected { .. } => None,
        ConnectionState::Connecting { .. } => Some("AMI connecting"),
        ConnectionState::Reconnecting { .. } => {
            Some("AMI not connected (Asterisk unreachable; retrying)")
        }
        ConnectionState::AuthFailed { .. } => {
            Some("AMI login refused (check [ami] username and secret)")
        }
        ConnectionState::Closed => Some("AMI connection closed"),
    }
}

impl AmiLine {
    /// Uses a running AMI client; starts the task that turns receive results into inbound queue entries.
    pub fn new(client: Client, cfg: Arc<Config>, inbound: InboundQueue) -> Self {
        let a = &cfg.lines.asterisk;
        let max_call = u64::from(cfg.limits.max_call_seconds);
        let timers = CallTimers {
            result_grace: Duration::from_secs(a.result_grace_secs),
            lost_timeout: Duration::from_secs(a.ami_lost_timeout_secs),
            deadline: Duration::from_secs(
                u64::from(a.ring_seconds) + max_call + a.result_grace_secs,
            ),
        };
        let receiver = tokio::spawn(receive_results(
            client.clone(),
            client.subscribe(),
            cfg.clone(),
            inbound,
            timers.deadline,
        ))
        .abort_handle();
        let state_metrics = tokio::spawn(follow_ami_state(client.state())).abort_handle();
        let trunk = Arc::new(std::sync::Mutex::new(TrunkWatch::new(
            dialplan::registration_server_uri(&cfg.lines.sip),
            dialplan::ENDPOINT,
        )));
        let trunk_follower =
            tokio::spawn(follow_trunk(client.subscribe(), trunk.clone())).abort_handle();
        Self {
            client,
            cfg,
            timers,
            receiver,
            state_metrics,
            trunk,
            trunk_follower,
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    async fn check_alive(&self, token: &str) -> Result<bool, AmiError> {
        let reply = self.client.send_list(Action::new("Status")).await?;
        Ok(reply
            .events
            .iter()
            .any(|m| m.get("Uniqueid") == Some(token) || m.get("Linkedid") == Some(token)))
    }
}

fn generation(s: &ConnectionState) -> Option<u64> {
    match s {
        ConnectionState::Connected { generation, .. } => Some(*generation),
        _ => None,
    }
}

impl Line for AmiLine {
    fn kind(&self) -> &'static str {
        "asterisk"
    }

    fn document_form(&self) -> DocumentForm {
        DocumentForm::FaxTiff
    }

    fn ready(&self) -> bool {
        self.client.state().borrow().is_connected()
    }

    fn problems(&self) -> Vec<String> {
        match ami_problem(&self.client.state().borrow()) {
            Some(p) => vec![p.to_owned()],
            // The trunk's state only while Asterisk can tell it (stale otherwise).
            None => self
                .trunk
                .lock()
                .expect("trunk watch lock")
                .problems()
                .into_iter()
                .map(str::to_owned)
                .collect(),
        }
    }

    async fn place(&self, req: CallRequest) -> CallOutcome {
        // Asterisk reads the TIFF from the shared spool under the token's name (the dialplan builds the path).
        if req.document.fax_tiff().is_none() {
            return CallOutcome::failed(
                FailureClass::Document,
                "the Asterisk line sends fax TIFF only",
            );
        }
        let headers = match dialplan::originate_headers(&self.cfg, &req.token, &req.to, req.ecm) {
            Ok(h) => h,
            Err(e) => return CallOutcome::failed(FailureClass::Rejected, e.to_string()),
        };
        let mut action = Action::new("Originate");
        for (k, v) in headers {
            action.push_header(k, v);
        }
        action.push_header("ChannelId", req.token.clone());
        // Subscribe before sending, so no event of the call can be missed.
        let mut events = self.client.subscribe();
        let mut state: watch::Receiver<ConnectionState> = self.client.state();
        let mut gen_seen = generation(&state.borrow_and_update());
        let mut tracker = CallTracker::new(req.token.clone(), self.timers, Instant::now());
        tracing::info!(job = %req.job_id, token = %req.token, to = %mask_number(&req.to), "originating");
        match self.client.send(action).await {
            Ok(reply) => {
                if let Some(id) = reply.action_id() {
                    tracker.set_action_id(id);
                }
            }
            Err(AmiError::NotConnected | AmiError::Closed | AmiError::InvalidAction(_)) => {
                return CallOutcome::failed(
                    FailureClass::ChannelUnavailable,
                    "not connected to Asterisk; no call was placed",
                );
            }
            Err(AmiError::ActionFailed { message, .. }) => {
                tracing::warn!(job = %req.job_id, %message, "Asterisk refused the Originate");
                tracker.handle_signal(Signal::OriginateFailed, Instant::now());
            }
            Err(e) => {
                // Sent, but the reply was lost: the call may exist. Follow it like a lost connection.
                tracing::warn!(job = %req.job_id, error = %e, "Originate reply lost; following the call");
                tracker.handle_signal(Signal::Disconnected, Instant::now());
                if self.ready() {
                    tracker.handle_signal(Signal::Reconnected, Instant::now());
                    // The check the tracker asks for, once, right here.
                    if tracker.poll_step() == Some(Step::CheckChannel) {
                        let alive = self.check_alive(&req.token).await.unwrap_or(true);
                        tracker.handle_signal(Signal::ChannelCheck { alive }, Instant::now());
                    }
                }
            }
        }
        let mut hangup_asked = false;
        loop {
            while let Some(step) = tracker.poll_step() {
                match step {
                    Step::Progress(stage) => req.progress.publish(&stage),
                    Step::Done(outcome) => return outcome,
                    Step::Abort { channel } => {
                        tracing::info!(job = %req.job_id, "shutdown grace period over; hanging up the call");
                        match channel {
                            Some(ch) => {
                                if let Err(e) = self.client.hangup(&ch, Some(16)).await {
                                    tracing::warn!(job = %req.job_id, error = %e, "hangup at shutdown failed");
                                }
                            }
                            None => tracing::warn!(
                                job = %req.job_id,
                                "the call's channel is not known yet; waiting for its result"
                            ),
                        }
                    }
                    Step::Hangup { channel, outcome } => {
                        if let Some(ch) = channel
                            && let Err(e) = self.client.hangup(&ch, Some(16)).await
                        {
                            tracing::warn!(job = %req.job_id, error = %e, "hangup after the deadline failed");
                        }
                        return outcome;
                    }
                    Step::CheckChannel => {
                        tracing::info!(job = %req.job_id, "AMI reconnected; checking whether the call still exists");
                        let mut alive = None;
                        for _ in 0..5 {
                            match self.check_alive(&req.token).await {
                                Ok(a) => {
                                    alive = Some(a);
                                    break;
                                }
                                Err(e) => {
                                    tracing::warn!(job = %req.job_id, error = %e, "channel check failed");
                                    tokio::time::sleep(Duration::from_secs(1)).await;
                                }
                            }
                        }
                        if let Some(alive) = alive {
                            tracker.handle_signal(Signal::ChannelCheck { alive }, Instant::now());
                        }
                    }
                }
            }
            let wake = tracker.poll_timeout();
            let timeout = async {
                match wake {
                    Some(at) => tokio::time::sleep_until(at.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                ev = events.recv() => match ev {
                    Ok(ev) => tracker.handle_event(&ev, Instant::now()),
                    Err(RecvError::Lagged(n)) => {
                        tracing::warn!(job = %req.job_id, skipped = n, "AMI events missed; checking the call");
                        tracker.handle_signal(Signal::Disconnected, Instant::now());
                        tracker.handle_signal(Signal::Reconnected, Instant::now());
                    }
                    Err(RecvError::Closed) => {
                        tracker.handle_signal(Signal::Disconnected, Instant::now());
                    }
                },
                changed = state.changed() => {
                    if changed.is_err() {
                        tracker.handle_signal(Signal::Disconnected, Instant::now());
                    } else {
                        let now_gen = generation(&state.borrow_and_update());
                        match (gen_seen, now_gen) {
                            (_, None) => tracker.handle_signal(Signal::Disconnected, Instant::now()),
                            (Some(a), Some(b)) if a == b => {}
                            (_, Some(_)) => {
                                tracker.handle_signal(Signal::Disconnected, Instant::now());
                                tracker.handle_signal(Signal::Reconnected, Instant::now());
                            }
                        }
                        if now_gen.is_some() {
                            gen_seen = now_gen;
                        }
                    }
                },
                () = timeout => tracker.handle_timeout(Instant::now()),
                _ = req.hangup.cancelled(), if !hangup_asked => {
                    hangup_asked = true;
                    tracker.handle_signal(Signal::Shutdown, Instant::now());
                }
            }
        }
    }
}

/// Maps a path as Asterisk wrote it to the agent's view, accepting only files directly under the incoming
/// spool directory (the path comes from an event: never trust it further).
pub fn incoming_path(cfg: &Config, asterisk_path: &str) -> Option<PathBuf> {
    let p = Path::new(asterisk_path);
    if p.components().any(|c| matches!(c, Component::ParentDir)) {
        return None;
    }
    let rel = p.strip_prefix(spool_dir(cfg).join("in")).ok()?;
    let mut comps = rel.components();
    let name = match (comps.next(), comps.next()) {
        (Some(Component::Normal(n)), None) => n,
        _ => return None,
    };
    Some(cfg.spool.incoming_dir().join(name))
}

/// Queues the received TIFFs that no result event announced, once they are complete: asks Asterisk which
/// channels are live (`Status`, after the directory was read) when logged in, else goes by the file's age.
async fn recover_orphans(client: &Client, cfg: &Config, queue: &InboundQueue, max_call: Duration) {
    let orphans = match spool_scan::orphans(queue, &cfg.spool.incoming_dir(), SystemTime::now()) {
        Ok(o) => o,
        Err(e) => {
            tracing::warn!(error = %e, "cannot scan the incoming spool");
            return;
        }
    };
    // Only ask Asterisk when some file could be taken at all.
    let candidates: Vec<_> = orphans
        .into_iter()
        .filter(|o| o.idle >= ORPHAN_SETTLE)
        .collect();
    if candidates.is_empty() {
        return;
    }
    let live = if client.state().borrow().is_connected() {
        match tokio::time::timeout(
            Duration::from_secs(10),
            client.send_list(Action::new("Status")),
        )
        .await
        {
            Ok(Ok(reply)) => Liveness::Channels(
                reply
                    .events
                    .iter()
                    .flat_map(|m| [m.get("Uniqueid"), m.get("Linkedid")])
                    .flatten()
                    .map(receive_id_of_uniqueid)
                    .collect(),
            ),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "channel list for the spool scan failed");
                Liveness::Unknown
            }
            Err(_) => Liveness::Unknown,
        }
    } else {
        Liveness::Unknown
    };
    for o in candidates {
        if !settled(&o, &live, ORPHAN_SETTLE, max_call) {
            tracing::debug!(job = %o.id, idle_secs = o.idle.as_secs(), "received TIFF may still be written; left for later");
            continue;
        }
        // Its result event may have queued it meanwhile (with the better metadata).
        if queue.knows(&o.id) {
            continue;
        }
        let item = InboundItem {
            id: o.id.clone(),
            file: o.file,
            from: None,
            to: None,
            pages: None,
            status: "received".into(),
            received_at: o.received_at,
        };
        match queue.enqueue(&item) {
            Ok(()) => tracing::warn!(
                job = %item.id,
                "received fax found in the spool without its result event (agent or AMI was down); queued for delivery"
            ),
            Err(e) => {
                tracing::error!(job = %item.id, error = %e, "cannot queue a received fax found in the spool")
            }
        }
    }
}

/// Follows receive results for the life of the line and queues them durably; scans the incoming spool for
/// faxes whose result was missed at start, after every (re)login and every [`ORPHAN_RESCAN`].
async fn receive_results(
    client: Client,
    mut events: Subscription,
    cfg: Arc<Config>,
    inbound: InboundQueue,
    max_call: Duration,
) {
    let mut state = client.state();
    // The start-up scan (with Asterisk's channel list if already logged in, else by age only).
    let mut scanned_gen = generation(&state.borrow_and_update());
    recover_orphans(&client, &cfg, &inbound, max_call).await;
    let mut rescan =
        tokio::time::interval_at(tokio::time::Instant::now() + ORPHAN_RESCAN, ORPHAN_RESCAN);
    rescan.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let ev = tokio::select! {
            ev = events.recv() => ev,
            changed = state.changed() => {
                if changed.is_err() {
                    return;
                }
                let now_gen = generation(&state.borrow_and_update());
                if now_gen.is_some() && now_gen != scanned_gen {
                    scanned_gen = now_gen;
                    recover_orphans(&client, &cfg, &inbound, max_call).await;
                }
                continue;
            }
            _ = rescan.tick() => {
                scanned_gen = generation(&state.borrow()).or(scanned_gen);
                recover_orphans(&client, &cfg, &inbound, max_call).await;
                continue;
            }
        };
        let ev = match ev {
            Ok(ev) => ev,
            Err(RecvError::Lagged(n)) => {
                tracing::error!(
                    skipped = n,
                    "AMI events missed; received faxes wait in the spool for the next scan"
                );
                continue;
            }
            Err(RecvError::Closed) => return,
        };
        let EventKind::UserEvent(u) = ev.kind() else {
            continue;
        };
        if !u.name.eq_ignore_ascii_case(RESULT_EVENT) {
            continue;
        }
        let r = match FaxResultEvent::from_headers(ev.message().headers()) {
            Ok(r) if r.direction == Direction::Receive => r,
            Ok(_) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "unreadable {RESULT_EVENT} event ignored");
                continue;
            }
        };
        let file = r.file.as_deref().and_then(|f| incoming_path(&cfg, f));
        let Some(file) = file else {
            tracing::error!(job = %r.job_id, "received fax names a file outside the incoming spool; ignored");
            continue;
        };
        if r.status != FaxStatus::Success && r.pages.unwrap_or(0) == 0 && !file.is_file() {
            tracing::warn!(
                job = %r.job_id,
                error = r.error.as_deref().unwrap_or(""),
                "inbound fax failed before any page arrived; nothing to deliver"
            );
            continue;
        }
        let item = InboundItem {
            id: r.job_id.clone(),
            file,
            from: r.caller_id.clone(),
            to: r.did.clone(),
            pages: r.pages,
            status: if r.status == FaxStatus::Success {
                "received".into()
            } else {
                "failed".into()
            },
            received_at: faxline_protocol::time::iso(faxline_protocol::time::now_us()),
        };
        match inbound.enqueue(&item) {
            Ok(()) => tracing::info!(
                job = %item.id,
                from = %mask_number(item.from.as_deref().unwrap_or("")),
                pages = item.pages.unwrap_or(0),
                "inbound fax queued"
            ),
            Err(e) => {
                tracing::error!(job = %item.id, error = %e, "cannot queue an inbound fax; it stays in the spool")
            }
        }
    }
}
