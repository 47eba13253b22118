//! Secrets in the agent's configuration: the protocol crate's one `Secret` type (with where each value came
//! from) and the strength rules every command enforces.

pub use faxline_protocol::secret::{Secret, SecretSource};
/// The strength rules live in `faxline-protocol` so that every command judges secrets alike.
pub use faxline_protocol::secret_strength::{Weakness, weakness};
