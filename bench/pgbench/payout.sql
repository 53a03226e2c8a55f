-- One payout of 1 paisa to one of two artisans, in one transaction: the
-- chain head moves (its hash over the last), the artisan's payable is
-- debited with an overdraft guard, the group's account credited, the
-- transaction stored with its sequence and hash, and its two postings.
\set a random(1, 2)
BEGIN;
UPDATE chain SET seq = seq + 1, head = md5(head || :a) WHERE grp = 1 RETURNING seq, head \gset
UPDATE balances SET balance = balance - 1 WHERE account = :a AND balance >= 1;
UPDATE balances SET balance = balance + 1 WHERE account = 0;
INSERT INTO transactions (grp, seq, hash) VALUES (1, :seq, ':head') RETURNING id \gset
INSERT INTO postings (tx_id, account, amount) VALUES (:id, :a, -1), (:id, 0, 1);
COMMIT;
