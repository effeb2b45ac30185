-- The work plan's deadlines in working days (warehouse/followup/deadlines.py). TEMP _fu_cal / _fu_wd (the calendar)
-- are put by the caller; the macros look dates up in them.

-- step: bounds
SELECT least(min(event_date), min(included_on)) AS lo FROM household_event
WHERE event_type IN ('suspected', 'verified_included', 'verified_rejected', 'pending');

-- step: calendar
CREATE OR REPLACE TEMP TABLE _fu_wd AS SELECT ord, date FROM _fu_cal WHERE is_working;
CREATE OR REPLACE TEMP TABLE _fu_asof AS SELECT CAST(${as_of} AS DATE) AS as_of;
CREATE OR REPLACE TEMP MACRO fu_ord(d) AS (SELECT c.ord FROM _fu_cal c WHERE c.date = d);
CREATE OR REPLACE TEMP MACRO fu_add_wd(d, n) AS (SELECT w.date FROM _fu_cal c JOIN _fu_wd w ON w.ord = c.ord + n WHERE c.date = d);

-- step: items
CREATE OR REPLACE TEMP TABLE _fu_ev AS
SELECT e.* FROM household_event e, _fu_asof a WHERE e.event_date IS NULL OR e.event_date <= a.as_of;

-- the roster and the registry facts once (each view reference would recompute them over the whole registry)
CREATE OR REPLACE TEMP TABLE _fu_roster AS SELECT * FROM monitoring_roster;
CREATE OR REPLACE TEMP TABLE _fu_reg AS
SELECT * FROM followup_registry_household
WHERE household_id IN (SELECT household_id FROM _fu_ev UNION SELECT household_id FROM _fu_roster);

