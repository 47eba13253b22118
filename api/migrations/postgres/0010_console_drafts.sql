-- The console's Send drafts: the form makes the one document that will be faxed (the files joined behind the
-- optional cover page) and keeps it here until its user has seen the page previews and pressed Send, or
-- discarded it. The document itself goes through the document store (draft_documents for the database backend,
-- else the configured file or object backend, sealed when client-side encryption is on). A draft expires an
-- hour after it was made and is swept with its document; sent_at: its jobs exist (a second press of Send
-- only shows them), the document is already deleted.
CREATE TABLE console_drafts (
    id TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES console_users (id) ON DELETE CASCADE,
    numbers TEXT NOT NULL,
    file_name TEXT NOT NULL,
    doc_kind TEXT NOT NULL,
    pages BIGINT NOT NULL,
    size_bytes BIGINT NOT NULL,
    parts BIGINT NOT NULL,
    cover BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    sent_at BIGINT,
    sent BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX console_drafts_user ON console_drafts (user_id, created_at);
CREATE INDEX console_drafts_expiry ON console_drafts (expires_at);

CREATE TABLE draft_documents (
    draft_id TEXT PRIMARY KEY NOT NULL REFERENCES console_drafts (id) ON DELETE CASCADE,
    content BYTEA NOT NULL
);

-- A bulk send's document moves from bulk_batches.content into the document store (bulk_documents for the
-- database backend). New batches leave bulk_batches.content empty; a batch made before this migration is still
-- read from it until it finishes or "faxline storage migrate" moves it.
CREATE TABLE bulk_documents (
    batch_id TEXT PRIMARY KEY NOT NULL REFERENCES bulk_batches (id) ON DELETE CASCADE,
    content BYTEA NOT NULL
);
-- When a finished (done or cancelled) batch's document was deleted from the document store; NULL while it is
-- kept. The console's sweep deletes what a failure at the end of a batch left behind.
ALTER TABLE bulk_batches ADD COLUMN document_deleted_at BIGINT;
