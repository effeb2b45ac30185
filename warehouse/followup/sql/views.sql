-- Derived views over household_event, feedback_record and the registry (recomputed on every query).
-- Column contracts: docs/FOLLOWUP.md. monitoring_roster is read by the official forms (warehouse/forms): keep its names.

-- One row per registry household: the head's fields (户主, else the first row) plus household-level facts.
-- One aggregate pass over registry_person (no window): arg_min picks the head row's values.
CREATE OR REPLACE VIEW followup_registry_household AS
WITH a AS (
    SELECT household_id,
           arg_min(coalesce(county_code, left(village_code, 6)), (relation IS DISTINCT FROM '户主', coalesce(source_row, 0))) AS county_code,
           arg_min(coalesce(township_code, left(village_code, 9)), (relation IS DISTINCT FROM '户主', coalesce(source_row, 0))) AS township_code,
           arg_min(village_code, (relation IS DISTINCT FROM '户主', coalesce(source_row, 0))) AS village_code,
           arg_min(county, (relation IS DISTINCT FROM '户主', coalesce(source_row, 0))) AS county,
           arg_min(township, (relation IS DISTINCT FROM '户主', coalesce(source_row, 0))) AS township,
           arg_min(village, (relation IS DISTINCT FROM '户主', coalesce(source_row, 0))) AS village,
           arg_min(name, (relation IS DISTINCT FROM '户主', coalesce(source_row, 0))) AS head_name,
           arg_min(household_type, (relation IS DISTINCT FROM '户主', coalesce(source_row, 0))) AS household_type,
           arg_min(nullif(trim(monitoring_category), ''), (relation IS DISTINCT FROM '户主', coalesce(source_row, 0))) AS monitoring_category,
           arg_min(trim(risk_eliminated), (relation IS DISTINCT FROM '户主', coalesce(source_row, 0))) AS risk_eliminated,
           arg_min(identified_month, (relation IS DISTINCT FROM '户主', coalesce(source_row, 0))) AS identified_month,
           arg_min(eliminated_month, (relation IS DISTINCT FROM '户主', coalesce(source_row, 0))) AS eliminated_month,
           arg_min(per_capita_net_income, (relation IS DISTINCT FROM '户主', coalesce(source_row, 0))) AS per_capita_net_income,
           arg_min(relocated, (relation IS DISTINCT FROM '户主', coalesce(source_row, 0))) AS relocated,
           arg_min(resettlement_site, (relation IS DISTINCT FROM '户主', coalesce(source_row, 0))) AS resettlement_site,
           arg_min(hukou_moved, (relation IS DISTINCT FROM '户主', coalesce(source_row, 0))) AS hukou_moved,
           count(DISTINCT coalesce(id_number, id_raw,
                 coalesce(name, '') || '|' || coalesce(CAST(birth_date AS VARCHAR), '') || '|' || coalesce(relation, ''))) AS household_size,
           bool_and(coalesce(trim(labour), '') IN ('丧失劳动力', '无劳动力')) AS no_labour,
           CASE WHEN bool_or(trim(unsafe_housing) = '是') THEN false
                WHEN bool_and(trim(unsafe_housing) = '否') THEN true END AS housing_safe,
           CASE WHEN bool_or(trim(safe_water) = '否') THEN false
                WHEN bool_and(trim(safe_water) = '是') THEN true END AS water_safe,
           bool_or(coalesce(student, '') SIMILAR TO '.*(失学|辍学).*') AS has_dropout
    FROM registry_person GROUP BY household_id
)
SELECT household_id, county_code, township_code, village_code, county, township, village, head_name,
       household_size, household_type, monitoring_category, risk_eliminated,
       CASE WHEN regexp_matches(coalesce(identified_month, ''), '^\d{6}$')
            THEN make_date(CAST(left(identified_month, 4) AS INTEGER), CAST(right(identified_month, 2) AS INTEGER), 1) END
           AS identified_month_date,
       CASE WHEN regexp_matches(coalesce(eliminated_month, ''), '^\d{6}$')
            THEN make_date(CAST(left(eliminated_month, 4) AS INTEGER), CAST(right(eliminated_month, 2) AS INTEGER), 1) END
           AS eliminated_month_date,
       per_capita_net_income, relocated, resettlement_site, hukou_moved, no_labour, housing_safe, water_safe, has_dropout
FROM a;

-- The latest 纳入日期 a county reported for a household (a follow-up row may carry it without a 核实结果).
CREATE OR REPLACE VIEW followup_reported_inclusion AS
SELECT household_id, arg_max(included_on, (ingested_at, source_row)) AS included_on
FROM feedback_record WHERE included_on IS NOT NULL
GROUP BY household_id;

