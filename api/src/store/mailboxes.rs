//! Per-number mailboxes: which inbound numbers' faxes a staff user sees in the console's inbox.
//! The inbox's reads for staff go through here, so the filter is in the query, not after it.

use super::db::{Args, impl_from_row, q, with_writer};
use super::inbound::INBOUND_COLS;
use super::{Inbound, Store, StoreResult};

/// One assignment: a user and an inbound number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub user_id: String,
    pub to_number: String,
}

impl_from_row!(Mailbox { user_id, to_number });

/// The mailboxes of a [`Store`] (`store.mailboxes()`).
#[derive(Clone, Copy)]
pub struct Mailboxes<'s>(pub(super) &'s Store);

/// Numbers a user may be given (a form is bounded by it too).
pub const MAX_MAILBOXES: usize = 100;

const MINE: &str = "to_number IN (SELECT to_number FROM console_mailboxes WHERE user_id = $1)";

impl Mailboxes<'_> {
    /// Every assignment (the Users page; tens of users, a few numbers each).
    pub async fn all(&self) -> StoreResult<Vec<Mailbox>> {
        self.0
            .db
            .many(
                "SELECT user_id, to_number FROM console_mailboxes ORDER BY user_id, to_number LIMIT 10000",
                Args::new(),
            )
            .await
    }

    /// A user's numbers, sorted.
    pub async fn of_user(&self, user_id: &str) -> StoreResult<Vec<String>> {
        Ok(self
            .0
            .db
            .many::<Mailbox>(
                "SELECT user_id, to_number FROM console_mailboxes WHERE user_id = $1 ORDER BY to_number",
                Args::new().s(user_id),
            )
            .await?
            .into_iter()
            .map(|m| m.to_number)
            .collect())
    }

    /// Replaces a user's numbers, in one transaction.
    pub async fn set(&self, user_id: &str, numbers: &[String]) -> StoreResult<()> {
        with_writer!(&self.0.db, |p| {
            let mut tx = p.begin().await?;
            Args::new()
                .s(user_id)
                .bind(q("DELETE FROM console_mailboxes WHERE user_id = $1"))
                .execute(&mut *tx)
                .await?;
            for n in numbers.iter().take(MAX_MAILBOXES) {
                Args::new()
                    .s(user_id)
                    .s(n)
                    .bind(q(
                        "INSERT INTO console_mailboxes (user_id, to_number) VALUES ($1, $2) \
                         ON CONFLICT (user_id, to_number) DO NOTHING",
                    ))
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Received faxes to `user_id`'s numbers, newest first.
    pub async fn inbound(
        &self,
        user_id: &str,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Vec<Inbound>> {
        self.0
            .db
            .many(
                &format!(
                    "SELECT {INBOUND_COLS} FROM inbound_faxes WHERE {MINE} \
                     ORDER BY received_at DESC, id LIMIT $2 OFFSET $3"
                ),
                Args::new().s(user_id).i(limit).i(offset),
            )
            .await
    }

    /// Unread faxes to `user_id`'s numbers.
    pub async fn unread(&self, user_id: &str) -> StoreResult<i64> {
        self.0
            .db
            .count(
                &format!("SELECT COUNT(*) FROM inbound_faxes WHERE read_at IS NULL AND {MINE}"),
                Args::new().s(user_id),
            )
            .await
    }

    /// Whether `to_number` is one of `user_id`'s mailboxes.
    pub async fn holds(&self, user_id: &str, to_number: &str) -> StoreResult<bool> {
        let n = self
            .0
            .db
            .count(
                "SELECT COUNT(*) FROM console_mailboxes WHERE user_id = $1 AND to_number = $2",
                Args::new().s(user_id).s(to_number),
            )
            .await?;
        Ok(n > 0)
    }
}
