//! The AMI client: a cloneable handle over a supervisor task that keeps one logged-in connection alive.
//!
//! - [`Client::connect`] logs in once (so a bad address or secret is reported to the caller) and then keeps the
//!   connection up in the background; [`Client::spawn`] starts straight in the background (Asterisk may start later).
//! - Actions get an `ActionID`, are written by a writer task and matched to their reply (lists included).
//! - Events are published to bounded [`Subscription`]s; a slow subscriber is told how many it missed
//!   ([`RecvError::Lagged`]) and never slows the reader.
//! - The supervisor pings, reconnects with backoff + jitter, waits long after an authentication failure, and
//!   publishes its [`ConnectionState`] through a `watch` channel.

mod config;
mod router;
mod session;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use config::{AuthMethod, Config};
pub use router::ListReply;
pub use session::md5_key;

use crate::action::{Action, ActionError, Originate};
use crate::codec::{DecodeError, EncodeError};
use crate::event::Event;
use crate::message::Message;
use router::Expect;
use session::Session;

/// Client errors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// TCP connect failed.
    #[error("cannot connect to AMI: {0}")]
    Connect(#[source] std::io::Error),
    /// TCP connect did not finish in time.
    #[error("AMI connect timed out")]
    ConnectTimeout,
    /// The peer did not greet like Asterisk.
    #[error("peer is not an Asterisk manager interface (got {got})")]
    NotAmi {
        /// What arrived instead of the banner.
        got: String,
    },
    /// Banner, challenge and login did not finish in time.
    #[error("AMI login timed out")]
    LoginTimeout,
    /// Asterisk refused the credentials. Retried only after [`Config::auth_retry`].
    #[error("AMI authentication failed: {message}")]
    AuthenticationFailed {
        /// Asterisk's message (`Authentication failed`, `Login Already In Use`).
        message: String,
    },
    /// Asterisk answered `Response: Error`.
    #[error("AMI action {action} failed: {message}")]
    ActionFailed {
        /// The action name.
        action: String,
        /// Asterisk's `Message:`.
        message: String,
    },
    /// The action is invalid and was not sent.
    #[error(transparent)]
    InvalidAction(#[from] ActionError),
    /// No reply within [`Config::action_timeout`].
    #[error("no reply to AMI action {action} in time")]
    Timeout {
        /// The action name.
        action: String,
    },
    /// Not connected right now (the supervisor is reconnecting).
    #[error("not connected to AMI")]
    NotConnected,
    /// The connection was lost before the reply arrived.
    #[error("AMI connection lost")]
    Disconnected,
    /// The client was shut down.
    #[error("AMI client closed")]
    Closed,
    /// Reading failed.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// Writing failed.
    #[error("AMI write failed: {0}")]
    Io(#[source] std::io::Error),
    /// A reply lacked a field the helper needs.
    #[error("AMI reply to {action} lacks {field}")]
    MissingField {
        /// The action name.
        action: &'static str,
        /// The missing header.
        field: &'static str,
    },
}

impl From<EncodeError> for Error {
    fn from(e: EncodeError) -> Self {
        match e {
            EncodeError::Io(e) => Error::Io(e),
            EncodeError::Invalid(e) => Error::InvalidAction(e),
        }
    }
}

/// The connection state, published through [`Client::state`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnectionState {
    /// Connecting and logging in.
    Connecting {
        /// Attempt number since the last good session (0 = first).
        attempt: u32,
    },
    /// Logged in.
    Connected {
        /// Increments on every successful login: a change means events may have been missed in between.
        generation: u64,
        /// Asterisk's banner, e.g. `Asterisk Call Manager/9.0.0`.
        banner: String,
    },
    /// Lost or failed to connect; retrying after a backoff.
    Reconnecting {
        /// Attempt number.
        attempt: u32,
        /// Delay before the next attempt.
        retry_in: Duration,
        /// Why.
        error: String,
    },
    /// Asterisk refused the credentials; retrying after [`Config::auth_retry`].
    AuthFailed {
        /// Delay before the next attempt.
        retry_in: Duration,
        /// Asterisk's message.
        message: String,
    },
    /// Logged off or shut down.
    Closed,
}

impl ConnectionState {
    /// True when logged in.
    pub fn is_connected(&self) -> bool {
        matches!(self, ConnectionState::Connected { .. })
    }
}

/// Why [`Subscription::recv`] returned no event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RecvError {
    /// The subscriber fell behind and this many events were skipped; the next `recv` continues with newer ones.
    #[error("subscriber lagged, {0} events skipped")]
    Lagged(u64),
    /// The client is gone.
    #[error("AMI client closed")]
    Closed,
}

