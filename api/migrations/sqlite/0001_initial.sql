-- Faxline API schema (SQLite). Times are integer microseconds since the Unix epoch.
CREATE TABLE fax_jobs (
    id TEXT PRIMARY KEY NOT NULL,
    to_number TEXT NOT NULL,
    file_name TEXT NOT NULL,
    doc_kind TEXT NOT NULL,
    doc_size INTEGER NOT NULL,
    doc_sha256 TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    pages INTEGER,
    pages_sent INTEGER,
    backend TEXT NOT NULL,
    provider_sid TEXT,
    owner_key_id TEXT,
    idempotency_key TEXT UNIQUE,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_id TEXT,
    lease_agent TEXT,
    lease_expires_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX fax_jobs_queue ON fax_jobs (status, next_attempt_at, created_at);
CREATE INDEX fax_jobs_lease ON fax_jobs (status, lease_expires_at);
CREATE INDEX fax_jobs_created ON fax_jobs (created_at);

CREATE TABLE fax_documents (
    job_id TEXT PRIMARY KEY NOT NULL REFERENCES fax_jobs (id) ON DELETE CASCADE,
    content BLOB NOT NULL
);

CREATE TABLE api_keys (
    key_id TEXT PRIMARY KEY NOT NULL,
    key_hash TEXT NOT NULL,
    name TEXT,
    owner TEXT,
    scopes TEXT NOT NULL,
    note TEXT,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER,
    expires_at INTEGER,
    revoked_at INTEGER
);

CREATE TABLE inbound_faxes (
    id TEXT PRIMARY KEY NOT NULL,
    from_number TEXT,
    to_number TEXT,
    status TEXT NOT NULL,
    backend TEXT NOT NULL,
    provider_sid TEXT,
    pages INTEGER,
    size_bytes INTEGER,
    sha256 TEXT,
    mailbox_label TEXT,
    error TEXT,
    agent_id TEXT,
    created_at INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (backend, provider_sid)
);
CREATE INDEX inbound_received ON inbound_faxes (received_at);

CREATE TABLE inbound_documents (
    inbound_id TEXT PRIMARY KEY NOT NULL REFERENCES inbound_faxes (id) ON DELETE CASCADE,
    content BLOB NOT NULL
);

CREATE TABLE agents (
    agent_id TEXT PRIMARY KEY NOT NULL,
    first_seen_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
);
