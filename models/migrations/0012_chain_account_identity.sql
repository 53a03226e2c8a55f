-- The hash chain covers each account's identity (contract section 11).
--
-- hash_version says which encoding a transaction's hash covers
-- (services/ledger/chain.go): 1, the transaction and its postings, as every
-- row written before this migration was hashed; 2, also each posting's
-- account identity (owner kind, owner id, group, type, currency, whether it
-- may go negative). The default is 1 so that the rows already written, and
-- those an older binary still writes during a rolling deploy (it does not
-- name the column), are checked the way they were hashed.
ALTER TABLE ledger_transactions ADD COLUMN hash_version integer NOT NULL DEFAULT 1 CHECK (hash_version IN (1, 2));

-- identity_hash is SHA-256 of an account's id and identity when it was
-- opened. The chain's hashes are the evidence; this only lets verify name
-- the account whose row was edited. NULL for accounts opened before.
ALTER TABLE ledger_accounts ADD COLUMN identity_hash {{bytes}};
