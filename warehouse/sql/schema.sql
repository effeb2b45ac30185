-- Warehouse schema. Idempotent: every statement may run on an existing warehouse.
-- Column contracts: docs/ARCHITECTURE.md. Dates are DATE, amounts DOUBLE (yuan), codes VARCHAR.

CREATE TABLE IF NOT EXISTS ingested_file (
    file_hash            VARCHAR PRIMARY KEY,
    feed                 VARCHAR NOT NULL,
    file_name            VARCHAR NOT NULL,
    archived_path        VARCHAR,
    status               VARCHAR NOT NULL,      -- loaded | quarantined | blocked
    rows_in_file         BIGINT,
    rows_accepted        BIGINT,
    rows_rejected        BIGINT,
    rows_skipped         BIGINT,
    rows_duplicate_event BIGINT,
    reason               VARCHAR,
    ingested_at          TIMESTAMP DEFAULT current_timestamp,
    reason_code          VARCHAR,               -- quarantined: sources.errors.CODES (reader_crash, too_large, …)
    dropped_at           TIMESTAMP,             -- the landing copy's modification time when it was taken in
    superseded_by        VARCHAR                -- file_hash of a later version sent under the same file name
);

CREATE TABLE IF NOT EXISTS rejected_row (
    source      VARCHAR NOT NULL,
    source_file VARCHAR NOT NULL,
    source_row  BIGINT,                          -- null = the whole file
    field       VARCHAR,
    reason      VARCHAR NOT NULL,
    file_hash   VARCHAR
);

CREATE TABLE IF NOT EXISTS village (
    village_code           VARCHAR PRIMARY KEY,
    village                VARCHAR,
    township               VARCHAR,
    county                 VARCHAR,
    township_code          VARCHAR,
    county_code            VARCHAR,
    former_deep_poverty    BOOLEAN,
    resettlement_community BOOLEAN,
    source_file            VARCHAR,
    file_hash              VARCHAR
);

CREATE TABLE IF NOT EXISTS registry_person (
    household_id          VARCHAR NOT NULL,
    county                VARCHAR,
    township              VARCHAR,
    village               VARCHAR,
    village_code          VARCHAR,
    county_code           VARCHAR,
    township_code         VARCHAR,
    name                  VARCHAR,
    name_key              VARCHAR,
    id_raw                VARCHAR,
    id_status             VARCHAR,
    id_number             VARCHAR,
    sex                   VARCHAR,
    birth_date            DATE,
    relation              VARCHAR,
    household_type        VARCHAR,
    monitoring_category   VARCHAR,
    risk_eliminated       VARCHAR,
    identified_month      VARCHAR,
    eliminated_month      VARCHAR,
    labour                VARCHAR,
    health                VARCHAR,
    student               VARCHAR,
    dibao                 VARCHAR,
    tekun                 VARCHAR,
    per_capita_net_income DOUBLE,
    household_size        INTEGER,
    relocated             VARCHAR,
    resettlement_site     VARCHAR,
    hukou_moved           VARCHAR,
    unsafe_housing        VARCHAR,
    safe_water            VARCHAR,
    source_file           VARCHAR,
    source_row            BIGINT,
    file_hash             VARCHAR
);

CREATE TABLE IF NOT EXISTS dept_record (
    source                 VARCHAR NOT NULL,
    source_file            VARCHAR NOT NULL,
    source_row             BIGINT NOT NULL,
    file_hash              VARCHAR NOT NULL,
    event_key              VARCHAR,
    duplicate_event        BOOLEAN DEFAULT false,  -- the same event_key was already received (first file wins)
    superseded             BOOLEAN DEFAULT false,  -- a later version of the same file name replaced this row's file
    name                   VARCHAR,
    name_key               VARCHAR,
    id_raw                 VARCHAR,
    id_status              VARCHAR,
    id_number              VARCHAR,
    id_candidate           VARCHAR,
    birth_date             DATE,
    sex                    VARCHAR,
    county                 VARCHAR,
    township               VARCHAR,
    village                VARCHAR,
    hukou_address          VARCHAR,
    is_head_only           BOOLEAN,
    event_date             DATE,
    settle_date            DATE,
    institution            VARCHAR,
    total_cost             DOUBLE,
    fund_paid              DOUBLE,
    critical_illness_paid  DOUBLE,
    medical_aid_paid       DOUBLE,
    out_of_pocket          DOUBLE,
    visit_type             VARCHAR,
    diagnosis              VARCHAR,
    disaster_type          VARCHAR,
    disaster_date          DATE,
    house_damage           VARCHAR,
    direct_loss            DOUBLE,
    aid_type               VARCHAR,
    approved_on            DATE,
    amount                 DOUBLE,
    status                 VARCHAR,
    event                  VARCHAR,
    previous_workplace     VARCHAR,
    previous_monthly_income DOUBLE,
    property_type          VARCHAR
);

CREATE TABLE IF NOT EXISTS link (
    source       VARCHAR NOT NULL,
    source_file  VARCHAR NOT NULL,
    source_row   BIGINT NOT NULL,
    id_number    VARCHAR,
    household_id VARCHAR,
    match_method VARCHAR NOT NULL,   -- id_exact | id_repaired | fuzzy | review | unmatched
    match_score  DOUBLE,
    reason       VARCHAR,
    candidates   INTEGER
);

-- The candidates of each record sent to review (rank 1 = best), for the county review lists (rewritten by linkage).
CREATE TABLE IF NOT EXISTS link_candidate (
    source VARCHAR, source_file VARCHAR, source_row BIGINT, rank INTEGER, id_number VARCHAR, household_id VARCHAR,
    name VARCHAR, county_code VARCHAR, township_code VARCHAR, village_code VARCHAR, score DOUBLE, detail VARCHAR
);

CREATE TABLE IF NOT EXISTS round (
    round_id       VARCHAR PRIMARY KEY,
    kind           VARCHAR NOT NULL,
    reference_date DATE NOT NULL,
    started_at     TIMESTAMP,
    finished_at    TIMESTAMP,
    status         VARCHAR
);

-- Warehouses created before these columns existed (issue 14: quarantine codes, re-drops, superseded versions).
ALTER TABLE ingested_file ADD COLUMN IF NOT EXISTS reason_code VARCHAR;
ALTER TABLE ingested_file ADD COLUMN IF NOT EXISTS dropped_at TIMESTAMP;
ALTER TABLE ingested_file ADD COLUMN IF NOT EXISTS superseded_by VARCHAR;
ALTER TABLE dept_record ADD COLUMN IF NOT EXISTS superseded BOOLEAN DEFAULT false;
