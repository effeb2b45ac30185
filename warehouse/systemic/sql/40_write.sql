-- Systemic-risk watch, part 4: the round's flags, their history and the special-survey lists, written to the round
-- tables (tables.sql). Inputs: sys_result(area_level, area_code, signal, alpha, rate, history_rate, county_rate,
-- baseline_rate, ratio, expected, p_value, q_value, flagged) from the driver's test; sys_signal (with name, unit,
-- kind); sys_county(county_code, county).

-- step: suspects
-- The round's suspects (never on a survey list: they are on the county's suspect list already).
CREATE OR REPLACE TEMP TABLE sys_suspect AS
SELECT DISTINCT household_id FROM suspect WHERE round_id = ${round_id};

-- step: no_suspects
CREATE OR REPLACE TEMP TABLE sys_suspect (household_id VARCHAR);

-- step: survey
-- Households of each flagged area (a household of a flagged village in a flagged township belongs to both), whether
-- they carry the flagged signal this quarter, their estimated adjusted income against the line.
CREATE OR REPLACE TEMP TABLE sys_member AS
WITH flagged AS (
    SELECT r.area_level, r.area_code, r.signal FROM sys_result r WHERE r.flagged
),
members AS (
    SELECT h.household_id, f.area_level, f.area_code, f.signal
    FROM flagged f JOIN sys_household h ON h.village_code = f.area_code
    WHERE f.area_level = 'village'
    UNION ALL
    SELECT h.household_id, f.area_level, f.area_code, f.signal
    FROM flagged f JOIN sys_household h ON h.township_code = f.area_code
    WHERE f.area_level = 'township'
),
carried AS (SELECT DISTINCT signal, household_id FROM sys_unit WHERE q_index = 0)
SELECT m.household_id, m.area_level, m.area_code, m.signal,
       c.household_id IS NOT NULL AS carries,
       a.adjusted_income < (1 + ${margin}) * a.monitoring_line AS near_line
FROM members m
JOIN sys_household h ON h.household_id = m.household_id
JOIN sys_adjusted a ON a.household_id = m.household_id AND a.q_index = 0
LEFT JOIN carried c ON c.signal = m.signal AND c.household_id = m.household_id
WHERE m.household_id NOT IN (SELECT household_id FROM sys_suspect)
  AND (${include_monitored} OR NOT h.monitored_active);

DELETE FROM systemic_survey WHERE round_id = ${round_id};

INSERT INTO systemic_survey (
    round_id, household_id, county_code, township_code, village_code, county, township, village, head_name,
    household_size, household_type, monitoring_category, base_income, adjusted_income, monitoring_line, gap_to_line,
    near_line, carries_signal, signals, carried_signals, areas, reason, rank_group, survey_rank
)
WITH per_household AS (
    SELECT m.household_id,
           bool_or(m.near_line) AS near_line,
           bool_or(m.carries) AS carries_signal,
           string_agg(DISTINCT s.name, '、' ORDER BY s.name) AS signals,
           string_agg(DISTINCT CASE WHEN m.carries THEN s.name END, '、' ORDER BY CASE WHEN m.carries THEN s.name END)
               AS carried_signals,
           string_agg(DISTINCT ar.area_name || CASE WHEN m.area_level = 'township' THEN '（乡镇）' ELSE '（村）' END,
                      '、' ORDER BY ar.area_name || CASE WHEN m.area_level = 'township' THEN '（乡镇）' ELSE '（村）' END)
               AS areas
    FROM sys_member m
    JOIN sys_signal s ON s.signal = m.signal
    JOIN sys_area ar ON ar.area_level = m.area_level AND ar.area_code = m.area_code
    GROUP BY m.household_id
),
listed AS (
    SELECT p.*, h.county_code, h.township_code, h.village_code, h.township, h.village, h.head_name, h.persons,
           h.household_type, h.monitoring_category, h.base_income, a.adjusted_income, a.monitoring_line,
           (a.adjusted_income - a.monitoring_line) / a.monitoring_line AS gap_to_line,
           CASE WHEN p.near_line AND p.carries_signal THEN 1 WHEN p.near_line THEN 2 ELSE 3 END AS rank_group
    FROM per_household p
    JOIN sys_household h ON h.household_id = p.household_id
    JOIN sys_adjusted a ON a.household_id = p.household_id AND a.q_index = 0
    WHERE p.near_line OR p.carries_signal
)
SELECT ${round_id}, l.household_id, l.county_code, l.township_code, l.village_code,
       coalesce(c.county, l.county_code), l.township, l.village, l.head_name, l.persons, l.household_type,
       l.monitoring_category, l.base_income, l.adjusted_income, l.monitoring_line, l.gap_to_line,
       l.near_line, l.carries_signal, l.signals, l.carried_signals, l.areas,
       CASE WHEN l.adjusted_income < l.monitoring_line THEN '估算调整后人均收入已低于监测线（本轮无疑似信号）'
            WHEN l.near_line THEN '接近监测线（高出 ' || CAST(round(100 * l.gap_to_line) AS INTEGER) || '%）'
            ELSE '' END
       || CASE WHEN l.carries_signal
               THEN CASE WHEN l.near_line THEN '；' ELSE '' END || '本季度有' || l.carried_signals || '记录'
               ELSE '' END,
       l.rank_group,
       CAST(row_number() OVER (PARTITION BY l.county_code
                               -- the gap rounded: a parallel sum of doubles differs in the last bits between runs, and
                               -- equal gaps must fall back on the household number, not on that noise
                               ORDER BY l.rank_group, round(l.gap_to_line, 6), l.household_id) AS INTEGER)
