-- Step 5. Candidates for the records the ID could not decide (blocking.py runs the configured rules in order).

-- step: todo
-- Records with no ID decision that have something to compare (a name).
CREATE OR REPLACE TEMP TABLE lk_todo AS
SELECT r.* FROM lk_rec r
WHERE r.name_key IS NOT NULL AND NOT EXISTS (SELECT 1 FROM lk_decision d WHERE d.rid = r.rid);

-- step: seed
-- The unconfirmed ID repairs stay candidates; so do the persons the record's other records link to by ID (the same
-- claim re-sent, the same name in the same township of the same feed), whatever the rules below find.
CREATE OR REPLACE TEMP TABLE lk_pair_fz AS
SELECT p.rid, p.pid, p.rule, p.rkind, p.rpos FROM lk_pair p JOIN lk_todo t USING (rid) WHERE p.rule = 'id_repair';

INSERT INTO lk_pair_fz
SELECT DISTINCT x.rid, x.pid, 'other_records', NULL, NULL FROM (
    SELECT t.rid, c.pid FROM lk_todo t JOIN lk_claim c ON c.claim_id = t.claim_id
    UNION ALL
    SELECT t.rid, s.pid FROM lk_todo t JOIN lk_sib s ON s.sib_key = t.sib_key
) x
WHERE NOT EXISTS (SELECT 1 FROM lk_pair_fz e WHERE e.rid = x.rid AND e.pid = x.pid);

-- step: rule
-- One configured rule: equality on {{cond}} (columns of lk_rec r and lk_person p); records filtered by {{rec_where}};
-- persons from {{persons}} (all, or only blocks of at most max_block persons).
INSERT INTO lk_pair_fz
WITH r AS (SELECT * FROM lk_todo WHERE {{rec_where}})
SELECT x.rid, x.pid, ${rule}, NULL, NULL FROM (
    SELECT DISTINCT r.rid, p.pid FROM r JOIN {{persons}} p ON {{cond}}
) x
WHERE NOT EXISTS (SELECT 1 FROM lk_pair_fz e WHERE e.rid = x.rid AND e.pid = x.pid);

-- step: count
SELECT count(*) FROM lk_pair_fz;

-- step: count_rule
SELECT count(*) FROM lk_pair_fz WHERE rule = ${rule};
