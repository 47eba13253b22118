//! What the SIP line's endings mean for a job: a final response before answer is mapped to its Q.850 cause
//! (RFC 3398) and from there to the line-neutral class the Asterisk line gives the same failure; a fax session
//! that ran is judged by its own T.30 result ([`t30`]).

use faxline_sip::call::EndReason;
use faxline_sip::fax_leg::LegReport;

use crate::engine::outcome::{CallOutcome, Delivery, FailureClass};
use crate::lines::q850::meaning;
use crate::lines::t30;

/// The job's outcome from the leg: the fax report decides when a session ran, the SIP ending otherwise.
pub fn outbound_outcome(report: &LegReport) -> CallOutcome {
    if let Some(fax) = report.report() {
        if fax.is_success() {
            return CallOutcome::Success(Delivery {
                pages: Some(fax.pages),
                bitrate: Some(fax.bit_rate),
                mode: report.mode().map(str::to_owned),
                remote_id: fax.remote_ident.clone(),
                provider_sid: None,
            });
        }
        let why = match (&fax.outcome, &report.call.end) {
            (_, EndReason::PeerHangup) => "the far end hung up during the fax".to_owned(),
            (_, EndReason::LocalHangup) => {
                "hung up by the agent (shutdown or call time limit)".to_owned()
            }
            (Err(e), _) => e.to_string(),
            (Ok(()), _) => "the fax did not complete".to_owned(),
        };
        return CallOutcome::Failed {
            class: match (&fax.outcome, &report.call.end) {
                // The far end or we ended the call: the session's code says little beyond that.
                (_, EndReason::PeerHangup | EndReason::LocalHangup) | (Ok(()), _) => {
                    FailureClass::TransferFailed
                }
                (Err(e), _) => t30::failure_class(e),
            },
            detail: why,
            pages: Some(fax.pages).filter(|p| *p > 0),
            // A fax session ran: the call was answered.
            unplaced: false,
        };
    }
    match report.call.end {
        EndReason::Rejected(code) => match code {
            // Our credentials, not the destination: retrying cannot help until the configuration changes.
            401 | 407 => CallOutcome::failed(
                FailureClass::Rejected,
                format!("the trunk refused our credentials (SIP {code})"),
            ),
            // 487: our own CANCEL at the ring timeout.
            408 | 487 => CallOutcome::failed(
                FailureClass::NoAnswer,
                format!("no answer before the ring timeout (SIP {code})"),
            ),
            _ => match cause_of_sip_status(code).and_then(meaning) {
                Some(m) => CallOutcome::failed(m.class, format!("{} (SIP {code})", m.text)),
                None => CallOutcome::failed(
                    FailureClass::ChannelUnavailable,
                    format!("the trunk answered {code}"),
                ),
            },
        },
        EndReason::NoAnswer => {
            CallOutcome::failed(FailureClass::NoAnswer, "no answer before the ring timeout")
        }
        EndReason::T38Refused(code) => CallOutcome::failed(
            FailureClass::Negotiation,
            format!("T.38 refused ({code}) and audio fallback is off"),
        ),
        EndReason::NoMedia => CallOutcome::failed(
            FailureClass::Negotiation,
            "the answer offered no usable media",
        ),
        EndReason::PeerHangup => CallOutcome::failed(
            FailureClass::TransferFailed,
            "the far end hung up before the fax started",
        ),
        EndReason::DialogLost(code) => CallOutcome::failed(
            FailureClass::TransferFailed,
            format!("the dialog was lost ({code})"),
        ),
        EndReason::LocalHangup => CallOutcome::failed(
            FailureClass::ChannelUnavailable,
            "hung up by the agent before the fax started (shutdown)",
        ),
        EndReason::Completed { .. } | EndReason::CallerCancelled | EndReason::Refused(_) => {
            CallOutcome::failed(FailureClass::TransferFailed, "the call ended without a fax")
        }
    }
}

