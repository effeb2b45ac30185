-- The rows of the lists about records linkage left for review (match_method review, candidates in link_candidate).
-- County lists 待核实匹配清单: only material records — attaching them to a plausible candidate would change that
-- household's screening result (review_impact of the round, written by warehouse/rules 36_impact) — each sent to
-- every county with such a candidate, showing only that county's candidates (SPEC §9), with what each would change,
-- most urgent first. The other review records go to their department (department, 同名待定记录), never to villages.

-- step: stake
-- (record, county) pairs with a material candidate in round ${round_id}, and the risk at stake there: a new flag
-- first, then the scenario's priority.
CREATE OR REPLACE TEMP TABLE _rv_stake AS
SELECT i.source, i.source_file, i.source_row, i.county_code,
       bool_or(i.new_flag) AS new_flag, max(i.cf_priority_score) FILTER (WHERE i.material) AS stake
FROM review_impact i
SEMI JOIN (SELECT source, source_file, source_row FROM link WHERE match_method = 'review') rv
     USING (source, source_file, source_row)
WHERE i.round_id = ${round_id}
GROUP BY i.source, i.source_file, i.source_row, i.county_code
HAVING bool_or(i.material);

-- step: stake_unscreened
-- No round screened the review records yet (no review_impact rows for it): every review record goes to the county
-- of its best candidate — nothing is held back while its stake is unknown.
CREATE OR REPLACE TEMP TABLE _rv_stake AS
SELECT c.source, c.source_file, c.source_row, first(c.county_code ORDER BY c.rank) AS county_code,
       false AS new_flag, CAST(NULL AS DOUBLE) AS stake
FROM link_candidate c
SEMI JOIN (SELECT source, source_file, source_row FROM link WHERE match_method = 'review') rv
     USING (source, source_file, source_row)
GROUP BY c.source, c.source_file, c.source_row;

-- step: county
-- The rows of the county lists from _rv_stake (stake or stake_unscreened): each record with its candidates of that
-- county and, when round ${round_id} screened it, what confirming each would change.
WITH d AS (
    SELECT DISTINCT ON (source, source_file, source_row) source, source_file, source_row, name, id_raw, id_status,
           county, township, village, hukou_address
    FROM dept_record SEMI JOIN _rv_stake USING (source, source_file, source_row)
    ORDER BY source, source_file, source_row
),
v AS (
    SELECT DISTINCT ON (village_code) village_code, township, village FROM registry_person
    WHERE village_code IN (SELECT village_code FROM link_candidate SEMI JOIN _rv_stake USING (source, source_file, source_row))
    ORDER BY village_code
),
imp AS (
    SELECT * FROM {{impact}} i WHERE i.round_id = ${round_id}
)
SELECT s.county_code, l.source, l.source_file, l.source_row, d.name AS record_name, d.id_raw,
       concat_ws('', d.county, d.township, d.village, d.hukou_address) AS record_place,
       -- a record whose ID number Excel had turned into a number says so (why the ID could not tell people apart)
       CASE WHEN d.id_status = 'mangled'
            THEN '证件号码“' || d.id_raw || '”已被Excel存成数字（后几位丢失），不能用来区分同名人员；' || coalesce(l.reason, '')
            ELSE l.reason END AS reason,
       c.rank, c.name AS cand_name, c.id_number AS cand_id, c.household_id AS cand_household,
       v.township AS cand_township, v.village AS cand_village, c.score AS cand_score,
       -- the score with what decided it: a tie with other candidates is why nobody could be chosen
       CASE WHEN count(*) OVER (PARTITION BY c.source, c.source_file, c.source_row, c.score) > 1
            THEN coalesce(c.detail || '；', '') || '与另外'
                 || CAST(count(*) OVER (PARTITION BY c.source, c.source_file, c.source_row, c.score) - 1 AS VARCHAR)
                 || '名候选人条件相同，系统无法区分'
            ELSE c.detail END AS cand_detail,
       CASE WHEN i.change_text IS NOT NULL THEN '若确认为该候选人，' || i.change_text
                || CASE WHEN i.new_flag THEN '（该户已按“同名待确认”列入本县疑似风险户清单）' ELSE '' END END AS change_text,
       s.new_flag AS stake_new_flag, s.stake
