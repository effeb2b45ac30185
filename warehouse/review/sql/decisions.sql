-- Link decisions (link_decision, tables.sql): recorded from returned lists, applied to link / link_candidate.

-- step: keys
-- Every department record with the keys a decision is remembered by: its event key and a hash of what it says
-- (person's name, date, and the feed's content), so a copy re-sent in another file finds the decision again.
CREATE OR REPLACE TEMP VIEW _rd_keyed AS
SELECT d.source, d.source_file, d.source_row, d.event_key,
       md5(concat_ws('|', d.source, coalesce(d.name_key, d.name, ''),
           coalesce(CAST(coalesce(d.event_date, d.settle_date, d.disaster_date, d.approved_on) AS VARCHAR), ''),
           coalesce(d.institution, ''), coalesce(d.visit_type, ''), coalesce(CAST(round(d.total_cost, 2) AS VARCHAR), ''),
           coalesce(CAST(round(d.out_of_pocket, 2) AS VARCHAR), ''), coalesce(d.disaster_type, ''),
           coalesce(d.house_damage, ''), coalesce(CAST(round(d.direct_loss, 2) AS VARCHAR), ''), coalesce(d.aid_type, ''),
           coalesce(d.status, ''), coalesce(CAST(round(d.amount, 2) AS VARCHAR), ''), coalesce(d.event, ''),
           coalesce(d.property_type, ''))) AS record_key
FROM dept_record d;

-- step: from_suspect_list
-- A returned 疑似风险户清单 (feedback file ${file_hash}): for a household listed with pending records, the column
-- 同名记录核实 decides them (是本户 → confirmed, 不是本户 → denied); without it, the 核实结果 of a 同名待确认
-- household does (纳入监测 → confirmed: it was listed only because of the record; 不纳入 → denied). The records are
-- the household's pending_records in the round answered; the candidate person is the one the round attached.
INSERT INTO link_decision (source, source_file, source_row, event_key, record_key, household_id, id_number, decision,
                           decided_on, origin, round_id, county_code, feedback_file, feedback_row, file_hash)
WITH f AS (
    SELECT fr.*, s.pending_records,
           CASE WHEN fr.namesake_result = '是本户' THEN 'confirmed'
                WHEN fr.namesake_result = '不是本户' THEN 'denied'
                WHEN coalesce(s.pending_namesake, false) AND fr.verify_result = '纳入监测' THEN 'confirmed'
                WHEN coalesce(s.pending_namesake, false) AND fr.verify_result = '不纳入' THEN 'denied'
           END AS decision
    FROM feedback_record fr
    JOIN suspect s ON s.round_id = fr.round_id AND s.household_id = fr.household_id
    WHERE fr.file_hash = ${file_hash} AND coalesce(array_length(s.pending_records), 0) > 0
),
one AS (   -- one row per household answered (the first row of the file that decides)
    SELECT * FROM (SELECT f.*, row_number() OVER (PARTITION BY household_id ORDER BY source_row) AS k
                   FROM f WHERE decision IS NOT NULL)
    WHERE k = 1
),
rec AS (   -- the candidate person the round attached (two members of one household: the better-ranked)
    SELECT * FROM (
        SELECT o.decision, o.verify_date, o.round_id, o.reporting_county_code, o.source_file AS fb_file,
               o.source_row AS fb_row, o.file_hash AS fb_hash, i.source, i.source_file, i.source_row, i.household_id,
               i.id_number,
               row_number() OVER (PARTITION BY o.household_id, i.source, i.source_file, i.source_row ORDER BY i.rank) AS k
        FROM one o
        JOIN review_impact i ON i.round_id = o.round_id AND i.household_id = o.household_id
        WHERE list_contains(o.pending_records, i.source || '|' || i.source_file || '|' || CAST(i.source_row AS VARCHAR))
    ) WHERE k = 1
)
SELECT r.source, r.source_file, r.source_row, k.event_key, k.record_key, r.household_id, r.id_number, r.decision,
       coalesce(r.verify_date, current_date), 'suspect_list', r.round_id, r.reporting_county_code, r.fb_file, r.fb_row,
       r.fb_hash
