//! An async Asterisk Manager Interface (AMI) client.
//!
//! Layers, bottom up:
//! - [`message`], [`codec`]: the sans-IO wire format (ordered multimap messages, framing, limits).
//! - [`action`], [`event`]: typed actions the fax agent sends and typed events it consumes.
//! - [`client`]: the IO shell — connection, login, the reader task, action/response matching, subscriptions,
//!   keepalive and reconnect.
//! - `testing` (feature `test-server`): a scriptable AMI server that plays Asterisk for tests.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod action;
pub mod backoff;
pub mod client;
pub mod codec;
pub mod event;
pub mod message;
pub mod redact;
#[cfg(feature = "test-server")]
pub mod testing;

pub use action::{Action, ActionError, Originate, OriginateTarget};
pub use client::{
    AuthMethod, Client, Config, ConnectionState, Error, ListReply, RecvError, Subscription,
};
pub use codec::{AmiCodec, DecodeError, EncodeError, Frame, LimitError, Limits};
pub use event::Event;
pub use message::{Message, MessageKind};
pub use redact::{HeaderNumber, Secret};
