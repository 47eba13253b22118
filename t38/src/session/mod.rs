//! Fax sessions on spandsp: a safe, sans-IO layer over the raw `spandsp-sys` bindings. The one
//! IO is the fax document: spandsp reads the TIFF a session sends and writes the one it receives.
//!
//! This is the only module of the project allowed `unsafe`. Rules it keeps:
//! - spandsp callbacks only enqueue into a pinned `Box` (`Box::into_raw`) that is freed only after
//!   the spandsp object; their bodies are `catch_unwind`-guarded. Both sessions set this up and
//!   tear it down through one type, `t30::T30Party`;
//! - nothing calls back into spandsp from a callback; queues are drained after each call returns;
//! - session types are `Send` (owned exclusively, no thread affinity) but not `Sync`;
//! - logs go to `tracing` (see [`LOG_TARGET`]), never to stderr.
//!
//! Time is fed in samples at 8 kHz: `handle_elapsed(160)` is 20 ms. Passing time in a loop
//! without sleeping runs a call in simulated time.
#![allow(unsafe_code)]

mod audio;
mod category;
mod log;
mod options;
mod outcome;
mod t30;
mod t38;

pub use audio::AudioSession;
pub use category::PacketCategory;
pub use log::LOG_TARGET;
pub use options::{
    AudioSessionConfig, Direction, FaxOptions, G711Law, Modems, ReceivedCompression, T38Params,
    T38SessionConfig,
};
pub use outcome::{FaxError, FaxReport, Resolution, SessionEvent, T30Error, T30FailureClass};
pub use t38::T38Session;

use std::path::PathBuf;

/// Samples per second of every spandsp clock.
pub const SAMPLE_RATE: u32 = 8000;

/// An IFP spandsp wants sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingIfp {
    /// The encoded IFP (no UDPTL framing).
    pub data: Vec<u8>,
    /// Its category, for choosing redundancy.
    pub category: PacketCategory,
    /// How many times spandsp asks for it to be transmitted (its own repetition for unprotected links).
    pub count: u8,
}

impl OutgoingIfp {
    /// How many identical copies of its datagram a transport sends: spandsp's count, but indicators and
    /// signal ends at least [`PacketCategory::transmissions`] times, with or without error correction.
    pub fn copies(&self) -> usize {
        self.category.transmissions().max(usize::from(self.count))
    }
}

/// Why a session could not be created or used.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// spandsp could not allocate or initialise its state.
    #[error("spandsp failed to initialise the {0}")]
    Init(&'static str),
    /// An option cannot be expressed to spandsp.
    #[error("invalid session option: {0}")]
    BadOption(&'static str),
    /// The document to send cannot be opened.
    #[error("cannot open document {0}: {1}")]
    Document(PathBuf, String),
    /// A received IFP could not be decoded by spandsp.
    #[error("malformed IFP (seq {0})")]
    MalformedIfp(u16),
}
