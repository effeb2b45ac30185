-- Every household screened: rigid spending, adjusted income, risk types, suspect category, priority (SPEC §6.1–6.3).

-- medical signal per person: window out-of-pocket total over the share of last year's rural disposable income,
-- or one stay over the single-stay threshold.
CREATE OR REPLACE TEMP TABLE _med_person AS
SELECT s.household_id, s.pkey,
       sum(coalesce(s.oop, 0)) AS oop_total,
       bool_or(s.med_stay_over) AS any_stay_over,
       sum(coalesce(s.oop, 0)) > any_value(CASE WHEN s.strict_thresholds THEN r.med_share_mon ELSE r.med_share_other END * r.rural_income)
           AS over_annual,
       any_value(CASE WHEN s.strict_thresholds THEN r.med_share_mon ELSE r.med_share_other END * r.rural_income) AS annual_threshold
FROM _sig s
JOIN _hh h ON h.household_id = s.household_id
JOIN _r r ON r.county_key = h.county_key
WHERE s.source = 'medical'
GROUP BY s.household_id, s.pkey;

-- lost wages: previous monthly income × configured months, once per labourer with a job-loss event in the window.
CREATE OR REPLACE TEMP TABLE _job_person AS
SELECT s.household_id, s.pkey, max(coalesce(s.previous_monthly_income, 0)) * any_value(s.lost_wage_months) AS lost_wage
FROM _sig s WHERE s.job_sig
GROUP BY s.household_id, s.pkey;

CREATE OR REPLACE TEMP TABLE _agg AS
WITH med AS (
    SELECT household_id, sum(oop_total) AS medical_oop, bool_or(over_annual OR any_stay_over) AS med_sig
    FROM _med_person GROUP BY household_id
),
job AS (SELECT household_id, sum(lost_wage) AS lost_wages FROM _job_person GROUP BY household_id),
ev AS (
    SELECT household_id,
           sum(CASE WHEN source = 'disaster' THEN coalesce(direct_loss, 0) ELSE 0 END) AS disaster_loss,
           bool_or(disaster_sig) AS dis_sig,
           bool_or(house_severe) AS house_sig,
           bool_or(job_sig) AS job_sig,
           bool_or(civil_sig) AS civil_sig,
           bool_or(source = 'property') AS property_hit,
           count(*) FILTER (WHERE source <> 'property') AS n_events,
           bool_or(is_new) AS any_new
    FROM _sig GROUP BY household_id
)
SELECT ev.*, coalesce(med.medical_oop, 0) AS medical_oop, coalesce(med.med_sig, false) AS med_sig,
       coalesce(job.lost_wages, 0) AS lost_wages
FROM ev LEFT JOIN med USING (household_id) LEFT JOIN job USING (household_id);

CREATE OR REPLACE TEMP TABLE _scr AS
WITH base AS (
    SELECT h.*, r.monitoring_line, r.severe_share, r.max_risk_types, r.property_penalty, r.weak_factor,
           r.w_shortfall, r.w_burden, r.w_breadth, r.w_housing,
           coalesce(a.medical_oop, 0) AS medical_oop, coalesce(a.disaster_loss, 0) AS disaster_loss,
           coalesce(a.lost_wages, 0) AS lost_wages,
           coalesce(a.med_sig, false) AS med_sig, coalesce(a.dis_sig, false) AS dis_sig,
           coalesce(a.house_sig, false) AS house_sig, coalesce(a.job_sig, false) AS job_sig,
           coalesce(a.civil_sig, false) AS civil_sig, coalesce(a.property_hit, false) AS property_hit,
           coalesce(a.n_events, 0) AS n_events, coalesce(a.any_new, false) AS any_new,
           coalesce(h.base_income, 0) * h.household_size AS annual_income
    FROM _hh h
    JOIN _r r ON r.county_key = h.county_key
    LEFT JOIN _agg a ON a.household_id = h.household_id
),
adj AS (
    SELECT *, medical_oop + disaster_loss + lost_wages AS rigid_spending,
           (annual_income - medical_oop - disaster_loss - lost_wages) / household_size AS adjusted_income,
           list_filter([CASE WHEN med_sig THEN '因病' END, CASE WHEN dis_sig THEN '因自然灾害' END,
                        CASE WHEN house_sig THEN '因安全住房' END, CASE WHEN job_sig THEN '因务工就业不稳' END,
                        CASE WHEN civil_sig THEN '其他' END], lambda x: x IS NOT NULL) AS signal_types
    FROM base
),
typed AS (
    SELECT *,
           -- 缺劳动力 is added to a flagged household when nobody can work and adjusted income is below the line
           list_concat(signal_types,
                       CASE WHEN array_length(signal_types) > 0 AND all_no_labour AND adjusted_income < monitoring_line
                            THEN ['缺劳动力'] ELSE [] END) AS all_types
    FROM adj
),
ordered AS (
    SELECT t.*,
           list_slice(list_concat(list_filter(p.risk_type_order, lambda x: list_contains(t.all_types, x)),
                                  list_filter(t.all_types, lambda x: NOT list_contains(p.risk_type_order, x))),
                      1, t.max_risk_types) AS risk_types
    FROM typed t CROSS JOIN _p p
),
cat AS (
    SELECT *,
           CASE WHEN array_length(signal_types) = 0 THEN NULL
                WHEN monitored_active THEN '监测户新增风险'
                WHEN adjusted_income < monitoring_line THEN CASE WHEN is_tuopin THEN '脱贫不稳定户' ELSE '边缘易致贫户' END
                WHEN rigid_spending >= severe_share * annual_income THEN '突发严重困难户'
           END AS suspect_category
    FROM ordered
)
SELECT *,
       suspect_category IS NOT NULL AND eliminated AS reflagged_eliminated,
       CASE WHEN suspect_category IS NULL THEN NULL ELSE round(100 * (
             w_shortfall * greatest(0, least(1, (monitoring_line - adjusted_income) / monitoring_line))
           + w_burden    * least(1, rigid_spending / greatest(annual_income, monitoring_line))
           + w_breadth   * least(1, greatest(array_length(risk_types) - 1, 0) / 4.0)
           + w_housing   * CASE WHEN house_sig THEN 1 ELSE 0 END
         ) * CASE WHEN property_hit THEN property_penalty ELSE 1 END, 1) END AS priority_score
FROM cat;
