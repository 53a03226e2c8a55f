-- The minimal hash-chained transfer of issue 22, for pgbench (payout.sql):
-- one group's chain head, balances (the group's account 0, two artisans'
-- payables 1 and 2, never negative), transactions and their postings.
DROP TABLE IF EXISTS postings, transactions, balances, chain;
CREATE TABLE chain (grp int PRIMARY KEY, seq bigint NOT NULL, head text NOT NULL);
CREATE TABLE balances (account int PRIMARY KEY, balance bigint NOT NULL CHECK (balance >= 0));
CREATE TABLE transactions (id bigserial PRIMARY KEY, grp int NOT NULL, seq bigint NOT NULL, hash text NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(), UNIQUE (grp, seq));
CREATE TABLE postings (id bigserial PRIMARY KEY, tx_id bigint NOT NULL REFERENCES transactions, account int NOT NULL
	REFERENCES balances, amount bigint NOT NULL);
INSERT INTO chain VALUES (1, 0, md5('genesis'));
INSERT INTO balances VALUES (0, 0), (1, 1000000000), (2, 1000000000);
ANALYZE;
