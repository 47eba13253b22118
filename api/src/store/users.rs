//! Console users: people who log in to the web console with a password (Argon2id hash only), with a
//! role. Separate from API keys.

use super::db::{Args, impl_from_row};
use super::{Store, StoreResult};

/// A person who may log in to the console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleUser {
    pub id: String,
    /// Unique, stored lower-case.
    pub username: String,
    /// A PHC string (`$argon2id$…`).
    pub password_hash: String,
    /// `admin` or `staff`.
    pub role: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub disabled_at: Option<i64>,
}

impl_from_row!(ConsoleUser {
    id,
    username,
    password_hash,
    role,
    created_at,
    updated_at,
    disabled_at
});

const USER_COLS: &str = "id, username, password_hash, role, created_at, updated_at, disabled_at";

/// The console users of a [`Store`] (`store.users()`).
#[derive(Clone, Copy)]
pub struct Users<'s>(pub(super) &'s Store);

impl Users<'_> {
    /// Inserts a user; `false` when the username is taken.
    pub async fn insert(&self, u: &ConsoleUser) -> StoreResult<bool> {
        let n = self
            .0
            .db
            .exec(
                "INSERT INTO console_users (id, username, password_hash, role, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (username) DO NOTHING",
                Args::new()
                    .s(&u.id)
                    .s(&u.username)
                    .s(&u.password_hash)
                    .s(&u.role)
                    .i(u.created_at)
                    .i(u.updated_at),
            )
            .await?;
        Ok(n == 1)
    }

    pub async fn by_username(&self, username: &str) -> StoreResult<Option<ConsoleUser>> {
        self.0
            .db
            .one(
                &format!("SELECT {USER_COLS} FROM console_users WHERE username = $1"),
                Args::new().s(username),
            )
            .await
    }

    pub async fn get(&self, id: &str) -> StoreResult<Option<ConsoleUser>> {
        self.0
            .db
            .one(
                &format!("SELECT {USER_COLS} FROM console_users WHERE id = $1"),
                Args::new().s(id),
            )
            .await
    }

    /// Every user, by name (an installation has tens, not thousands).
    pub async fn list(&self) -> StoreResult<Vec<ConsoleUser>> {
        self.0
            .db
            .many(
                &format!("SELECT {USER_COLS} FROM console_users ORDER BY username LIMIT 1000"),
                Args::new(),
            )
            .await
    }

    pub async fn count(&self) -> StoreResult<i64> {
        self.0
            .db
            .count("SELECT COUNT(*) FROM console_users", Args::new())
            .await
    }

    /// Replaces the password hash; `false` for an unknown user.
    pub async fn set_password(&self, id: &str, hash: &str, now: i64) -> StoreResult<bool> {
        let n = self
            .0
            .db
            .exec(
                "UPDATE console_users SET password_hash = $2, updated_at = $3 WHERE id = $1",
                Args::new().s(id).s(hash).i(now),
            )
            .await?;
        Ok(n == 1)
    }

    /// Disables (`Some(now)`) or re-enables (`None`) a user; `false` for an unknown user.
    pub async fn set_disabled(&self, id: &str, at: Option<i64>, now: i64) -> StoreResult<bool> {
        let n = self
            .0
            .db
            .exec(
                "UPDATE console_users SET disabled_at = $2, updated_at = $3 WHERE id = $1",
                Args::new().s(id).oi(at).i(now),
            )
            .await?;
        Ok(n == 1)
    }
}
