-- step: write
-- Step 8. (Re)write the link table: exactly one row per department record. Review and unmatched records carry no
-- person or household (ambiguous links go to review, never silently to the best guess); their candidates are kept in
-- link_candidate for the review lists. Runs inside one transaction (link_records opens it).
DELETE FROM link;
INSERT INTO link
SELECT r.source, r.source_file, r.source_row,
    CASE WHEN d.person_link THEN p.id_number END AS id_number,
    CASE WHEN d.match_method IN ('id_exact', 'id_repaired', 'fuzzy') THEN d.household_id END AS household_id,
    coalesce(d.match_method, 'unmatched') AS match_method,
    coalesce(d.match_score, 0.0) AS match_score,
    coalesce(d.reason, CASE WHEN r.name_key IS NULL AND r.id_number IS NULL AND r.id_candidate IS NULL THEN '姓名与证件号码均缺失，无法匹配'
                            ELSE '未找到匹配人员' END) AS reason,
    coalesce(d.candidates, 0) AS candidates
FROM lk_rec r
LEFT JOIN lk_decision d USING (rid)
LEFT JOIN lk_person p ON p.pid = d.pid;

-- link_candidate is created by warehouse/sql/schema.sql
DELETE FROM link_candidate;
INSERT INTO link_candidate
SELECT r.source, r.source_file, r.source_row, c.rank, p.id_number, p.household_id, p.name, p.county_code,
       p.township_code, p.village_code, c.score, c.detail
FROM lk_review_cand c
JOIN lk_rec r USING (rid)
JOIN lk_person p ON p.pid = c.pid
ORDER BY r.rid, c.rank;

-- step: methods
SELECT source, match_method, count(*) FROM link GROUP BY source, match_method ORDER BY source, match_method;

-- step: drop_table
DROP TABLE IF EXISTS temp.main.{{name}};

-- step: drop_view
DROP VIEW IF EXISTS temp.main.{{name}};

-- step: settings
SET enable_progress_bar = false;
