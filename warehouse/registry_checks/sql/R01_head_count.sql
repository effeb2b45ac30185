-- code: R01
-- severity: 错误
-- level: 户
-- title: 户主人数不为1
-- description: 每户应有且只有一名“与户主关系”为“户主”的成员。
-- basis: 国家系统户—人结构，与户主关系以户主为基准（domain-notes §4）
-- basis_zh: 防返贫监测信息系统以户为单位登记，每户以户主为基准填写“与户主关系”
SELECT household_id, head_id AS id_number, head_name AS name, head_source_file AS source_file,
       head_source_row AS source_row,
       '本户登记户主' || heads || '人' AS detail
FROM _rc_household
WHERE heads <> 1
