-- Taking access away (contract section 11): disabling an account, an
-- admin-issued password reset, and the check every request makes.
--
-- Access tokens carry the token_version they were issued at (claim "ver").
-- Disabling an account or resetting its password adds one, and the
-- per-request check (one read by primary key) refuses any token of an older
-- version: no clock comparison, so a token issued in the same second as a
-- reset is still told apart. Tokens issued before this migration carry no
-- "ver", which reads as 0, the column's default: they stay valid.
ALTER TABLE users ADD COLUMN disabled_at {{timestamp}};
ALTER TABLE users ADD COLUMN token_version integer NOT NULL DEFAULT 0;

-- A reset token is handed out once and stored only as its SHA-256 hash (it
-- has 256 random bits, so no salt or slow hash is needed). Using it sets
-- used_at with a conditional UPDATE: of two racing uses exactly one wins.
CREATE TABLE password_resets (
    id         {{uuid}} PRIMARY KEY,
    user_id    {{uuid}} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash text NOT NULL UNIQUE,
    created_by {{uuid}} REFERENCES users (id) ON DELETE SET NULL,
    created_at {{timestamp}} NOT NULL,
    expires_at {{timestamp}} NOT NULL,
    used_at    {{timestamp}}
);
CREATE INDEX password_resets_user_idx ON password_resets (user_id);
CREATE INDEX password_resets_expires_idx ON password_resets (expires_at);
