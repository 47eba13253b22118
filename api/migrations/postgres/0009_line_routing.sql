-- Routing between lines (failover) and a per-job choice of line.
-- requested_backend: the line kind the client asked for with `backend` on POST /fax (NULL: any line, as the
--   API's `routing` policy decides); such a job goes out on that line only and never fails over.
-- line: the kind of line of the agent that leased the job last (the one that carried it, once it is final).
-- lines_tried: the line kinds that could not place the job (comma-separated, no spaces; NULL: none yet); the
--   job is not leased to those again.
ALTER TABLE fax_jobs ADD COLUMN requested_backend TEXT;
ALTER TABLE fax_jobs ADD COLUMN line TEXT;
ALTER TABLE fax_jobs ADD COLUMN lines_tried TEXT;
