"""County review lists for people: 待核实匹配清单_<县>.xlsx, one per county, from the review rows of
:mod:`warehouse.linkage.lists` (records linkage could not decide, with their candidates and the reason)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from fangpin.domain import divisions
from fangpin.reports.publish import FEED_LABELS
from fangpin.reports.safe import child_path, safe_filename
from fangpin.reports.xlsx import Book, Col
from warehouse.linkage.lists import REVIEW_SQL


def write_review_lists(con: duckdb.DuckDBPyConnection, folder: Path, round_id: str | None = None) -> list[str]:
    """Write 待核实匹配清单_<county>.xlsx per county into ``folder``; returns the file names.

    The rows stay a Polars frame (a province has millions of review rows): 序号 numbers the records of a county (a
    record's candidates share it), and each county's frame goes to the workbook as it is."""
    cols = [
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
        Col("核实结果（填写正确的候选序号，或“均不是”）", "verified", 22),
    ]
    df = review_frame(con)
    names = divisions.counties()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
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
                cols,
                part,
                title=title,
                fill_keys=("verified",),
                notes=[
                    "以下部门记录无法自动确定对应人员（同村同名、证件号码缺失或证据不足），请核实后在“核实结果”栏填写正确的候选序号。",
                    "匹配度为该候选人是记录本人的估计概率；同一记录的候选人按匹配度从高到低排列。",
                ],
            )
        files.append(name)
    return files


def review_frame(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The review rows (county, record, candidate; in that order) with what the workbook shows: 序号 per county,
    the department's name, the score as a number."""
    df = con.sql(REVIEW_SQL).pl()
    record = pl.struct("source", "source_file", "source_row")
    return df.with_columns(
        (record.rle_id().over(pl.col("county_code").fill_null("")) + 1).cast(pl.Int64).alias("seq"),
        pl.col("source").replace_strict(FEED_LABELS, default=pl.col("source"), return_dtype=pl.String).alias("feed"),
        pl.col("cand_score").cast(pl.Float64).fill_null(0.0),
    )
