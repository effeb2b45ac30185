"""Review lists for people: one workbook per county (待核实匹配清单_<县>.xlsx) with every department record that
linkage sent to review, its candidates (from ``link_candidate``) and why it could not be decided.

A record goes to the county of its best candidate (the county that can verify it); the workbook holds only that
county's candidate persons (SPEC §9). The per-department unmatched lists (未匹配记录) are written by
fangpin.reports.publish from the same ``link`` table.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from fangpin.domain import divisions

REVIEW_SQL = """
    WITH rv AS (SELECT source, source_file, source_row, reason FROM link WHERE match_method = 'review'),
    -- the county of each record's best candidate (null when that candidate has no county: the record is left out)
    first AS (
        SELECT source, source_file, source_row, first(county_code ORDER BY rank) AS county_code
        FROM link_candidate SEMI JOIN rv USING (source, source_file, source_row) GROUP BY ALL
    ),
    -- only the review records' rows of dept_record, and only the villages of their candidates (not the whole tables)
    d AS (
        SELECT DISTINCT ON (source, source_file, source_row) source, source_file, source_row, name, id_raw, county,
               township, village, hukou_address
        FROM dept_record SEMI JOIN rv USING (source, source_file, source_row)
        ORDER BY source, source_file, source_row
    ),
    v AS (
        SELECT DISTINCT ON (village_code) village_code, township, village FROM registry_person
        WHERE village_code IN (SELECT village_code FROM link_candidate SEMI JOIN rv USING (source, source_file, source_row))
        ORDER BY village_code
    )
    SELECT c.county_code, l.source, l.source_file, l.source_row, d.name AS record_name, d.id_raw,
        concat_ws('', d.county, d.township, d.village, d.hukou_address) AS record_place,
        l.reason, c.rank, c.name AS cand_name, c.id_number AS cand_id, c.household_id AS cand_household,
        v.township AS cand_township, v.village AS cand_village, c.score AS cand_score, c.detail AS cand_detail
    FROM rv l
    JOIN link_candidate c USING (source, source_file, source_row)
    JOIN first f USING (source, source_file, source_row)
    LEFT JOIN d USING (source, source_file, source_row)
    LEFT JOIN v ON v.village_code = c.village_code
    WHERE c.county_code = f.county_code
    ORDER BY c.county_code, l.source, l.source_file, l.source_row, c.rank
"""

FEED_LABELS = {"medical": "医保", "disaster": "应急管理", "civil_affairs": "民政", "employment": "人社",
               "property": "财产检索", "housing": "住建", "education": "教育", "disability": "残联"}


def review_rows(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """One row per (review record, candidate of the record's county), ordered by county and record."""
    rel = con.sql(REVIEW_SQL)
    cols = rel.columns
    return [dict(zip(cols, r)) for r in rel.fetchall()]


def write_review_lists(con: duckdb.DuckDBPyConnection, folder: Path, round_id: str | None = None) -> list[str]:
    """Write 待核实匹配清单_<county>.xlsx per county into ``folder``; returns the file names."""
    from fangpin.reports.safe import child_path, safe_filename
    from fangpin.reports.xlsx import Book, Col

    cols = [
        Col("序号", "seq", 6, "int"), Col("来源部门", "feed", 10), Col("文件名", "source_file", 26),
        Col("行号", "source_row", 7, "int"), Col("记录姓名", "record_name", 10), Col("证件号码（原样）", "id_raw", 22),
        Col("记录地址", "record_place", 26, "wrap"), Col("待核实原因", "reason", 28, "wrap"),
        Col("候选序号", "rank", 8, "int"), Col("候选人姓名", "cand_name", 10), Col("候选人证件号码", "cand_id", 21),
        Col("户编号", "cand_household", 16), Col("乡(镇)", "cand_township", 12), Col("行政村", "cand_village", 12),
        Col("匹配度", "cand_score", 8, "number"), Col("比对情况", "cand_detail", 28, "wrap"),
        Col("核实结果（填写正确的候选序号，或“均不是”）", "verified", 22),
    ]
    rows = review_rows(con)
    names = divisions.counties()
    by_county: dict[str, list[dict]] = {}
    for r in rows:
        by_county.setdefault(r["county_code"] or "", []).append(r)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for code, items in sorted(by_county.items()):
        seq, last = 0, None
        for r in items:
            key = (r["source"], r["source_file"], r["source_row"])
            if key != last:
                seq, last = seq + 1, key
            r["seq"] = seq
            r["feed"] = FEED_LABELS.get(r["source"], r["source"])
            r["cand_score"] = float(r["cand_score"] or 0.0)
        county = names.get(code, code or "未知县区")
        name = safe_filename(f"待核实匹配清单_{county}.xlsx")
        title = f"{county} 待核实匹配清单" + (f"（第 {round_id} 轮）" if round_id else "")
        with Book(child_path(folder, name)) as book:
            book.table("待核实匹配", cols, items, title=title, fill_keys=("verified",), notes=[
                "以下部门记录无法自动确定对应人员（同村同名、证件号码缺失或证据不足），请核实后在“核实结果”栏填写正确的候选序号。",
                "匹配度为该候选人是记录本人的估计概率；同一记录的候选人按匹配度从高到低排列。",
            ])
        files.append(name)
    return files
