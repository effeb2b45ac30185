-- The ``round`` table: which rounds ran, of what kind, and whether they finished (warehouse/rounds.py).

-- step: start
DELETE FROM round WHERE round_id = ${round_id};
INSERT INTO round (round_id, kind, reference_date, started_at, finished_at, status)
VALUES (${round_id}, ${kind}, ${reference_date}, current_timestamp, NULL, 'screening');

-- step: finish
UPDATE round SET finished_at = current_timestamp, status = 'published' WHERE round_id = ${round_id};

-- step: last_finished
-- the most recent published round other than ${before_round} (NULL: any)
SELECT round_id, finished_at
FROM round
WHERE status = 'published' AND (${before_round} IS NULL OR round_id <> ${before_round})
ORDER BY finished_at DESC
LIMIT 1;
