-- Jobs belong to the key that created them (owner_key_id, recorded since 0001): a key lists only its
-- own jobs unless it holds fax:admin, so listing by owner must not scan every job.
CREATE INDEX fax_jobs_owner ON fax_jobs (owner_key_id, created_at);
