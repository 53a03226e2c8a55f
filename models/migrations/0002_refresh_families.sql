-- A refresh token family is revoked as a whole, by one row that every
-- refresh must update first: reuse detection and a concurrent refresh of the
-- family's newest token are then serialised on that row, so no token can be
-- minted into a family after it was revoked.

CREATE TABLE refresh_families (
    id           {{uuid}} PRIMARY KEY,
    user_id      {{uuid}} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   {{timestamp}} NOT NULL,
    last_used_at {{timestamp}} NOT NULL,
    revoked_at   {{timestamp}}
);
CREATE INDEX refresh_families_user_idx ON refresh_families (user_id);

INSERT INTO refresh_families (id, user_id, created_at, last_used_at, revoked_at)
SELECT family_id, user_id, min(created_at), max(created_at),
       CASE WHEN count(*) = count(revoked_at) THEN max(revoked_at) END
FROM refresh_tokens GROUP BY family_id, user_id;

CREATE INDEX refresh_tokens_expires_idx ON refresh_tokens (expires_at);
