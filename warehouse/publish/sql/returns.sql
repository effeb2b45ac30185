-- What goes back to the departments (SPEC §7): the records that matched nobody (未匹配记录), split into the rows that
-- are probably ours and need correcting, and the people outside the city's rural registry (for reference only), and
-- the rows their files lost at intake (拒收记录). Relation put by warehouse/publish/__init__.py:
--   pub_region(code, name)   ID-number region codes (2-digit provinces, 4-digit Guangxi cities, 6-digit counties)

-- step: feeds
-- the department feeds this warehouse has seen (each department owning one gets its 未匹配记录 workbook)
SELECT DISTINCT source AS feed FROM link
UNION SELECT DISTINCT source FROM rejected_row
UNION SELECT DISTINCT feed FROM ingested_file;

-- step: unmatched_records
-- The unmatched records of the feeds ${feeds} with what the lists show of them, and the registry townships the
-- records without an ID name (kept as tables: the classification below reads them several times).
CREATE OR REPLACE TEMP TABLE pub_unmatched AS
WITH u AS (
    SELECT source, source_file, source_row, reason FROM link
    WHERE match_method = 'unmatched' AND source IN (${feeds})
),
d AS (  -- only the columns shown: dept_record is wide and long
    SELECT * FROM (
        SELECT d.source, d.source_file, d.source_row, d.name, d.name_key, d.id_raw, d.id_status, d.id_number,
               d.id_candidate, d.birth_date, d.sex, d.county, d.township, d.village, d.hukou_address, d.event_date,
               d.settle_date, d.disaster_date, d.approved_on, d.institution, d.visit_type, d.out_of_pocket,
               d.disaster_type, d.house_damage, d.direct_loss, d.aid_type, d.status, d.amount, d.event,
               d.previous_workplace, d.property_type,
               row_number() OVER (PARTITION BY d.source, d.source_file, d.source_row ORDER BY d.file_hash) AS rn
        FROM dept_record d
        JOIN u ON u.source = d.source AND u.source_file = d.source_file AND u.source_row = d.source_row
    ) x WHERE rn = 1
)
SELECT u.source, u.source_file, u.source_row, u.reason AS link_reason, d.source IS NOT NULL AS has_record,
       d.name, d.name_key, d.id_raw, coalesce(d.id_status, 'missing') AS id_status, d.id_number, d.id_candidate,
       d.birth_date, d.sex, d.county, d.township, d.village, d.hukou_address,
       nullif(concat_ws('', d.county, d.township, d.village, d.hukou_address), '') AS place,
       coalesce(d.event_date, d.settle_date, d.disaster_date, d.approved_on) AS event_date,
       CASE u.source
           WHEN 'medical' THEN concat_ws('，', d.institution, d.visit_type,
                                         '个人自付 ' || format('{:,.2f}', d.out_of_pocket) || '元')
           WHEN 'disaster' THEN concat_ws('，', d.disaster_type, '房屋' || d.house_damage,
                                          '直接经济损失 ' || format('{:,.2f}', d.direct_loss) || '元')
           WHEN 'civil_affairs' THEN concat_ws('，', d.aid_type, d.status,
                                               '金额 ' || format('{:,.2f}', d.amount) || '元')
           WHEN 'employment' THEN concat_ws('，', d.event, d.previous_workplace)
           WHEN 'property' THEN d.property_type
       END AS content
FROM u LEFT JOIN d USING (source, source_file, source_row);

-- the registry townships the place of a record without an ID names (full name, or the name without 镇/乡/街道)
CREATE OR REPLACE TEMP TABLE pub_unmatched_place AS
WITH tw AS (
    SELECT DISTINCT township_code, township,
           regexp_replace(township, '(苗族|瑶族|侗族|壮族)?(镇|乡|街道)$', '') AS short_name
    FROM registry_person WHERE township_code IS NOT NULL AND length(township) >= 2
)
SELECT DISTINCT r.source, r.source_file, r.source_row, r.name_key, tw.township_code, tw.township
FROM pub_unmatched r
JOIN tw ON contains(r.place, tw.township) OR (length(tw.short_name) >= 2 AND contains(r.place, tw.short_name))
WHERE r.id_number IS NULL AND r.name_key IS NOT NULL AND r.id_status = 'missing';

