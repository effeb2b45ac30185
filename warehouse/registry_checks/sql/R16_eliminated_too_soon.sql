-- code: R16
-- severity: 提醒
-- level: 户
-- title: 识别不足6个月即标注风险消除
-- description: 风险消除原则上须在纳入监测满6个月后进行，请核实消除依据。
-- basis: Gzuwkj/fuping rules/2_11_002.py；domain-notes §1（至少纳入6个月）
-- basis_zh: 风险消除条件：纳入监测原则上满6个月（常用数据校验规则）
SELECT household_id, head_id AS id_number, head_name AS name, head_source_file AS source_file,
       head_source_row AS source_row,
       '识别监测时间' || identified_month || '，消除监测时间' || eliminated_month || '，相隔' ||
       date_diff('month', identified_on, eliminated_on) || '个月' AS detail
FROM _rc_household, _rc_params prm
WHERE category IS NOT NULL AND risk_eliminated = '是'
  AND identified_on IS NOT NULL AND eliminated_on IS NOT NULL AND eliminated_on >= identified_on
  AND date_diff('month', identified_on, eliminated_on) < prm.min_months_before_elimination
