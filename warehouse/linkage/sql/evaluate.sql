-- Linkage against a synthetic city's ground truth (warehouse/linkage/evaluate.py). The truth records are the
-- relation _ev_truth, attached by the caller; the counting is done on the returned frame.

-- step: outcomes
-- every truth record with the link and the ID status the warehouse gave it (no link row: rejected or folded by the
-- loader, not linkage's doing)
SELECT t.*, d.id_status, l.match_method, l.id_number, l.household_id, l.match_score
FROM _ev_truth t
LEFT JOIN link l ON l.source = t.source AND l.source_file = t.source_file AND l.source_row = t.source_row
LEFT JOIN dept_record d ON d.source = t.source AND d.source_file = t.source_file AND d.source_row = t.source_row;
