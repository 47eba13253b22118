//! The agent protocol, shared by the Faxline API (which serves it) and the agent (which calls it).
//!
//! One definition of everything both sides must agree on: the signed-request scheme ([`auth`]), the
//! messages ([`messages`]), a job's status with Faxbot's strings ([`JobStatus`]), the time format
//! ([`time`]), and the two values that must never reach a log whole: [`Secret`] and [`PhoneNumber`]
//! (with [`mask_number`], the one masking rule). The HTTP client the agent uses is [`client`], behind the
//! default `client` feature so the API and the AMI crate link no HTTP client through this crate.
//!
//! Everything here is sans-IO except [`client`] and the clock reads of [`time::now_s`]/[`time::now_us`]
//! and [`auth::sign_now`].
#![forbid(unsafe_code)]

pub mod auth;
#[cfg(feature = "client")]
pub mod client;
pub mod doc_kind;
pub mod messages;
pub mod phaxio;
pub mod phone;
pub mod secret;
pub mod secret_strength;
pub mod sinch;
pub mod status;
pub mod telnyx;
pub mod time;

pub use doc_kind::DocKind;
pub use phone::{PhoneNumber, PhoneNumberError, mask_number, mask_numbers_in};
pub use secret::{Secret, SecretSource};
pub use secret_strength::{Weakness, weakness};
pub use status::JobStatus;
