-- Fallback roster (no monitoring_roster in the warehouse): the registry's monitored households.
-- On the roster = the head's row (户主, else the first member's row) has a 监测对象类别.
-- status: 风险是否已消除 = 是 → eliminated, anything else → monitored.
-- identified_on / eliminated_on: 识别监测时间 / 消除监测时间 (YYYYMM) → the first day of that month.
-- The registry has no risk types, helpers, measures or visits: empty lists / NULL.
CREATE OR REPLACE TEMP TABLE _roster_src AS
WITH head AS (
    -- the head's row (户主, else the first row): the wanted columns of the row with the smallest key, in one
    -- hash aggregate (no sort, no join back)
    SELECT hd.household_id, hd.county_code, hd.township_code, hd.village_code, hd.name, hd.monitoring_category,
           hd.identified_month, hd.risk_eliminated, hd.eliminated_month
    FROM (SELECT arg_min({'household_id': household_id, 'county_code': county_code, 'township_code': township_code,
                          'village_code': village_code, 'name': name, 'monitoring_category': monitoring_category,
                          'identified_month': identified_month, 'risk_eliminated': risk_eliminated,
                          'eliminated_month': eliminated_month},
                         {'h': CASE WHEN relation = '户主' THEN 0 ELSE 1 END, 'r': coalesce(source_row, 0), 'f': source_file, 'n': name}) AS hd
          FROM registry_person GROUP BY household_id) picked
)
SELECT household_id,
       coalesce(county_code, left(village_code, 6)) AS county_code,
       coalesce(township_code, left(village_code, 9)) AS township_code,
       village_code,
       name AS head_name,
       CAST(NULL AS INTEGER) AS household_size,
       nullif(trim(monitoring_category), '') AS category,
       CAST([] AS VARCHAR[]) AS risk_types,
       CAST(try_strptime(trim(identified_month) || '01', '%Y%m%d') AS DATE) AS identified_on,
       CAST(NULL AS VARCHAR) AS helper_name,
       CAST([] AS VARCHAR[]) AS measures,
       CAST(NULL AS DATE) AS last_visit,
       CASE WHEN trim(risk_eliminated) = '是' THEN 'eliminated' ELSE 'monitored' END AS status,
       CASE WHEN trim(risk_eliminated) = '是'
            THEN CAST(try_strptime(trim(eliminated_month) || '01', '%Y%m%d') AS DATE) END AS eliminated_on,
       'registry' AS source
FROM head
WHERE nullif(trim(monitoring_category), '') IS NOT NULL;
