//! The agent's Prometheus metrics: the process's recorder, the optional `[agent] metrics_listen` endpoint, and
//! the names of the series the engine and the lines record (one place, so the dashboard and alert rules in
//! `ops/` have one list to follow).
//!
//! Labels are fixed words only (a failure class, a fax mode, a line kind): never a number, a file name or a
//! secret. `faxline serve` hands this recorder to the API, which shows both on its `/metrics`.

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::engine::outcome::{CallOutcome, FailureClass};

/// Histogram buckets in seconds (render time: a page takes tens of milliseconds, a large document seconds).
const BUCKETS: [f64; 12] = [
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// The fax bit rates (V.27ter, V.29, V.17; V.34 for a line that reports it): the buckets of the negotiated rate.
const BITRATES: [f64; 7] = [2400.0, 4800.0, 7200.0, 9600.0, 12000.0, 14400.0, 33600.0];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's Prometheus recorder, installed on first use (a program that installed another recorder keeps
/// it; ours then stays empty, and a warning says so).
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets(&BUCKETS)
            .and_then(|b| {
                b.set_buckets_for_metric(
                    Matcher::Full("faxline_agent_bitrate_bps".into()),
                    &BITRATES,
                )
            })
            .expect("the bucket lists are not empty")
            .build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder is installed; the agent's metrics go there");
        }
        handle
    })
}

/// The text exposition, after the upkeep the exporter needs.
pub fn render() -> String {
    let h = handle();
    h.run_upkeep();
    h.render()
}

/// The longest request head the endpoint reads; Prometheus sends a few hundred bytes.
const MAX_HEAD: usize = 8 * 1024;

/// Serves `GET /metrics` on `listener` until the task is dropped: a minimal HTTP/1.1 responder (one request per
/// connection, the head bounded in size and time), so an agent-only build needs no HTTP server crate. The
/// address is the operator's `[agent] metrics_listen` (loopback unless configured otherwise).
pub async fn serve(listener: TcpListener) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        tokio::spawn(async move {
            let _ = tokio::time::timeout(Duration::from_secs(10), answer(stream)).await;
        });
    }
}

async fn answer(mut stream: TcpStream) -> std::io::Result<()> {
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
        if head.len() > MAX_HEAD {
            return respond(&mut stream, "431 Request Header Fields Too Large", "").await;
        }
    }
    let line = head.split(|b| *b == b'\r').next().unwrap_or_default();
    let mut parts = line.split(|b| *b == b' ');
    let (method, target) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let path = target.split(|b| *b == b'?').next().unwrap_or_default();
    match (method, path) {
        (b"GET", b"/metrics") => respond(&mut stream, "200 OK", &render()).await,
        (b"GET", _) => respond(&mut stream, "404 Not Found", "not found\n").await,
        _ => respond(&mut stream, "405 Method Not Allowed", "").await,
    }
}

async fn respond(stream: &mut TcpStream, status: &str, body: &str) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\ncontent-type: text/plain; version=0.0.4; charset=utf-8\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await
}

/// Binds `[agent] metrics_listen` and serves it in the background.
pub async fn spawn_listener(addr: SocketAddr) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    handle();
    tokio::spawn(serve(listener));
    Ok(bound)
}

/// A failure class as a label value (snake case, as in the journal).
pub fn class_label(class: FailureClass) -> &'static str {
    match class {
        FailureClass::Busy => "busy",
        FailureClass::NoAnswer => "no_answer",
        FailureClass::Congestion => "congestion",
        FailureClass::ChannelUnavailable => "channel_unavailable",
        FailureClass::Negotiation => "negotiation",
        FailureClass::TransferFailed => "transfer_failed",
        FailureClass::InvalidNumber => "invalid_number",
        FailureClass::Declined => "declined",
        FailureClass::Incompatible => "incompatible",
        FailureClass::FileUnreadable => "file_unreadable",
        FailureClass::Rejected => "rejected",
        FailureClass::NoResult => "no_result",
        FailureClass::Unknown => "unknown",
        FailureClass::Timeout => "timeout",
        FailureClass::Document => "document",
        FailureClass::Shutdown => "shutdown",
    }
}

/// Records one call attempt's end: `faxline_agent_calls_total{result,class}`, pages sent, and the fax mode
/// (`t38` or `audio`) of a delivered fax.
pub fn call_ended(line: &'static str, outcome: &CallOutcome) {
    match outcome {
        CallOutcome::Success(d) => {
            metrics::counter!("faxline_agent_calls_total", "line" => line, "result" => "success", "class" => "none")
                .increment(1);
            metrics::counter!("faxline_agent_pages_sent_total", "line" => line)
                .increment(u64::from(d.pages.unwrap_or(0)));
            metrics::counter!("faxline_agent_faxes_sent_by_mode_total", "line" => line, "mode" => mode_label(d.mode.as_deref()))
                .increment(1);
            if let Some(bps) = d.bitrate {
                metrics::histogram!("faxline_agent_bitrate_bps", "line" => line)
                    .record(f64::from(bps));
            }
        }
        CallOutcome::Failed { class, pages, .. } => {
            metrics::counter!("faxline_agent_calls_total", "line" => line, "result" => "failed", "class" => class_label(*class))
                .increment(1);
            metrics::counter!("faxline_agent_pages_sent_total", "line" => line)
                .increment(u64::from(pages.unwrap_or(0)));
        }
    }
}

