-- code: R20
-- severity: 提醒
-- level: 户
-- title: 已消除风险户人均纯收入低于监测线
-- description: 风险消除要求收入稳定超过监测线；已标注消除但人均纯收入低于当年监测线的，请核实是否应恢复监测。
-- basis: 风险消除条件（domain-notes §1）；帮扶消除须人均纯收入不低于监测线（domain-notes §2）
-- basis_zh: 风险消除条件：人均纯收入稳定超过当年监测线
SELECT h.household_id, h.head_id AS id_number, h.head_name AS name, h.head_source_file AS source_file,
       h.head_source_row AS source_row,
       '已消除风险，人均纯收入' || printf('%.2f', h.income) || '元，低于监测线' || printf('%.0f', l.monitoring_line) || '元' AS detail
FROM _rc_household h JOIN _rc_line l ON l.county_code = h.county_code
WHERE h.category IS NOT NULL AND h.risk_eliminated = '是'
  AND h.income IS NOT NULL AND h.income < l.monitoring_line
