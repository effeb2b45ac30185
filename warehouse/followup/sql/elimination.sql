-- Risk-elimination review (消除风险精准) and the fund-allocation factor (资金使用精准): warehouse/followup/elimination.py.

-- step: monitored
CREATE OR REPLACE TEMP TABLE _fu_monitored AS SELECT * FROM monitoring_roster WHERE status = 'monitored';

-- step: counties
SELECT DISTINCT county_code FROM _fu_monitored WHERE county_code IS NOT NULL ORDER BY county_code;

-- step: review
-- _fu_lines (county_code, monitoring_line) is put by the caller from rules.yaml
WITH r AS (SELECT * FROM _fu_monitored),
meas AS (
    SELECT household_id, count(*) AS measures_n, list(DISTINCT measure ORDER BY measure) AS measure_list
    FROM household_event WHERE event_type = 'measure' AND (event_date IS NULL OR event_date <= ${as_of})
    GROUP BY household_id
),
risk AS (
    SELECT household_id, count(*) AS risk_records, max(event_date) AS last_risk_on,
           arg_max(summary, event_date) AS last_risk_summary
    FROM (  -- each department record once, whatever the rounds that listed it
        SELECT DISTINCT ON (household_id, source, source_file, source_row) household_id, event_date, summary
        FROM suspect_evidence
        WHERE risk_type IS NOT NULL AND source <> 'registry'
          AND event_date > CAST(${as_of} - INTERVAL ${stable_months} MONTH AS DATE) AND event_date <= ${as_of}
        ORDER BY household_id, source, source_file, source_row, event_date
    ) x
    GROUP BY household_id
),
fb AS (
    SELECT household_id,
           arg_max(income, (reported_on, source_row)) AS fb_income, max(reported_on) AS fb_income_on,
           min(income) FILTER (WHERE reported_on > CAST(${as_of} - INTERVAL ${stable_months} MONTH AS DATE)) AS fb_income_min_recent
    FROM (
        SELECT household_id, income, source_row,
               coalesce(list_max(visit_dates), verify_date, measure_date, included_on, CAST(ingested_at AS DATE)) AS reported_on
        FROM feedback_record WHERE income IS NOT NULL
    ) WHERE reported_on <= ${as_of}
    GROUP BY household_id
),
j AS (
    SELECT r.*, l.monitoring_line, coalesce(m.measures_n, 0) AS measures_n, m.measure_list,
           coalesce(k.risk_records, 0) AS risk_records, k.last_risk_on, k.last_risk_summary,
           fb.fb_income, fb.fb_income_on, fb.fb_income_min_recent,
           coalesce(fb.fb_income, r.per_capita_net_income) AS income,
           CASE WHEN fb.fb_income IS NOT NULL THEN '核实反馈' WHEN r.per_capita_net_income IS NOT NULL THEN '户籍系统（上年）' END AS income_source,
           CASE WHEN r.identified_on IS NOT NULL THEN date_diff('month', r.identified_on, ${as_of})
                    - CASE WHEN day(${as_of}) < day(r.identified_on) THEN 1 ELSE 0 END END AS months_monitored
    FROM r
    LEFT JOIN _fu_lines l USING (county_code)
    LEFT JOIN meas m USING (household_id)
    LEFT JOIN risk k USING (household_id)
    LEFT JOIN fb USING (household_id)
),
c AS (
    SELECT j.*,
           coalesce(j.identified_on + INTERVAL ${min_months} MONTH <= ${as_of}, false) AS c_months,
           j.measures_n >= 1 AS c_measure,
           coalesce(j.income >= j.monitoring_line, false) AS c_income,
           j.risk_records = 0 AND coalesce(j.fb_income_min_recent >= j.monitoring_line, true) AS c_stable,
           coalesce(j.housing_safe, false) AS c_housing,
           coalesce(j.water_safe, false) AS c_water,
           NOT coalesce(j.has_dropout, false) AS c_education,
           NOT coalesce(j.no_labour, false) AS c_labour
    FROM j
)
SELECT household_id, county_code, township_code, village_code, county, township, village, head_name, household_size,
       category, risk_types, identified_on, months_monitored, helper_name, measures_n, measure_list, last_visit,
       income, income_source, monitoring_line, risk_records, last_risk_on, source,
       c_months, c_measure, c_income, c_stable, c_housing, c_water, c_education, c_labour,
       c_months AND c_measure AND c_income AND c_stable AND c_housing AND c_water AND c_education AND c_labour AS candidate,
       nullif(concat_ws('；',
           CASE WHEN NOT c_labour THEN '整户无劳动能力：落实社会保障措施后持续跟踪监测，不标注风险消除' END,
           CASE WHEN identified_on IS NULL THEN '识别监测时间不详'
                WHEN NOT c_months THEN '纳入监测未满' || CAST(${min_months} AS VARCHAR) || '个月（' || strftime(identified_on, '%Y-%m-%d') || '识别）' END,
           CASE WHEN NOT c_measure THEN '尚无帮扶措施记录' END,
           CASE WHEN income IS NULL THEN '人均纯收入未登记'
                WHEN NOT c_income THEN '人均纯收入' || printf('%.2f', income) || '元低于监测线' || printf('%.0f', monitoring_line) || '元' END,
           CASE WHEN risk_records > 0 THEN '近' || CAST(${stable_months} AS VARCHAR) || '个月有新的风险信号（最近 ' || strftime(last_risk_on, '%Y-%m-%d') || '：'
                || coalesce(last_risk_summary, '') || '）' END,
           CASE WHEN fb_income_min_recent < monitoring_line THEN '近' || CAST(${stable_months} AS VARCHAR) || '个月核实反馈的人均纯收入低于监测线' END,
           CASE WHEN housing_safe IS NULL THEN '住房安全情况未登记' WHEN NOT c_housing THEN '住房安全未保障（危房户）' END,
           CASE WHEN water_safe IS NULL THEN '饮水安全情况未登记' WHEN NOT c_water THEN '饮水安全未解决' END,
           CASE WHEN NOT c_education THEN '有家庭成员失学辍学' END
       ), '') AS reasons
FROM c
ORDER BY county_code, township_code, village_code, household_id

-- step: funds
-- monitored households and persons per county; every registry county appears, with zeros when it has none
WITH m AS (SELECT county_code, count(*) AS households, CAST(sum(household_size) AS BIGINT) AS persons
           FROM monitoring_roster WHERE status = 'monitored' GROUP BY county_code),
allc AS (SELECT DISTINCT coalesce(county_code, left(village_code, 6)) AS county_code FROM registry_person)
SELECT a.county_code, coalesce(m.households, 0) AS households, coalesce(m.persons, 0) AS persons
FROM allc a LEFT JOIN m USING (county_code)
UNION
SELECT m.county_code, m.households, m.persons FROM m WHERE m.county_code NOT IN (SELECT county_code FROM allc)
