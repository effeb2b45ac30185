"""Everything a round publishes under ``<home>/out/<round_id>/`` (SPEC §7), written from the round's tables.

``write_round(tables, home, round_id)`` takes the frames of :func:`warehouse.publish.round_tables` (a dict: the
caller joins the two, e.g. :func:`assets.publishing.publish_round`) — this module runs no SQL — and writes:

- ``suspects.parquet``  — SPEC §7 columns + extras; ``evidence`` = list of struct{source, source_file, source_row,
  summary, amount, risk_type} (one entry per department record; risk_type joins the flags the record supports);
- ``links.parquet``     — the ``link`` table (one row per accepted department record);
- ``rejected.parquet``  — the ``rejected_row`` table (source_row null = a whole file);
- ``疑似风险户清单_<县>.xlsx`` per county in the registry: sheet 疑似风险户清单 (priority order, township/village
  columns with filters, evidence in words, blank 核实结果/认定类别/核实日期/核实人 with dropdowns for county staff),
  sheet 易地搬迁分流 (relocated households whose hukou did not move: both places, the label 安置地 / 户籍地分流 / 同县,
  the two helpers 户籍地帮扶联系人 / 安置社区帮扶联系人 — from returned follow-up data when the two counties differ,
  else blank for staff), sheet 安置点横向比较 (SPEC §6.5); a county's workbook holds only its own households plus
  relocated households routed to it, labelled;
- priority rounds (SPEC §6.4, Q1/Q3): ``重点区域排查_<县>.xlsx`` per county (sheets 重点排查村 with the reasons,
  重点排查户 in screening order) and ``priority_targets.parquet`` / ``priority_households.parquet``;
- ``行业部门任务清单_<部门>.xlsx`` per department in routing.yaml: monitored households with a new risk
  (监测户新增风险) whose risk types concern the department, with the deadline (落实截止日期) and a priority legend;
- ``未匹配记录_<部门>.xlsx`` per department sending a feed: sheet 需核对更正 (records that are probably people of the
  registry, each with what to correct), sheet 仅供参考（非本市农村人员） (people outside the city's rural registry;
  非本地区 for several prefectures), sheet 拒收记录 (rows intake rejected) — file and row on every line so the clerk can find it;
- ``待核实匹配清单_<县>.xlsx`` per county with material review records (confirming one would change a household's
  screening result) and ``同名待定记录_<部门>.xlsx`` per department with its other undecided records
  (:mod:`fangpin.reports.review_lists`);
- ``汇总_<round_id>.html`` (inline SVG, no external resource) and ``汇总_<round_id>.xlsx`` (native Excel charts),
  with the systemic-risk section when ``tables["systemic"]`` holds the round's flags
  (:func:`fangpin.reports.summary.systemic_section`).

Workbooks are independent jobs run side by side in worker processes (:mod:`fangpin.reports.parallel`); each job
gets only its own rows. A county rerun (tables of a scope) writes only those counties' workbooks; in the round-wide
Parquet files it replaces only their rows (the published rows of the other counties are read back and kept as they
were); task lists and the summary are regenerated from the round's tables; links/rejected/未匹配记录/review lists
are left to full publications (or written by the first publication of a round, whatever its counties).

Files are written to a scratch folder and moved into place one by one; files of an earlier run of the same round
that a full publication no longer produces (e.g. a department with nothing left) are removed. Other files in the
folder are left alone. Cell text from inputs is neutralised (``fangpin.reports.safe``); file names are sanitised.
A failure names the output it was writing (``PublishError.file``).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from pathlib import Path

import polars as pl

from fangpin.domain import departments, divisions
from fangpin.reports import fills
from fangpin.reports import summary as summary_mod
from fangpin.reports.parallel import default_workers, run_jobs
from fangpin.reports.review_lists import held_jobs, review_jobs
from fangpin.reports.safe import child_path, safe_filename
from fangpin.reports.xlsx import Book, Col
from fangpin.settings import load

OWN_PATTERNS = (
    r"^suspects\.parquet$",
    r"^links\.parquet$",
    r"^rejected\.parquet$",
    r"^疑似风险户清单_.*\.xlsx$",
    r"^行业部门任务清单_.*\.xlsx$",
    r"^未匹配记录_.*\.xlsx$",
    r"^汇总_.*\.(html|xlsx)$",
    r"^重点区域排查_.*\.xlsx$",
    r"^priority_targets\.parquet$",
    r"^priority_households\.parquet$",
    r"^待核实匹配清单_.*\.xlsx$",
    r"^同名待定记录_.*\.xlsx$",
)
ROUND_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")

VERIFY_FILL = ("verify_result", "verify_date", "verifier", "namesake_result")
#: below this many table rows the workbooks are written here: starting worker processes would cost more
PARALLEL_MIN_ROWS = 20_000

# ---------------------------------------------------------------------------------------------- columns

MAIN_COLS = [
    Col("序号", "seq", 5, "int"),
    Col("乡(镇)", "township", 10),
    Col("行政村", "village", 10),
    Col("户编号", "household_id", 17),
    Col("户主姓名", "head_name", 8),
    Col("家庭人口数", "household_size", 5, "int"),
    Col("疑似类别", "suspect_category", 12, "wrap"),
    Col("风险类型", "risk_types", 12, "wrap"),
    Col("调整后人均收入", "adjusted_per_capita_income", 10, "money"),
    Col("优先级", "priority_score", 6, "number"),
    Col("备注", "flags_text", 14, "wrap"),
    Col("情况说明", "reason_summary", 28, "wrap"),
    Col("证据", "evidence_text", 40, "wrap"),
    Col("同名待确认（入户核实要点）", "pending_check", 28, "wrap"),
    Col("核实结果", "verify_result", 10, fill=fills.VERIFY_RESULT),
    Col("认定类别", "decided_category", 12, fill=fills.CATEGORY),
    Col("核实日期", "verify_date", 11, fill=fills.VERIFY_DATE),
    Col("核实人", "verifier", 8, fill=fills.VERIFIER),
    Col("同名记录核实（是本户/不是本户）", "namesake_result", 10, fill=fills.NAMESAKE_RESULT),
    # on screen only (filters, programs): the printout states the deadline and the line in its notes
    Col("核实截止日期", "verify_by", 12, "date", screen_only=True),
    Col("分流标签", "routing_label", 12, screen_only=True),
    Col("县(市、区)", "county_name", 12, screen_only=True),
    Col("户类型", "household_type", 10, screen_only=True),
    Col("监测对象类别", "monitoring_category", 13, screen_only=True),
    Col("风险是否已消除", "risk_eliminated", 9, screen_only=True),
    Col("基础人均收入", "base_per_capita_income", 12, "money", screen_only=True),
    Col("监测线", "monitoring_line", 10, "money", screen_only=True),
    Col("刚性支出合计", "rigid_spending", 12, "money", screen_only=True),
    Col("财产检索", "property_text", 10, screen_only=True),
    Col("推送日期", "pushed_on", 11, "date", screen_only=True),
    Col("截止日期说明", "verify_by_note", 16, screen_only=True),
]

RELOC_COLS = [
    Col("序号", "seq", 5, "int"),
    Col("分流标签", "routing_label", 10, "wrap"),
    Col("户编号", "household_id", 17),
    Col("户主姓名", "head_name", 8),
    Col("安置点（安置社区）", "resettlement_site", 16, "wrap"),
    Col("安置地县(市、区)", "live_county_name", 12, "wrap"),
    Col("户籍地县(市、区)", "hukou_county_name", 12, "wrap"),
    Col("户籍地乡(镇)", "hukou_township_name", 10),
    Col("户籍登记村", "village", 10),
    Col("疑似类别", "suspect_category", 12, "wrap"),
    Col("风险类型", "risk_types", 12, "wrap"),
    Col("调整后人均收入", "adjusted_per_capita_income", 10, "money"),
    Col("优先级", "priority_score", 6, "number"),
    Col("户籍地帮扶联系人", "hukou_helper", 10, fill=fills.HELPER),
    Col("安置社区帮扶联系人", "site_helper", 10, fill=fills.HELPER),
    Col("核实结果", "verify_result", 10, fill=fills.VERIFY_RESULT),
    Col("核实日期", "verify_date", 11, fill=fills.VERIFY_DATE),
    Col("核实人", "verifier", 8, fill=fills.VERIFIER),
    Col("认定与帮扶分工", "duty", 44, "wrap", screen_only=True),
    Col("户籍地来源", "hukou_source", 14, screen_only=True),
    Col("核实截止日期", "verify_by", 12, "date", screen_only=True),
]
DUTY = (
    "双帮扶人：户籍地和易地安置社区各安排一名帮扶联系人。由户籍地按监测对象认定程序开展认定；"
    "安置社区负责日常排查、横向比较并反馈户籍地。"
)

FOLLOWUP_COLS = [
    Col("序号", "seq", 5, "int"),
    Col("安置点（安置社区）", "resettlement_site", 16, "wrap"),
    Col("户编号", "household_id", 17),
    Col("户主姓名", "head_name", 8),
    Col("户籍地县(市、区)", "hukou_county_name", 12, "wrap"),
    Col("户籍是否迁出", "hukou_moved", 8),
    Col("调整后人均收入", "adjusted_per_capita_income", 10, "money"),
    Col("监测线", "monitoring_line", 9, "money"),
    Col("安置点内排名（由低到高）", "rank_text", 12),
    Col("列入原因", "reason", 36, "wrap"),
    Col("跟踪情况", "verify_result", 18, fill=fills.TRACKING),
]

TARGET_COLS = [
    Col("序号", "seq", 5, "int"),
    Col("乡(镇)", "township", 12),
    Col("行政村", "village", 14),
    Col("行政村代码", "village_code", 14),
    Col("列为重点区域的原因", "reasons", 50, "wrap"),
    Col("户数", "households", 7, "int"),
    Col("脱贫户", "tuopin_households", 7, "int"),
    Col("监测户", "monitored_households", 7, "int"),
    Col("近期灾情记录", "recent_disaster_records", 9, "int"),
]

PRIORITY_HH_COLS = [
    Col("排查顺序", "screening_rank", 7, "int"),
    Col("乡(镇)", "township", 10),
    Col("行政村", "village", 10),
    Col("所在重点村", "target_village", 10),
    Col("户编号", "household_id", 17),
    Col("户主姓名", "head_name", 8),
    Col("是否疑似风险户", "is_suspect", 8),
    Col("疑似类别", "suspect_category", 12, "wrap"),
    Col("优先级", "priority_score", 6, "number"),
    Col("调整后人均收入", "adjusted_per_capita_income", 10, "money"),
    Col("监测线", "monitoring_line", 9, "money"),
    Col("列入原因", "reasons", 36, "wrap"),
    Col("排查结果", "verify_result", 10, fill=fills.SCREEN_RESULT),
    Col("排查日期", "verify_date", 11, fill=fills.SCREEN_DATE),
    Col("排查人", "verifier", 8, fill=fills.SCREENER),
]

TASK_COLS = [
    Col("序号", "seq", 5, "int"),
    Col("县(市、区)", "county_name", 12, "wrap"),
    Col("乡(镇)", "township", 10),
    Col("行政村", "village", 10),
    Col("户编号", "household_id", 17),
    Col("户主姓名", "head_name", 8),
    Col("家庭人口数", "household_size", 5, "int"),
    Col("监测对象类别", "monitoring_category", 12, "wrap"),
    Col("本部门相关风险", "dept_risk_types", 12, "wrap"),
    Col("优先级", "priority_score", 6, "number"),
    Col("情况说明", "reason_summary", 28, "wrap"),
    Col("证据", "evidence_text", 40, "wrap"),
    Col("落实截止日期", "task_by", 11, "date"),
    Col("帮扶措施", "measure", 18, fill=fills.MEASURE),
    Col("落实日期", "measure_date", 11, fill=fills.MEASURE_DATE),
    Col("经办人", "handler", 8, fill=fills.HANDLER),
    Col("全部风险类型", "risk_types", 18, screen_only=True),
    Col("户类型", "household_type", 10, screen_only=True),
    Col("推送日期", "pushed_on", 11, "date", screen_only=True),
]


def _record_cols(place: float, content: float) -> list[Col]:
    return [
        Col("序号", "seq", 5, "int"),
        Col("来源文件", "source_file", 30, "wrap"),
        Col("行号", "source_row", 6, "int"),
        Col("姓名", "name", 8),
        Col("证件号码（原样）", "id_raw", 20),
        Col("记录地址", "place", place, "wrap"),
        Col("日期", "event_date", 11, "date"),
        Col("内容", "content", content, "wrap"),
    ]


FIX_COLS = _record_cols(18, 30) + [
    Col("问题", "basis", 30, "wrap"),
    Col("更正方法", "fix", 36, "wrap"),
    Col("处理情况", "handling", 12, fill=fills.HANDLING),
]
#: one line a row where the texts allow: a department may print hundreds of people outside the registry
REFERENCE_COLS = _record_cols(16, 48) + [Col("判断依据", "basis", 40, "wrap")]
FIX_SHEET = "需核对更正"
#: a city's name of the sheet; with several prefectures it says 本地区 (``divisions.area_word``)
REFERENCE_SHEET = "仅供参考（非本市农村人员）"

REJECT_COLS = [
    Col("序号", "seq", 5, "int"),
    Col("来源文件", "source_file", 28, "wrap"),
    Col("行号", "row_text", 10),
    Col("字段", "field", 14, "wrap"),
    Col("拒收原因", "reason", 60, "wrap"),
]


# ---------------------------------------------------------------------------------------------- errors


class PublishError(RuntimeError):
    """Writing one output failed; ``file`` names it (a run failure says which file broke)."""

    def __init__(self, file: str, cause: BaseException | str):
        self.file = file
        self.cause_text = cause if isinstance(cause, str) else f"{type(cause).__name__}: {cause}"
        super().__init__(f"could not write {file} (无法生成 {file}): {self.cause_text}")

    def __reduce__(self):  # a worker process's failure crosses back intact
        return (PublishError, (self.file, self.cause_text))


class _Stage:
    """``with _Stage("疑似风险户清单_融水苗族自治县.xlsx"):`` — any error inside becomes a PublishError naming it."""

    def __init__(self, name: str):
        self.name = name

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc is not None and not isinstance(exc, PublishError):
            raise PublishError(self.name, exc) from exc
        return False


# ---------------------------------------------------------------------------------------------- helpers


def _names(codes: pl.Series, fallback: pl.Series | None = None, missing: str | None = None) -> pl.Series:
    """County names for a column of county codes (``missing`` for a null code, when given)."""
    fb = fallback.to_list() if fallback is not None else [None] * len(codes)
    return pl.Series(
        [
            (missing if (missing is not None and not c) else divisions.county_name(c, f))
            for c, f in zip(codes.to_list(), fb, strict=True)
        ],
        dtype=pl.String,
    )


def _numbered(df: pl.DataFrame) -> pl.DataFrame:
    return df.with_columns(pl.int_range(1, df.height + 1, dtype=pl.Int64).alias("seq"))


def _township_name(code: str | None) -> str | None:
    if not code:
        return None
    for t in divisions.townships():
        if t.code == code:
            return t.name
    return None


def priority_legend(home: Path | None) -> str:
    """What 优先级 means, from the weights in rules.yaml (the same the rules compute it with)."""
    d = load("rules", home).get("defaults") or {}

    def pct(key: str, default: float) -> str:
        return f"{float(d.get(key, default)) * 100:.0f}%"

    penalty = float(d.get("property_priority_penalty", 0.5))
    return (
        "优先级（0—100分，越高越应优先处理）：收入低于监测线的程度占"
        f"{pct('priority_weight_shortfall', 0.45)}、刚性支出负担占{pct('priority_weight_burden', 0.30)}、"
        f"风险类型数量占{pct('priority_weight_breadth', 0.10)}、住房倒塌或严重损坏占"
        f"{pct('priority_weight_housing', 0.15)}；财产检索命中的户乘以{penalty:g}。"
    )


def _in_scope(col: str, scope: list[str]) -> pl.Expr:
    return pl.col(col).is_in(scope).fill_null(False)


def _merge_rows(
    old_path: Path, new: pl.DataFrame, scope: list[str], county_col: str, key_col: str, sort: list[tuple[str, bool]]
) -> pl.DataFrame:
    """A county rerun's round-wide Parquet: the published file's rows of other counties, exactly as they were, plus
    the new rows of the rerun counties (any old row of a household the new rows contain is replaced too)."""
    if not old_path.exists():
        merged = new
    else:
        old = pl.read_parquet(old_path)
        if county_col not in old.columns or key_col not in old.columns:
            merged = new  # an unreadable layout: the new rows only, never a silent mix
        else:
            keep = old.filter(
                ~(_in_scope(county_col, scope) | pl.col(key_col).is_in(new[key_col].implode()).fill_null(False))
            )
            merged = pl.concat([keep, new], how="diagonal_relaxed") if keep.height else new
    cols = [c for c, _ in sort if c in merged.columns]
    if cols and merged.height:
        merged = merged.sort(cols, descending=[d for c, d in sort if c in merged.columns], nulls_last=True)
    return merged


# ---------------------------------------------------------------------------------------------- publish


def check_round_id(round_id: object) -> str:
    if not isinstance(round_id, str) or not ROUND_ID.match(round_id) or ".." in round_id:
        raise ValueError(f"round id {round_id!r} cannot be used as a folder name (letters, digits, '-', '_' only)")
    return round_id


def _write_parquet(frame: pl.DataFrame | pl.LazyFrame, path: Path) -> int:
    """``frame`` as the Parquet file ``path``, a lazy one streamed (a province's links: millions of rows); its rows."""
    if isinstance(frame, pl.LazyFrame):
        frame.sink_parquet(path)
        return pl.scan_parquet(path).select(pl.len()).collect().item()
    frame.write_parquet(path)
    return frame.height


def write_round(tables: dict, home: Path, round_id: str, *, workers: int | None = None) -> dict:
    """Write the round's outputs from ``tables`` (:func:`warehouse.publish.round_tables`): all of them, or — the
    tables of a county scope — a county rerun (see the module docstring). ``workers``: processes writing workbooks
    (default: one per core for a table of ``PARALLEL_MIN_ROWS`` rows or more, else none; 1 = all in this process)."""
    check_round_id(round_id)
    home = Path(home)
    scope: list[str] | None = tables.get("scope")
    routing = load("routing", home)
    legend = priority_legend(home)
    priority = bool(tables.get("priority"))
    out_root = home / "out"
    final_dir = out_root / round_id
    scratch = out_root / f".{round_id}.partial"
    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True)
    written: list[str] = []
    counts: dict = {"counties": [c for c in scope if c in divisions.counties()] if scope is not None else None}
    returns = "links" in tables

    # ---------------------------------------------------------------- workbooks: independent jobs
    county_jobs, county_meta = _county_jobs(tables, scratch, round_id, legend, priority)
    dept_jobs = _task_jobs(tables, scratch, round_id, routing, legend)
    return_jobs = _return_jobs(tables, scratch, round_id) if returns else []
    review = (
        review_jobs(tables["review"], scratch, round_id, tables["labels"])
        + held_jobs(tables["review_held"], scratch, round_id)
        if returns
        else []
    )
    data = summary_data(tables, round_id)
    summary_jobs = [
        (_write_summary, (scratch, safe_filename(f"汇总_{round_id}.html"), "html", data)),
        (_write_summary, (scratch, safe_filename(f"汇总_{round_id}.xlsx"), "xlsx", data)),
    ]
    jobs = county_jobs + dept_jobs + return_jobs + review + summary_jobs
    # biggest first: the pool's last job is a small one (workbook size ~ rows)
    order = sorted(range(len(jobs)), key=lambda i: -_job_rows(jobs[i]))
    if workers is None:
        workers = default_workers() if sum(_job_rows(j) for j in jobs) >= PARALLEL_MIN_ROWS else 1
    results = run_jobs([jobs[i] for i in order], workers)
    by_job = dict(zip(order, results, strict=True))

    # ---------------------------------------------------------------- Parquet contract
    with _Stage("suspects.parquet"):
        suspects = tables["suspects"]
        counts["suspects_in_scope"] = suspects.height
        if scope is not None:
            suspects = _merge_rows(
                final_dir / "suspects.parquet",
                suspects,
                scope,
                "county_code",
                "household_id",
                [("priority_score", True), ("household_id", False)],
            )
        suspects.write_parquet(scratch / "suspects.parquet")
    written.append("suspects.parquet")
    counts["suspects"] = suspects.height
    if returns:
        for name, key in (("links.parquet", "links"), ("rejected.parquet", "rejected")):
            with _Stage(name):
                counts[key] = _write_parquet(tables[key], scratch / name)
            written.append(name)
    if priority:
        written += _priority_parquet(tables, scratch, final_dir, scope, counts)

    files_of = lambda lo, hi: [by_job[i] for i in range(lo, hi)]  # noqa: E731
    n1, n2, n3, n4 = (
        len(county_jobs),
        len(county_jobs) + len(dept_jobs),
        len(county_jobs) + len(dept_jobs) + len(return_jobs),
        len(jobs) - len(summary_jobs),
    )
    county_results = files_of(0, n1)
    for (code, label, kind), (name, n) in zip(county_meta, county_results, strict=True):
        written.append(name)
        if kind == "county":
            counts.setdefault("county_workbooks", {})[label] = n
            counts.setdefault("workbook_files", {})[code] = name
        else:
            counts.setdefault("priority_workbooks", {})[label] = n
    counts.setdefault("county_workbooks", {})
    counts.setdefault("workbook_files", {})
    counts["task_lists"] = {}
    for name, dname, n in files_of(n1, n2):
        written.append(name)
        counts["task_lists"][dname] = n
    if returns:
        counts["unmatched"] = {}
        counts["unmatched_to_correct"] = {}
        for name, dname, n_all, n_fix in files_of(n2, n3):
            written.append(name)
            counts["unmatched"][dname] = n_all
            counts["unmatched_to_correct"][dname] = n_fix
        review_files = files_of(n3, n4)
        written += review_files
        counts["review_lists"] = len(review_files)
    written += files_of(n4, len(jobs))
    counts["by_category"] = dict(data["by_category"])
    counts["by_risk_type"] = dict(data["by_risk_type"])
    counts["by_county"] = dict(data["by_county"])

    # ---------------------------------------------------------------- move into place
    final_dir.mkdir(parents=True, exist_ok=True)
    keep = set(written)
    for name in written:
        os.replace(scratch / name, final_dir / name)
    if scope is None:  # a full publication owns the folder's outputs; a county rerun never removes anything
        for old in final_dir.iterdir():
            if old.is_file() and old.name not in keep and any(re.match(p, old.name) for p in OWN_PATTERNS):
                old.unlink()
    shutil.rmtree(scratch, ignore_errors=True)
    return {
        "files": [final_dir / n for n in written],
        "counts": counts,
        "out_dir": final_dir,
        "summary_html": final_dir / safe_filename(f"汇总_{round_id}.html"),
    }


