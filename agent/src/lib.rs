//! The Faxline agent: the engine that sends and receives faxes for the API, the lines it uses, and the pieces
//! of the `faxline` command.
#![forbid(unsafe_code)]

pub mod config;
pub mod engine;
pub mod lines;
pub mod metrics;
