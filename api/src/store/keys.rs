//! API keys: their rows (the secret only as a hash), revocation, rotation and last use.

use super::db::{Args, impl_from_row};
use super::{ApiKeyRow, Store, StoreResult};

const KEY_COLS: &str =
    "key_id, key_hash, name, owner, scopes, note, created_at, last_used_at, expires_at, revoked_at";

impl_from_row!(ApiKeyRow {
    key_id,
    key_hash,
    name,
    owner,
    scopes,
    note,
    created_at,
    last_used_at,
    expires_at,
    revoked_at
});

/// The API keys of a [`Store`] (`store.keys()`).
#[derive(Clone, Copy)]
pub struct Keys<'s>(pub(super) &'s Store);

impl Keys<'_> {
    pub async fn insert(&self, k: &ApiKeyRow) -> StoreResult<()> {
        self.0.db.exec(
            "INSERT INTO api_keys (key_id, key_hash, name, owner, scopes, note, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            Args::new()
                .s(&k.key_id)
                .s(&k.key_hash)
                .os(k.name.as_deref())
                .os(k.owner.as_deref())
                .s(&k.scopes)
                .os(k.note.as_deref())
                .i(k.created_at)
                .oi(k.expires_at),
        )
        .await?;
        Ok(())
    }

    pub async fn get(&self, key_id: &str) -> StoreResult<Option<ApiKeyRow>> {
        self.0
            .db
            .one(
                &format!("SELECT {KEY_COLS} FROM api_keys WHERE key_id = $1"),
                Args::new().s(key_id),
            )
            .await
    }

    pub async fn list(&self) -> StoreResult<Vec<ApiKeyRow>> {
        self.0
            .db
            .many(
                &format!("SELECT {KEY_COLS} FROM api_keys ORDER BY created_at"),
                Args::new(),
            )
            .await
    }

    pub async fn count(&self) -> StoreResult<i64> {
        self.0
            .db
            .count("SELECT COUNT(*) FROM api_keys", Args::new())
            .await
    }

    /// True when an active key was revoked.
    pub async fn revoke(&self, key_id: &str, now: i64) -> StoreResult<bool> {
        let n = self
            .0
            .db
            .exec(
                "UPDATE api_keys SET revoked_at = $2 WHERE key_id = $1 AND revoked_at IS NULL",
                Args::new().s(key_id).i(now),
            )
            .await?;
        Ok(n == 1)
    }

    /// Replaces the secret hash of an active key; the old secret stops working at once.
    pub async fn rotate(&self, key_id: &str, new_hash: &str) -> StoreResult<bool> {
        let n = self
            .0
            .db
            .exec(
                "UPDATE api_keys SET key_hash = $2 WHERE key_id = $1 AND revoked_at IS NULL",
                Args::new().s(key_id).s(new_hash),
            )
            .await?;
        Ok(n == 1)
    }

    pub async fn touch(&self, key_id: &str, now: i64) -> StoreResult<()> {
        self.0
            .db
            .exec(
                "UPDATE api_keys SET last_used_at = $2 WHERE key_id = $1",
                Args::new().s(key_id).i(now),
            )
            .await?;
        Ok(())
    }
}
