-- Step 0. What linkage reads from the warehouse: the distinct names, the division names, the raw IDs the loader
-- left unclassified, and the two source views (lk_dept_src, lk_registry_src). The warehouse tables are only read.

-- step: distinct_names
SELECT DISTINCT name FROM registry_person WHERE name IS NOT NULL
UNION
SELECT DISTINCT name FROM dept_record WHERE name IS NOT NULL;

-- step: divisions
-- one row per village of the registry (and of the village table when the warehouse has one: {{villages}})
SELECT DISTINCT coalesce(county_code, left(village_code, 6)) AS county_code, county,
       coalesce(township_code, left(village_code, 9)) AS township_code, township, village_code, village
FROM {{villages}};

-- step: registry_villages
CREATE OR REPLACE TEMP VIEW lk_villages AS
SELECT county_code, county, township_code, township, village_code, village FROM registry_person;

-- step: registry_and_village_table
CREATE OR REPLACE TEMP VIEW lk_villages AS
SELECT county_code, county, township_code, township, village_code, village FROM registry_person
UNION ALL
SELECT county_code, county, township_code, township, village_code, village FROM village;

-- step: reference_date
-- the date ages are counted at: the latest event date among the department records
SELECT max(event_date) FROM dept_record WHERE event_date <= current_date;

-- step: unclassified_dept_ids
SELECT DISTINCT id_raw FROM dept_record WHERE id_status IS NULL;

-- step: unclassified_registry_ids
SELECT DISTINCT id_raw FROM registry_person WHERE id_status IS NULL AND id_number IS NULL AND id_raw IS NOT NULL;

-- step: dept_order
-- ``_rowid`` becomes the internal rid: feeds and their files by name, versions of one file name in the order they
-- arrived, rows in file order. Ties and the label sample follow the rid, so it must not depend on the order in which a
-- run happened to load the files (a round's ingest steps may finish in any order: the rid once followed the load
-- order, and the city-size round's links were seen to differ by a few records between reruns); every engine numbers the
-- rows alike (Spark has no row id). The rows are numbered on their key alone and joined back (a window over the wide
-- rows sorted all 38 columns). A file is read from one sheet and loaded once per content hash (ingested_file's key),
-- so (file_hash, source_row) is a row's key: each file's rows are numbered in a window of their own, after the rows
-- of the files before it. One window over all rows sorted them as one and joined back on four keys: the province's
-- records step 42.5 → 33.2 s this way, the same numbers (partitioning and joining on all four keys: 55 s).
CREATE OR REPLACE TEMP VIEW lk_dept_order AS
WITH f AS (
    SELECT d.file_hash, count(*) AS n, any_value(d.source) AS source, any_value(d.source_file) AS source_file,
        any_value(i.ingested_at) AS ingested_at
    FROM dept_record d LEFT JOIN ingested_file i ON i.file_hash = d.file_hash
    GROUP BY d.file_hash
),
base AS (
    SELECT file_hash,
        sum(n) OVER (ORDER BY source, source_file, ingested_at, file_hash ROWS UNBOUNDED PRECEDING) - n AS first_rowid
    FROM f
)
SELECT d.file_hash, d.source_row,
    b.first_rowid + row_number() OVER (PARTITION BY d.file_hash ORDER BY d.source_row) - 1 AS _rowid
FROM dept_record d JOIN base b ON b.file_hash = d.file_hash;

-- step: dept_view
-- Rows the loader left unclassified take the classification of lk_idfix_d (the loader's own logic, run here).
CREATE OR REPLACE TEMP VIEW lk_dept_src AS
SELECT o._rowid,
    d.* EXCLUDE (id_status, id_number, id_candidate, birth_date, sex),
    coalesce(d.id_status, f.id_status) AS id_status,
    CASE WHEN d.id_status IS NULL THEN f.id_number ELSE d.id_number END AS id_number,
    CASE WHEN d.id_status IS NULL THEN f.id_candidate ELSE d.id_candidate END AS id_candidate,
    coalesce(d.birth_date, CASE WHEN d.id_status IS NULL THEN f.id_birth_date END) AS birth_date,
    coalesce(d.sex, CASE WHEN d.id_status IS NULL THEN f.id_sex END) AS sex
FROM dept_record d
JOIN lk_dept_order o USING (file_hash, source_row)
LEFT JOIN lk_idfix_d f ON d.id_status IS NULL AND f.id_raw IS NOT DISTINCT FROM d.id_raw;

-- step: dept_view_plain
CREATE OR REPLACE TEMP VIEW lk_dept_src AS
SELECT o._rowid, d.*
FROM dept_record d JOIN lk_dept_order o USING (file_hash, source_row);

-- step: registry_files
-- ``_rowid``: files by name, versions in the order they arrived, rows in file order (as for the department records),
-- numbered over the rows themselves (the registry's key columns may be empty: rows not loaded from a file). The files
-- are ranked first (a few hundred rows) and the window sorts the rows on (file rank, row) — two integers where it
-- sorted two strings and a time along with the wide rows: the province's persons step 37.0 → 22.4–24.8 s (its WINDOW
-- 25.8 → 6.1–6.7 s), the same numbering. (The department side keeps its key-only window: ranking its files the same
-- way made the records step spill four times as much.)
CREATE OR REPLACE TEMP VIEW lk_registry_files AS
SELECT source_file, file_hash, row_number() OVER (ORDER BY source_file, ingested_at, file_hash) AS file_rank
FROM (SELECT DISTINCT p.source_file, p.file_hash, i.ingested_at
      FROM registry_person p LEFT JOIN ingested_file i ON i.file_hash = p.file_hash);

-- step: registry_view
CREATE OR REPLACE TEMP VIEW lk_registry_src AS
SELECT row_number() OVER (ORDER BY r.file_rank, p.source_row) - 1 AS _rowid,
    p.* EXCLUDE (id_number), coalesce(p.id_number, f.id_number) AS id_number
FROM registry_person p
LEFT JOIN lk_registry_files r
    ON r.source_file IS NOT DISTINCT FROM p.source_file AND r.file_hash IS NOT DISTINCT FROM p.file_hash
LEFT JOIN lk_idfix_r f ON p.id_number IS NULL AND f.id_raw = p.id_raw;

-- step: registry_view_plain
CREATE OR REPLACE TEMP VIEW lk_registry_src AS
SELECT row_number() OVER (ORDER BY r.file_rank, p.source_row) - 1 AS _rowid, p.*
FROM registry_person p
LEFT JOIN lk_registry_files r
    ON r.source_file IS NOT DISTINCT FROM p.source_file AND r.file_hash IS NOT DISTINCT FROM p.file_hash;