/// The Q.850 cause a SIP final response stands for (RFC 3398 §8.2.6.1, as Asterisk maps them too), so that the
/// SIP line explains and retries its failures exactly as the Asterisk line does. `None` where the response says
/// nothing about the destination (our own request was wrong, or the code is unknown).
pub fn cause_of_sip_status(code: u16) -> Option<u16> {
    Some(match code {
        401 | 402 | 403 | 407 | 603 => 21,
        404 | 485 | 604 => 1,
        405 => 63,
        406 | 415 | 501 => 79,
        408 | 504 => 102,
        410 => 22,
        480 => 18,
        484 => 28,
        486 | 600 => 17,
        400 | 481 | 500 | 503 => 41,
        502 => 38,
        606 => 58,
        413 | 414 | 416 | 420 | 421 | 423 | 488 | 505 | 513 => 127,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use faxline_t38::session::T30Error;

    use super::*;

    #[test]
    fn sip_responses_mean_what_the_same_failure_means_on_asterisk() {
        for (code, class) in [
            (404, FailureClass::InvalidNumber),
            (604, FailureClass::InvalidNumber),
            (484, FailureClass::InvalidNumber),
            (410, FailureClass::InvalidNumber),
            (486, FailureClass::Busy),
            (600, FailureClass::Busy),
            (480, FailureClass::NoAnswer),
            (603, FailureClass::Declined),
            (503, FailureClass::ChannelUnavailable),
            (502, FailureClass::ChannelUnavailable),
            (415, FailureClass::Incompatible),
        ] {
            let cause = cause_of_sip_status(code).unwrap_or_else(|| panic!("{code} unmapped"));
            assert_eq!(meaning(cause).map(|m| m.class), Some(class), "SIP {code}");
        }
        assert_eq!(cause_of_sip_status(299), None);
    }

    fn leg(end: EndReason, fax: Option<Result<(), T30Error>>) -> LegReport {
        use faxline_sip::driver::CallSummary;
        use faxline_sip::media::{MediaOutcome, MediaStats};
        use faxline_t38::session::{FaxError, FaxReport};
        LegReport {
            call: CallSummary {
                end,
                media: Vec::new(),
                stops: 0,
            },
            fax: fax.map(|outcome| MediaOutcome {
                report: FaxReport {
                    outcome: outcome.map_err(|kind| FaxError {
                        kind,
                        text: "spandsp's text".into(),
                    }),
                    pages: 0,
                    bit_rate: 0,
                    resolution: Default::default(),
                    ecm: true,
                    bad_rows: 0,
                    ecm_retries: 0,
                    remote_ident: None,
                    compression: 0,
                },
                stats: MediaStats::default(),
            }),
        }
    }

    fn class_of(outcome: CallOutcome) -> FailureClass {
        match outcome {
            CallOutcome::Failed { class, .. } => class,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_failed_session_is_judged_by_its_own_t30_class() {
        let code = |c| T30Error::from_code(c).expect("a T.30 code");
        let ended = EndReason::Completed { success: false };
        // The far end could not take the document's capabilities: negotiation, not a failed transfer.
        assert_eq!(
            class_of(outbound_outcome(&leg(ended.clone(), Some(Err(code(10)))))),
            FailureClass::Negotiation
        );
        // Our TIFF could not be read: a file error, never retried.
        assert_eq!(
            class_of(outbound_outcome(&leg(ended.clone(), Some(Err(code(43)))))),
            FailureClass::FileUnreadable
        );
        // Training failed: the transfer.
        assert_eq!(
            class_of(outbound_outcome(&leg(ended, Some(Err(code(2)))))),
            FailureClass::TransferFailed
        );
        // A hang-up during the fax says more than the session's code.
        assert_eq!(
            class_of(outbound_outcome(&leg(
                EndReason::PeerHangup,
                Some(Err(code(43)))
            ))),
            FailureClass::TransferFailed
        );
        // Before any session: the SIP ending decides.
        assert_eq!(
            class_of(outbound_outcome(&leg(EndReason::Rejected(486), None))),
            FailureClass::Busy
        );
    }
}