FROM rec r
LEFT JOIN _rd_keyed k ON k.source = r.source AND k.source_file = r.source_file AND k.source_row = r.source_row;

-- step: from_review_list
-- A returned 待核实匹配清单: _rv_decision holds the decisions its rows made (warehouse.review.review_list_decisions).
INSERT INTO link_decision (source, source_file, source_row, event_key, record_key, household_id, id_number, decision,
                           decided_on, origin, round_id, county_code, feedback_file, feedback_row, file_hash)
SELECT r.source, r.source_file, r.source_row, k.event_key, k.record_key, r.household_id, r.id_number, r.decision,
       r.decided_on, 'review_list', NULL, r.county_code, r.feedback_file, r.feedback_row, r.file_hash
FROM _rv_decision r
LEFT JOIN _rd_keyed k ON k.source = r.source AND k.source_file = r.source_file AND k.source_row = r.source_row;

-- step: apply
-- The latest decision per (record, household) counts. A confirmed record becomes a link to the confirmed person
-- (match_method fuzzy, score 1, the reason says who decided): the rules then count it as evidence. A denied candidate
-- leaves link_candidate; a record left with no candidate, or linked by linkage to a household a county denied, goes
-- back to its department (unmatched). Links on a valid ID are never touched. Applying twice changes nothing.
CREATE OR REPLACE TEMP TABLE _rd_latest AS
SELECT * FROM (
    SELECT x.*, row_number() OVER (PARTITION BY x.source, x.source_file, x.source_row, x.household_id
                                   ORDER BY x.decided_on DESC NULLS LAST, x.recorded_at DESC, x.feedback_row DESC) AS k
    FROM link_decision x
) WHERE k = 1;

-- the current records each decision concerns: the same row, a copy with the same event key, or the same content
CREATE OR REPLACE TEMP TABLE _rd_match AS
WITH cur AS (
    SELECT k.source, k.source_file, k.source_row, k.event_key, k.record_key
    FROM _rd_keyed k
    JOIN link l ON l.source = k.source AND l.source_file = k.source_file AND l.source_row = k.source_row
    WHERE l.match_method IN ('review', 'unmatched', 'fuzzy') AND k.source IN (SELECT source FROM _rd_latest)
),
m AS (
    SELECT c.source, c.source_file, c.source_row, x.household_id, x.id_number, x.decision, x.decided_on, x.origin,
           x.feedback_file, x.feedback_row, x.recorded_at,
           row_number() OVER (PARTITION BY c.source, c.source_file, c.source_row, x.household_id
                              ORDER BY x.decided_on DESC NULLS LAST, x.recorded_at DESC) AS k
    FROM cur c
    JOIN _rd_latest x ON x.source = c.source
     AND ((x.source_file = c.source_file AND x.source_row = c.source_row)
          OR x.event_key = c.event_key OR x.record_key = c.record_key)
)
SELECT * EXCLUDE (k) FROM m WHERE k = 1;

CREATE OR REPLACE TEMP TABLE _rd_confirm AS
SELECT * FROM (
    SELECT m.*, row_number() OVER (PARTITION BY source, source_file, source_row
                                   ORDER BY decided_on DESC NULLS LAST, recorded_at DESC) AS k
    FROM _rd_match m WHERE decision = 'confirmed'
) WHERE k = 1;

UPDATE link SET id_number = c.id_number, household_id = c.household_id, match_method = 'fuzzy', match_score = 1.0,
    reason = '经县级核实确认为本人（' || CASE c.origin WHEN 'suspect_list' THEN '疑似风险户清单' ELSE '待核实匹配清单' END
             || coalesce('，' || c.feedback_file || ' 第' || CAST(c.feedback_row AS VARCHAR) || '行', '') || '）'
