-- Priority-area screening (SPEC §6.4, Q1/Q3 rounds): target villages with their reasons, and within them the
-- households ranked for screening (suspects first, then weaker signals).

CREATE OR REPLACE TEMP MACRO fp_short_county(x) AS
    regexp_replace(regexp_replace(coalesce(x, ''), '\s+', '', 'g'), '(苗族自治县|侗族自治县|瑶族自治县|自治县|县|区|市)$', '');

-- every village: the village table plus villages seen only in the registry
CREATE OR REPLACE TEMP TABLE _vill AS
SELECT village_code,
       arg_min(village, src) AS village, arg_min(township, src) AS township, arg_min(county, src) AS county,
       arg_min(township_code, src) AS township_code, arg_min(county_code, src) AS county_code,
       coalesce(bool_or(former_deep_poverty), false) AS former_deep_poverty,
       coalesce(bool_or(resettlement_community), false) AS resettlement_community
FROM (
    SELECT village_code, village, township, county, coalesce(township_code, left(village_code, 9)) AS township_code,
           coalesce(county_code, left(village_code, 6)) AS county_code, former_deep_poverty, resettlement_community, 0 AS src
    FROM village
    UNION ALL
    SELECT village_code, village, township, county, township_code, county_code, NULL, NULL, 1 AS src
    FROM _hh WHERE village_code IS NOT NULL
)
GROUP BY village_code;

-- disaster records of the last N months, placed in a village through their link, else by the village name
-- (disaster lists often carry no ID); a name that fits several villages places the record nowhere.
CREATE OR REPLACE TEMP TABLE _recent_disaster AS
WITH d AS (
    SELECT d.source_file, d.source_row, d.county, d.township, d.village, l.household_id, l.match_method
    FROM dept_record d
    LEFT JOIN link l ON l.source = d.source AND l.source_file = d.source_file AND l.source_row = d.source_row
    CROSS JOIN _p p
    WHERE d.source = 'disaster'
      AND coalesce(d.event_date, d.disaster_date) >= p.disaster_start
      AND coalesce(d.event_date, d.disaster_date) < p.reference_date
),
via_link AS (
    SELECT d.source_file, d.source_row, h.village_code
    FROM d JOIN _hh h ON h.household_id = d.household_id
    WHERE d.match_method IN ('id_exact', 'id_repaired', 'fuzzy')
),
via_name AS (
    SELECT d.source_file, d.source_row, v.village_code,
           count(*) OVER (PARTITION BY d.source_file, d.source_row) AS n_candidates
    FROM d
    JOIN _vill v
      ON fp_short_village(d.village) <> '' AND fp_short_village(v.village) = fp_short_village(d.village)
     AND (fp_short_township(d.township) = '' OR fp_short_township(v.township) = fp_short_township(d.township))
     AND (fp_short_county(d.county) = '' OR fp_short_county(v.county) = fp_short_county(d.county))
    WHERE NOT EXISTS (SELECT 1 FROM via_link x WHERE x.source_file = d.source_file AND x.source_row = d.source_row)
)
SELECT village_code, count(DISTINCT source_file || '#' || source_row) AS records
FROM (SELECT source_file, source_row, village_code FROM via_link
      UNION ALL
      SELECT source_file, source_row, village_code FROM via_name WHERE n_candidates = 1)
GROUP BY village_code;

CREATE OR REPLACE TEMP TABLE _ptarget AS
WITH s AS (
    SELECT village_code, count(*) AS households,
           count(*) FILTER (WHERE is_tuopin) AS tuopin, count(*) FILTER (WHERE monitored_any) AS monitored
    FROM _hh WHERE village_code IS NOT NULL GROUP BY village_code
),
v AS (
    SELECT v.*, coalesce(s.households, 0) AS households, coalesce(s.tuopin, 0) AS tuopin,
           coalesce(s.monitored, 0) AS monitored, coalesce(rd.records, 0) AS recent_disaster_records,
           CASE WHEN coalesce(s.tuopin, 0) > 0 THEN s.monitored::DOUBLE / s.tuopin END AS ratio
    FROM _vill v LEFT JOIN s USING (village_code) LEFT JOIN _recent_disaster rd USING (village_code)
),
m AS (SELECT county_code, median(ratio) AS median_ratio FROM v WHERE ratio IS NOT NULL GROUP BY county_code),
r AS (SELECT * FROM _r),
t AS (
SELECT v.county_code, v.county, v.township_code, v.township, v.village_code, v.village,
       list_filter([
           CASE WHEN v.resettlement_community THEN '易地搬迁安置点' END,
           CASE WHEN v.former_deep_poverty THEN '原深度贫困村' END,
           CASE WHEN v.tuopin >= coalesce(rc.min_tuopin, rr.min_tuopin)
                 AND v.ratio < coalesce(rc.ratio_factor, rr.ratio_factor) * m.median_ratio
                THEN '脱贫户较多但监测户较少（脱贫户' || v.tuopin || '户，监测户' || v.monitored || '户，监测户/脱贫户 '
                     || round(v.ratio, 3) || '，低于全县中位数 ' || round(m.median_ratio, 3) || ' 的一半）' END,
           CASE WHEN v.recent_disaster_records > 0
                THEN '近' || (SELECT disaster_months FROM _p) || '个月有灾情记录（' || v.recent_disaster_records || '条）' END
       ], lambda x: x IS NOT NULL) AS reasons,
       v.households, v.tuopin AS tuopin_households, v.monitored AS monitored_households, v.recent_disaster_records
FROM v
LEFT JOIN m USING (county_code)
LEFT JOIN r rc ON rc.county_key = coalesce(v.county_code, '')
LEFT JOIN (SELECT * FROM _r WHERE county_key = (SELECT region_key FROM _p)) rr ON true
)
SELECT * FROM t WHERE array_length(reasons) > 0;

-- households in a target village (their registry village, or the resettlement community they live in)
CREATE OR REPLACE TEMP TABLE _phh AS
WITH t AS (
    SELECT s.*, rl.site_village_code,
           CASE WHEN t1.village_code IS NOT NULL THEN s.village_code ELSE t2.village_code END AS target_village_code,
           coalesce(t1.county_code, t2.county_code, s.county_code) AS target_county_code
    FROM _scr s
    LEFT JOIN _reloc rl ON rl.household_id = s.household_id
    LEFT JOIN _ptarget t1 ON t1.village_code = s.village_code
    LEFT JOIN _ptarget t2 ON t2.village_code = rl.site_village_code
    WHERE t1.village_code IS NOT NULL OR t2.village_code IS NOT NULL
),
w AS (
    SELECT *,
           suspect_category IS NOT NULL AS is_suspect,
           list_filter([
               CASE WHEN suspect_category IS NOT NULL THEN '疑似风险户（' || suspect_category || '）' END,
               CASE WHEN adjusted_income < weak_factor * monitoring_line
                    THEN '调整后人均收入低于监测线的' || weak_factor || '倍' END,
               CASE WHEN suspect_category IS NULL AND n_events > 0 THEN '近12个月有部门记录（未达预警标准）' END
           ], lambda x: x IS NOT NULL) AS reasons
    FROM t
)
SELECT w.*,
       row_number() OVER (PARTITION BY target_county_code
                          ORDER BY is_suspect DESC, priority_score DESC NULLS LAST, adjusted_income, household_id) AS screening_rank
FROM w WHERE array_length(reasons) > 0;
