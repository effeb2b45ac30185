-- The files an incremental round counts as new (SPEC §7 "incremental"): loaded after `since`, or every file when no
-- round was published before; other kinds need none.

-- step: since
CREATE OR REPLACE TEMP TABLE _newfiles AS SELECT file_hash FROM ingested_file WHERE ingested_at > ${since};

-- step: all
CREATE OR REPLACE TEMP TABLE _newfiles AS SELECT DISTINCT file_hash FROM dept_record;

-- step: none
CREATE OR REPLACE TEMP TABLE _newfiles (file_hash VARCHAR);
