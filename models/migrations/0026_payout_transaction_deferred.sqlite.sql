-- A payout's row is written before its booking, so that the booking is all
-- a payout does while it holds its group's chain head (issue 22): the
-- payout's transaction is checked at commit, when it exists. SQLite cannot
-- alter a foreign key; making one deferred leaves every stored row valid,
-- so this is SQLite's documented in-place schema edit, as in 0009.
PRAGMA writable_schema = ON;
UPDATE sqlite_master
SET sql = replace(sql, 'transaction_id       TEXT NOT NULL REFERENCES ledger_transactions (id),',
                       'transaction_id       TEXT NOT NULL REFERENCES ledger_transactions (id) DEFERRABLE INITIALLY DEFERRED,')
WHERE type = 'table' AND name = 'payouts';
PRAGMA schema_version = {{next_schema_version}};
PRAGMA writable_schema = OFF;
