-- Publish-ready queries of a round (SPEC §7): what fangpin.reports presents, read here and nowhere else.
-- Relations put by warehouse/publish/__init__.py before these steps run:
--   pub_feed_label(source, label)          the department name shown for each feed (routing.yaml)
--   pub_dept_type(dept, risk_type)         which risk types each department's task list takes (routing.yaml)
-- Scope: ${all_counties} = the whole round, else the counties in ${counties} (a county rerun).

-- step: evidence
-- One line per department record behind a suspect, the Chinese evidence text of every workbook (built here only):
-- 【部门｜文件 第N行】+ the record's summary written by the rules. A record supporting several flags is one line.
CREATE OR REPLACE TEMP TABLE pub_evidence AS
SELECT e.household_id, e.source, e.source_file, e.source_row,
       min(e.event_date) AS event_date,
       array_agg(DISTINCT e.risk_type) FILTER (WHERE e.risk_type IS NOT NULL) AS risk_types,
       '【' || coalesce(max(l.label), e.source) || '｜' || coalesce(e.source_file, '')
           || CASE WHEN e.source_row IS NOT NULL THEN ' 第' || CAST(e.source_row AS VARCHAR) || '行' ELSE '' END
           || '】' || coalesce(max(e.summary), '') AS line
FROM suspect_evidence e
LEFT JOIN pub_feed_label l ON l.source = e.source
WHERE e.round_id = ${round_id}
GROUP BY e.household_id, e.source, e.source_file, e.source_row;

CREATE OR REPLACE TEMP TABLE pub_household_evidence AS
SELECT household_id,
       string_agg(line, chr(10) ORDER BY event_date NULLS LAST, source, source_file, source_row) AS evidence_text
FROM pub_evidence
GROUP BY household_id;

-- step: suspects
-- suspects.parquet: SPEC §7 columns + extras; evidence = list of {source, source_file, source_row, summary, amount,
-- risk_type} in date order (risk_type joins the flags the record supports).
WITH per_record AS (
    SELECT household_id, source, source_file, source_row, max(summary) AS summary, max(amount) AS amount,
           string_agg(DISTINCT risk_type, '、' ORDER BY risk_type) AS risk_type, min(event_date) AS event_date
    FROM suspect_evidence WHERE round_id = ${round_id}
    GROUP BY household_id, source, source_file, source_row
),
ev AS (
    SELECT household_id,
           list({'source': source, 'source_file': source_file, 'source_row': source_row, 'summary': summary,
                 'amount': amount, 'risk_type': risk_type}
                ORDER BY event_date NULLS LAST, source, source_file, source_row) AS evidence
    FROM per_record GROUP BY household_id
)
SELECT s.*, ev.evidence
FROM suspect s LEFT JOIN ev ON ev.household_id = s.household_id  -- not USING: Spark's s.* would put the key first
WHERE s.round_id = ${round_id} AND (${all_counties} OR s.county_code IN (${counties}))
ORDER BY s.priority_score DESC NULLS LAST, s.household_id;

-- step: links
SELECT * FROM link ORDER BY source, source_file, source_row;

-- step: rejected
SELECT source, source_file, source_row, reason, field, file_hash FROM rejected_row
ORDER BY source, source_file, source_row NULLS FIRST, field;

-- step: kind
-- the round's kind (the round table, else its suspects)
SELECT coalesce((SELECT max(kind) FROM round WHERE round_id = ${round_id}),
                (SELECT max(kind) FROM suspect WHERE round_id = ${round_id})) AS kind,
       (SELECT count(*) FROM priority_target WHERE round_id = ${round_id}) AS targets;

-- step: counties
-- every county of the registry (each gets its workbook, empty or not) and the name the registry gives it
SELECT coalesce(county_code, left(village_code, 6), '') AS county_code, max(county) AS county
FROM registry_person
GROUP BY coalesce(county_code, left(village_code, 6), '');

-- step: heads
-- each registry household's head (else its first member) and place
CREATE OR REPLACE TEMP TABLE pub_head AS
SELECT household_id,
       arg_min(name, CAST(CASE WHEN relation = '户主' THEN 0 ELSE 1 END AS DOUBLE) * 1e12 + coalesce(source_row, 0)) AS head_name,
       arg_min(township, coalesce(source_row, 0)) AS township,
       arg_min(village, coalesce(source_row, 0)) AS village,
       arg_min(coalesce(county_code, left(village_code, 6)), coalesce(source_row, 0)) AS county_code,
       arg_min(county, coalesce(source_row, 0)) AS county
FROM registry_person
GROUP BY household_id;

