-- What the linkage and screening assets report about a run (assets/screening.py).

-- step: match_rates
SELECT source, count(*) AS n,
       count(*) FILTER (WHERE match_method IN ('id_exact', 'id_repaired', 'fuzzy')) AS linked,
       count(*) FILTER (WHERE match_method = 'review') AS review,
       count(*) FILTER (WHERE match_method = 'unmatched') AS unmatched
FROM link GROUP BY source ORDER BY source;

-- step: round_known
SELECT count(*) AS n FROM round WHERE round_id = ${round_id};

-- step: suspects_by_county
-- counties: the registry codes of the run's scope (all_counties = the whole round)
SELECT coalesce(county_code, '') AS county_code, count(*) AS n
FROM suspect
WHERE round_id = ${round_id} AND (${all_counties} OR coalesce(county_code IN (${counties}), false))
GROUP BY coalesce(county_code, '') ORDER BY county_code;

-- step: without_evidence
SELECT s.household_id FROM suspect s
WHERE s.round_id = ${round_id} AND (${all_counties} OR coalesce(s.county_code IN (${counties}), false))
  AND NOT EXISTS (SELECT 1 FROM suspect_evidence e WHERE e.round_id = s.round_id AND e.household_id = s.household_id)
ORDER BY s.household_id;

-- step: registry_counties
SELECT DISTINCT coalesce(county_code, left(village_code, 6)) AS county_code FROM registry_person;

-- step: routed_counties
-- every county a round's list goes to (the registry county, and both counties of a double-routed household)
SELECT county_code FROM suspect WHERE round_id = ${round_id}
UNION SELECT live_county_code FROM suspect WHERE round_id = ${round_id} AND double_routed
UNION SELECT hukou_county_code FROM suspect WHERE round_id = ${round_id} AND double_routed;
