//! Console sessions, durable in the database (a restart or another API instance keeps everyone
//! logged in). A session is found by the SHA-256 of its token; the token itself is never stored.

use super::db::{Args, impl_from_row};
use super::{Store, StoreResult};

/// A live or expired session row, with the role and state of its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSession {
    pub token_hash: String,
    pub user_id: String,
    pub csrf_token: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    /// The absolute end of the session, whatever its activity.
    pub expires_at: i64,
    pub username: String,
    pub role: String,
    pub disabled_at: Option<i64>,
}

impl_from_row!(ConsoleSession {
    token_hash,
    user_id,
    csrf_token,
    created_at,
    last_seen_at,
    expires_at,
    username,
    role,
    disabled_at
});

/// A session to create.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    pub token_hash: &'a str,
    pub user_id: &'a str,
    pub csrf_token: &'a str,
    pub now: i64,
    pub expires_at: i64,
}

/// The console sessions of a [`Store`] (`store.sessions()`).
#[derive(Clone, Copy)]
pub struct Sessions<'s>(pub(super) &'s Store);

impl Sessions<'_> {
    pub async fn insert(&self, s: &NewSession<'_>) -> StoreResult<()> {
        self.0
            .db
            .exec(
                "INSERT INTO console_sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $4, $5)",
                Args::new()
                    .s(s.token_hash)
                    .s(s.user_id)
                    .s(s.csrf_token)
                    .i(s.now)
                    .i(s.expires_at),
            )
            .await?;
        Ok(())
    }

    /// The session and its user (one primary-key lookup).
    pub async fn get(&self, token_hash: &str) -> StoreResult<Option<ConsoleSession>> {
        self.0
            .db
            .one(
                "SELECT s.token_hash, s.user_id, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at, \
                 u.username, u.role, u.disabled_at \
                 FROM console_sessions s JOIN console_users u ON u.id = s.user_id WHERE s.token_hash = $1",
                Args::new().s(token_hash),
            )
            .await
    }

    /// Records activity (the idle timeout counts from here).
    pub async fn touch(&self, token_hash: &str, now: i64) -> StoreResult<()> {
        self.0
            .db
            .exec(
                "UPDATE console_sessions SET last_seen_at = $2 WHERE token_hash = $1",
                Args::new().s(token_hash).i(now),
            )
            .await?;
        Ok(())
    }

    pub async fn delete(&self, token_hash: &str) -> StoreResult<bool> {
        let n = self
            .0
            .db
            .exec(
                "DELETE FROM console_sessions WHERE token_hash = $1",
                Args::new().s(token_hash),
            )
            .await?;
        Ok(n == 1)
    }

    /// Ends every session of a user ("log out everywhere", a password change, disabling); returns how many.
    pub async fn delete_for_user(&self, user_id: &str) -> StoreResult<u64> {
        self.0
            .db
            .exec(
                "DELETE FROM console_sessions WHERE user_id = $1",
                Args::new().s(user_id),
            )
            .await
    }

    /// Deletes sessions past their absolute end or idle since before `idle_before`.
    pub async fn purge(&self, now: i64, idle_before: i64) -> StoreResult<u64> {
        self.0
            .db
            .exec(
                "DELETE FROM console_sessions WHERE expires_at <= $1 OR last_seen_at < $2",
                Args::new().i(now).i(idle_before),
            )
            .await
    }
}