def _job_rows(job) -> int:
    return sum(a.height for a in job[1] if isinstance(a, pl.DataFrame))


def _priority_parquet(tables: dict, scratch: Path, final_dir: Path, scope: list[str] | None, counts: dict) -> list[str]:
    """priority_targets.parquet (one row per target village, reasons as a list) and priority_households.parquet (the
    households ranked for screening inside them) — SPEC §6.4, Q1/Q3 rounds."""
    targets = tables["targets"]
    households = tables["priority_households"].drop("head_name", "township", "village", strict=False)
    if scope is not None:
        targets = targets.filter(_in_scope("county_code", scope))
        households = households.filter(_in_scope("target_county_code", scope))
    names = []
    for name, frame, county_col, key_col, sort in (
        (
            "priority_targets.parquet",
            targets,
            "county_code",
            "village_code",
            [("county_code", False), ("township_code", False), ("village_code", False)],
        ),
        (
            "priority_households.parquet",
            households,
            "target_county_code",
            "household_id",
            [("target_county_code", False), ("screening_rank", False)],
        ),
    ):
        with _Stage(name):
            if scope is not None:
                frame = _merge_rows(final_dir / name, frame, scope, county_col, key_col, sort)
            frame.write_parquet(scratch / name)
        names.append(name)
    counts["priority_targets"] = targets.height
    counts["priority_households"] = households.height
    return names


