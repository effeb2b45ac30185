-- Not a priority round: no target villages (SPEC §6.4 lists them in Q1/Q3 rounds only); the round selection
-- (60_round.sql) still reads _phh.
CREATE OR REPLACE TEMP TABLE _phh AS
SELECT CAST(NULL AS VARCHAR) AS household_id, CAST(NULL AS VARCHAR) AS target_county_code WHERE false;
