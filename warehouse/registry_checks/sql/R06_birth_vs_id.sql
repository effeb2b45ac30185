-- code: R06
-- severity: 错误
-- level: 人
-- title: 出生日期与证件号码不符
-- description: 登记的出生日期应与证件号码第7–14位一致。
-- basis: GB 11643-1999（domain-notes §5）
-- basis_zh: 《公民身份号码》（GB 11643—1999）：第7—14位为出生日期
SELECT household_id, id18 AS id_number, name, source_file, source_row,
       '出生日期登记为' || strftime(birth_date, '%Y-%m-%d') || '，证件号码为' || strftime(id_birth, '%Y-%m-%d') AS detail
FROM _rc_person
WHERE birth_date IS NOT NULL AND id_birth IS NOT NULL AND birth_date <> id_birth