/// A bounded event subscription (see [`Config::event_capacity`]).
pub struct Subscription {
    rx: broadcast::Receiver<Arc<Event>>,
}

impl Subscription {
    /// The next event; [`RecvError::Lagged`] if events were skipped because this subscriber was too slow.
    pub async fn recv(&mut self) -> Result<Arc<Event>, RecvError> {
        self.rx.recv().await.map_err(|e| match e {
            broadcast::error::RecvError::Lagged(n) => RecvError::Lagged(n),
            broadcast::error::RecvError::Closed => RecvError::Closed,
        })
    }

    /// The next event if one is buffered.
    pub fn try_recv(&mut self) -> Option<Result<Arc<Event>, RecvError>> {
        match self.rx.try_recv() {
            Ok(e) => Some(Ok(e)),
            Err(broadcast::error::TryRecvError::Empty) => None,
            Err(broadcast::error::TryRecvError::Lagged(n)) => Some(Err(RecvError::Lagged(n))),
            Err(broadcast::error::TryRecvError::Closed) => Some(Err(RecvError::Closed)),
        }
    }
}

/// Where a queued Originate can be followed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OriginateQueued {
    /// The ActionID; the later `OriginateResponse` event carries it.
    pub action_id: String,
    /// The `ChannelId` given, which becomes the channel's `Uniqueid` in every event of the call.
    pub channel_id: Option<String>,
}

/// One `FAXSessionsEntry`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaxSession {
    /// Channel name.
    pub channel: String,
    /// e.g. `Spandsp`.
    pub technology: String,
    /// res_fax session number.
    pub session_number: String,
    /// `G.711`, `T.38` or `none`.
    pub session_type: String,
    /// `send`, `receive`, `gateway`, `V.21`, `none`.
    pub operation: String,
    /// e.g. `Active`.
    pub state: String,
    /// Comma-separated file list as sent by Asterisk.
    pub files: String,
}

/// `Event: FAXStats` counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct FaxStats {
    /// Sessions now.
    pub current_sessions: u64,
    /// Reserved sessions.
    pub reserved_sessions: u64,
    /// Send attempts since start.
    pub transmit_attempts: u64,
    /// Receive attempts since start.
    pub receive_attempts: u64,
    /// Completed faxes.
    pub completed: u64,
    /// Failed faxes.
    pub failed: u64,
}

struct Shared {
    config: Config,
    state: watch::Sender<ConnectionState>,
    events: broadcast::Sender<Arc<Event>>,
    session: Mutex<Option<Arc<Session>>>,
    next_id: AtomicU64,
    closing: AtomicBool,
    cancel: CancellationToken,
    supervisor: Mutex<Option<JoinHandle<()>>>,
}

/// Cancels the supervisor when the last [`Client`] handle is dropped.
struct Owner(Arc<Shared>);

impl Drop for Owner {
    fn drop(&mut self) {
        self.0.cancel.cancel();
    }
}

/// The AMI client handle. Cheap to clone; the connection lives until [`Client::logoff`] or the last clone is dropped.
#[derive(Clone)]
pub struct Client {
    owner: Arc<Owner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("addr", &self.shared().config.addr)
            .field("state", &*self.shared().state.borrow())
            .finish()
    }
}

