-- A published product whose price no longer covers its costs and fees (fees
-- raised, a benchmark changed) is withdrawn from sale until it is repriced.
-- SQLite cannot alter a CHECK constraint, and rebuilding products would
-- cascade into its makers; a wider CHECK leaves every stored row valid, so
-- this is SQLite's documented in-place schema edit (lang_altertable.html,
-- "other kinds of table schema changes"): the new schema_version makes
-- every connection read the schema again.
PRAGMA writable_schema = ON;
UPDATE sqlite_master
SET sql = replace(sql, 'CHECK (status IN (''draft'', ''published'', ''archived''))',
                       'CHECK (status IN (''draft'', ''published'', ''needs_repricing'', ''archived''))')
WHERE type = 'table' AND name = 'products';
PRAGMA schema_version = {{next_schema_version}};
PRAGMA writable_schema = OFF;