-- step: routed
-- One row per (recipient county, suspect): a county's own households, plus relocated households whose hukou did not
-- move, routed to both the county they live in and their hukou county (SPEC §6.5), with the label saying which.
WITH s AS (SELECT * FROM suspect WHERE round_id = ${round_id}),
r AS (
    SELECT household_id, county_code AS recipient FROM s
    UNION SELECT household_id, live_county_code FROM s WHERE double_routed AND live_county_code IS NOT NULL
    UNION SELECT household_id, hukou_county_code FROM s WHERE double_routed AND hukou_county_code IS NOT NULL
)
SELECT coalesce(r.recipient, '') AS recipient,
       CASE WHEN NOT coalesce(s.double_routed, false) THEN NULL
            WHEN s.hukou_county_code IS NULL THEN '安置地（户籍地待核实）'
            WHEN r.recipient = s.live_county_code AND r.recipient = s.hukou_county_code THEN '安置地、户籍地（同县）'
            WHEN r.recipient = s.live_county_code THEN '安置地'
            WHEN r.recipient = s.hukou_county_code THEN '户籍地分流'
            ELSE '户籍登记地' END AS routing_label,
       s.*, e.evidence_text
FROM r JOIN s USING (household_id)
LEFT JOIN pub_household_evidence e USING (household_id)
WHERE ${all_counties} OR coalesce(r.recipient, '') IN (${counties})
ORDER BY recipient, s.priority_score DESC NULLS LAST, s.household_id;

-- step: followups
-- relocated households of each resettlement community compared with each other (SPEC §6.5)
SELECT f.*, h.head_name
FROM relocation_followup f LEFT JOIN pub_head h USING (household_id)
WHERE f.round_id = ${round_id}
ORDER BY f.site_key, f.rank_in_site;

-- step: helpers
-- (household, county that reported it) → the latest 帮扶责任人 a county returned: the hukou county's is the
-- 户籍地帮扶联系人, the resettlement county's the 安置社区帮扶联系人. {{helper_order}}: helper_date first when present.
SELECT household_id, reporting_county_code AS county_code, helper_name
FROM (
    SELECT household_id, reporting_county_code, helper_name,
           row_number() OVER (PARTITION BY household_id, reporting_county_code
                              ORDER BY {{helper_order}}) AS rn
    FROM feedback_record
    WHERE helper_name IS NOT NULL AND trim(helper_name) <> '' AND reporting_county_code IS NOT NULL
) x
WHERE rn = 1;

-- step: targets
-- priority rounds (SPEC §6.4): the target villages with their reasons
SELECT * FROM priority_target
WHERE round_id = ${round_id} AND (${all_counties} OR county_code IN (${counties}))
ORDER BY county_code, township_code, village_code;

-- step: priority_households
-- the households ranked for screening in the target villages, with their head, place and target village
SELECT p.* EXCLUDE (target_county_code), h.head_name, h.township, h.village,
       coalesce(p.target_county_code, t.county_code, p.county_code) AS target_county_code,
       t.village AS target_village
FROM priority_household p
LEFT JOIN pub_head h USING (household_id)
LEFT JOIN (SELECT village_code, max(county_code) AS county_code, max(village) AS village
           FROM priority_target WHERE round_id = ${round_id} GROUP BY village_code) t
       ON t.village_code = p.target_village_code
WHERE p.round_id = ${round_id}
  AND (${all_counties} OR coalesce(p.target_county_code, t.county_code, p.county_code) IN (${counties}))
ORDER BY target_county_code, p.screening_rank;

-- step: tasks
-- 行业部门任务清单 (SPEC §7): per department, the monitored households with a new risk (${task_categories}) whose risk
-- types it handles, the types it handles, and only the evidence lines that support them.
WITH d AS (SELECT dept, list(risk_type ORDER BY risk_type) AS types FROM pub_dept_type GROUP BY dept),
mon AS (SELECT * FROM suspect WHERE round_id = ${round_id} AND suspect_category IN (${task_categories})),
t AS (
    SELECT d.dept, list_filter(m.risk_types, lambda x: list_contains(d.types, x)) AS dept_risk_types, m.*
    FROM mon m CROSS JOIN d
),
ev AS (
    SELECT d.dept, e.household_id,
           string_agg(e.line, chr(10) ORDER BY e.event_date NULLS LAST, e.source, e.source_file, e.source_row)
               AS evidence_text
    FROM pub_evidence e JOIN d ON list_has_any(e.risk_types, d.types)
    WHERE e.household_id IN (SELECT household_id FROM mon)
    GROUP BY d.dept, e.household_id
)
SELECT t.*, ev.evidence_text
FROM t LEFT JOIN ev ON ev.dept = t.dept AND ev.household_id = t.household_id
WHERE array_length(t.dept_risk_types) > 0
ORDER BY t.dept, t.priority_score DESC NULLS LAST, t.household_id;

-- step: drop
DROP TABLE IF EXISTS pub_evidence;
DROP TABLE IF EXISTS pub_household_evidence;
DROP TABLE IF EXISTS pub_head;