-- Current state of every household with a history (at least one event).
CREATE OR REPLACE VIEW household_state AS
WITH ev AS (
    SELECT *, row_number() OVER (PARTITION BY household_id, event_type
                                 ORDER BY event_date DESC NULLS LAST, recorded_at DESC, source_row DESC NULLS LAST) AS latest
    FROM household_event
),
push AS (
    SELECT household_id, count(*) AS pushes, min(event_date) AS first_pushed_on, max(event_date) AS last_pushed_on,
           arg_max(round_id, event_date) AS last_push_round, any_value(county_code) AS county_code
    FROM ev WHERE event_type = 'suspected' GROUP BY household_id
),
dec AS (
    SELECT household_id,
           arg_max(event_type, (event_date, recorded_at, coalesce(source_row, 0))) AS decision,
           max(event_date) AS decision_date,
           arg_max(round_id, (event_date, recorded_at, coalesce(source_row, 0))) AS decision_round,
           arg_max(included_on, (event_date, recorded_at, coalesce(source_row, 0))) AS decided_included_on,
           arg_max(category, (event_date, recorded_at, coalesce(source_row, 0))) AS decided_category,
           arg_max(risk_types, (event_date, recorded_at, coalesce(source_row, 0))) AS decided_risk_types
    FROM ev WHERE event_type IN ('verified_included', 'verified_rejected') AND event_date IS NOT NULL
    GROUP BY household_id
),
pend AS (
    SELECT household_id, max(event_date) AS pending_on, max(recorded_at) AS pending_recorded
    FROM ev WHERE event_type = 'pending' GROUP BY household_id
),
helper AS (
    SELECT household_id, helper_name, event_date AS helper_assigned_on FROM ev
    WHERE event_type = 'helper_assigned' AND latest = 1
),
meas AS (
    SELECT household_id, count(*) AS measure_count, min(event_date) AS first_measure_on,
           list(DISTINCT measure ORDER BY measure) AS measures
    FROM ev WHERE event_type = 'measure' GROUP BY household_id
),
visit AS (SELECT household_id, max(event_date) AS last_visit, count(*) AS visits FROM ev WHERE event_type = 'visit' GROUP BY household_id),
appr AS (SELECT household_id, max(event_date) AS approved_on FROM ev WHERE event_type = 'approved' GROUP BY household_id),
elim AS (SELECT household_id, max(event_date) AS eliminated_on FROM ev WHERE event_type = 'eliminated' GROUP BY household_id),
hh AS (SELECT DISTINCT household_id FROM household_event)
SELECT hh.household_id,
       coalesce(p.county_code, r.county_code) AS county_code,
       coalesce(p.pushes, 0) AS pushes, p.first_pushed_on, p.last_pushed_on, p.last_push_round,
       d.decision, d.decision_date, d.decision_round,
       CASE WHEN d.decision = 'verified_included'
            THEN coalesce(d.decided_included_on,
                          CASE WHEN ri.included_on >= coalesce(dp.event_date, d.decision_date) - INTERVAL 30 DAY THEN ri.included_on END,
                          d.decision_date) END AS included_on,
       CASE WHEN d.decision = 'verified_included' THEN d.decided_category END AS category,
       CASE WHEN d.decision = 'verified_included' THEN d.decided_risk_types END AS risk_types,
       pe.pending_on, h.helper_name, h.helper_assigned_on,
       coalesce(m.measure_count, 0) AS measure_count, m.first_measure_on, coalesce(m.measures, []) AS measures,
       v.last_visit, coalesce(v.visits, 0) AS visits, a.approved_on, e.eliminated_on,
       CASE
           WHEN e.eliminated_on IS NOT NULL AND (d.decision_date IS NULL OR e.eliminated_on >= d.decision_date)
                AND (p.last_pushed_on IS NULL OR p.last_pushed_on <= e.eliminated_on) THEN 'eliminated'
           WHEN d.decision = 'verified_included' AND v.last_visit IS NOT NULL AND v.last_visit >= d.decision_date THEN 'visited'
           WHEN d.decision = 'verified_included' AND m.measure_count > 0 THEN 'measures'
           WHEN d.decision = 'verified_included' AND h.helper_name IS NOT NULL THEN 'helper_assigned'
           WHEN d.decision = 'verified_included' THEN 'included'
           WHEN p.last_pushed_on IS NOT NULL AND (d.decision_date IS NULL OR p.last_pushed_on > d.decision_date)
                THEN CASE WHEN pe.pending_on >= p.last_pushed_on THEN 'pending' ELSE 'suspected' END
           WHEN d.decision = 'verified_rejected' THEN 'rejected'
           ELSE 'follow_up'
       END AS stage
