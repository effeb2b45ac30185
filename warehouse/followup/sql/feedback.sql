-- County feedback (warehouse/followup/feedback.py): checking a returned file against the push history, and loading it.
-- The caller attaches the file's rows: _fb_in / _fb_cmap (validate), _fb_rows / _fb_rej (load); every load step runs
-- inside the file's transaction.

-- step: checked
-- Each row of the file (_i = its position) with what the push history and the registry say about its household: the
-- push it answers (the push of the date the row shows, else the latest push not after its 核实日期, else the latest),
-- the counties it was pushed to, its first push, and the first row of the same household in the file.
WITH r AS (SELECT i.*, m.row_county_code FROM _fb_in i LEFT JOIN _fb_cmap m USING (county)),
p AS (SELECT household_id, round_id, event_date AS pushed_on, recipients, category, risk_types
      FROM household_event WHERE event_type = 'suspected'),
pa AS (SELECT household_id, min(pushed_on) AS first_push, list_distinct(flatten(list(recipients))) AS recipients
       FROM p GROUP BY household_id),
m AS (
    SELECT r._i, p.round_id, p.pushed_on, p.category AS push_category, p.risk_types AS push_risk_types,
           row_number() OVER (PARTITION BY r._i ORDER BY
               (r.pushed_on IS NOT NULL AND p.pushed_on = r.pushed_on) DESC,
               (r.verify_date IS NULL OR p.pushed_on <= r.verify_date) DESC,
               p.pushed_on DESC, p.round_id DESC) AS k
    FROM r JOIN p USING (household_id)
),
dup AS (
    SELECT _i, first_value(source_row) OVER w AS first_row, first_value(verify_result) OVER w AS first_result
    FROM r WHERE verify_result IS NOT NULL
    WINDOW w AS (PARTITION BY household_id ORDER BY source_row)
)
SELECT r.*, reg.county_code AS registry_county_code, reg.monitoring_category AS registry_category,
       reg.risk_eliminated AS registry_eliminated, pa.first_push, pa.recipients,
       m.round_id AS matched_round, m.pushed_on AS matched_pushed_on, m.push_category, m.push_risk_types,
       dup.first_row, dup.first_result,
       reg.household_id IS NOT NULL AS in_registry
FROM r
LEFT JOIN followup_registry_household reg USING (household_id)
LEFT JOIN pa USING (household_id)
LEFT JOIN (SELECT * FROM m WHERE k = 1) m USING (_i)
LEFT JOIN dup USING (_i)
ORDER BY r._i;

-- step: forget
-- whatever an earlier, interrupted attempt left for this file
DELETE FROM feedback_record WHERE file_hash = ${file_hash};
DELETE FROM household_event WHERE file_hash = ${file_hash};
DELETE FROM rejected_row WHERE file_hash = ${file_hash};
DELETE FROM ingested_file WHERE file_hash = ${file_hash};

-- step: records
INSERT INTO feedback_record ({{columns}}) SELECT {{columns}} FROM _fb_rows;

-- step: events
-- The file's events for the household history. An event identical to one an earlier file already gave (same
-- household, type, date, helper or measure) is not added again, nor twice from one file (the first row wins).
INSERT INTO household_event (household_id, event_type, event_date, round_id, details, source, source_file, source_row,
                             file_hash, county_code, category, risk_types, helper_name, measure, included_on)
WITH r AS (SELECT * FROM _fb_rows),
x AS (
    SELECT household_id,
           CASE verify_result WHEN '纳入监测' THEN 'verified_included' WHEN '不纳入' THEN 'verified_rejected' ELSE 'pending' END
               AS event_type,
           verify_date AS event_date, round_id,
           '核实结果：' || verify_result || CASE WHEN verify_result = '纳入监测' THEN coalesce('（' || _event_category || '）', '') ELSE '' END
               || coalesce('，核实人 ' || verifier, '')
               || coalesce('；' || note, '') AS details,
           source_row, county_code,
           CASE WHEN verify_result = '纳入监测' THEN _event_category END AS category,
           CASE WHEN verify_result = '纳入监测' THEN _event_risk_types END AS risk_types,
           NULL::VARCHAR AS helper_name, NULL::VARCHAR AS measure,
           CASE WHEN verify_result = '纳入监测' THEN included_on END AS included_on
    FROM r WHERE verify_result IS NOT NULL
    UNION ALL
    SELECT household_id, 'helper_assigned', helper_date, round_id,
           '帮扶责任人：' || helper_name || CASE WHEN helper_date IS NULL THEN '（安排日期未填）' ELSE '' END,
           source_row, county_code, NULL, NULL, helper_name, NULL, NULL
    FROM r WHERE helper_name IS NOT NULL
    UNION ALL
    SELECT household_id, 'measure', measure_date, round_id,
           '帮扶措施：' || m || CASE WHEN measure_date IS NULL THEN '（落实日期未填）' ELSE '' END,
           source_row, county_code, NULL, NULL, NULL, m, NULL
    FROM (SELECT *, unnest(measures) AS m FROM r WHERE array_length(measures) > 0)
    UNION ALL
    SELECT household_id, 'visit', v, round_id, '入户走访', source_row, county_code, NULL, NULL, NULL, NULL, NULL
    FROM (SELECT *, unnest(visit_dates) AS v FROM r WHERE array_length(visit_dates) > 0)
    UNION ALL
    SELECT household_id, 'approved', county_approved_on, round_id, '县级审定', source_row, county_code, NULL, NULL, NULL, NULL, NULL
    FROM r WHERE county_approved_on IS NOT NULL
    UNION ALL
    SELECT household_id, 'eliminated', eliminated_on, round_id, '风险消除', source_row, county_code, NULL, NULL, NULL, NULL, NULL
    FROM r WHERE eliminated_on IS NOT NULL
)
SELECT y.household_id, y.event_type, y.event_date, y.round_id, y.details, 'feedback', ${file_name}, y.source_row,
       ${file_hash}, y.county_code, y.category, y.risk_types, y.helper_name, y.measure, y.included_on
FROM (
    SELECT x.*, row_number() OVER (PARTITION BY x.household_id, x.event_type, x.event_date, x.helper_name, x.measure
                                   ORDER BY x.source_row) AS k
    FROM x
    WHERE NOT EXISTS (
        SELECT 1 FROM household_event e
        WHERE e.household_id = x.household_id AND e.event_type = x.event_type
          AND e.event_date IS NOT DISTINCT FROM x.event_date
          AND coalesce(e.helper_name, '') = coalesce(x.helper_name, '') AND coalesce(e.measure, '') = coalesce(x.measure, '')
    )
) y
WHERE y.k = 1;

-- step: rejected
INSERT INTO rejected_row (source, source_file, source_row, field, reason, file_hash)
SELECT source, source_file, source_row, field, reason, file_hash FROM _fb_rej;

-- step: record_file
INSERT INTO ingested_file (file_hash, feed, file_name, archived_path, status, rows_in_file, rows_accepted,
                           rows_rejected, rows_skipped, rows_duplicate_event, reason)
VALUES (${file_hash}, ${feed}, ${file_name}, ${archived_path}, 'loaded', ${rows_in_file}, ${rows_accepted},
        ${rows_rejected}, ${rows_skipped}, 0, NULL);
