-- Members of roster households (名册, sheet 家庭成员), head first. Deliberately no 健康状况 column: health data is
-- sensitive personal information (个人信息保护法 art. 28) and the roster's risk types already say what it needs.
CREATE OR REPLACE TEMP TABLE _form_member AS
SELECT r.county_code, r.township, r.village, p.household_id,
       row_number() OVER (PARTITION BY p.household_id
                          ORDER BY CASE WHEN p.relation = '户主' THEN 0 ELSE 1 END, p.source_row, p.name) AS member_no,
       p.name, coalesce(p.id_number, p.id_raw) AS id_number, p.sex, p.birth_date, p.relation, p.labour, p.student,
       p.dibao, p.tekun
FROM registry_person p
JOIN _form_roster r USING (household_id);
