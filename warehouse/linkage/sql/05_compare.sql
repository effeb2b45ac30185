-- Step 3. Comparisons and scores for every candidate pair of {{pairs}} into {{out}} (Fellegi–Sunter, log2 weights).
-- Each comparison has ordered levels; a level adds log2(m / u). m: estimated from this round's exact-ID links where
-- they say something (name, place, head of household, the person's other records), else configured; u: the
-- registry's term frequencies (N = registry persons). Name similarities come from lk_namesim (rapidfuzz over the
-- distinct name pairs). One statement writes the (wide) comparison table once: the weights are summed outside.
--
-- Name levels: exact (the same characters), folded (the same after traditional → simplified folding), homophone
-- (the same toneless syllables), near, differ. u of exact = the name's frequency; of folded = that frequency times the
-- share of records written in traditional characters; of homophone = the frequency of the pinyin among persons whose
-- name is NOT the record's (a homophone of a rare pinyin is strong evidence, of wang xiu ying weak).
-- Activity: how often persons of the candidate's class (age band, health, relief, head, able to work) appear in this
-- feed compared with the average person (lk_est_activity, estimated from the exact-ID links; 0 when not estimated).
-- Other records: the same claim re-sent with an ID that links to the candidate (lk_claim), or another record with the
-- same name in the same township of the same feed that links to the candidate by ID (lk_sib).
-- step: name_pairs
-- The distinct (record name, person name) pairs of {{pairs}} that rapidfuzz has to compare (compare.py): pairs with
-- the same key need nothing, pairs of different surnames are 'differ' whatever the rest.
CREATE OR REPLACE TEMP TABLE lk_namepair AS
SELECT DISTINCT r.name_key AS a, p.name_key AS b, r.py AS pa, p.py AS pb, r.py_alt AS aa, p.py_alt AS ab
FROM {{pairs}} x JOIN lk_rec r USING (rid) JOIN lk_person p USING (pid)
WHERE r.name_key IS NOT NULL AND p.name_key IS NOT NULL AND r.name_key <> p.name_key
  AND (r.surname_py = p.surname_py OR r.surname = p.surname);

