-- Counterfactual screening of the records linkage could not decide (issue 12: risk-aware review).
-- A record sent to review (link.match_method = 'review') has up to three candidates in link_candidate. For every
-- (record, candidate household) pair — a scenario — the candidate household is screened again with the record
-- attached to the candidate person, by the very same steps (20_evidence, 30_screen) run in a second session of the
-- warehouse whose _hh / _person / link relation hold only the scenario households. All scenarios at once, set-based:
-- no loop of rule runs. 36_impact.sql compares each scenario with the household's real result (`base`), there too;
-- only the comparison and the scenarios of 同名待确认 households come back to the round's session.
-- A scenario household is the candidate household under a new id (vh = 'cf:<n>'): its registry fields and members,
-- its own evidence links, plus the attached record.

-- step: pairs
CREATE OR REPLACE TEMP TABLE _cf_pair AS
WITH c AS (
    SELECT c.source, c.source_file, c.source_row, c.rank, c.household_id, c.id_number, c.name AS cand_name,
           c.county_code AS cand_county_code, c.township_code AS cand_township_code,
           c.village_code AS cand_village_code, c.score AS cand_score,
           -- evidence beyond the name that linkage would accept for a link (SPEC §5: a link must be backed by more
           -- than the name): the birth date, or the village / township. Read from link_candidate.detail, the
           -- comparison levels in words (warehouse/linkage/decide.py); a district alone is not enough.
           coalesce(c.detail LIKE '%出生日期一致%' OR c.detail LIKE '%出生日期相近%'
                    OR c.detail LIKE '%同村%' OR c.detail LIKE '%同乡镇%', false) AS cand_linkable
    FROM link l
    JOIN link_candidate c ON c.source = l.source AND c.source_file = l.source_file AND c.source_row = l.source_row
    WHERE l.match_method = 'review' AND c.household_id IN (SELECT household_id FROM _hh)
)
SELECT 'cf:' || CAST(row_number() OVER (ORDER BY source, source_file, source_row, rank, household_id, id_number) AS VARCHAR) AS vh,
       c.*
FROM c;

-- step: links
-- (a SELECT: moved into the scenario session as its link relation)
SELECT l.source, l.source_file, l.source_row, p.vh AS household_id, l.id_number, l.match_method, l.match_score
FROM _cf_pair p
JOIN link l ON l.household_id = p.household_id
WHERE l.match_method IN (${evidence_methods})
UNION ALL
SELECT p.source, p.source_file, p.source_row, p.vh AS household_id, p.id_number, 'review' AS match_method,
       p.cand_score AS match_score
FROM _cf_pair p;

-- step: households
SELECT p.vh AS household_id, h.* EXCLUDE (household_id)
FROM _cf_pair p JOIN _hh h ON h.household_id = p.household_id;

-- step: persons
SELECT p.vh AS household_id, x.* EXCLUDE (household_id)
FROM _cf_pair p JOIN _person x ON x.household_id = p.household_id;

-- step: base
-- The candidate households' real results, for the comparison in the scenario session (36_impact.sql)
SELECT household_id, county_code, max_risk_types, suspect_category, risk_types, priority_score
FROM _scr WHERE household_id IN (SELECT household_id FROM _cf_pair);

-- step: relation
-- (a relation handed between the round's session and the scenario session)
SELECT * FROM {{relation}};

-- step: shown
-- (the rows of the scenarios a 同名待确认 household is listed with, handed back to the round's session)
SELECT * FROM {{relation}} WHERE household_id IN (SELECT shown_vh FROM _cf_pending WHERE pending_namesake);
