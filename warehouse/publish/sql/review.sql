-- The rows of the county review lists (待核实匹配清单): every department record that linkage sent to review, its
-- candidates (from link_candidate) and why it could not be decided. A record goes to the county of its best
-- candidate (the county that can verify it); a county's rows hold only that county's candidate persons (SPEC §9).
-- A record whose ID number Excel had turned into a number says so (the reason the ID could not tell people apart).

-- step: rows
WITH rv AS (SELECT source, source_file, source_row, reason FROM link WHERE match_method = 'review'),
-- the county of each record's best candidate (null when that candidate has no county: the record is left out)
first AS (
    SELECT c.source, c.source_file, c.source_row, arg_min(c.county_code, c.rank) AS county_code
    FROM link_candidate c JOIN rv USING (source, source_file, source_row)
    GROUP BY c.source, c.source_file, c.source_row
),
-- only the review records' rows of dept_record, and only the villages of their candidates (not the whole tables)
d AS (
    SELECT * FROM (
        SELECT d.source, d.source_file, d.source_row, d.name, d.id_raw, d.id_status, d.county, d.township, d.village,
               d.hukou_address,
               row_number() OVER (PARTITION BY d.source, d.source_file, d.source_row ORDER BY d.file_hash) AS rn
        FROM dept_record d JOIN rv USING (source, source_file, source_row)
    ) x WHERE rn = 1
),
v AS (
    SELECT village_code, min(township) AS township, min(village) AS village FROM registry_person
    WHERE village_code IN (SELECT c.village_code FROM link_candidate c JOIN rv USING (source, source_file, source_row))
    GROUP BY village_code
)
SELECT c.county_code, l.source, l.source_file, l.source_row, d.name AS record_name, d.id_raw,
    concat_ws('', d.county, d.township, d.village, d.hukou_address) AS record_place,
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
         ELSE c.detail END AS cand_detail
FROM rv l
JOIN link_candidate c USING (source, source_file, source_row)
JOIN first f USING (source, source_file, source_row)
LEFT JOIN d USING (source, source_file, source_row)
LEFT JOIN v ON v.village_code = c.village_code
WHERE c.county_code = f.county_code
ORDER BY c.county_code, l.source, l.source_file, l.source_row, c.rank;
