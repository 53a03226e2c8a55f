-- Search on SQLite: an FTS5 index of title and search_text, kept in step by
-- triggers. FTS5 rows are keyed by integers, so product_search gives each
-- product a stable one (an INTEGER PRIMARY KEY survives VACUUM; the implicit
-- rowid of products would not). products_vocab lists the indexed terms, from
-- which the search service picks near spellings of a misspelt word.
CREATE TABLE product_search (
    rowid      INTEGER PRIMARY KEY,
    product_id TEXT NOT NULL UNIQUE
);
CREATE VIRTUAL TABLE products_fts USING fts5(
    title, search_text, tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE VIRTUAL TABLE products_vocab USING fts5vocab(products_fts, 'row');

CREATE TRIGGER products_fts_insert AFTER INSERT ON products BEGIN
    INSERT INTO product_search (product_id) VALUES (new.id);
    INSERT INTO products_fts (rowid, title, search_text)
    VALUES ((SELECT rowid FROM product_search WHERE product_id = new.id), new.title, new.search_text);
END;
CREATE TRIGGER products_fts_update AFTER UPDATE OF title, search_text ON products BEGIN
    UPDATE products_fts SET title = new.title, search_text = new.search_text
    WHERE rowid = (SELECT rowid FROM product_search WHERE product_id = new.id);
END;
CREATE TRIGGER products_fts_delete AFTER DELETE ON products BEGIN
    DELETE FROM products_fts WHERE rowid = (SELECT rowid FROM product_search WHERE product_id = old.id);
    DELETE FROM product_search WHERE product_id = old.id;
END;
