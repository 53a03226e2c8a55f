-- A published product whose price no longer covers its costs and fees (fees
-- raised, a benchmark changed) is withdrawn from sale until it is repriced.
ALTER TABLE products DROP CONSTRAINT products_status_check;
ALTER TABLE products ADD CONSTRAINT products_status_check
    CHECK (status IN ('draft', 'published', 'needs_repricing', 'archived'));
