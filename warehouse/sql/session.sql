-- Engine settings of a DuckDB session (warehouse/engine.py).

-- step: memory_limit
SET memory_limit = ${limit};

-- step: threads
SET threads = ${threads};

-- step: spill
SET temp_directory = ${path};

-- step: writer
-- No row-group merging ("vacuum") at checkpoints. Every loaded file ends in a partly filled row group, and with
-- vacuum each automatic checkpoint of the ingest re-compressed the registry and department tables to merge them:
-- 5 s of the city's 38 s ingest. Off for every writer session, not the ingest alone: a later stage's checkpoint would
-- otherwise do the same merge (BENCHMARKS.md, "Issue 17: the checkpoint's vacuum"). Row groups whose rows are all deleted (a county's registry export replaced, a file
-- forgotten) are still dropped and their blocks reused; what stays is one partial row group per file and the
-- deletions inside a row group.
SET max_vacuum_tasks = 0;
