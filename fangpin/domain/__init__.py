"""Pure domain functions: no Dagster, no DuckDB connections, no files. Test them directly."""
