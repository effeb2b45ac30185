-- Round tables of the systemic-risk watch (warehouse/systemic). Idempotent; one round = the rows with its round_id.

-- systemic_flag: one row per flagged area and signal. The columns of SPEC §7 systemic_risk.parquet first
-- (area_level … households_near_line), then extras. Rates per 1,000 registry persons in the round's quarter (amount
-- signals: yuan per 1,000 persons, each unit's amount capped at amount_cap); baseline_rate = the higher of history_rate (the area's own, shrunk toward its
-- county) and county_rate (the other areas of its county this quarter).
CREATE TABLE IF NOT EXISTS systemic_flag (
    round_id             VARCHAR NOT NULL,
    area_level           VARCHAR NOT NULL,     -- township | village
    area_code            VARCHAR NOT NULL,
    area_name            VARCHAR,
    county               VARCHAR,
    signal               VARCHAR NOT NULL,
    count                BIGINT,               -- persons or households with the signal this quarter
    rate                 DOUBLE,
    baseline_rate        DOUBLE,
    ratio                DOUBLE,
    p_value              DOUBLE,
    households_near_line BIGINT,
    -- extras
    quarter              VARCHAR,              -- the quarter looked at, e.g. 2026Q3 for round 2026Q4
    county_code          VARCHAR,
    township_code        VARCHAR,
    township             VARCHAR,
    signal_name          VARCHAR,
    unit                 VARCHAR,              -- person | household
    kind                 VARCHAR,              -- count | amount
    value                DOUBLE,               -- amount signals: the yuan (uncapped); count signals: = count
    amount_cap           DOUBLE,               -- amount signals: a unit's quarterly amount counts up to this in the
                                               -- rates and the test (history quantile model.amount_cap_quantile)
    history_rate         DOUBLE,
    county_rate          DOUBLE,
    same_quarter_rate    DOUBLE,               -- the same quarter last year, unshrunk (null when not held)
    expected             DOUBLE,               -- baseline_rate × persons / 1000
    q_value              DOUBLE,               -- Benjamini–Hochberg adjusted p-value over the round's tests
    dispersion           DOUBLE,               -- α of the negative binomial (0 = Poisson)
    persons              BIGINT,
    households           BIGINT,
    history_quarters     INTEGER
);

-- systemic_history: the quarterly rates of each flagged area and signal (the round's quarter = q_index 0) with its
-- county's rate, for the summary's chart.
CREATE TABLE IF NOT EXISTS systemic_history (
    round_id    VARCHAR NOT NULL,
    area_level  VARCHAR NOT NULL,
    area_code   VARCHAR NOT NULL,
    signal      VARCHAR NOT NULL,
    q_index     INTEGER NOT NULL,
    quarter     VARCHAR,
    count       BIGINT,
    value       DOUBLE,                          -- uncapped (amount signals)
    rate        DOUBLE,                          -- per 1,000 persons, capped like the test
    county_rate DOUBLE
);

-- systemic_survey: the special-survey list (专项调查名单) — households of flagged areas that are not suspects of the
-- round and sit close to the line or carry a surging signal, ranked within their county (survey_rank 1 = first).
CREATE TABLE IF NOT EXISTS systemic_survey (
    round_id           VARCHAR NOT NULL,
    household_id       VARCHAR NOT NULL,
    county_code        VARCHAR,
    township_code      VARCHAR,
    village_code       VARCHAR,
    county             VARCHAR,
    township           VARCHAR,
    village            VARCHAR,
    head_name          VARCHAR,
    household_size     INTEGER,
    household_type     VARCHAR,
    monitoring_category VARCHAR,
    base_income        DOUBLE,
    adjusted_income    DOUBLE,               -- estimated: last year's income less this window's rigid spending
    monitoring_line    DOUBLE,
    gap_to_line        DOUBLE,               -- (adjusted_income − line) / line
    near_line          BOOLEAN,
    carries_signal     BOOLEAN,
    signals            VARCHAR,              -- names of the flagged signals of its areas
    carried_signals    VARCHAR,              -- names of those it carries this quarter
    areas              VARCHAR,              -- the flagged areas it belongs to, in words
    reason             VARCHAR,
    rank_group         INTEGER,              -- 1 near the line and carries the signal, 2 near the line, 3 carries it
    survey_rank        INTEGER
);

-- systemic_run: one row per round the watch looked at (a round without a row was not looked at: its summary says
-- nothing about systemic risk rather than "nothing found").
CREATE TABLE IF NOT EXISTS systemic_run (
    round_id           VARCHAR NOT NULL,
    quarter            VARCHAR,
    tests              BIGINT,
    flags              BIGINT,
    villages           BIGINT,
    flagged_villages   BIGINT,
    survey_households  BIGINT,
    finished_at        TIMESTAMP
);

-- Columns added after a warehouse first held these tables (CREATE TABLE IF NOT EXISTS does not add them).
ALTER TABLE systemic_flag ADD COLUMN IF NOT EXISTS amount_cap DOUBLE;
