-- Accounts, sign-in and the reusable idempotency store.

CREATE TABLE users (
    id            {{uuid}} PRIMARY KEY,
    email         text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    name          text NOT NULL,
    role          text NOT NULL CHECK (role IN ('buyer', 'producer', 'auditor', 'admin')),
    created_at    {{timestamp}} NOT NULL,
    updated_at    {{timestamp}} NOT NULL
);

CREATE TABLE refresh_tokens (
    id         {{uuid}} PRIMARY KEY,
    user_id    {{uuid}} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id  {{uuid}} NOT NULL,
    token_hash text NOT NULL UNIQUE,
    expires_at {{timestamp}} NOT NULL,
    revoked_at {{timestamp}},
    created_at {{timestamp}} NOT NULL
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);

CREATE TABLE login_failures (
    key          text PRIMARY KEY,
    failures     integer NOT NULL CHECK (failures >= 0),
    window_start {{timestamp}} NOT NULL
);

CREATE TABLE idempotency_keys (
    user_id       {{uuid}} NOT NULL,
    key           text NOT NULL,
    request_hash  text NOT NULL,
    status        integer NOT NULL DEFAULT 0,
    content_type  text NOT NULL DEFAULT '',
    response_body {{bytes}},
    created_at    {{timestamp}} NOT NULL,
    expires_at    {{timestamp}} NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at);
