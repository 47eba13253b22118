//! In-memory throttles: failed-authentication lockouts, and per-key rate limits in fixed one-minute
//! windows. Both answer with the seconds to wait, which the API sends as `Retry-After` (Faxbot
//! computes it but strips it).
//!
//! Failures are counted per [`FailScope`], never per address alone for everything: a client that
//! guesses keys locks out its own guesses, not the other keys used from the same address (a NAT,
//! a reverse proxy) and never the signed agent protocol.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// What a failed authentication counts against, and so what a lockout holds back.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FailScope {
    /// A known key id presented with a wrong secret from one address: while locked, that key id is
    /// refused from that address (unchecked), and stays usable from everywhere else.
    Key { key_id: String, ip: IpAddr },
    /// Every other credential from one address: unknown key ids, malformed tokens, the bootstrap
    /// `API_KEY`, document link tokens, the Asterisk hook secret. While locked, those are refused
    /// from that address unchecked; keys known to the database are judged by their own scope.
    Address(IpAddr),
    /// Bad agent signatures from one address. API key failures never touch this scope.
    Agent(IpAddr),
}

#[derive(Debug, Default)]
struct FailEntry {
    window_start: i64,
    failures: u32,
    locked_until: i64,
}

/// Entries kept before expired ones are dropped (bounds memory under a flood of addresses).
const MAX_ENTRIES: usize = 100_000;

/// After `limit` failures within a minute in one [`FailScope`], that scope is locked for
/// `lockout_s` seconds.
#[derive(Debug)]
pub struct AuthThrottle {
    limit: u32,
    lockout_s: i64,
    entries: Mutex<HashMap<FailScope, FailEntry>>,
}

impl AuthThrottle {
    pub fn new(limit: u32, lockout_s: u64) -> Self {
        Self {
            limit: limit.max(1),
            lockout_s: lockout_s.max(1) as i64,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// `Some(seconds)` while `scope` is locked out.
    pub fn locked(&self, scope: &FailScope, now_s: i64) -> Option<u64> {
        let map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        map.get(scope)
            .filter(|e| e.locked_until > now_s)
            .map(|e| (e.locked_until - now_s) as u64)
    }

    /// Records a failure; returns `Some(seconds)` when this failure starts a lockout.
    pub fn fail(&self, scope: FailScope, now_s: i64) -> Option<u64> {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_ENTRIES {
            map.retain(|_, e| e.locked_until > now_s || now_s - e.window_start < 60);
            if map.len() >= MAX_ENTRIES {
                // Still full of live entries: an attack from very many addresses. Keep the
                // lockouts, forget the partial counts.
                map.retain(|_, e| e.locked_until > now_s);
            }
        }
        let e = map.entry(scope).or_default();
        if now_s - e.window_start >= 60 {
            e.window_start = now_s;
            e.failures = 0;
        }
        e.failures += 1;
        if e.failures >= self.limit {
            e.locked_until = now_s + self.lockout_s;
            e.failures = 0;
            return Some(self.lockout_s as u64);
        }
        None
    }
}

/// Fixed-window (per wall-clock minute) request counter keyed by `key_id|route`.
#[derive(Debug, Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<String, (i64, u32)>>,
}

impl RateLimiter {
    /// Counts one request; `Err(retry_after_seconds)` when `limit` (per minute) is exceeded.
    /// A limit of 0 means unlimited.
    pub fn check(&self, key: &str, route: &str, limit: u32, now_s: i64) -> Result<(), u64> {
        if limit == 0 {
            return Ok(());
        }
        let window = now_s.div_euclid(60);
        let mut map = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, (w, _)| *w == window);
        }
        let bucket = map.entry(format!("{key}|{route}")).or_insert((window, 0));
        if bucket.0 != window {
            *bucket = (window, 0);
        }
        if bucket.1 >= limit {
            return Err((60 - now_s.rem_euclid(60)) as u64);
        }
        bucket.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockout_after_limit_and_expiry() {
        let t = AuthThrottle::new(3, 300);
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let a = FailScope::Address(ip);
        assert_eq!(t.fail(a.clone(), 1000), None);
        assert_eq!(t.fail(a.clone(), 1001), None);
        assert_eq!(t.fail(a.clone(), 1002), Some(300));
        assert_eq!(t.locked(&a, 1003), Some(299));
        assert_eq!(t.locked(&a, 1302), None);
        let other: IpAddr = "127.0.0.2".parse().unwrap();
        assert_eq!(t.locked(&FailScope::Address(other), 1003), None);
    }

    #[test]
    fn scopes_do_not_lock_each_other() {
        let t = AuthThrottle::new(2, 300);
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let key = |id: &str, ip: IpAddr| FailScope::Key {
            key_id: id.into(),
            ip,
        };
        t.fail(FailScope::Address(ip), 10);
        assert_eq!(t.fail(FailScope::Address(ip), 11), Some(300));
        assert_eq!(t.locked(&key("k1", ip), 12), None);
        assert_eq!(t.locked(&FailScope::Agent(ip), 12), None);
        t.fail(key("k1", ip), 12);
        assert!(t.fail(key("k1", ip), 12).is_some());
        assert!(t.locked(&key("k1", ip), 13).is_some());
        assert_eq!(t.locked(&key("k2", ip), 13), None);
        assert_eq!(t.locked(&key("k1", "10.0.0.2".parse().unwrap()), 13), None);
    }

    #[test]
    fn rate_limit_window_and_retry_after() {
        let r = RateLimiter::default();
        assert!(r.check("k", "/fax", 2, 120).is_ok());
        assert!(r.check("k", "/fax", 2, 130).is_ok());
        assert_eq!(r.check("k", "/fax", 2, 135), Err(45));
        assert!(r.check("k", "/fax/{id}", 2, 135).is_ok());
        assert!(r.check("k", "/fax", 2, 180).is_ok());
        assert!(r.check("k", "/fax", 0, 180).is_ok());
    }
}
