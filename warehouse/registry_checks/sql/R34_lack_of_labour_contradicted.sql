-- code: R34
-- severity: 错误
-- level: 户
-- needs: roster
-- title: 风险类型为缺劳动力但劳动力成员超过四分之一
-- description: 致贫/返贫风险含“缺劳动力”的户，普通劳动力和技能劳动力成员不应超过家庭成员的四分之一。
-- basis: Gzuwkj/fuping（缺劳动力 is contradicted when more than 1/4 of members are 普通/技能劳动力，domain-notes §2）
-- basis_zh: 常用数据校验规则：风险类型“缺劳动力”时，有劳动能力的成员不应超过四分之一
SELECT h.household_id, h.head_id AS id_number, h.head_name AS name, h.head_source_file AS source_file,
       h.head_source_row AS source_row,
       '风险类型含缺劳动力，' || h.n_rows || '名成员中有' || h.n_able || '名普通或技能劳动力' AS detail
FROM _rc_household h JOIN _rc_roster r USING (household_id), _rc_params prm
WHERE (list_contains(r.risk_types, '缺劳动力') OR list_contains(r.risk_types, '因缺劳动力'))
  AND h.n_rows > 0 AND h.n_able > prm.able_share_max * h.n_rows
