-- Review figures of a round against the synthetic city's ground truth (python -m warehouse.rules.evaluate).
-- _truth: (source, source_file, source_row, true_household_id) of every department record.

-- step: review_records
SELECT count(*) AS n FROM link WHERE match_method = 'review';

-- step: material
-- records on the county lists (material), (record, county) rows the counties see, and material records whose true
-- household is among the candidates
WITH m AS (
    SELECT i.* FROM review_impact i
    SEMI JOIN (SELECT * FROM link WHERE match_method = 'review') l USING (source, source_file, source_row)
    WHERE i.round_id = ${round_id} AND i.material
)
SELECT count(DISTINCT (m.source, m.source_file, m.source_row)) AS records,
       count(DISTINCT (m.source, m.source_file, m.source_row, m.county_code)) AS county_rows,
       count(DISTINCT (m.source, m.source_file, m.source_row)) FILTER (WHERE m.household_id = t.true_household_id)
           AS with_true_candidate
FROM m
LEFT JOIN _truth t ON t.source = m.source AND t.source_file = m.source_file AND t.source_row = m.source_row;

-- step: scenarios
-- Every scenario of round ${round_id} with what its materiality depends on, for replaying other review thresholds
-- (evaluate.replay_thresholds): the candidate's posterior, the record's best, whether the candidate has evidence
-- beyond the name (the same test as 35_counterfactual.sql's cand_linkable), and whether the scenario flags a
-- household the round did not flag.
SELECT i.source, i.source_file, i.source_row, i.household_id, i.changed, i.material,
       coalesce(i.cand_score, 0) AS score,
       max(coalesce(i.cand_score, 0)) OVER (PARTITION BY i.source, i.source_file, i.source_row) AS best,
       coalesce(c.detail LIKE '%出生日期一致%' OR c.detail LIKE '%出生日期相近%'
                OR c.detail LIKE '%同村%' OR c.detail LIKE '%同乡镇%', false) AS linkable,
       i.base_category IS NULL AND i.cf_category IS NOT NULL AS flags
FROM review_impact i
LEFT JOIN link_candidate c
       ON c.source = i.source AND c.source_file = i.source_file AND c.source_row = i.source_row
      AND c.rank = i.rank AND c.household_id = i.household_id
WHERE i.round_id = ${round_id};
