//! One AMI connection: connect, banner, login, then a reader task and a writer task.
//!
//! The reader task only decodes and routes: replies go to oneshot channels, events into a broadcast channel. Both
//! are non-blocking sends, so the reader always drains the socket and Asterisk's 100 ms write timeout never drops
//! us, whatever the consumers do.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::BytesMut;
use futures::StreamExt;
use md5::{Digest, Md5};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;
use tokio_util::codec::{Encoder, FramedRead};
use tokio_util::sync::CancellationToken;

use crate::action::Action;
use crate::client::router::Router;
use crate::client::{AuthMethod, Config, Error};
use crate::codec::{AmiCodec, BANNER_PREFIX, Frame};
use crate::event::Event;
use crate::message::{Message, MessageKind};

/// The MD5 login key: lowercase hex of `md5(challenge ‖ secret)` (manager.c).
pub fn md5_key(challenge: &str, secret: &str) -> String {
    let mut h = Md5::new();
    h.update(challenge.as_bytes());
    h.update(secret.as_bytes());
    hex::encode(h.finalize())
}

/// An established, logged-in connection.
pub(crate) struct Session {
    pub(crate) banner: String,
    pub(crate) router: Arc<Router>,
    pub(crate) tx: mpsc::Sender<Action>,
    pub(crate) reader: JoinHandle<()>,
    pub(crate) writer: JoinHandle<()>,
    /// Cancelled when the reader ends; the reason is in `end`.
    pub(crate) done: CancellationToken,
    end: Arc<Mutex<Option<Error>>>,
}

impl Session {
    /// Stops both tasks and fails every pending action.
    pub(crate) fn abort(&self) {
        self.reader.abort();
        self.writer.abort();
        self.router.fail_all();
    }

    /// Why the reader ended (call after `done` fired).
    pub(crate) fn end_reason(&self) -> Error {
        self.end
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .unwrap_or(Error::Disconnected)
    }
}

type Reader = FramedRead<OwnedReadHalf, AmiCodec>;

async fn write_action(w: &mut OwnedWriteHalf, action: &Action) -> Result<(), Error> {
    let mut buf = BytesMut::new();
    AmiCodec::default().encode(action, &mut buf)?;
    w.write_all(&buf).await.map_err(Error::Io)
}

/// Reads until the response to `action_id`, publishing events seen on the way.
async fn read_response(
    r: &mut Reader,
    action_id: &str,
    events: &broadcast::Sender<Arc<Event>>,
) -> Result<Message, Error> {
    loop {
        match r.next().await {
            Some(Ok(Frame::Message(m))) => match m.kind() {
                MessageKind::Event(_) => {
                    if let Some(e) = Event::from_message(m) {
                        let _ = events.send(Arc::new(e));
                    }
                }
                _ if m.action_id() == Some(action_id) => return Ok(m),
                _ => tracing::debug!(?m, "ignoring unmatched reply during login"),
            },
            Some(Ok(Frame::Banner(_))) => {}
            Some(Ok(Frame::Dropped(e))) => {
                tracing::warn!(error = %e, "dropped AMI message during login")
            }
            Some(Err(e)) => return Err(e.into()),
            None => return Err(Error::Disconnected),
        }
    }
}

async fn handshake(
    cfg: &Config,
    r: &mut Reader,
    w: &mut OwnedWriteHalf,
    events: &broadcast::Sender<Arc<Event>>,
) -> Result<String, Error> {
    let banner = match r.next().await {
        Some(Ok(Frame::Banner(b))) if b.starts_with(BANNER_PREFIX) => b,
        Some(Ok(other)) => {
            return Err(Error::NotAmi {
                got: format!("{other:?}").chars().take(80).collect(),
            });
        }
        Some(Err(e)) => return Err(e.into()),
        None => return Err(Error::Disconnected),
    };
    let mut login = Action::new("Login").header("Username", cfg.username.clone());
    match cfg.auth {
        AuthMethod::Md5 => {
            let id = "faxline-challenge";
            let challenge = Action::new("Challenge")
                .header("ActionID", id)
                .header("AuthType", "MD5");
            write_action(w, &challenge).await?;
            let reply = read_response(r, id, events).await?;
            let Some(ch) = reply.get("Challenge").filter(|c| !c.is_empty()) else {
                return Err(Error::ActionFailed {
                    action: "Challenge".into(),
                    message: reply.get("Message").unwrap_or("no challenge").to_owned(),
                });
            };
            login = login
                .header("AuthType", "MD5")
                .header("Key", md5_key(ch, cfg.secret.expose()));
        }
        AuthMethod::Plain => login = login.header("Secret", cfg.secret.expose()),
    }
    let id = "faxline-login";
    login = login
        .header("Events", cfg.events.clone())
        .header("ActionID", id);
    write_action(w, &login).await?;
    let reply = read_response(r, id, events).await?;
    if reply
        .get("Response")
        .is_some_and(|v| v.eq_ignore_ascii_case("Success"))
    {
        Ok(banner)
    } else {
        Err(Error::AuthenticationFailed {
            message: reply.get("Message").unwrap_or("").to_owned(),
        })
    }
}