FROM _rd_confirm c
WHERE link.source = c.source AND link.source_file = c.source_file AND link.source_row = c.source_row;

DELETE FROM link_candidate
WHERE EXISTS (SELECT 1 FROM _rd_match m
              WHERE m.decision = 'denied' AND m.source = link_candidate.source
                AND m.source_file = link_candidate.source_file AND m.source_row = link_candidate.source_row
                AND m.household_id = link_candidate.household_id);

UPDATE link SET id_number = NULL, household_id = NULL, match_method = 'unmatched', match_score = 0.0,
    reason = '经县级核实不是候选人员本人，退回部门核对（请补充有效证件号码）'
WHERE link.match_method IN ('review', 'fuzzy')
  AND EXISTS (SELECT 1 FROM _rd_match m
              WHERE m.decision = 'denied' AND m.source = link.source AND m.source_file = link.source_file
                AND m.source_row = link.source_row
                AND (link.match_method = 'review' OR m.household_id = link.household_id))
  AND NOT EXISTS (SELECT 1 FROM _rd_confirm c
                  WHERE c.source = link.source AND c.source_file = link.source_file AND c.source_row = link.source_row)
  AND (link.match_method = 'fuzzy'
       OR NOT EXISTS (SELECT 1 FROM link_candidate c
                      WHERE c.source = link.source AND c.source_file = link.source_file
                        AND c.source_row = link.source_row));

-- step: summary
SELECT (SELECT count(*) FROM _rd_confirm) AS confirmed,
       (SELECT count(*) FROM _rd_match WHERE decision = 'denied') AS denied;

-- step: drop
DROP TABLE IF EXISTS _rd_latest;
DROP TABLE IF EXISTS _rd_match;
DROP TABLE IF EXISTS _rd_confirm;
DROP VIEW IF EXISTS _rd_keyed;

-- step: any
SELECT count(*) > 0 FROM link_decision;

-- step: count
SELECT count(*) FROM link_decision;

-- step: review_rows
-- The rows of a returned 待核实匹配清单 (_rv_rows) looked up: which department record (文件名, 行号) they name, whether
-- the row's 户编号 is one of its candidates (now, as a round screened it, or as a county already decided it), the
-- candidate person and the household's county.
WITH r AS (SELECT _i, record_file, record_row, household_id, cand_id FROM _rv_rows),
src AS (
    SELECT r._i, count(DISTINCT l.source) AS n_sources, any_value(l.source) AS record_source
    FROM r LEFT JOIN link l ON l.source_file = r.record_file AND l.source_row = r.record_row
    GROUP BY r._i
),
cands AS (
    SELECT source, source_file, source_row, household_id, id_number FROM link_candidate
    UNION SELECT source, source_file, source_row, household_id, id_number FROM review_impact
    UNION SELECT source, source_file, source_row, household_id, id_number FROM link_decision
),
c AS (
    SELECT r._i, count(x.household_id) > 0 AS is_candidate,
           coalesce(any_value(x.id_number) FILTER (WHERE x.id_number = r.cand_id), any_value(x.id_number)) AS cand_person
    FROM r
    JOIN src USING (_i)
    LEFT JOIN cands x ON x.source = src.record_source AND x.source_file = r.record_file
                     AND x.source_row = r.record_row AND x.household_id = r.household_id
    GROUP BY r._i
),
hh AS (
    SELECT household_id, any_value(coalesce(county_code, left(village_code, 6))) AS cand_county
    FROM registry_person WHERE household_id IN (SELECT household_id FROM r)
    GROUP BY household_id
)
SELECT r._i, src.n_sources, src.record_source, c.is_candidate, c.cand_person, hh.cand_county
FROM r JOIN src USING (_i) JOIN c USING (_i) LEFT JOIN hh ON hh.household_id = r.household_id;

-- step: forget_file
-- the decisions an earlier, interrupted load of this returned list recorded (the file is loaded again whole)
DELETE FROM link_decision WHERE file_hash = ${file_hash};
