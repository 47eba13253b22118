//! Received faxes: stored with their PDF in one step, read and listed.

use super::db::{Args, impl_from_row, q, with_writer};
use super::documents::{DocumentId, DocumentStore, OwnerTx, RowDocument};
use super::{Inbound, InboundFilter, Store, StoreError, StoreResult};

pub(super) const INBOUND_COLS: &str = "id, from_number, to_number, status, backend, provider_sid, pages, size_bytes, \
    sha256, mailbox_label, error, created_at, received_at, updated_at";

impl_from_row!(Inbound {
    id,
    from_number,
    to_number,
    status,
    backend,
    provider_sid,
    pages,
    size_bytes,
    sha256,
    mailbox_label,
    error,
    created_at,
    received_at,
    updated_at
});

/// The received faxes of a [`Store`] (`store.inbound()`).
#[derive(Clone, Copy)]
pub struct InboundFaxes<'s>(pub(super) &'s Store);

impl InboundFaxes<'_> {
    /// Stores an inbound fax with its PDF in one transaction. A repeat of the same
    /// `(backend, provider_sid)` returns the existing row.
    pub async fn insert(&self, row: &Inbound, pdf: &bytes::Bytes) -> StoreResult<Inbound> {
        if let Some(existing) = self.existing(row).await? {
            return Ok(existing);
        }
        let doc = DocumentId::Inbound(row.id.clone());
        let written = self.insert_row(row, RowDocument::Held(pdf)).await;
        self.settle(row, &doc, written).await
    }

    /// [`InboundFaxes::insert`] of a fax spooled as it arrived ([`super::spool::Spool`], named
    /// `DocumentId::Inbound(row.id)`): a file or object backend stores the spooled file before
    /// the row commits (the local one renames it into place), so a large fax never sits whole in
    /// memory; the database backend writes it with the row, a piece at a time from the spool.
    pub async fn insert_spooled(
        &self,
        row: &Inbound,
        spooled: super::spool::Spooled,
    ) -> StoreResult<Inbound> {
        debug_assert_eq!(spooled.id(), &DocumentId::Inbound(row.id.clone()));
        let documents = &self.0.documents;
        // A repeat is answered before anything is written (the spooled file is deleted on drop).
        if let Some(existing) = self.existing(row).await? {
            return Ok(existing);
        }
        let doc = DocumentId::Inbound(row.id.clone());
        if !documents.is_external() {
            let written = self.insert_row(row, RowDocument::Spooled(&spooled)).await;
            return self.settle(row, &doc, written).await;
        }
        documents.put_spooled_before_commit(spooled).await?;
        let written = self.insert_row(row, RowDocument::Written).await;
        self.settle(row, &doc, written).await
    }

    /// The row already stored for this `(backend, provider_sid)`, if any.
    async fn existing(&self, row: &Inbound) -> StoreResult<Option<Inbound>> {
        let Some(sid) = &row.provider_sid else {
            return Ok(None);
        };
        self.0
            .db
            .one::<Inbound>(
                &format!(
                    "SELECT {INBOUND_COLS} FROM inbound_faxes WHERE backend = $1 AND provider_sid = $2"
                ),
                Args::new().s(&row.backend).s(sid),
            )
            .await
    }

    /// Inserts the row, and the document unless it was written already, in the same transaction;
    /// `false` when a concurrent upload of the same fax won.
    async fn insert_row(&self, row: &Inbound, pdf: RowDocument<'_>) -> StoreResult<bool> {
        let insert = "INSERT INTO inbound_faxes (id, from_number, to_number, status, backend, provider_sid, \
              pages, size_bytes, sha256, mailbox_label, error, created_at, received_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
             ON CONFLICT (backend, provider_sid) DO NOTHING";
        let args = Args::new()
            .s(&row.id)
            .os(row.from_number.as_deref())
            .os(row.to_number.as_deref())
            .s(&row.status)
            .s(&row.backend)
            .os(row.provider_sid.as_deref())
            .oi(row.pages)
            .oi(row.size_bytes)
            .os(row.sha256.as_deref())
            .os(row.mailbox_label.as_deref())
            .os(row.error.as_deref())
            .i(row.created_at)
            .i(row.received_at)
            .i(row.updated_at);
        let doc = DocumentId::Inbound(row.id.clone());
        with_writer!(&self.0.db, |p| async {
            let mut tx = p.begin().await?;
            let n = args
                .bind(q(insert))
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n == 1 {
                let mut owner = OwnerTx::from(&mut *tx);
                self.0.documents.put_with_row(&mut owner, &doc, pdf).await?;
            }
            tx.commit().await?;
            Ok(n == 1)
        }
        .await)
    }

    /// After [`InboundFaxes::insert_row`]: the stored row, or the winner of a race with an
    /// identical upload. A document put outside the database does not roll back with the row, so
    /// it is deleted when the row did not commit or lost the race.
    async fn settle(
        &self,
        row: &Inbound,
        doc: &DocumentId,
        written: StoreResult<bool>,
    ) -> StoreResult<Inbound> {
        let inserted = match written {
            Ok(inserted) => inserted,
            Err(e) => {
                if let Err(cleanup) = self.0.documents.delete(doc).await {
                    tracing::warn!(error = %cleanup, "cannot delete the document of a failed inbound insert");
                }
                return Err(e);
            }
        };
        if inserted {
            return Ok(row.clone());
        }
        if let Err(cleanup) = self.0.documents.delete(doc).await {
            tracing::warn!(error = %cleanup, "cannot delete the document of a duplicate inbound upload");
        }
        self.existing(row)
            .await?
            .ok_or(StoreError::Db(sqlx::Error::RowNotFound))
    }

    pub async fn get(&self, id: &str) -> StoreResult<Option<Inbound>> {
        self.0
            .db
            .one(
                &format!("SELECT {INBOUND_COLS} FROM inbound_faxes WHERE id = $1"),
                Args::new().s(id),
            )
            .await
    }

    pub async fn list(&self, f: &InboundFilter) -> StoreResult<Vec<Inbound>> {
        let mut cond = String::from("WHERE 1=1");
        let mut args = Args::new();
        let mut n = 0;
        for (col, val) in [
            ("to_number", &f.to_number),
            ("status", &f.status),
            ("mailbox_label", &f.mailbox),
        ] {
            if let Some(v) = val {
                n += 1;
                cond += &format!(" AND {col} = ${n}");
                args = args.s(v);
            }
        }
        let sql = format!(
            "SELECT {INBOUND_COLS} FROM inbound_faxes {cond} ORDER BY received_at DESC, id LIMIT ${} OFFSET ${}",
            n + 1,
            n + 2
        );
        self.0.db.many(&sql, args.i(f.limit).i(f.offset)).await
    }
}
