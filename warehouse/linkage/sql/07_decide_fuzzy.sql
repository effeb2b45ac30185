-- Step 4b. Decisions for everything else (no usable ID, unknown ID, unconfirmed repair): a posterior over the
-- candidates and "nobody in the registry".  A head-of-household-only record is decided per household (the evidence of
-- all its members is added up) and links the household, not a person.
--   P(candidate) = 2^w / (Σ_candidates 2^w + N·(1−prior)/prior)
-- Namesakes (same name, nothing else to tell them apart) share the posterior, so none reaches `accept`: review.
-- A link needs more than the name: a birth date, or the village / township. County-level agreement (or the address
-- code of an unusable ID) is enough for review but not for a link: most people in a district are not in the rural
-- registry, so a name + district match is weak.
CREATE OR REPLACE TEMP TABLE lk_group AS
SELECT c.rid,
    CASE WHEN c.is_head_only THEN 'h:' || c.household_id ELSE 'p:' || c.pid::VARCHAR END AS gkey,
    any_value(c.is_head_only) AS head_only,
    sum(pow(2.0, least(c.w, 1000.0))) AS bf,
    max(c.w) AS w,
    arg_max(c.pid, c.w) AS pid,
    arg_max(c.household_id, c.w) AS household_id,
    arg_max(c.name_level, c.w) AS name_level,
    arg_max(c.name_rank, c.w) AS name_rank,
    arg_max(c.birth_level, c.w) AS birth_level,
    arg_max(c.loc_agree, c.w) AS loc_agree,
    arg_max(c.area_level, c.w) AS area_level,
    arg_max(c.p_key, c.w) AS p_key,
    arg_max(c.p_village, c.w) AS p_village,
    arg_max(c.p_township, c.w) AS p_township
FROM lk_cmp_fz c
GROUP BY ALL;

CREATE OR REPLACE TEMP TABLE lk_group AS
SELECT g.*,
    row_number() OVER (PARTITION BY rid ORDER BY bf DESC, gkey) AS rk,
    g.bf / (sum(g.bf) OVER (PARTITION BY rid)
            + (SELECT n_persons FROM lk_tf) * CASE WHEN g.head_only THEN (1 - ${household_prior}) / ${household_prior}
                                                  ELSE (1 - ${prior}) / ${prior} END) AS post,
    count(*) OVER (PARTITION BY rid) AS k
FROM lk_group g;

CREATE OR REPLACE TEMP TABLE lk_fz AS
SELECT b.*,
    coalesce(s.bf / b.bf, 0) AS ratio,
    s.name_rank AS name_rank2, s.p_key AS key2, s.p_village AS village2, s.p_township AS township2,
    b.post >= ${accept}
        AND coalesce(s.bf / b.bf, 0) < ${namesake_ratio}
        AND b.name_rank >= ${min_name_rank}
        AND (b.birth_level IN ('exact', 'near') OR b.loc_agree IN ('village', 'township'))
        AS accepted,
    coalesce(s.bf / b.bf, 0) >= ${namesake_ratio} AND b.name_rank >= 1 AS ambiguous,
    -- weaker evidence still worth a person's look; a name alone is not (it goes back as unmatched)
    b.birth_level IN ('exact', 'near') OR b.loc_agree IN ('village', 'township', 'county') OR b.area_level = 'agree' AS some_evidence
FROM (SELECT * FROM lk_group WHERE rk = 1) b
LEFT JOIN (SELECT * FROM lk_group WHERE rk = 2) s USING (rid);

INSERT INTO lk_decision
SELECT rid,
    CASE WHEN accepted AND NOT head_only THEN pid END,
    CASE WHEN accepted THEN household_id END,
    accepted AND NOT head_only,
    CASE WHEN accepted THEN 'fuzzy' WHEN (ambiguous OR post >= ${review}) AND some_evidence THEN 'review' ELSE 'unmatched' END,
    round(post, 4),
    CASE
        WHEN accepted THEN
            CASE WHEN head_only THEN '户主' ELSE '' END
            || CASE name_level WHEN 'exact' THEN '姓名一致' WHEN 'homophone' THEN '姓名同音' ELSE '姓名相近' END
            || CASE WHEN concat_ws('与',
                        CASE WHEN birth_level = 'exact' THEN '出生日期' END,
                        CASE loc_agree WHEN 'village' THEN '村' WHEN 'township' THEN '乡镇' WHEN 'county' THEN '县（区）' END,
                        CASE WHEN area_level = 'agree' AND loc_agree NOT IN ('village', 'township', 'county') THEN '证件地址码' END) <> ''
                    THEN '，' || concat_ws('与',
                        CASE WHEN birth_level = 'exact' THEN '出生日期' END,
                        CASE loc_agree WHEN 'village' THEN '村' WHEN 'township' THEN '乡镇' WHEN 'county' THEN '县（区）' END,
                        CASE WHEN area_level = 'agree' AND loc_agree NOT IN ('village', 'township', 'county') THEN '证件地址码' END) || '一致'
                    ELSE '' END
            || CASE WHEN birth_level = 'near' THEN '，出生日期相近' ELSE '' END
            || CASE WHEN head_only THEN '（按户匹配）' ELSE '' END
        WHEN NOT some_evidence AND name_rank >= 1 THEN '仅姓名相同或相近，无证件号码、出生日期和住址可核对'
        WHEN ambiguous AND key2 = p_key AND village2 = p_village THEN
            CASE WHEN head_only THEN '同村同名户主多户，无证件号码区分' ELSE '同村同名多人，无证件号码区分' END
        WHEN ambiguous AND key2 = p_key AND township2 = p_township THEN '同乡镇同名多人，无证件号码区分'
        WHEN ambiguous AND key2 = p_key THEN '同名多人，无证件号码或出生日期区分'
        WHEN ambiguous THEN '多名候选人员相近，需人工核实'
        WHEN post >= ${review} THEN '匹配证据不足，需人工核实'
        ELSE '未找到匹配人员'
    END,
    k::INTEGER,
    'fuzzy'
FROM lk_fz;
