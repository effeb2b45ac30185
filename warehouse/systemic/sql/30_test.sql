-- Systemic-risk watch, part 3: counts per area and quarter, and each area's baselines (docs/DECISIONS.md,
-- "Systemic-risk watch"). Inputs put by the driver: sys_signal(signal, name, feed, unit, kind).

-- step: cells
-- The quarters each signal is looked at in (its feed covers them; below_line: any feed does). Amount signals: each
-- unit's quarterly amount is capped at the ${cap_quantile} quantile of the history's (sys_cap), so one huge bill or
-- one collapsed house does not make a surge, while many ordinary ones do. Per area, signal and quarter (only
-- non-zero cells): n units, v their (capped) sum — what the test and the rates use — and v_raw the uncapped sum.
CREATE OR REPLACE TEMP TABLE sys_signal_quarter AS
SELECT s.signal, q.q_index
FROM sys_signal s
CROSS JOIN sys_quarter q
WHERE EXISTS (SELECT 1 FROM sys_coverage c WHERE c.q_index = q.q_index AND (c.source = s.feed OR s.feed = 'all'));

CREATE OR REPLACE TEMP TABLE sys_cap AS
WITH hist AS (
    SELECT u.signal, quantile_cont(u.x, ${cap_quantile}) AS cap
    FROM sys_unit u
    JOIN sys_signal_quarter sq ON sq.signal = u.signal AND sq.q_index = u.q_index
    WHERE u.q_index >= 1 AND u.x > 0
    GROUP BY u.signal
),
every AS (SELECT signal, quantile_cont(x, ${cap_quantile}) AS cap FROM sys_unit WHERE x > 0 GROUP BY signal)
SELECT s.signal, CASE WHEN s.kind = 'amount' THEN coalesce(h.cap, e.cap) END AS cap
FROM sys_signal s
LEFT JOIN hist h ON h.signal = s.signal
LEFT JOIN every e ON e.signal = s.signal;

CREATE OR REPLACE TEMP TABLE sys_unit_capped AS
SELECT u.signal, u.unit_key, u.household_id, u.q_index, u.x AS x_raw,
       CASE WHEN c.cap IS NULL THEN u.x ELSE least(u.x, c.cap) END AS x
FROM sys_unit u
JOIN sys_cap c ON c.signal = u.signal;

CREATE OR REPLACE TEMP TABLE sys_cell AS
SELECT 'village' AS area_level, h.village_code AS area_code, u.signal, u.q_index,
       CAST(count(*) AS BIGINT) AS n, sum(u.x) AS v, sum(u.x_raw) AS v_raw
FROM sys_unit_capped u JOIN sys_household h ON h.household_id = u.household_id
GROUP BY h.village_code, u.signal, u.q_index
UNION ALL
SELECT 'township', h.township_code, u.signal, u.q_index, CAST(count(*) AS BIGINT), sum(u.x), sum(u.x_raw)
FROM sys_unit_capped u JOIN sys_household h ON h.household_id = u.household_id
GROUP BY h.township_code, u.signal, u.q_index;

-- step: phi
-- Amount signals are tested as compound counts: a sum of amounts X over Poisson-many units has variance λ·E[X²], so
-- the sum divided by phi = E[X²] / E[X] behaves like a count (mean = variance). phi comes from the (capped) units
-- of the history quarters (all quarters when the history has none); 1 for count signals.
CREATE OR REPLACE TEMP TABLE sys_phi AS
WITH hist AS (
    SELECT u.signal, sum(u.x * u.x) AS s2, sum(u.x) AS s1
    FROM sys_unit_capped u
    JOIN sys_signal_quarter sq ON sq.signal = u.signal AND sq.q_index = u.q_index
    WHERE u.q_index >= 1 AND u.x > 0
    GROUP BY u.signal
),
every AS (
    SELECT signal, sum(x * x) AS s2, sum(x) AS s1 FROM sys_unit_capped WHERE x > 0 GROUP BY signal
)
SELECT s.signal,
       CASE WHEN s.kind = 'amount'
            THEN coalesce(h.s2 / nullif(h.s1, 0), e.s2 / nullif(e.s1, 0), 1.0) ELSE 1.0 END AS phi
