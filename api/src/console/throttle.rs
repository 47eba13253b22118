//! Login throttling for the console, designed so that nobody can lock a user out from elsewhere for
//! good. A pure state machine: every call takes the time (seconds), no clock is read.
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

use std::collections::HashMap;
use std::net::IpAddr;

pub const WINDOW_S: i64 = 15 * 60;
pub const PAIR_LIMIT: u32 = 5;
pub const PAIR_LOCK_S: i64 = 15 * 60;
pub const ADDRESS_LIMIT: u32 = 30;
pub const ADDRESS_LOCK_S: i64 = 15 * 60;
pub const USER_FREE: u32 = 10;
pub const USER_MAX_DELAY_S: i64 = 5 * 60;
/// Entries kept before stale ones are dropped (bounds memory under a flood).
const MAX_ENTRIES: usize = 100_000;

/// Who is trying: the address, the username typed, and the device id when the browser presented a
/// valid device cookie for that username.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt<'a> {
    pub ip: IpAddr,
    pub username: &'a str,
    pub device: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Pair(IpAddr, String),
    Device(String, String),
    Address(IpAddr),
    User(String),
}

#[derive(Debug, Default, Clone)]
struct Entry {
    window_start: i64,
    failures: u32,
    locked_until: i64,
    last_failure: i64,
}

#[derive(Debug, Default)]
pub struct LoginThrottle {
    entries: HashMap<Key, Entry>,
}

impl LoginThrottle {
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

    /// `Some(seconds)` when this attempt must wait (checked before the password is).
    pub fn check(&self, a: &Attempt<'_>, now: i64) -> Option<u64> {
        Self::keys(a)
            .iter()
            .filter_map(|k| self.entries.get(k))
            .map(|e| e.locked_until - now)
            .filter(|&w| w > 0)
            .max()
            .map(|w| w as u64)
    }

    /// Records a failed attempt.
    pub fn fail(&mut self, a: &Attempt<'_>, now: i64) {
        if self.entries.len() >= MAX_ENTRIES {
            self.entries
                .retain(|_, e| e.locked_until > now || now - e.window_start < WINDOW_S);
            if self.entries.len() >= MAX_ENTRIES {
                self.entries.retain(|_, e| e.locked_until > now);
            }
        }
        for key in Self::keys(a) {
            let e = self.entries.entry(key.clone()).or_default();
            if now - e.window_start >= WINDOW_S {
                e.window_start = now;
                e.failures = 0;
            }
            e.failures += 1;
            e.last_failure = now;
            match key {
                Key::Pair(..) | Key::Device(..) if e.failures >= PAIR_LIMIT => {
                    e.locked_until = now + PAIR_LOCK_S;
                    e.failures = 0;
                    e.window_start = now;
                }
                Key::Address(_) if e.failures >= ADDRESS_LIMIT => {
                    e.locked_until = now + ADDRESS_LOCK_S;
                    e.failures = 0;
                    e.window_start = now;
                }
                Key::User(_) if e.failures > USER_FREE => {
                    let exp = (e.failures - USER_FREE).min(16);
                    let delay = (1i64 << exp).min(USER_MAX_DELAY_S);
                    e.locked_until = now + delay;
                }
                _ => {}
            }
        }
    }

    /// A successful login clears this attempt's counters (its pair, or its device), and the
    /// username's backoff.
    pub fn succeed(&mut self, a: &Attempt<'_>) {
        for key in Self::keys(a) {
            if !matches!(key, Key::Address(_)) {
                self.entries.remove(&key);
            }
        }
        self.entries.remove(&Key::User(a.username.to_lowercase()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at<'a>(ip: &str, user: &'a str, device: Option<&'a str>) -> Attempt<'a> {
        Attempt {
            ip: ip.parse().unwrap(),
            username: user,
            device,
        }
    }

    #[test]
    fn pair_locks_strictly_and_expires() {
        let mut t = LoginThrottle::default();
        let a = at("10.0.0.1", "ann", None);
        for i in 0..PAIR_LIMIT as i64 {
            assert_eq!(t.check(&a, 100 + i), None);
            t.fail(&a, 100 + i);
        }
        let wait = t.check(&a, 105).expect("locked");
        assert!(wait > 0 && wait as i64 <= PAIR_LOCK_S);
        // Another address for the same user is not locked by the pair.
        assert_eq!(t.check(&at("10.0.0.2", "ann", None), 105), None);
        assert_eq!(t.check(&a, 105 + PAIR_LOCK_S), None);
    }

    #[test]
    fn an_attacker_elsewhere_never_locks_out_the_users_own_browser() {
        let mut t = LoginThrottle::default();
        // A thousand guesses for "ann" from many addresses over a day.
        for i in 0..1000i64 {
            let ip = format!("192.0.2.{}", i % 200);
            let a = at(&ip, "ann", None);
            let now = i * 90;
            if t.check(&a, now).is_none() {
                t.fail(&a, now);
            }
        }
        // The username backoff is bounded...
        let stranger = at("198.51.100.9", "ann", None);
        let wait = t.check(&stranger, 1000 * 90).unwrap_or(0);
        assert!(wait as i64 <= USER_MAX_DELAY_S, "{wait}");
        // ...and ann's browser, holding its device cookie, is not held back at all.
        assert_eq!(
            t.check(&at("203.0.113.5", "ann", Some("dev1")), 1000 * 90),
            None
        );
    }

    #[test]
    fn address_spraying_many_usernames_is_locked() {
        let mut t = LoginThrottle::default();
        for i in 0..ADDRESS_LIMIT {
            let name = format!("user{i}");
            t.fail(&at("10.9.9.9", &name, None), 50);
        }
        assert!(t.check(&at("10.9.9.9", "someone-else", None), 51).is_some());
        assert_eq!(t.check(&at("10.9.9.8", "someone-else", None), 51), None);
    }

    #[test]
    fn success_clears_the_pair_and_the_user_backoff() {
        let mut t = LoginThrottle::default();
        let a = at("10.0.0.1", "bob", None);
        for _ in 0..USER_FREE + 2 {
            t.fail(&at("192.0.2.1", "bob", None), 10);
        }
        t.fail(&a, 10);
        t.succeed(&a);
        assert_eq!(t.check(&at("10.0.0.3", "bob", None), 11), None);
    }
}
