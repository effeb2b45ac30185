-- Households as the rules see them: one row per registry household (SPEC §4.1, §6.1).
-- Inputs: registry_person, village, _p (round parameters), _r (thresholds per county), _county (division names).

-- Members by ID (for labour and names of evidence); a person listed twice in a household counts once.
CREATE OR REPLACE TEMP TABLE _person AS
SELECT household_id, id_number, arg_min(name, coalesce(source_row, 0)) AS name, arg_min(labour, coalesce(source_row, 0)) AS labour
FROM registry_person
WHERE household_id IS NOT NULL AND id_number IS NOT NULL
GROUP BY household_id, id_number;

-- Household fields repeat on every member row: take the head's value, else the first member's non-null value.
-- Household size = distinct members (by ID, else raw ID, else name + birth date + relation).
CREATE OR REPLACE TEMP TABLE _hh AS
WITH src AS (
    SELECT rp.*,
           CAST(CASE WHEN rp.relation = '户主' THEN 0 ELSE 1 END AS DOUBLE) * 1e12 + coalesce(rp.source_row, 0) AS _ord,
           coalesce(nullif(trim(rp.id_number), ''), nullif(trim(rp.id_raw), ''),
                    coalesce(rp.name, '') || '|' || coalesce(CAST(rp.birth_date AS VARCHAR), '') || '|' || coalesce(rp.relation, '')) AS person_key
    FROM registry_person rp
    WHERE rp.household_id IS NOT NULL
),
agg AS (
    SELECT household_id,
           arg_min(village_code, _ord)          AS village_code,
           arg_min(county_code, _ord)           AS county_code0,
           arg_min(township_code, _ord)         AS township_code0,
           arg_min(county, _ord)                AS county,
           arg_min(township, _ord)              AS township,
           arg_min(village, _ord)               AS village,
           arg_min(name, _ord)                  AS head_name,
           arg_min(id_number, _ord)             AS head_id_number,
           arg_min(source_file, _ord)           AS head_source_file,
           arg_min(source_row, _ord)            AS head_source_row,
           arg_min(trim(household_type), _ord)  AS household_type,
           arg_min(CASE WHEN fp_blank(monitoring_category) THEN NULL ELSE trim(monitoring_category) END, _ord) AS monitoring_category,
           arg_min(risk_eliminated, _ord)       AS risk_eliminated,
           arg_min(identified_month, _ord)      AS identified_month,
           arg_min(eliminated_month, _ord)      AS eliminated_month,
           arg_min(per_capita_net_income, _ord) AS base_income,
           max(household_size)                  AS registry_size,
           CAST(count(DISTINCT person_key) AS INTEGER) AS household_size,
           bool_or(coalesce(dibao LIKE '%低保%' AND dibao NOT LIKE '%未%' AND dibao NOT LIKE '%不%' AND dibao NOT LIKE '%城市%', false)) AS dibao_any,
           bool_or(coalesce(tekun LIKE '%特困%' AND tekun NOT LIKE '%未%' AND tekun NOT LIKE '%不%' AND tekun NOT LIKE '%城市%', false)) AS tekun_any,
           bool_and(coalesce(trim(labour) IN ('丧失劳动力', '无劳动力'), false)) AS all_no_labour,
           arg_min(relocated, _ord)             AS relocated,
           arg_min(resettlement_site, _ord)     AS resettlement_site,
           arg_min(hukou_moved, _ord)           AS hukou_moved,
           arg_min(unsafe_housing, _ord)        AS unsafe_housing,
           arg_min(safe_water, _ord)            AS safe_water
    FROM src
    GROUP BY household_id
)
SELECT a.* EXCLUDE (county_code0, township_code0),
       coalesce(a.county_code0, left(a.village_code, 6))   AS county_code,
       coalesce(a.township_code0, left(a.village_code, 9)) AS township_code,
       coalesce(a.county_code0, left(a.village_code, 6), '') AS county_key,
       a.monitoring_category IS NOT NULL                                           AS monitored_any,
       a.monitoring_category IS NOT NULL AND fp_yes(a.risk_eliminated)             AS eliminated,
       a.monitoring_category IS NOT NULL AND NOT fp_yes(a.risk_eliminated)         AS monitored_active,
       coalesce(a.household_type = '脱贫户', false)                                AS is_tuopin,
       fp_yes(a.relocated)                                                          AS relocated_flag,
       fp_yes(a.hukou_moved)                                                        AS hukou_moved_flag