impl Client {
    fn new(config: Config) -> Self {
        let (state, _) = watch::channel(ConnectionState::Connecting { attempt: 0 });
        let (events, _) = broadcast::channel(config.event_capacity.max(1));
        let shared = Arc::new(Shared {
            config,
            state,
            events,
            session: Mutex::new(None),
            next_id: AtomicU64::new(1),
            closing: AtomicBool::new(false),
            cancel: CancellationToken::new(),
            supervisor: Mutex::new(None),
        });
        Client {
            owner: Arc::new(Owner(shared)),
        }
    }

    fn shared(&self) -> &Arc<Shared> {
        &self.owner.0
    }

    /// Connects and logs in now; errors (unreachable, not AMI, wrong secret) are returned. Afterwards the connection
    /// is kept up in the background.
    pub async fn connect(config: Config) -> Result<Client, Error> {
        let client = Client::new(config);
        let shared = client.shared().clone();
        let session = session::establish(&shared.config, shared.events.clone()).await?;
        let first = Arc::new(session);
        set_session(&shared, Some(first.clone()));
        // Visible as soon as `connect` returns; the supervisor publishes the same state again.
        shared.state.send_replace(ConnectionState::Connected {
            generation: 1,
            banner: first.banner.clone(),
        });
        let sup = tokio::spawn(supervise(shared.clone(), Some(first)));
        *lock(&shared.supervisor) = Some(sup);
        Ok(client)
    }

    /// Starts the client in the background without waiting; watch [`Client::state`] for progress.
    pub fn spawn(config: Config) -> Client {
        let client = Client::new(config);
        let shared = client.shared().clone();
        let sup = tokio::spawn(supervise(shared.clone(), None));
        *lock(&shared.supervisor) = Some(sup);
        client
    }

    /// The connection state. Subscribe before acting on a change (`changed().await`).
    pub fn state(&self) -> watch::Receiver<ConnectionState> {
        self.shared().state.subscribe()
    }

    /// Waits until logged in, or `Err(Error::Closed)` if the client closes first.
    pub async fn wait_connected(&self) -> Result<(), Error> {
        let mut rx = self.state();
        let r = rx
            .wait_for(|s| s.is_connected() || *s == ConnectionState::Closed)
            .await
            .map_err(|_| Error::Closed)?;
        if r.is_connected() {
            Ok(())
        } else {
            Err(Error::Closed)
        }
    }

    /// A new event subscription. Events published before this call are not seen.
    pub fn subscribe(&self) -> Subscription {
        Subscription {
            rx: self.shared().events.subscribe(),
        }
    }

    /// Sends an action and waits for its response (`Response: Error` becomes [`Error::ActionFailed`]).
    pub async fn send(&self, action: Action) -> Result<Message, Error> {
        Ok(request(self.shared(), action, Expect::Response)
            .await?
            .response)
    }

    /// Sends a list action (`EventList: start … Complete`) and collects its items.
    pub async fn send_list(&self, action: Action) -> Result<ListReply, Error> {
        request(self.shared(), action, Expect::List).await
    }

    /// `Ping` (the supervisor also pings on its own).
    pub async fn ping(&self) -> Result<(), Error> {
        self.send(Action::new("Ping")).await.map(|_| ())
    }

    /// An asynchronous Originate. The result arrives later as an `OriginateResponse` event with the returned
    /// ActionID; with a `ChannelId`, every event of the call carries it as `Uniqueid`.
    pub async fn originate(&self, originate: &Originate) -> Result<OriginateQueued, Error> {
        let action = originate.to_action()?;
        let reply = request(self.shared(), action, Expect::Response).await?;
        Ok(OriginateQueued {
            action_id: reply.response.action_id().unwrap_or("").to_owned(),
            channel_id: originate.channel_id.clone(),
        })
    }

    /// `Getvar`: a channel variable or function (e.g. `FAXOPT(status)`); `None` if Asterisk sent no value.
    pub async fn getvar(&self, channel: &str, variable: &str) -> Result<Option<String>, Error> {
        let a = Action::new("Getvar")
            .header("Channel", channel)
            .header("Variable", variable);
        let m = self.send(a).await?;
        Ok(m.get("Value").map(str::to_owned))
    }

