-- A replayed 201 names the created resource in Location as the first answer
-- did (issue 16): the header is stored beside the status and the body.
ALTER TABLE idempotency_keys ADD COLUMN location text NOT NULL DEFAULT '';
