-- code: R14
-- severity: 错误
-- level: 户
-- title: 风险已消除但无消除监测时间
-- description: “风险是否已消除”为“是”的户应填写有效的消除监测时间。
-- basis: 国家系统字段“消除监测时间”（domain-notes §4）
-- basis_zh: 防返贫监测信息系统填报要求：风险已消除的须填写“消除监测时间”
SELECT household_id, head_id AS id_number, head_name AS name, head_source_file AS source_file,
       head_source_row AS source_row,
       '风险已消除，消除监测时间' ||
       CASE WHEN eliminated_month IS NULL THEN '为空' ELSE '“' || eliminated_month || '”无法识别' END AS detail
FROM _rc_household
WHERE category IS NOT NULL AND risk_eliminated = '是' AND eliminated_on IS NULL
