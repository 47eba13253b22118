//! The agent's own SIP line: fax calls terminated by the agent itself over SIP with T.38.
//!
//! - [`call`]: sans-IO call control of one fax call (the T.38 switch, fallbacks, refreshes, BYE);
//! - [`called`]: which of our numbers an inbound INVITE is for (Request-URI, To, P-Called-Party-ID, …);
//! - [`media_sdp`]: the SDP bodies: G.711 audio here, T.38 image via `faxline_t38::sdp`;
//! - [`stack`]: the only module that touches `rsipstack`, behind our own small interface;
//! - [`via`]: the Via corrections the SIP library does not make (the ACK of a failed INVITE, `received`);
//! - [`driver`]: the async shell running one call control on one SIP leg;
//! - [`media`]: fax sessions on UDPTL (T.38) and RTP (G.711) sockets, one port type for both,
//!   stepped every 20 ms by the shared tick pool's threads;
//! - [`rtp`]: the RTP header and the fixed playout buffer of the G.711 fallback, sans-IO;
//! - [`fax_leg`]: one fax call leg end to end (ports, call control, fax session, reports), shared
//!   by the loopback line and the agent's trunk line;
//! - [`fax_media`]: the glue starting a call's fax session on the media runtime;
//! - [`registration`]: optional REGISTER to a trunk (digest auth, refresh, unregister);
//! - [`loopback`]: the embedded default line, calling itself over 127.0.0.1.
//!
//! The state machines with timers (`call::FaxCall`, `registration::RegisterPolicy`) follow the
//! sans-IO convention stated in `faxline_t38`'s crate docs; `driver`, `registration::client`,
//! `stack` and the media runtime are their IO shells. The latch, the RTP playout buffer, `called`
//! and `via` are plain sans-IO values and functions.
#![forbid(unsafe_code)]

pub mod call;
pub mod called;
pub mod driver;
pub mod fax_leg;
pub mod fax_media;
pub mod loopback;
pub mod media;
pub mod media_sdp;
pub mod registration;
pub mod rtp;
pub mod stack;
pub mod via;
