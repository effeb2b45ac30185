-- Step 1c. Department records as linkage sees them: a stable rid, the name keys, and the evidence an ID gives even
-- when it is unusable. A mangled ID (4.50222E+17, 450222199001011000.0, 17 digits with a lost X) is never compared
-- as an ID, but the digits a spreadsheet keeps intact still say where (address code) and when (birth date) the person
-- was born: E-notation keeps its mantissa (the last digit may be rounded), ".0" and a number cell written back as 18
-- digits keep the first 15 digits.
-- step: records
CREATE OR REPLACE TEMP TABLE lk_rec AS
WITH d AS (
    SELECT
        _rowid + 1 AS rid,
        source, source_file, source_row, name, id_raw, id_status, id_number, id_candidate, birth_date, sex,
        -- the claim without the person: what the department paid, registered or assessed, and when (the same claim
        -- re-sent in another extract has the same content, whatever its ID cell says)
        CASE WHEN coalesce(event_date, settle_date, disaster_date, approved_on) IS NOT NULL
             THEN hash(source, event_date, settle_date, institution, total_cost, fund_paid, critical_illness_paid,
                       medical_aid_paid, out_of_pocket, visit_type, diagnosis, disaster_type, disaster_date,
                       house_damage, direct_loss, aid_type, approved_on, amount, status, event, previous_workplace,
                       previous_monthly_income, property_type) END AS claim_key,
        coalesce(is_head_only, false) AS is_head_only,
        nullif(concat_ws('', county, township, village, hukou_address), '') AS loc_text,
        nullif(institution, '') AS inst_text,
        -- what the record is about (inpatient stay, 农村低保 renewed, job lost, house collapsed …)
        coalesce(visit_type, aid_type || '/' || coalesce(status, ''), event, house_damage, property_type) AS rec_kind,
        CASE WHEN id_status IN ('mangled', 'bad_length')   -- the only rows whose raw digits are read below
             THEN upper(regexp_replace(translate(coalesce(id_raw, ''), '０１２３４５６７８９ｘＸ', '0123456789XX'), '[\s''`]', '', 'g'))
        END AS id_clean
    FROM lk_dept_src
),
e AS (
    -- the significant digits of an E-notation ID (4.50222E+17 → 450222), read once
    SELECT *,
        CASE WHEN id_status = 'mangled' AND regexp_matches(id_clean, '^\d(\.\d+)?E\+?17$')
             THEN regexp_replace(regexp_extract(id_clean, '^([\d.]+)E', 1), '\.', '') END AS e_mant
    FROM d
),
m AS (
    SELECT *,
        CASE
            WHEN id_status = 'mangled' AND regexp_matches(id_clean, '^\d{17}$') THEN id_clean
            WHEN id_status = 'mangled' AND regexp_matches(id_clean, '^\d{18}\.0+$') THEN left(id_clean, 15)
            -- a number cell written back as 18 digits (450224195704217024): a float keeps the first 15 exactly
            WHEN id_status = 'mangled' AND regexp_matches(id_clean, '^\d{18}$') THEN left(id_clean, 15)
            WHEN e_mant IS NOT NULL THEN CASE WHEN length(e_mant) >= 15 THEN left(e_mant, 14) ELSE left(e_mant, 6) END
            WHEN id_status IN ('bad_length') AND regexp_matches(id_clean, '^45\d{4}') THEN left(id_clean, 6)
        END AS mangled_digits,
        -- E-notation with fewer than 6 significant digits (4.419E+17): the display rounded the ID to them, so the
        -- address code is known only as a range (see id_area_lo below); trailing zeros are not assumed, a narrow
        -- column shows 4.5E+17 for any 45xxxx
        CASE WHEN length(e_mant) < 6 THEN e_mant END AS id_mant
    FROM e
)
, b AS (
SELECT
    m.rid, m.source, m.source_file, m.source_row, m.name, k.name_key, k.name_plain, m.id_raw, m.id_status, m.id_number,
    m.id_candidate, m.is_head_only, m.loc_text, m.inst_text, m.rec_kind, m.claim_key,
    -- birth date: from the ID candidate (even with a failed checksum), else from the digits of a mangled ID
    coalesce(
        m.birth_date,
        CASE WHEN m.id_candidate IS NOT NULL THEN try_strptime(substr(m.id_candidate, 7, 8), '%Y%m%d')::DATE END,
        CASE WHEN length(m.mangled_digits) >= 14 THEN try_strptime(substr(m.mangled_digits, 7, 8), '%Y%m%d')::DATE END
    ) AS birth_raw,
    CASE
        WHEN m.sex IN ('男', '1') THEN '男' WHEN m.sex IN ('女', '2') THEN '女'
        WHEN m.id_candidate IS NOT NULL
            THEN CASE WHEN try_cast(substr(m.id_candidate, 17, 1) AS INTEGER) % 2 = 1 THEN '男' ELSE '女' END
        WHEN length(m.mangled_digits) >= 17
            THEN CASE WHEN try_cast(substr(m.mangled_digits, 17, 1) AS INTEGER) % 2 = 1 THEN '男' ELSE '女' END
    END AS sex,
    coalesce(left(m.id_number, 6), left(m.id_candidate, 6),
             CASE WHEN length(m.mangled_digits) >= 6 THEN left(m.mangled_digits, 6) END) AS id_area,
    -- the range of 6-digit address codes (as numbers; a code c with birth century digit 1 or 2 lies in
    -- [c + 0.1, c + 0.3)) that a short E-notation mantissa can have been rounded from
    (CAST(m.id_mant AS DOUBLE) - 0.5) * pow(10, 6 - length(m.id_mant)) AS id_area_lo,
    (CAST(m.id_mant AS DOUBLE) + 0.5) * pow(10, 6 - length(m.id_mant)) AS id_area_hi,
    m.birth_date IS NULL AS birth_from_id,
    n.surname, n.py, n.py_alt, n.surname_py, n.given1_py, n.given_last_py, n.n_chars
FROM m
LEFT JOIN lk_namekey k ON k.name = m.name
LEFT JOIN lk_names n ON n.name_key = k.name_key
)
SELECT b.* EXCLUDE (birth_raw, inst_text, birth_from_id),
    b.birth_from_id AND b.birth_raw IS NOT NULL AS birth_from_id,
    -- the claim under this name, and the same name in the same township of the same feed (the person's other
    -- records). Hashed: joined on often.
    CASE WHEN b.claim_key IS NOT NULL AND b.name_key IS NOT NULL THEN hash(b.claim_key, b.name_key) END AS claim_id,
    CASE WHEN b.name_key IS NOT NULL AND l.township_code IS NOT NULL THEN hash(b.source, b.name_key, l.township_code) END
        AS sib_key,
    coalesce(tn.n, 0) AS n_name_r,
    -- how many registry persons the name and the finest place the record states point to (none, one, several): the
    -- in-registry evidence of a record depends on it (an outsider who happens to carry a name of the township is often
    -- one of its common ones, and then lives in another village than its registry namesakes)
    CASE WHEN b.name_key IS NULL THEN 'p?'
         WHEN coalesce(nv.n, nt.n, nc.n, 0) = 0 THEN 'p0' WHEN coalesce(nv.n, nt.n, nc.n) = 1 THEN 'p1' ELSE 'p2+' END
        AS place_names,
    -- where the record's institution is, against the place the record states
    CASE WHEN b.inst_text IS NULL THEN NULL
         WHEN i.township_code IS NOT NULL AND i.township_code = l.township_code THEN 'township'
         WHEN i.county_code IS NOT NULL AND i.county_code = l.county_code THEN 'county'
         WHEN i.county_code IS NOT NULL THEN 'elsewhere'
         ELSE 'unplaced' END AS inst_class,
    -- what the record's place says about being in the registry at all
    CASE WHEN o.t IS NOT NULL AND l.township_code IS NULL THEN 'outside'
         WHEN l.village_code IS NOT NULL THEN 'village'
         WHEN l.township_code IS NOT NULL THEN 'township'
         WHEN l.county_code IN (SELECT county_code FROM lk_reg_county) THEN 'county'
         WHEN l.county_code IS NOT NULL THEN 'city'
         ELSE 'none' END AS loc_class,
    CASE WHEN b.id_number IS NOT NULL THEN NULL
         -- a range of address codes that holds no code of the city: from outside it
         WHEN b.id_area IS NULL AND (b.id_area_hi <= ab.lo OR b.id_area_lo >= ab.hi) THEN 'outside'
         WHEN b.id_area IS NULL THEN NULL
         WHEN am.county_code IN (SELECT county_code FROM lk_reg_county) THEN 'registry'
         WHEN am.county_code IS NOT NULL THEN 'city'
         ELSE 'outside' END AS area_class,
    CASE WHEN b.birth_raw BETWEEN DATE '1880-01-01' AND current_date THEN b.birth_raw END AS birth_date,  -- else no evidence
    l.county_code, l.township_code, l.village_code,
    -- the prefecture (地级市) of the address, else of the ID's address code: scope for province-wide blocking rules
    left(coalesce(l.county_code, b.id_area), 4) AS prefecture_code,
    CASE WHEN l.village_code IS NOT NULL THEN 'village'
         WHEN l.township_code IS NOT NULL THEN 'township'
         WHEN l.county_code IS NOT NULL THEN 'county' END AS loc_level,
    am.county_code AS id_area_county
FROM b
CROSS JOIN (SELECT min(CAST(area6 AS DOUBLE)) + 0.1 AS lo, max(CAST(area6 AS DOUBLE)) + 0.3 AS hi FROM lk_area_map) ab
LEFT JOIN lk_loc l ON l.t = b.loc_text
LEFT JOIN lk_loc_outside o ON o.t = b.loc_text
LEFT JOIN lk_area_map am ON am.area6 = b.id_area
LEFT JOIN lk_tf_name tn ON tn.name_key = b.name_key
LEFT JOIN lk_loc i ON i.t = b.inst_text
LEFT JOIN lk_tf_name_village nv ON nv.name_key = b.name_key AND nv.village_code = l.village_code
LEFT JOIN lk_tf_name_town nt ON nt.name_key = b.name_key AND nt.township_code = l.township_code
                             AND l.village_code IS NULL
LEFT JOIN lk_tf_name_county nc ON nc.name_key = b.name_key AND nc.county_code = l.county_code
                                AND l.township_code IS NULL;

-- step: counts
SELECT (SELECT count(*) FROM lk_person) AS persons, (SELECT count(*) FROM lk_rec) AS records;
