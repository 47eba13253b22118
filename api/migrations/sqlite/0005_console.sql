-- The web console: people (not API keys) who log in with a password, and their sessions. Sessions live
-- in the database so a restart or a second API instance keeps everyone logged in. Only the SHA-256 of a
-- session token is stored: a copy of the database does not log anyone in.
CREATE TABLE console_users (
    id TEXT PRIMARY KEY NOT NULL,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    disabled_at INTEGER
);

CREATE TABLE console_sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES console_users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX console_sessions_user ON console_sessions (user_id);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);

-- "Mark read" in the console's inbox (one inbox per installation).
ALTER TABLE inbound_faxes ADD COLUMN read_at INTEGER;
CREATE INDEX inbound_unread ON inbound_faxes (received_at) WHERE read_at IS NULL;

-- Bulk sending: a batch (its document kept here until every recipient has a job) and its recipients.
-- A recipient's job is created with the idempotency key bulk:<batch>:<seq>, so a crash between creating
-- the job and recording job_id never faxes anyone twice: the next pass finds the same job.
CREATE TABLE bulk_batches (
    id TEXT PRIMARY KEY NOT NULL,
    created_by TEXT NOT NULL,
    file_name TEXT NOT NULL,
    content BLOB NOT NULL,
    state TEXT NOT NULL,
    total INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX bulk_batches_state ON bulk_batches (state, created_at);
CREATE INDEX bulk_batches_created ON bulk_batches (created_at);

CREATE TABLE bulk_recipients (
    batch_id TEXT NOT NULL REFERENCES bulk_batches (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    number TEXT NOT NULL,
    name TEXT,
    job_id TEXT,
    error TEXT,
    PRIMARY KEY (batch_id, seq)
);
