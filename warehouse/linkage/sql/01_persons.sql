-- Step 1a. Registry persons as linkage sees them: one row per registry row, a stable pid, codes filled from the
-- 12-digit village code when missing, birth date and sex taken from the ID when the registry leaves them empty,
-- and the term frequencies (how many registry persons share this name / pinyin / surname / birth date / place)
-- that turn an agreement into evidence: a match on 王 says less than a match on 覃.
-- One statement: the persons are materialised once (the CTE) and the term frequencies joined to them, instead of
-- writing the wide table twice. Only what linkage reads is kept (codes, not the division names).
CREATE OR REPLACE TEMP TABLE lk_person AS
WITH p0 AS (
    SELECT
        r._rowid + 1 AS pid,
        r.household_id,
        r.name,
        k.name_key,
        r.id_number,
        coalesce(r.birth_date,
                 CASE WHEN r.id_number IS NOT NULL THEN try_strptime(substr(r.id_number, 7, 8), '%Y%m%d')::DATE END)
            AS birth_date,
        CASE
            WHEN r.sex IN ('男', '1', '男性') THEN '男'
            WHEN r.sex IN ('女', '2', '女性') THEN '女'
            WHEN r.id_number IS NOT NULL THEN CASE WHEN try_cast(substr(r.id_number, 17, 1) AS INTEGER) % 2 = 1 THEN '男' ELSE '女' END
        END AS sex,
        coalesce(r.county_code, left(r.village_code, 6)) AS county_code,
        left(coalesce(r.county_code, left(r.village_code, 6)), 4) AS prefecture_code,
        coalesce(r.township_code, left(r.village_code, 9)) AS township_code,
        r.village_code,
        coalesce(trim(r.relation) = '户主', false) AS is_head,
        left(r.id_number, 6) AS id_area
    FROM lk_registry_src r
    LEFT JOIN lk_namekey k ON k.name = r.name
),
p AS MATERIALIZED (
    SELECT p0.*, n.surname, n.py, n.py_alt, n.surname_py, n.given1_py, n.given_last_py, n.n_chars
    FROM p0 LEFT JOIN lk_names n USING (name_key)
)
SELECT p.*,
    coalesce(a.n, 0) AS n_name, coalesce(b.n, 0) AS n_py, coalesce(c.n, 0) AS n_surname, coalesce(d.n, 0) AS n_birth,
    coalesce(e.n, 0) AS n_village, coalesce(f.n, 0) AS n_township, coalesce(g.n, 0) AS n_county
FROM p
LEFT JOIN (SELECT name_key, count(*) AS n FROM p GROUP BY ALL) a USING (name_key)
LEFT JOIN (SELECT py, count(*) AS n FROM p GROUP BY ALL) b USING (py)
LEFT JOIN (SELECT surname, count(*) AS n FROM p GROUP BY ALL) c USING (surname)
LEFT JOIN (SELECT birth_date, count(*) AS n FROM p GROUP BY ALL) d USING (birth_date)
LEFT JOIN (SELECT village_code, count(*) AS n FROM p GROUP BY ALL) e USING (village_code)
LEFT JOIN (SELECT township_code, count(*) AS n FROM p GROUP BY ALL) f USING (township_code)
LEFT JOIN (SELECT county_code, count(*) AS n FROM p GROUP BY ALL) g USING (county_code);

CREATE OR REPLACE TEMP TABLE lk_tf AS
SELECT
    (SELECT count(*) FROM lk_person) AS n_persons,
    (SELECT count(DISTINCT household_id) FROM lk_person) AS n_households;
