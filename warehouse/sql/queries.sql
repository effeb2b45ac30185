-- Generic queries of the runner (warehouse/runner.py): the same for every table.

-- step: count
SELECT count(*) AS n FROM {{table}};

-- step: temporary
-- the session's temporary tables and views (Runner.temporary; Spark lists its own)
SELECT table_name, CASE WHEN table_type = 'VIEW' THEN 'VIEW' ELSE 'TABLE' END AS kind
FROM information_schema.tables
WHERE table_schema = 'main' AND table_catalog = 'temp'
ORDER BY table_name;

-- step: empty
-- no rows, every column: the relation's schema as Arrow
SELECT * FROM {{table}} LIMIT 0;

-- step: all
SELECT * FROM {{table}};
