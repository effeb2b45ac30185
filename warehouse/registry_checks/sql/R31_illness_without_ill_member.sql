-- code: R31
-- severity: 错误
-- level: 户
-- needs: roster
-- title: 风险类型为因病但无大病或慢性病成员
-- description: 致贫/返贫风险含“因病”的户，应至少有一名成员健康状况为患有大病或长期慢性病。
-- basis: Gzuwkj/fuping rules/5_15_015（domain-notes §2）
-- basis_zh: 常用数据校验规则：风险类型“因病”须有患大病或长期慢性病的成员
SELECT h.household_id, h.head_id AS id_number, h.head_name AS name, h.head_source_file AS source_file,
       h.head_source_row AS source_row,
       '风险类型含因病，户内无健康状况为大病或慢性病的成员' AS detail
FROM _rc_household h JOIN _rc_roster r USING (household_id)
WHERE list_contains(r.risk_types, '因病') AND NOT h.has_ill