-- step: name_pairs
-- (record name, registry name) of the same surname and length in a township such a record names: the pairs whose
-- pinyin warehouse/publish/__init__.py compares (pub_homophone) — a clerk typing by pinyin writes a homophone.
SELECT DISTINCT t.name_key AS record_key, p.name_key AS person_key
FROM pub_unmatched_place t
JOIN registry_person p ON p.township_code = t.township_code AND left(p.name_key, 1) = left(t.name_key, 1)
WHERE length(p.name_key) = length(t.name_key) AND p.name_key <> t.name_key;

-- step: unmatched
-- One row per unmatched record (pub_unmatched, from unmatched_records), classified:
--   fix  需核对更正 — probably a person of the registry whose record is wrong: an ID number Excel destroyed, with a
--        wrong check character, an impossible birth date, region or length; no ID but a registry person of the same
--        name or a homophone in a township the record names; a valid ID the registry holds under another name; a valid
--        ID unknown to the registry but a registry person of the same name, birth date and sex (a mistyped ID) or of
--        the same surname and the same number to 15 digits (a number cell rewrote the last digits).
--        Each row says what to correct (fix).
--   ref  仅供参考（非本市农村人员）— a valid ID of someone the registry does not hold (the ID's region says from where),
--        or no ID and nobody of that name or a homophone in a township the record names.
-- basis says why the row is in its sheet; content summarises the record in words.
WITH rec AS (SELECT * FROM pub_unmatched),
rec_tw AS (SELECT * FROM pub_unmatched_place),
-- no ID: a registry person of that township with the same name or a homophone of it (pub_homophone). A name one
-- character apart is not enough: in a township, same-surname names one character apart are common.
near_place AS (
    SELECT t.source, t.source_file, t.source_row, min(t.township) AS township
    FROM rec_tw t
    JOIN registry_person p
      ON p.township_code = t.township_code AND left(p.name_key, 1) = left(t.name_key, 1)
    WHERE p.name_key = t.name_key
       OR EXISTS (SELECT 1 FROM pub_homophone h WHERE h.record_key = t.name_key AND h.person_key = p.name_key)
    GROUP BY t.source, t.source_file, t.source_row
),
-- a valid ID the registry holds under another name (linkage would not take it alone)
id_known AS (
    SELECT DISTINCT r.source, r.source_file, r.source_row
    FROM rec r JOIN registry_person p ON p.id_number = r.id_number
),
-- a valid ID the registry does not hold: a registry person of the same name, birth date and sex — a mistyped ID
-- (a near name is not enough here: among a city's people of one birth date, same-surname names one character apart
-- are common)
near_id AS (
    SELECT DISTINCT r.source, r.source_file, r.source_row
    FROM rec r
    JOIN registry_person p ON p.birth_date = r.birth_date AND p.name_key = r.name_key
    WHERE r.id_number IS NOT NULL AND (p.sex IS NULL OR r.sex IS NULL OR p.sex = r.sex)
),
-- a valid ID the registry does not hold, but the number of a registry person of the same surname cut to 15
-- significant digits, as a spreadsheet keeps a number (read back as a double, the last digits come out changed and now
-- and then with a valid check character). The registry side compares its first 15 digits as text: its 18 digits as
-- a double can round up into the next thousand (…191987 → …192000), the record's double stays within ±32 of them.
cell_id AS (
    SELECT DISTINCT r.source, r.source_file, r.source_row
    FROM rec r
    JOIN registry_person p
      ON TRY_CAST(left(p.id_number, 15) AS BIGINT) = CAST(round(TRY_CAST(r.id_number AS DOUBLE) / 1000) AS BIGINT)
     AND left(p.name_key, 1) = left(r.name_key, 1)
    WHERE r.id_number IS NOT NULL
),
expected AS (   -- the check character the first 17 characters give (GB 11643: weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2)
    SELECT source, source_file, source_row,
           substr('10X98765432', 1 + CAST((
                 7 * CAST(substr(id_candidate, 1, 1) AS INTEGER) + 9 * CAST(substr(id_candidate, 2, 1) AS INTEGER)
               + 10 * CAST(substr(id_candidate, 3, 1) AS INTEGER) + 5 * CAST(substr(id_candidate, 4, 1) AS INTEGER)
               + 8 * CAST(substr(id_candidate, 5, 1) AS INTEGER) + 4 * CAST(substr(id_candidate, 6, 1) AS INTEGER)
               + 2 * CAST(substr(id_candidate, 7, 1) AS INTEGER) + 1 * CAST(substr(id_candidate, 8, 1) AS INTEGER)
               + 6 * CAST(substr(id_candidate, 9, 1) AS INTEGER) + 3 * CAST(substr(id_candidate, 10, 1) AS INTEGER)
               + 7 * CAST(substr(id_candidate, 11, 1) AS INTEGER) + 9 * CAST(substr(id_candidate, 12, 1) AS INTEGER)
               + 10 * CAST(substr(id_candidate, 13, 1) AS INTEGER) + 5 * CAST(substr(id_candidate, 14, 1) AS INTEGER)
               + 8 * CAST(substr(id_candidate, 15, 1) AS INTEGER) + 4 * CAST(substr(id_candidate, 16, 1) AS INTEGER)
               + 2 * CAST(substr(id_candidate, 17, 1) AS INTEGER)) % 11 AS INTEGER), 1) AS check_char
    FROM rec WHERE id_status = 'bad_checksum' AND id_candidate IS NOT NULL
),
region AS (
    SELECT r.source, r.source_file, r.source_row,
           coalesce(c.name, g.name, p.name) AS region_name, left(r.id_number, 4) IN (${city_codes}) AS in_city
    FROM rec r
    LEFT JOIN pub_region c ON c.code = left(r.id_number, 6)
    LEFT JOIN pub_region g ON g.code = left(r.id_number, 4)
    LEFT JOIN pub_region p ON p.code = left(r.id_number, 2)
    WHERE r.id_number IS NOT NULL
),
id_text AS (
    SELECT source, source_file, source_row, '证件号码“' || coalesce(id_raw, '') || '”' AS quoted,
           length(regexp_replace(coalesce(id_raw, ''), '[\s''`]', '', 'g')) AS n_chars
    FROM rec
)
SELECT r.source, r.source_file, r.source_row, r.name, r.id_raw, r.id_status,
       r.county, r.township, r.village, r.hukou_address, r.place, r.event_date, r.content,
       CASE WHEN NOT r.has_record THEN 'fix'
            WHEN r.id_status IN ('mangled', 'bad_checksum', 'bad_date', 'bad_area', 'bad_length') THEN 'fix'
            WHEN np.source IS NOT NULL OR ni.source IS NOT NULL OR ik.source IS NOT NULL OR ci.source IS NOT NULL
                THEN 'fix'
            ELSE 'ref' END AS class,
       CASE WHEN NOT r.has_record THEN coalesce(r.link_reason, '户籍系统中找不到此人')
            WHEN r.id_status = 'mangled' THEN i.quoted || '已被Excel存成数字，后几位已丢失，无法与户籍系统比对'
            WHEN r.id_status = 'bad_checksum' THEN i.quoted || '的校验位（第18位）不对'
            WHEN r.id_status = 'bad_date' THEN i.quoted || '中的出生日期不存在'
            WHEN r.id_status = 'bad_area' THEN i.quoted || '的前两位不是省级地区码'
            WHEN r.id_status = 'bad_length' THEN i.quoted || '有' || CAST(i.n_chars AS VARCHAR) || '位，应为18位'
            WHEN ik.source IS NOT NULL THEN '户籍系统中有此证件号码，但登记的姓名不同'
            WHEN np.source IS NOT NULL THEN '未填写证件号码；户籍系统中' || np.township || '有姓名相同或同音的人员'
            WHEN ni.source IS NOT NULL THEN '户籍系统中没有此证件号码，但有姓名、出生日期和性别都相同的人员'
            WHEN ci.source IS NOT NULL THEN '户籍系统中没有此证件号码，但有前15位数相同的同姓人员：可能被Excel存成数字后末几位已变'
            WHEN r.id_number IS NOT NULL THEN
                '证件号码归属' || coalesce(g.region_name, '地区码' || left(r.id_number, 6))
                || CASE WHEN g.in_city THEN '，不在' || ${here} || '农村人口户籍系统中' ELSE '（非' || ${here} || '）' END
            WHEN r.place IS NULL THEN '未填证件号码和地址；户籍系统中无法对应'
            WHEN pl.source IS NOT NULL THEN '未填证件号码；地址“' || r.place || '”的户籍人员中没有同名或同音的'
            ELSE '未填证件号码；地址“' || r.place || '”不在' || ${here} || '农村地区'
       END AS basis,
       CASE WHEN NOT r.has_record THEN '请核对此行的姓名和证件号码'
            WHEN r.id_status = 'mangled' THEN '在原系统中把证件号码一列设为文本格式，重新导出本行（应为18位完整号码）'
            WHEN r.id_status = 'bad_checksum' THEN '按前17位计算，第18位应为“' || e.check_char || '”，记录为“'
                 || right(r.id_candidate, 1) || '”：可能有一位数字录错或前后颠倒，请对照身份证更正'
            WHEN r.id_status = 'bad_date' THEN '第7—14位“' || substr(regexp_replace(coalesce(r.id_raw, ''), '\s', '', 'g'), 7, 8)
                 || '”不是有效日期：请对照身份证更正出生日期部分'
            WHEN r.id_status = 'bad_area' THEN '请对照身份证核对前6位地区码后更正'
            WHEN r.id_status = 'bad_length' THEN '请对照身份证补全或更正（旧15位号码请换成18位）'
            WHEN ik.source IS NOT NULL THEN '请对照身份证核对姓名，在下次报送时更正本行'
            WHEN np.source IS NOT NULL THEN '请补填证件号码，在下次报送时更正本行'
            WHEN ni.source IS NOT NULL THEN '请对照身份证核对证件号码，在下次报送时更正本行'
            WHEN ci.source IS NOT NULL THEN '在原系统中把证件号码一列设为文本格式，重新导出本行（应为18位完整号码）'
       END AS fix
FROM rec r
JOIN id_text i USING (source, source_file, source_row)
LEFT JOIN near_place np USING (source, source_file, source_row)
LEFT JOIN (SELECT DISTINCT source, source_file, source_row FROM rec_tw) pl USING (source, source_file, source_row)
LEFT JOIN near_id ni USING (source, source_file, source_row)
LEFT JOIN cell_id ci USING (source, source_file, source_row)
LEFT JOIN id_known ik USING (source, source_file, source_row)
LEFT JOIN expected e USING (source, source_file, source_row)
LEFT JOIN region g USING (source, source_file, source_row)
ORDER BY r.source, r.source_file, r.source_row;

-- step: unmatched_drop
DROP TABLE IF EXISTS pub_unmatched;
DROP TABLE IF EXISTS pub_unmatched_place;
DROP TABLE IF EXISTS pub_homophone;

-- step: rejects
-- the rows (and whole files: source_row null) of the feeds ${feeds} that intake rejected, with the reason
SELECT source, source_file, source_row, field, reason FROM rejected_row
WHERE source IN (${feeds})
ORDER BY source_file, source_row NULLS FIRST, field;
