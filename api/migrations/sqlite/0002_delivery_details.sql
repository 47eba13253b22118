-- Delivery details an agent reports with a job's result (image bit rate, T38 or audio, the far end's
-- station id), and the call phase it reports while the fax is being sent.
ALTER TABLE fax_jobs ADD COLUMN bitrate INTEGER;
ALTER TABLE fax_jobs ADD COLUMN fax_mode TEXT;
ALTER TABLE fax_jobs ADD COLUMN remote_ident TEXT;
ALTER TABLE fax_jobs ADD COLUMN stage TEXT;