# ---------------------------------------------------------------------------------------------- county workbooks


def _county_jobs(tables: dict, folder: Path, round_id: str, legend: str, priority: bool) -> tuple[list, list]:
    """One job per county workbook (and per 重点区域排查 workbook in priority rounds), each with its own rows."""
    scope = tables.get("scope")
    routed: pl.DataFrame = tables["routed"]
    registry = dict(tables["counties"].iter_rows())
    codes = set(registry) | set(routed["recipient"].to_list())
    if scope is not None:  # a county rerun writes the workbooks of its counties only
        codes = {c for c in codes if c in scope}
    followups: pl.DataFrame = tables["followups"]
    helpers: pl.DataFrame = tables["helpers"]
    jobs, meta = [], []
    for code in sorted(codes):
        cname = divisions.county_name(code or None, registry.get(code))
        label = divisions.county_label(code or None, registry.get(code))
        file_name = safe_filename(f"疑似风险户清单_{label}.xlsx")
        rows = routed.filter(pl.col("recipient") == code)
        reloc_helpers = helpers.filter(pl.col("household_id").is_in(rows["household_id"].implode()))
        fol = followups.filter((pl.col("live_county_code") == code) | (pl.col("hukou_county_code") == code))
        jobs.append((_write_county_book, (folder, file_name, cname, round_id, rows, reloc_helpers, fol, legend)))
        meta.append((code, label, "county"))
        if priority:
            targets = tables["targets"].filter(pl.col("county_code") == code)
            phh = tables["priority_households"].filter(
                (pl.col("county_code") == code) | (pl.col("target_county_code") == code)
            )
            p_name = safe_filename(f"重点区域排查_{label}.xlsx")
            jobs.append((_write_priority_book, (folder, p_name, cname, round_id, targets, phh)))
            meta.append((code, label, "priority"))
    return jobs, meta


