-- code: R13
-- severity: 错误
-- level: 户
-- title: 监测对象未填写风险是否已消除
-- description: 有监测对象类别的户，“风险是否已消除”应为“是”或“否”。
-- basis: 国家系统字段“风险是否已消除”（domain-notes §4）
-- basis_zh: 防返贫监测信息系统必填项“风险是否已消除”
SELECT household_id, head_id AS id_number, head_name AS name, head_source_file AS source_file,
       head_source_row AS source_row,
       '风险是否已消除' || CASE WHEN risk_eliminated IS NULL THEN '为空' ELSE '填为“' || risk_eliminated || '”' END AS detail
FROM _rc_household
WHERE category IS NOT NULL AND coalesce(risk_eliminated, '') NOT IN ('是', '否')