FROM _rv_stake s
JOIN link l ON l.source = s.source AND l.source_file = s.source_file AND l.source_row = s.source_row
JOIN link_candidate c ON c.source = s.source AND c.source_file = s.source_file AND c.source_row = s.source_row
                     AND c.county_code = s.county_code
LEFT JOIN imp i ON i.source = c.source AND i.source_file = c.source_file AND i.source_row = c.source_row
               AND i.household_id = c.household_id AND i.rank = c.rank
LEFT JOIN d ON d.source = s.source AND d.source_file = s.source_file AND d.source_row = s.source_row
LEFT JOIN v ON v.village_code = c.village_code
ORDER BY s.county_code, s.new_flag DESC, s.stake DESC NULLS LAST, l.source, l.source_file, l.source_row, c.rank;

-- step: department
-- Review records of the feeds ${feeds} that change nobody's result this round: for the department, not the villages.
WITH rv AS (
    SELECT source, source_file, source_row, reason, candidates FROM link
    WHERE match_method = 'review' AND source IN (${feeds})
),
held AS (
    SELECT rv.* FROM rv
    WHERE NOT EXISTS (SELECT 1 FROM review_impact i
                      WHERE i.round_id = ${round_id} AND i.material AND i.source = rv.source
                        AND i.source_file = rv.source_file AND i.source_row = rv.source_row)
)
SELECT h.source, h.source_file, h.source_row, d.name, d.id_raw,
       concat_ws('', d.county, d.township, d.village, d.hukou_address) AS place,
       coalesce(d.event_date, d.settle_date, d.disaster_date, d.approved_on) AS event_date,
       CASE h.source
           WHEN 'medical' THEN concat_ws('，', d.institution, d.visit_type, '个人自付 ' || format('{:,.2f}', d.out_of_pocket) || '元')
           WHEN 'disaster' THEN concat_ws('，', d.disaster_type, '房屋' || d.house_damage, '直接经济损失 ' || format('{:,.2f}', d.direct_loss) || '元')
           WHEN 'civil_affairs' THEN concat_ws('，', d.aid_type, d.status, '金额 ' || format('{:,.2f}', d.amount) || '元')
           WHEN 'employment' THEN concat_ws('，', d.event, d.previous_workplace)
           WHEN 'property' THEN d.property_type
       END AS content,
       h.reason, h.candidates
FROM held h
LEFT JOIN (SELECT DISTINCT ON (source, source_file, source_row) * FROM dept_record SEMI JOIN held USING (source, source_file, source_row)
           ORDER BY source, source_file, source_row, file_hash) d
       ON d.source = h.source AND d.source_file = h.source_file AND d.source_row = h.source_row
ORDER BY h.source, h.source_file, h.source_row;

-- step: screened
-- Did a round screen the review records (any review_impact row for it)?
SELECT count(*) > 0 AS screened FROM review_impact WHERE round_id = ${round_id};

-- step: no_impact
-- (the impact relation of a warehouse without review_impact)
CREATE OR REPLACE TEMP VIEW _rv_no_impact AS
SELECT CAST(NULL AS VARCHAR) AS round_id, CAST(NULL AS VARCHAR) AS source, CAST(NULL AS VARCHAR) AS source_file,
       CAST(NULL AS BIGINT) AS source_row, CAST(NULL AS VARCHAR) AS household_id, CAST(NULL AS INTEGER) AS rank,
       CAST(NULL AS VARCHAR) AS change_text, CAST(NULL AS BOOLEAN) AS new_flag
WHERE false;

-- step: drop
DROP VIEW IF EXISTS _rv_no_impact;
