-- A payout's row is written before its booking, so that the booking is all
-- a payout does while it holds its group's chain head (issue 22): the
-- payout's transaction is checked at commit, when it exists.
ALTER TABLE payouts ALTER CONSTRAINT payouts_transaction_id_fkey DEFERRABLE INITIALLY DEFERRED;
