//! Optional REGISTER to a trunk: keep a binding alive so the trunk routes inbound faxes to us.
//!
//! - [`policy`]: sans-IO — when to REGISTER, refresh before expiry, back off after failures,
//!   unregister (`Expires: 0`) on shutdown;
//! - [`client`]: the async shell running the policy over the SIP stack's REGISTER transaction
//!   (digest authentication is the stack's, see [`crate::stack::TrunkRegistration`]).

pub mod client;
pub mod policy;

pub use client::{RegistrationHandle, start};
pub use policy::{RegisterAction, RegisterInput, RegisterPolicy, RegisterState, RegistrationEvent};
