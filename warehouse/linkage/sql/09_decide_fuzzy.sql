-- Step 6. Decisions for everything else (no usable ID, unknown ID, unconfirmed repair): a posterior over the
-- candidates and "nobody in the registry". A head-of-household-only record is decided per household (the evidence of
-- all its members is added up) and links the household, not a person.
--   P(candidate) = 2^w / (Σ_candidates 2^w + N·(1−prior)/prior · 2^−b)
-- prior = the feed's share of records whose person is in the registry (estimated, else configured); b = the record's
-- own evidence of being in the registry at all (its place and how many registry persons of that place carry its
-- name, its ID's address code, where its institution is, what it is about: bits estimated per feed from the records
-- whose valid ID says in or out, lk_est_inout).
-- Namesakes (same name, nothing else to tell them apart) share the posterior, so none reaches `accept`: review.
-- A link needs more than the name: a birth date, the village / township, or the person's other records. County-level
-- agreement (or the address code of an unusable ID) is enough for review but not for a link.
-- Outsiders stay outsiders: an address outside the city, or an ID address code outside it that is not the
-- candidate's, sends the record back to its department whatever the name says; so does a valid ID the registry does
-- not hold (only a namesake with the same birth date in the same village or township is worth a look: the registry's
-- ID may be the wrong one). An unusable ID whose surviving digits are not the candidate's (an address code a
-- spreadsheet kept, or more than a typo away) is never linked without a person's look.

-- step: groups
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
    arg_max(c.id_contradicts, c.w) AS id_contradicts,
    arg_max(c.sib_level, c.w) AS sib_level,
    arg_max(c.p_key, c.w) AS p_key,
    arg_max(c.p_village, c.w) AS p_village,
    arg_max(c.p_township, c.w) AS p_township
FROM lk_cmp_fz c
GROUP BY c.rid, CASE WHEN c.is_head_only THEN 'h:' || c.household_id ELSE 'p:' || c.pid::VARCHAR END;

-- step: record_evidence
CREATE OR REPLACE TEMP TABLE lk_recbits AS
SELECT t.rid, t.is_head_only, t.loc_class, t.area_class, t.birth_date IS NULL AS no_birth,
    t.id_number IS NOT NULL AS unknown_valid_id,
    coalesce(pr.prior, CASE WHEN t.is_head_only THEN ${household_prior} ELSE ${prior} END) AS prior,
    coalesce(a.bits, 0) + coalesce(c.bits, 0) + coalesce(i.bits, 0) + coalesce(k.bits, 0) AS b
FROM lk_todo t
LEFT JOIN lk_est_prior pr ON pr.source = t.source
LEFT JOIN lk_est_inout a ON a.source = t.source AND a.factor = 'loc' AND a.class = t.loc_class || ':' || t.place_names
LEFT JOIN lk_est_inout c ON c.source = t.source AND c.factor = 'area' AND c.class = t.area_class
LEFT JOIN lk_est_inout i ON i.source = t.source AND i.factor = 'inst' AND i.class = t.inst_class
LEFT JOIN lk_est_inout k ON k.source = t.source AND k.factor = 'kind' AND k.class = t.rec_kind;

-- step: posterior
CREATE OR REPLACE TEMP TABLE lk_group AS
SELECT g.*,
    row_number() OVER (PARTITION BY g.rid ORDER BY g.bf DESC, g.gkey) AS rk,
    g.bf / (sum(g.bf) OVER (PARTITION BY g.rid)
            + (SELECT n_persons FROM lk_tf) * (1 - e.prior) / e.prior * pow(2.0, -e.b)) AS post,
    count(*) OVER (PARTITION BY g.rid) AS k
FROM lk_group g JOIN lk_recbits e USING (rid);

-- step: decide
CREATE OR REPLACE TEMP TABLE lk_fz AS
SELECT e.rid, e.loc_class, e.area_class, e.no_birth, e.unknown_valid_id, b.* EXCLUDE (rid),
    coalesce(s.bf / b.bf, 0) AS ratio,
    s.name_rank AS name_rank2, s.p_key AS key2, s.p_village AS village2, s.p_township AS township2,
    coalesce(e.loc_class = 'outside', false) AS outside_address,
    coalesce(e.area_class = 'outside', false) AND coalesce(b.area_level, '') NOT IN ('agree', 'fits') AS outside_area
FROM lk_recbits e
LEFT JOIN (SELECT * FROM lk_group WHERE rk = 1) b USING (rid)
LEFT JOIN (SELECT * FROM lk_group WHERE rk = 2) s USING (rid);

