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
    /// When two-step login (TOTP) was confirmed; `None`: not asked at login.
    pub totp_enabled_at: Option<i64>,
}

impl_from_row!(ConsoleUser {
    id,
    username,
    password_hash,
    role,
    created_at,
    updated_at,
    disabled_at,
    totp_enabled_at
});

const USER_COLS: &str =
    "id, username, password_hash, role, created_at, updated_at, disabled_at, totp_enabled_at";

/// A user's TOTP state, read only where a code is checked or set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserTotp {
    /// The shared secret as sealed by the console (never the plain secret).
    pub totp_secret: Option<String>,
    pub totp_enabled_at: Option<i64>,
    /// The time step of the last code accepted (replay guard).
    pub totp_last_step: Option<i64>,
}

impl_from_row!(UserTotp {
    totp_secret,
    totp_enabled_at,
    totp_last_step
});

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

    pub async fn totp(&self, id: &str) -> StoreResult<Option<UserTotp>> {
        self.0
            .db
            .one(
                "SELECT totp_secret, totp_enabled_at, totp_last_step FROM console_users WHERE id = $1",
                Args::new().s(id),
            )
            .await
    }

    /// Stores a new, unconfirmed sealed secret (replacing any earlier one, confirmed or not: setting up
    /// again is how a user moves to a new phone); `false` for an unknown user.
    pub async fn set_totp_pending(&self, id: &str, sealed: &str, now: i64) -> StoreResult<bool> {
        let n = self
            .0
            .db
            .exec(
                "UPDATE console_users SET totp_secret = $2, totp_enabled_at = NULL, totp_last_step = NULL, \
                 updated_at = $3 WHERE id = $1",
                Args::new().s(id).s(sealed).i(now),
            )
            .await?;
        Ok(n == 1)
    }

    /// Records that the code of `step` was accepted, and turns TOTP on if it was only set up. Atomic:
    /// `false` when a code of this step or a later one was accepted before (a replay, perhaps on
    /// another API instance), or the secret changed meanwhile (`sealed` is the one the code was
    /// checked against).
    pub async fn use_totp_step(
        &self,
        id: &str,
        sealed: &str,
        step: i64,
        now: i64,
    ) -> StoreResult<bool> {
        let n = self
            .0
            .db
            .exec(
                "UPDATE console_users SET totp_last_step = $3, \
                 totp_enabled_at = COALESCE(totp_enabled_at, $4) \
                 WHERE id = $1 AND totp_secret = $2 AND (totp_last_step IS NULL OR totp_last_step < $3)",
                Args::new().s(id).s(sealed).i(step).i(now),
            )
            .await?;
        Ok(n == 1)
    }

    /// Turns TOTP off and forgets the secret (the user's own choice, or an admin's reset); `false` for
    /// an unknown user.
    pub async fn clear_totp(&self, id: &str, now: i64) -> StoreResult<bool> {
        let n = self
            .0
            .db
            .exec(
                "UPDATE console_users SET totp_secret = NULL, totp_enabled_at = NULL, totp_last_step = NULL, \
                 updated_at = $2 WHERE id = $1",
                Args::new().s(id).i(now),
            )
            .await?;
        Ok(n == 1)
    }
}