def _flags(rows: pl.DataFrame) -> pl.Expr:
    """备注: what a cadre must know about a household beyond its category and risks."""
    parts = [
        pl.when(pl.col("pending_namesake")).then(pl.lit("同名待确认")),
        pl.when(pl.col("reflagged_eliminated")).then(pl.lit("风险消除户再次预警")),
        pl.when(pl.col("double_routed")).then(
            pl.lit("易地搬迁户（户籍未迁出）：")
            + pl.col("routing_label").fill_null("分流")
            + pl.lit("，见“易地搬迁分流”表")
        ),
        pl.when(pl.col("property_hit")).then(pl.lit("财产检索命中（已降低优先级）")),
    ]
    text = pl.concat_str(parts, separator="；", ignore_nulls=True)
    return pl.when(text == "").then(None).otherwise(text)


def _write_county_book(
    folder: Path,
    file_name: str,
    cname: str,
    round_id: str,
    rows: pl.DataFrame,
    helpers: pl.DataFrame,
    fol: pl.DataFrame,
    legend: str,
) -> tuple[str, int]:
    with _Stage(file_name):
        rows = _numbered(rows).with_columns(
            county_name=_names(rows["county_code"], rows["county"]),
            property_text=pl.when(pl.col("property_hit")).then(pl.lit("财产检索命中")),
            flags_text=_flags(rows),
        )
        reloc = _numbered(rows.filter(pl.col("double_routed").fill_null(False)))
        help_of = {(h, c): n for h, c, n in helpers.iter_rows()}
        two_places = [r["live_county_code"] != r["hukou_county_code"] for r in reloc.iter_rows(named=True)]
        reloc = reloc.with_columns(
            live_county_name=_names(reloc["live_county_code"]),
            hukou_county_name=_names(reloc["hukou_county_code"], missing="待核实"),
            hukou_township_name=pl.Series([_township_name(c) for c in reloc["hukou_township_code"]], dtype=pl.String),
            duty=pl.lit(DUTY),
            # one county answering for both places cannot say which helper is which: staff fill in
            hukou_helper=pl.Series(
                [
                    help_of.get((h, c)) if two else None
                    for h, c, two in zip(reloc["household_id"], reloc["hukou_county_code"], two_places, strict=True)
                ],
                dtype=pl.String,
            ),
            site_helper=pl.Series(
                [
                    help_of.get((h, c)) if two else None
                    for h, c, two in zip(reloc["household_id"], reloc["live_county_code"], two_places, strict=True)
                ],
                dtype=pl.String,
            ),
        )
        fol = _numbered(fol).with_columns(
            hukou_county_name=_names(fol["hukou_county_code"], missing="待核实"),
            rank_text=pl.format("{}/{}", pl.col("rank_in_site"), pl.col("households_in_site")),
        )
        verify_by: dt.date | None = rows["verify_by"][0] if rows.height else None
        line = rows["monitoring_line"].drop_nulls()
        notes = [
            f"第 {round_id} 轮 · 共 {rows.height} 户"
            + (f" · 请于 {verify_by:%Y年%m月%d日} 前完成入户核实" if verify_by else "")
            + "，在黄色列选择核实结果、认定类别，填写核实日期和核实人。"
            + (f"监测线 {line.max():,.0f} 元。" if line.len() else ""),
            legend,
            "电子表格右侧另有核实截止日期、县(市、区)、户类型、监测对象类别、基础人均收入、刚性支出、推送日期等列（不打印）。",
        ]
        notes += sorted({n for n in rows["verify_by_note"].to_list() if n})
        with Book(child_path(folder, file_name)) as book:
            book.table(
                "疑似风险户清单",
                MAIN_COLS,
                rows,
                title=f"{cname} 疑似风险户清单（第 {round_id} 轮）",
                notes=notes,
                empty="本县本轮没有疑似风险户。",
            )
            book.table(
                "易地搬迁分流",
                RELOC_COLS,
                reloc,
                title=f"{cname} 易地搬迁户分流（户籍未迁出）",
                notes=[
                    "安置地：本县为居住地（安置社区）；户籍地分流：本县为户籍所在地，由本县按程序开展认定；"
                    "同县：本县既是安置地也是户籍地。",
                    DUTY + "请填写黄色列。",
                ],
                empty="本县本轮没有户籍未迁出、需要在安置地和户籍地之间分流的易地搬迁疑似风险户。",
            )
            book.table(
                "安置点横向比较",
                FOLLOWUP_COLS,
                fol,
                title=f"{cname} 易地搬迁安置点横向比较（收入偏低户跟踪）",
                notes=["同一安置点的搬迁户相互比较，收入最低的一成（或低于监测线1.2倍）的户列入跟踪。"],
                empty="本县没有易地搬迁安置点的搬迁户需要跟踪（没有安置点，或安置点内没有收入偏低的户）。",
            )
    return file_name, rows.height


