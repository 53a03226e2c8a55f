-- One split (contract section 10). An order line freezes the card fee
-- estimate too: its difference from the fee paid goes to the group margin,
-- and the fund is the share of the margin the buyer was shown. Lines taken
-- before froze none; they had the fees in force, which figure_basis holds.
ALTER TABLE order_lines ADD COLUMN processing_bps integer NOT NULL DEFAULT 0
    CHECK (processing_bps BETWEEN 0 AND 10000);
UPDATE order_lines SET processing_bps = coalesce((SELECT processing_bps FROM figure_basis WHERE id = 1), 300);
-- How much more a product's price must be to cover its costs and fees at
-- the rates in force: 0 when it covers them. Its managers see it.
ALTER TABLE products ADD COLUMN shortfall bigint NOT NULL DEFAULT 0 CHECK (shortfall >= 0);
-- Fees are admin data from now on (PUT /admin/fees); the environment gives
-- the first values only. figure_basis is where they are kept.
