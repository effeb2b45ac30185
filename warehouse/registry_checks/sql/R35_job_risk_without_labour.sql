-- code: R35
-- severity: 错误
-- level: 户
-- needs: roster
-- title: 风险类型为务工就业不稳但无有劳动能力的成员
-- description: 致贫/返贫风险含“因务工就业不稳”的户，应至少有一名技能、普通或弱（半）劳动力成员。
-- basis: domain-notes §2（因务工就业不稳 needs a member able to work）
-- basis_zh: 防返贫监测信息系统填报要求：风险类型“因务工就业不稳”须有有劳动能力的成员
SELECT h.household_id, h.head_id AS id_number, h.head_name AS name, h.head_source_file AS source_file,
       h.head_source_row AS source_row,
       '风险类型含因务工就业不稳，户内成员均为丧失劳动力或无劳动力' AS detail
FROM _rc_household h JOIN _rc_roster r USING (household_id)
WHERE (list_contains(r.risk_types, '因务工就业不稳') OR list_contains(r.risk_types, '务工就业不稳'))
  AND h.n_capacity = 0