def _write_priority_book(
    folder: Path, file_name: str, cname: str, round_id: str, targets: pl.DataFrame, phh: pl.DataFrame
) -> tuple[str, dict]:
    with _Stage(file_name):
        targets = _numbered(targets).with_columns(pl.col("reasons").list.join("；"))
        phh = phh.with_columns(pl.col("reasons").list.join("；"))
        with Book(child_path(folder, file_name)) as book:
            book.table(
                "重点排查村",
                TARGET_COLS,
                targets,
                title=f"{cname} 重点区域排查目标村（第 {round_id} 轮）",
                notes=["重点区域：易地搬迁安置点、原深度贫困村、脱贫户较多但监测户较少的村、近期发生自然灾害的村。"],
                empty="本县本轮没有列为重点区域的村。",
            )
            book.table(
                "重点排查户",
                PRIORITY_HH_COLS,
                phh,
                title=f"{cname} 重点区域排查户（按排查顺序）",
                notes=[
                    "排查顺序：疑似风险户在前（按优先级），其后为调整后收入低于监测线1.2倍或有部门记录的户。"
                    "排查后请在黄色列选择排查结果，填写排查日期和排查人。"
                ],
                empty="本县重点区域内没有需要排查的户。",
            )
    return file_name, {"villages": targets.height, "households": phh.height}


