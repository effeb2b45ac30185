-- Re-push suppression and the push history of one round (warehouse/followup/state.py explains the decisions).
-- TEMP _fu_p holds the round, its push date and whether all counties are in scope; TEMP _fu_scope the county
-- codes otherwise.

-- step: params
CREATE OR REPLACE TEMP TABLE _fu_p AS
SELECT CAST(${round_id} AS VARCHAR) AS round_id, CAST(${pushed_on} AS DATE) AS pushed_on,
       ${all_counties} AS all_counties;

-- step: found
SELECT min(s.pushed_on) AS pushed_on, count(*) AS n
FROM suspect s
WHERE s.round_id = ${round_id} AND (${all_counties} OR s.county_code IN (SELECT county_code FROM _fu_scope));

-- step: prepare
CREATE OR REPLACE TEMP TABLE _fu_dec AS
SELECT e.household_id,
       arg_max(e.event_type, (e.event_date, e.recorded_at, coalesce(e.source_row, 0))) AS decision,
       max(e.event_date) AS decision_date,
       arg_max(e.round_id, (e.event_date, e.recorded_at, coalesce(e.source_row, 0))) AS decision_round
FROM household_event e, _fu_p p
WHERE e.event_type IN ('verified_included', 'verified_rejected', 'eliminated')
  AND e.event_date IS NOT NULL AND e.event_date < p.pushed_on AND e.round_id IS DISTINCT FROM p.round_id
  AND e.household_id IN (SELECT household_id FROM suspect WHERE round_id = p.round_id)
GROUP BY e.household_id;

CREATE OR REPLACE TEMP TABLE _fu_prior AS
SELECT e.household_id, e.round_id, e.event_date AS pushed_on, coalesce(e.evidence_keys, CAST([] AS VARCHAR[])) AS keys
FROM household_event e, _fu_p p
WHERE e.event_type = 'suspected' AND e.round_id <> p.round_id AND e.event_date <= p.pushed_on
  AND e.household_id IN (SELECT household_id FROM suspect WHERE round_id = p.round_id);

CREATE OR REPLACE TEMP TABLE _fu_pending AS
SELECT e.household_id, max(e.event_date) AS pending_on
FROM household_event e, _fu_p p
WHERE e.event_type = 'pending' AND e.round_id IS DISTINCT FROM p.round_id AND coalesce(e.event_date, p.pushed_on) <= p.pushed_on
GROUP BY e.household_id;

CREATE OR REPLACE TEMP TABLE _fu_base AS
SELECT s.household_id, s.county_code, s.suspect_category, d.decision, d.decision_date, d.decision_round,
       coalesce(list_distinct(flatten(list(pp.keys) FILTER (WHERE pp.round_id IS NOT NULL
                AND (d.decision_date IS NULL OR pp.pushed_on <= d.decision_date)))), CAST([] AS VARCHAR[])) AS baseline,
       count(pp.round_id) AS prior_pushes, min(pp.pushed_on) AS first_prior_push, max(pp.pushed_on) AS last_prior_push,
       arg_min(pp.round_id, pp.pushed_on) AS first_prior_round, any_value(pe.pending_on) AS pending_on
FROM suspect s
JOIN _fu_p p ON s.round_id = p.round_id AND (p.all_counties OR s.county_code IN (SELECT county_code FROM _fu_scope))
LEFT JOIN _fu_dec d ON d.household_id = s.household_id
LEFT JOIN _fu_prior pp ON pp.household_id = s.household_id
LEFT JOIN _fu_pending pe ON pe.household_id = s.household_id
GROUP BY s.household_id, s.county_code, s.suspect_category, d.decision, d.decision_date, d.decision_round;

CREATE OR REPLACE TEMP TABLE _fu_new AS
WITH ev AS (
    SELECT e.household_id, e.source, e.source_file, e.source_row, any_value(e.summary) AS summary,
           min(e.event_date) AS event_date
    FROM suspect_evidence e, _fu_p p
    WHERE e.round_id = p.round_id AND e.risk_type IS NOT NULL AND e.source <> 'registry'
    GROUP BY e.household_id, e.source, e.source_file, e.source_row
)
SELECT ev.household_id, count(*) AS new_count,
       '新证据：' || string_agg(
           '【' || CASE ev.source WHEN 'medical' THEN '医保' WHEN 'disaster' THEN '应急管理' WHEN 'civil_affairs' THEN '民政'
                                  WHEN 'employment' THEN '人社' WHEN 'property' THEN '财产检索' ELSE ev.source END
           || '｜' || coalesce(ev.source_file, '') || coalesce(' 第' || ev.source_row || '行', '') || '】' || coalesce(ev.summary, ''),
           '；' ORDER BY ev.event_date NULLS LAST, ev.source, ev.source_file, ev.source_row) AS new_summary
FROM ev JOIN _fu_base b USING (household_id)
WHERE (b.decision IS NOT NULL OR b.prior_pushes > 0)
  AND NOT list_contains(b.baseline, ev.source || '|' || coalesce(ev.source_file, '') || '|' || coalesce(CAST(ev.source_row AS VARCHAR), ''))
  AND (b.decision IS DISTINCT FROM 'eliminated' OR ev.event_date > b.decision_date)
GROUP BY ev.household_id;

