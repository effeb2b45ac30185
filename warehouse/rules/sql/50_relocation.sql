-- 易地搬迁 横向比较 (SPEC §6.5): within each resettlement community, the relocated households with the lowest
-- adjusted incomes (bottom share, default 10%) or below weak_factor × line are listed for follow-up.
CREATE OR REPLACE TEMP TABLE _reloc_followup AS
WITH x AS (
    SELECT s.household_id, rl.site_key, coalesce(rl.site, v.village) AS resettlement_site, rl.live_county_code,
           rl.hukou_county_code, rl.hukou_moved_flag, s.adjusted_income, s.monitoring_line, s.weak_factor,
           r.reloc_bottom_share,
           row_number() OVER (PARTITION BY rl.site_key ORDER BY s.adjusted_income, s.household_id) AS rank_in_site,
           count(*) OVER (PARTITION BY rl.site_key) AS n_in_site
    FROM _scr s
    JOIN _reloc rl ON rl.household_id = s.household_id
    JOIN _r r ON r.county_key = s.county_key
    LEFT JOIN village v ON v.village_code = rl.site_village_code
    WHERE rl.site_key IS NOT NULL
)
SELECT *,
       concat_ws('；',
           CASE WHEN rank_in_site <= ceil(reloc_bottom_share * n_in_site)
                THEN '安置点内调整后人均收入最低的' || round(reloc_bottom_share * 100) || '%（第' || rank_in_site || '/' || n_in_site || '名）' END,
           CASE WHEN adjusted_income < weak_factor * monitoring_line
                THEN '调整后人均收入低于监测线的' || weak_factor || '倍' END) AS reason
FROM x
WHERE rank_in_site <= ceil(reloc_bottom_share * n_in_site) OR adjusted_income < weak_factor * monitoring_line;
