-- Spark twins of 11_write_link.sql's steps that have no Spark counterpart (the other steps are transpiled).

-- step: settings
-- DuckDB's progress bar: Spark has none to switch off (its console progress is off in warehouse.spark.LOCAL_CONF).
