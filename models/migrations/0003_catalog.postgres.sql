-- Search on PostgreSQL: a weighted tsvector (title A, the rest C) in a GIN
-- index, and pg_trgm on the title for misspellings. The extension belongs to
-- the database, not to a schema, so it goes into public once; the lock keeps
-- replicas (and test schemas) migrating at once from racing to create it.
SELECT pg_advisory_xact_lock(hashtext('karigar.extensions'));
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

ALTER TABLE products ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', title), 'A') ||
    setweight(to_tsvector('english', search_text), 'C')
) STORED;
CREATE INDEX products_search_idx ON products USING gin (search_vector) WHERE status = 'published';
CREATE INDEX products_title_trgm_idx ON products USING gin (title public.gin_trgm_ops) WHERE status = 'published';
