-- Each category's count of published products, kept by the products
-- table's triggers in the transaction that changes a product's status or
-- category. GET /categories counted them on every request: 170–330 ms at
-- 100,000 products.
-- - Inserts and deletes are counted once a statement (transition tables),
--   so a bulk import of thousands of products changes each category's row
--   once a batch, not once a product (each change leaves a row version).
-- - Updates are counted a row at a time, and only when status or category
--   is written: PostgreSQL allows no column list on a trigger with
--   transition tables, and a checkout's stock UPDATE must not pay for one.
ALTER TABLE categories ADD COLUMN published_count bigint NOT NULL DEFAULT 0 CHECK (published_count >= 0);

-- Counts what one statement inserted or deleted: both triggers name those rows changed.
CREATE FUNCTION category_counts_statement() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE categories c SET published_count = c.published_count + CASE TG_OP WHEN 'INSERT' THEN d.n ELSE -d.n END
    FROM (SELECT category, count(*) AS n FROM changed WHERE status = 'published' GROUP BY category) d
    WHERE c.slug = d.category;
    RETURN NULL;
END $$;

CREATE FUNCTION category_counts_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = NEW.status AND OLD.category = NEW.category THEN
        RETURN NULL;
    END IF;
    IF OLD.status = 'published' THEN
        UPDATE categories SET published_count = published_count - 1 WHERE slug = OLD.category;
    END IF;
    IF NEW.status = 'published' THEN
        UPDATE categories SET published_count = published_count + 1 WHERE slug = NEW.category;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER products_category_counts_inserted AFTER INSERT ON products
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION category_counts_statement();
CREATE TRIGGER products_category_counts_deleted AFTER DELETE ON products
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION category_counts_statement();
CREATE TRIGGER products_category_counts_updated AFTER UPDATE OF status, category ON products
    FOR EACH ROW EXECUTE FUNCTION category_counts_updated();

UPDATE categories SET published_count = (SELECT count(*) FROM products p WHERE p.category = categories.slug AND p.status = 'published');
