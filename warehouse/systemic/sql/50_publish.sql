-- Systemic-risk watch, part 5: what a round publishes (systemic_risk.parquet, the county workbooks, the summary).

-- step: flags
SELECT * FROM systemic_flag WHERE round_id = ${round_id}
ORDER BY county_code, area_level DESC, township_code, area_code, p_value, signal;

-- step: history
SELECT h.area_level, h.area_code, f.area_name, f.county, h.signal, f.signal_name, f.unit, f.kind, h.q_index,
       h.quarter, h.count, h.value, h.rate, h.county_rate, f.baseline_rate, f.p_value
FROM systemic_history h
JOIN systemic_flag f ON f.round_id = h.round_id AND f.area_level = h.area_level AND f.area_code = h.area_code
                    AND f.signal = h.signal
WHERE h.round_id = ${round_id}
ORDER BY f.p_value, h.area_level DESC, h.area_code, h.signal, h.q_index DESC;

-- step: survey
SELECT * FROM systemic_survey WHERE round_id = ${round_id}
ORDER BY county_code, survey_rank;

-- step: run
SELECT quarter, tests, flags, villages, flagged_villages, survey_households FROM systemic_run
WHERE round_id = ${round_id};

-- step: counties
-- The counties of the registry (each gets its workbook, with or without flagged areas).
SELECT DISTINCT coalesce(county_code, substr(village_code, 1, 6)) AS county_code
FROM registry_person
WHERE coalesce(county_code, village_code) IS NOT NULL
ORDER BY county_code;
