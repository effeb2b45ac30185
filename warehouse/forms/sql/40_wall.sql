-- 防贫监测对象帮扶情况一览表 — the village wall table. PUBLIC (墙上有表): publicity rules forbid the ID number, phone
-- number, bank account and health status on notices (domain-notes §1). The masking is by ALLOW-list, so a value the
-- rules do not know can never reach the wall:
-- * columns: only head's name, household size, category, risk types, identification month, helper, measures,
--   elimination state (no 户编号, no ID, no phone, no income, no member list, no health, no amounts);
-- * risk types: shown only when on the non-health list below; 因病, 因残, 其他 and anything unknown all become
--   "其他困难" — 其他 is folded in too, so that "其他困难" does not tell a reader that a household is ill or disabled;
-- * measures: only the measure FAMILY is shown (text before the first "：", "(" or space), and only when the family or
--   a known item maps to a non-health family below; 健康帮扶 and everything unknown become "综合帮扶";
-- * names (head, helper): runs of 7+ digits (ID, phone, bank account) and bracketed notes ("王五（…）") are removed,
--   then only Han characters, letters, the minority-name dot and list separators are kept;
-- * 监测对象类别: one of the three official categories, else "待核实".
-- A last line of defence runs on the written workbooks (fangpin.reports.forms.scan_public_workbook).
-- Rows: households monitored now, plus those eliminated in the 12 months before as_of (or at an unknown date).
CREATE OR REPLACE TEMP MACRO _wall_name(s) AS
    nullif(trim(regexp_replace(
        regexp_replace(
            regexp_replace(s, '[0-9０-９][0-9０-９ \-－]{5,}[0-9０-９XxＸｘ]', '', 'g'),
            '[（(【\[][^）)】\]]*[）)】\]]?', '', 'g'),
        '[^\p{Han}·•A-Za-z、，,]', '', 'g')), '');

CREATE OR REPLACE TEMP MACRO _wall_risk(x) AS
    CASE WHEN trim(x) IN ('因学', '因自然灾害', '因意外事故', '因安全住房', '因安全饮水', '因产业项目失败',
                          '因务工就业不稳', '缺劳动力') THEN trim(x)
         WHEN trim(x) IN ('务工就业不稳', '学', '自然灾害', '意外事故', '安全住房', '安全饮水', '产业项目失败')
              THEN '因' || trim(x)
         WHEN trim(x) IN ('因缺劳动力', '缺乏劳动力') THEN '缺劳动力'
         ELSE '其他困难' END;

CREATE OR REPLACE TEMP MACRO _wall_measure(m) AS
    CASE coalesce(nullif(trim(regexp_extract(trim(m), '^([^：:（(\s、，,]+)', 1)), ''), trim(m))
         WHEN '产业帮扶' THEN '产业帮扶' WHEN '产业发展' THEN '产业帮扶' WHEN '产业奖补' THEN '产业帮扶'
         WHEN '就业帮扶' THEN '就业帮扶' WHEN '技能培训' THEN '就业帮扶' WHEN '外出务工补贴' THEN '就业帮扶'
         WHEN '劳务输出' THEN '就业帮扶' WHEN '务工就业' THEN '就业帮扶'
         WHEN '公益岗位帮扶' THEN '公益性岗位帮扶' WHEN '公益性岗位帮扶' THEN '公益性岗位帮扶'
         WHEN '公益性岗位' THEN '公益性岗位帮扶' WHEN '公益岗位' THEN '公益性岗位帮扶'
         WHEN '金融帮扶' THEN '金融帮扶' WHEN '小额信贷' THEN '金融帮扶' WHEN '扶贫小额信贷' THEN '金融帮扶'
         WHEN '教育帮扶' THEN '教育帮扶' WHEN '雨露计划' THEN '教育帮扶'
         WHEN '义务教育保障' THEN '义务教育保障'
         WHEN '住房安全保障' THEN '住房安全保障' WHEN '危房改造' THEN '住房安全保障'
         WHEN '饮水安全保障' THEN '饮水安全保障'
         WHEN '综合保障' THEN '综合保障' WHEN '低保' THEN '综合保障' WHEN '农村低保' THEN '综合保障'
         WHEN '特困供养' THEN '综合保障' WHEN '农村特困' THEN '综合保障' WHEN '临时救助' THEN '综合保障'
         WHEN '社会帮扶' THEN '社会帮扶'
         WHEN '搬迁' THEN '易地搬迁' WHEN '易地搬迁' THEN '易地搬迁'
         WHEN '基础设施建设' THEN '基础设施建设' WHEN '生产生活条件改善' THEN '生产生活条件改善'
         ELSE '综合帮扶' END;

CREATE OR REPLACE TEMP TABLE _form_wall AS
WITH r AS (
    SELECT r.*,
           list_distinct(list_transform(r.risk_types, lambda x: _wall_risk(x))) AS risk_masked,
           list_distinct(list_transform(r.measures, lambda m: _wall_measure(m))) AS measure_masked
    FROM _form_roster r, _form_params p
    WHERE r.status = 'monitored'
       OR r.eliminated_on IS NULL
       OR r.eliminated_on >= p.as_of - INTERVAL 12 MONTH
)
SELECT household_id, county_code, township_code, village_code, county, township, village,
       _wall_name(head_name) AS head_name,
       household_size,
       CASE WHEN trim(category) IN ('脱贫不稳定户', '边缘易致贫户', '突发严重困难户') THEN trim(category)
            ELSE '待核实' END AS category,
       nullif(array_to_string(list_filter(['因学', '因自然灾害', '因意外事故', '因安全住房', '因安全饮水', '因产业项目失败',
                                    '因务工就业不稳', '缺劳动力', '其他困难'],
                                   lambda t: list_contains(risk_masked, t)), '、'), '') AS risk_text,
       strftime(identified_on, '%Y年%m月') AS identified_text,
       _wall_name(helper_name) AS helper_name,
       nullif(array_to_string(list_filter(['产业帮扶', '就业帮扶', '公益性岗位帮扶', '金融帮扶', '教育帮扶', '义务教育保障',
                                    '住房安全保障', '饮水安全保障', '易地搬迁', '基础设施建设', '生产生活条件改善',
                                    '综合保障', '社会帮扶', '综合帮扶'],
                                   lambda t: list_contains(measure_masked, t)), '、'), '') AS measure_text,
       CASE WHEN status = 'eliminated'
            THEN '已消除' || coalesce('（' || strftime(eliminated_on, '%Y年%m月') || '）', '')
            ELSE '未消除' END AS elimination_text,
       status, identified_on
FROM r;
