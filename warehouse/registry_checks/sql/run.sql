-- The frame around the rules (warehouse/registry_checks/__init__.py): parameters, roster, findings, summaries.

-- step: params
CREATE OR REPLACE TEMP TABLE _rc_params AS
SELECT CAST(${as_of} AS DATE) AS as_of, CAST(${child_age} AS INTEGER) AS child_age,
       CAST(${working_age_max} AS INTEGER) AS working_age_max,
       CAST(${min_months_before_elimination} AS INTEGER) AS min_months_before_elimination,
       CAST(${identification_income_max} AS DOUBLE) AS identification_income_max,
       CAST(${able_share_max} AS DOUBLE) AS able_share_max;

-- step: counties
SELECT DISTINCT c_code FROM _rc_person WHERE c_code IS NOT NULL ORDER BY c_code;

-- step: roster
CREATE OR REPLACE TEMP TABLE _rc_roster AS SELECT household_id, risk_types, measures FROM _roster_src;

-- step: no_roster
CREATE OR REPLACE TEMP TABLE _rc_roster (household_id VARCHAR, risk_types VARCHAR[], measures VARCHAR[]);

-- step: found_table
CREATE OR REPLACE TEMP TABLE _rc_found (code VARCHAR, household_id VARCHAR, id_number VARCHAR, name VARCHAR,
                                        source_file VARCHAR, source_row BIGINT, detail VARCHAR);

-- step: found
-- the findings of one rule (its SELECT, from its own file, is the parameter rule)
INSERT INTO _rc_found
SELECT ${code} AS code, CAST(household_id AS VARCHAR), CAST(id_number AS VARCHAR), CAST(name AS VARCHAR),
       CAST(source_file AS VARCHAR), CAST(source_row AS BIGINT), CAST(detail AS VARCHAR)
FROM (
{{rule}}
) AS rule_rows;

-- step: findings
SELECT CAST(${as_of} AS DATE) AS as_of, f.code, c.severity, c.level, c.title,
       coalesce(h.county_code, '') AS county_code, h.township_code, h.village_code, h.county, h.township, h.village,
       f.household_id, f.id_number, f.name, f.source_file, f.source_row, f.detail
FROM _rc_found f
JOIN _rc_cat c ON c.code = f.code
LEFT JOIN _rc_household h ON h.household_id = f.household_id
ORDER BY coalesce(h.county_code, ''), h.township_code, h.village_code, f.household_id, f.code, f.source_file, f.source_row;

-- step: villages
SELECT coalesce(county_code, '') AS county_code, township_code, village_code,
       any_value(county) AS county, any_value(township) AS township, any_value(village) AS village,
       count(*) AS households, CAST(sum(n_rows) AS BIGINT) AS persons
FROM _rc_household
GROUP BY coalesce(county_code, ''), township_code, village_code
ORDER BY coalesce(county_code, ''), township_code, village_code;
