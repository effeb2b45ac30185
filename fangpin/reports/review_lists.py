"""Lists about records linkage could not decide (rows from :mod:`warehouse.review.lists`):

- 待核实匹配清单_<县>.xlsx per county: the records that matter this round — confirming one as a candidate's would
  change that household's screening result — most urgent first, each candidate with what it would change;
- 同名待定记录_<部门>.xlsx per department: its other undecided records (they change nobody's result, so the villages
  are not asked; an ID in the next extract lets them link).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from fangpin.domain import divisions
from fangpin.reports.publish import FEED_LABELS, UNMATCHED_COLS
from fangpin.reports.safe import child_path, safe_filename
from fangpin.reports.xlsx import Book, Col
from fangpin.settings import load
from warehouse.review import lists

COUNTY_COLS = [
    Col("序号", "seq", 6, "int"),
    Col("来源部门", "feed", 10),
    Col("文件名", "source_file", 26),
    Col("行号", "source_row", 7, "int"),
    Col("记录姓名", "record_name", 10),
    Col("证件号码（原样）", "id_raw", 22),
    Col("记录地址", "record_place", 26, "wrap"),
    Col("待核实原因", "reason", 28, "wrap"),
    Col("候选序号", "rank", 8, "int"),
    Col("候选人姓名", "cand_name", 10),
    Col("候选人证件号码", "cand_id", 21),
    Col("户编号", "cand_household", 16),
    Col("乡(镇)", "cand_township", 12),
    Col("行政村", "cand_village", 12),
    Col("匹配度", "cand_score", 8, "number"),
    Col("比对情况", "cand_detail", 28, "wrap"),
    Col("对筛查结果的影响", "change_text", 40, "wrap"),
    Col("核实结果（填写正确的候选序号，或“均不是”）", "verified", 22),
]

#: a department's undecided records: the columns of its 未匹配记录, with why and among how many they are undecided
DEPARTMENT_COLS = [c for c in UNMATCHED_COLS if c.key not in ("reason", "handling")] + [
    Col("无法确定的原因", "reason", 30, "wrap"),
    Col("候选人数", "candidates", 8, "int"),
    Col("处理意见", "handling", 20),
]


def write_review_lists(
    con: duckdb.DuckDBPyConnection, folder: Path, round_id: str | None = None, home: Path | None = None
) -> list[str]:
    """Write 待核实匹配清单_<county>.xlsx per county with material records and 同名待定记录_<department>.xlsx per
    department with the others into ``folder``; returns the file names."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return _county_lists(con, folder, round_id) + _department_lists(con, folder, round_id, home)


def _county_lists(con, folder: Path, round_id: str | None) -> list[str]:
    df = review_frame(con, round_id)
    names = divisions.counties()
    files = []
    for (code,), part in sorted(
        df.partition_by("county_code", as_dict=True, maintain_order=True).items(), key=lambda kv: kv[0][0] or ""
    ):
        county = names.get(code or "", code or "未知县区")
        name = safe_filename(f"待核实匹配清单_{county}.xlsx")
        title = f"{county} 待核实匹配清单" + (f"（第 {round_id} 轮）" if round_id else "")
        with Book(child_path(folder, name)) as book:
            book.table(
                "待核实匹配",
                COUNTY_COLS,
                part,
                title=title,
                fill_keys=("verified",),
                notes=[
                    "以下部门记录无法自动确定对应人员（同名、证件号码缺失或证据不足），且确认后会改变候选户的筛查结果，"
                    "按风险从高到低排列。请核实后在“核实结果”栏填写正确的候选序号，或“均不是”。",
                    "“对筛查结果的影响”说明若确认为该候选人，该户的疑似类别或风险类型将如何变化；只列出本县的候选人员。"
                    "匹配度为该候选人是记录本人的估计概率。",
                ],
            )
        files.append(name)
    return files


def _department_lists(con, folder: Path, round_id: str | None, home: Path | None) -> list[str]:
    departments = (load("routing", home).get("departments") or {}).values()
    owners: dict[str, list[str]] = {}
    for dept in departments:
        for feed in dept.get("feeds") or []:
            owners.setdefault(str(dept.get("name", feed)), []).append(feed)
    owned = {f for fs in owners.values() for f in fs}
    for feed in FEED_LABELS:
        if feed not in owned and feed not in ("registry",):
            owners[FEED_LABELS[feed]] = [feed]
    files = []
    for dname, feeds in sorted(owners.items()):
        rows = lists.department_rows(con, round_id, feeds)
        if rows.height == 0:
            continue
        rows = rows.with_columns(pl.int_range(1, rows.height + 1, dtype=pl.Int64).alias("seq"))
        name = safe_filename(f"同名待定记录_{dname}.xlsx")
        with Book(child_path(folder, name)) as book:
            book.table(
                "同名待定（不影响筛查）",
                DEPARTMENT_COLS,
                rows,
                title=f"{dname} 同名待定记录（第 {round_id} 轮）",
                notes=[
                    "以下记录没有有效证件号码，户籍系统中有多名同名（或相近）人员，无法确定本人。经比对，无论属于其中哪一人，"
                    "本轮筛查结果都不变，因此不推送乡村核实。请在下次报送时补充有效证件号码，系统即可自动匹配。",
                ],
                fill_keys=("handling",),
            )
        files.append(name)
    return files


def review_frame(con: duckdb.DuckDBPyConnection, round_id: str | None = None) -> pl.DataFrame:
    """The county review rows (county, record, candidate; in list order) with what the workbook shows: 序号 per
    county (a record's candidates share it), the department's name, the score as a number."""
    df = lists.county_rows(con, round_id)
    record = pl.struct("source", "source_file", "source_row")
    return df.with_columns(
        (record.rle_id().over(pl.col("county_code").fill_null("")) + 1).cast(pl.Int64).alias("seq"),
        pl.col("source").replace_strict(FEED_LABELS, default=pl.col("source"), return_dtype=pl.String).alias("feed"),
        pl.col("cand_score").cast(pl.Float64).fill_null(0.0),
    )
