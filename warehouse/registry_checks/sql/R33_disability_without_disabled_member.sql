-- code: R33
-- severity: 错误
-- level: 户
-- needs: roster
-- title: 风险类型为因残但无残疾成员
-- description: 致贫/返贫风险含“因残”的户，应至少有一名成员健康状况为残疾。
-- basis: domain-notes §2（因残 与健康状况的对应）
-- basis_zh: 防返贫监测信息系统填报要求：风险类型“因残”须有残疾成员
SELECT h.household_id, h.head_id AS id_number, h.head_name AS name, h.head_source_file AS source_file,
       h.head_source_row AS source_row,
       '风险类型含因残，户内无健康状况为残疾的成员' AS detail
FROM _rc_household h JOIN _rc_roster r USING (household_id)
WHERE list_contains(r.risk_types, '因残') AND NOT h.has_disabled
