-- Step 7. The best candidates (at most ${top}) of every record sent to review, for link_candidate and the county
-- review lists: from the ID stage (an ID the registry holds twice, a repair that fits several persons) and from the
-- posterior (lk_group).

-- step: candidates
CREATE OR REPLACE TEMP TABLE lk_review_cand AS
WITH c AS (
    SELECT c.*, row_number() OVER (PARTITION BY c.rid ORDER BY c.name_rank DESC, c.w DESC, c.pid) AS rk
    FROM lk_cmp_id c
    WHERE c.rid IN (SELECT rid FROM lk_decision WHERE match_method = 'review' AND stage IN ('id', 'repair'))
      AND (c.rule = 'id' OR c.rid IN (SELECT rid FROM lk_decision WHERE stage = 'repair'))
)
SELECT rid, rk::INTEGER AS rank, pid, CAST(0.5 AS DOUBLE) AS score, {{detail}} AS detail FROM c WHERE rk <= ${top};

INSERT INTO lk_review_cand
SELECT g.rid, g.rk::INTEGER, g.pid, round(g.post, 4), {{detail}} || CASE WHEN g.head_only THEN '（按户）' ELSE '' END
FROM lk_group g
WHERE g.rk <= ${top} AND g.rid IN (SELECT rid FROM lk_decision WHERE match_method = 'review' AND stage = 'fuzzy');
