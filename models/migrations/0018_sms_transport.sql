-- The SMS transport (contract section 12): what Kannel's sms-service has
-- handed over, one row per gateway message id (Kannel's %I). The row is
-- written in the transaction that handles the message, so the same id
-- delivered twice (Kannel calls again when an answer is lost) is handled
-- once: the second insert finds the first and does nothing.
-- The sender is kept only as its keyed hash (services/pii), never in clear;
-- the text is not kept here at all (what a reply does is its handler's to record).
CREATE TABLE sms_inbound (
    gateway_id  text PRIMARY KEY,
    from_lookup text NOT NULL,
    received_at {{timestamp}} NOT NULL,
    reply_id    {{uuid}} REFERENCES sms_messages (id)
);
-- The hourly purge of ids older than any retry of Kannel's.
CREATE INDEX sms_inbound_received_idx ON sms_inbound (received_at);
