-- Priority-round tables (written only for priority rounds; run after 65_write.sql cleared the round or its counties).
INSERT INTO priority_target BY NAME
SELECT p.round_id, t.county_code, t.county, t.township_code, t.township, t.village_code, t.village, t.reasons,
       t.households, t.tuopin_households, t.monitored_households, t.recent_disaster_records
FROM _ptarget t CROSS JOIN _p p
WHERE fp_in_scope(t.county_code);

INSERT INTO priority_household BY NAME
SELECT p.round_id, h.household_id, h.county_code, h.township_code, h.village_code, h.target_village_code,
       h.target_county_code, h.screening_rank, h.is_suspect, h.suspect_category, h.priority_score,
       fp_cents(h.adjusted_income) AS adjusted_per_capita_income, h.monitoring_line, h.reasons
FROM _phh h CROSS JOIN _p p
WHERE fp_in_scope(h.target_county_code);
