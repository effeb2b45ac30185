-- Step 4b. What this round's exact-ID links teach about the records without a usable ID (estimate.py smooths the
-- counts with the configured values as priors). Only counts leave this file: no names, no IDs.

-- step: empty
-- Before anything is estimated (the ID stage compares with the configured values only).
CREATE OR REPLACE TEMP TABLE lk_sib (sib_key UBIGINT, pid BIGINT, n BIGINT, first_rid BIGINT);
CREATE OR REPLACE TEMP TABLE lk_claim (claim_id UBIGINT, pid BIGINT, n BIGINT, first_rid BIGINT);
CREATE OR REPLACE TEMP TABLE lk_est_activity (source VARCHAR, act_class INTEGER, bits DOUBLE);
CREATE OR REPLACE TEMP TABLE lk_est_inout (source VARCHAR, factor VARCHAR, class VARCHAR, bits DOUBLE);
CREATE OR REPLACE TEMP TABLE lk_est_prior (source VARCHAR, prior DOUBLE);

-- step: others
-- The person's other records, from the ID decisions: the same name in the same township of the same feed (lk_sib),
-- and the same claim (the record's content without the person: dates, institution, amounts, types …) re-sent under
-- the same name (lk_claim). A claim content shared by more than ${max_claim_records} records is a batch (a day's
-- approvals at the standard amount), not one claim, and is not used.
CREATE OR REPLACE TEMP TABLE lk_sib AS
SELECT r.sib_key, d.pid, count(*) AS n, min(r.rid) AS first_rid
FROM lk_decision d JOIN lk_rec r USING (rid)
WHERE d.person_link AND r.sib_key IS NOT NULL
GROUP BY r.sib_key, d.pid;

CREATE OR REPLACE TEMP TABLE lk_claim AS
WITH specific AS (
    SELECT claim_key FROM lk_rec WHERE claim_key IS NOT NULL GROUP BY claim_key HAVING count(*) <= ${max_claim_records}
)
SELECT r.claim_id, d.pid, count(*) AS n, min(r.rid) AS first_rid
FROM lk_decision d JOIN lk_rec r USING (rid) JOIN specific s USING (claim_key)
WHERE d.person_link AND r.claim_id IS NOT NULL
GROUP BY r.claim_id, d.pid;

-- step: labels
-- Training pairs: records whose valid ID is a registry person's (one in ${label_every}, enough to estimate from).
CREATE OR REPLACE TEMP TABLE lk_pair_label AS
SELECT d.rid, d.pid, 'label' AS rule, NULL::VARCHAR AS rkind, NULL::INTEGER AS rpos
FROM lk_decision d JOIN lk_rec r USING (rid)
WHERE d.stage = 'id' AND d.match_method = 'id_exact' AND d.person_link AND r.name_key IS NOT NULL
  AND d.rid % ${label_every} = 0;

-- step: levels
-- m: how often each comparison level occurs between a record and its true person.
SELECT 'name' AS cmp, name_level AS level, count(*) AS n FROM lk_cmp_label GROUP BY name_level
UNION ALL
SELECT 'loc_' || loc_level, loc_agree, count(*) FROM lk_cmp_label WHERE loc_level IS NOT NULL GROUP BY loc_level, loc_agree
UNION ALL
SELECT 'head', CASE WHEN is_head THEN 'head' ELSE 'other' END, count(*) FROM lk_cmp_label WHERE is_head_only
GROUP BY is_head
UNION ALL
SELECT 'sib_m', c.sib_level, count(*) FROM lk_cmp_label c JOIN lk_rec r USING (rid)
WHERE NOT c.is_head_only AND r.township_code IS NOT NULL GROUP BY c.sib_level
UNION ALL
-- u of the other-records comparison: the same record against the namesakes of its person in its township (persons
-- the name and the place cannot tell apart — exactly where this comparison has to do the work)
SELECT 'sib_u', CASE WHEN cl.pid IS NOT NULL THEN 'claim' WHEN sb.pid IS NOT NULL THEN 'same' ELSE 'none' END, count(*)
FROM lk_pair_label l
JOIN lk_rec r USING (rid)
JOIN lk_person c ON c.name_key = r.name_key AND c.township_code = r.township_code AND c.pid <> l.pid
LEFT JOIN lk_claim cl ON cl.claim_id = r.claim_id AND cl.pid = c.pid
LEFT JOIN lk_sib sb ON sb.sib_key = r.sib_key AND sb.pid = c.pid
WHERE NOT r.is_head_only
GROUP BY ALL
UNION ALL
SELECT 'folded', CASE WHEN name_plain <> name_key THEN 'folded' ELSE 'as_written' END, count(*)
FROM lk_rec WHERE name_key IS NOT NULL GROUP BY ALL;

-- step: in_out
-- In the registry or not: records with a valid ID are labelled (their ID is a registry person's, or nobody's).
-- Per feed: how many are in, and how the place (with how many registry persons of that place carry the name), the
-- ID's address code, the institution's place and what the record is about are distributed among those in and out.
WITH v AS (
    SELECT r.source, r.loc_class || ':' || r.place_names AS loc_class, r.inst_class, r.rec_kind,
        CASE WHEN am.county_code IN (SELECT county_code FROM lk_reg_county) THEN 'registry'
             WHEN am.county_code IS NOT NULL THEN 'city' ELSE 'outside' END AS area_class,
        r.rid IN (SELECT rid FROM lk_pair WHERE rule = 'id') AS is_in
    FROM lk_rec r LEFT JOIN lk_area_map am ON am.area6 = left(r.id_number, 6)
    WHERE r.id_status = 'valid'
)
SELECT source, 'loc' AS factor, loc_class AS class, is_in, count(*) AS n FROM v GROUP BY ALL
UNION ALL
SELECT source, 'area', area_class, is_in, count(*) FROM v GROUP BY ALL
UNION ALL
SELECT source, 'inst', inst_class, is_in, count(*) FROM v WHERE inst_class IS NOT NULL GROUP BY ALL
UNION ALL
SELECT source, 'kind', rec_kind, is_in, count(*) FROM v WHERE rec_kind IS NOT NULL GROUP BY ALL;

-- step: activity
-- Records per person by activity class and feed (exact-ID links; head-of-household-only feeds are decided per
-- household and not counted), and the persons per class.
SELECT r.source, p.act_class, count(*) AS n_records, NULL::BIGINT AS n_persons
FROM lk_decision d JOIN lk_rec r USING (rid) JOIN lk_person p ON p.pid = d.pid
WHERE d.stage = 'id' AND d.person_link AND NOT r.is_head_only
GROUP BY r.source, p.act_class
UNION ALL
SELECT NULL, act_class, NULL, count(*) FROM lk_person GROUP BY act_class;

-- step: n_labels
SELECT count(*) FROM lk_decision WHERE stage = 'id' AND match_method = 'id_exact';
