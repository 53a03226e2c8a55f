-- The fees the stored fair-trade figures of products were computed with.
-- Fees are configuration; when a deployment starts with other fees than
-- these, it refigures every product and records the new ones (one row).
CREATE TABLE figure_basis (
    id               integer PRIMARY KEY CHECK (id = 1),
    platform_fee_bps integer NOT NULL CHECK (platform_fee_bps BETWEEN 0 AND 10000),
    processing_bps   integer NOT NULL CHECK (processing_bps BETWEEN 0 AND 10000),
    updated_at       {{timestamp}} NOT NULL
);