    /// `Hangup` of a channel, with an optional Q.850 cause.
    pub async fn hangup(&self, channel: &str, cause: Option<u16>) -> Result<(), Error> {
        let mut a = Action::new("Hangup").header("Channel", channel);
        if let Some(c) = cause {
            a.push_header("Cause", c.to_string());
        }
        self.send(a).await.map(|_| ())
    }

    /// `FAXSessions`: the fax sessions now active.
    pub async fn fax_sessions(&self) -> Result<Vec<FaxSession>, Error> {
        let reply = self.send_list(Action::new("FAXSessions")).await?;
        let f = |m: &Message, k: &str| m.get(k).unwrap_or("").to_owned();
        Ok(reply
            .events
            .iter()
            .map(|m| FaxSession {
                channel: f(m, "Channel"),
                technology: f(m, "Technology"),
                session_number: f(m, "SessionNumber"),
                session_type: f(m, "SessionType"),
                operation: f(m, "Operation"),
                state: f(m, "State"),
                files: f(m, "Files"),
            })
            .collect())
    }

    /// `FAXStats`: res_fax counters.
    pub async fn fax_stats(&self) -> Result<FaxStats, Error> {
        let reply = request(
            self.shared(),
            Action::new("FAXStats"),
            Expect::FollowedBy("FAXStats"),
        )
        .await?;
        let m = reply.events.first().ok_or(Error::MissingField {
            action: "FAXStats",
            field: "FAXStats event",
        })?;
        let n = |k: &str| m.get(k).and_then(|v| v.trim().parse().ok()).unwrap_or(0);
        Ok(FaxStats {
            current_sessions: n("CurrentSessions"),
            reserved_sessions: n("ReservedSessions"),
            transmit_attempts: n("TransmitAttempts"),
            receive_attempts: n("ReceiveAttempts"),
            completed: n("CompletedFAXes"),
            failed: n("FailedFAXes"),
        })
    }

