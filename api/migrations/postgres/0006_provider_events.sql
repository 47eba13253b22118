-- Cloud fax providers' webhooks, verified by the API and kept for the agent's line that sent the fax: one row
-- per (provider, provider_sid, event), so a provider's retry or a replay is stored once. Normalised fields
-- only (status, pages, error text): no number and no document content is kept here.
CREATE TABLE provider_events (
    seq BIGSERIAL PRIMARY KEY,
    provider TEXT NOT NULL,
    provider_sid TEXT NOT NULL,
    event TEXT NOT NULL,
    job_id TEXT,
    status TEXT NOT NULL,
    pages BIGINT,
    error TEXT,
    received_at BIGINT NOT NULL,
    UNIQUE (provider, provider_sid, event)
);
CREATE INDEX provider_events_sid ON provider_events (provider, provider_sid, seq);
CREATE INDEX provider_events_received ON provider_events (received_at);
