//! The Faxline API: Faxbot-compatible REST, the agent protocol and storage.
#![forbid(unsafe_code)]
