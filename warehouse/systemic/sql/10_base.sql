-- Systemic-risk watch, part 1: households, areas and the department records of the quarters looked at.
-- Inputs put by warehouse/systemic/__init__.py: sys_quarter(q_index, label, q_start, q_end, grace_end) — 0 = the
-- round's quarter (the three months before its reference date), 1.. = earlier quarters; sys_line(county_code, monitoring_line,
-- lost_wage_months).

-- step: households
-- One row per registry household: where it is, its persons, last year's per-capita income, monitoring status.
CREATE OR REPLACE TEMP TABLE sys_household AS
WITH p AS (
    SELECT household_id, village_code, county_code, township_code, village, township, county, relation, name,
           per_capita_net_income, monitoring_category, risk_eliminated, household_type,
           coalesce(nullif(trim(id_number), ''), nullif(trim(id_raw), ''),
                    coalesce(name, '') || '|' || coalesce(CAST(birth_date AS VARCHAR), '') || '|'
                    || coalesce(relation, '')) AS person_key
    FROM registry_person
    WHERE household_id IS NOT NULL AND village_code IS NOT NULL
)
SELECT household_id,
       min(village_code)                                         AS village_code,
       min(coalesce(township_code, substr(village_code, 1, 9)))  AS township_code,
       min(coalesce(county_code, substr(village_code, 1, 6)))    AS county_code,
       min(village)                                              AS village,
       min(township)                                             AS township,
       min(county)                                               AS county,
       coalesce(min(CASE WHEN relation = '户主' THEN name END), min(name)) AS head_name,
       coalesce(max(CASE WHEN relation = '户主' THEN per_capita_net_income END), max(per_capita_net_income))
                                                                 AS base_income,
       CAST(count(DISTINCT person_key) AS INTEGER)               AS persons,
       min(household_type)                                       AS household_type,
       min(nullif(trim(monitoring_category), ''))                AS monitoring_category,
       coalesce(min(nullif(trim(monitoring_category), '')) IS NOT NULL
                AND NOT coalesce(max(trim(risk_eliminated)) IN ('是', 'Y', 'y', '1', 'true'), false), false)
                                                                 AS monitored_active
FROM p
GROUP BY household_id;

-- step: areas
-- Villages and townships with their registry persons (the denominators of every rate).
CREATE OR REPLACE TEMP TABLE sys_area AS
SELECT 'village' AS area_level, h.village_code AS area_code,
       coalesce(min(v.village), min(h.village), h.village_code) AS area_name,
       min(h.county_code) AS county_code, min(h.township_code) AS township_code,
       coalesce(min(v.township), min(h.township)) AS township,
       CAST(sum(h.persons) AS BIGINT) AS persons, CAST(count(*) AS BIGINT) AS households
FROM sys_household h
LEFT JOIN village v ON v.village_code = h.village_code
GROUP BY h.village_code
UNION ALL
SELECT 'township', h.township_code,
       coalesce(min(h.township), h.township_code),
       min(h.county_code), h.township_code, coalesce(min(h.township), h.township_code),
       CAST(sum(h.persons) AS BIGINT), CAST(count(*) AS BIGINT)
FROM sys_household h
GROUP BY h.township_code;

-- step: records
-- Linked department records (the rules' own notion of evidence: exact, repaired or fuzzy links; one row per event,
-- duplicates left out) dated in the quarters looked at, each with its quarter index.
CREATE OR REPLACE TEMP TABLE sys_record AS
WITH r AS (
    SELECT d.source, l.household_id,
           coalesce(l.id_number, l.household_id || ':' || coalesce(d.name_key, d.name, '')) AS person_key,
           l.id_number,
           coalesce(d.event_date, d.settle_date, d.disaster_date, d.approved_on) AS ev_date,
           coalesce(d.out_of_pocket,
                    CASE WHEN d.total_cost IS NOT NULL
                         THEN greatest(d.total_cost - coalesce(d.fund_paid, 0) - coalesce(d.critical_illness_paid, 0)
                                       - coalesce(d.medical_aid_paid, 0), 0) END) AS oop,
           d.house_damage, d.direct_loss, d.event, d.previous_monthly_income, d.aid_type, d.status
    FROM dept_record d
    JOIN link l ON l.source = d.source AND l.source_file = d.source_file AND l.source_row = d.source_row
    WHERE l.match_method IN ('id_exact', 'id_repaired', 'fuzzy') AND l.household_id IS NOT NULL
      AND NOT coalesce(d.duplicate_event, false)
      AND d.source IN ('medical', 'disaster', 'employment', 'civil_affairs')
)
SELECT r.*, q.q_index
FROM r
JOIN sys_household h ON h.household_id = r.household_id
JOIN sys_quarter q ON r.ev_date >= q.q_start AND r.ev_date < q.q_end;

-- step: coverage
-- The quarters each feed covers: those whose first days (q_start up to grace_end, set from the configured grace)
-- hold the feed's first record or come after it (a quarter before a department started sending is not a quiet
-- quarter). The round's quarter always counts.
CREATE OR REPLACE TEMP TABLE sys_coverage AS
WITH first_seen AS (
    SELECT d.source, min(coalesce(d.event_date, d.settle_date, d.disaster_date, d.approved_on)) AS first_date
    FROM dept_record d
    WHERE d.source IN ('medical', 'disaster', 'employment', 'civil_affairs')
    GROUP BY d.source
)
SELECT f.source, q.q_index
FROM first_seen f
JOIN sys_quarter q ON q.q_index = 0 OR f.first_date < q.grace_end;

-- step: county_codes
SELECT DISTINCT county_code FROM sys_household ORDER BY county_code;
