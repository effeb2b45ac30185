-- code: R02
-- severity: 错误
-- level: 户
-- title: 家庭人口数与登记成员人数不符
-- description: “家庭人口数”应等于本户登记的成员人数。
-- basis: SPEC §4.1（家庭人口数可由成员推算）；人均纯收入按家庭人口计算
-- basis_zh: 家庭人口数为本户登记的成员人数；人均纯收入按家庭人口计算
SELECT household_id, head_id AS id_number, head_name AS name, head_source_file AS source_file,
       head_source_row AS source_row,
       '家庭人口数登记为' || registered_size || '人，户内登记成员' || members || '人' AS detail
FROM _rc_household
WHERE registered_size IS NOT NULL AND registered_size <> members