-- pushes and verifications in date order; case_no = decisions before the row (a push on the day of a decision
-- comes first: a decision dated on a push day answers that push)
CREATE OR REPLACE TEMP TABLE _fu_seq AS
SELECT household_id, event_type, event_date, round_id, due_date, included_on, recipients,
       coalesce(sum(CASE WHEN event_type IN ('verified_included', 'verified_rejected') THEN 1 ELSE 0 END) OVER (
           PARTITION BY household_id
           ORDER BY event_date, CASE WHEN event_type = 'suspected' THEN 0 ELSE 1 END, recorded_at, source_row
           ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS case_no
FROM _fu_ev
WHERE event_date IS NOT NULL AND event_type IN ('suspected', 'verified_included', 'verified_rejected', 'pending');

CREATE OR REPLACE TEMP TABLE _fu_case0 AS
SELECT household_id, case_no, min(event_date) AS start,
       arg_min(due_date, event_date) AS verify_due, arg_min(round_id, event_date) AS round_id,
       list_sort(list_distinct(flatten(list(recipients)))) AS recipients
FROM _fu_seq WHERE event_type = 'suspected' GROUP BY household_id, case_no;

CREATE OR REPLACE TEMP TABLE _fu_case AS
WITH agg AS (
    SELECT c.household_id, c.case_no,
           min(s.event_date) AS verified_on,
           min(s.event_date) FILTER (WHERE s.event_type <> 'pending') AS decided_on,
           arg_min(s.event_type, s.event_date) FILTER (WHERE s.event_type <> 'pending') AS decision,
           arg_min(s.included_on, s.event_date) FILTER (WHERE s.event_type = 'verified_included') AS explicit_included_on
    FROM _fu_case0 c
    LEFT JOIN _fu_seq s ON s.household_id = c.household_id AND s.case_no = c.case_no AND s.event_type <> 'suspected'
                       AND s.event_date >= c.start
    GROUP BY c.household_id, c.case_no
)
SELECT c.*, a.verified_on, a.decided_on, a.decision,
       CASE WHEN a.decision = 'verified_included'
            THEN coalesce(a.explicit_included_on,
                          CASE WHEN ri.included_on >= c.start - INTERVAL 30 DAY THEN ri.included_on END,
                          a.decided_on) END AS included_on
FROM _fu_case0 c
JOIN agg a USING (household_id, case_no)
LEFT JOIN followup_reported_inclusion ri ON ri.household_id = c.household_id;

-- inclusions tracked for helper / measures / approval: through feedback, the first one or the first after a 风险消除
CREATE OR REPLACE TEMP TABLE _fu_incl AS
WITH inc AS (
    SELECT c.*, lag(c.decided_on) OVER (PARTITION BY c.household_id ORDER BY c.decided_on) AS prev_included
    FROM _fu_case c
    LEFT JOIN _fu_reg r USING (household_id)
    WHERE c.decision = 'verified_included'
      AND NOT coalesce(r.monitoring_category IS NOT NULL AND coalesce(r.risk_eliminated, '') <> '是', false)
)
SELECT i.*,
       (SELECT min(e.event_date) FROM _fu_ev e WHERE e.household_id = i.household_id AND e.event_type = 'helper_assigned'
            AND e.event_date >= i.start) AS helper_on,
       (SELECT count(*) FROM _fu_ev e WHERE e.household_id = i.household_id AND e.event_type = 'helper_assigned'
            AND e.event_date IS NULL) > 0 AS helper_undated,
       (SELECT min(e.event_date) FROM _fu_ev e WHERE e.household_id = i.household_id AND e.event_type = 'measure'
            AND e.event_date >= i.start) AS measure_on,
       (SELECT count(*) FROM _fu_ev e WHERE e.household_id = i.household_id AND e.event_type = 'measure'
            AND e.event_date IS NULL) > 0 AS measure_undated,
       (SELECT min(e.event_date) FROM _fu_ev e WHERE e.household_id = i.household_id AND e.event_type = 'approved'
            AND e.event_date >= i.start) AS approved_on,
       fu_add_wd(i.included_on, ${helper_wd}) AS helper_due
FROM inc i
WHERE i.prev_included IS NULL
   OR EXISTS (SELECT 1 FROM _fu_ev e WHERE e.household_id = i.household_id AND e.event_type = 'eliminated'
              AND e.event_date > i.prev_included AND e.event_date <= i.decided_on);

CREATE OR REPLACE TEMP TABLE _fu_items AS
WITH raw AS (
    SELECT household_id, recipients, 'verify' AS item_type, NULL::VARCHAR AS period,
           '推送后' || CAST(${verify_wd} AS VARCHAR) || '个工作日内入户核实' AS rule, round_id, start AS start_date,
           coalesce(verify_due, fu_add_wd(start, ${verify_wd})) AS due_date, verified_on AS done_date,
           false AS done_undated, 'working' AS deadline_kind
    FROM _fu_case
    UNION ALL
    SELECT household_id, recipients, 'decision', NULL, '发现风险线索（推送）后' || CAST(${decision_days} AS VARCHAR) || '天内作出认定', round_id, start,
           CAST(start + INTERVAL ${decision_days} DAY AS DATE), decided_on, false, 'calendar'
    FROM _fu_case
    UNION ALL
    SELECT household_id, recipients, 'helper', NULL, '纳入监测后' || CAST(${helper_wd} AS VARCHAR) || '个工作日内安排帮扶责任人', round_id, included_on,
           helper_due, helper_on, helper_undated, 'working'
    FROM _fu_incl
    UNION ALL
    SELECT household_id, recipients, 'measures', NULL, '安排帮扶责任人后' || CAST(${measures_wd} AS VARCHAR) || '个工作日内落实帮扶措施', round_id,
           coalesce(helper_on, helper_due), fu_add_wd(coalesce(helper_on, helper_due), ${measures_wd}), measure_on,
           measure_undated, 'working'
    FROM _fu_incl
    UNION ALL
    SELECT household_id, recipients, 'approval', strftime(decided_on, '%Y年%m月') || '批次',
           '县级原则上每月审定一次（次月底前）', round_id, decided_on,
           CAST(last_day(CAST(date_trunc('month', decided_on) + INTERVAL ${approval_months} MONTH AS DATE)) AS DATE),
           approved_on, false, 'calendar'
    FROM _fu_incl
    UNION ALL
    -- quarterly visits of every roster household, from the tracking start (the system's first push)
    SELECT v.household_id, [v.county_code], 'visit',
           CAST(year(v.q_start) AS VARCHAR) || '年第' || CAST(quarter(v.q_start) AS VARCHAR) || '季度',
           '帮扶人每季度至少入户走访' || CAST(${visits} AS VARCHAR) || '次', NULL, v.q_start, v.q_end,
           CASE WHEN array_length(v.dates) >= ${visits} THEN list_sort(v.dates)[${visits}] END, false, 'calendar'
    FROM (
        SELECT r.household_id, r.county_code, q.q_start, CAST(q.q_start + INTERVAL 3 MONTH - INTERVAL 1 DAY AS DATE) AS q_end,
               coalesce((SELECT list(e.event_date) FROM _fu_ev e WHERE e.household_id = r.household_id
                         AND e.event_type = 'visit' AND e.event_date >= q.q_start
                         AND e.event_date < q.q_start + INTERVAL 3 MONTH), CAST([] AS DATE[])) AS dates
        FROM _fu_roster r
        CROSS JOIN (
            -- every quarter from the first push's to as_of's (the calendar _fu_cal spans both)
            SELECT DISTINCT CAST(date_trunc('quarter', c.date) AS DATE) AS q_start
            FROM (SELECT min(event_date) AS ts FROM _fu_ev WHERE event_type = 'suspected') t, _fu_asof a, _fu_cal c
            WHERE t.ts IS NOT NULL AND c.date >= CAST(date_trunc('quarter', t.ts) AS DATE) AND c.date <= a.as_of
        ) q
        WHERE q.q_start > greatest(coalesce(r.identified_on, DATE '1900-01-01'),
                                   (SELECT min(event_date) FROM _fu_ev WHERE event_type = 'suspected'))
          AND (r.eliminated_on IS NULL OR CAST(q.q_start + INTERVAL 3 MONTH - INTERVAL 1 DAY AS DATE) < r.eliminated_on)
    ) v
),
lat AS (
    SELECT raw.*, a.as_of,
           CASE WHEN deadline_kind = 'working' THEN fu_ord(done_date) - fu_ord(due_date) ELSE date_diff('day', due_date, done_date) END AS done_late,
           CASE WHEN deadline_kind = 'working' THEN fu_ord(a.as_of) - fu_ord(due_date) ELSE date_diff('day', due_date, a.as_of) END AS now_late
    FROM raw, _fu_asof a
),
st AS (
    SELECT lat.*,
           CASE WHEN done_date IS NOT NULL AND done_late <= 0 THEN 'on_time'
                WHEN done_date IS NOT NULL THEN 'late'
                WHEN done_undated THEN 'done_undated'
                WHEN due_date IS NOT NULL AND now_late >= 1 THEN 'overdue'
                ELSE 'open' END AS status
    FROM lat
)
SELECT st.household_id, r.county_code, r.county, r.township_code, r.township, r.village_code, r.village, r.head_name,
       coalesce(st.recipients, [r.county_code]) AS recipients, st.item_type,
       CASE st.item_type WHEN 'verify' THEN '入户核实' WHEN 'decision' THEN '作出认定（纳入/不纳入）'
                         WHEN 'helper' THEN '安排帮扶责任人' WHEN 'measures' THEN '落实帮扶措施'
                         WHEN 'visit' THEN '季度入户走访' WHEN 'approval' THEN '县级审定' END AS item,
       st.period, st.rule, st.round_id, st.start_date, st.due_date, st.done_date, st.status,
       CASE st.status WHEN 'overdue' THEN fu_ord(st.as_of) - fu_ord(st.due_date)
                      WHEN 'late' THEN fu_ord(st.done_date) - fu_ord(st.due_date) ELSE 0 END AS days_overdue,
       CASE st.status WHEN 'overdue' THEN date_diff('day', st.due_date, st.as_of)
                      WHEN 'late' THEN date_diff('day', st.due_date, st.done_date) ELSE 0 END AS calendar_days_overdue,
       st.deadline_kind, NULL::VARCHAR AS note
FROM st LEFT JOIN _fu_reg r USING (household_id);

-- step: sorted_items
SELECT * FROM _fu_items ORDER BY county_code, township_code, village_code, household_id, due_date, item_type;

-- step: fallback_years
SELECT DISTINCT year(date) AS y FROM _fu_cal WHERE fallback ORDER BY y;

-- step: drop_macros
DROP MACRO IF EXISTS fu_add_wd;
DROP MACRO IF EXISTS fu_ord;
