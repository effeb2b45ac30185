"""Lists about records linkage could not decide, for people (rows from :mod:`warehouse.review.lists`):

- 待核实匹配清单_<县>.xlsx per county: the records that matter this round — confirming one as a candidate's would
  change that household's screening result — most urgent first, each candidate with what it would change
  (:func:`warehouse.publish.review_rows`);
- 同名待定记录_<部门>.xlsx per department: its other undecided records (they change nobody's result, so the villages
  are not asked; an ID in the next extract lets them link).

The rows stay Polars frames (a province has millions of review rows): 序号 numbers the records of a county (a
record's candidates share it), and each county's frame goes to its workbook as it is."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from fangpin.domain import divisions
from fangpin.domain.departments import FEED_LABELS
from fangpin.reports import fills
from fangpin.reports.safe import child_path, safe_filename
from fangpin.reports.xlsx import Book, Col, Fill

COLS = [
    Col("序号", "seq", 5, "int"),
    Col("来源部门", "feed", 11),  # 应急管理局: five characters on one line
    Col("来源文件", "source_file", 20, "wrap"),
    Col("行号", "source_row", 6, "int"),
    Col("记录姓名", "record_name", 8),
    Col("证件号码（原样）", "id_raw", 20),
    Col("记录地址", "record_place", 18, "wrap"),
    Col("待核实原因", "reason", 24, "wrap"),
    Col("候选序号", "rank", 6, "int"),
    Col("候选人姓名", "cand_name", 8),
    Col("候选人证件号码", "cand_id", 20),
    Col("户编号", "cand_household", 17),
    Col("乡(镇)", "cand_township", 10),
    Col("行政村", "cand_village", 10),
    Col("匹配度", "cand_score", 7, "percent"),
    Col("匹配度依据", "cand_detail", 24, "wrap"),
    Col("对筛查结果的影响", "change_text", 30, "wrap"),
]
VERIFIED_HEADER = "核实结果（填写正确的候选序号，或“均不是”）"
NONE_OF_THEM = "均不是"


def verified_col(max_rank: int) -> Col:
    choices = tuple(str(i) for i in range(1, max(max_rank, 1) + 1)) + (NONE_OF_THEM,)
    return Col(
        VERIFIED_HEADER,
        "verified",
        14,
        fill=Fill(
            f"核实后选择正确的候选序号（1—{max(max_rank, 1)}），都不是本人请选“{NONE_OF_THEM}”。", choices=choices
        ),
    )


def prepare(df: pl.DataFrame, labels: dict[str, str] | None = None) -> pl.DataFrame:
    """What the workbook shows: 序号 per county (one per record), the department's name, the score as a fraction
    (shown as a percentage)."""
    labels = labels or FEED_LABELS
    record = pl.struct("source", "source_file", "source_row")
    return df.with_columns(
        (record.rle_id().over(pl.col("county_code").fill_null("")) + 1).cast(pl.Int64).alias("seq"),
        pl.col("source").replace_strict(labels, default=pl.col("source"), return_dtype=pl.String).alias("feed"),
        pl.col("cand_score").cast(pl.Float64).fill_null(0.0),
    )


def review_jobs(df: pl.DataFrame, folder: Path, round_id: str | None, labels: dict[str, str] | None = None) -> list:
    """One job per county with review rows (see :mod:`fangpin.reports.parallel`); each returns its file name."""
    df = prepare(df, labels)
    jobs = []
    for (code,), part in sorted(
        df.partition_by("county_code", as_dict=True, maintain_order=True).items(), key=lambda kv: kv[0][0] or ""
    ):
        county = divisions.county_name(code, code or "未知县区")
        label = divisions.county_label(code, code or "未知县区")
        jobs.append((_write_review_list, (Path(folder), county, label, round_id, part)))
    return jobs


def write_review_lists(df: pl.DataFrame, folder: Path, round_id: str | None = None, labels=None) -> list[str]:
    """Write 待核实匹配清单_<county>.xlsx per county into ``folder``; returns the file names."""
    Path(folder).mkdir(parents=True, exist_ok=True)
    return [fn(*args) for fn, args in review_jobs(df, folder, round_id, labels)]


def _write_review_list(folder: Path, county: str, label: str, round_id: str | None, part: pl.DataFrame) -> str:
    name = safe_filename(f"待核实匹配清单_{label}.xlsx")
    title = f"{county} 待核实匹配清单" + (f"（第 {round_id} 轮）" if round_id else "")
    max_rank = int(part["rank"].max() or 1) if part.height else 1
    with Book(child_path(folder, name), rows=part.height) as book:
        book.table(
            "待核实匹配",
            COLS + [verified_col(max_rank)],
            part,
            title=title,
            notes=[
                "以下部门记录无法自动确定对应人员（同村同名、证件号码缺失或证据不足），且确认后会改变候选户的筛查结果，"
                "按风险从高到低排列。请核实后在黄色列选择正确的候选序号。",
                "匹配度：该候选人是记录本人的估计可能性；同一记录的候选人按匹配度从高到低排列，"
                "“匹配度依据”写明比对了什么、为什么无法确定；“对筛查结果的影响”说明若确认为该候选人，"
                "该户的疑似类别或风险类型将如何变化。只列出本县的候选人员。",
            ],
            empty="本县没有需要核实的匹配记录。",
        )
    return name


#: a department's undecided records: where they are in its files, what they say, why and among how many undecided
HELD_COLS = [
    Col("序号", "seq", 5, "int"),
    Col("来源文件", "source_file", 30, "wrap"),
    Col("行号", "source_row", 6, "int"),
    Col("姓名", "name", 8),
    Col("证件号码（原样）", "id_raw", 20),
    Col("记录地址", "place", 18, "wrap"),
    Col("日期", "event_date", 11, "date"),
    Col("内容", "content", 30, "wrap"),
    Col("无法确定的原因", "reason", 30, "wrap"),
    Col("候选人数", "candidates", 6, "int"),
    Col("处理情况", "handling", 12, fill=fills.HANDLING),
]


def held_jobs(held: dict[str, pl.DataFrame], folder: Path, round_id: str | None) -> list:
    """One job per department with undecided records that change nobody's result (``held``: department name → rows
    of :func:`warehouse.review.lists.department_rows`); each returns its file name."""
    return [
        (_write_held_list, (Path(folder), dname, round_id, rows)) for dname, rows in sorted(held.items()) if rows.height
    ]


def _write_held_list(folder: Path, dname: str, round_id: str | None, rows: pl.DataFrame) -> str:
    name = safe_filename(f"同名待定记录_{dname}.xlsx")
    rows = rows.with_columns(pl.int_range(1, rows.height + 1, dtype=pl.Int64).alias("seq"))
    with Book(child_path(folder, name), rows=rows.height) as book:
        book.table(
            "同名待定（不影响筛查）",
            HELD_COLS,
            rows,
            title=f"{dname} 同名待定记录" + (f"（第 {round_id} 轮）" if round_id else ""),
            notes=[
                "以下记录无法确定本人：没有有效证件号码而户籍系统中有同名（或相近）人员，或证件号码有效但户籍系统中没有此号码"
                "（原因见“无法确定的原因”）。经比对，无论属于其中哪一人，本轮筛查结果都不变，因此不推送乡村核实。"
                "请在下次报送时补充或核对证件号码，系统即可自动匹配。",
            ],
        )
    return name