FROM sys_signal s
LEFT JOIN hist h ON h.signal = s.signal
LEFT JOIN every e ON e.signal = s.signal;

-- step: baselines
-- One row per area (of the levels ${levels}) and signal looked at this quarter, in effective counts y = v / phi:
--   y0          the round's quarter;
--   m           the history quarters held (the feed covers them), hist_y their sum, hist_t = m × persons;
--   r_trail     the trailing history rate per person-quarter, shrunk toward the county's trailing rate r_county
--               by a gamma prior worth ${prior} events: (Y + prior) / (T + prior / r_county). A history with few
--               events leans on the county; a village that always has many (on a river) keeps its own rate;
--   r_same      the same quarter last year (q_index ${same_quarter}), shrunk alike toward the county's same quarter;
--   r_hist      the higher of the two (a flood every summer is not a surge the next summer);
--   r_rest      the rate of the other areas of the county (same level) in the round's quarter.
CREATE OR REPLACE TEMP TABLE sys_baseline AS
WITH grid AS (
    SELECT a.area_level, a.area_code, a.county_code, a.persons, s.signal, p.phi
    FROM sys_area a
    CROSS JOIN sys_signal s
    JOIN sys_phi p ON p.signal = s.signal
    WHERE a.area_level IN (${levels}) AND a.persons > 0
      AND EXISTS (SELECT 1 FROM sys_signal_quarter sq WHERE sq.signal = s.signal AND sq.q_index = 0)
),
hq AS (
    SELECT signal, CAST(count(*) AS INTEGER) AS m,
           CAST(count(*) FILTER (WHERE q_index = ${same_quarter}) AS INTEGER) AS has_same
    FROM sys_signal_quarter WHERE q_index >= 1 GROUP BY signal
),
cur AS (SELECT area_level, area_code, signal, n, v, v_raw FROM sys_cell WHERE q_index = 0),
hist AS (
    SELECT c.area_level, c.area_code, c.signal,
           sum(c.v) AS s1_v,
           sum(CASE WHEN c.q_index = ${same_quarter} THEN c.v ELSE 0 END) AS same_v
    FROM sys_cell c
    JOIN sys_signal_quarter sq ON sq.signal = c.signal AND sq.q_index = c.q_index
    WHERE c.q_index >= 1
    GROUP BY c.area_level, c.area_code, c.signal
),
base AS (
    SELECT g.area_level, g.area_code, g.county_code, g.persons, g.signal, g.phi,
           coalesce(cur.n, 0) AS n0, coalesce(cur.v, 0) AS v0, coalesce(cur.v_raw, 0) AS v0_raw,
           coalesce(h.s1_v, 0) AS s1_v,
           coalesce(hq.m, 0) AS m, coalesce(hq.m, 0) * g.persons AS hist_t,
           CASE WHEN coalesce(hq.has_same, 0) > 0 THEN coalesce(h.same_v, 0) END AS same_v
    FROM grid g
    LEFT JOIN hq ON hq.signal = g.signal
    LEFT JOIN cur ON cur.area_level = g.area_level AND cur.area_code = g.area_code AND cur.signal = g.signal
    LEFT JOIN hist h ON h.area_level = g.area_level AND h.area_code = g.area_code AND h.signal = g.signal
),
county AS (
    SELECT area_level, county_code, signal,
           sum(s1_v) AS c_hist_v, sum(hist_t) AS c_hist_t, sum(same_v) AS c_same_v, sum(persons) AS c_persons,
           sum(v0) AS c_v0
    FROM base
    GROUP BY area_level, county_code, signal
),
rates AS (
    SELECT b.*,
           c.c_hist_v / b.phi / nullif(c.c_hist_t, 0) AS r_county,
           c.c_same_v / b.phi / nullif(c.c_persons, 0) AS r_county_same,
           (c.c_v0 - b.v0) / b.phi / nullif(c.c_persons - b.persons, 0) AS r_rest
    FROM base b
    JOIN county c ON c.area_level = b.area_level AND c.county_code = b.county_code AND c.signal = b.signal
),
shrunk AS (
    SELECT r.*,
           CASE WHEN r.m > 0 AND r.r_county > 0 THEN (r.s1_v / r.phi + ${prior}) / (r.hist_t + ${prior} / r.r_county)
                WHEN r.m > 0 THEN r.s1_v / r.phi / r.hist_t END
               AS r_trail,
           CASE WHEN r.same_v IS NOT NULL AND r.r_county_same > 0
                THEN (r.same_v / r.phi + ${prior}) / (r.persons + ${prior} / r.r_county_same)
                WHEN r.same_v IS NOT NULL THEN r.same_v / r.phi / r.persons END
               AS r_same
    FROM rates r
)
SELECT area_level, area_code, county_code, persons, signal, phi, n0, v0, v0_raw, m, same_v,
       v0 / phi AS y0,
       r_county, r_trail, r_same,
       CASE WHEN r_trail IS NOT NULL THEN greatest(r_trail, coalesce(r_same, r_trail)) END AS r_hist,
       r_rest