CREATE OR REPLACE TEMP TABLE _fu_act AS
SELECT b.*, n.new_count, n.new_summary,
       CASE
           WHEN b.decision IS NOT NULL AND n.new_count IS NULL THEN 'suppress'
           WHEN b.decision = 'verified_rejected' THEN 'repush'
           WHEN b.decision = 'verified_included' THEN 'new_risk'
           WHEN b.decision = 'eliminated' THEN 'reflag'
           WHEN b.prior_pushes > 0 THEN 'open'
           ELSE 'first'
       END AS action,
       CASE b.decision
           WHEN 'verified_rejected' THEN strftime(b.decision_date, '%Y年%-m月%-d日') || '核实为不纳入监测'
                || coalesce('（第' || b.decision_round || '轮推送）', '')
           WHEN 'verified_included' THEN strftime(b.decision_date, '%Y年%-m月%-d日') || '已核实纳入监测'
           WHEN 'eliminated' THEN strftime(b.decision_date, '%Y年%-m月%-d日') || '已标注风险消除'
       END AS decision_text
FROM _fu_base b LEFT JOIN _fu_new n USING (household_id);

-- step: actions
SELECT action, count(*) AS n FROM _fu_act GROUP BY action ORDER BY action;

-- step: suppressed
SELECT decision, count(*) AS n FROM _fu_act WHERE action = 'suppress' GROUP BY decision ORDER BY decision;

-- step: write
DELETE FROM followup_suppressed
WHERE round_id = (SELECT round_id FROM _fu_p) AND household_id IN (SELECT household_id FROM _fu_act);

INSERT INTO followup_suppressed (round_id, household_id, county_code, decision, decision_date, decision_round,
                                 suspect_category, reason)
SELECT p.round_id, a.household_id, a.county_code, a.decision, a.decision_date, a.decision_round, a.suspect_category,
       a.decision_text || '，此后没有新的部门证据，本轮不再推送'
FROM _fu_act a, _fu_p p WHERE a.action = 'suppress';

UPDATE priority_household SET is_suspect = false, suspect_category = NULL,
       reasons = list_append(coalesce(reasons, CAST([] AS VARCHAR[])), '已有核实结论，无新证据，本轮不作为疑似户推送')
WHERE round_id = (SELECT round_id FROM _fu_p)
  AND household_id IN (SELECT household_id FROM _fu_act WHERE action = 'suppress');

DELETE FROM suspect_evidence
WHERE round_id = (SELECT round_id FROM _fu_p) AND household_id IN (SELECT household_id FROM _fu_act WHERE action = 'suppress');
DELETE FROM suspect
WHERE round_id = (SELECT round_id FROM _fu_p) AND household_id IN (SELECT household_id FROM _fu_act WHERE action = 'suppress');

UPDATE suspect s SET
    new_evidence_summary = CASE WHEN a.action IN ('repush', 'new_risk', 'reflag', 'open')
                                THEN coalesce(a.new_summary, '无新证据（与此前推送时相同）') ELSE s.new_evidence_summary END,
    suspect_category = CASE WHEN a.action = 'new_risk' THEN '监测户新增风险' ELSE s.suspect_category END,
    reflagged_eliminated = CASE WHEN a.action = 'reflag' THEN true ELSE s.reflagged_eliminated END,
    reason_summary = CASE WHEN starts_with(coalesce(s.reason_summary, ''), '【') THEN s.reason_summary
        ELSE CASE a.action
            WHEN 'repush' THEN '【再次推送】' || a.decision_text || '，此后出现新证据，请重新核实。'
            WHEN 'new_risk' THEN '【已纳入监测，新增风险】' || a.decision_text || '，现出现新的风险信号，按监测户新增风险推送行业部门落实帮扶。'
            WHEN 'reflag' THEN '【风险消除后再次预警】' || a.decision_text || '，此后出现新的风险信号，请重新核实。'
            WHEN 'open' THEN '【再次推送】已于' || strftime(a.first_prior_push, '%Y年%-m月%-d日') || '首次推送（第'
                || a.first_prior_round || '轮），' || CASE WHEN a.pending_on IS NOT NULL
                    THEN '上次核实结果为待核实（' || strftime(a.pending_on, '%Y年%-m月%-d日') || '），请尽快作出认定。'
                    ELSE '尚未反馈核实结果，请尽快核实。' END
            ELSE '' END || coalesce(s.reason_summary, '') END
FROM _fu_act a, _fu_p p
WHERE s.round_id = p.round_id AND s.household_id = a.household_id AND a.action <> 'first';

UPDATE household_event e SET
    event_date = s.pushed_on, due_date = s.verify_by, category = s.suspect_category, risk_types = s.risk_types,
    county_code = s.county_code,
    recipients = list_sort(list_distinct(list_filter([s.county_code, CASE WHEN s.double_routed THEN s.live_county_code END,
                                            CASE WHEN s.double_routed THEN s.hukou_county_code END], lambda x: x IS NOT NULL))),
    evidence_keys = coalesce((SELECT list_sort(list(DISTINCT v.source || '|' || coalesce(v.source_file, '') || '|' || coalesce(CAST(v.source_row AS VARCHAR), '')))
                              FROM suspect_evidence v
                              WHERE v.round_id = s.round_id AND v.household_id = s.household_id AND v.source <> 'registry'),
                             CAST([] AS VARCHAR[]))
FROM suspect s, _fu_p p
WHERE s.round_id = p.round_id AND (p.all_counties OR s.county_code IN (SELECT county_code FROM _fu_scope))
  AND e.event_type = 'suspected' AND e.round_id = s.round_id AND e.household_id = s.household_id;
