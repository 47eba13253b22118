//! The audit log: security-relevant events as structured `tracing` records under the target
//! `audit`. Phone numbers are masked to their last four digits (`…4567`, the workspace's one rule);
//! document content never appears.

pub use faxline_protocol::mask_number;

/// Emits one audit event: `audit!("job_created", job_id = %id, to = %mask_number(to))`.
#[macro_export]
macro_rules! audit {
    ($event:literal $(, $($field:tt)*)?) => {
        ::tracing::info!(target: "audit", event = $event $(, $($field)*)?)
    };
}
