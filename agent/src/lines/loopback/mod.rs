//! The loopback line (`faxline serve`, the single-box default): the call goes over real SIP and UDPTL on
//! 127.0.0.1 to Faxline's own answering endpoint (faxline-sip). The answering side's copy is queued as an
//! inbound fax, so the single box shows both directions.

use std::path::PathBuf;
use std::time::Duration;

use faxline_sip::loopback::{LoopbackError, LoopbackOptions, LoopbackStage, send_fax};
use faxline_t38::session::FaxOptions;

use crate::config::Config;
use crate::engine::api::timefmt;
use crate::engine::inbound::{InboundItem, InboundQueue};
use crate::engine::line::{CallRequest, DocumentForm, Line};
use crate::engine::outcome::{CallOutcome, Delivery, FailureClass};
use crate::engine::redact::mask_number;
use crate::lines::t30;

/// The loopback line.
pub struct LoopbackLine {
    /// Time compression (1 = real time).
    speed: u32,
    received_dir: PathBuf,
    deadline: Duration,
    /// The sending side's T.30 options (`[fax]`).
    fax: FaxOptions,
    inbound: Option<InboundQueue>,
}

impl LoopbackLine {
    /// `inbound`: where the answering side's copy goes (`None`: it is discarded).
    pub fn new(
        speed: u32,
        received_dir: PathBuf,
        deadline: Duration,
        fax: FaxOptions,
        inbound: Option<InboundQueue>,
    ) -> Self {
        Self {
            speed: speed.max(1),
            received_dir,
            deadline,
            fax,
            inbound,
        }
    }
}

impl LoopbackLine {
    /// The line `[line] kind = "loopback"` runs: `[line] speed`, `[fax]`, `[limits] max_call_seconds` (at least
    /// a minute), received copies into the spool's `in/`.
    pub fn from_config(cfg: &Config, inbound: Option<InboundQueue>) -> Self {
        Self::new(
            cfg.line.speed,
            cfg.spool.incoming_dir(),
            Duration::from_secs(u64::from(cfg.limits.max_call_seconds).max(60)),
            t30::fax_options(cfg),
            inbound,
        )
    }
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
        let digits: String = req.to.chars().filter(char::is_ascii_digit).collect();
        if digits.is_empty() {
            return CallOutcome::failed(FailureClass::Rejected, "the number has no digits");
        }
        let Some(tiff) = req.document.fax_tiff() else {
            return CallOutcome::failed(
                FailureClass::Document,
                "the loopback line sends fax TIFF only",
            );
        };
        let dir = self.received_dir.join(&req.token);
        if let Err(e) = tokio::fs::create_dir_all(&dir).await {
            return CallOutcome::failed(
                FailureClass::ChannelUnavailable,
                format!("cannot create {}: {e}", dir.display()),
            );
        }
        let mut options = LoopbackOptions::new(dir.clone());
        options.speed = self.speed;
        options.timeout = self.deadline;
        let tx_ident = std::mem::take(&mut options.sender.local_ident);
        options.sender = self.fax.clone();
        if options.sender.local_ident.is_empty() {
            options.sender.local_ident = tx_ident;
        }
        if let Some(ecm) = req.ecm {
            options.sender.ecm = ecm;
        }
        tracing::info!(job = %req.job_id, token = %req.token, to = %mask_number(&req.to), speed = self.speed, "loopback call");
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
            return CallOutcome::failed(
                FailureClass::Shutdown,
                "the agent shut down during the call; it was hung up before the fax completed",
            );
        };
        let outcome = match result {
            Ok(report) => {
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
                    },
                }
            }
            Err(LoopbackError::Incomplete(why)) => CallOutcome::failed(
                FailureClass::Timeout,
                format!("the loopback call did not complete: {why}"),
            ),
            Err(e) => CallOutcome::failed(FailureClass::ChannelUnavailable, e.to_string()),
        };
        if self.inbound.is_none() {
            let _ = tokio::fs::remove_dir_all(&dir).await;
        }
        outcome
    }
}
