-- Faxline API schema (PostgreSQL). Times are integer microseconds since the Unix epoch.
CREATE TABLE fax_jobs (
    id TEXT PRIMARY KEY NOT NULL,
    to_number TEXT NOT NULL,
    file_name TEXT NOT NULL,
    doc_kind TEXT NOT NULL,
    doc_size BIGINT NOT NULL,
    doc_sha256 TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    pages BIGINT,
    pages_sent BIGINT,
    backend TEXT NOT NULL,
    provider_sid TEXT,
    owner_key_id TEXT,
    idempotency_key TEXT UNIQUE,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_id TEXT,
    lease_agent TEXT,
    lease_expires_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX fax_jobs_queue ON fax_jobs (status, next_attempt_at, created_at);
CREATE INDEX fax_jobs_lease ON fax_jobs (status, lease_expires_at);
CREATE INDEX fax_jobs_created ON fax_jobs (created_at);

CREATE TABLE fax_documents (
    job_id TEXT PRIMARY KEY NOT NULL REFERENCES fax_jobs (id) ON DELETE CASCADE,
    content BYTEA NOT NULL
);

CREATE TABLE api_keys (
    key_id TEXT PRIMARY KEY NOT NULL,
    key_hash TEXT NOT NULL,
    name TEXT,
    owner TEXT,
    scopes TEXT NOT NULL,
    note TEXT,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    expires_at BIGINT,
    revoked_at BIGINT
);

CREATE TABLE inbound_faxes (
    id TEXT PRIMARY KEY NOT NULL,
    from_number TEXT,
    to_number TEXT,
    status TEXT NOT NULL,
    backend TEXT NOT NULL,
    provider_sid TEXT,
    pages BIGINT,
    size_bytes BIGINT,
    sha256 TEXT,
    mailbox_label TEXT,
    error TEXT,
    agent_id TEXT,
    created_at BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (backend, provider_sid)
);
CREATE INDEX inbound_received ON inbound_faxes (received_at);

CREATE TABLE inbound_documents (
    inbound_id TEXT PRIMARY KEY NOT NULL REFERENCES inbound_faxes (id) ON DELETE CASCADE,
    content BYTEA NOT NULL
);

CREATE TABLE agents (
    agent_id TEXT PRIMARY KEY NOT NULL,
    first_seen_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
