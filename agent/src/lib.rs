//! The Faxline agent: the daemon next to Asterisk, and the pieces of the `faxline` command.
#![forbid(unsafe_code)]

pub mod asterisk_gen;
pub mod config;
pub mod daemon;
