-- code: R08
-- severity: 错误
-- level: 人
-- title: 与户主关系与性别不符
-- description: 之子、之女婿、之孙子、之父、之公公、之岳父等应为男性；之女、之儿媳、之孙女、之母、之婆婆、之岳母等应为女性。
-- basis: Gzuwkj/fuping rules/2_01_004.py（domain-notes §4 与户主关系值域）
-- basis_zh: 防返贫监测信息系统“与户主关系”取值与性别的对应（常用数据校验规则）
WITH rel(relation, required_sex) AS (
    VALUES ('之子', '男'), ('之女婿', '男'), ('之孙子', '男'), ('之外孙子', '男'), ('之曾孙子', '男'),
           ('之父', '男'), ('之公公', '男'), ('之岳父', '男'), ('之祖父', '男'), ('之外祖父', '男'),
           ('之叔伯', '男'), ('之侄儿', '男'),
           ('之女', '女'), ('之儿媳', '女'), ('之孙女', '女'), ('之外孙女', '女'), ('之曾孙女', '女'),
           ('之母', '女'), ('之婆婆', '女'), ('之岳母', '女'), ('之祖母', '女'), ('之外祖母', '女'),
           ('之侄女', '女'), ('之兄弟媳妇', '女')
)
SELECT p.household_id, coalesce(p.id18, p.id_raw) AS id_number, p.name, p.source_file, p.source_row,
       '与户主关系为' || p.relation || '，性别为' || p.eff_sex AS detail
FROM _rc_person p JOIN rel USING (relation)
WHERE p.eff_sex IN ('男', '女') AND p.eff_sex <> rel.required_sex
