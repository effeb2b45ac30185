-- Loading one dropped file (warehouse/load.py): every step runs inside the file's transaction. The incoming frames
-- are the temp relations _load_rows (accepted rows) and _load_rejected (rejected rows), put by the loader.

-- step: known_files
SELECT file_hash, file_name, status, reason_code, dropped_at FROM ingested_file;

-- step: history
-- What the warehouse knows of this file and of its namesakes, in one look (on Spark every query is a job): an earlier
-- attempt of the same bytes (a quarantined reader failure read again, a half-done test) and the versions of the same
-- name a department sent before (a corrected extract re-sent). Loads are one transaction each, so a file
-- ingested_file does not know has no rows anywhere: ``forget`` is skipped for it (five table scans per file, and on
-- Spark five rewrites of whole tables).
SELECT file_hash, status, superseded_by FROM ingested_file
WHERE file_hash = ${file_hash} OR (feed = ${feed} AND file_name = ${file_name});

-- step: forget
-- Whatever an earlier, interrupted attempt left for this file.
DELETE FROM registry_person WHERE file_hash = ${file_hash};
DELETE FROM dept_record WHERE file_hash = ${file_hash};
DELETE FROM village WHERE file_hash = ${file_hash};
DELETE FROM rejected_row WHERE file_hash = ${file_hash};
DELETE FROM ingested_file WHERE file_hash = ${file_hash};

-- step: supersede
-- The earlier versions' department rows stay (every row accounted for, still linked) but are marked superseded: the
-- evidence never counts them. A registry export is a snapshot of its households: an earlier version's persons go.
UPDATE dept_record SET superseded = true WHERE file_hash IN (${hashes});
DELETE FROM registry_person WHERE file_hash IN (${hashes});
UPDATE ingested_file SET superseded_by = ${file_hash} WHERE file_hash IN (${hashes});

-- step: dept_insert
-- The same event arriving twice (overlapping extracts, or twice in one file) is counted once: the first file wins.
-- Later copies stay accounted for (and linked) but carry duplicate_event = true: a row whose event key appeared in an
-- earlier row of this file, or in a counted, not superseded row already stored. (The first row per key comes from a
-- grouped join, not a window function: a window over the incoming rows doubled the cost of the insert.)
INSERT INTO dept_record BY NAME
SELECT {{columns}},
       coalesce(r.event_key IS NOT NULL AND (r.source_row > m.first_row OR s.event_key IS NOT NULL), false)
           AS duplicate_event,
       false AS superseded
FROM _load_rows r
LEFT JOIN (
    SELECT event_key, min(source_row) AS first_row FROM _load_rows WHERE event_key IS NOT NULL GROUP BY event_key
) m ON m.event_key = r.event_key
LEFT JOIN (
    SELECT DISTINCT d.source, d.event_key
    FROM dept_record d
    WHERE NOT d.duplicate_event AND NOT d.superseded
      AND d.event_key IN (SELECT event_key FROM _load_rows WHERE event_key IS NOT NULL)
) s ON s.source = r.source AND s.event_key = r.event_key;

-- step: duplicate_rows
SELECT source_row, event_key FROM dept_record WHERE file_hash = ${file_hash} AND duplicate_event ORDER BY source_row;

-- step: registry_replace
-- A registry export is a full snapshot of its households: newer rows replace the older ones. The range test adds
-- nothing logically (every id of the file is in it) but lets DuckDB skip, by the row groups' min/max, the households
-- of other exports: without it every registry file probes the whole registry (quadratic at province scale).
DELETE FROM registry_person
WHERE household_id BETWEEN ${lo} AND ${hi}
  AND household_id IN (SELECT household_id FROM _load_rows);

-- step: village_replace
DELETE FROM village WHERE village_code IN (SELECT village_code FROM _load_rows);

-- step: insert
INSERT INTO {{table}} BY NAME SELECT {{columns}} FROM _load_rows r;

-- step: rejected_insert
INSERT INTO rejected_row BY NAME SELECT {{columns}}, ${file_hash} AS file_hash FROM _load_rejected r;

-- step: record_file
INSERT INTO ingested_file (file_hash, feed, file_name, archived_path, status, rows_in_file, rows_accepted,
                           rows_rejected, rows_skipped, rows_duplicate_event, reason, reason_code, dropped_at)
VALUES (${file_hash}, ${feed}, ${file_name}, ${archived_path}, ${status}, ${rows_in_file}, ${rows_accepted},
        ${rows_rejected}, ${rows_skipped}, ${rows_duplicate_event}, ${reason}, ${reason_code}, ${dropped_at});

-- step: record_unreadable
-- A file that could not be read at all: one rejected_row with a null row number, and its ingested_file entry.
INSERT INTO rejected_row (source, source_file, source_row, field, reason, file_hash)
VALUES (${feed}, ${file_name}, NULL, NULL, ${reason}, ${file_hash});
INSERT INTO ingested_file (file_hash, feed, file_name, archived_path, status, reason, reason_code, dropped_at)
VALUES (${file_hash}, ${feed}, ${file_name}, ${archived_path}, 'quarantined', ${reason}, ${reason_code}, ${dropped_at});
