-- Closing the loop (SPEC §8), part A: county feedback, each household's monitoring history, suppression log.
-- Idempotent (every statement may run on an existing warehouse). Views over these tables: views.sql.

-- One row per accepted row of a feedback file in landing/feedback/ (provenance as in dept_record).
CREATE TABLE IF NOT EXISTS feedback_record (
    source               VARCHAR NOT NULL,     -- 'feedback'
    source_file          VARCHAR NOT NULL,
    source_row           BIGINT NOT NULL,      -- row number a person sees (sheet row / CSV line)
    file_hash            VARCHAR NOT NULL,
    household_id         VARCHAR NOT NULL,
    county               VARCHAR,              -- as written in the row (name), if the sheet has the column
    township             VARCHAR,
    village              VARCHAR,
    head_name            VARCHAR,
    verify_result        VARCHAR,              -- 纳入监测 | 不纳入 | 待核实 | NULL (not verified yet)
    verify_date          DATE,
    verifier             VARCHAR,
    category             VARCHAR,              -- 认定类别 / 监测对象类别 as returned (official values only)
    suggested_category   VARCHAR,              -- 疑似类别 of the returned workbook
    risk_types           VARCHAR[],
    helper_name          VARCHAR,
    helper_date          DATE,
    measures             VARCHAR[],
    measure_date         DATE,
    visit_dates          DATE[],
    included_on          DATE,                 -- 纳入日期 (when the county gives it)
    county_approved_on   DATE,                 -- 县级审定日期
    eliminated_on        DATE,                 -- 风险消除日期
    income               DOUBLE,               -- per-capita net income the county reports (元/人/年)
    pushed_on            DATE,                 -- 推送日期 column of a returned workbook
    note                 VARCHAR,
    namesake_result      VARCHAR,              -- 同名记录核实 of a 同名待确认 household: 是本户 | 不是本户 (issue 12)
    -- resolved when validated against what was pushed
    county_code          VARCHAR,              -- the household's registry county
    reporting_county_code VARCHAR,             -- county that returned the row (county column, else the file name)
    round_id             VARCHAR,              -- the push the row answers (null: follow-up of a registry-monitored household)
    matched_pushed_on    DATE,
    ingested_at          TIMESTAMP DEFAULT current_timestamp
);

-- Append-only history, one row per thing that happened to a household. Written by the feedback loader (one file =
-- one transaction; a rerun replaces that file's rows by file_hash) and by apply_followup ('suspected', keyed by
-- household and round: a rerun of a round refreshes its date, a push is never deleted).
CREATE TABLE IF NOT EXISTS household_event (
    household_id   VARCHAR NOT NULL,
    event_type     VARCHAR NOT NULL,   -- suspected | verified_included | verified_rejected | pending | helper_assigned
                                       -- | measure | visit | approved | eliminated
    event_date     DATE,               -- null = the county gave no date (counted as 日期不详)
    round_id       VARCHAR,            -- the push (suspected) or the push a verification answers
    details        VARCHAR,            -- one line in Chinese
    source         VARCHAR NOT NULL,   -- round | feedback
    source_file    VARCHAR,
    source_row     BIGINT,
    file_hash      VARCHAR,
    county_code    VARCHAR,            -- the household's county
    recipients     VARCHAR[],          -- suspected: counties the household was pushed to (two for 易地搬迁 double routing)
    due_date       DATE,               -- suspected: verify_by of that push
    category       VARCHAR,            -- suspected: suspect_category; verified_included: the category decided
    risk_types     VARCHAR[],
    helper_name    VARCHAR,            -- helper_assigned
    measure        VARCHAR,            -- measure
    included_on    DATE,               -- verified_included: 纳入日期 when given
    evidence_keys  VARCHAR[],          -- suspected: department records behind the push (source|file|row)
    recorded_at    TIMESTAMP DEFAULT current_timestamp
);

-- Households a round did not push again because of an earlier decision (re-push suppression, apply_followup).
CREATE TABLE IF NOT EXISTS followup_suppressed (
    round_id        VARCHAR NOT NULL,
    household_id    VARCHAR NOT NULL,
    county_code     VARCHAR,
    decision        VARCHAR,           -- verified_rejected | verified_included | eliminated
    decision_date   DATE,
    decision_round  VARCHAR,
    suspect_category VARCHAR,          -- what the rules said this round
    reason          VARCHAR
);

-- Columns added after a warehouse was first created (CREATE TABLE IF NOT EXISTS does not add them).
ALTER TABLE feedback_record ADD COLUMN IF NOT EXISTS namesake_result VARCHAR;
