//! Accepting connections: a per-address connection cap and a header-read timeout, so that slow or
//! half-open connections from one client cannot use up the server's file descriptors (what
//! `axum::serve` alone allows). Each connection is HTTP/1.1 served by hyper; the header-read timeout
//! also bounds how long an idle keep-alive connection is held, since hyper starts it whenever it
//! waits for the next request's headers.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceExt;

/// How connections are admitted and bounded.
#[derive(Debug, Clone)]
pub struct ConnLimits {
    /// Complete request headers must arrive within this time (and an idle connection is closed
    /// after it).
    pub header_read_timeout: Duration,
    /// Open connections per client address; 0 = unlimited.
    pub per_address: u32,
    /// Open connections in all; 0 = three quarters of the open-file limit ([`default_total`]).
    pub total: u32,
    /// Addresses the cap does not apply to (trusted reverse proxies carry many clients).
    pub exempt: Vec<ipnet::IpNet>,
}

/// Open connections per address. Sans-IO: [`ConnCounter::try_open`] hands out a guard that gives
/// the slot back when dropped.
#[derive(Debug)]
pub struct ConnCounter {
    max: u32,
    open: Mutex<HashMap<IpAddr, u32>>,
}

/// One admitted connection; dropping it frees the slot.
#[derive(Debug)]
pub struct ConnGuard {
    counter: Arc<ConnCounter>,
    ip: IpAddr,
}

impl ConnCounter {
    pub fn new(max: u32) -> Arc<Self> {
        Arc::new(Self {
            max,
            open: Mutex::new(HashMap::new()),
        })
    }

    /// A slot for `ip`, or `None` when it already holds `max` connections.
    pub fn try_open(self: &Arc<Self>, ip: IpAddr) -> Option<ConnGuard> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry(ip).or_insert(0);
        if self.max != 0 && *n >= self.max {
            return None;
        }
        *n += 1;
        Some(ConnGuard {
            counter: Arc::clone(self),
            ip,
        })
    }

    /// Connections open from `ip`.
    pub fn open_from(&self, ip: IpAddr) -> u32 {
        let open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.get(&ip).copied().unwrap_or(0)
    }
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        let mut open = self.counter.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// Three quarters of the soft open-file limit (from `/proc/self/limits`; 4096 when it cannot be read),
/// leaving descriptors for the database, spool files and outgoing connections.
pub fn default_total() -> u32 {
    let limit = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .unwrap_or(4096 * 4 / 3);
    u32::try_from(limit / 4 * 3).unwrap_or(u32::MAX).max(16)
}

/// What a refused connection is told, so that its client reports "too many connections" and may
/// retry later rather than "connection closed before message completed".
const REFUSAL: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
Content-Type: application/json\r\n\
Retry-After: 1\r\n\
Connection: close\r\n\
Content-Length: 40\r\n\r\n\
{\"detail\":\"too many connections, retry\"}";

/// Answers 503 on a connection over a limit and closes it, without a task or waiting: whatever of
/// the request has already arrived is read first (closing a socket with unread data resets it,
/// and the client would lose the answer), then the answer is written into the empty send buffer.
fn refuse(stream: tokio::net::TcpStream) {
    let mut scratch = [0u8; 4096];
    for _ in 0..16 {
        match stream.try_read(&mut scratch) {
            Ok(n) if n > 0 => continue,
            _ => break,
        }
    }
    let _ = stream.try_write(REFUSAL);
}

/// Serves `router` on `listener` until `shutdown` completes, then lets open requests finish.
/// Handlers see the peer address as `ConnectInfo<SocketAddr>`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let counter = ConnCounter::new(limits.per_address);
    let total = if limits.total == 0 {
        default_total()
    } else {
        limits.total
    };
    // One slot per open connection, whatever its address.
    let all = ConnCounter::new(total);
    let any = IpAddr::from([0u8, 0, 0, 0]);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors or a connection reset before accept: keep serving the
                    // open connections and try again shortly rather than spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let ip = peer.ip();
        let Some(slot) = all.try_open(any) else {
            crate::audit!("connection_refused", ip = %ip, reason = "connection limit");
            refuse(stream);
            continue;
        };
        let guard = if limits.exempt.iter().any(|n| n.contains(&ip)) {
            None
        } else {
            match counter.try_open(ip) {
                Some(g) => Some(g),
                None => {
                    crate::audit!("connection_refused", ip = %ip, reason = "per-address limit");
                    refuse(stream);
                    continue;
                }
            }
        };
        let _ = stream.set_nodelay(true);
        let svc = router.clone().map_request(
            move |mut req: axum::extract::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
                req
            },
        );
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout)
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(svc));
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _slots = (slot, guard);
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_per_address_come_back_when_dropped() {
        let c = ConnCounter::new(2);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let g1 = c.try_open(a).unwrap();
        let _g2 = c.try_open(a).unwrap();
        assert!(c.try_open(a).is_none());
        assert!(c.try_open(b).is_some());
        drop(g1);
        assert_eq!(c.open_from(a), 1);
        assert!(c.try_open(a).is_some());
        assert_eq!(ConnCounter::new(0).try_open(a).map(|_| ()), Some(()));
    }
}
