-- code: R19
-- severity: 提醒
-- level: 户
-- title: 脱贫户人均纯收入低于监测线但未纳入监测（疑似漏监测）
-- description: 脱贫户人均纯收入低于当年监测线而未纳入监测，请入户核实是否应纳入（应纳尽纳）。
-- basis: 脱贫不稳定户定义（domain-notes §1）；fangpin/config/rules.yaml 当年监测线
-- basis_zh: 脱贫不稳定户认定条件：脱贫户人均纯收入低于当年监测线的应纳入监测
SELECT h.household_id, h.head_id AS id_number, h.head_name AS name, h.head_source_file AS source_file,
       h.head_source_row AS source_row,
       '人均纯收入' || printf('%.2f', h.income) || '元，低于监测线' || printf('%.0f', l.monitoring_line) || '元' AS detail
FROM _rc_household h JOIN _rc_line l ON l.county_code = h.county_code
WHERE h.household_type = '脱贫户' AND h.category IS NULL
  AND h.income IS NOT NULL AND h.income < l.monitoring_line
