-- Inputs of the registry consistency rules (TEMP tables; parameters in _rc_params, lines in _rc_line).
-- _rc_person: one row per registry row, with the ID's own birth date and sex, the effective birth date and the age
--             in full years on as_of.
-- _rc_household: one row per 户编号; household fields from the head's row (户主, else the first row by source_row),
--             member counts, labour and health counts, and which household fields differ between the member rows.
CREATE OR REPLACE TEMP TABLE _rc_person AS
WITH p AS (
    SELECT rp.*,
           coalesce(rp.county_code, left(rp.village_code, 6)) AS c_code,
           coalesce(rp.township_code, left(rp.village_code, 9)) AS t_code,
           CASE WHEN rp.id_status IN ('valid', 'converted15') THEN rp.id_number END AS id18,
           CASE WHEN rp.relation = '户主' THEN 0 ELSE 1 END AS _h,
           coalesce(rp.source_row, 0) AS _r
    FROM registry_person rp
)
SELECT p.*,
       CAST(try_strptime(substr(p.id18, 7, 8), '%Y%m%d') AS DATE) AS id_birth,
       CASE WHEN p.id18 IS NULL THEN NULL
            WHEN TRY_CAST(substr(p.id18, 17, 1) AS INTEGER) % 2 = 1 THEN '男' ELSE '女' END AS id_sex,
       coalesce(p.birth_date, id_birth) AS eff_birth,
       coalesce(p.sex, id_sex) AS eff_sex,
       year(prm.as_of) - year(eff_birth)
         - CASE WHEN strftime(prm.as_of, '%m%d') < strftime(eff_birth, '%m%d') THEN 1 ELSE 0 END AS age
FROM p, _rc_params prm;

CREATE OR REPLACE TEMP TABLE _rc_head AS
-- the head's row (户主, else the first row): the wanted columns of the row with the smallest key, in one
-- hash aggregate (no sort, no join back)
SELECT hd.household_id, hd.c_code, hd.t_code, hd.village_code, hd.county, hd.township, hd.village, hd.name,
       hd.id_number, hd.id_raw, hd.source_file, hd.source_row, hd.household_type, hd.monitoring_category,
       hd.risk_eliminated, hd.identified_month, hd.eliminated_month, hd.per_capita_net_income, hd.household_size
FROM (SELECT arg_min({'household_id': household_id, 'c_code': c_code, 't_code': t_code,
                      'village_code': village_code, 'county': county, 'township': township, 'village': village,
                      'name': name, 'id_number': id_number, 'id_raw': id_raw, 'source_file': source_file,
                      'source_row': source_row, 'household_type': household_type,
                      'monitoring_category': monitoring_category, 'risk_eliminated': risk_eliminated,
                      'identified_month': identified_month, 'eliminated_month': eliminated_month,
                      'per_capita_net_income': per_capita_net_income, 'household_size': household_size},
                     {'h': _h, 'r': _r, 'f': source_file, 'n': name}) AS hd
      FROM _rc_person GROUP BY household_id) picked;

CREATE OR REPLACE TEMP TABLE _rc_household AS
WITH agg AS (
    SELECT p.household_id,
           count(*) AS n_rows,
           count(DISTINCT coalesce(p.id18, p.id_raw, p.name || '|' || coalesce(CAST(p.eff_birth AS VARCHAR), '') || '|' || coalesce(p.relation, ''))) AS members,
           count(*) FILTER (WHERE p.relation = '户主') AS heads,
           count(*) FILTER (WHERE p.labour IN ('技能劳动力', '普通劳动力')) AS n_able,
           count(*) FILTER (WHERE p.labour IN ('技能劳动力', '普通劳动力', '弱劳动力或半劳动力')) AS n_capacity,
           count(*) FILTER (WHERE p.labour IN ('丧失劳动力', '无劳动力')) AS n_no_labour,
           coalesce(bool_or(p.health LIKE '%大病%' OR p.health LIKE '%慢性病%'), false) AS has_ill,
           coalesce(bool_or(p.health LIKE '%残疾%'), false) AS has_disabled,
           -- household fields repeat on every member row: which differ from the head's row
           bool_or(p.household_type IS DISTINCT FROM h.household_type) AS d_type,
           bool_or(nullif(trim(p.monitoring_category), '') IS DISTINCT FROM nullif(trim(h.monitoring_category), '')) AS d_cat,
           bool_or(nullif(trim(p.risk_eliminated), '') IS DISTINCT FROM nullif(trim(h.risk_eliminated), '')) AS d_elim,
           bool_or(nullif(trim(p.identified_month), '') IS DISTINCT FROM nullif(trim(h.identified_month), '')) AS d_ident,
           bool_or(nullif(trim(p.eliminated_month), '') IS DISTINCT FROM nullif(trim(h.eliminated_month), '')) AS d_elim_m,
           bool_or(p.per_capita_net_income IS DISTINCT FROM h.per_capita_net_income) AS d_income,
           bool_or(p.household_size IS DISTINCT FROM h.household_size) AS d_size,
           bool_or(p.village_code IS DISTINCT FROM h.village_code) AS d_village
    FROM _rc_person p JOIN _rc_head h USING (household_id)
    GROUP BY p.household_id
)
SELECT h.household_id,
       h.c_code AS county_code, h.t_code AS township_code, h.village_code, h.county, h.township, h.village,
       h.name AS head_name, coalesce(h.id_number, h.id_raw) AS head_id,
       h.source_file AS head_source_file, h.source_row AS head_source_row,
       h.household_type,
       nullif(trim(h.monitoring_category), '') AS category,
       nullif(trim(h.risk_eliminated), '') AS risk_eliminated,
       nullif(trim(h.identified_month), '') AS identified_month,
       nullif(trim(h.eliminated_month), '') AS eliminated_month,
       h.per_capita_net_income AS income,
       h.household_size AS registered_size,
       a.n_rows, a.members, a.heads, a.n_able, a.n_capacity, a.n_no_labour, a.has_ill, a.has_disabled,
       concat_ws('、',
           CASE WHEN a.d_type THEN '户类型' END,
           CASE WHEN a.d_cat THEN '监测对象类别' END,
           CASE WHEN a.d_elim THEN '风险是否已消除' END,
           CASE WHEN a.d_ident THEN '识别监测时间' END,
           CASE WHEN a.d_elim_m THEN '消除监测时间' END,
           CASE WHEN a.d_income THEN '人均纯收入' END,
           CASE WHEN a.d_size THEN '家庭人口数' END,
           CASE WHEN a.d_village THEN '行政村代码' END
       ) AS differing_fields,
       CAST(try_strptime(nullif(trim(h.identified_month), '') || '01', '%Y%m%d') AS DATE) AS identified_on,
       CAST(try_strptime(nullif(trim(h.eliminated_month), '') || '01', '%Y%m%d') AS DATE) AS eliminated_on
FROM _rc_head h JOIN agg a USING (household_id);

DROP TABLE _rc_head;
