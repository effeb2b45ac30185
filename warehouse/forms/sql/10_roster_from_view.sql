-- The roster from monitoring_roster (part A of "closing the loop"): the columns of ROSTER_COLUMNS projected by code
-- (parameter columns: NULL for a column the view lacks; names: the column names), one row per household: a
-- monitored row first, then the latest identification.
CREATE OR REPLACE TEMP TABLE _roster_src AS
SELECT {{names}} FROM (
    SELECT *, row_number() OVER (PARTITION BY household_id
                                 ORDER BY CASE WHEN status = 'monitored' THEN 0 ELSE 1 END,
                                          identified_on DESC NULLS LAST) AS _pick
    FROM (
        SELECT {{columns}}
        FROM {{roster}}
        WHERE nullif(trim(CAST(household_id AS VARCHAR)), '') IS NOT NULL
    ) r
) ranked
WHERE _pick = 1;
