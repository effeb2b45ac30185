-- Round-scoped output tables of the risk rules (warehouse/rules). Idempotent; one round = rows with its round_id.
-- suspect: the columns of SPEC §7 suspects.parquet first, then extras for the workbooks.

CREATE TABLE IF NOT EXISTS suspect (
    round_id                   VARCHAR NOT NULL,
    household_id               VARCHAR NOT NULL,
    county_code                VARCHAR,
    township_code              VARCHAR,
    village_code               VARCHAR,
    household_type             VARCHAR,
    monitoring_category        VARCHAR,      -- from the registry
    suspect_category           VARCHAR,      -- 脱贫不稳定户 | 边缘易致贫户 | 突发严重困难户 | 监测户新增风险
    risk_types                 VARCHAR[],    -- official values, at most max_risk_types (5), in risk_type_order
    base_per_capita_income     DOUBLE,
    adjusted_per_capita_income DOUBLE,
    monitoring_line            DOUBLE,
    priority_score             DOUBLE,
    pushed_on                  DATE,
    verify_by                  DATE,
    -- extras
    kind                       VARCHAR,
    reference_date             DATE,
    verify_by_note             VARCHAR,      -- set when the holiday calendar did not know the year (weekends-only)
    county                     VARCHAR,
    township                   VARCHAR,
    village                    VARCHAR,
    head_name                  VARCHAR,
    household_size             INTEGER,
    risk_eliminated            VARCHAR,
    property_hit               BOOLEAN,
    reflagged_eliminated       BOOLEAN,
    relocated                  BOOLEAN,
    resettlement_site          VARCHAR,
    hukou_moved                BOOLEAN,
    live_county_code           VARCHAR,      -- where the household lives (resettlement community's county if relocated)
    live_township_code         VARCHAR,
    hukou_county_code          VARCHAR,      -- hukou location (relocated households whose hukou did not move)
    hukou_township_code        VARCHAR,
    hukou_source               VARCHAR,      -- 户籍登记 | 身份证号码地址码推断 | null
    double_routed              BOOLEAN,      -- relocated, hukou not moved out: screened where it lives AND routed to hukou place
    medical_out_of_pocket      DOUBLE,
    disaster_loss              DOUBLE,
    lost_wages                 DOUBLE,
    rigid_spending             DOUBLE,
    reason_summary             VARCHAR,      -- why, in words for a village official
    new_evidence_summary       VARCHAR,
    evidence_count             INTEGER,
    pending_namesake           BOOLEAN,      -- 同名待确认: on the list only because of ambiguous record(s), see below
    pending_records            VARCHAR[],    -- those records (source|source_file|source_row), or material ones
    pending_check              VARCHAR       -- what to check at the visit (Chinese)
);

CREATE TABLE IF NOT EXISTS suspect_evidence (
    round_id      VARCHAR NOT NULL,
    household_id  VARCHAR NOT NULL,
    source        VARCHAR NOT NULL,   -- feed (medical, disaster, civil_affairs, employment, property) or registry
    source_file   VARCHAR,
    source_row    BIGINT,
    summary       VARCHAR,
    amount        DOUBLE,
    risk_type     VARCHAR,            -- the flag this record supports; null = context (rigid spending, property hit)
    event_date    DATE,
    member_name   VARCHAR,
    id_number     VARCHAR,
    match_method  VARCHAR,
    match_score   DOUBLE,
    is_new        BOOLEAN            -- from a file loaded since the last published round (incremental rounds)
);

CREATE TABLE IF NOT EXISTS priority_target (
    round_id          VARCHAR NOT NULL,
    county_code       VARCHAR,
    county            VARCHAR,
    township_code     VARCHAR,
    township          VARCHAR,
    village_code      VARCHAR NOT NULL,
    village           VARCHAR,
    reasons           VARCHAR[],
    households        INTEGER,
    tuopin_households INTEGER,
    monitored_households INTEGER,
    recent_disaster_records INTEGER
);

CREATE TABLE IF NOT EXISTS priority_household (
    round_id                   VARCHAR NOT NULL,
    household_id               VARCHAR NOT NULL,
    county_code                VARCHAR,
    township_code              VARCHAR,
    village_code               VARCHAR,
    target_village_code        VARCHAR,
    target_county_code         VARCHAR,      -- county of the target village: whose list (and rerun) the row belongs to
    screening_rank             INTEGER,      -- 1 = screen first, within the target village's county
    is_suspect                 BOOLEAN,
    suspect_category           VARCHAR,
    priority_score             DOUBLE,
    adjusted_per_capita_income DOUBLE,
    monitoring_line            DOUBLE,
    reasons                    VARCHAR[]
);

CREATE TABLE IF NOT EXISTS relocation_followup (
    round_id                   VARCHAR NOT NULL,
    household_id               VARCHAR NOT NULL,
    site_key                   VARCHAR,
    resettlement_site          VARCHAR,
    live_county_code           VARCHAR,
    hukou_county_code          VARCHAR,
    hukou_moved                BOOLEAN,
    adjusted_per_capita_income DOUBLE,
    monitoring_line            DOUBLE,
    rank_in_site               INTEGER,
    households_in_site         INTEGER,
    reason                     VARCHAR
);

-- Columns added after a warehouse was first created (CREATE TABLE IF NOT EXISTS does not add them).
ALTER TABLE priority_household ADD COLUMN IF NOT EXISTS target_county_code VARCHAR;
ALTER TABLE suspect ADD COLUMN IF NOT EXISTS pending_namesake BOOLEAN;
ALTER TABLE suspect ADD COLUMN IF NOT EXISTS pending_records VARCHAR[];
ALTER TABLE suspect ADD COLUMN IF NOT EXISTS pending_check VARCHAR;

-- Risk-aware review (36_impact.sql): one row per (record left for review, candidate) and round — what attaching the
-- record to that candidate would change in the household's screening result. material = it changes the result of a
-- plausible candidate (county review list 待核实匹配清单); new_flag = only this record would flag the household
-- (同名待确认).
CREATE TABLE IF NOT EXISTS review_impact (
    round_id             VARCHAR NOT NULL,
    source               VARCHAR NOT NULL,
    source_file          VARCHAR NOT NULL,
    source_row           BIGINT NOT NULL,
    rank                 INTEGER,      -- the candidate's rank in link_candidate
    household_id         VARCHAR NOT NULL,
    id_number            VARCHAR,      -- the candidate person
    cand_name            VARCHAR,
    county_code          VARCHAR,      -- the candidate's county (whose list may name it)
    base_category        VARCHAR,      -- the household's result without the record
    base_risk_types      VARCHAR[],
    cf_category          VARCHAR,      -- ... and with it
    cf_risk_types        VARCHAR[],
    base_priority_score  DOUBLE,
    cf_priority_score    DOUBLE,
    cand_score           DOUBLE,       -- the candidate's linkage posterior (link_candidate.score)
    changed              BOOLEAN,      -- the record would change the household's result
    material             BOOLEAN,      -- changed, and the candidate is plausible (score ≥ review_min_candidate_posterior)
    new_flag             BOOLEAN,
    change_text          VARCHAR       -- after "若确认为该户，": 将新增风险类型“因病”并列为疑似风险户（边缘易致贫户）
);
