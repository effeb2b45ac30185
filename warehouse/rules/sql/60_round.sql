-- The round's suspects and their evidence (delete-then-insert for the round: reruns are idempotent).
-- County subset: only households whose registry county is in scope (fp_in_scope, see 10_households.sql).
-- Kinds: full = every household; priority = households of the target villages (_phh);
-- incremental = households whose flag is supported by evidence from files loaded since the last published round.

-- _sig is narrow (20_evidence.sql): the text of a suspect's records comes from dept_record here, and the member's
-- name as the registry spells it from _person (the record's own spelling when the member is not in the registry).
-- The suspects' records first, on their own: joined in one statement, the planner built its hash table on the
-- whole of dept_record.
CREATE OR REPLACE TEMP TABLE _rec_types AS
SELECT s.*,
       list_filter([
           CASE WHEN s.source = 'medical' AND coalesce(mp.over_annual OR mp.any_stay_over, false) THEN '因病' END,
           CASE WHEN s.disaster_sig THEN '因自然灾害' END,
           CASE WHEN s.house_severe THEN '因安全住房' END,
           CASE WHEN s.job_sig THEN '因务工就业不稳' END,
           CASE WHEN s.civil_sig THEN '其他' END
       ], lambda x: x IS NOT NULL AND list_contains(sc.risk_types, x)) AS rec_types,
       sc.suspect_category
FROM _sig s
JOIN _scr sc ON sc.household_id = s.household_id
LEFT JOIN _med_person mp ON mp.household_id = s.household_id AND mp.pkey = s.pkey AND s.source = 'medical'
WHERE sc.suspect_category IS NOT NULL;

CREATE OR REPLACE TEMP TABLE _rec_text AS
SELECT t.source, t.source_file, t.source_row, t.household_id,
       d.institution, d.visit_type, d.total_cost, d.disaster_type, d.house_damage, d.aid_type, d.status, d.event,
       d.previous_workplace, d.property_type, coalesce(pr.name, d.name) AS member_name
FROM _rec_types t
JOIN dept_record d ON d.source = t.source AND d.source_file = t.source_file AND d.source_row = t.source_row
                  AND NOT coalesce(d.superseded, false)
LEFT JOIN _person pr ON pr.household_id = t.household_id AND pr.id_number = t.person_id;

-- a county rerun keeps only the households of its counties (registry county; the evidence follows)
CREATE OR REPLACE TEMP TABLE _round_hh AS
SELECT sc.household_id
FROM _scr sc CROSS JOIN _p p
WHERE sc.suspect_category IS NOT NULL
  AND fp_in_scope(sc.county_code)
  AND CASE p.kind
        WHEN 'full' THEN true
        WHEN 'priority' THEN EXISTS (SELECT 1 FROM _phh x WHERE x.household_id = sc.household_id)
        WHEN 'incremental' THEN EXISTS (SELECT 1 FROM _rec_types x WHERE x.household_id = sc.household_id
                                                                    AND x.is_new AND array_length(x.rec_types) > 0)
        ELSE false
      END;

CREATE OR REPLACE TEMP TABLE _evid AS
WITH rec AS (
    SELECT t.*, x.institution, x.visit_type, x.total_cost, x.disaster_type, x.house_damage, x.aid_type, x.status,
           x.event, x.previous_workplace, x.property_type, x.member_name,
           unnest(CASE WHEN array_length(t.rec_types) = 0 THEN [NULL::VARCHAR] ELSE t.rec_types END) AS risk_type
    FROM _rec_types t
    JOIN _rec_text x ON x.source = t.source AND x.source_file = t.source_file AND x.source_row = t.source_row
                    AND x.household_id = t.household_id
    WHERE t.household_id IN (SELECT household_id FROM _round_hh)
      AND (array_length(t.rec_types) > 0 OR t.source = 'property'
           OR (t.source = 'medical' AND coalesce(t.oop, 0) > 0)
           OR (t.source = 'disaster' AND coalesce(t.direct_loss, 0) > 0))
)
SELECT household_id, source, source_file, source_row,
       -- a record attached to a 同名待确认 household says so (it is not a link yet)
       CASE WHEN match_method = 'review' THEN '（同名待确认）' ELSE '' END ||
       CASE source
           WHEN 'medical' THEN coalesce(member_name || '：', '') || coalesce(fp_date(ev_date), '日期不详') || ' '
                || coalesce(institution, '医疗机构不详') || ' ' || coalesce(visit_type, '就医')
                || coalesce('，医疗总费用 ' || fp_money(total_cost), '') || '，个人自付 ' || fp_money(coalesce(oop, 0))
           WHEN 'disaster' THEN coalesce(fp_date(ev_date), '日期不详') || ' ' || coalesce(disaster_type, '自然灾害') || '受灾'
                || CASE WHEN coalesce(trim(house_damage), '') NOT IN ('', '无') THEN '，房屋' || trim(house_damage) ELSE '' END
                || coalesce('，直接经济损失 ' || fp_money(direct_loss), '')
           WHEN 'civil_affairs' THEN coalesce(member_name || '：', '') || coalesce(fp_date(ev_date), '日期不详') || ' '
                || coalesce(status || ' ', '') || coalesce(aid_type, '救助') || coalesce('，救助金额 ' || fp_money(amount), '')
           WHEN 'employment' THEN coalesce(member_name || '：', '') || coalesce(fp_date(ev_date), '日期不详') || ' '
                || coalesce(event, '就业状况变化')
                || coalesce('（原就业地 ' || previous_workplace || '）', '')
                || coalesce('，原月收入 ' || fp_money(previous_monthly_income), '')
                || CASE WHEN job_sig AND previous_monthly_income IS NOT NULL
                        THEN '，按' || lost_wage_months || '个月计务工收入损失 ' || fp_money(previous_monthly_income * lost_wage_months)
                        ELSE '' END
           WHEN 'property' THEN '财产检索命中：' || coalesce(member_name || ' ', '') || coalesce(property_type, '财产')
                || coalesce('（' || fp_date(ev_date) || '）', '') || '，请在评议时核实'
           ELSE coalesce(fp_date(ev_date), '') || ' ' || source || '记录'
       END AS summary,
       CASE source
           WHEN 'medical' THEN oop
           WHEN 'disaster' THEN direct_loss
           WHEN 'civil_affairs' THEN amount
           WHEN 'employment' THEN CASE WHEN job_sig THEN previous_monthly_income * lost_wage_months END
       END AS amount,
       risk_type, ev_date AS event_date, member_name, person_id AS id_number, match_method, match_score, is_new
FROM rec
UNION ALL
-- 缺劳动力 rests on the registry (a registry fact is context for a flagged household, never a signal alone)
SELECT sc.household_id, 'registry', sc.head_source_file, sc.head_source_row,
       '全家' || sc.household_size || '人均为丧失劳动力或无劳动力（户籍系统登记），扣除刚性支出后人均收入 '
           || fp_money(sc.adjusted_income) || '，低于监测线 ' || fp_money(sc.monitoring_line),
       NULL, '缺劳动力', NULL, sc.head_name, sc.head_id_number, NULL, NULL, false
FROM _scr sc
WHERE sc.household_id IN (SELECT household_id FROM _round_hh) AND list_contains(sc.risk_types, '缺劳动力');

