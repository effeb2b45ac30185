-- 村级档案清单 (附件 1, 桌上有账): per village, the documents each roster household's file should hold, with what
-- the system knows about each; the writer adds blank columns for the staff.
-- _form_archive:         one row per roster household; d1..d10 = the state of each document below; hint (系统提示) =
--                        what the system knows that is worth a look (property hits, helper, visits, elimination…);
-- _form_archive_village: the village's own documents, one row per village and document.
-- state: 已有记录 (the system holds a record of it) | 应存档 (should be in the file; the system cannot tell) |
--        待补 (missing or overdue as far as the system knows) | 不适用 | 已生成 (produced with this set of forms).
-- Documents: the identification procedure (work plan 二(二): 农户申请、入户核实、财产检索、行政村评议、乡镇复核公示、
-- 县级审定), assistance (帮扶计划, 措施台账, a visit every quarter — 手中有本) and, for eliminated households, the
-- five-step elimination procedure (二(四)).
CREATE OR REPLACE TEMP TABLE _form_archive AS
WITH prop AS (
    SELECT l.household_id, count(*) AS n
    FROM link l JOIN dept_record d USING (source, source_file, source_row)
    WHERE l.source = 'property' AND l.match_method IN ('id_exact', 'id_repaired', 'fuzzy') AND l.household_id IS NOT NULL
    GROUP BY l.household_id
),
hh AS (
    SELECT r.*, coalesce(prop.n, 0) AS property_hits, date_trunc('quarter', p.as_of) AS quarter_start
    FROM _form_roster r LEFT JOIN prop USING (household_id), _form_params p
)
SELECT county_code, township_code, village_code, county, township, village, household_id, head_name, status,
       identified_on, eliminated_on,
       strftime(identified_on, '%Y%m') AS identified_month,
       CASE WHEN status = 'eliminated' THEN '已消除' ELSE '监测中' END AS status_text,
       CASE WHEN identified_on IS NOT NULL THEN '应存档' ELSE '待补' END AS d1,
       CASE WHEN identified_on IS NOT NULL THEN '应存档' ELSE '待补' END AS d2,
       CASE WHEN property_hits > 0 THEN '已有记录' WHEN identified_on IS NOT NULL THEN '应存档' ELSE '待补' END AS d3,
       CASE WHEN identified_on IS NOT NULL THEN '应存档' ELSE '待补' END AS d4,
       CASE WHEN identified_on IS NOT NULL THEN '应存档' ELSE '待补' END AS d5,
       CASE WHEN identified_on IS NOT NULL THEN '应存档' ELSE '待补' END AS d6,
       CASE WHEN helper_name IS NOT NULL THEN '已有记录' ELSE '待补' END AS d7,
       CASE WHEN array_length(measures) > 0 THEN '已有记录' ELSE '待补' END AS d8,
       CASE WHEN last_visit >= quarter_start THEN '已有记录' ELSE '待补' END AS d9,
       CASE WHEN status <> 'eliminated' THEN '不适用' WHEN eliminated_on IS NOT NULL THEN '应存档' ELSE '待补' END AS d10,
       concat_ws('；',
           CASE WHEN identified_on IS NULL THEN '系统无识别监测时间' END,
           CASE WHEN property_hits > 0 THEN '财产检索命中' || property_hits || '条，请附检索结果及评议意见' END,
           CASE WHEN helper_name IS NOT NULL THEN '帮扶责任人：' || helper_name ELSE '系统无帮扶责任人' END,
           CASE WHEN array_length(measures) > 0 THEN '已录入' || array_length(measures) || '项帮扶措施' ELSE '系统无帮扶措施' END,
           CASE WHEN last_visit >= quarter_start THEN '本季度已走访（最近' || strftime(last_visit, '%Y-%m-%d') || '）'
                WHEN last_visit IS NOT NULL THEN '本季度尚无走访（最近' || strftime(last_visit, '%Y-%m-%d') || '）'
                ELSE '系统无走访记录' END,
           CASE WHEN status = 'eliminated' AND eliminated_on IS NOT NULL
                     THEN '消除监测时间' || strftime(eliminated_on, '%Y年%m月')
                WHEN status = 'eliminated' THEN '已标注风险消除但无消除监测时间' END
       ) AS hint
FROM hh;

CREATE OR REPLACE TEMP TABLE _form_archive_village AS
WITH docs(doc_no, doc_name, kind) AS (
    VALUES (1, '村级防贫监测帮扶工作制度及档案目录', 'village'),
           (2, '集中排查、重点排查及日常走访排查台账', 'village'),
           (3, '村民代表民主评议会议记录（识别、风险消除）', 'village'),
           (4, '防贫监测对象帮扶情况一览表（上墙）', 'wall'),
           (5, '防止返贫监测和帮扶对象名册（本村部分）', 'roster')
),
villages AS (
    SELECT village_code, any_value(county_code) AS county_code, any_value(township_code) AS township_code,
           any_value(county) AS county, any_value(township) AS township, any_value(village) AS village,
           count(*) AS households
    FROM _form_roster GROUP BY village_code
),
on_wall AS (SELECT DISTINCT village_code FROM _form_wall WHERE village_code IS NOT NULL)
SELECT v.county_code, v.township_code, v.village_code, v.county, v.township, v.village, v.households, d.doc_no, d.doc_name,
       CASE WHEN d.kind = 'village' THEN '应存档'
            WHEN d.kind = 'wall' AND w.village_code IS NULL THEN '不适用'
            ELSE '已生成' END AS state,
       CASE WHEN d.kind = 'village' THEN '请核对原件'
            WHEN d.kind = 'wall' AND w.village_code IS NULL THEN '本村暂无需上墙的监测对象（监测中或近12个月内消除）'
            ELSE '本系统' || strftime(p.as_of, '%Y-%m-%d') || '生成，打印核对后存档' END AS detail
FROM villages v CROSS JOIN docs d CROSS JOIN _form_params p
LEFT JOIN on_wall w ON w.village_code = v.village_code;
