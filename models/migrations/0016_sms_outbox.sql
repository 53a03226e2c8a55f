-- The SMS outbox (contract section 12): a message is written in the same
-- transaction as what causes it (a payout's receipt, a reply), and a sender
-- loop on any replica hands it to Kannel, taking rows with
-- FOR UPDATE SKIP LOCKED so that each is handed over by one replica.
-- The number is kept sealed (services/pii) and masked for lists; never clear.
CREATE TABLE sms_messages (
    id              {{uuid}} PRIMARY KEY,
    group_id        {{uuid}} REFERENCES producer_groups (id),
    artisan_id      {{uuid}} REFERENCES artisans (id),
    kind            text NOT NULL,
    to_sealed       text NOT NULL,
    to_masked       text NOT NULL,
    body            text NOT NULL,
    unicode         boolean NOT NULL,
    status          text NOT NULL CHECK (status IN ('queued', 'sent', 'delivered', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at {{timestamp}} NOT NULL,
    last_error      text,
    created_at      {{timestamp}} NOT NULL,
    sent_at         {{timestamp}},
    delivered_at    {{timestamp}},
    failed_at       {{timestamp}}
);
-- The sender's question: what is due now.
CREATE INDEX sms_messages_due_idx ON sms_messages (next_attempt_at) WHERE status = 'queued';
CREATE INDEX sms_messages_group_idx ON sms_messages (group_id, id);
