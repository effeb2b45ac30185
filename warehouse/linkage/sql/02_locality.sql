-- Step 1b. Where a record says the person lives. The record's county / township / village names, or an employment
-- hukou address such as 广西柳州市融水苗族自治县三防镇某某村, are concatenated and parsed against the registry's division
-- names (lk_locform: full names and short forms without 县/镇/乡/街道/村/村委会): longest match first, full names
-- anywhere, short forms only after the enclosing division's match. A tie between different divisions leaves the level
-- unresolved rather than guessing. The medical institution's name (融水苗族自治县三防镇卫生院, 融水县人民医院) is parsed the
-- same way: people are treated at their township's health centre or their county's hospital.
-- (the texts are read from dept_record itself: lk_dept_src's row numbering is not needed for them)
CREATE OR REPLACE TEMP TABLE lk_loctext AS
SELECT DISTINCT t FROM (
    SELECT nullif(concat_ws('', county, township, village, hukou_address), '') AS t FROM dept_record
    UNION ALL
    SELECT nullif(institution, '') FROM dept_record
) WHERE t IS NOT NULL;

-- Counties and townships are found from the first two characters of their names (every division name is at least two
-- characters long: keys.build_locality_forms): each text is cut into the two-character pieces it holds and joined on
-- them by equality, then the whole name is compared where the piece starts. Testing every name against every text
-- (a province: 1.5 M texts × 181 county names) took the county step 8.9 s, this 2.6 s, the same rows.
CREATE OR REPLACE TEMP TABLE lk_loc_county AS
WITH grams AS (
    SELECT t, i, substr(t, i, 2) AS g FROM (SELECT t, unnest(range(1, length(t))) AS i FROM lk_loctext)
),
hits AS (   -- pos: where the name first occurs (instr)
    SELECT x.t, f.code, f.flen, min(x.i) AS pos
    FROM grams x JOIN lk_locform f ON f.level = 'county' AND left(f.form, 2) = x.g
    WHERE substr(x.t, x.i, f.flen) = f.form
    GROUP BY x.t, f.code, f.flen, f.form
),
best AS (SELECT t, max(flen) AS flen FROM hits GROUP BY t)
SELECT x.t,
    CASE WHEN count(DISTINCT h.code) = 1 THEN any_value(h.code) END AS county_code,
    min(h.pos + h.flen) AS cend
FROM lk_loctext x
LEFT JOIN (SELECT h.* FROM hits h JOIN best b USING (t, flen)) h USING (t)
GROUP BY x.t;

CREATE OR REPLACE TEMP TABLE lk_loc_township AS
WITH cand AS (   -- equality joins only (an OR / CASE in the join condition would compare every text with every form)
    SELECT x.t, x.cend, f.* FROM lk_loc_county x JOIN lk_locform f ON f.level = 'township' AND f.county_code = x.county_code
),
grams AS (       -- no county found: every township, by the two-character pieces (above), a short form only after cend
    SELECT t, cend, i, substr(t, i, 2) AS g
    FROM (SELECT t, cend, unnest(range(1, length(t))) AS i FROM lk_loc_county WHERE county_code IS NULL)
),
hits AS (
    SELECT t, code, county_code, flen + CASE WHEN kind = 'full' THEN 0.5 ELSE 0 END AS score, instr(t, form) + flen AS tend
    FROM cand
    WHERE (kind = 'full' AND contains(t, form)) OR (kind = 'short' AND contains(substr(t, coalesce(cend, 1)), form))
    UNION ALL
    SELECT x.t, f.code, f.county_code, f.flen + CASE WHEN f.kind = 'full' THEN 0.5 ELSE 0 END, min(x.i) + f.flen
    FROM grams x JOIN lk_locform f ON f.level = 'township' AND left(f.form, 2) = x.g
    WHERE substr(x.t, x.i, f.flen) = f.form
    GROUP BY x.t, x.cend, f.code, f.county_code, f.flen, f.kind, f.form
    HAVING f.kind = 'full' OR max(x.i) >= coalesce(x.cend, 1)
),
best AS (SELECT t, max(score) AS score FROM hits GROUP BY t)
SELECT x.t, x.county_code, x.cend,
    CASE WHEN count(DISTINCT h.code) = 1 THEN any_value(h.code) END AS township_code,
    CASE WHEN count(DISTINCT h.code) = 1 THEN any_value(h.county_code) END AS t_county_code,
    min(h.tend) AS tend
FROM lk_loc_county x
LEFT JOIN (SELECT h.* FROM hits h JOIN best b USING (t, score)) h USING (t)
GROUP BY x.t, x.county_code, x.cend;

CREATE OR REPLACE TEMP TABLE lk_loc AS
WITH x AS (SELECT *, coalesce(t_county_code, county_code) AS cc FROM lk_loc_township),
cand AS (        -- villages of the township found, else of the county (never city-wide: 新村 is in too many addresses)
    SELECT x.t, x.tend, x.cend, f.* FROM x JOIN lk_locform f ON f.level = 'village' AND f.parent_code = x.township_code
    UNION ALL
    SELECT x.t, x.tend, x.cend, f.* FROM x JOIN lk_locform f ON f.level = 'village' AND f.county_code = x.cc
    WHERE x.township_code IS NULL
),
hits AS (
    SELECT t, code, parent_code, flen + CASE WHEN kind = 'full' THEN 0.5 ELSE 0 END AS score
    FROM cand
    WHERE (kind = 'full' AND contains(t, form))
       OR (kind = 'short' AND contains(substr(t, coalesce(tend, cend, 1)), form))
),
best AS (SELECT t, max(score) AS score FROM hits GROUP BY t),
v AS (
    SELECT h.t,
        CASE WHEN count(DISTINCT h.code) = 1 THEN any_value(h.code) END AS village_code
    FROM hits h JOIN best b USING (t, score) GROUP BY h.t
)
SELECT x.t,
    v.village_code,
    coalesce(left(v.village_code, 9), x.township_code) AS township_code,
    coalesce(left(v.village_code, 6), x.t_county_code, x.county_code) AS county_code
FROM lk_loc_township x LEFT JOIN v USING (t);


-- Texts that name a place outside the city (another province, another prefecture: linkage.yaml outside.places,
-- registered as lk_outside_place). Such an address is only taken as outside when no township or village of the
-- registry is found in it (lk_rec.loc_class = 'outside').
CREATE OR REPLACE TEMP TABLE lk_loc_outside AS
SELECT DISTINCT x.t FROM lk_loctext x JOIN lk_outside_place o ON contains(x.t, o.form);