    /// Logs off cleanly (`Logoff`, waits briefly for `Goodbye`) and stops reconnecting. State becomes `Closed`.
    pub async fn logoff(&self) -> Result<(), Error> {
        let shared = self.shared();
        shared.closing.store(true, Ordering::SeqCst);
        let result = if current_session(shared).is_some() {
            let mut a = Action::new("Logoff");
            let id = next_action_id(shared);
            a.set_header("ActionID", id.clone());
            match tokio::time::timeout(
                session::LOGOFF_WAIT,
                request_with_id(shared, a, id, Expect::Response),
            )
            .await
            {
                Ok(Ok(_)) | Ok(Err(Error::Disconnected)) => Ok(()),
                Ok(Err(e)) => Err(e),
                Err(_) => Err(Error::Timeout {
                    action: "Logoff".into(),
                }),
            }
        } else {
            Ok(())
        };
        shared.cancel.cancel();
        let sup = lock(&shared.supervisor).take();
        if let Some(sup) = sup {
            let _ = sup.await;
        }
        result
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn current_session(shared: &Shared) -> Option<Arc<Session>> {
    lock(&shared.session).clone()
}

fn set_session(shared: &Shared, s: Option<Arc<Session>>) {
    *lock(&shared.session) = s;
}

fn next_action_id(shared: &Shared) -> String {
    format!("faxline-{}", shared.next_id.fetch_add(1, Ordering::Relaxed))
}

async fn request(shared: &Shared, mut action: Action, expect: Expect) -> Result<ListReply, Error> {
    let id = next_action_id(shared);
    action.set_header("ActionID", id.clone());
    request_with_id(shared, action, id, expect).await
}

async fn request_with_id(
    shared: &Shared,
    action: Action,
    id: String,
    expect: Expect,
) -> Result<ListReply, Error> {
    action.validate()?;
    if shared.cancel.is_cancelled() {
        return Err(Error::Closed);
    }
    let session = current_session(shared).ok_or(Error::NotConnected)?;
    let name = action.name().to_owned();
    let rx = session.router.register(id.clone(), &name, expect);
    tracing::trace!(action = %name, action_id = %id, "sending AMI action");
    if session.tx.send(action).await.is_err() {
        session.router.cancel(&id);
        return Err(Error::Disconnected);
    }
    match tokio::time::timeout(shared.config.action_timeout, rx).await {
        Ok(Ok(result)) => result,
        Ok(Err(_)) => Err(Error::Disconnected),
        Err(_) => {
            session.router.cancel(&id);
            Err(Error::Timeout { action: name })
        }
    }
}

/// Keeps a session alive: runs it, pings it, replaces it when it dies.
async fn supervise(shared: Arc<Shared>, mut first: Option<Arc<Session>>) {
    let mut generation = 0u64;
    let mut attempt = 0u32;
    loop {
        if shared.cancel.is_cancelled() {
            break;
        }
        let session = match first.take() {
            Some(s) => Ok(s),
            None => {
                shared
                    .state
                    .send_replace(ConnectionState::Connecting { attempt });
                tokio::select! {
                    r = session::establish(&shared.config, shared.events.clone()) => r.map(Arc::new),
                    _ = shared.cancel.cancelled() => break,
                }
            }
        };
        let wait = match session {
            Ok(session) => {
                generation += 1;
                attempt = 0;
                tracing::info!(addr = %shared.config.addr, generation, banner = %session.banner, "AMI connected");
                set_session(&shared, Some(session.clone()));
                shared.state.send_replace(ConnectionState::Connected {
                    generation,
                    banner: session.banner.clone(),
                });
                let reason = run_session(&shared, &session).await;
                set_session(&shared, None);
                session.abort();
                if shared.cancel.is_cancelled() || shared.closing.load(Ordering::SeqCst) {
                    break;
                }
                tracing::warn!(error = %reason, "AMI connection lost");
                let retry_in = shared
                    .config
                    .reconnect
                    .delay(attempt, rand::random::<f64>());
                shared.state.send_replace(ConnectionState::Reconnecting {
                    attempt,
                    retry_in,
                    error: reason.to_string(),
                });
                retry_in
            }
            Err(Error::AuthenticationFailed { message }) => {
                let retry_in = shared.config.auth_retry;
                tracing::error!(addr = %shared.config.addr, %message, ?retry_in, "AMI authentication failed");
                shared
                    .state
                    .send_replace(ConnectionState::AuthFailed { retry_in, message });
                retry_in
            }
            Err(e) => {
                let retry_in = shared
                    .config
                    .reconnect
                    .delay(attempt, rand::random::<f64>());
                tracing::warn!(addr = %shared.config.addr, error = %e, ?retry_in, "AMI connect failed");
                shared.state.send_replace(ConnectionState::Reconnecting {
                    attempt,
                    retry_in,
                    error: e.to_string(),
                });
                retry_in
            }
        };
        attempt = attempt.saturating_add(1);
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shared.cancel.cancelled() => break,
        }
    }
    if let Some(s) = lock(&shared.session).take() {
        s.abort();
    }
    shared.state.send_replace(ConnectionState::Closed);
}

/// Runs until the session ends (reader finished, keepalive failed) or the client is cancelled.
async fn run_session(shared: &Shared, session: &Arc<Session>) -> Error {
    let ping_every = shared.config.ping_interval;
    let mut ticker = ping_every.map(|p| {
        let mut t = tokio::time::interval_at(tokio::time::Instant::now() + p, p);
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        t
    });
    loop {
        tokio::select! {
            _ = session.done.cancelled() => return session.end_reason(),
            _ = shared.cancel.cancelled() => return Error::Closed,
            _ = async { match ticker.as_mut() { Some(t) => { t.tick().await; } None => std::future::pending().await } } => {
                match request(shared, Action::new("Ping"), Expect::Response).await {
                    Ok(_) => tracing::trace!("AMI keepalive ok"),
                    Err(e) => return e,
                }
            }
        }
    }
}
