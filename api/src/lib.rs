//! The Faxline API: Faxbot-compatible REST, the agent protocol and storage.
//!
//! Entry points: [`config::Config`] (TOML + Faxbot's environment names), [`server::serve`] /
//! [`server::App::start`] to run it, [`server::App::router`] to embed it, [`agent_auth`] for request
//! signing on both sides and [`agent_client::AgentClient`] for the agent.
#![forbid(unsafe_code)]

pub mod agent_auth;
pub mod agent_client;
pub mod audit;
pub mod auth;
pub mod config;
pub mod conn;
pub mod document;
pub mod error;
pub mod links;
pub mod pages;
pub mod private_fs;
pub mod retention;
mod routes;
pub mod secrets;
pub mod server;
pub mod store;
pub mod throttle;
pub mod timefmt;

pub use config::Config;
pub use server::{App, serve, serve_with_shutdown};
