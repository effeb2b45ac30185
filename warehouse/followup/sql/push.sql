-- The push history: a 'suspected' event for each household a round pushed (apply_followup, backfill_pushes).
-- The rows to push are chosen into TEMP _fu_push_src by one of the first two steps, then `insert` records those
-- that have no 'suspected' event for their round yet.

-- step: published
-- every household of a published round (rounds published before the follow-up step existed, or by a job without it)
CREATE OR REPLACE TEMP TABLE _fu_push_src AS
SELECT * FROM suspect WHERE round_id IN (SELECT round_id FROM round WHERE status = 'published');

-- step: round
-- the households of the round in _fu_p, within its county scope (_fu_scope; all counties when p.all_counties)
CREATE OR REPLACE TEMP TABLE _fu_push_src AS
SELECT s.* FROM suspect s, _fu_p p
WHERE s.round_id = p.round_id AND (p.all_counties OR s.county_code IN (SELECT county_code FROM _fu_scope));

-- step: insert
INSERT INTO household_event (household_id, event_type, event_date, round_id, details, source, county_code, recipients,
                             due_date, category, risk_types, evidence_keys)
WITH ev AS (
    SELECT round_id, household_id,
           list_sort(list(DISTINCT source || '|' || coalesce(source_file, '') || '|' || coalesce(CAST(source_row AS VARCHAR), ''))
               FILTER (WHERE source <> 'registry')) AS keys
    FROM suspect_evidence WHERE round_id IN (SELECT DISTINCT round_id FROM _fu_push_src)
    GROUP BY round_id, household_id
)
SELECT s.household_id, 'suspected', s.pushed_on, s.round_id,
       '第' || s.round_id || '轮推送（' || coalesce(s.suspect_category, '') || '），核实截止 ' || coalesce(CAST(s.verify_by AS VARCHAR), '—'),
       'round', s.county_code,
       list_sort(list_distinct(list_filter([s.county_code,
                                  CASE WHEN s.double_routed THEN s.live_county_code END,
                                  CASE WHEN s.double_routed THEN s.hukou_county_code END], lambda x: x IS NOT NULL))),
       s.verify_by, s.suspect_category, s.risk_types, coalesce(ev.keys, CAST([] AS VARCHAR[]))
FROM _fu_push_src s LEFT JOIN ev ON ev.round_id = s.round_id AND ev.household_id = s.household_id
WHERE NOT EXISTS (SELECT 1 FROM household_event e
                  WHERE e.event_type = 'suspected' AND e.household_id = s.household_id AND e.round_id = s.round_id);

-- step: suspected_events
SELECT count(*) AS n FROM household_event WHERE event_type = 'suspected';
