-- What the follow-up outputs (warehouse/publish/followup.py) read besides the warehouse.followup tables.

-- step: counties
-- every county of the registry (each gets its follow-up workbooks, empty or not)
SELECT DISTINCT coalesce(county_code, left(village_code, 6)) AS county_code
FROM registry_person
WHERE village_code IS NOT NULL AND coalesce(county_code, left(village_code, 6)) IS NOT NULL;

-- step: roster
-- the monitoring roster's columns the 县级审定 batch shows
SELECT household_id, household_size, category, risk_types, helper_name FROM monitoring_roster;
