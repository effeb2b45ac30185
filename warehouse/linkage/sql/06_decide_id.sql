-- Step 4a. Decisions that rest on the ID.
-- An exact valid ID always wins (whatever the name says). When the registry holds the same ID more than once, the
-- row whose name agrees best is taken; a tie between different people goes to review.
CREATE OR REPLACE TEMP TABLE lk_decision AS
SELECT x.rid, x.pid, pe.household_id, true AS person_link,
    CASE WHEN r.id_status = 'converted15' THEN 'id_repaired' ELSE 'id_exact' END AS match_method,
    -- DOUBLE: a decimal literal would make the column DECIMAL(2,1) and round every later score to one decimal
    CAST(CASE WHEN r.id_status = 'converted15' THEN ${score_15} ELSE 1.0 END AS DOUBLE) AS match_score,
    CASE WHEN r.id_status = 'converted15' THEN '15位证件号码转换后一致' ELSE '证件号码一致' END AS reason,
    1 AS candidates,
    'id' AS stage
FROM (SELECT rid, any_value(pid) AS pid FROM lk_pair WHERE rule = 'id' GROUP BY rid HAVING count(*) = 1) x
JOIN lk_rec r USING (rid)
JOIN lk_person pe USING (pid);

-- the same ID on several registry rows: compared (lk_cmp_id) and decided on the name
INSERT INTO lk_decision
WITH e AS (
    SELECT c.rid, c.pid, c.household_id, c.name_rank, c.char_sim, c.p_key, r.id_status,
        count(*) OVER (PARTITION BY c.rid) AS k,
        row_number() OVER (PARTITION BY c.rid ORDER BY c.name_rank DESC, c.char_sim DESC, c.pid) AS rn,
        lead(c.name_rank) OVER (PARTITION BY c.rid ORDER BY c.name_rank DESC, c.char_sim DESC, c.pid) AS rank2,
        lead(c.char_sim) OVER (PARTITION BY c.rid ORDER BY c.name_rank DESC, c.char_sim DESC, c.pid) AS sim2,
        lead(c.household_id) OVER (PARTITION BY c.rid ORDER BY c.name_rank DESC, c.char_sim DESC, c.pid) AS hh2,
        lead(c.p_key) OVER (PARTITION BY c.rid ORDER BY c.name_rank DESC, c.char_sim DESC, c.pid) AS key2
    FROM lk_cmp_id c JOIN lk_rec r USING (rid)
    WHERE c.rule = 'id'
),
t AS (
    SELECT *, coalesce(rank2 = name_rank AND sim2 = char_sim AND (hh2 IS DISTINCT FROM household_id OR key2 IS DISTINCT FROM p_key), false) AS tie
    FROM e WHERE rn = 1
)
SELECT rid,
    CASE WHEN tie THEN NULL ELSE pid END AS pid,
    CASE WHEN tie THEN NULL ELSE household_id END AS household_id,
    NOT tie AS person_link,
    CASE WHEN tie THEN 'review' WHEN id_status = 'converted15' THEN 'id_repaired' ELSE 'id_exact' END AS match_method,
    CASE WHEN tie THEN 0.5 WHEN id_status = 'converted15' THEN ${score_15} ELSE 1.0 END AS match_score,
    CASE WHEN tie THEN '登记库中证件号码重复，需人工核实'
         WHEN id_status = 'converted15' THEN '15位证件号码转换后一致'
         ELSE '证件号码一致' END AS reason,
    k::INTEGER AS candidates,
    'id' AS stage
FROM t;

-- Repairs: one substituted or transposed digit, confirmed by the name (exact or homophone) AND the birth date;
-- an error inside the birth-date digits cannot be confirmed by the birth date, so there the name must agree exactly
-- (or in traditional characters) and the place must agree (village/township, or the county the record states, or the ID's own address code).
CREATE OR REPLACE TEMP TABLE lk_repair AS
SELECT c.*,
    ((c.rkind = 'sub' AND c.rpos BETWEEN 6 AND 13) OR (c.rkind = 'swap' AND c.rpos BETWEEN 5 AND 13)) AS birth_touched,
    c.name_level IN (${repair_name_levels}) AND c.birth_level = 'exact' AS by_birth,
    c.name_level IN ('exact', 'folded')
        AND ((c.rkind = 'sub' AND c.rpos BETWEEN 6 AND 13) OR (c.rkind = 'swap' AND c.rpos BETWEEN 5 AND 13))
        AND (c.loc_agree IN ('village', 'township') OR (c.loc_level = 'county' AND c.loc_agree = 'county')
             OR (c.loc_level IS NULL AND c.area_level = 'agree')) AS by_place
FROM lk_cmp_id c
WHERE c.rule = 'id_repair' AND c.rid NOT IN (SELECT rid FROM lk_decision);

INSERT INTO lk_decision
SELECT rid,
    CASE WHEN n_ok = 1 THEN pid END,
    CASE WHEN n_ok = 1 THEN household_id END,
    n_ok = 1,
    CASE WHEN n_ok = 1 THEN 'id_repaired' ELSE 'review' END,
    CASE WHEN n_ok > 1 THEN 0.5 WHEN by_birth THEN ${score_birth_confirmed} ELSE ${score_locality_confirmed} END,
    CASE WHEN n_ok > 1 THEN '证件号码修复后对应多人，需人工核实'
         WHEN by_birth AND rkind = 'swap' THEN '证件号码相邻两位数字颠倒，姓名与出生日期一致'
         WHEN by_birth THEN '证件号码一位数字错误，姓名与出生日期一致'
         WHEN rkind = 'swap' THEN '证件号码出生日期位数字颠倒，姓名与地址一致'
         ELSE '证件号码出生日期位一位数字错误，姓名与地址一致' END,
    k::INTEGER,
    'repair'
FROM (
    SELECT *, count(*) OVER (PARTITION BY rid) AS n_ok, k_all AS k,
        row_number() OVER (PARTITION BY rid ORDER BY by_birth DESC, w DESC, pid) AS rn
    FROM (SELECT *, count(*) OVER (PARTITION BY rid) AS k_all FROM lk_repair) a
    WHERE by_birth OR by_place
) WHERE rn = 1;
