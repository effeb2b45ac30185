-- What a round reports about itself (ScreenStats in warehouse/rules/__init__.py), read after 65_write while the
-- round's working relations are still there.

-- step: registry_counties
-- the county keys of the registry ('' = a person without county: the region's thresholds)
SELECT DISTINCT coalesce(county_code, left(village_code, 6), '') AS county_key FROM registry_person;

-- step: counts
-- one row; every column is a ScreenStats field of the same name
SELECT
    (SELECT count(*) FROM _hh) AS households,
    (SELECT count(DISTINCT household_id) FROM _sig) AS households_with_evidence,
    (SELECT count(*) FROM suspect WHERE round_id = ${round_id}) AS suspects,
    (SELECT count(*) FROM suspect_evidence WHERE round_id = ${round_id}) AS evidence_rows,
    (SELECT count(*) FROM suspect WHERE round_id = ${round_id} AND reflagged_eliminated) AS reflagged_eliminated,
    (SELECT count(*) FROM suspect WHERE round_id = ${round_id} AND property_hit) AS property_hits,
    (SELECT count(*) FROM priority_target WHERE round_id = ${round_id}) AS priority_targets,
    (SELECT count(*) FROM priority_household WHERE round_id = ${round_id}) AS priority_households,
    (SELECT count(*) FROM relocation_followup WHERE round_id = ${round_id}) AS relocation_followups,
    (SELECT count(*) FROM (SELECT DISTINCT source, source_file, source_row FROM _cf_pair) x) AS review_records,
    (SELECT count(*) FROM (SELECT DISTINCT source, source_file, source_row FROM _cf_impact WHERE material) x)
        AS review_material,
    (SELECT count(*) FROM suspect WHERE round_id = ${round_id} AND coalesce(pending_namesake, false))
        AS pending_namesake;

-- step: by_category
SELECT suspect_category, count(*) AS n FROM suspect WHERE round_id = ${round_id}
GROUP BY suspect_category ORDER BY suspect_category;

-- step: by_risk_type
SELECT t, count(*) AS n FROM (SELECT unnest(risk_types) AS t FROM suspect WHERE round_id = ${round_id}) x
GROUP BY t ORDER BY t;

-- step: by_county
SELECT coalesce(county_code, '') AS county_code, count(*) AS n FROM suspect WHERE round_id = ${round_id}
GROUP BY coalesce(county_code, '') ORDER BY county_code;
