-- code: R10
-- severity: 错误
-- level: 人
-- title: 未满16周岁的劳动技能不是无劳动力
-- description: 未满16周岁的成员劳动技能应登记为“无劳动力”。
-- basis: domain-notes §4（Children under 16 must be 无劳动力）
-- basis_zh: 防返贫监测信息系统填报要求：未满16周岁的成员劳动技能为“无劳动力”
SELECT p.household_id, coalesce(p.id18, p.id_raw) AS id_number, p.name, p.source_file, p.source_row,
       p.age || '周岁，劳动技能登记为' || coalesce(nullif(p.labour, ''), '（空）') AS detail
FROM _rc_person p, _rc_params prm
WHERE p.age IS NOT NULL AND p.age >= 0 AND p.age < prm.child_age
  AND coalesce(p.labour, '') <> '无劳动力'
