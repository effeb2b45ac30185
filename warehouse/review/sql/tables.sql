-- Remembered link decisions (issue 12): a county's answer about a department record that linkage left for review.
-- Written by the feedback loader (warehouse/followup/feedback.py) from the returned 疑似风险户清单 (同名待确认
-- households) and the returned 待核实匹配清单; applied to link / link_candidate after every linkage run and after
-- every feedback file (decisions.apply). Keyed by the record — its (source, source_file, source_row) and, for a
-- re-sent copy of the same event in another file, its event_key and a hash of its content (record_key) — and the
-- candidate household. A rerun of a feedback file replaces its own rows (file_hash).
CREATE TABLE IF NOT EXISTS link_decision (
    source         VARCHAR NOT NULL,   -- the department record decided about
    source_file    VARCHAR NOT NULL,
    source_row     BIGINT NOT NULL,
    event_key      VARCHAR,            -- dept_record.event_key of that record
    record_key     VARCHAR,            -- md5 of what the record says (decisions.sql, record_key)
    household_id   VARCHAR NOT NULL,   -- the candidate household
    id_number      VARCHAR,            -- the candidate person
    decision       VARCHAR NOT NULL,   -- confirmed | denied
    decided_on     DATE,               -- 核实日期 of the answer, else the day the file was loaded
    origin         VARCHAR NOT NULL,   -- suspect_list (疑似风险户清单, 同名待确认) | review_list (待核实匹配清单)
    round_id       VARCHAR,            -- the round whose list was answered (suspect_list)
    county_code    VARCHAR,            -- the county that answered
    feedback_file  VARCHAR,            -- the returned file and the row a person sees
    feedback_row   BIGINT,
    file_hash      VARCHAR NOT NULL,
    recorded_at    TIMESTAMP DEFAULT current_timestamp
);
