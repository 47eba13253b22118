//! Client configuration.

use std::time::Duration;

use crate::backoff::Backoff;
use crate::codec::Limits;
use crate::redact::Secret;

/// How to authenticate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum AuthMethod {
    /// `Action: Challenge` then `Login` with `Key: md5(challenge ‖ secret)`: the secret never crosses the wire.
    #[default]
    Md5,
    /// `Login` with `Secret:` in clear text (only over loopback or TLS).
    Plain,
}

/// Everything the client needs. `Debug` never shows the secret.
#[derive(Clone, Debug)]
pub struct Config {
    /// `host:port` of the AMI listener, e.g. `127.0.0.1:5038`.
    pub addr: String,
    /// AMI user (manager.conf section).
    pub username: String,
    /// AMI secret.
    pub secret: Secret,
    /// Authentication method.
    pub auth: AuthMethod,
    /// Event mask sent with `Events:` at login. The fax agent only needs `call,user` (OriginateResponse, Newchannel,
    /// Hangup, fax events; UserEvent); `dialplan` and `reporting` would flood the connection.
    pub events: String,
    /// Limit for the TCP connect.
    pub connect_timeout: Duration,
    /// Limit for banner + challenge + login (Asterisk itself waits 1 s before refusing).
    pub login_timeout: Duration,
    /// Limit for an action's reply (or a list's completion).
    pub action_timeout: Duration,
    /// Keepalive `Ping` interval; `None` disables it.
    pub ping_interval: Option<Duration>,
    /// Delays between reconnect attempts after a lost connection or a network failure.
    pub reconnect: Backoff,
    /// Delay before retrying after Asterisk refused the credentials. Long on purpose: a wrong secret will not fix
    /// itself, and hammering would fill Asterisk's security log and could trip fail2ban.
    pub auth_retry: Duration,
    /// Events buffered per subscription before a slow subscriber starts losing the oldest (and is told so).
    pub event_capacity: usize,
    /// Decoder limits.
    pub limits: Limits,
}

impl Config {
    /// A configuration with the defaults: MD5 login, `Events: call,user`, 5 s connect, 10 s login and action
    /// timeouts, 30 s ping, reconnect 0.5 s doubling to 30 s with 25 % jitter, 60 s after an auth failure, 4096
    /// buffered events per subscriber.
    pub fn new(
        addr: impl Into<String>,
        username: impl Into<String>,
        secret: impl Into<Secret>,
    ) -> Self {
        Config {
            addr: addr.into(),
            username: username.into(),
            secret: secret.into(),
            auth: AuthMethod::Md5,
            events: "call,user".into(),
            connect_timeout: Duration::from_secs(5),
            login_timeout: Duration::from_secs(10),
            action_timeout: Duration::from_secs(10),
            ping_interval: Some(Duration::from_secs(30)),
            reconnect: Backoff::default(),
            auth_retry: Duration::from_secs(60),
            event_capacity: 4096,
            limits: Limits::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_does_not_show_the_secret() {
        let c = Config::new("127.0.0.1:5038", "agent", "s3cr3t-value");
        let d = format!("{c:?}");
        assert!(!d.contains("s3cr3t-value"), "{d}");
        assert!(d.contains("agent"));
    }
}