/// Connects and logs in, then starts the reader and writer tasks.
pub(crate) async fn establish(
    cfg: &Config,
    events: broadcast::Sender<Arc<Event>>,
) -> Result<Session, Error> {
    let stream = tokio::time::timeout(cfg.connect_timeout, TcpStream::connect(&cfg.addr))
        .await
        .map_err(|_| Error::ConnectTimeout)?
        .map_err(Error::Connect)?;
    let _ = stream.set_nodelay(true);
    let (r, mut w) = stream.into_split();
    let mut reader = FramedRead::with_capacity(r, AmiCodec::new(cfg.limits), 64 * 1024);
    let banner = tokio::time::timeout(
        cfg.login_timeout,
        handshake(cfg, &mut reader, &mut w, &events),
    )
    .await
    .map_err(|_| Error::LoginTimeout)??;

    let router = Arc::new(Router::default());
    let (tx, rx) = mpsc::channel(256);
    let done = CancellationToken::new();
    let end = Arc::new(Mutex::new(None));
    let reader = {
        let (router, done, end) = (router.clone(), done.clone(), end.clone());
        tokio::spawn(async move {
            let reason = read_loop(reader, router, events).await;
            *end.lock().unwrap_or_else(|e| e.into_inner()) = Some(reason);
            done.cancel();
        })
    };
    let writer = tokio::spawn(write_loop(w, rx));
    Ok(Session {
        banner,
        router,
        tx,
        reader,
        writer,
        done,
        end,
    })
}

/// Decodes and routes until the connection ends; returns why it ended.
async fn read_loop(
    mut r: Reader,
    router: Arc<Router>,
    events: broadcast::Sender<Arc<Event>>,
) -> Error {
    let end = loop {
        match r.next().await {
            Some(Ok(Frame::Message(m))) => {
                if let Some(m) = router.route(m) {
                    match Event::from_message(m) {
                        // `send` never waits: a full buffer overwrites the oldest event for slow subscribers.
                        Some(e) => {
                            let _ = events.send(Arc::new(e));
                        }
                        None => tracing::debug!("ignoring unmatched AMI reply"),
                    }
                }
            }
            Some(Ok(Frame::Dropped(e))) => {
                tracing::warn!(error = %e, "dropped malformed AMI message")
            }
            Some(Ok(Frame::Banner(b))) => {
                tracing::warn!(banner = %b, "unexpected banner mid-session")
            }
            Some(Err(e)) => break Error::from(e),
            None => break Error::Disconnected,
        }
    };
    router.fail_all();
    end
}

/// Writes queued actions, batching whatever is already queued into one write.
async fn write_loop(mut w: OwnedWriteHalf, mut rx: mpsc::Receiver<Action>) {
    let mut codec = AmiCodec::default();
    let mut buf = BytesMut::with_capacity(4096);
    while let Some(a) = rx.recv().await {
        buf.clear();
        // Actions were validated before being queued; an encode error here is a bug, logged and skipped.
        if let Err(e) = codec.encode(&a, &mut buf) {
            tracing::error!(error = %e, action = a.name(), "cannot encode AMI action");
            continue;
        }
        while let Ok(more) = rx.try_recv() {
            if let Err(e) = codec.encode(&more, &mut buf) {
                tracing::error!(error = %e, action = more.name(), "cannot encode AMI action");
            }
        }
        if let Err(e) = w.write_all(&buf).await {
            tracing::debug!(error = %e, "AMI write failed");
            break;
        }
    }
    let _ = w.shutdown().await;
}

/// How long to wait for the reply to `Logoff` before closing anyway.
pub(crate) const LOGOFF_WAIT: Duration = Duration::from_secs(2);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_key_matches_known_vector() {
        // md5("1234" ‖ "secret") computed independently with coreutils md5sum.
        assert_eq!(
            md5_key("1234", "secret"),
            "10b168cd4f742410888c3c110f7a7e71"
        );
    }
}
