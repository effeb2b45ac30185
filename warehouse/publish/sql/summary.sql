-- The figures of the round summary (汇总_<round>.html / .xlsx), one query per table or chart.

-- step: info
SELECT count(*) AS households, min(kind) AS kind, min(reference_date) AS reference_date, min(pushed_on) AS pushed_on,
       max(verify_by) AS verify_by,
       count(*) FILTER (WHERE reflagged_eliminated) AS reflagged,
       count(*) FILTER (WHERE property_hit) AS property_hits,
       count(*) FILTER (WHERE double_routed) AS double_routed,
       string_agg(DISTINCT verify_by_note, '；') AS verify_by_notes
FROM suspect WHERE round_id = ${round_id};

-- step: by_category
SELECT suspect_category AS label, count(*) AS n FROM suspect WHERE round_id = ${round_id}
GROUP BY suspect_category ORDER BY n DESC, label;

-- step: by_risk_type
SELECT t AS label, count(*) AS n FROM (SELECT unnest(risk_types) AS t FROM suspect WHERE round_id = ${round_id}) x
GROUP BY t ORDER BY n DESC, label;

-- step: by_county
SELECT county_code, max(county) AS county, count(*) AS households,
       count(*) FILTER (WHERE suspect_category = '监测户新增风险') AS monitored_new_risk,
       count(*) FILTER (WHERE reflagged_eliminated) AS reflagged,
       count(*) FILTER (WHERE double_routed) AS double_routed
FROM suspect WHERE round_id = ${round_id}
GROUP BY county_code ORDER BY county_code;

-- step: matching
SELECT source, count(*) AS records,
       count(*) FILTER (WHERE match_method = 'id_exact') AS id_exact,
       count(*) FILTER (WHERE match_method = 'id_repaired') AS id_repaired,
       count(*) FILTER (WHERE match_method = 'fuzzy') AS fuzzy,
       count(*) FILTER (WHERE match_method = 'review') AS review,
       count(*) FILTER (WHERE match_method = 'unmatched') AS unmatched
FROM link GROUP BY source ORDER BY source;

-- step: quality
SELECT feed, count(*) AS files,
       count(*) FILTER (WHERE status = 'loaded') AS loaded,
       count(*) FILTER (WHERE status = 'blocked') AS blocked,
       count(*) FILTER (WHERE status = 'quarantined') AS quarantined,
       coalesce(sum(rows_in_file), 0) AS rows_in_file,
       coalesce(sum(rows_accepted), 0) AS rows_accepted,
       coalesce(sum(rows_rejected), 0) AS rows_rejected,
       coalesce(sum(rows_skipped), 0) AS rows_skipped,
       coalesce(sum(rows_duplicate_event), 0) AS rows_duplicate_event
FROM ingested_file GROUP BY feed ORDER BY feed;

-- step: reasons
SELECT source, reason, count(*) AS n FROM rejected_row GROUP BY source, reason ORDER BY n DESC, source, reason LIMIT 30;
