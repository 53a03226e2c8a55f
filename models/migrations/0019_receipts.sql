-- Receipts (contract section 12): every payout to an artisan who consented
-- to SMS gets a receipt with a code she can answer, written in the
-- transaction that writes the payout, beside its SMS in the outbox.
--
-- Who acknowledged a payout: the artisan herself by SMS, a manager on her
-- word, or an auditor who asked her. acknowledged_by keeps the user who
-- acted (NULL when she answered herself); acknowledged_as says in which
-- capacity. Acknowledgements made before this migration were made through
-- the acknowledge route by a manager or an auditor, which the acting user's
-- role tells apart.
ALTER TABLE payouts ADD COLUMN acknowledged_as text CHECK (acknowledged_as IN ('artisan_sms', 'manager', 'auditor'));
UPDATE payouts SET acknowledged_as = CASE
        WHEN (SELECT role FROM users WHERE users.id = payouts.acknowledged_by) = 'auditor' THEN 'auditor'
        ELSE 'manager' END
    WHERE acknowledged_at IS NOT NULL;

-- code: 10 symbols of Crockford's base32 (50 random bits), canonical form.
-- message_id: the receipt's SMS (NULL only inside the transaction that
-- writes both). confirmed_at / disputed_at: her answer, at most one of them,
-- never changed once set; settled_by is the gateway id of the inbound
-- message that gave it.
CREATE TABLE receipts (
    id           {{uuid}} PRIMARY KEY,
    payout_id    {{uuid}} NOT NULL UNIQUE REFERENCES payouts (id),
    group_id     {{uuid}} NOT NULL REFERENCES producer_groups (id),
    artisan_id   {{uuid}} NOT NULL REFERENCES artisans (id),
    code         text NOT NULL UNIQUE,
    language     text NOT NULL CHECK (language IN ('ur', 'roman_ur', 'en')),
    message_id   {{uuid}} REFERENCES sms_messages (id),
    created_at   {{timestamp}} NOT NULL,
    confirmed_at {{timestamp}},
    disputed_at  {{timestamp}},
    settled_by   text,
    CHECK (confirmed_at IS NULL OR disputed_at IS NULL)
);
-- GET /groups/{id}/disputes, newest first.
CREATE INDEX receipts_disputes_idx ON receipts (group_id, disputed_at, id) WHERE disputed_at IS NOT NULL;
