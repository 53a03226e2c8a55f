-- Each category's count of published products, kept by triggers in the
-- transaction that changes a product's status or category (see the
-- PostgreSQL migration for why).
ALTER TABLE categories ADD COLUMN published_count integer NOT NULL DEFAULT 0 CHECK (published_count >= 0);

CREATE TRIGGER products_category_counts_insert AFTER INSERT ON products WHEN NEW.status = 'published' BEGIN
    UPDATE categories SET published_count = published_count + 1 WHERE slug = NEW.category;
END;
CREATE TRIGGER products_category_counts_delete AFTER DELETE ON products WHEN OLD.status = 'published' BEGIN
    UPDATE categories SET published_count = published_count - 1 WHERE slug = OLD.category;
END;
CREATE TRIGGER products_category_counts_leave AFTER UPDATE OF status, category ON products
    WHEN OLD.status = 'published' AND (NEW.status <> 'published' OR NEW.category <> OLD.category) BEGIN
    UPDATE categories SET published_count = published_count - 1 WHERE slug = OLD.category;
END;
CREATE TRIGGER products_category_counts_enter AFTER UPDATE OF status, category ON products
    WHEN NEW.status = 'published' AND (OLD.status <> 'published' OR NEW.category <> OLD.category) BEGIN
    UPDATE categories SET published_count = published_count + 1 WHERE slug = NEW.category;
END;

UPDATE categories SET published_count = (SELECT count(*) FROM products p WHERE p.category = categories.slug AND p.status = 'published');