# ---------------------------------------------------------------------------------------------- departments


def _task_jobs(tables: dict, folder: Path, round_id: str, routing: dict, legend: str) -> list:
    tasks: pl.DataFrame = tables["tasks"]
    jobs = []
    types = departments.risk_types_of(routing)
    for key, dept in (routing.get("departments") or {}).items():
        dname = str(dept.get("name", key))
        wanted = types.get(key, [])
        if not wanted:
            continue  # a department no risk type is routed to (e.g. 财产检索) gets no task list
        rows = tasks.filter(pl.col("dept") == dname)
        days = int(tables.get("task_working_days") or 10)
        jobs.append((_write_task_list, (folder, dname, wanted, round_id, rows, legend, days)))
    return jobs


def _write_task_list(
    folder: Path, dname: str, wanted: list[str], round_id: str, rows: pl.DataFrame, legend: str, days: int
) -> tuple[str, str, int]:
    name = safe_filename(f"行业部门任务清单_{dname}.xlsx")
    with _Stage(name):
        rows = _numbered(rows).with_columns(county_name=_names(rows["county_code"], rows["county"]))
        due = rows["task_by"].drop_nulls()
        with Book(child_path(folder, name)) as book:
            book.table(
                "行业部门任务清单",
                TASK_COLS,
                rows,
                title=f"{dname} 行业部门任务清单（第 {round_id} 轮）",
                notes=[
                    f"监测户新增风险中涉及本部门的风险类型：{'、'.join(wanted)}。共 {rows.height} 户"
                    + (f"，请于 {due.min():%Y年%m月%d日} 前落实行业帮扶" if due.len() else "")
                    + f"（落实截止日期：推送后{days}个工作日内），并在黄色列填写帮扶措施、落实日期和经办人。",
                    legend,
                ],
                empty=f"本轮没有监测户出现涉及本部门的新增风险（{'、'.join(wanted)}）。",
            )
    return name, dname, rows.height


