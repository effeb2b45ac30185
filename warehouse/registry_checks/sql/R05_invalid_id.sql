-- code: R05
-- severity: 错误
-- level: 人
-- title: 证件号码无效
-- description: 证件号码应为18位有效居民身份证号码（或以其开头的20/22位残疾人证号），校验位、出生日期、地址码须正确。
-- basis: GB 11643-1999；国家系统接受18/20/22位（domain-notes §4、§5）
-- basis_zh: 《公民身份号码》（GB 11643—1999）；系统接受18位身份证号码或以其开头的20位、22位残疾人证号
SELECT household_id, coalesce(id_number, id_raw) AS id_number, name, source_file, source_row,
       CASE id_status
           WHEN 'missing' THEN '证件号码为空'
           WHEN 'converted15' THEN '登记的是15位旧证件号码，应更正为18位'
           WHEN 'bad_checksum' THEN '证件号码校验位不对（可能抄错一位）'
           WHEN 'bad_date' THEN '证件号码中的出生日期不存在'
           WHEN 'bad_area' THEN '证件号码的地址码不是有效省份代码'
           WHEN 'mangled' THEN '证件号码被Excel存成了数字，已失真'
           ELSE '证件号码位数或字符不对' END AS detail
FROM _rc_person
WHERE coalesce(id_status, 'missing') <> 'valid'
