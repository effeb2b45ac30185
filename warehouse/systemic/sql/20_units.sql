-- Systemic-risk watch, part 2: the units each signal counts, per quarter — sys_unit(signal, unit_key, household_id,
-- q_index, x). A unit is a registry person or a household (config ``signals.<name>.unit``); x = 1 for a count signal,
-- the unit's amount in the quarter (yuan) for an amount signal. The driver runs the steps of the configured signals.

-- step: init
CREATE OR REPLACE TEMP TABLE sys_unit (
    signal VARCHAR, unit_key VARCHAR, household_id VARCHAR, q_index INTEGER, x DOUBLE
);

-- step: medical_claims
-- Persons with a settlement carrying out-of-pocket spending.
INSERT INTO sys_unit
SELECT 'medical_claims', person_key, min(household_id), q_index, 1.0
FROM sys_record
WHERE source = 'medical' AND coalesce(oop, 0) >= ${min_out_of_pocket}
GROUP BY person_key, q_index;

-- step: medical_oop
-- Out-of-pocket spending per person and quarter.
INSERT INTO sys_unit
SELECT 'medical_oop', person_key, min(household_id), q_index, sum(oop)
FROM sys_record
WHERE source = 'medical' AND coalesce(oop, 0) >= ${min_out_of_pocket}
GROUP BY person_key, q_index;

-- step: disaster_houses
-- Households whose house was damaged (config house_damage_pattern: collapsed, severely or generally damaged).
INSERT INTO sys_unit
SELECT 'disaster_houses', household_id, household_id, q_index, 1.0
FROM sys_record
WHERE source = 'disaster' AND regexp_matches(coalesce(house_damage, ''), ${house_damage_pattern})
GROUP BY household_id, q_index;

-- step: disaster_loss
-- Direct disaster losses per household and quarter.
INSERT INTO sys_unit
SELECT 'disaster_loss', household_id, household_id, q_index, sum(direct_loss)
FROM sys_record
WHERE source = 'disaster' AND coalesce(direct_loss, 0) > 0
GROUP BY household_id, q_index;

-- step: job_loss
-- Persons registered unemployed, back home or with their work interrupted.
INSERT INTO sys_unit
SELECT 'job_loss', person_key, min(household_id), q_index, 1.0
FROM sys_record
WHERE source = 'employment' AND regexp_matches(coalesce(event, ''), ${event_pattern})
GROUP BY person_key, q_index;

-- step: new_aid
-- Households newly granted rural social aid (renewals and stops are not new).
INSERT INTO sys_unit
SELECT 'new_aid', household_id, household_id, q_index, 1.0
FROM sys_record
WHERE source = 'civil_affairs'
  AND regexp_matches(coalesce(aid_type, ''), ${aid_type_pattern})
  AND NOT regexp_matches(coalesce(aid_type, ''), ${aid_type_exclude})
  AND NOT regexp_matches(coalesce(status, ''), ${status_exclude})
GROUP BY household_id, q_index;

-- step: spend
-- Rigid spending of each household in the evidence window ending at each quarter's end (SPEC §6.1, as the rules
-- count it: medical out-of-pocket + disaster loss + lost wages = previous monthly income × months, once per member
-- able to work with a job-loss event): a record of quarter j falls in the windows ending with quarters j, j-1, …
-- (sys_offset holds 0 … window quarters - 1). sys_spend(household_id, q_index, spending).
-- The two parts expand their own rows over the windows: one expansion shared by both was materialised whole (every
-- column of every record, once per window: half of the step at province size).
CREATE OR REPLACE TEMP TABLE sys_spend AS
WITH money AS (
    SELECT r.household_id, r.q_index - o.k AS w_index,
           sum(CASE WHEN r.source = 'medical' THEN coalesce(r.oop, 0)
                    WHEN r.source = 'disaster' THEN coalesce(r.direct_loss, 0) ELSE 0 END) AS spending
    FROM sys_record r
    CROSS JOIN sys_offset o
    WHERE r.q_index - o.k >= 0 AND r.source IN ('medical', 'disaster')
    GROUP BY r.household_id, r.q_index - o.k
),
wages AS (
    SELECT w.household_id, w.q_index - o.k AS w_index, w.person_key,
           max(coalesce(w.previous_monthly_income, 0)) * min(ln.lost_wage_months) AS lost
    FROM sys_record w
    CROSS JOIN sys_offset o
    JOIN sys_household h ON h.household_id = w.household_id
    JOIN sys_line ln ON ln.county_code = h.county_code
    LEFT JOIN registry_person p ON p.household_id = w.household_id AND p.id_number = w.id_number
    WHERE w.q_index - o.k >= 0
      AND w.source = 'employment' AND regexp_matches(coalesce(w.event, ''), ${event_pattern})
      AND NOT coalesce(trim(p.labour) IN ('丧失劳动力', '无劳动力'), false)
    GROUP BY w.household_id, w.q_index - o.k, w.person_key
),
parts AS (
    SELECT household_id, w_index, spending FROM money
    UNION ALL
    SELECT household_id, w_index, lost FROM wages
)
SELECT household_id, w_index AS q_index, sum(spending) AS spending
FROM parts
GROUP BY household_id, w_index;

-- step: adjusted
-- Estimated adjusted per-capita income of every household at the end of every quarter looked at (households without
-- spending keep last year's income), and whether it is below the line. sys_adjusted(household_id, q_index,
-- adjusted_income, monitoring_line, below, base_below).
CREATE OR REPLACE TEMP TABLE sys_adjusted AS
SELECT h.household_id, q.q_index,
       (coalesce(h.base_income, 0) * h.persons - coalesce(s.spending, 0)) / h.persons AS adjusted_income,
       ln.monitoring_line,
       (coalesce(h.base_income, 0) * h.persons - coalesce(s.spending, 0)) / h.persons < ln.monitoring_line AS below,
       coalesce(h.base_income, 0) < ln.monitoring_line AS base_below
FROM sys_household h
CROSS JOIN sys_quarter q
JOIN sys_line ln ON ln.county_code = h.county_code
LEFT JOIN sys_spend s ON s.household_id = h.household_id AND s.q_index = q.q_index
WHERE h.persons > 0
  AND (q.q_index = 0 OR h.household_id IN (SELECT household_id FROM sys_spend));

-- step: below_line
-- A shared shock: households below the line at a quarter's end that were not at the end of the quarter before
-- (before the oldest quarter looked at: where last year's income alone puts it).
INSERT INTO sys_unit
SELECT 'below_line', a.household_id, a.household_id, a.q_index, 1.0
FROM sys_adjusted a
LEFT JOIN sys_adjusted b ON b.household_id = a.household_id AND b.q_index = a.q_index + 1
WHERE a.below AND NOT coalesce(b.below, a.base_below)
  AND a.household_id IN (SELECT household_id FROM sys_spend);