def _return_jobs(tables: dict, folder: Path, round_id: str) -> list:
    unmatched: pl.DataFrame = tables["unmatched"]
    rejects: pl.DataFrame = tables["rejects"]
    jobs = []
    for dname, feeds in tables["owners"].items():
        mine = unmatched.filter(pl.col("source").is_in(feeds))
        rj = rejects.filter(pl.col("source").is_in(feeds))
        jobs.append((_write_returns, (folder, dname, round_id, mine, rj)))
    return jobs


def _write_returns(
    folder: Path, dname: str, round_id: str, unmatched: pl.DataFrame, rejects: pl.DataFrame
) -> tuple[str, str, int, int]:
    name = safe_filename(f"未匹配记录_{dname}.xlsx")
    with _Stage(name):
        fix = _numbered(unmatched.filter(pl.col("class") == "fix"))
        ref = _numbered(unmatched.filter(pl.col("class") != "fix"))
        rejects = _numbered(rejects).with_columns(
            row_text=pl.when(pl.col("source_row").is_null())
            .then(pl.lit("整个文件"))
            .otherwise(pl.format("第{}行", pl.col("source_row")))
        )
        here = divisions.area_word()  # 本市, or 本地区 for several prefectures
        with Book(child_path(folder, name), rows=unmatched.height + rejects.height) as book:
            book.table(
                FIX_SHEET,
                FIX_COLS,
                fix,
                title=f"{dname} 未匹配记录：需核对更正（第 {round_id} 轮）",
                notes=[
                    f"共 {fix.height} 条。这些记录很可能是户籍系统（{here}农村人口）中的人员，但证件号码或姓名有误，"
                    "系统无法对上；请按“更正方法”核对，在下次报送时更正。来源文件和行号为电子表格中看到的位置。"
                ],
                empty=f"本部门的未匹配记录中，没有看起来是{here}农村人员、需要更正的记录。",
            )
            book.table(
                REFERENCE_SHEET.replace("本市", here),
                REFERENCE_COLS,
                ref,
                title=f"{dname} 未匹配记录：仅供参考（第 {round_id} 轮）",
                notes=[
                    f"共 {ref.height} 条。这些人员不在{here}农村人口户籍系统中（证件号码有效但属外地或城区，或未填证件号码"
                    "且所在乡镇没有同名或同音的人员），一般无需处理，仅供了解。"
                ],
                empty="本部门报送的记录中，没有户籍系统以外的人员。",
            )
            book.table(
                "拒收记录",
                REJECT_COLS,
                rejects,
                title=f"{dname} 拒收记录",
                notes=["以下行未能入库，请按原因更正后重新报送。"],
                empty="本部门报送的文件全部通过校验，没有被拒收的行。",
            )
    return name, dname, unmatched.height, fix.height


