-- What each ambiguous record would change (issue 12: risk-aware review, suspects pending confirmation).
-- `impact` and `pending` run in the scenario session (35_counterfactual.sql): _cf_pair, the scenarios' _scr and _hh
-- (under scenario ids), _cf_base (the candidate households' real results). `patch` runs in the round's session with
-- _cf_pending and the shown scenarios' rows (_cf_scr, _cf_sig, _cf_med) handed back.
-- A screening result = (suspect category, risk types when flagged). A scenario has changed when its result differs
-- from the household's real one; it is material when it changed and the candidate is plausible: linkage posterior
-- ≥ min_posterior and ≥ min_ratio × the record's best candidate's, and evidence beyond the name that linkage accepts for a link (birth date, village or township —
-- 35_counterfactual.sql); new_flag when it is material and only the record would put the household on the list.

-- step: impact
CREATE OR REPLACE TEMP TABLE _cf_impact AS
WITH j AS (
    SELECT p.*, b.county_code, b.max_risk_types,
           b.suspect_category AS base_category,
           CASE WHEN b.suspect_category IS NULL THEN CAST([] AS VARCHAR[]) ELSE b.risk_types END AS base_types,
           c.suspect_category AS cf_category,
           CASE WHEN c.suspect_category IS NULL THEN CAST([] AS VARCHAR[]) ELSE c.risk_types END AS cf_types,
           b.priority_score AS base_priority, c.priority_score AS cf_priority,
           max(coalesce(p.cand_score, 0)) OVER (PARTITION BY p.source, p.source_file, p.source_row) AS best_score
    FROM _cf_pair p
    JOIN _cf_base b ON b.household_id = p.household_id
    JOIN _scr c ON c.household_id = p.vh
),
c AS (
    SELECT *,
           base_category IS DISTINCT FROM cf_category OR base_types <> cf_types AS changed,
           coalesce(cand_score, 0) >= ${min_posterior} AND coalesce(cand_score, 0) >= ${min_ratio} * best_score
               AND cand_linkable AS plausible
    FROM j
),
d AS (
    SELECT *,
           changed AND plausible AS material,
           changed AND plausible AND base_category IS NULL AND cf_category IS NOT NULL AS new_flag,
           list_filter(cf_types, lambda x: NOT list_contains(base_types, x)) AS added_types,
           list_filter(base_types, lambda x: NOT list_contains(cf_types, x)) AS dropped_types
    FROM c
)
SELECT *,
       -- what confirming the record as this candidate's would change, in words (after "若确认为该户，")
       CASE
           WHEN NOT changed THEN '不影响该户筛查结果'
           WHEN base_category IS NULL THEN '将' || CASE WHEN array_length(added_types) > 0
                                          THEN '新增风险类型“' || array_to_string(added_types, '”“') || '”并' ELSE '' END
                || '列为疑似风险户（' || cf_category || '）'
           WHEN cf_category IS NULL THEN '将不再列为疑似风险户'
           ELSE concat_ws('，',
                CASE WHEN cf_category <> base_category
                     THEN '疑似类别将由“' || base_category || '”变为“' || cf_category || '”' END,
                CASE WHEN array_length(added_types) > 0 THEN '将新增风险类型“' || array_to_string(added_types, '”“') || '”' END,
                CASE WHEN array_length(dropped_types) > 0 THEN '风险类型“' || array_to_string(dropped_types, '”“')
                     || '”将不再列出（最多' || max_risk_types || '项）' END)
       END AS change_text
FROM d;

-- step: pending
-- Per candidate household with a material record: 同名待确认 when a record would flag it (pending_namesake), the
-- records (source|source_file|source_row, as household_event.evidence_keys) and what to check at the visit. The
-- other candidates are named only when they are in the same county (a county sees only its own households).
CREATE OR REPLACE TEMP TABLE _cf_pending AS
WITH m AS (
    SELECT i.* FROM _cf_impact i WHERE i.material
),
hh_flagged AS (
    SELECT household_id, bool_or(new_flag) AS pending_namesake FROM m GROUP BY household_id
),
-- the records a household's entry rests on: those that flag it (同名待确认), else those that change its result
recs AS (
    SELECT m.* FROM m JOIN hh_flagged f USING (household_id) WHERE m.new_flag OR NOT f.pending_namesake
),
others AS (
    SELECT r.vh,
           count(*) FILTER (WHERE o.cand_county_code IS DISTINCT FROM r.cand_county_code) AS other_county,
           string_agg(CASE WHEN o.cand_county_code = r.cand_county_code
                           THEN o.cand_name || '（' || coalesce(h.township, '') || coalesce(h.village, '') || '）' END,
                      '、' ORDER BY o.rank) AS same_county
    FROM recs r
    JOIN _cf_pair o ON o.source = r.source AND o.source_file = r.source_file AND o.source_row = r.source_row
                   AND o.vh <> r.vh
    LEFT JOIN _hh h ON h.household_id = o.vh
    GROUP BY r.vh
),
lines AS (
    SELECT r.household_id, r.vh, r.new_flag, r.cf_priority, r.source, r.source_file, r.source_row,
           '【' || CASE r.source WHEN 'medical' THEN '医保' WHEN 'disaster' THEN '应急管理' WHEN 'civil_affairs' THEN '民政'
                                 WHEN 'employment' THEN '人社' WHEN 'property' THEN '财产检索' ELSE r.source END
           || '｜' || r.source_file || ' 第' || r.source_row || '行】'
           || '记录姓名“' || coalesce(d.name, '') || '”无有效证件号码，与本户成员' || coalesce(r.cand_name, '') || '同名或相近'
           || coalesce('；同县另有候选人员：' || o.same_county, '')
           || CASE WHEN coalesce(o.other_county, 0) > 0 THEN '；另有' || o.other_county || '名外县（区）人员同名或相近' ELSE '' END
           || '。若确认为本户，' || r.change_text AS line
    FROM recs r
    LEFT JOIN others o ON o.vh = r.vh
    LEFT JOIN dept_record d ON d.source = r.source AND d.source_file = r.source_file AND d.source_row = r.source_row
),
-- the scenario shown for a 同名待确认 household: its most urgent one
best AS (
    SELECT household_id, vh
    FROM (SELECT household_id, vh,
                 row_number() OVER (PARTITION BY household_id ORDER BY cf_priority DESC NULLS LAST, vh) AS k
          FROM lines WHERE new_flag)
    WHERE k = 1
)
SELECT l.household_id, f.pending_namesake, b.vh AS shown_vh,
       list_sort(list(DISTINCT l.source || '|' || l.source_file || '|' || CAST(l.source_row AS VARCHAR))) AS pending_records,
       CASE WHEN f.pending_namesake THEN '同名待确认：' ELSE '另有同名待确认记录：' END
           || string_agg(l.line, '；' ORDER BY l.new_flag DESC, l.cf_priority DESC NULLS LAST, l.source, l.source_file, l.source_row)
           || CASE WHEN f.pending_namesake
                   THEN '。本户仅因上述记录列入清单：入户核实时请确认该记录是否为本户成员（见“证据”栏），并在“同名记录核实”栏填写“是本户”或“不是本户”。'
                   ELSE '。入户核实时请一并确认，并在“同名记录核实”栏填写“是本户”或“不是本户”。' END AS pending_check
FROM lines l
JOIN hh_flagged f USING (household_id)
LEFT JOIN best b USING (household_id)
GROUP BY l.household_id, f.pending_namesake, b.vh;

-- step: patch
-- A 同名待确认 household takes its shown scenario's screening (result, evidence rows, medical totals), so the round
-- lists it with the record's evidence as if the record were its own. The marker columns come from _cf_pending
-- (65_write.sql). (By name: the household's id replaced, the other columns as they are.)
DELETE FROM _sig WHERE household_id IN (SELECT household_id FROM _cf_pending WHERE pending_namesake);
INSERT INTO _sig BY NAME
SELECT s.* EXCLUDE (household_id), pd.household_id AS household_id
FROM _cf_sig s JOIN _cf_pending pd ON pd.shown_vh = s.household_id;

DELETE FROM _med_person WHERE household_id IN (SELECT household_id FROM _cf_pending WHERE pending_namesake);
INSERT INTO _med_person BY NAME
SELECT m.* EXCLUDE (household_id), pd.household_id AS household_id
FROM _cf_med m JOIN _cf_pending pd ON pd.shown_vh = m.household_id;

DELETE FROM _scr WHERE household_id IN (SELECT household_id FROM _cf_pending WHERE pending_namesake);
INSERT INTO _scr BY NAME
SELECT c.* EXCLUDE (household_id), pd.household_id AS household_id
FROM _cf_scr c JOIN _cf_pending pd ON pd.shown_vh = c.household_id;
