-- Engine settings of a DuckDB session (warehouse/engine.py).

-- step: memory_limit
SET memory_limit = ${limit};

-- step: threads
SET threads = ${threads};

-- step: spill
SET temp_directory = ${path};
