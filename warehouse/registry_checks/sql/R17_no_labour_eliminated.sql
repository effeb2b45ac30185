-- code: R17
-- severity: 提醒
-- level: 户
-- title: 整户无劳动能力却已标注风险消除
-- description: 对无劳动能力的户，落实社会保障措施后暂不标注“风险消除”，持续跟踪监测。
-- basis: 柳州市“六个精准”工作方案 二(四)；domain-notes §1（整户无劳动力不标注消除）
-- basis_zh: 柳州市“六个精准”工作方案 二(四)：整户无劳动能力的监测户不标注风险消除，持续监测
SELECT household_id, head_id AS id_number, head_name AS name, head_source_file AS source_file,
       head_source_row AS source_row,
       '全部' || n_rows || '名成员均为丧失劳动力或无劳动力，已标注风险消除' AS detail
FROM _rc_household
WHERE category IS NOT NULL AND risk_eliminated = '是' AND n_rows > 0 AND n_no_labour = n_rows
