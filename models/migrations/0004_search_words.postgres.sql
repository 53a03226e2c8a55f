-- The words of product titles, for misspellings: a query word that matches
-- nothing is widened to the title words most like it (pg_trgm similarity over
-- this small table, through its trigram index), and the search then runs on
-- the full-text index as usual. Scoring every title against the misspelt word
-- instead reads every candidate row: seconds under load on a large catalogue.
-- Words with digits (sizes, numbers) are left out: a misspelt word is letters.
-- Words are only ever added; one that no product uses any more widens a query
-- to a word that matches nothing.
CREATE TABLE search_words (word text PRIMARY KEY);
CREATE INDEX search_words_trgm_idx ON search_words USING gin (word public.gin_trgm_ops);

CREATE FUNCTION search_words_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_words (word)
    SELECT lexeme FROM unnest(to_tsvector('simple', NEW.title)) WHERE lexeme !~ '[0-9]'
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;

CREATE TRIGGER products_search_words AFTER INSERT OR UPDATE OF title ON products
    FOR EACH ROW EXECUTE FUNCTION search_words_add();

INSERT INTO search_words (word)
SELECT DISTINCT lexeme FROM products, unnest(to_tsvector('simple', title)) WHERE lexeme !~ '[0-9]'
ON CONFLICT DO NOTHING;