CREATE OR REPLACE TEMP TABLE lk_fz AS
SELECT *,
    coalesce(NOT outside_address AND NOT outside_area AND NOT unknown_valid_id AND NOT id_contradicts
        AND pid IS NOT NULL AND post >= ${accept}
        AND ratio < ${namesake_ratio}
        AND name_rank >= ${min_name_rank}
        AND (birth_level IN ('exact', 'near') OR loc_agree IN ('village', 'township') OR sib_level IN ('claim', 'same')),
        false) AS accepted,
    coalesce(ratio >= ${namesake_ratio} AND name_rank >= 1, false) AS ambiguous,
    -- weaker evidence still worth a person's look; a name alone is not (it goes back as unmatched)
    coalesce(birth_level IN ('exact', 'near') OR loc_agree IN ('village', 'township', 'county') OR area_level = 'agree'
        OR sib_level IN ('claim', 'same'), false) AS some_evidence
FROM lk_fz;

INSERT INTO lk_decision
SELECT rid,
    CASE WHEN accepted AND NOT head_only THEN pid END,
    CASE WHEN accepted THEN household_id END,
    accepted AND NOT head_only,
    CASE WHEN accepted THEN 'fuzzy'
         WHEN unknown_valid_id AND name_rank >= 3 AND birth_level = 'exact' AND loc_agree IN ('village', 'township')
              THEN 'review'
         WHEN pid IS NOT NULL AND NOT outside_address AND NOT outside_area AND NOT unknown_valid_id
              AND (ambiguous OR post >= ${review}) AND some_evidence THEN 'review'
         ELSE 'unmatched' END,
    coalesce(round(post, 4), 0.0),
    CASE
        WHEN pid IS NULL AND unknown_valid_id THEN '证件号码有效，但登记库中没有此人，不是' || ${here} || '农村户籍人员，请部门核实'
        WHEN pid IS NULL AND outside_address THEN '户籍地址在' || ${here} || '以外，不是' || ${here} || '农村户籍人员，请部门核实'
        WHEN pid IS NULL AND area_class = 'outside' THEN '证件号码地址码不属于' || ${here} || '，登记库中无此人，请部门核实'
        WHEN pid IS NULL AND loc_class = 'none' AND area_class IS NULL AND no_birth
            THEN '仅有姓名，无证件号码、出生日期和住址可核对，无法确认为登记人员'
        WHEN pid IS NULL THEN '未找到匹配人员'
        WHEN accepted THEN
            CASE WHEN head_only THEN '户主' ELSE '' END
            || CASE name_level WHEN 'exact' THEN '姓名一致' WHEN 'folded' THEN '姓名一致（繁简不同）'
                               WHEN 'homophone' THEN '姓名同音' ELSE '姓名相近' END
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
            || CASE sib_level WHEN 'claim' THEN '，同一业务的另一条记录证件号码属于此人'
                              WHEN 'same' THEN '，本部门同乡镇同名记录的证件号码属于此人' ELSE '' END
            || CASE WHEN head_only THEN '（按户匹配）' ELSE '' END
        WHEN unknown_valid_id AND name_rank >= 3 AND birth_level = 'exact' AND loc_agree IN ('village', 'township')
            THEN '证件号码有效但登记库中无此号码，同村（乡镇）有姓名和出生日期相同的人员，需核实登记库证件号码'
        WHEN unknown_valid_id THEN '证件号码有效，但登记库中没有此人，不是' || ${here} || '农村户籍人员，请部门核实'
        WHEN outside_address THEN '户籍地址在' || ${here} || '以外，与登记库同名人员不是同一人，请部门核实'
        WHEN outside_area THEN '证件号码地址码不属于' || ${here} || '，与登记库同名人员的证件号码不符，请部门核实'
        WHEN id_contradicts THEN '证件号码（无法使用）残存的数字与同名登记人员的证件号码不符，请部门核实'
        WHEN NOT some_evidence AND name_rank >= 1 THEN '仅姓名相同或相近，无证件号码、出生日期和住址可核对'
        WHEN ambiguous AND key2 = p_key AND village2 = p_village THEN
            CASE WHEN head_only THEN '同村同名户主多户，无证件号码区分' ELSE '同村同名多人，无证件号码区分' END
        WHEN ambiguous AND key2 = p_key AND township2 = p_township THEN '同乡镇同名多人，无证件号码区分'
        WHEN ambiguous AND key2 = p_key THEN '同名多人，无证件号码或出生日期区分'
        WHEN ambiguous THEN '多名候选人员相近，需人工核实'
        WHEN post >= ${review} THEN '匹配证据不足，需人工核实'
        WHEN name_rank >= 1 THEN '与登记库同名人员仅县（区）或证件地址码相同，证据不足，不能确认为登记人员'
        ELSE '未找到匹配人员'
    END,
    coalesce(k, 0)::INTEGER,
    'fuzzy'
FROM lk_fz;
