//! The loopback line (`faxline serve`, the single-box default): the call goes over real SIP and UDPTL on
//! 127.0.0.1 to Faxline's own answering endpoint (faxline-sip). The answering side's copy is queued as an
//! inbound fax, so the single box shows both directions.

use std::time::Duration;

use faxline_sip::loopback::{
    LoopbackError, LoopbackOptions, LoopbackReport, LoopbackStage, send_fax,
};

use crate::config::Config;
use crate::engine::inbound::{InboundItem, InboundQueue};
use crate::engine::line::{CallRequest, DocumentForm, Line};
use crate::engine::outcome::{CallOutcome, Delivery, FailureClass};
use crate::lines::t30;
use faxline_protocol::mask_number;
use faxline_protocol::time as timefmt;

/// The loopback line.
pub struct LoopbackLine {
    /// Every call's options; its `received_dir` is the parent of each call's own directory.
    options: LoopbackOptions,
    inbound: Option<InboundQueue>,
}

impl LoopbackLine {
    /// A line calling with `options` (speed, both ends' T.30 options, loss, media, deadline), each call's
    /// received copy in its own directory under `options.received_dir`. `inbound`: where that copy goes (`None`:
    /// [`Line::place`] discards it).
    pub fn new(mut options: LoopbackOptions, inbound: Option<InboundQueue>) -> Self {
        options.speed = options.speed.max(1);
        Self { options, inbound }
    }

    /// The line `[line] kind = "loopback"` runs: `[line] speed`, `[fax]` for the sender (its station id when
    /// set), `[limits] max_call_seconds` (at least a minute), received copies into the spool's `in/`.
    pub fn from_config(cfg: &Config, inbound: Option<InboundQueue>) -> Self {
        let mut options = LoopbackOptions::new(cfg.spool.incoming_dir());
        options.speed = cfg.line.speed;
        options.timeout = Duration::from_secs(u64::from(cfg.limits.max_call_seconds).max(60));
        let tx_ident = std::mem::take(&mut options.sender.local_ident);
        options.sender = t30::fax_options(cfg);
        if options.sender.local_ident.is_empty() {
            options.sender.local_ident = tx_ident;
        }
        Self::new(options, inbound)
    }

    /// Places the call as [`Line::place`] does and also returns the loopback's own report (both ends' T.30
    /// results, the received copy), which `faxline send` prints. The received copy stays in
    /// `<received_dir>/<token>/` unless the call was hung up at shutdown.
    pub async fn place_reporting(&self, req: CallRequest) -> (CallOutcome, Option<LoopbackReport>) {
        let digits: String = req.to.chars().filter(char::is_ascii_digit).collect();
        if digits.is_empty() {
            return (
                CallOutcome::failed(FailureClass::Rejected, "the number has no digits"),
                None,
            );
        }
        let Some(tiff) = req.document.fax_tiff() else {
            return (
                CallOutcome::failed(
                    FailureClass::Document,
                    "the loopback line sends fax TIFF only",
                ),
                None,
            );
        };
        let dir = self.options.received_dir.join(&req.token);
        if let Err(e) = tokio::fs::create_dir_all(&dir).await {
            return (
                CallOutcome::failed(
                    FailureClass::ChannelUnavailable,
                    format!("cannot create {}: {e}", dir.display()),
                ),
                None,
            );
        }
        let mut options = self.options.clone();
        options.received_dir = dir.clone();
        if let Some(ecm) = req.ecm {
            options.sender.ecm = ecm;
        }
        tracing::info!(job = %req.job_id, token = %req.token, to = %mask_number(&req.to), speed = options.speed, "loopback call");
        let call = send_fax(tiff, &digits, options, {
            let progress = req.progress.clone();
            move |stage| {
                progress.publish(match stage {
                    LoopbackStage::Calling => "calling",
                    LoopbackStage::Answered => "answered",
                    LoopbackStage::Done => "hanging up",
                })
            }
        });
        // At the end of the shutdown grace period the call is dropped: both ends are ours, in this process.
        let result = tokio::select! {
            r = call => Some(r),
            () = req.hangup.cancelled() => None,
        };
        let Some(result) = result else {
            tracing::warn!(job = %req.job_id, token = %req.token, "loopback call hung up at shutdown");
            let _ = tokio::fs::remove_dir_all(&dir).await;
            return (
                CallOutcome::failed(
                    FailureClass::Shutdown,
                    "the agent shut down during the call; it was hung up before the fax completed",
                ),
                None,
            );
        };
        match result {
            Ok(report) => {
                record_media(&report);
                (self.outcome(&req, &report), Some(report))
            }
            Err(LoopbackError::Incomplete(why)) => (
                CallOutcome::failed(
                    FailureClass::Timeout,
                    format!("the loopback call did not complete: {why}"),
                ),
                None,
            ),
            Err(e) => (
                CallOutcome::failed(FailureClass::ChannelUnavailable, e.to_string()),
                None,
            ),
        }
    }

    /// The outcome of a call that ran; a success's received copy is queued as an inbound fax.
    fn outcome(&self, req: &CallRequest, report: &LoopbackReport) -> CallOutcome {
        let tx = &report.sender;
        match &tx.outcome {
            Ok(()) if report.is_success() => {
                if let Some(q) = &self.inbound
                    && report.received_tiff.is_file()
                {
                    let item = InboundItem {
                        id: format!("lb_{}", req.token),
                        file: report.received_tiff.clone(),
                        from: None,
                        to: Some(req.to.clone()),
                        pages: Some(report.receiver.pages),
                        status: "received".into(),
                        received_at: timefmt::iso(timefmt::now_us()),
                    };
                    if let Err(e) = q.enqueue(&item) {
                        tracing::warn!(job = %req.job_id, error = %e, "cannot queue the loopback copy");
                    }
                }
                CallOutcome::Success(Delivery {
                    pages: Some(tx.pages),
                    bitrate: Some(tx.bit_rate),
                    mode: Some("T38".into()),
                    remote_id: tx.remote_ident.clone(),
                    provider_sid: None,
                })
            }
            Ok(()) => CallOutcome::failed(
                FailureClass::TransferFailed,
                "the answering side did not receive the fax",
            ),
            Err(e) => CallOutcome::Failed {
                class: t30::failure_class(e),
                detail: e.to_string(),
                pages: Some(tx.pages).filter(|p| *p > 0),
                // The loopback's own answering end took the call.
                unplaced: false,
            },
        }
    }
}

/// Both ends' sessions into the same series as the SIP line's (`faxline_agent_fax_sessions_total`, ECM
/// retransmissions, UDPTL losses and recoveries): the calling end outbound, the answering end inbound.
fn record_media(report: &LoopbackReport) {
    use crate::metrics::mode_label;
    crate::metrics::fax_session(
        "loopback",
        "outbound",
        mode_label(report.calls.0.mode()),
        &report.sender,
        Some(&report.media.0),
    );
    crate::metrics::fax_session(
        "loopback",
        "inbound",
        mode_label(report.calls.1.mode()),
        &report.receiver,
        Some(&report.media.1),
    );
}

impl Line for LoopbackLine {
    fn kind(&self) -> &'static str {
        "loopback"
    }

    fn document_form(&self) -> DocumentForm {
        DocumentForm::FaxTiff
    }

    fn ready(&self) -> bool {
        true
    }

    async fn place(&self, req: CallRequest) -> CallOutcome {
        let dir = self.options.received_dir.join(&req.token);
        let (outcome, _) = self.place_reporting(req).await;
        if self.inbound.is_none() {
            let _ = tokio::fs::remove_dir_all(&dir).await;
        }
        outcome
    }
}