FROM shrunk;

-- step: dispersion
-- Extra-Poisson variation of each signal's counts, from the areas' own history (method of moments), after the
-- quarters' common ups and downs: with the county's share s_h of its history in quarter h, an area's expected count
-- in h is Y·s_h (Y = its history total). Under Var(y) = μ + α·μ², E[Σ_h (y_h − Y·s_h)²] = Y·(1 − S) + α·Y²·(S − 2T + S²)
-- (S = Σ s_h², T = Σ s_h³), so α = Σ_areas [Q − Y·(1 − S)] / Σ_areas Y²·(S − 2T + S²), never below 0. A quarter in
-- which every area of a county had more (a season, a department's catch-up extract) does not count as dispersion.
WITH hist AS (
    SELECT c.area_level, c.area_code, a.county_code, c.signal, c.q_index, c.v / p.phi AS y
    FROM sys_cell c
    JOIN sys_signal_quarter sq ON sq.signal = c.signal AND sq.q_index = c.q_index
    JOIN sys_area a ON a.area_level = c.area_level AND a.area_code = c.area_code
    JOIN sys_phi p ON p.signal = c.signal
    WHERE c.q_index >= 1 AND a.area_level IN (${levels})
),
county_q AS (
    SELECT area_level, county_code, signal, q_index, sum(y) AS cy FROM hist
    GROUP BY area_level, county_code, signal, q_index
),
shares AS (
    SELECT q.area_level, q.county_code, q.signal, q.q_index,
           q.cy / sum(q.cy) OVER (PARTITION BY q.area_level, q.county_code, q.signal) AS s
    FROM county_q q
),
moments AS (
    SELECT area_level, county_code, signal, sum(s * s) AS s2, sum(s * s * s) AS s3, count(*) AS quarters
    FROM shares GROUP BY area_level, county_code, signal
),
per_area AS (
    SELECT h.area_level, h.area_code, h.county_code, h.signal,
           sum(h.y) AS y_total, sum(h.y * h.y) AS y2, sum(h.y * sh.s) AS ys
    FROM hist h
    JOIN shares sh ON sh.area_level = h.area_level AND sh.county_code = h.county_code AND sh.signal = h.signal
                  AND sh.q_index = h.q_index
    GROUP BY h.area_level, h.area_code, h.county_code, h.signal
)
SELECT a.area_level, a.signal,
       greatest(sum(a.y2 - 2 * a.y_total * a.ys + a.y_total * a.y_total * m.s2 - a.y_total * (1 - m.s2)), 0)
           / nullif(sum(a.y_total * a.y_total * (m.s2 - 2 * m.s3 + m.s2 * m.s2)), 0) AS alpha,
       CAST(count(*) AS BIGINT) AS areas
FROM per_area a
JOIN moments m ON m.area_level = a.area_level AND m.county_code = a.county_code AND m.signal = a.signal
WHERE m.quarters >= 2
GROUP BY a.area_level, a.signal
ORDER BY a.area_level, a.signal;

-- step: frame
SELECT * FROM sys_baseline ORDER BY area_level, area_code, signal;
