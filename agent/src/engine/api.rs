//! The protocol pieces the agent takes from the API crate: the signed HTTP client, the time format, the API's
//! `Secret` and the secret-strength rules. Every other module imports them from here, so that moving them to a
//! shared protocol crate changes this one file.

pub use faxline_api::agent_client;
pub use faxline_api::config::Secret;
pub use faxline_api::secrets;
pub use faxline_api::timefmt;
