-- code: R07
-- severity: 错误
-- level: 人
-- title: 性别与证件号码不符
-- description: 证件号码第17位奇数为男、偶数为女，应与登记的性别一致。
-- basis: GB 11643-1999（domain-notes §5）
-- basis_zh: 《公民身份号码》（GB 11643—1999）：第17位奇数为男、偶数为女
SELECT household_id, id18 AS id_number, name, source_file, source_row,
       '性别登记为' || sex || '，证件号码为' || id_sex AS detail
FROM _rc_person
WHERE sex IN ('男', '女') AND id_sex IS NOT NULL AND sex <> id_sex
