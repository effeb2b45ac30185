-- Step 2. ID candidates.

-- step: pairs
-- 2a. Exact: the record's usable ID (valid, or a 15-digit ID converted to 18) equals a registry person's ID.
CREATE OR REPLACE TEMP TABLE lk_pair AS
SELECT r.rid, p.pid, 'id' AS rule, NULL::VARCHAR AS rkind, NULL::INTEGER AS rpos
FROM lk_rec r JOIN lk_person p ON p.id_number = r.id_number
WHERE r.id_number IS NOT NULL;

-- 2b. Repair: an 18-character ID that fails its check (or has an impossible date / province) may carry one mistyped
-- digit or two swapped neighbours. MOD 11-2 leaves at most one digit value per position that makes the ID valid again
-- (the weights are invertible mod 11), so the valid variants are computed, not searched: for a substitution at
-- position i the digit is d_i + (r − S)·w_i⁻¹ mod 11 (kept when it is 0..9), for a swap the check is recomputed.
-- The few valid variants are joined to the registry's IDs. Mangled IDs never get here (no candidate): they are
-- unusable, never a near match.
CREATE OR REPLACE TEMP TABLE lk_variant AS
WITH src AS (
    SELECT rid, id_candidate AS c,
        list_transform(range(17), lambda i: ascii(substr(id_candidate, i + 1, 1)) - 48) AS d,
        instr('10X98765432', substr(id_candidate, 18, 1)) - 1 AS rc
    FROM lk_rec
    WHERE id_number IS NULL AND id_candidate IS NOT NULL AND length(id_candidate) = 18
      AND id_status IN ('bad_checksum', 'bad_date', 'bad_area')
),
s AS (
    SELECT *, (list_sum(list_transform(range(17), lambda i: d[i + 1] * [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2][i + 1])) % 11)::INTEGER AS sm
    FROM src
),
subs AS (
    SELECT rid, c, q.i AS i,
        (d[q.i + 1] + ((rc - sm) % 11 + 11) % 11 * [8, 5, 10, 9, 7, 3, 6, 1, 2, 4, 8, 5, 10, 9, 7, 3, 6][q.i + 1]) % 11 AS nd
    FROM s CROSS JOIN (SELECT unnest(range(17)) AS i) q
),
swaps AS (
    SELECT rid, c, q.i AS i FROM s CROSS JOIN (SELECT unnest(range(16)) AS i) q
    WHERE d[q.i + 1] <> d[q.i + 2]
      AND ((sm + (d[q.i + 2] - d[q.i + 1]) * ([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2][q.i + 1]
                                             - [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2][q.i + 2])) % 11 + 11) % 11 = rc
)
SELECT rid, 'sub' AS rkind, i::INTEGER AS rpos, substr(c, 1, i) || nd::VARCHAR || substr(c, i + 2) AS v FROM subs WHERE nd <= 9
UNION ALL   -- the check character itself mistyped
SELECT rid, 'sub', 17, left(c, 17) || substr('10X98765432', sm + 1, 1) FROM s
UNION ALL
SELECT rid, 'swap', i::INTEGER, substr(c, 1, i) || substr(c, i + 2, 1) || substr(c, i + 1, 1) || substr(c, i + 3) FROM swaps
UNION ALL   -- the last digit swapped with a digit check character
SELECT rid, 'swap', 16, left(c, 16) || substr(c, 18, 1) || substr(c, 17, 1) FROM s
WHERE substr(c, 18, 1) BETWEEN '0' AND '9' AND substr(c, 17, 1) <> substr(c, 18, 1)
  AND substr('10X98765432', ((sm + (ascii(substr(c, 18, 1)) - 48 - d[17]) * 2) % 11 + 11) % 11 + 1, 1) = substr(c, 17, 1);

INSERT INTO lk_pair
SELECT v.rid, p.pid, 'id_repair', any_value(v.rkind), min(v.rpos)
FROM lk_variant v JOIN lk_person p ON p.id_number = v.v
GROUP BY v.rid, p.pid;

-- step: to_compare
-- Single exact-ID pairs need no comparison: only repairs and IDs the registry holds twice are compared.
CREATE OR REPLACE TEMP TABLE lk_pair_id AS
SELECT * FROM lk_pair
WHERE rule = 'id_repair' OR rid IN (SELECT rid FROM lk_pair WHERE rule = 'id' GROUP BY rid HAVING count(*) > 1);

-- step: counts
SELECT rule, count(*) FROM lk_pair GROUP BY rule;
