-- Write the round (inside one transaction with 70_priority_insert.sql): delete-then-insert, so reruns are idempotent.
-- A county rerun (fp_in_scope) deletes and inserts only its counties' rows, plus the rows of any household it
-- inserts (a household whose registry county changed is never listed twice); other counties' rows stay as they are.

CREATE OR REPLACE TEMP TABLE _reloc_followup_w AS
SELECT * FROM _reloc_followup WHERE fp_in_scope(coalesce(live_county_code, hukou_county_code));

DELETE FROM suspect_evidence
WHERE round_id = (SELECT round_id FROM _p)
  AND ((SELECT all_counties FROM _p)
       OR household_id IN (SELECT household_id FROM suspect WHERE round_id = (SELECT round_id FROM _p) AND fp_in_scope(county_code))
       OR household_id IN (SELECT household_id FROM _round_hh));
DELETE FROM suspect
WHERE round_id = (SELECT round_id FROM _p)
  AND (fp_in_scope(county_code) OR household_id IN (SELECT household_id FROM _round_hh));
DELETE FROM priority_target WHERE round_id = (SELECT round_id FROM _p) AND fp_in_scope(county_code);
DELETE FROM priority_household
WHERE round_id = (SELECT round_id FROM _p)
  AND (fp_in_scope(coalesce(target_county_code, county_code))
       OR household_id IN (SELECT household_id FROM _phh WHERE fp_in_scope(target_county_code)));
DELETE FROM relocation_followup
WHERE round_id = (SELECT round_id FROM _p)
  AND (fp_in_scope(coalesce(live_county_code, hukou_county_code))
       OR household_id IN (SELECT household_id FROM _reloc_followup_w));

INSERT INTO suspect_evidence BY NAME
SELECT p.round_id, e.*
FROM _evid e CROSS JOIN _p p;

INSERT INTO suspect BY NAME
WITH ev AS (
    SELECT household_id, count(*) AS evidence_count,
           string_agg(summary, '；' ORDER BY event_date NULLS LAST, source, source_file, source_row)
               FILTER (WHERE risk_type IS NOT NULL AND (is_new OR k.kind <> 'incremental')) AS new_evidence_summary
    -- the round's kind joined, not a subquery inside the aggregate (Spark sorts the list with a lambda, and refuses
    -- subqueries inside lambdas)
    FROM (SELECT DISTINCT ON (household_id, source, source_file, source_row) * FROM _evid) e
    CROSS JOIN (SELECT kind FROM _p) k
    GROUP BY household_id
)
SELECT p.round_id, sc.household_id, sc.county_code, sc.township_code, sc.village_code, sc.household_type,
       sc.monitoring_category, sc.suspect_category, sc.risk_types,
       sc.base_income AS base_per_capita_income,
       fp_cents(sc.adjusted_income) AS adjusted_per_capita_income,
       sc.monitoring_line, sc.priority_score, p.pushed_on, r.verify_by,
       p.kind, p.reference_date, r.verify_note AS verify_by_note,
       sc.county, sc.township, sc.village, sc.head_name, sc.household_size, sc.risk_eliminated,
       sc.property_hit, sc.reflagged_eliminated, sc.relocated_flag AS relocated, sc.resettlement_site,
       sc.hukou_moved_flag AS hukou_moved,
       coalesce(rl.live_county_code, sc.county_code) AS live_county_code,
       coalesce(rl.live_township_code, CASE WHEN rl.household_id IS NULL THEN sc.township_code END) AS live_township_code,
       CASE WHEN rl.household_id IS NULL THEN sc.county_code ELSE rl.hukou_county_code END AS hukou_county_code,
       CASE WHEN rl.household_id IS NULL THEN sc.township_code ELSE rl.hukou_township_code END AS hukou_township_code,
       CASE WHEN rl.household_id IS NULL THEN '户籍登记' ELSE rl.hukou_source END AS hukou_source,
       coalesce(sc.relocated_flag AND NOT sc.hukou_moved_flag, false) AS double_routed,
       round(sc.medical_oop, 2) AS medical_out_of_pocket, round(sc.disaster_loss, 2) AS disaster_loss,
       round(sc.lost_wages, 2) AS lost_wages, round(sc.rigid_spending, 2) AS rigid_spending,
       concat_ws('；',
           CASE WHEN sc.medical_oop > 0 THEN '近' || r.window_months || '个月医疗个人自付合计 ' || fp_money(sc.medical_oop) END,
           CASE WHEN sc.disaster_loss > 0 THEN '受灾直接经济损失合计 ' || fp_money(sc.disaster_loss) END,
           CASE WHEN sc.lost_wages > 0 THEN '务工收入损失（按' || r.lost_wage_months || '个月计）' || fp_money(sc.lost_wages) END,
           '登记人均纯收入 ' || coalesce(fp_money(sc.base_income), '未登记') || '，扣除以上刚性支出后人均 '
               || fp_money(sc.adjusted_income) || '，监测线 ' || fp_money(sc.monitoring_line),
           CASE WHEN sc.suspect_category = '突发严重困难户'
                THEN '刚性支出占家庭上年收入的 ' || round(100 * sc.rigid_spending / nullif(sc.annual_income, 0), 1) || '%' END,
           CASE WHEN sc.suspect_category = '监测户新增风险' THEN '已是监测对象，新增风险推送行业部门落实帮扶' END,
           CASE WHEN sc.reflagged_eliminated THEN '该户风险已消除，现出现新的风险信号，请重新核实' END,
           CASE WHEN sc.property_hit THEN '财产检索有命中记录，已降低优先级，请在行政村评议时核实' END
       ) AS reason_summary,
       ev.new_evidence_summary, coalesce(ev.evidence_count, 0) AS evidence_count,
       coalesce(pd.pending_namesake, false) AS pending_namesake,
       coalesce(pd.pending_records, CAST([] AS VARCHAR[])) AS pending_records, pd.pending_check
FROM _scr sc
LEFT JOIN _cf_pending pd ON pd.household_id = sc.household_id
JOIN _r r ON r.county_key = sc.county_key
LEFT JOIN _reloc rl ON rl.household_id = sc.household_id
LEFT JOIN ev ON ev.household_id = sc.household_id
CROSS JOIN _p p
WHERE sc.household_id IN (SELECT household_id FROM _round_hh);

INSERT INTO relocation_followup BY NAME
SELECT p.round_id, f.household_id, f.site_key, f.resettlement_site, f.live_county_code, f.hukou_county_code,
       f.hukou_moved_flag AS hukou_moved, fp_cents(f.adjusted_income) AS adjusted_per_capita_income, f.monitoring_line,
       f.rank_in_site, f.n_in_site AS households_in_site, f.reason
FROM _reloc_followup_w f CROSS JOIN _p p;

-- What each ambiguous record would change (36_impact.sql), for the review lists and the feedback that decides them.
-- The scenarios cover the whole city whatever the county subset, so the round's rows are replaced as a whole.
DELETE FROM review_impact WHERE round_id = (SELECT round_id FROM _p);
INSERT INTO review_impact BY NAME
SELECT p.round_id, i.source, i.source_file, i.source_row, i.rank, i.household_id, i.id_number, i.cand_name,
       i.cand_county_code AS county_code, i.base_category, i.base_types AS base_risk_types, i.cf_category,
       i.cf_types AS cf_risk_types, i.base_priority AS base_priority_score, i.cf_priority AS cf_priority_score,
       i.cand_score, i.changed, i.material, i.new_flag, i.change_text
FROM _cf_impact i CROSS JOIN _p p;
