-- code: R03
-- severity: 错误
-- level: 户
-- title: 同户成员的户级信息不一致
-- description: 户类型、监测对象类别、风险是否已消除、识别/消除监测时间、人均纯收入、家庭人口数、行政村代码在同户各成员行上应相同。
-- basis: 国家系统人员导出表中户级字段在每名成员行重复（SPEC §4.1）
-- basis_zh: 防返贫监测信息系统导出表中，户级信息在每名成员行重复，同户应一致
SELECT household_id, head_id AS id_number, head_name AS name, head_source_file AS source_file,
       head_source_row AS source_row,
       '同户成员行之间不一致的字段：' || differing_fields AS detail
FROM _rc_household
WHERE differing_fields <> ''
