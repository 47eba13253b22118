//! In-memory throttles: failed-authentication lockout per client address, and per-key rate
//! limits in fixed one-minute windows. Both answer with the seconds to wait, which the API sends
//! as `Retry-After` (Faxbot computes it but strips it).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

#[derive(Debug, Default)]
struct FailEntry {
    window_start: i64,
    failures: u32,
    locked_until: i64,
}

/// Counts failed authentications per client address; after `limit` failures within a minute the
/// address is locked out for `lockout_s` seconds.
#[derive(Debug)]
pub struct AuthThrottle {
    limit: u32,
    lockout_s: i64,
    entries: Mutex<HashMap<IpAddr, FailEntry>>,
}

impl AuthThrottle {
    pub fn new(limit: u32, lockout_s: u64) -> Self {
        Self {
            limit: limit.max(1),
            lockout_s: lockout_s.max(1) as i64,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// `Some(seconds)` while `ip` is locked out.
    pub fn locked(&self, ip: IpAddr, now_s: i64) -> Option<u64> {
        let map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&ip)
            .filter(|e| e.locked_until > now_s)
            .map(|e| (e.locked_until - now_s) as u64)
    }

    /// Records a failure; returns `Some(seconds)` when this failure starts a lockout.
    pub fn fail(&self, ip: IpAddr, now_s: i64) -> Option<u64> {
        let mut map = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, e| e.locked_until > now_s || now_s - e.window_start < 60);
        }
        let e = map.entry(ip).or_default();
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
        assert_eq!(t.fail(ip, 1000), None);
        assert_eq!(t.fail(ip, 1001), None);
        assert_eq!(t.fail(ip, 1002), Some(300));
        assert_eq!(t.locked(ip, 1003), Some(299));
        assert_eq!(t.locked(ip, 1302), None);
        let other: IpAddr = "127.0.0.2".parse().unwrap();
        assert_eq!(t.locked(other, 1003), None);
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
