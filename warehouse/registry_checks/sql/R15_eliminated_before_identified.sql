-- code: R15
-- severity: 错误
-- level: 户
-- title: 消除监测时间早于识别监测时间
-- description: 消除监测时间不能早于识别监测时间。
-- basis: 识别与消除的先后顺序（work plan 二(二)、二(四)）
-- basis_zh: 柳州市“六个精准”工作方案：先识别纳入监测，后按程序消除风险
SELECT household_id, head_id AS id_number, head_name AS name, head_source_file AS source_file,
       head_source_row AS source_row,
       '识别监测时间' || identified_month || '，消除监测时间' || eliminated_month AS detail
FROM _rc_household
WHERE eliminated_on IS NOT NULL AND identified_on IS NOT NULL AND eliminated_on < identified_on
