//! A scriptable AMI server that plays Asterisk over real TCP on 127.0.0.1, for tests (feature `test-server`).
//!
//! Tests drive it step by step, the way Asterisk would behave (telephony.md §1):
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use faxline_ami::testing::{TestServer, Credentials};
//! let server = TestServer::bind().await?;
//! // ... start a client against server.addr() ...
//! let mut conn = server.accept().await?;
//! conn.send_banner().await?;
//! assert!(conn.login(&Credentials::new("agent", "secret")).await?.accepted);
//! let originate = conn.expect_action("Originate").await?;
//! conn.respond(&originate, "Success", "Originate successfully queued").await?;
//! conn.send_event("OriginateResponse", &[("ActionID", originate.action_id().unwrap()), ("Response", "Success")]).await?;
//! # Ok(()) }
//! ```
//!
//! [`pbx::Pbx`] goes further: it runs a real `extensions.conf` (the agent's generated dialplan) with Asterisk's
//! channel, Dial and hangup-handler semantics and plays whole calls, races included.
//!
//! Pings are answered automatically by [`ServerConn::next_action`] (switch off with [`ServerConn::set_auto_pong`]),
//! so a test only sees the actions it scripts.

pub mod dialplan;
pub mod pbx;

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::BytesMut;
use futures::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::FramedRead;

use crate::client::md5_key;
use crate::codec::{AmiCodec, Frame, Limits};
use crate::message::Message;

/// The banner Asterisk 20 sends.
pub const ASTERISK_20_BANNER: &str = "Asterisk Call Manager/9.0.0";

/// A listening fake Asterisk on 127.0.0.1 (an ephemeral port).
pub struct TestServer {
    listener: TcpListener,
    addr: SocketAddr,
}

impl TestServer {
    /// Binds 127.0.0.1:0.
    pub async fn bind() -> io::Result<TestServer> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        Ok(TestServer { listener, addr })
    }

    /// The bound address (put it in the client's `Config::addr`).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Accepts the next client connection (nothing is sent yet; call [`ServerConn::send_banner`]).
    pub async fn accept(&self) -> io::Result<ServerConn> {
        let (stream, peer) = self.listener.accept().await?;
        Ok(ServerConn::new(stream, peer))
    }

    /// Accepts, sends the banner and runs a login against `creds`, failing the call if the login is refused.
    pub async fn accept_logged_in(&self, creds: &Credentials) -> io::Result<ServerConn> {
        let mut conn = self.accept().await?;
        conn.send_banner().await?;
        let outcome = conn.login(creds).await?;
        if !outcome.accepted {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "login refused",
            ));
        }
        Ok(conn)
    }
}

/// What the fake Asterisk accepts at login.
#[derive(Clone)]
pub struct Credentials {
    /// Username.
    pub username: String,
    /// Secret.
    pub secret: String,
    /// Challenge sent for MD5 logins.
    pub challenge: String,
    /// Send `Event: FullyBooted` after a successful login, as Asterisk does for users with `system` read access
    /// whose login's `Events:` mask allows `system` (absent, `on`, `all`, or a class list naming it).
    pub fully_booted: bool,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// Accept `username`/`secret` (plain or MD5), with challenge `840212345` and a FullyBooted event.
    pub fn new(username: &str, secret: &str) -> Self {
        Credentials {
            username: username.into(),
            secret: secret.into(),
            challenge: "840212345".into(),
            fully_booted: true,
        }
    }
}

/// How a scripted login went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginOutcome {
    /// True if the credentials matched and `Authentication accepted` was sent.
    pub accepted: bool,
    /// True if the client used `AuthType: MD5`.
    pub md5: bool,
    /// The `Events:` mask the client asked for.
    pub events: Option<String>,
}

/// One accepted client connection, driven by the test.
pub struct ServerConn {
    reader: FramedRead<OwnedReadHalf, AmiCodec>,
    writer: OwnedWriteHalf,
    peer: SocketAddr,
    auto_pong: bool,
    write_timeout: Option<Duration>,
}

impl ServerConn {
    fn new(stream: TcpStream, peer: SocketAddr) -> Self {
        let _ = stream.set_nodelay(true);
        let (r, w) = stream.into_split();
        ServerConn {
            reader: FramedRead::new(r, AmiCodec::new(Limits::default())),
            writer: w,
            peer,
            auto_pong: true,
            write_timeout: None,
        }
    }

    /// The client's address.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// Answer `Ping` automatically in [`ServerConn::next_action`] (default on).
    pub fn set_auto_pong(&mut self, on: bool) {
        self.auto_pong = on;
    }

    /// Like Asterisk's `writetimeout`: fail a write (and so the test) if the client does not drain the socket
    /// within `t`. `None` (default) waits forever.
    pub fn set_write_timeout(&mut self, t: Option<Duration>) {
        self.write_timeout = t;
    }