FROM listed l
LEFT JOIN sys_county c ON c.county_code = l.county_code;

-- step: flags
DELETE FROM systemic_flag WHERE round_id = ${round_id};

INSERT INTO systemic_flag (
    round_id, area_level, area_code, area_name, county, signal, count, rate, baseline_rate, ratio, p_value,
    households_near_line, quarter, county_code, township_code, township, signal_name, unit, kind, value, amount_cap,
    history_rate, county_rate, same_quarter_rate, expected, q_value, dispersion, persons, households, history_quarters
)
WITH near AS (
    SELECT m.area_level, m.area_code, CAST(count(DISTINCT m.household_id) AS BIGINT) AS households_near_line
    FROM sys_member m
    WHERE m.near_line
    GROUP BY m.area_level, m.area_code
)
SELECT ${round_id} AS round_id, r.area_level, r.area_code, ar.area_name,
       coalesce(c.county, b.county_code) AS county, r.signal, b.n0 AS count, r.rate, r.baseline_rate, r.ratio,
       r.p_value, coalesce(nr.households_near_line, 0) AS households_near_line,
       ${quarter} AS quarter, b.county_code, ar.township_code, ar.township, s.name AS signal_name, s.unit, s.kind,
       b.v0_raw AS value, cp.cap AS amount_cap, r.history_rate, r.county_rate,
       CASE WHEN b.same_v IS NOT NULL THEN 1000 * b.same_v / b.persons END AS same_quarter_rate,
       r.expected, r.q_value, r.alpha AS dispersion, b.persons, ar.households, b.m AS history_quarters
FROM sys_result r
JOIN sys_baseline b ON b.area_level = r.area_level AND b.area_code = r.area_code AND b.signal = r.signal
JOIN sys_area ar ON ar.area_level = r.area_level AND ar.area_code = r.area_code
JOIN sys_signal s ON s.signal = r.signal
JOIN sys_cap cp ON cp.signal = r.signal
LEFT JOIN sys_county c ON c.county_code = b.county_code
LEFT JOIN near nr ON nr.area_level = r.area_level AND nr.area_code = r.area_code
WHERE r.flagged;

-- step: history
-- Every quarter held for each flagged area and signal: its rate and its county's (all areas of the level).
DELETE FROM systemic_history WHERE round_id = ${round_id};

INSERT INTO systemic_history (round_id, area_level, area_code, signal, q_index, quarter, count, value, rate, county_rate)
WITH flagged AS (SELECT area_level, area_code, signal FROM sys_result WHERE flagged),
county_q AS (
    SELECT a.area_level, a.county_code, c.signal, c.q_index, sum(c.v) AS v
    FROM sys_cell c JOIN sys_area a ON a.area_level = c.area_level AND a.area_code = c.area_code
    GROUP BY a.area_level, a.county_code, c.signal, c.q_index
),
county_p AS (
    SELECT area_level, county_code, sum(persons) AS persons FROM sys_area GROUP BY area_level, county_code
)
SELECT ${round_id} AS round_id, f.area_level, f.area_code, f.signal, sq.q_index, q.label AS quarter,
       coalesce(c.n, 0) AS count, coalesce(c.v_raw, 0) AS value,
       1000 * coalesce(c.v, 0) / a.persons AS rate,
       1000 * coalesce(cq.v, 0) / cp.persons AS county_rate
FROM flagged f
JOIN sys_area a ON a.area_level = f.area_level AND a.area_code = f.area_code
JOIN sys_signal_quarter sq ON sq.signal = f.signal
JOIN sys_quarter q ON q.q_index = sq.q_index
JOIN county_p cp ON cp.area_level = a.area_level AND cp.county_code = a.county_code
LEFT JOIN sys_cell c ON c.area_level = f.area_level AND c.area_code = f.area_code AND c.signal = f.signal
                    AND c.q_index = sq.q_index
LEFT JOIN county_q cq ON cq.area_level = a.area_level AND cq.county_code = a.county_code AND cq.signal = f.signal
                     AND cq.q_index = sq.q_index;

-- step: run
DELETE FROM systemic_run WHERE round_id = ${round_id};
INSERT INTO systemic_run (round_id, quarter, tests, flags, villages, flagged_villages, survey_households, finished_at)
VALUES (${round_id}, ${quarter}, ${tests}, ${flags}, ${villages}, ${flagged_villages}, ${survey_households},
        current_timestamp);

-- step: drop
DROP TABLE IF EXISTS sys_household;
DROP TABLE IF EXISTS sys_area;
DROP TABLE IF EXISTS sys_record;
DROP TABLE IF EXISTS sys_coverage;
DROP TABLE IF EXISTS sys_unit;
DROP TABLE IF EXISTS sys_spend;
DROP TABLE IF EXISTS sys_adjusted;
DROP TABLE IF EXISTS sys_signal_quarter;
DROP TABLE IF EXISTS sys_cap;
DROP TABLE IF EXISTS sys_unit_capped;
DROP TABLE IF EXISTS sys_cell;
DROP TABLE IF EXISTS sys_phi;
DROP TABLE IF EXISTS sys_baseline;
DROP TABLE IF EXISTS sys_member;
DROP TABLE IF EXISTS sys_suspect;
DROP TABLE IF EXISTS sys_result;
DROP TABLE IF EXISTS sys_signal;
DROP TABLE IF EXISTS sys_quarter;
DROP TABLE IF EXISTS sys_offset;
DROP TABLE IF EXISTS sys_line;
DROP TABLE IF EXISTS sys_county;
