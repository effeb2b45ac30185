-- Helpers of the rules' SQL (TEMP macros of the session that runs the round).

CREATE OR REPLACE TEMP MACRO fp_yes(x) AS coalesce(trim(CAST(x AS VARCHAR)) IN ('是', 'Y', 'y', '1', 'true', 'True', 'TRUE', '有'), false);
CREATE OR REPLACE TEMP MACRO fp_blank(x) AS (x IS NULL OR trim(CAST(x AS VARCHAR)) IN ('', '无', '否', '-', '—', '/', '空'));
CREATE OR REPLACE TEMP MACRO fp_short_village(x) AS
    regexp_replace(regexp_replace(coalesce(x, ''), '\s+', '', 'g'), '(村民委员会|村委会|居民委员会|居委会|社区|村)$', '');
CREATE OR REPLACE TEMP MACRO fp_short_township(x) AS
    regexp_replace(regexp_replace(coalesce(x, ''), '\s+', '', 'g'), '(仫佬族|苗族|瑶族|侗族|壮族)?(镇|乡|街道|街道办事处)$', '');
CREATE OR REPLACE TEMP MACRO fp_date(d) AS strftime(d, '%Y年%-m月%-d日');
-- money to the cent, rounded as a decimal: a parallel sum of doubles adds in a different order each run, and a half
-- cent would round either way (and DuckDB and Spark round a double's half cent differently)
CREATE OR REPLACE TEMP MACRO fp_cents(x) AS CAST(round(CAST(x AS DECIMAL(18, 6)), 2) AS DOUBLE);
CREATE OR REPLACE TEMP MACRO fp_money(x) AS (format('{:,.2f}', fp_cents(x)) || '元');
-- County subset of this run (a county rerun writes only its rows): _p.all_counties, else the codes in _p.scope
-- (current codes plus the historic codes that belong to them).
CREATE OR REPLACE TEMP MACRO fp_in_scope(code) AS
    ((SELECT all_counties FROM _p) OR coalesce(list_contains((SELECT scope FROM _p), code), false));
