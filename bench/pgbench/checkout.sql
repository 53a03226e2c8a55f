-- One cash checkout of one unit, in one transaction: the guarded stock
-- take (its price from RETURNING), the order, its line.
\set p random(1, 300)
\set b random(1, 1000)
BEGIN;
UPDATE products SET stock = stock - 1 WHERE id = :p AND stock >= 1 RETURNING price \gset
INSERT INTO orders (buyer, total) VALUES (:b, :price) RETURNING id \gset
INSERT INTO order_lines (order_id, product_id, qty, price) VALUES (:id, :p, 1, :price);
COMMIT;
