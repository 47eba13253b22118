//! The T.38 core of Faxline: the wire formats (IFP, UDPTL, SDP), fax sessions on spandsp, and the
//! line simulator that runs whole calls between two sessions.
//!
//! - [`ifp`], [`udptl`], [`sdp`]: codecs and negotiation, pure functions and state machines.
//! - [`session`]: one end of a fax call on spandsp (T.38 terminal or G.711 modem).
//! - [`sim`]: two sessions joined by a lossy channel model, stepped in simulated time.
//! - [`tick_pool`]: the thread pool stepping many sessions every 20 ms in real time.
//!
//! # What does IO
//! No module opens a socket. The rest is sans-IO except, exactly:
//! - [`tick_pool`]: threads, sleeps and the wall clock;
//! - [`sim::meter`] (with [`sim::run_realtime`], which runs calls on the pool): times steps and
//!   reads CPU time and memory from `/proc`;
//! - [`session`]: the fax document on disk. spandsp reads the TIFF it sends and writes the one it
//!   receives; the session checks the first, and publishes or removes the second at the end.
//!
//! # The sans-IO convention
//! Every state machine here and in the SIP line (the fax sessions, the UDPTL halves, the SIP
//! call control `FaxCall`) follows one shape, in the spirit of quinn-proto and str0m:
//! - **Inputs** are `handle_*` methods: received bytes (`handle_ifp`, `handle_datagram`,
//!   `handle_audio`), events and commands (`handle_input`, `handle_hangup`), and time. A machine
//!   that acts first (an outbound call, a registration) is begun with `start`.
//! - **Time is passed in**, never read: an `Instant` (`handle_timeout(now)`) for machines with
//!   timers of their own, or elapsed samples (`handle_elapsed(160)` is 20 ms) for spandsp's clock.
//! - **Outputs** are `poll_*` methods drained after every input until they return `None`:
//!   `poll_transmit` (what to send), `poll_event` (progress), `poll_action` (commands for the
//!   shell); `poll_timeout` says when `handle_timeout` is next due.
//! - Codecs whose every input yields its output at once (the UDPTL [`udptl::Sender`] and
//!   [`udptl::Receiver`]) take the output buffer or sink in the `handle_*` call instead of
//!   queuing: their IFPs borrow the codec's own buffers, so nothing is copied on the hot path.
//!
//! The IO shells around them (sockets, tokio, the tick pool) stay thin: read, `handle_*`,
//! `poll_*`, write.
// `unsafe` is allowed in exactly one module, the spandsp wrapper; everything else is denied.
#![deny(unsafe_code)]

pub mod ifp;
pub mod sdp;
pub mod udptl;

pub mod session;
pub mod sim;
pub mod tick_pool;