-- step: score
CREATE OR REPLACE TEMP TABLE {{out}} AS
WITH x AS (
    SELECT
        pr.rid, pr.pid, pr.rule, pr.rkind, pr.rpos,
        r.is_head_only, r.birth_from_id, r.id_candidate IS NOT NULL AS area_typed, p.household_id,
        p.name_key AS p_key, r.name_key AS r_key, p.village_code AS p_village,
        p.township_code AS p_township, p.county_code AS p_county, p.is_head,
        CASE
            WHEN r.name_key IS NULL OR p.name_key IS NULL THEN 'missing'
            WHEN r.name_plain = p.name_plain THEN 'exact'
            WHEN r.name_key = p.name_key THEN 'folded'
            WHEN s.syl_sim >= 0.999 THEN 'homophone'
            WHEN (r.surname = p.surname OR r.surname_py = p.surname_py)
                 AND (s.char_sim >= ${near_char_sim} OR s.letter_sim >= ${near_letter_sim}) THEN 'near'
            ELSE 'differ'
        END AS name_level,
        coalesce(s.char_sim, CASE WHEN r.name_key = p.name_key THEN 1.0 ELSE 0.0 END) AS char_sim,
        CASE
            WHEN r.birth_date IS NULL OR p.birth_date IS NULL THEN 'missing'
            WHEN r.birth_date = p.birth_date THEN 'exact'
            -- one digit mistyped or two neighbours swapped (Damerau–Levenshtein distance 1 of the two 8-digit
            -- texts, spelled with levenshtein, which every engine has: same length, so distance 1 = one substitution;
            -- the dates differ here, so a swap that changes nothing cannot count)
            WHEN levenshtein(strftime(r.birth_date, '%Y%m%d'), strftime(p.birth_date, '%Y%m%d')) = 1
              OR list_contains(list_transform(range(1, 8), lambda i: substr(strftime(r.birth_date, '%Y%m%d'), 1, i - 1)
                                   || substr(strftime(r.birth_date, '%Y%m%d'), i + 1, 1)
                                   || substr(strftime(r.birth_date, '%Y%m%d'), i, 1)
                                   || substr(strftime(r.birth_date, '%Y%m%d'), i + 2)),
                               strftime(p.birth_date, '%Y%m%d'))
              OR (year(r.birth_date) = year(p.birth_date) AND month(r.birth_date) = day(p.birth_date)
                  AND day(r.birth_date) = month(p.birth_date)) THEN 'near'
            ELSE 'differ'
        END AS birth_level,
        CASE WHEN r.sex IS NULL OR p.sex IS NULL THEN 'missing' WHEN r.sex = p.sex THEN 'agree' ELSE 'differ' END AS sex_level,
        -- locality: the finest level at which the record's place agrees with the person's
        r.loc_level,
        CASE
            WHEN r.loc_level IS NULL THEN 'missing'
            WHEN r.village_code IS NOT NULL AND r.village_code = p.village_code THEN 'village'
            WHEN r.township_code IS NOT NULL AND r.township_code = p.township_code THEN 'township'
            WHEN r.county_code IS NOT NULL AND r.county_code = p.county_code THEN 'county'
            ELSE 'differ'
        END AS loc_agree,
        -- address code of an unusable ID against the person's ID / county
        -- (the person's own ID when the registry has it; else the county the person lives in)
        CASE
            WHEN r.id_number IS NOT NULL THEN 'missing'
            -- a short E-notation (4.419E+17) gives a range of codes: the person's code outside it differs; inside
            -- it says little (4.5E+17 fits every code of the province), so it only 'fits'
            WHEN r.id_area IS NULL AND r.id_area_lo IS NOT NULL AND p.id_area IS NOT NULL
                THEN CASE WHEN CAST(p.id_area AS DOUBLE) + 0.3 > r.id_area_lo AND CAST(p.id_area AS DOUBLE) + 0.1 < r.id_area_hi
                          THEN 'fits' ELSE 'differ' END
            WHEN r.id_area IS NULL THEN 'missing'
            WHEN p.id_area IS NOT NULL THEN CASE WHEN r.id_area = p.id_area THEN 'agree' ELSE 'differ' END
            WHEN r.id_area_county = p.county_code THEN 'agree'
            ELSE 'missing'
        END AS area_level,
        (r.id_number IS NOT NULL AND p.id_number IS NOT NULL AND r.id_number <> p.id_number) AS id_conflict,
        -- an 18-digit ID that failed its checksum, more than one mistyped digit or swapped pair away from the
        -- candidate's ID (levenshtein 2 = a swap): another person's digits, not a typo of these. The first 15 digits
        -- only: a number cell written back as text (450224198012142976) keeps 15 and makes up the rest
        coalesce(r.id_number IS NULL AND r.id_candidate IS NOT NULL AND p.id_number IS NOT NULL
                 AND levenshtein(left(r.id_candidate, 15), left(p.id_number, 15)) > 2, false) AS id_far,
        CASE WHEN cl.pid IS NOT NULL THEN 'claim' WHEN sb.pid IS NOT NULL THEN 'same' ELSE 'none' END AS sib_level,
        CASE WHEN r.is_head_only THEN 0 ELSE coalesce(ac.bits, 0) END AS w_act,
        p.n_name, p.n_py, r.n_name_r, p.n_surname, p.n_birth, p.n_village, p.n_township, p.n_county
    FROM {{pairs}} pr
    JOIN lk_rec r USING (rid)
    JOIN lk_person p USING (pid)
    LEFT JOIN lk_namesim s ON s.a = r.name_key AND s.b = p.name_key
    LEFT JOIN lk_est_activity ac ON ac.source = r.source AND ac.act_class = p.act_class
    LEFT JOIN lk_claim cl ON cl.claim_id = r.claim_id AND cl.pid = pr.pid AND (cl.n > 1 OR cl.first_rid <> pr.rid)
    LEFT JOIN lk_sib sb ON sb.sib_key = r.sib_key AND sb.pid = pr.pid AND (sb.n > 1 OR sb.first_rid <> pr.rid)
),
n AS (SELECT n_persons::DOUBLE AS n FROM lk_tf),
scored AS (
SELECT x.*,
    CASE x.name_level
        WHEN 'exact'     THEN log2(${name_m_exact}) - log2(greatest(x.n_name / n.n, ${min_u}))
        WHEN 'folded'    THEN log2(${name_m_folded}) - log2(greatest(${folded_share} * x.n_name / n.n, ${min_u}))
        WHEN 'homophone' THEN log2(${name_m_homophone}) - log2(greatest(greatest(x.n_py - x.n_name_r, 1) / n.n, ${min_u}))
        WHEN 'near'      THEN log2(${name_m_near}) - log2(greatest(x.n_surname / n.n * ${u_near_given_surname}, ${min_u}))
        WHEN 'differ'    THEN log2(${name_m_differ})
        ELSE 0 END AS w_name,
    CASE x.birth_level
        WHEN 'exact'  THEN log2(${birth_m_exact}) - log2(greatest(x.n_birth / n.n, ${min_u}))
        WHEN 'near'   THEN log2(${birth_m_near}) - log2(${birth_u_near})
        -- a birth date read from ID digits differs beyond 'near' only when the registry holds another date
        WHEN 'differ' THEN log2(CASE WHEN x.birth_from_id THEN ${birth_m_differ_id} ELSE ${birth_m_differ} END)
        ELSE 0 END AS w_birth,
    CASE x.sex_level
        WHEN 'agree'  THEN log2(${sex_m_agree} / 0.5)
        WHEN 'differ' THEN log2(${sex_m_differ} / 0.5)
        ELSE 0 END AS w_sex,
    CASE
        WHEN x.loc_agree = 'missing' THEN 0
        WHEN x.loc_agree = 'differ' THEN log2(CASE x.loc_level WHEN 'village' THEN ${loc_v_differ} WHEN 'township' THEN ${loc_t_differ} ELSE ${loc_c_differ} END)
        ELSE log2(CASE
                WHEN x.loc_level = 'village' AND x.loc_agree = 'village' THEN ${loc_v_village}
                WHEN x.loc_level = 'village' AND x.loc_agree = 'township' THEN ${loc_v_township}
                WHEN x.loc_level = 'village' THEN ${loc_v_county}
                WHEN x.loc_level = 'township' AND x.loc_agree = 'township' THEN ${loc_t_township}
                WHEN x.loc_level = 'township' THEN ${loc_t_county}
                ELSE ${loc_c_county} END)
           - log2(greatest(CASE x.loc_agree WHEN 'village' THEN x.n_village WHEN 'township' THEN x.n_township ELSE x.n_county END / n.n, ${min_u}))
    END AS w_loc,
    CASE x.area_level
        WHEN 'agree'  THEN log2(${area_m_agree} / ${area_u_agree})
        -- digits a spreadsheet kept are the ID's own; those of an ID that failed its checksum may hold the typo
        WHEN 'differ' THEN log2(CASE WHEN x.area_typed THEN ${area_m_differ} ELSE ${area_m_differ_kept} END / (1 - ${area_u_agree}))
        ELSE 0 END AS w_area,
    CASE WHEN x.id_conflict THEN ${id_conflict_weight} WHEN x.id_far THEN ${id_far_weight} ELSE 0 END AS w_id,
    CASE WHEN NOT x.is_head_only THEN 0
         WHEN x.is_head THEN log2(${rel_m_head} / ${rel_u_head})
         ELSE log2((1 - ${rel_m_head}) / (1 - ${rel_u_head})) END AS w_rel,
    CASE x.sib_level WHEN 'claim' THEN ${sib_w_claim} WHEN 'same' THEN ${sib_w_same} ELSE ${sib_w_none} END AS w_sib
FROM x, n
)
SELECT *, w_name + w_birth + w_sex + w_loc + w_area + w_id + w_rel + w_act + w_sib AS w,
    CASE name_level WHEN 'exact' THEN 3 WHEN 'folded' THEN 3 WHEN 'homophone' THEN 2 WHEN 'near' THEN 1 ELSE 0 END AS name_rank,
    -- the digits the record's ID still shows are not the candidate's: no link without a person's look
    id_far OR (area_level = 'differ' AND NOT area_typed) AS id_contradicts
FROM scored;

-- step: count
SELECT count(*) FROM {{table}};
