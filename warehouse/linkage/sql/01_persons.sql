-- Step 1a. Registry persons as linkage sees them: one row per registry row, a stable pid, codes filled from the
-- 12-digit village code when missing, birth date and sex taken from the ID when the registry leaves them empty,
-- the term frequencies (how many registry persons share this name / pinyin / surname / birth date / place) that turn
-- an agreement into evidence (a match on 王 says less than a match on 覃), and the activity class (age band, health,
-- relief, head of household, able to work) whose record rate per feed linkage estimates from the exact-ID links.
-- ${ref_date}: the date ages are counted at (the latest event date of the department records).

-- One statement: the persons are materialised once (the CTE) and the term frequencies joined to them, instead of
-- writing the wide table twice. Only what linkage reads is kept (codes, not the division names).

-- step: persons
CREATE OR REPLACE TEMP TABLE lk_person AS
WITH p0 AS (
    SELECT
        r._rowid + 1 AS pid,
        r.household_id,
        r.name,
        k.name_key,
        k.name_plain,
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
        left(r.id_number, 6) AS id_area,
        coalesce(r.health, '') AS health,
        coalesce(r.dibao, '') NOT IN ('', '未享受', '否') OR coalesce(r.tekun, '') NOT IN ('', '未享受', '否') AS relief,
        coalesce(r.labour, '') IN ('技能劳动力', '普通劳动力', '弱劳动力或半劳动力') AS can_work
    FROM lk_registry_src r
    LEFT JOIN lk_namekey k ON k.name = r.name
),
p AS MATERIALIZED (
    SELECT p0.*, n.surname, n.py, n.py_alt, n.surname_py, n.given1_py, n.given_last_py, n.n_chars,
        -- activity class as one number: 10-year age band at the reference date (the young and the very old pooled;
        -- 9 = unknown) × 100 + health × 10 + relief × 4 + head × 2 + able to work
        coalesce(CAST(least(greatest(floor(date_diff('year', p0.birth_date, ${ref_date}) / 10), 1), 8) AS INTEGER), 9) * 100
            + CASE p0.health WHEN '健康' THEN 1 WHEN '长期慢性病' THEN 2 WHEN '患有大病' THEN 3 WHEN '残疾' THEN 4 ELSE 0 END * 10
            + CASE WHEN p0.relief THEN 4 ELSE 0 END + CASE WHEN p0.is_head THEN 2 ELSE 0 END
            + CASE WHEN p0.can_work THEN 1 ELSE 0 END AS act_class
    FROM p0 LEFT JOIN lk_names n USING (name_key)
)
SELECT p.*,
    coalesce(a.n, 0) AS n_name, coalesce(b.n, 0) AS n_py, coalesce(c.n, 0) AS n_surname, coalesce(d.n, 0) AS n_birth,
    coalesce(e.n, 0) AS n_village, coalesce(f.n, 0) AS n_township, coalesce(g.n, 0) AS n_county
FROM p
LEFT JOIN (SELECT name_key, count(*) AS n FROM p GROUP BY name_key) a USING (name_key)
LEFT JOIN (SELECT py, count(*) AS n FROM p GROUP BY py) b USING (py)
LEFT JOIN (SELECT surname, count(*) AS n FROM p GROUP BY surname) c USING (surname)
LEFT JOIN (SELECT birth_date, count(*) AS n FROM p GROUP BY birth_date) d USING (birth_date)
LEFT JOIN (SELECT village_code, count(*) AS n FROM p GROUP BY village_code) e USING (village_code)
LEFT JOIN (SELECT township_code, count(*) AS n FROM p GROUP BY township_code) f USING (township_code)
LEFT JOIN (SELECT county_code, count(*) AS n FROM p GROUP BY county_code) g USING (county_code);

-- step: frequencies
-- name frequencies for the records' side (a record's name may be a spelling no registry person has)
CREATE OR REPLACE TEMP TABLE lk_tf_name AS SELECT name_key, any_value(n_name) AS n FROM lk_person WHERE name_key IS NOT NULL GROUP BY name_key;
-- namesakes within a village / a township / a county (how many registry persons a record's name and place point to)
CREATE OR REPLACE TEMP TABLE lk_tf_name_village AS
SELECT name_key, village_code, count(*) AS n FROM lk_person WHERE name_key IS NOT NULL GROUP BY name_key, village_code;
CREATE OR REPLACE TEMP TABLE lk_tf_name_town AS
SELECT name_key, township_code, count(*) AS n FROM lk_person WHERE name_key IS NOT NULL GROUP BY name_key, township_code;
CREATE OR REPLACE TEMP TABLE lk_tf_name_county AS
SELECT name_key, county_code, count(*) AS n FROM lk_person WHERE name_key IS NOT NULL GROUP BY name_key, county_code;

CREATE OR REPLACE TEMP TABLE lk_tf AS
SELECT
    (SELECT count(*) FROM lk_person) AS n_persons,
    (SELECT count(DISTINCT household_id) FROM lk_person) AS n_households;

-- the counties the registry covers (an address or an ID address code outside them is evidence against a link)
CREATE OR REPLACE TEMP TABLE lk_reg_county AS SELECT DISTINCT county_code FROM lk_person WHERE county_code IS NOT NULL;