# ---------------------------------------------------------------------------------------------- summary


def _write_summary(folder: Path, name: str, kind: str, data: dict) -> str:
    with _Stage(name):
        if kind == "html":
            summary_mod.write_html(child_path(folder, name), data)
        else:
            summary_mod.write_xlsx(child_path(folder, name), data)
    return name


def summary_data(tables: dict, round_id: str) -> dict:
    s = tables["summary"]
    labels = tables["labels"]
    info = s["info"].row(0, named=True)
    kind = info["kind"]
    kind_zh = {"full": "集中全面排查", "priority": "重点区域排查", "incremental": "增量筛查"}.get(
        kind or "", kind or "—"
    )
    by_cat = [(str(c), int(n)) for c, n in s["by_category"].iter_rows()]
    by_type = [(str(c), int(n)) for c, n in s["by_risk_type"].iter_rows()]
    county_rows = [
        (
            divisions.county_name(r["county_code"], r["county"]),
            r["households"],
            r["monitored_new_risk"],
            r["reflagged"],
            r["double_routed"],
        )
        for r in s["by_county"].iter_rows(named=True)
    ]
    by_city: dict[str, int] = {}  # a province: the prefectures' totals too (the first four digits of a county)
    for r in s["by_county"].iter_rows(named=True):
        city = (r["county_code"] or "")[:4]
        by_city[city] = by_city.get(city, 0) + int(r["households"])
    city_rows = (
        [(divisions.city_name(c) if c else "县别不详", n) for c, n in sorted(by_city.items())]
        if not divisions.one_prefecture()
        else []
    )
    label = lambda src: labels.get(src, departments.FEED_LABELS.get(src, src))  # noqa: E731
    match_rows, match_rate = [], []
    for r in s["matching"].iter_rows(named=True):
        linked = r["id_exact"] + r["id_repaired"] + r["fuzzy"]
        rate = linked / r["records"] if r["records"] else 0.0
        match_rows.append(
            (
                label(r["source"]),
                r["records"],
                r["id_exact"],
                r["id_repaired"],
                r["fuzzy"],
                r["review"],
                r["unmatched"],
                f"{rate * 100:.1f}%",
            )
        )
        match_rate.append((label(r["source"]), rate))
    quality_rows, reject_rate = [], []
    for r in s["quality"].iter_rows(named=True):
        vals = [
            int(r[k])
            for k in (
                "files",
                "loaded",
                "blocked",
                "quarantined",
                "rows_in_file",
                "rows_accepted",
                "rows_rejected",
                "rows_skipped",
                "rows_duplicate_event",
            )
        ]
        quality_rows.append((label(r["feed"]), *vals))
        reject_rate.append((label(r["feed"]), (vals[6] / vals[4]) if vals[4] else 0.0))
    reason_rows = [(label(src), reason, n) for src, reason, n in s["reasons"].iter_rows()]
    notes = [x for x in (info["verify_by_notes"] or "").split("；") if x]
    subtitle = (
        f"轮次 {round_id}（{kind_zh}）· 基准日 {info['reference_date'] or '—'} · 推送日期 {info['pushed_on'] or '—'}"
        f" · 核实截止日期 {info['verify_by'] or '—'}（5个工作日，已扣除法定节假日并计入调休上班日）"
    )
    kpis = (
        [("疑似风险户", int(info["households"]))]
        + by_cat
        + [
            ("风险消除户再次预警", int(info["reflagged"])),
            ("财产检索命中（已降低优先级）", int(info["property_hits"])),
            ("易地搬迁双向分流", int(info["double_routed"])),
        ]
    )
    return {
        "title": f"防贫监测 第 {round_id} 轮 筛查汇总",
        "subtitle": subtitle,
        "notes": notes,
        "kpis": kpis,
        "by_county": [(c[0], c[1]) for c in county_rows],
        "by_city": city_rows,
        "by_category": by_cat,
        "by_risk_type": by_type,
        "match_rate": match_rate,
        "reject_rate": reject_rate,
        "county_rows": county_rows,
        "match_rows": match_rows,
        "quality_rows": quality_rows,
        "reason_rows": reason_rows,
        "systemic": tables.get("systemic"),
    }
