-- code: R11
-- severity: 提醒
-- level: 人
-- title: 16—59周岁健康成员登记为弱劳动力或半劳动力
-- description: 16—59周岁且健康状况为“健康”的成员一般不应为“弱劳动力或半劳动力”，请核实。
-- basis: domain-notes §2（members aged 16–59 and 健康 should not be 弱/半劳动力）
-- basis_zh: 防返贫监测信息系统填报要求：16—59周岁、身体健康的成员一般不应登记为弱劳动力或半劳动力
SELECT p.household_id, coalesce(p.id18, p.id_raw) AS id_number, p.name, p.source_file, p.source_row,
       p.age || '周岁，健康，劳动技能登记为弱劳动力或半劳动力' AS detail
FROM _rc_person p, _rc_params prm
WHERE p.age BETWEEN prm.child_age AND prm.working_age_max
  AND p.health = '健康' AND p.labour = '弱劳动力或半劳动力'