/// `faxline_agent_calls_active`: one call in progress for as long as this lives (dropped also when the call's
/// future is cancelled).
pub struct ActiveCall(&'static str);

impl ActiveCall {
    pub fn start(line: &'static str) -> Self {
        metrics::gauge!("faxline_agent_calls_active", "line" => line).increment(1.0);
        Self(line)
    }
}

impl Drop for ActiveCall {
    fn drop(&mut self) {
        metrics::gauge!("faxline_agent_calls_active", "line" => self.0).decrement(1.0);
    }
}

/// Records the line's health as `faxline_agent_line_healthy` (1 or 0).
pub fn line_health(line: &'static str, healthy: bool) {
    metrics::gauge!("faxline_agent_line_healthy", "line" => line).set(if healthy {
        1.0
    } else {
        0.0
    });
}

/// Records what the media of one fax session of the agent's own SIP stack did (`direction`: `outbound` or
/// `inbound`).
pub fn media_ended(
    line: &'static str,
    direction: &'static str,
    report: &faxline_sip::fax_leg::LegReport,
) {
    let Some(fax) = report.report() else {
        return;
    };
    fax_session(
        line,
        direction,
        mode_label(report.mode()),
        fax,
        report.stats().as_ref(),
    );
}

/// Records one fax session's media (any line that runs spandsp itself): whether ECM was used, rows the
/// receiver found bad, ECM frames resent (sender) or asked for again (receiver), datagrams that did not
/// decode, IFPs lost for good (UDPTL; for audio, 20 ms frames played as gaps) by mode, and IFPs UDPTL error
/// correction rebuilt. `mode`: `t38`, `audio` or `unknown`.
pub fn fax_session(
    line: &'static str,
    direction: &'static str,
    mode: &'static str,
    fax: &faxline_t38::session::FaxReport,
    stats: Option<&faxline_sip::media::MediaStats>,
) {
    metrics::counter!("faxline_agent_fax_sessions_total", "line" => line, "direction" => direction, "mode" => mode, "ecm" => if fax.ecm { "on" } else { "off" })
        .increment(1);
    metrics::counter!("faxline_agent_fax_bad_rows_total", "line" => line, "direction" => direction)
        .increment(u64::from(fax.bad_rows));
    metrics::counter!("faxline_agent_ecm_retransmissions_total", "line" => line, "direction" => direction)
        .increment(u64::from(fax.ecm_retries));
    if let Some(stats) = stats {
        metrics::counter!("faxline_agent_media_lost_total", "line" => line, "mode" => mode)
            .increment(stats.lost);
        metrics::counter!("faxline_agent_media_malformed_total", "line" => line, "mode" => mode)
            .increment(stats.malformed);
        if mode == "t38" {
            metrics::counter!("faxline_agent_media_recovered_total", "line" => line)
                .increment(stats.recovered);
        }
    }
}

/// How punctually the media threads step the fax sessions since the line started (the tick pool's figures):
/// the lateness of a 20 ms step behind its due time (p50, p99, worst), steps taken and steps skipped by a
/// session that fell too far behind. A p99 near 20 ms, or skipped steps, means the machine cannot keep up
/// with the calls it carries.
pub fn media_timing(line: &'static str, stats: &faxline_sip::media::TickStats) {
    for (quantile, value) in [
        ("0.5", stats.lateness_p50),
        ("0.99", stats.lateness_p99),
        ("1", stats.lateness_max),
    ] {
        metrics::gauge!("faxline_agent_media_step_lateness_seconds", "line" => line, "quantile" => quantile)
            .set(value.as_secs_f64());
    }
    metrics::counter!("faxline_agent_media_steps_total", "line" => line).absolute(stats.steps);
    metrics::counter!("faxline_agent_media_steps_skipped_total", "line" => line)
        .absolute(stats.skipped);
}

/// The fax mode a line reports, folded to a fixed set.
pub fn mode_label(mode: Option<&str>) -> &'static str {
    match mode.map(str::to_ascii_lowercase).as_deref() {
        Some(m) if m.contains("t38") || m.contains("t.38") => "t38",
        Some(m) if m.contains("audio") || m.contains("g711") || m.contains("g.711") => "audio",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_fold_to_fixed_labels() {
        assert_eq!(mode_label(Some("T38")), "t38");
        assert_eq!(mode_label(Some("T.38")), "t38");
        assert_eq!(mode_label(Some("audio")), "audio");
        assert_eq!(mode_label(Some("+15551234567")), "unknown");
        assert_eq!(mode_label(None), "unknown");
    }
}