FROM agg a;

-- 易地搬迁 (SPEC §6.5): where a relocated household lives and where its hukou is.
-- If the registry village is itself a resettlement community, the household lives there; its hukou (when not moved
-- out) is elsewhere and only the head's ID address code can hint at it. Otherwise the registry village is the hukou
-- village and the resettlement site is looked up by name in the village table (or by a county name in the text).
CREATE OR REPLACE TEMP TABLE _reloc AS
WITH r AS (
    SELECT h.household_id, h.county_code, h.township_code, h.village_code, trim(h.resettlement_site) AS site,
           h.hukou_moved_flag, h.head_id_number, coalesce(v.resettlement_community, false) AS home_is_site
    FROM _hh h LEFT JOIN village v ON v.village_code = h.village_code
    WHERE h.relocated_flag
),
site_match AS (
    SELECT r.household_id, v.village_code AS site_village_code,
           coalesce(v.county_code, left(v.village_code, 6)) AS site_county_code,
           coalesce(v.township_code, left(v.village_code, 9)) AS site_township_code,
           row_number() OVER (PARTITION BY r.household_id
                              ORDER BY coalesce(v.resettlement_community, false) DESC,
                                       (coalesce(v.county_code, left(v.village_code, 6)) = r.county_code) DESC,
                                       (v.village = r.site) DESC, v.village_code) AS rn
    FROM r JOIN village v
      ON fp_short_village(v.village) = fp_short_village(r.site)      -- equal names have equal short names
    WHERE NOT r.home_is_site AND fp_short_village(r.site) <> ''
),
county_hint AS (
    SELECT r.household_id, c.county_code,
           row_number() OVER (PARTITION BY r.household_id ORDER BY length(c.short) DESC, c.county_code) AS rn
    FROM r JOIN _county c ON c.is_current AND r.site IS NOT NULL AND position(c.short IN r.site) > 0
    WHERE NOT r.home_is_site
),
id_hint AS (
    SELECT r.household_id, c.current_code AS county_code
    FROM r JOIN _county c ON c.county_code = left(r.head_id_number, 6)
    WHERE r.home_is_site
)
SELECT r.household_id, r.site, r.home_is_site, r.hukou_moved_flag,
       CASE WHEN r.home_is_site THEN r.village_code ELSE s.site_village_code END AS site_village_code,
       CASE WHEN r.home_is_site THEN r.county_code
            ELSE coalesce(s.site_county_code, ch.county_code, r.county_code) END AS live_county_code,
       CASE WHEN r.home_is_site THEN r.township_code ELSE s.site_township_code END AS live_township_code,
       CASE WHEN r.hukou_moved_flag THEN r.county_code
            WHEN r.home_is_site THEN ih.county_code
            ELSE r.county_code END AS hukou_county_code,
       CASE WHEN r.hukou_moved_flag OR NOT r.home_is_site THEN r.township_code END AS hukou_township_code,
       CASE WHEN r.hukou_moved_flag OR NOT r.home_is_site THEN '户籍登记'
            WHEN ih.county_code IS NOT NULL THEN '身份证号码地址码推断' END AS hukou_source,
       coalesce(CASE WHEN r.home_is_site THEN r.village_code ELSE s.site_village_code END,
                'site:' || nullif(fp_short_village(r.site), '')) AS site_key
FROM r
LEFT JOIN site_match s ON s.household_id = r.household_id AND s.rn = 1
LEFT JOIN county_hint ch ON ch.household_id = r.household_id AND ch.rn = 1
LEFT JOIN id_hint ih ON ih.household_id = r.household_id;
