-- code: R12
-- severity: 错误
-- level: 户
-- title: 监测对象缺识别监测时间
-- description: 有监测对象类别的户应填写有效的识别监测时间（年月，如202403）。
-- basis: 国家系统字段“识别监测时间”（domain-notes §4）
-- basis_zh: 防返贫监测信息系统必填项“识别监测时间”
SELECT household_id, head_id AS id_number, head_name AS name, head_source_file AS source_file,
       head_source_row AS source_row,
       '监测对象类别为' || category || '，识别监测时间' ||
       CASE WHEN identified_month IS NULL THEN '为空' ELSE '“' || identified_month || '”无法识别' END AS detail
FROM _rc_household
WHERE category IS NOT NULL AND identified_on IS NULL