    /// Writes raw bytes (for garbage, partial messages, odd line endings).
    pub async fn send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self.write_timeout {
            None => self.writer.write_all(bytes).await,
            Some(t) => tokio::time::timeout(t, self.writer.write_all(bytes))
                .await
                .map_err(|_| {
                    io::Error::new(io::ErrorKind::TimedOut, "client did not drain the socket")
                })?,
        }
    }

    /// Sends the Asterisk 20 banner line.
    pub async fn send_banner(&mut self) -> io::Result<()> {
        self.send_raw(format!("{ASTERISK_20_BANNER}\r\n").as_bytes())
            .await
    }

    /// Sends a message in wire form (CRLF, blank line).
    pub async fn send(&mut self, msg: &Message) -> io::Result<()> {
        self.send_raw(&msg.to_wire()).await
    }

    /// Sends `Event: <name>` with `Privilege: call,all` and the given headers.
    pub async fn send_event(&mut self, name: &str, headers: &[(&str, &str)]) -> io::Result<()> {
        self.send(&event(name, headers)).await
    }

    /// Reads the next message from the client, whatever it is; `None` when the client closed.
    pub async fn read_message(&mut self) -> io::Result<Option<Message>> {
        loop {
            match self.reader.next().await {
                Some(Ok(Frame::Message(m))) => return Ok(Some(m)),
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(io::Error::other(e)),
                None => return Ok(None),
            }
        }
    }

    /// The next action other than `Ping` (answered automatically when auto-pong is on); `None` when the client
    /// closed.
    pub async fn next_action(&mut self) -> io::Result<Option<Message>> {
        loop {
            let Some(m) = self.read_message().await? else {
                return Ok(None);
            };
            if self.auto_pong
                && m.get("Action")
                    .is_some_and(|a| a.eq_ignore_ascii_case("Ping"))
            {
                self.reply(
                    &m,
                    &[
                        ("Response", "Success"),
                        ("Ping", "Pong"),
                        ("Timestamp", "1795349058.000000"),
                    ],
                )
                .await?;
                continue;
            }
            return Ok(Some(m));
        }
    }

    /// Reads one action, which must be `Ping`, and answers it (use when auto-pong would wait for the next action).
    pub async fn answer_ping(&mut self) -> io::Result<()> {
        let auto = std::mem::replace(&mut self.auto_pong, false);
        let ping = self.expect_action("Ping").await;
        self.auto_pong = auto;
        let ping = ping?;
        self.reply(
            &ping,
            &[
                ("Response", "Success"),
                ("Ping", "Pong"),
                ("Timestamp", "1795349058.000000"),
            ],
        )
        .await
    }

    /// The next action, which must be named `name`.
    pub async fn expect_action(&mut self, name: &str) -> io::Result<Message> {
        match self.next_action().await? {
            Some(m)
                if m.get("Action")
                    .is_some_and(|a| a.eq_ignore_ascii_case(name)) =>
            {
                Ok(m)
            }
            Some(m) => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("expected action {name}, got {m:?}"),
            )),
            None => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("client closed while expecting {name}"),
            )),
        }
    }

    /// Replies to `action`: `headers` in order, with the action's `ActionID` echoed after the first header (as
    /// Asterisk does: `Response` first).
    pub async fn reply(&mut self, action: &Message, headers: &[(&str, &str)]) -> io::Result<()> {
        let mut pairs: Vec<(&str, &str)> = Vec::with_capacity(headers.len() + 1);
        let mut rest = headers.iter();
        if let Some(first) = rest.next() {
            pairs.push(*first);
        }
        if let Some(id) = action.action_id() {
            pairs.push(("ActionID", id));
        }
        pairs.extend(rest);
        self.send(&Message::from_pairs(pairs)).await
    }

    /// `Response: <response>` + `Message: <message>` to `action`.
    pub async fn respond(
        &mut self,
        action: &Message,
        response: &str,
        message: &str,
    ) -> io::Result<()> {
        self.reply(action, &[("Response", response), ("Message", message)])
            .await
    }

    /// Plays Asterisk's login: an optional `Challenge`, then `Login` checked against `creds`. On success sends
    /// `Authentication accepted` (and FullyBooted); on failure sends `Authentication failed` and closes the
    /// connection, like manager.c (minus its 1 s sleep).
    pub async fn login(&mut self, creds: &Credentials) -> io::Result<LoginOutcome> {
        let mut action = self.expect_any(&["Challenge", "Login"]).await?;
        let mut md5 = false;
        if action
            .get("Action")
            .is_some_and(|a| a.eq_ignore_ascii_case("Challenge"))
        {
            if !action
                .get("AuthType")
                .is_some_and(|t| t.eq_ignore_ascii_case("MD5"))
            {
                self.respond(&action, "Error", "Must specify AuthType")
                    .await?;
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "Challenge without AuthType",
                ));
            }
            let challenge = creds.challenge.clone();
            self.reply(
                &action,
                &[("Response", "Success"), ("Challenge", &challenge)],
            )
            .await?;
            action = self.expect_action("Login").await?;
            md5 = true;
        }
        let events = action.get("Events").map(str::to_owned);
        let user_ok = action.get("Username") == Some(creds.username.as_str());
        let secret_ok = if md5 {
            action
                .get("AuthType")
                .is_some_and(|t| t.eq_ignore_ascii_case("MD5"))
                && action.get("Key") == Some(md5_key(&creds.challenge, &creds.secret).as_str())
        } else {
            action.get("Secret") == Some(creds.secret.as_str())
        };
        let accepted = user_ok && secret_ok;
        if accepted {
            self.respond(&action, "Success", "Authentication accepted")
                .await?;
            // manager.c sends it only when the session's event mask includes `system` (the test user's `read=`
            // is taken to include it): a client logging in with `Events: call,user` never sees it.
            if creds.fully_booted && mask_allows_system(events.as_deref()) {
                self.send(&Message::from_pairs([
                    ("Event", "FullyBooted"),
                    ("Privilege", "system,all"),
                    ("Uptime", "91"),
                    ("LastReload", "91"),
                    ("Status", "Fully Booted"),
                ]))
                .await?;
            }
        } else {
            self.respond(&action, "Error", "Authentication failed")
                .await?;
            self.writer.shutdown().await?;
        }
        Ok(LoginOutcome {
            accepted,
            md5,
            events,
        })
    }

    async fn expect_any(&mut self, names: &[&str]) -> io::Result<Message> {
        match self.next_action().await? {
            Some(m)
                if m.get("Action")
                    .is_some_and(|a| names.iter().any(|n| a.eq_ignore_ascii_case(n))) =>
            {
                Ok(m)
            }
            other => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("expected one of {names:?}, got {other:?}"),
            )),
        }
    }

    /// Answers an `Originate` with `Originate successfully queued` and then, if `reason` is given, its
    /// `OriginateResponse` event (4 = answered → `Success`, anything else → `Failure`).
    pub async fn answer_originate(
        &mut self,
        originate: &Message,
        reason: Option<u8>,
    ) -> io::Result<()> {
        self.respond(originate, "Success", "Originate successfully queued")
            .await?;
        if let Some(reason) = reason {
            let reason_s = reason.to_string();
            let mut h: Vec<(&str, &str)> = Vec::new();
            if let Some(id) = originate.action_id() {
                h.push(("ActionID", id));
            }
            h.push(("Response", if reason == 4 { "Success" } else { "Failure" }));
            h.push(("Channel", originate.get("Channel").unwrap_or("")));
            if let Some(app) = originate.get("Application") {
                h.push(("Application", app));
                h.push(("Data", originate.get("Data").unwrap_or("")));
            } else {
                h.push(("Context", originate.get("Context").unwrap_or("")));
                h.push(("Exten", originate.get("Exten").unwrap_or("")));
            }
            h.push(("Reason", &reason_s));
            h.push((
                "Uniqueid",
                originate.get("ChannelId").unwrap_or("<unknown>"),
            ));
            h.push(("CallerIDNum", "<unknown>"));
            h.push(("CallerIDName", "<unknown>"));
            self.send_event("OriginateResponse", &h).await?;
        }
        Ok(())
    }

    /// Closes the connection (both directions).
    pub async fn close(mut self) -> io::Result<()> {
        self.writer.shutdown().await
    }
}

