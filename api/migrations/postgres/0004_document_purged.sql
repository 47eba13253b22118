-- Documents are kept behind a storage seam (the database today, files or an object store later), so
-- retention cannot find them by joining the document tables: each row records when retention deleted
-- its document, and a pass asks the document store only about the rows not purged yet.
ALTER TABLE fax_jobs ADD COLUMN document_purged_at BIGINT;
ALTER TABLE inbound_faxes ADD COLUMN document_purged_at BIGINT;
CREATE INDEX fax_jobs_unpurged ON fax_jobs (created_at) WHERE document_purged_at IS NULL;
CREATE INDEX inbound_unpurged ON inbound_faxes (received_at) WHERE document_purged_at IS NULL;
