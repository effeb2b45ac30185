-- What `fangpin status` and the CLI's summaries print (fangpin/cli.py).

-- step: ingested
SELECT feed, status, count(*) AS files, coalesce(sum(rows_accepted), 0) AS accepted,
       coalesce(sum(rows_rejected), 0) AS rejected
FROM ingested_file GROUP BY feed, status ORDER BY feed, status;

-- step: registry
SELECT count(*) AS persons, count(DISTINCT household_id) AS households FROM registry_person;

-- step: records
SELECT source, count(*) AS n FROM dept_record GROUP BY source ORDER BY source;

-- step: rounds
SELECT round_id, kind, reference_date, status, finished_at FROM round ORDER BY started_at DESC LIMIT 5;

-- step: suspects
SELECT round_id, count(*) AS n FROM suspect GROUP BY round_id;
