-- Documents in the database are stored in pieces of at most 1 MiB, so a large one is written from its spooled
-- upload and sent to an agent a piece at a time instead of as one value held whole in memory. The head table keeps
-- the first piece in content and how many pieces there are (1 for every document stored before this migration);
-- the pieces after the first are rows of the kind's *_pieces table, numbered from 1, deleted with their head.

ALTER TABLE fax_documents ADD COLUMN pieces INTEGER NOT NULL DEFAULT 1;
CREATE TABLE fax_document_pieces (
    job_id TEXT NOT NULL REFERENCES fax_documents (job_id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    content BLOB NOT NULL,
    PRIMARY KEY (job_id, seq)
);

ALTER TABLE inbound_documents ADD COLUMN pieces INTEGER NOT NULL DEFAULT 1;
CREATE TABLE inbound_document_pieces (
    inbound_id TEXT NOT NULL REFERENCES inbound_documents (inbound_id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    content BLOB NOT NULL,
    PRIMARY KEY (inbound_id, seq)
);

ALTER TABLE draft_documents ADD COLUMN pieces INTEGER NOT NULL DEFAULT 1;
CREATE TABLE draft_document_pieces (
    draft_id TEXT NOT NULL REFERENCES draft_documents (draft_id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    content BLOB NOT NULL,
    PRIMARY KEY (draft_id, seq)
);

ALTER TABLE bulk_documents ADD COLUMN pieces INTEGER NOT NULL DEFAULT 1;
CREATE TABLE bulk_document_pieces (
    batch_id TEXT NOT NULL REFERENCES bulk_documents (batch_id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    content BLOB NOT NULL,
    PRIMARY KEY (batch_id, seq)
);