FROM hh
LEFT JOIN push p USING (household_id)
LEFT JOIN dec d USING (household_id)
LEFT JOIN pend pe USING (household_id)
LEFT JOIN helper h USING (household_id)
LEFT JOIN meas m USING (household_id)
LEFT JOIN visit v USING (household_id)
LEFT JOIN appr a USING (household_id)
LEFT JOIN elim e USING (household_id)
LEFT JOIN followup_reported_inclusion ri USING (household_id)
LEFT JOIN ev dp ON dp.household_id = hh.household_id AND dp.event_type = 'suspected' AND dp.round_id = d.decision_round
LEFT JOIN (SELECT household_id, any_value(coalesce(county_code, left(village_code, 6))) AS county_code
           FROM registry_person WHERE household_id IN (SELECT household_id FROM household_event)
           GROUP BY household_id) r ON r.household_id = hh.household_id;

-- 防止返贫监测和帮扶对象名册: registry monitoring objects (source 'registry') and households the counties included
-- through feedback (source 'feedback'). status: monitored | eliminated.
CREATE OR REPLACE VIEW monitoring_roster AS
WITH base AS (
    SELECT r.*, s.decision, s.decision_date, s.included_on AS fb_included_on, s.category AS fb_category,
           s.risk_types AS fb_risk_types, s.helper_name, s.helper_assigned_on, s.measures, s.measure_count,
           s.first_measure_on, s.last_visit, s.approved_on, s.eliminated_on AS fb_eliminated_on, s.last_pushed_on,
           s.last_push_round,
           (r.monitoring_category IS NOT NULL AND coalesce(r.risk_eliminated, '') <> '是') AS registry_active,
           (s.decision = 'verified_included') AS fb_included
    FROM followup_registry_household r
    LEFT JOIN household_state s USING (household_id)
    WHERE r.monitoring_category IS NOT NULL OR s.decision = 'verified_included'
),
src AS (
    SELECT *,
           CASE WHEN registry_active OR NOT coalesce(fb_included, false) THEN 'registry' ELSE 'feedback' END AS source
    FROM base
),
dated AS (
    SELECT s.*,
           CASE WHEN s.source = 'feedback' THEN coalesce(s.fb_included_on, s.decision_date) ELSE s.identified_month_date END
               AS identified_on
    FROM src s
)
SELECT d.household_id, d.county_code, d.township_code, d.village_code, d.county, d.township, d.village,
       d.head_name, d.household_size, d.household_type,
       coalesce(CASE WHEN d.source = 'feedback' THEN d.fb_category END, d.monitoring_category,
                CASE WHEN lp.suspect_category IN ('脱贫不稳定户', '边缘易致贫户', '突发严重困难户') THEN lp.suspect_category END)
           AS category,
       coalesce(CASE WHEN array_length(d.fb_risk_types) > 0 THEN d.fb_risk_types END, lp.risk_types, CAST([] AS VARCHAR[])) AS risk_types,
       d.identified_on,
       CASE WHEN d.source = 'feedback' THEN d.approved_on END AS approved_on,
       d.helper_name, d.helper_assigned_on,
       coalesce(d.measures, CAST([] AS VARCHAR[])) AS measures, coalesce(d.measure_count, 0) AS measure_count,
       d.first_measure_on, d.last_visit,
       CASE WHEN d.fb_eliminated_on IS NOT NULL AND d.fb_eliminated_on >= coalesce(d.identified_on, DATE '1900-01-01')
                THEN 'eliminated'
            WHEN d.source = 'registry' AND NOT d.registry_active THEN 'eliminated'
            ELSE 'monitored' END AS status,
       CASE WHEN d.fb_eliminated_on IS NOT NULL AND d.fb_eliminated_on >= coalesce(d.identified_on, DATE '1900-01-01')
                THEN d.fb_eliminated_on
            WHEN d.source = 'registry' AND NOT d.registry_active THEN d.eliminated_month_date END AS eliminated_on,
       d.source,
       d.per_capita_net_income, d.no_labour, d.housing_safe, d.water_safe, d.has_dropout,
       d.relocated, d.resettlement_site, d.hukou_moved, d.last_push_round
FROM dated d
LEFT JOIN (
    SELECT s.household_id, arg_max(s.suspect_category, s.pushed_on) AS suspect_category,
           arg_max(s.risk_types, s.pushed_on) AS risk_types
    FROM suspect s GROUP BY s.household_id
) lp USING (household_id);
