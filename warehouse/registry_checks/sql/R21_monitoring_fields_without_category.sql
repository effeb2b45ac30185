-- code: R21
-- severity: 提醒
-- level: 户
-- title: 非监测对象填有监测信息
-- description: 监测对象类别为空的户，不应填写风险是否已消除、识别监测时间或消除监测时间。
-- basis: 国家系统字段之间的依赖（domain-notes §4）
-- basis_zh: 防返贫监测信息系统填报要求：监测信息只对监测对象填写
SELECT household_id, head_id AS id_number, head_name AS name, head_source_file AS source_file,
       head_source_row AS source_row,
       '监测对象类别为空，但填有：' || concat_ws('、',
           CASE WHEN risk_eliminated IS NOT NULL THEN '风险是否已消除' END,
           CASE WHEN identified_month IS NOT NULL THEN '识别监测时间' END,
           CASE WHEN eliminated_month IS NOT NULL THEN '消除监测时间' END) AS detail
FROM _rc_household
WHERE category IS NULL AND (risk_eliminated IS NOT NULL OR identified_month IS NOT NULL OR eliminated_month IS NOT NULL)
