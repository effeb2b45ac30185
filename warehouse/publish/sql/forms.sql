-- The official forms' rows (warehouse/publish/forms.py), read from the TEMP tables warehouse.forms.build_forms made,
-- in the order the workbooks list them.

-- step: roster
SELECT * FROM _form_roster
ORDER BY county_code, township_code NULLS LAST, village_code NULLS LAST, household_id;

-- step: members
SELECT * FROM _form_member ORDER BY county_code, township, village, household_id, member_no;

-- step: wall
-- monitored households first, then by identification date
SELECT * FROM _form_wall
ORDER BY county_code, township_code NULLS LAST, village_code NULLS LAST,
         CASE WHEN status = 'monitored' THEN 0 ELSE 1 END, identified_on NULLS LAST, household_id;

-- step: archive
SELECT * FROM _form_archive
ORDER BY county_code, township_code NULLS LAST, village_code NULLS LAST,
         CASE WHEN status = 'monitored' THEN 0 ELSE 1 END, identified_on NULLS LAST, household_id;

-- step: archive_village
SELECT * FROM _form_archive_village ORDER BY county_code, township_code NULLS LAST, village_code NULLS LAST, doc_no;
