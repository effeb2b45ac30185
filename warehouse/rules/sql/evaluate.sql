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
