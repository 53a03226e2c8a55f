-- The minimal checkout of issue 22, for pgbench (checkout.sql): 300
-- products with stock, an order and its line. bench/run loads it into a
-- schema of its own (search_path via PGOPTIONS), apart from Karigar's tables.
DROP TABLE IF EXISTS order_lines, orders, products;
CREATE TABLE products (id int PRIMARY KEY, stock bigint CHECK (stock >= 0), price bigint);
CREATE TABLE orders (id bigserial PRIMARY KEY, buyer int, total bigint, created_at timestamptz DEFAULT now());
CREATE TABLE order_lines (id bigserial PRIMARY KEY, order_id bigint REFERENCES orders, product_id int REFERENCES products,
	qty int, price bigint);
INSERT INTO products SELECT i, 10000000, 100000 + i FROM generate_series(1, 300) i;
ANALYZE products;
