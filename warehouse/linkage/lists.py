"""The rows of the county review lists (待核实匹配清单): every department record that linkage sent to review, its
candidates (from ``link_candidate``) and why it could not be decided.

A record goes to the county of its best candidate (the county that can verify it); a county's rows hold only that
county's candidate persons (SPEC §9). The workbooks are written by fangpin.reports.review_lists; the per-department
unmatched lists (未匹配记录) by fangpin.reports.publish, from the same ``link`` table.
"""

from __future__ import annotations

REVIEW_SQL = """
    WITH rv AS (SELECT source, source_file, source_row, reason FROM link WHERE match_method = 'review'),
    -- the county of each record's best candidate (null when that candidate has no county: the record is left out)
    first AS (
        SELECT source, source_file, source_row, first(county_code ORDER BY rank) AS county_code
        FROM link_candidate SEMI JOIN rv USING (source, source_file, source_row) GROUP BY ALL
    ),
    -- only the review records' rows of dept_record, and only the villages of their candidates (not the whole tables)
    d AS (
        SELECT DISTINCT ON (source, source_file, source_row) source, source_file, source_row, name, id_raw, county,
               township, village, hukou_address
        FROM dept_record SEMI JOIN rv USING (source, source_file, source_row)
        ORDER BY source, source_file, source_row
    ),
    v AS (
        SELECT DISTINCT ON (village_code) village_code, township, village FROM registry_person
        WHERE village_code IN (SELECT village_code FROM link_candidate SEMI JOIN rv USING (source, source_file, source_row))
        ORDER BY village_code
    )
    SELECT c.county_code, l.source, l.source_file, l.source_row, d.name AS record_name, d.id_raw,
        concat_ws('', d.county, d.township, d.village, d.hukou_address) AS record_place,
        l.reason, c.rank, c.name AS cand_name, c.id_number AS cand_id, c.household_id AS cand_household,
        v.township AS cand_township, v.village AS cand_village, c.score AS cand_score, c.detail AS cand_detail
    FROM rv l
    JOIN link_candidate c USING (source, source_file, source_row)
    JOIN first f USING (source, source_file, source_row)
    LEFT JOIN d USING (source, source_file, source_row)
    LEFT JOIN v ON v.village_code = c.village_code
    WHERE c.county_code = f.county_code
    ORDER BY c.county_code, l.source, l.source_file, l.source_row, c.rank
"""
