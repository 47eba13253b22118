//! The Faxline API: Faxbot-compatible REST, the agent protocol and storage.
//!
//! Entry points: [`config::Config`] (TOML + Faxbot's environment names), [`server::serve`] /
//! [`server::App::start`] to run it, [`server::App::router`] to embed it. The agent protocol's
//! definition (signing, messages, job status, time format, secrets, phone numbers) is the
//! `faxline-protocol` crate, which this one serves.
#![forbid(unsafe_code)]

pub mod audit;
pub mod auth;
pub mod cloud;
pub mod config;
pub mod conn;
pub mod console;
pub mod document;
pub mod error;
pub mod links;
pub mod mcp;
pub mod metrics;
pub mod pages;
pub mod private_fs;
mod request_id;
pub mod retention;
mod routes;
pub mod routing;
pub mod server;
pub mod store;
pub mod throttle;

pub use config::Config;
pub use server::{App, serve, serve_with_shutdown};
