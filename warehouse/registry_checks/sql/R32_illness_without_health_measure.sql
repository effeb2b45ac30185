-- code: R32
-- severity: 提醒
-- level: 户
-- needs: roster
-- title: 风险类型为因病但无健康帮扶或社会帮扶措施
-- description: 致贫/返贫风险含“因病”的户，应落实健康帮扶（医疗保障、医疗救助等）或社会帮扶措施。
-- basis: Gzuwkj/fuping rules/5_15_015（domain-notes §2）
-- basis_zh: 常用数据校验规则：风险类型“因病”须落实健康帮扶或社会帮扶措施
SELECT h.household_id, h.head_id AS id_number, h.head_name AS name, h.head_source_file AS source_file,
       h.head_source_row AS source_row,
       '风险类型含因病，帮扶措施中无健康帮扶或社会帮扶' AS detail
FROM _rc_household h JOIN _rc_roster r USING (household_id)
WHERE list_contains(r.risk_types, '因病')
  AND NOT coalesce(list_bool_or(list_transform(r.measures,
                                            lambda m: regexp_matches(m, '健康|医疗|医保|大病|慢病|慢特病|家庭医生|社会帮扶'))), false)
