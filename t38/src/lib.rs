//! The T.38 core of Faxline.
//!
//! Everything here is sans-IO: no sockets, no timers, no tokio. Callers feed bytes and time in and
//! take packets and events out, which is what lets the line simulator run whole calls in simulated
//! time. The one exception is [`tick_pool`], the thread pool that steps sessions in real time for
//! the simulator's real-time driver and the SIP line's media.
// `unsafe` is allowed in exactly one module, the spandsp wrapper; everything else is denied.
#![deny(unsafe_code)]

pub mod ifp;
pub mod sdp;
pub mod udptl;

pub mod session;
pub mod sim;
pub mod tick_pool;
