-- Optional two-step login (TOTP, RFC 6238) for console users. totp_secret is the shared secret sealed with
-- AES-256-GCM under a key derived from the server secret (kept outside the database), so a copy of the
-- database alone gives no one the codes. Set but with totp_enabled_at NULL: set up, not yet confirmed with a
-- code (not asked at login). totp_last_step: the 30-second step of the last code accepted; a code of that
-- step or an earlier one is refused, so a code seen over a shoulder cannot be used again.
ALTER TABLE console_users ADD COLUMN totp_secret TEXT;
ALTER TABLE console_users ADD COLUMN totp_enabled_at INTEGER;
ALTER TABLE console_users ADD COLUMN totp_last_step INTEGER;

-- The console's login throttle (api/src/console/throttle.rs), shared by every API instance on this database:
-- one row per counter (an address and username pair, a device and username, an address, a username). id is an
-- HMAC of what is counted under the server secret: no address or username is stored. expires_at: when the row
-- no longer matters (its lock and its counting window both over); such rows are deleted as logins go on.
CREATE TABLE console_login_counters (
    id TEXT PRIMARY KEY NOT NULL,
    window_start INTEGER NOT NULL,
    failures INTEGER NOT NULL,
    locked_until INTEGER NOT NULL,
    last_failure INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX console_login_counters_expiry ON console_login_counters (expires_at);

-- Per-number mailboxes: the inbound numbers (inbound_faxes.to_number, as the line reports them) whose faxes a
-- staff user sees in the console's inbox. Admins see every fax; a staff user with no mailbox sees none.
CREATE TABLE console_mailboxes (
    user_id TEXT NOT NULL REFERENCES console_users (id) ON DELETE CASCADE,
    to_number TEXT NOT NULL,
    PRIMARY KEY (user_id, to_number)
);
CREATE INDEX console_mailboxes_number ON console_mailboxes (to_number);
