-- code: R18
-- severity: 提醒
-- level: 户
-- title: 识别监测时人均纯收入超过20000元
-- description: 收入年度（上一年）及以后识别的监测对象，人均纯收入超过20000元的，请核实识别依据（突发严重困难户也应说明刚性支出）。
-- basis: Gzuwkj/fuping rules/1111_18（2023年起识别时人均纯收入>20000元提示）
-- basis_zh: 常用数据校验规则：识别监测时人均纯收入超过20000元的须核实
SELECT household_id, head_id AS id_number, head_name AS name, head_source_file AS source_file,
       head_source_row AS source_row,
       '识别监测时间' || identified_month || '，人均纯收入' || printf('%.2f', income) || '元' AS detail
FROM _rc_household, _rc_params prm
WHERE category IS NOT NULL AND identified_on >= make_date(year(prm.as_of) - 1, 1, 1)
  AND income > prm.identification_income_max
