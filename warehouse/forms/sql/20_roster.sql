-- The roster (名册): _roster_src completed from the registry (head's row) and the village table.
-- household_size: the roster's value, else the number of distinct registry members (by ID, else raw ID, else
-- name + birth date + relation — as the screening counts them).
CREATE OR REPLACE TEMP TABLE _form_reg_hh AS
WITH head AS (
    -- the head's row (户主, else the first row): the wanted columns of the row with the smallest key, in one
    -- hash aggregate (no sort, no join back)
    SELECT hd.household_id, hd.county_code, hd.township_code, hd.village_code, hd.county, hd.township, hd.village,
           hd.name, hd.id_number, hd.id_raw, hd.household_type, hd.monitoring_category, hd.eliminated_month
    FROM (SELECT arg_min({'household_id': household_id, 'county_code': county_code, 'township_code': township_code,
                          'village_code': village_code, 'county': county, 'township': township, 'village': village,
                          'name': name, 'id_number': id_number, 'id_raw': id_raw, 'household_type': household_type,
                          'monitoring_category': monitoring_category, 'eliminated_month': eliminated_month},
                         {'h': CASE WHEN relation = '户主' THEN 0 ELSE 1 END, 'r': coalesce(source_row, 0), 'f': source_file, 'n': name}) AS hd
          FROM registry_person
          WHERE household_id IN (SELECT household_id FROM _roster_src) GROUP BY household_id) picked
),
n AS (
    SELECT household_id,
           count(DISTINCT coalesce(id_number, id_raw, name || '|' || coalesce(CAST(birth_date AS VARCHAR), '') || '|'
                                   || coalesce(relation, ''))) AS members
    FROM registry_person
    WHERE household_id IN (SELECT household_id FROM _roster_src)
    GROUP BY household_id
)
SELECT h.household_id,
       coalesce(h.county_code, left(h.village_code, 6)) AS county_code,
       coalesce(h.township_code, left(h.village_code, 9)) AS township_code,
       h.village_code, h.county, h.township, h.village,
       h.name AS head_name,
       coalesce(h.id_number, h.id_raw) AS head_id,
       h.household_type,
       nullif(trim(h.monitoring_category), '') AS monitoring_category,
       h.eliminated_month,
       n.members
FROM head h JOIN n USING (household_id);

CREATE OR REPLACE TEMP TABLE _form_roster AS
WITH s AS (
    SELECT s.*,
           coalesce(s.village_code, r.village_code) AS v_code
    FROM _roster_src s LEFT JOIN _form_reg_hh r USING (household_id)
)
SELECT s.household_id,
       coalesce(s.county_code, left(s.v_code, 6), r.county_code, '') AS county_code,
       coalesce(s.township_code, left(s.v_code, 9), r.township_code) AS township_code,
       s.v_code AS village_code,
       coalesce(v.county, r.county) AS county,
       coalesce(v.township, r.township) AS township,
       coalesce(v.village, r.village) AS village,
       coalesce(s.head_name, r.head_name) AS head_name,
       r.head_id,
       CAST(coalesce(s.household_size, r.members) AS INTEGER) AS household_size,
       r.household_type,
       coalesce(s.category, r.monitoring_category) AS category,
       coalesce(s.risk_types, CAST([] AS VARCHAR[])) AS risk_types,
       s.identified_on,
       s.helper_name,
       coalesce(s.measures, CAST([] AS VARCHAR[])) AS measures,
       s.last_visit,
       s.status,
       CASE WHEN s.status = 'eliminated'
            THEN coalesce(s.eliminated_on, CAST(try_strptime(r.eliminated_month || '01', '%Y%m%d') AS DATE)) END AS eliminated_on,
       s.source,
       r.household_id IS NOT NULL AS in_registry
FROM s
LEFT JOIN _form_reg_hh r USING (household_id)
LEFT JOIN village v ON v.village_code = s.v_code;
