//! Login throttling for the console, designed so that nobody can lock a user out from elsewhere for
//! good. The counters are rows in the database ([`crate::store::LoginCounters`]), so every API
//! instance on one database (SQLite or PostgreSQL) enforces the same limits and a restart forgets
//! nothing; the rules are pure functions of a counter and the time (seconds), no clock is read.
//!
//! Three counters, each answering "wait N seconds" (sent as `Retry-After`):
//! - **(address, username)**, or **(device, username)** for a browser that has logged in as that user
//!   before (it holds a signed device cookie): strict, [`PAIR_LIMIT`] failures in
//!   [`WINDOW_S`] lock that pair for [`PAIR_LOCK_S`]. An attacker locks only their own guesses.
//! - **address** (any username, browsers without a device cookie): [`ADDRESS_LIMIT`] failures
//!   lock the address for [`ADDRESS_LOCK_S`], against password spraying.
//! - **username** (from everywhere, browsers without a device cookie for that user): after
//!   [`USER_FREE`] failures each further attempt waits a doubling delay capped at
//!   [`USER_MAX_DELAY_S`]: a distributed guesser is slowed to one guess per few minutes, and the
//!   user's own browser (device cookie) is never held back by it.
//!
//! A counter's row is named by an HMAC (under the server secret) of what it counts: the table holds
//! no address or username.

use std::net::IpAddr;

use crate::store::{LoginCounter, Store, StoreResult};

pub const WINDOW_S: i64 = 15 * 60;
pub const PAIR_LIMIT: u32 = 5;
pub const PAIR_LOCK_S: i64 = 15 * 60;
pub const ADDRESS_LIMIT: u32 = 30;
pub const ADDRESS_LOCK_S: i64 = 15 * 60;
pub const USER_FREE: u32 = 10;
pub const USER_MAX_DELAY_S: i64 = 5 * 60;
/// Compare-and-swap attempts per counter before a failure is given up as uncountable.
const MAX_SWAPS: usize = 16;

/// Who is trying: the address, the username typed, and the device id when the browser presented a
/// valid device cookie for that username.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt<'a> {
    pub ip: IpAddr,
    pub username: &'a str,
    pub device: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Key {
    Pair(IpAddr, String),
    Device(String, String),
    Address(IpAddr),
    User(String),
}

impl Key {
    /// What is counted, as text (only ever hashed into a row id).
    fn text(&self) -> String {
        match self {
            Key::Pair(ip, u) => format!("pair\n{ip}\n{u}"),
            Key::Device(d, u) => format!("device\n{d}\n{u}"),
            Key::Address(ip) => format!("address\n{ip}"),
            Key::User(u) => format!("user\n{u}"),
        }
    }

    /// The counter after one more failure at `now`.
    fn after_failure(&self, e: LoginCounter, now: i64) -> LoginCounter {
        let mut e = e;
        if now - e.window_start >= WINDOW_S {
            e.window_start = now;
            e.failures = 0;
        }
        e.failures += 1;
        e.last_failure = now;
        match self {
            Key::Pair(..) | Key::Device(..) if e.failures >= i64::from(PAIR_LIMIT) => {
                e.locked_until = now + PAIR_LOCK_S;
                e.failures = 0;
                e.window_start = now;
            }
            Key::Address(_) if e.failures >= i64::from(ADDRESS_LIMIT) => {
                e.locked_until = now + ADDRESS_LOCK_S;
                e.failures = 0;
                e.window_start = now;
            }
            Key::User(_) if e.failures > i64::from(USER_FREE) => {
                let exp = (e.failures - i64::from(USER_FREE)).min(16);
                let delay = (1i64 << exp).min(USER_MAX_DELAY_S);
                e.locked_until = now + delay;
            }
            _ => {}
        }
        e
    }
}

/// When a counter no longer matters: its lock and its counting window are both over.
fn expires_at(e: &LoginCounter) -> i64 {
    e.locked_until.max(e.window_start + WINDOW_S)
}

fn keys(a: &Attempt<'_>) -> Vec<Key> {
    let user = a.username.to_lowercase();
    match a.device {
        Some(d) => vec![Key::Device(d.to_owned(), user)],
        None => vec![
            Key::Pair(a.ip, user.clone()),
            Key::Address(a.ip),
            Key::User(user),
        ],
    }
}

/// The throttle over the database's counters; `secret` names the rows (the server secret).
pub struct LoginThrottle<'a> {
    store: &'a Store,
    secret: &'a [u8],
}

impl<'a> LoginThrottle<'a> {
    pub fn new(store: &'a Store, secret: &'a [u8]) -> Self {
        Self { store, secret }
    }

    fn id(&self, key: &Key) -> String {
        crate::auth::hash_secret(self.secret, "console-login-counter", &key.text())
    }

    /// `Some(seconds)` when this attempt must wait (checked before the password is).
    pub async fn check(&self, a: &Attempt<'_>, now: i64) -> StoreResult<Option<u64>> {
        let ids: Vec<String> = keys(a).iter().map(|k| self.id(k)).collect();
        let until = self.store.login_counters().locked_until(&ids).await?;
        Ok((until > now).then(|| (until - now) as u64))
    }

    /// Records a failed attempt on each of its counters.
    pub async fn fail(&self, a: &Attempt<'_>, now: i64) -> StoreResult<()> {
        let counters = self.store.login_counters();
        for key in keys(a) {
            let id = self.id(&key);
            let mut counted = false;
            for _ in 0..MAX_SWAPS {
                let old = counters.get(&id).await?;
                let new = key.after_failure(old.unwrap_or_default(), now);
                if counters.swap(&id, old, new, expires_at(&new)).await? {
                    if old.is_none() {
                        // The table grows only here: drop what no longer matters.
                        counters.purge(now).await?;
                    }
                    counted = true;
                    break;
                }
            }
            if !counted {
                tracing::warn!(
                    "a failed console login was not counted: its counter kept changing under it"
                );
            }
        }
        Ok(())
    }

