-- Step 2. ID candidates.
-- 2a. Exact: the record's usable ID (valid, or a 15-digit ID converted to 18) equals a registry person's ID.
CREATE OR REPLACE TEMP TABLE lk_pair AS
SELECT r.rid, p.pid, 'id' AS rule, NULL::VARCHAR AS rkind, NULL::INTEGER AS rpos
FROM lk_rec r JOIN lk_person p ON p.id_number = r.id_number
WHERE r.id_number IS NOT NULL;

-- 2b. Repair: an 18-character ID that fails its check (or has an impossible date / province) may carry one mistyped
-- digit or two swapped neighbours. Every single-digit substitution and adjacent transposition of it is generated and
-- joined to the registry's IDs: only valid IDs can match, so the MOD 11-2 check filters the variants for free.
-- Mangled IDs never get here (no candidate): they are unusable, never a near match.
CREATE OR REPLACE TEMP TABLE lk_variant AS
WITH src AS (
    SELECT rid, id_candidate AS c FROM lk_rec
    WHERE id_number IS NULL AND id_candidate IS NOT NULL AND length(id_candidate) = 18
      AND id_status IN ('bad_checksum', 'bad_date', 'bad_area')
),
chars AS (SELECT unnest(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'X']) AS ch)
SELECT rid, 'sub' AS rkind, q.i::INTEGER AS rpos, substr(c, 1, q.i) || chars.ch || substr(c, q.i + 2) AS v
FROM src, range(0, 18) q(i), chars
WHERE substr(c, q.i + 1, 1) <> chars.ch AND (chars.ch <> 'X' OR q.i = 17)
UNION ALL
SELECT rid, 'swap' AS rkind, q.i::INTEGER AS rpos, substr(c, 1, q.i) || substr(c, q.i + 2, 1) || substr(c, q.i + 1, 1) || substr(c, q.i + 3) AS v
FROM src, range(0, 17) q(i)
WHERE substr(c, q.i + 1, 1) <> substr(c, q.i + 2, 1);

INSERT INTO lk_pair
SELECT v.rid, p.pid, 'id_repair', any_value(v.rkind), min(v.rpos)
FROM lk_variant v JOIN lk_person p ON p.id_number = v.v
GROUP BY v.rid, p.pid;
