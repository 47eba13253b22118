//! The T.38 core of Faxline.
//!
//! Everything here is sans-IO: no sockets, no timers, no tokio. Callers feed bytes and time in and
//! take packets and events out, which is what lets the line simulator run whole calls in simulated
//! time.
// `unsafe` is allowed in exactly one module, the spandsp wrapper; everything else is denied.
#![deny(unsafe_code)]

pub mod ifp;
pub mod sdp;
pub mod udptl;

pub mod session;
pub mod sim;