    /// A successful login clears this attempt's counters (its pair, or its device), and the
    /// username's backoff; the address counter stays (a sprayer who knows one password is still
    /// one sprayer).
    pub async fn succeed(&self, a: &Attempt<'_>) -> StoreResult<()> {
        let mut ids: Vec<String> = keys(a)
            .iter()
            .filter(|k| !matches!(k, Key::Address(_)))
            .map(|k| self.id(k))
            .collect();
        let user = self.id(&Key::User(a.username.to_lowercase()));
        if !ids.contains(&user) {
            ids.push(user);
        }
        self.store.login_counters().delete(&ids).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh SQLite database (the counters live there).
    async fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        (dir, Store::connect(&url).await.unwrap())
    }

    fn at<'a>(ip: &str, user: &'a str, device: Option<&'a str>) -> Attempt<'a> {
        Attempt {
            ip: ip.parse().unwrap(),
            username: user,
            device,
        }
    }

    #[tokio::test]
    async fn pair_locks_strictly_and_expires() {
        let (_dir, store) = store().await;
        let t = LoginThrottle::new(&store, b"server-secret");
        let a = at("10.0.0.1", "ann", None);
        for i in 0..PAIR_LIMIT as i64 {
            assert_eq!(t.check(&a, 100 + i).await.unwrap(), None);
            t.fail(&a, 100 + i).await.unwrap();
        }
        let wait = t.check(&a, 105).await.unwrap().expect("locked");
        assert!(wait > 0 && wait as i64 <= PAIR_LOCK_S);
        // Another address for the same user is not locked by the pair.
        assert_eq!(
            t.check(&at("10.0.0.2", "ann", None), 105).await.unwrap(),
            None
        );
        assert_eq!(t.check(&a, 105 + PAIR_LOCK_S).await.unwrap(), None);
    }

    #[tokio::test]
    async fn an_attacker_elsewhere_never_locks_out_the_users_own_browser() {
        let (_dir, store) = store().await;
        let t = LoginThrottle::new(&store, b"server-secret");
        // A thousand guesses for "ann" from many addresses over a day.
        for i in 0..1000i64 {
            let ip = format!("192.0.2.{}", i % 200);
            let a = at(&ip, "ann", None);
            let now = i * 90;
            if t.check(&a, now).await.unwrap().is_none() {
                t.fail(&a, now).await.unwrap();
            }
        }
        // The username backoff is bounded...
        let stranger = at("198.51.100.9", "ann", None);
        let wait = t.check(&stranger, 1000 * 90).await.unwrap().unwrap_or(0);
        assert!(wait as i64 <= USER_MAX_DELAY_S, "{wait}");
        // ...and ann's browser, holding its device cookie, is not held back at all.
        assert_eq!(
            t.check(&at("203.0.113.5", "ann", Some("dev1")), 1000 * 90)
                .await
                .unwrap(),
            None
        );
    }

    #[tokio::test]
    async fn address_spraying_many_usernames_is_locked() {
        let (_dir, store) = store().await;
        let t = LoginThrottle::new(&store, b"server-secret");
        for i in 0..ADDRESS_LIMIT {
            let name = format!("user{i}");
            t.fail(&at("10.9.9.9", &name, None), 50).await.unwrap();
        }
        assert!(
            t.check(&at("10.9.9.9", "someone-else", None), 51)
                .await
                .unwrap()
                .is_some()
        );
        assert_eq!(
            t.check(&at("10.9.9.8", "someone-else", None), 51)
                .await
                .unwrap(),
            None
        );
    }

    #[tokio::test]
    async fn success_clears_the_pair_and_the_user_backoff() {
        let (_dir, store) = store().await;
        let t = LoginThrottle::new(&store, b"server-secret");
        let a = at("10.0.0.1", "bob", None);
        for _ in 0..USER_FREE + 2 {
            t.fail(&at("192.0.2.1", "bob", None), 10).await.unwrap();
        }
        t.fail(&a, 10).await.unwrap();
        t.succeed(&a).await.unwrap();
        assert_eq!(
            t.check(&at("10.0.0.3", "bob", None), 11).await.unwrap(),
            None
        );
    }

    #[tokio::test]
    async fn counters_name_no_address_or_user_and_expire() {
        let (_dir, store) = store().await;
        let t = LoginThrottle::new(&store, b"server-secret");
        t.fail(&at("10.1.2.3", "carol", None), 1000).await.unwrap();
        let ids = [
            Key::Pair("10.1.2.3".parse().unwrap(), "carol".into()),
            Key::Address("10.1.2.3".parse().unwrap()),
            Key::User("carol".into()),
        ]
        .map(|k| t.id(&k));
        for id in &ids {
            assert!(!id.contains("carol") && !id.contains("10.1.2.3"), "{id}");
            let c = store
                .login_counters()
                .get(id)
                .await
                .unwrap()
                .expect("counted");
            assert_eq!((c.failures, c.last_failure), (1, 1000));
        }
        // Another server secret names other rows: nothing is counted for it.
        let other = LoginThrottle::new(&store, b"another-secret");
        assert_ne!(other.id(&Key::User("carol".into())), ids[2]);
        // Once its window is over, a counter is deleted by the next new counter's purge.
        t.fail(&at("10.9.9.9", "dave", None), 1000 + WINDOW_S)
            .await
            .unwrap();
        for id in &ids {
            assert_eq!(store.login_counters().get(id).await.unwrap(), None);
        }
    }
}
