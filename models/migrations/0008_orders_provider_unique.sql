-- A payment intent belongs to exactly one order: the webhook finds the order
-- by it, so a second order with the same reference must be refused.
DROP INDEX orders_provider_idx;
CREATE UNIQUE INDEX orders_provider_idx ON orders (provider_ref);
