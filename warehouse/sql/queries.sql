-- Generic queries of the runner (warehouse/runner.py): the same for every table.

-- step: count
SELECT count(*) AS n FROM {{table}};

-- step: empty
-- no rows, every column: the relation's schema as Arrow
SELECT * FROM {{table}} LIMIT 0;

-- step: all
SELECT * FROM {{table}};
