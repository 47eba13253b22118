-- Optional two-step login (TOTP, RFC 6238) for console users. totp_secret is the shared secret sealed with
-- AES-256-GCM under a key derived from the server secret (kept outside the database), so a copy of the
-- database alone gives no one the codes. Set but with totp_enabled_at NULL: set up, not yet confirmed with a
-- code (not asked at login). totp_last_step: the 30-second step of the last code accepted; a code of that
-- step or an earlier one is refused, so a code seen over a shoulder cannot be used again.
ALTER TABLE console_users ADD COLUMN totp_secret TEXT;
ALTER TABLE console_users ADD COLUMN totp_enabled_at INTEGER;
ALTER TABLE console_users ADD COLUMN totp_last_step INTEGER;