/// Whether a login's `Events:` value lets `system` events through (manager.c's `set_eventmask`: absent or
/// empty keeps the user's `read=` classes, `on`/`all`/`yes`/`true` all of them, `off` none, else the listed
/// classes).
fn mask_allows_system(events: Option<&str>) -> bool {
    let Some(v) = events.map(str::trim).filter(|v| !v.is_empty()) else {
        return true;
    };
    if ["on", "all", "yes", "true"]
        .iter()
        .any(|w| v.eq_ignore_ascii_case(w))
    {
        return true;
    }
    v.split(',')
        .any(|c| c.trim().eq_ignore_ascii_case("system"))
}

/// Builds `Event: <name>` + `Privilege: call,all` + `headers` (use it to script any event).
pub fn event(name: &str, headers: &[(&str, &str)]) -> Message {
    let mut pairs = vec![("Event", name), ("Privilege", "call,all")];
    pairs.extend_from_slice(headers);
    Message::from_pairs(pairs)
}

/// The wire bytes of many copies of one event (for floods): `count` events, each with a `Seq: <n>` header.
pub fn flood(name: &str, headers: &[(&str, &str)], count: usize) -> BytesMut {
    let mut buf = BytesMut::new();
    for i in 0..count {
        let seq = i.to_string();
        let mut pairs = vec![
            ("Event", name),
            ("Privilege", "call,all"),
            ("Seq", seq.as_str()),
        ];
        pairs.extend_from_slice(headers);
        Message::from_pairs(pairs).write_wire(&mut buf);
    }
    buf
}
