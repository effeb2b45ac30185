-- Department evidence: linked, in the window, de-duplicated, with per-record signal flags (SPEC §6.1–6.2).
-- Two steps: `linked` (which records count, from a link relation) and `signals` (window, de-duplication, flags).
-- The round passes links = link and evidence_methods = id_exact, id_repaired, fuzzy: review and unmatched never
-- count. The counterfactual screening (35_counterfactual.sql) runs the same steps on its own scenario households,
-- with a link relation that attaches one ambiguous record to one candidate (and 'review' among the methods).

-- step: linked
-- A view, not a table: `signals` reads it twice (the employment records' members, then every record once) and a
-- province's 13 M wide rows held as a temp table only pushed the round's other working tables to disk.
CREATE OR REPLACE TEMP VIEW _linked AS
SELECT d.source, d.source_file, d.source_row, d.file_hash, d.event_key,
       d.name AS rec_name, d.name_key AS rec_name_key,
       l.household_id, l.id_number AS person_id, l.match_method, l.match_score,
       coalesce(d.event_date, d.settle_date, d.disaster_date, d.approved_on) AS ev_date,
       d.institution, d.visit_type, d.diagnosis, d.total_cost,
       coalesce(d.out_of_pocket,
                CASE WHEN d.total_cost IS NOT NULL THEN greatest(d.total_cost - coalesce(d.fund_paid, 0)
                     - coalesce(d.critical_illness_paid, 0) - coalesce(d.medical_aid_paid, 0), 0) END) AS oop,
       d.disaster_type, d.house_damage, d.direct_loss,
       d.aid_type, d.amount, d.status,
       d.event, d.previous_workplace, d.previous_monthly_income,
       d.property_type
FROM dept_record d
JOIN {{links}} l ON l.source = d.source AND l.source_file = d.source_file AND l.source_row = d.source_row
WHERE l.match_method IN (${evidence_methods}) AND l.household_id IS NOT NULL
  AND NOT coalesce(d.superseded, false);  -- a later version of the same file name replaced it

-- step: signals

-- Window: event date in [reference date − window months, reference date). Property hits are a state, not an event:
-- they count whatever their date. De-duplication: the loader already keeps one row per (source, event_key); here the
-- same event is also recognised by its content (person, date, place, amount), whichever file or key it came with.
-- One pass over _linked: each record's flags are computed where its text columns are, and only the narrow result
-- (keys, amounts, flags: what 30_screen and 60_round read) is kept and de-duplicated — a window sorts every column
-- it carries, and joining the kept rows back to their wide columns cost a province 34 of its 56 s here. The text of
-- the records that reach a county list is taken from dept_record by 60_round.sql, for the suspects' records only.

-- the labour status of members with an employment record (a job-loss signal needs a member who can work):
-- looked up for those few rows instead of for every record
CREATE OR REPLACE TEMP TABLE _ev_labour AS   -- one row per member: _person has one, x is distinct
SELECT pr.household_id, pr.id_number, pr.labour
FROM _person pr
JOIN (SELECT DISTINCT household_id, person_id FROM _linked WHERE source = 'employment') x
  ON x.household_id = pr.household_id AND x.person_id = pr.id_number;

CREATE OR REPLACE TEMP TABLE _sig AS
WITH w AS (
    SELECT x.*, h.county_key,
           coalesce(x.person_id, x.household_id || ':' || coalesce(x.rec_name_key, x.rec_name, '')) AS pkey,
           (nf.file_hash IS NOT NULL) AS is_new,
           h.is_tuopin OR h.monitored_any AS strict_thresholds,   -- 脱贫户 / monitored: the lower medical thresholds
           h.monitored_active, h.dibao_any, h.tekun_any,
           r.med_stay_mon, r.med_stay_other, r.disaster_loss_threshold, r.lost_wage_months,
           CASE WHEN x.aid_type LIKE '%临时救助%' THEN '临时救助'
                WHEN x.aid_type LIKE '%特困%' AND x.aid_type NOT LIKE '%城市%' THEN '农村特困'
                WHEN x.aid_type LIKE '%低保%' AND x.aid_type NOT LIKE '%边缘%' AND x.aid_type NOT LIKE '%城市%' THEN '农村低保'
           END AS aid_kind,
           lb.labour AS person_labour
    FROM _linked x
    JOIN _hh h ON h.household_id = x.household_id
    JOIN _r r ON r.county_key = h.county_key
    CROSS JOIN _p p
    LEFT JOIN _newfiles nf ON nf.file_hash = x.file_hash
    LEFT JOIN _ev_labour lb ON lb.household_id = x.household_id AND lb.id_number = x.person_id
    WHERE x.source = 'property' OR (x.ev_date >= r.window_start AND x.ev_date < p.reference_date)
),
k AS (
SELECT household_id, source, source_file, source_row, person_id, match_method, match_score, pkey, is_new,
       CASE source
           WHEN 'medical'       THEN hash(source, pkey, ev_date, institution, visit_type, round(oop, 2), round(total_cost, 2))
           WHEN 'disaster'      THEN hash(source, household_id, ev_date, disaster_type, house_damage, round(direct_loss, 2))
           WHEN 'civil_affairs' THEN hash(source, pkey, ev_date, aid_type, status, round(amount, 2))
           WHEN 'employment'    THEN hash(source, pkey, ev_date, event)
           WHEN 'property'      THEN hash(source, pkey, property_type, ev_date)
           ELSE hash(source, source_file, source_row)
       END AS content_key,
       ev_date, oop, direct_loss, amount, previous_monthly_income, strict_thresholds, lost_wage_months,
       -- medical: one stay (not an outpatient settlement) over the single-stay threshold
       (source = 'medical' AND coalesce(visit_type NOT LIKE '%门诊%', true)
        AND coalesce(oop, 0) > CASE WHEN strict_thresholds THEN med_stay_mon ELSE med_stay_other END) AS med_stay_over,
       -- disaster
       (source = 'disaster' AND coalesce(house_damage LIKE '%倒塌%' OR house_damage LIKE '%严重%', false)) AS house_severe,
       (source = 'disaster' AND (coalesce(house_damage LIKE '%倒塌%' OR house_damage LIKE '%严重%', false)
                                 OR coalesce(direct_loss, 0) >= disaster_loss_threshold)) AS disaster_sig,
       -- employment: job loss / return / interruption of a member who can work (unknown labour counts as able)
       (source = 'employment'
        AND coalesce(event LIKE '%失业%' OR event LIKE '%返乡%' OR event LIKE '%中断%', false)
        AND NOT coalesce(trim(person_labour) IN ('丧失劳动力', '无劳动力'), false)) AS job_sig,
       -- civil affairs: new 农村低保 / 农村特困, or 临时救助, for a household not under active monitoring.
       -- 续保 and 停发 are never signals; without a status, aid the registry already shows is a renewal.
       (source = 'civil_affairs' AND aid_kind IS NOT NULL AND NOT monitored_active
        AND NOT coalesce(status LIKE '%续%' OR status LIKE '%停%' OR status LIKE '%终止%' OR status LIKE '%退出%', false)
        AND (coalesce(status LIKE '%新%', false) OR aid_kind = '临时救助'
             OR (aid_kind = '农村低保' AND NOT dibao_any) OR (aid_kind = '农村特困' AND NOT tekun_any))) AS civil_sig
FROM w
)
-- one row per event: the same content (any file, any event_key) counts once. Partitioned by one 64-bit hash of
-- household and content: the window sorts on it (strings took a province twice the time); content_key is a hash
-- already, a collision of the two would need one within 2^64 values.
SELECT * FROM k
QUALIFY row_number() OVER (PARTITION BY hash(household_id, content_key) ORDER BY is_new, source_file, source_row) = 1;
