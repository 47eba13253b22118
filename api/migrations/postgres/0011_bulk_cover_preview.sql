-- Bulk sends with a cover page and a confirmation step.
-- cover: 1 when each recipient's fax starts with a cover page made from its row (bulk_recipients.name is the
-- cover's "To:"); the cover fields are the row's, or the form's for the whole batch where the row has none.
ALTER TABLE bulk_batches ADD COLUMN cover BIGINT NOT NULL DEFAULT 0;
ALTER TABLE bulk_recipients ADD COLUMN cover_from TEXT;
ALTER TABLE bulk_recipients ADD COLUMN cover_subject TEXT;
ALTER TABLE bulk_recipients ADD COLUMN cover_note TEXT;
-- A new batch starts in state 'draft' and its queue does not move until its user confirms it after the
-- preview. The preview is a console draft (the first recipient's fax exactly as it will be sent, with its
-- cover page) whose bulk_batch names the batch; such a draft is never sent itself and is not listed on the
-- Send page.
ALTER TABLE console_drafts ADD COLUMN bulk_batch TEXT;
-- The console's outbox at 10,000+ jobs: filtered by status, or by one number, newest first, without sorting
-- every match (measured by the console_pages example).
CREATE INDEX fax_jobs_status_created ON fax_jobs (status, created_at);
CREATE INDEX fax_jobs_to_created ON fax_jobs (to_number, created_at);
