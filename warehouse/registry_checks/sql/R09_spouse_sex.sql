-- code: R09
-- severity: 错误
-- level: 人
-- title: 配偶与户主性别相同
-- description: 与户主关系为“配偶”的成员应与户主性别不同。
-- basis: Gzuwkj/fuping rules/2_01_004.py（关系与性别）
-- basis_zh: 防返贫监测信息系统“与户主关系”取值与性别的对应（常用数据校验规则）
WITH head AS (
    SELECT household_id, any_value(eff_sex) AS head_sex
    FROM _rc_person WHERE relation = '户主' GROUP BY household_id HAVING count(*) = 1
)
SELECT p.household_id, coalesce(p.id18, p.id_raw) AS id_number, p.name, p.source_file, p.source_row,
       '配偶与户主性别均为' || p.eff_sex AS detail
FROM _rc_person p JOIN head USING (household_id)
WHERE p.relation = '配偶' AND p.eff_sex IN ('男', '女') AND p.eff_sex = head.head_sex
