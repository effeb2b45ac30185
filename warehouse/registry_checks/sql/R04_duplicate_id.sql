-- code: R04
-- severity: 错误
-- level: 人
-- title: 证件号码重复登记
-- description: 同一证件号码只能登记一次（同户重复或出现在多个户中）。
-- basis: 国家系统以证件号码为人员主键（domain-notes §4）
-- basis_zh: 防返贫监测信息系统以证件号码识别人员，同一人只能登记一次
WITH dup AS (
    SELECT id18 FROM _rc_person WHERE id18 IS NOT NULL GROUP BY id18 HAVING count(*) > 1
),
d AS (
    SELECT id18, count(*) AS n, count(DISTINCT household_id) AS n_hh,
           string_agg(DISTINCT household_id, '、' ORDER BY household_id) AS households
    FROM _rc_person WHERE id18 IN (SELECT id18 FROM dup)
    GROUP BY id18
)
SELECT p.household_id, p.id18 AS id_number, p.name, p.source_file, p.source_row,
       CASE WHEN d.n_hh > 1 THEN '该证件号码登记在' || d.n_hh || '个户中：' || d.households
            ELSE '该证件号码在本户登记了' || d.n || '次' END AS detail
FROM _rc_person p JOIN d USING (id18)
