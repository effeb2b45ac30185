"""Everything a round publishes under ``<home>/out/<round_id>/`` (SPEC §7).

``publish_round(con, home, round_id, counties=None)`` reads the round's ``suspect`` / ``suspect_evidence`` /
``priority_*`` / ``relocation_followup`` (written by ``warehouse.rules.screen``), ``link``, ``dept_record``,
``rejected_row``, ``ingested_file`` and writes:

- ``suspects.parquet``  — SPEC §7 columns + extras; ``evidence`` = list of struct{source, source_file, source_row,
  summary, amount, risk_type} (one entry per department record; risk_type joins the flags the record supports);
- ``links.parquet``     — the ``link`` table (one row per accepted department record);
- ``rejected.parquet``  — the ``rejected_row`` table (source_row null = a whole file);
- ``疑似风险户清单_<县>.xlsx`` per county in the registry: sheet 疑似风险户清单 (priority order, township/village
  columns with filters, evidence in words, deadline, blank 核实结果/核实日期/核实人 for county staff), sheet
  易地搬迁分流 (relocated households whose hukou did not move: both places, the label 安置地 / 户籍地分流 / 同县, the
  two helpers 户籍地帮扶联系人 / 安置社区帮扶联系人 — from returned follow-up data when the two counties differ,
  else blank for staff), sheet 安置点横向比较 (SPEC §6.5); a county's workbook holds only its own households plus
  relocated households routed to it, labelled;
- priority rounds (SPEC §6.4, Q1/Q3): ``重点区域排查_<县>.xlsx`` per county (sheets 重点排查村 with the reasons,
  重点排查户 in screening order) and ``priority_targets.parquet`` / ``priority_households.parquet``;
- ``行业部门任务清单_<部门>.xlsx`` per department in routing.yaml: monitored households with a new risk
  (监测户新增风险) whose risk types concern the department;
- ``未匹配记录_<部门>.xlsx`` per department sending a feed: its records that matched nobody (file and row so the
  clerk can find them) and its rejected rows;
- ``汇总_<round_id>.html`` (inline SVG, no external resource) and ``汇总_<round_id>.xlsx`` (native Excel charts).

A county rerun (``counties``) writes only those counties' workbooks; in the round-wide Parquet files it replaces
only their rows (the published rows of the other counties are read back and kept as they were); task lists and the
summary are regenerated from the round's tables; links/rejected/未匹配记录 are left to full publications (or written
by the first publication of a round, whatever its counties).

Files are written to a scratch folder and moved into place one by one; files of an earlier run of the same round
that a full publication no longer produces (e.g. a department with nothing left) are removed. Other files in the
folder are left alone. Cell text from inputs is neutralised (``fangpin.reports.safe``); file names are sanitised.
A failure names the output it was writing (``PublishError.file``).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import polars as pl

from fangpin.domain import divisions
from fangpin.reports import summary as summary_mod
from fangpin.reports.safe import child_path, safe_filename
from fangpin.reports.xlsx import Book, Col
from fangpin.settings import load

FEED_LABELS = {
    "medical": "医保",
    "disaster": "应急管理",
    "civil_affairs": "民政",
    "employment": "人社",
    "property": "财产检索",
    "registry": "户籍系统",
    "housing": "住建",
    "education": "教育",
    "disability": "残联",
    "water": "水利",
}
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
)
_ROUND_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")

VERIFY_FILL = ("verify_result", "verify_date", "verifier")


def _rows(con, query: str, params: list | None = None) -> list[dict]:
    return con.sql(query, params=params).pl().to_dicts()


def _county_name(code: str | None, fallback: str | None = None) -> str:
    if code and code in divisions.counties():
        return divisions.counties()[code]
    return fallback or (f"县别代码{code}" if code else "县别不详")


def _ensure(con) -> None:
    from warehouse.rules import ensure_tables

    ensure_tables(con)


def _evidence_text(con, round_id: str, dept_of_feed: dict[str, str]) -> None:
    """TEMP table _ev_text(household_id, risk_types VARCHAR[], line): one line per department record."""
    labels = pl.DataFrame({"source": list(dept_of_feed), "label": list(dept_of_feed.values())})  # noqa: F841 (read by DuckDB by name)
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _ev_text AS
        SELECT e.household_id, list(DISTINCT e.risk_type) FILTER (WHERE e.risk_type IS NOT NULL) AS risk_types,
               min(e.event_date) AS event_date, e.source, e.source_file, e.source_row,
               '【' || coalesce(any_value(l.label), e.source) || '｜' || coalesce(e.source_file, '') ||
               CASE WHEN e.source_row IS NOT NULL THEN ' 第' || e.source_row || '行' ELSE '' END || '】' ||
               any_value(e.summary) AS line
        FROM suspect_evidence e LEFT JOIN labels l ON l.source = e.source
        WHERE e.round_id = ?
        GROUP BY e.household_id, e.source, e.source_file, e.source_row
        """,
        [round_id],
    )


def _evidence_by_household(con) -> dict[str, list[tuple[list[str], str]]]:
    """household_id → [(risk types the record supports, display line)], in date order. Fetched once per publish."""
    rows = con.sql(
        "SELECT household_id, risk_types, line FROM _ev_text "
        "ORDER BY household_id, event_date NULLS LAST, source, source_file, source_row"
    ).fetchall()
    out: dict[str, list[tuple[list[str], str]]] = {}
    for hid, types, line in rows:
        out.setdefault(hid, []).append((types or [], line))
    return out


def _evidence_text_for(lines: list[tuple[list[str], str]], wanted: list[str] | None = None) -> str:
    """All lines, or only those supporting one of ``wanted`` risk types (department task lists)."""
    if wanted is None:
        return "\n".join(line for _, line in lines)
    return "\n".join(line for types, line in lines if set(types) & set(wanted))


# ---------------------------------------------------------------------------------------------- columns

MAIN_COLS = [
    Col("序号", "seq", 6, "int"),
    Col("分流标签", "routing_label", 12),
    Col("县(市、区)", "county_name", 12),
    Col("乡(镇)", "township", 12),
    Col("行政村", "village", 14),
    Col("户编号", "household_id", 18),
    Col("户主姓名", "head_name", 10),
    Col("家庭人口数", "household_size", 8, "int"),
    Col("户类型", "household_type", 10),
    Col("监测对象类别", "monitoring_category", 13),
    Col("风险是否已消除", "risk_eliminated", 9),
    Col("疑似类别", "suspect_category", 14),
    Col("风险类型", "risk_types", 18),
    Col("基础人均收入", "base_per_capita_income", 12, "money"),
    Col("调整后人均收入", "adjusted_per_capita_income", 12, "money"),
    Col("监测线", "monitoring_line", 10, "money"),
    Col("刚性支出合计", "rigid_spending", 12, "money"),
    Col("优先级", "priority_score", 8, "number"),
    Col("财产检索", "property_text", 10),
    Col("备注", "flags_text", 16, "wrap"),
    Col("情况说明", "reason_summary", 46, "wrap"),
    Col("证据", "evidence_text", 60, "wrap"),
    Col("推送日期", "pushed_on", 11, "date"),
    Col("核实截止日期", "verify_by", 12, "date"),
    Col("截止日期说明", "verify_by_note", 16, "wrap"),
    Col("核实结果", "verify_result", 12),
    Col("核实日期", "verify_date", 12),
    Col("核实人", "verifier", 10),
]

RELOC_COLS = [
    Col("序号", "seq", 6, "int"),
    Col("分流标签", "routing_label", 12),
    Col("户编号", "household_id", 18),
    Col("户主姓名", "head_name", 10),
    Col("安置点（安置社区）", "resettlement_site", 20),
    Col("安置地县(市、区)", "live_county_name", 14),
    Col("户籍地县(市、区)", "hukou_county_name", 14),
    Col("户籍地乡(镇)", "hukou_township_name", 14),
    Col("户籍地来源", "hukou_source", 14),
    Col("户籍登记村", "village", 14),
    Col("疑似类别", "suspect_category", 14),
    Col("风险类型", "risk_types", 18),
    Col("调整后人均收入", "adjusted_per_capita_income", 12, "money"),
    Col("优先级", "priority_score", 8, "number"),
    Col("认定与帮扶分工", "duty", 44, "wrap"),
    Col("户籍地帮扶联系人", "hukou_helper", 14),
    Col("安置社区帮扶联系人", "site_helper", 14),
    Col("核实截止日期", "verify_by", 12, "date"),
    Col("核实结果", "verify_result", 12),
    Col("核实日期", "verify_date", 12),
    Col("核实人", "verifier", 10),
]

FOLLOWUP_COLS = [
    Col("序号", "seq", 6, "int"),
    Col("安置点（安置社区）", "resettlement_site", 20),
    Col("户编号", "household_id", 18),
    Col("户主姓名", "head_name", 10),
    Col("户籍地县(市、区)", "hukou_county_name", 14),
    Col("户籍是否迁出", "hukou_moved", 10),
    Col("调整后人均收入", "adjusted_per_capita_income", 12, "money"),
    Col("监测线", "monitoring_line", 10, "money"),
    Col("安置点内排名（由低到高）", "rank_text", 14),
    Col("列入原因", "reason", 40, "wrap"),
    Col("跟踪情况", "verify_result", 14),
]

HELPER_FILL = ("hukou_helper", "site_helper")

TARGET_COLS = [
    Col("序号", "seq", 6, "int"),
    Col("乡(镇)", "township", 12),
    Col("行政村", "village", 14),
    Col("行政村代码", "village_code", 14),
    Col("列为重点区域的原因", "reasons", 60, "wrap"),
    Col("户数", "households", 8, "int"),
    Col("脱贫户", "tuopin_households", 8, "int"),
    Col("监测户", "monitored_households", 8, "int"),
    Col("近期灾情记录", "recent_disaster_records", 10, "int"),
]

PRIORITY_HH_COLS = [
    Col("排查顺序", "screening_rank", 8, "int"),
    Col("乡(镇)", "township", 12),
    Col("行政村", "village", 14),
    Col("所在重点村", "target_village", 14),
    Col("户编号", "household_id", 18),
    Col("户主姓名", "head_name", 10),
    Col("是否疑似风险户", "is_suspect", 10),
    Col("疑似类别", "suspect_category", 14),
    Col("优先级", "priority_score", 8, "number"),
    Col("调整后人均收入", "adjusted_per_capita_income", 12, "money"),
    Col("监测线", "monitoring_line", 10, "money"),
    Col("列入原因", "reasons", 40, "wrap"),
    Col("排查结果", "verify_result", 12),
    Col("排查日期", "verify_date", 12),
    Col("排查人", "verifier", 10),
]

TASK_COLS = [
    Col("序号", "seq", 6, "int"),
    Col("县(市、区)", "county_name", 12),
    Col("乡(镇)", "township", 12),
    Col("行政村", "village", 14),
    Col("户编号", "household_id", 18),
    Col("户主姓名", "head_name", 10),
    Col("家庭人口数", "household_size", 8, "int"),
    Col("户类型", "household_type", 10),
    Col("监测对象类别", "monitoring_category", 13),
    Col("本部门相关风险", "dept_risk_types", 16),
    Col("全部风险类型", "risk_types", 18),
    Col("优先级", "priority_score", 8, "number"),
    Col("情况说明", "reason_summary", 46, "wrap"),
    Col("证据", "evidence_text", 60, "wrap"),
    Col("推送日期", "pushed_on", 11, "date"),
    Col("帮扶措施", "measure", 20),
    Col("落实日期", "measure_date", 12),
    Col("经办人", "handler", 10),
]

UNMATCHED_COLS = [
    Col("序号", "seq", 6, "int"),
    Col("文件名", "source_file", 28),
    Col("行号", "source_row", 7, "int"),
    Col("姓名", "name", 10),
    Col("证件号码（原样）", "id_raw", 22),
    Col("县(市、区)", "county", 12),
    Col("乡(镇)", "township", 12),
    Col("村", "village", 12),
    Col("户籍地址", "hukou_address", 24),
    Col("日期", "event_date", 11, "date"),
    Col("内容", "content", 30, "wrap"),
    Col("未匹配原因", "reason", 30, "wrap"),
    Col("处理意见", "handling", 20),
]

REJECT_COLS = [
    Col("序号", "seq", 6, "int"),
    Col("文件名", "source_file", 28),
    Col("行号", "row_text", 10),
    Col("字段", "field", 14),
    Col("拒收原因", "reason", 50, "wrap"),
]


def _numbered(rows: list[dict]) -> list[dict]:
    for i, r in enumerate(rows, start=1):
        r["seq"] = i
    return rows


# ---------------------------------------------------------------------------------------------- publish


class PublishError(RuntimeError):
    """Writing one output failed; ``file`` names it (a run failure says which file broke)."""

    def __init__(self, file: str, cause: BaseException):
        self.file = file
        super().__init__(f"could not write {file} (无法生成 {file}): {type(cause).__name__}: {cause}")


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


def _round_kind(con, round_id: str) -> str | None:
    rows = con.sql("SELECT kind FROM round WHERE round_id = ?", params=[round_id]).fetchall()
    if rows and rows[0][0]:
        return rows[0][0]
    rows = con.sql("SELECT any_value(kind) FROM suspect WHERE round_id = ?", params=[round_id]).fetchall()
    return rows[0][0] if rows else None


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


def publish_round(con, home: Path, round_id: str, counties=None, *, systemic: dict | None = None) -> dict:
    """Publish the round's outputs (all of them), or — ``counties`` given — a county rerun: only those counties'
    workbooks, their rows of the round-wide Parquet files (other counties' rows kept as published), the department
    task lists and the summary (both regenerated from the round's tables). ``links.parquet``, ``rejected.parquet``
    and the department returns (未匹配记录) describe department data, not counties: full publications, and the first
    publication of a round. ``systemic``: the round's systemic-risk frames for the summary
    (``fangpin.reports.summary.systemic_section``), None when the watch did not look at the round."""
    if not isinstance(round_id, str) or not _ROUND_ID.match(round_id) or ".." in round_id:
        raise ValueError(f"round id {round_id!r} cannot be used as a folder name (letters, digits, '-', '_' only)")
    from fangpin.reports.review_lists import write_review_lists
    from warehouse.rules import county_scope

    scope = county_scope(counties)  # None = the whole round
    home = Path(home)
    _ensure(con)
    routing = load("routing", home)
    departments: dict = routing.get("departments") or {}
    risk_routing: dict = routing.get("risk_types") or {}
    task_categories = list(routing.get("task_list_categories") or ["监测户新增风险"])
    dept_of_feed = dict(FEED_LABELS)
    for d in departments.values():
        for feed in d.get("feeds") or []:
            dept_of_feed[feed] = d.get("name", feed)
    kind = _round_kind(con, round_id)
    n_targets = con.sql("SELECT count(*) FROM priority_target WHERE round_id = ?", params=[round_id]).fetchall()[0][0]
    priority = kind == "priority" or n_targets > 0

    out_root = home / "out"
    final_dir = out_root / round_id
    scratch = out_root / f".{round_id}.partial"
    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True)
    written: list[str] = []
    counts: dict = {"counties": [c for c in scope if c in divisions.counties()] if scope is not None else None}

    # ---------------------------------------------------------------- Parquet contract
    with _Stage("suspects.parquet"):
        suspects = con.sql(
            """
            WITH per_record AS (
                SELECT household_id, source, source_file, source_row, any_value(summary) AS summary, any_value(amount) AS amount,
                       string_agg(DISTINCT risk_type, '、' ORDER BY risk_type) AS risk_type, min(event_date) AS event_date
                FROM suspect_evidence WHERE round_id = ? GROUP BY ALL
            ),
            ev AS (
                SELECT household_id,
                       list({'source': source, 'source_file': source_file, 'source_row': source_row, 'summary': summary,
                             'amount': amount, 'risk_type': risk_type}
                            ORDER BY event_date NULLS LAST, source, source_file, source_row) AS evidence
                FROM per_record GROUP BY household_id
            )
            SELECT s.*, ev.evidence
            FROM suspect s LEFT JOIN ev USING (household_id)
            WHERE s.round_id = ? AND (? OR coalesce(list_contains(?, s.county_code), false))
            ORDER BY s.priority_score DESC NULLS LAST, s.household_id
            """,
            params=[round_id, round_id, scope is None, scope or []],
        ).pl()
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
    # links / rejected / 未匹配记录 describe department data, not counties: full publications write them, and so does
    # a county publication of a round that has none yet (its first publication)
    returns = scope is None or not (final_dir / "links.parquet").exists()
    if returns:
        with _Stage("links.parquet"):
            links = con.sql("SELECT * FROM link ORDER BY source, source_file, source_row").pl()
            links.write_parquet(scratch / "links.parquet")
        written.append("links.parquet")
        with _Stage("rejected.parquet"):
            rejected = con.sql(
                "SELECT source, source_file, source_row, reason, field, file_hash FROM rejected_row "
                "ORDER BY source, source_file, source_row NULLS FIRST, field"
            ).pl()
            rejected.write_parquet(scratch / "rejected.parquet")
        written.append("rejected.parquet")
        counts["links"] = links.height
        counts["rejected"] = rejected.height
    if priority:
        written += _priority_parquet(con, scratch, final_dir, round_id, scope, counts)

    # ---------------------------------------------------------------- county workbooks
    _evidence_text(con, round_id, dept_of_feed)
    evidence = _evidence_by_household(con)
    county_files = _county_workbooks(con, scratch, round_id, evidence, scope=scope, priority=priority)
    written += county_files["files"]
    counts["county_workbooks"] = county_files["counts"]
    counts["workbook_files"] = county_files["by_code"]
    if priority:
        counts["priority_workbooks"] = county_files["priority_counts"]

    # ---------------------------------------------------------------- department task lists and returns
    dept_files = _department_files(
        con, scratch, round_id, departments, risk_routing, task_categories, evidence, returns=returns
    )
    written += dept_files["files"]
    counts["task_lists"] = dept_files["task_counts"]
    if returns:
        counts["unmatched"] = dept_files["unmatched_counts"]
        # ambiguous links (namesakes, weak evidence) go to the county as a review list, never to a silent best guess
        with _Stage("待核实匹配清单"):
            review_files = write_review_lists(con, scratch, round_id)
        written += review_files
        counts["review_lists"] = len(review_files)

    # ---------------------------------------------------------------- summary (always from the round's tables)
    data = _summary_data(con, round_id, dept_of_feed)
    data["systemic"] = systemic
    html_name = safe_filename(f"汇总_{round_id}.html")
    xlsx_name = safe_filename(f"汇总_{round_id}.xlsx")
    with _Stage(html_name):
        summary_mod.write_html(child_path(scratch, html_name), data)
    with _Stage(xlsx_name):
        summary_mod.write_xlsx(child_path(scratch, xlsx_name), data)
    written += [html_name, xlsx_name]
    counts["by_category"] = dict(data["by_category"])
    counts["by_risk_type"] = dict(data["by_risk_type"])
    counts["by_county"] = dict(data["by_county"])

    for t in ("_ev_text", "_head"):
        con.execute(f"DROP TABLE IF EXISTS {t}")

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
        "summary_html": final_dir / html_name,
    }


def _priority_parquet(
    con, scratch: Path, final_dir: Path, round_id: str, scope: list[str] | None, counts: dict
) -> list[str]:
    """priority_targets.parquet (one row per target village, reasons as a list) and priority_households.parquet (the
    households ranked for screening inside them) — SPEC §6.4, Q1/Q3 rounds."""
    names = []
    targets = con.sql(
        """
        SELECT * FROM priority_target WHERE round_id = ? AND (? OR coalesce(list_contains(?, county_code), false))
        ORDER BY county_code, township_code, village_code
    """,
        params=[round_id, scope is None, scope or []],
    ).pl()
    households = con.sql(
        """
        SELECT p.* EXCLUDE (target_county_code), coalesce(p.target_county_code, p.county_code) AS target_county_code,
               t.village AS target_village
        FROM priority_household p
        LEFT JOIN (SELECT DISTINCT village_code, village FROM priority_target WHERE round_id = ?) t
               ON t.village_code = p.target_village_code
        WHERE p.round_id = ? AND (? OR coalesce(list_contains(?, coalesce(p.target_county_code, p.county_code)), false))
        ORDER BY target_county_code, p.screening_rank
    """,
        params=[round_id, round_id, scope is None, scope or []],
    ).pl()
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


def _head_table(con) -> None:
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _head AS
        SELECT household_id,
               arg_min(name, CAST(CASE WHEN relation = '户主' THEN 0 ELSE 1 END AS DOUBLE) * 1e12 + coalesce(source_row, 0)) AS head_name,
               arg_min(township, coalesce(source_row, 0)) AS township, arg_min(village, coalesce(source_row, 0)) AS village,
               arg_min(coalesce(county_code, left(village_code, 6)), coalesce(source_row, 0)) AS county_code,
               arg_min(county, coalesce(source_row, 0)) AS county
        FROM registry_person GROUP BY household_id
        """
    )


def _township_name(code: str | None) -> str | None:
    if not code:
        return None
    for t in divisions.townships():
        if t.code == code:
            return t.name
    return None


def _helpers(con) -> dict[tuple[str, str], str]:
    """(household_id, county code that reported it) → the latest 帮扶责任人 a county returned (follow-up data, when
    present): the hukou county's is the 户籍地帮扶联系人, the resettlement county's the 安置社区帮扶联系人."""
    tables = {r[0] for r in con.sql("SELECT table_name FROM information_schema.tables").fetchall()}
    if "feedback_record" not in tables:
        return {}
    cols = {
        r[0]
        for r in con.sql(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'feedback_record'"
        ).fetchall()
    }
    if not {"household_id", "reporting_county_code", "helper_name"} <= cols:
        return {}
    order = "helper_date DESC NULLS LAST, " if "helper_date" in cols else ""
    rows = con.sql(f"""
        SELECT household_id, reporting_county_code, helper_name FROM feedback_record
        WHERE helper_name IS NOT NULL AND trim(helper_name) <> '' AND reporting_county_code IS NOT NULL
        QUALIFY row_number() OVER (PARTITION BY household_id, reporting_county_code
                                   ORDER BY {order}source_file DESC, source_row DESC) = 1
    """).fetchall()
    return {(h, c): n for h, c, n in rows}


def _county_workbooks(
    con,
    folder: Path,
    round_id: str,
    evidence: dict[str, list],
    *,
    scope: list[str] | None = None,
    priority: bool = False,
) -> dict:
    _head_table(con)
    routed = _rows(
        con,
        """
        WITH s AS (SELECT * FROM suspect WHERE round_id = ?),
        r AS (
            SELECT household_id, county_code AS recipient FROM s
            UNION SELECT household_id, live_county_code FROM s WHERE double_routed AND live_county_code IS NOT NULL
            UNION SELECT household_id, hukou_county_code FROM s WHERE double_routed AND hukou_county_code IS NOT NULL
        )
        SELECT coalesce(r.recipient, '') AS recipient,
               CASE WHEN NOT coalesce(s.double_routed, false) THEN NULL
                    WHEN s.hukou_county_code IS NULL THEN '安置地（户籍地待核实）'
                    WHEN r.recipient = s.live_county_code AND r.recipient = s.hukou_county_code THEN '安置地、户籍地（同县）'
                    WHEN r.recipient = s.live_county_code THEN '安置地'
                    WHEN r.recipient = s.hukou_county_code THEN '户籍地分流'
                    ELSE '户籍登记地' END AS routing_label,
               s.*
        FROM r JOIN s USING (household_id)
        ORDER BY recipient, s.priority_score DESC NULLS LAST, s.household_id
    """,
        [round_id],
    )
    counties = {
        r[0]
        for r in con.sql(
            "SELECT DISTINCT coalesce(county_code, left(village_code, 6), '') FROM registry_person"
        ).fetchall()
    }
    counties |= {r["recipient"] for r in routed}
    if scope is not None:  # a county rerun writes the workbooks of its counties only
        counties = {c for c in counties if c in scope}
    names_seen: dict[str, str] = {}
    followups = _rows(
        con,
        """
        SELECT f.*, h.head_name FROM relocation_followup f LEFT JOIN _head h USING (household_id)
        WHERE f.round_id = ? ORDER BY f.site_key, f.rank_in_site
    """,
        [round_id],
    )
    helpers = _helpers(con)
    targets, phh = [], []
    if priority:
        targets = _rows(
            con,
            "SELECT * FROM priority_target WHERE round_id = ? ORDER BY county_code, township_code, village_code",
            [round_id],
        )
        phh = _rows(
            con,
            """
            SELECT p.* EXCLUDE (target_county_code), h.head_name, h.township, h.village,
                   coalesce(p.target_county_code, t.county_code, p.county_code) AS target_county_code
            FROM priority_household p LEFT JOIN _head h USING (household_id)
            LEFT JOIN (SELECT DISTINCT village_code, county_code FROM priority_target WHERE round_id = ?) t
                   ON t.village_code = p.target_village_code
            WHERE p.round_id = ? ORDER BY p.screening_rank
        """,
            [round_id, round_id],
        )
    files, counts, by_code, priority_counts = [], {}, {}, {}
    registry_names = dict(
        con.sql(
            "SELECT coalesce(county_code, left(village_code, 6), ''), any_value(county) FROM registry_person GROUP BY 1"
        ).fetchall()
    )
    for code in sorted(counties):
        cname = _county_name(code or None, registry_names.get(code))
        file_name = safe_filename(f"疑似风险户清单_{cname}.xlsx")
        if file_name in names_seen and names_seen[file_name] != code:
            file_name = safe_filename(f"疑似风险户清单_{cname}_{code}.xlsx")
        names_seen[file_name] = code
        rows = [dict(r) for r in routed if r["recipient"] == code]
        for r in rows:
            r["county_name"] = _county_name(r.get("county_code"), r.get("county"))
            r["evidence_text"] = _evidence_text_for(evidence.get(r["household_id"], []))
            r["property_text"] = "财产检索命中" if r.get("property_hit") else None
            flags = []
            if r.get("reflagged_eliminated"):
                flags.append("风险消除户再次预警")
            if r.get("double_routed"):
                flags.append("易地搬迁户（户籍未迁出），见“易地搬迁分流”表")
            r["flags_text"] = "；".join(flags) or None
        _numbered(rows)
        reloc = [dict(r) for r in rows if r.get("double_routed")]
        for r in reloc:
            r["live_county_name"] = _county_name(r.get("live_county_code"))
            r["hukou_county_name"] = (
                _county_name(r.get("hukou_county_code")) if r.get("hukou_county_code") else "待核实"
            )
            r["hukou_township_name"] = _township_name(r.get("hukou_township_code"))
            r["duty"] = (
                "双帮扶人：户籍地和易地安置社区各安排一名帮扶联系人。由户籍地按监测对象认定程序开展认定；"
                "安置社区负责日常排查、横向比较并反馈户籍地。"
            )
            two_places = r.get("live_county_code") != r.get("hukou_county_code")
            if two_places:  # one county answering for both places cannot say which helper is which: staff fill in
                r["hukou_helper"] = helpers.get((r["household_id"], r.get("hukou_county_code")))
                r["site_helper"] = helpers.get((r["household_id"], r.get("live_county_code")))
        _numbered(reloc)
        fol = [
            dict(f)
            for f in followups
            if code and (f.get("live_county_code") == code or f.get("hukou_county_code") == code)
        ]
        for f in fol:
            f["hukou_county_name"] = (
                _county_name(f.get("hukou_county_code")) if f.get("hukou_county_code") else "待核实"
            )
            f["rank_text"] = f"{f['rank_in_site']}/{f['households_in_site']}"
        _numbered(fol)
        verify_by = rows[0]["verify_by"] if rows else None
        notes = [
            f"第 {round_id} 轮 · 共 {len(rows)} 户 · 请于核实截止日期前完成入户核实并填写黄色列"
            + (f"（截止 {verify_by:%Y年%m月%d日}）" if verify_by else "")
        ]
        note_extra = sorted({r["verify_by_note"] for r in rows if r.get("verify_by_note")})
        notes += note_extra
        with _Stage(file_name), Book(child_path(folder, file_name)) as book:
            book.table(
                "疑似风险户清单", MAIN_COLS, rows, title=f"{cname} 疑似风险户清单", notes=notes, fill_keys=VERIFY_FILL
            )
            book.table(
                "易地搬迁分流",
                RELOC_COLS,
                reloc,
                title=f"{cname} 易地搬迁户分流（户籍未迁出）",
                notes=[
                    "安置地：本县为居住地（安置社区）；户籍地分流：本县为户籍所在地，由本县按程序开展认定；"
                    "同县：本县既是安置地也是户籍地",
                    "双帮扶人：户籍地和易地安置社区各安排一名帮扶联系人，请填写黄色列",
                ],
                fill_keys=VERIFY_FILL + HELPER_FILL,
            )
            book.table(
                "安置点横向比较",
                FOLLOWUP_COLS,
                fol,
                title=f"{cname} 易地搬迁安置点横向比较（收入偏低户跟踪）",
                fill_keys=("verify_result",),
            )
        files.append(file_name)
        counts[cname] = len(rows)
        by_code[code] = file_name
        if priority:
            t_rows = _numbered([dict(t) for t in targets if t.get("county_code") == code])
            for t in t_rows:
                t["reasons"] = "；".join(t.get("reasons") or [])
            p_rows = [
                dict(p) for p in phh if code and (p.get("county_code") == code or p.get("target_county_code") == code)
            ]
            for p in p_rows:
                p["reasons"] = "；".join(p.get("reasons") or [])
                p["target_village"] = next(
                    (t["village"] for t in targets if t["village_code"] == p.get("target_village_code")), None
                )
            p_name = safe_filename(
                f"重点区域排查_{cname}.xlsx"
                if file_name == safe_filename(f"疑似风险户清单_{cname}.xlsx")
                else f"重点区域排查_{cname}_{code}.xlsx"
            )
            with _Stage(p_name), Book(child_path(folder, p_name)) as book:
                book.table(
                    "重点排查村",
                    TARGET_COLS,
                    t_rows,
                    title=f"{cname} 重点区域排查目标村（第 {round_id} 轮）",
                    notes=[
                        "重点区域：易地搬迁安置点、原深度贫困村、脱贫户较多但监测户较少的村、近期自然灾害发生地（SPEC §6.4）"
                    ]
                    + ([] if t_rows else ["本县本轮没有列为重点区域的村"]),
                )
                book.table(
                    "重点排查户",
                    PRIORITY_HH_COLS,
                    p_rows,
                    title=f"{cname} 重点区域排查户（按排查顺序）",
                    notes=["排查顺序：疑似风险户在前（按优先级），其后为调整后收入低于监测线1.2倍或有部门记录的户"],
                    fill_keys=VERIFY_FILL,
                )
            files.append(p_name)
            priority_counts[cname] = {"villages": len(t_rows), "households": len(p_rows)}
    return {"files": files, "counts": counts, "by_code": by_code, "priority_counts": priority_counts}


def _department_files(
    con,
    folder: Path,
    round_id: str,
    departments: dict,
    risk_routing: dict,
    task_categories: list[str],
    evidence: dict[str, list],
    returns: bool = True,
) -> dict:
    files, task_counts, unmatched_counts = [], {}, {}
    types_of_dept: dict[str, list[str]] = {}
    for rtype, depts in risk_routing.items():
        for d in depts or []:
            types_of_dept.setdefault(d, []).append(str(rtype))
    monitored = _rows(
        con,
        """
        SELECT * FROM suspect WHERE round_id = ? AND list_contains(?, suspect_category)
        ORDER BY priority_score DESC NULLS LAST, household_id
    """,
        [round_id, task_categories],
    )
    for key, dept in departments.items():
        dname = str(dept.get("name", key))
        wanted = types_of_dept.get(key, [])
        if not wanted:
            continue  # a department no risk type is routed to (e.g. 财产检索) gets no task list
        rows = []
        for s in monitored:
            hit = [t for t in (s.get("risk_types") or []) if t in wanted]
            if hit:
                r = dict(s)
                r["dept_risk_types"] = hit
                r["county_name"] = _county_name(s.get("county_code"), s.get("county"))
                rows.append(r)
        for r in rows:
            r["evidence_text"] = _evidence_text_for(evidence.get(r["household_id"], []), r["dept_risk_types"])
        _numbered(rows)
        name = safe_filename(f"行业部门任务清单_{dname}.xlsx")
        with _Stage(name), Book(child_path(folder, name)) as book:
            book.table(
                "行业部门任务清单",
                TASK_COLS,
                rows,
                title=f"{dname} 行业部门任务清单（第 {round_id} 轮）",
                notes=[
                    f"监测户新增风险中涉及本部门的风险类型：{'、'.join(wanted) or '无'}。请落实行业帮扶并填写黄色列。"
                ],
                fill_keys=("measure", "measure_date", "handler"),
            )
        files.append(name)
        task_counts[dname] = len(rows)

    if not returns:  # a county rerun: the returns describe department data, republished by full rounds only
        return {"files": files, "task_counts": task_counts, "unmatched_counts": unmatched_counts}
    # unmatched records and rejects, per department owning a feed; feeds nobody owns get their own file
    present = {
        r[0]
        for r in con.sql(
            "SELECT DISTINCT source FROM link UNION SELECT DISTINCT source FROM rejected_row UNION SELECT DISTINCT feed FROM ingested_file"
        ).fetchall()
    } - {"registry", "feedback", None}
    owners: dict[str, list[str]] = {}
    for key, dept in departments.items():
        feeds = [f for f in (dept.get("feeds") or []) if f in present]
        if feeds:
            owners[str(dept.get("name", key))] = feeds
    owned = {f for fs in owners.values() for f in fs}
    for feed in sorted(present - owned):
        owners[FEED_LABELS.get(feed, feed)] = [feed]
    for dname, feeds in owners.items():
        # a frame, not dicts: a province sends hundreds of thousands of unmatched records (Book takes frames in slices)
        unmatched = con.sql(
            """
            SELECT l.source, l.source_file, l.source_row, l.reason, d.name, d.id_raw, d.county, d.township, d.village,
                   d.hukou_address, coalesce(d.event_date, d.settle_date, d.disaster_date, d.approved_on) AS event_date,
                   CASE l.source
                       WHEN 'medical' THEN concat_ws('，', d.institution, d.visit_type, '个人自付 ' || format('{:,.2f}', d.out_of_pocket) || '元')
                       WHEN 'disaster' THEN concat_ws('，', d.disaster_type, '房屋' || d.house_damage, '直接经济损失 ' || format('{:,.2f}', d.direct_loss) || '元')
                       WHEN 'civil_affairs' THEN concat_ws('，', d.aid_type, d.status, '金额 ' || format('{:,.2f}', d.amount) || '元')
                       WHEN 'employment' THEN concat_ws('，', d.event, d.previous_workplace)
                       WHEN 'property' THEN d.property_type
                   END AS content
            FROM (SELECT * FROM link WHERE match_method = 'unmatched' AND list_contains(?, source)) l
            LEFT JOIN dept_record d
                   ON d.source = l.source AND d.source_file = l.source_file AND d.source_row = l.source_row
            QUALIFY row_number() OVER (PARTITION BY l.source, l.source_file, l.source_row ORDER BY d.file_hash) = 1
            ORDER BY l.source, l.source_file, l.source_row
        """,
            params=[feeds],
        ).pl()
        unmatched = unmatched.with_columns(
            pl.col("reason").fill_null("户籍系统中找不到此人（证件号码、姓名、出生日期和住址均无法对应）"),
            pl.int_range(1, unmatched.height + 1, dtype=pl.Int64).alias("seq"),
        )
        rejects = _rows(
            con,
            """
            SELECT source_file, source_row, field, reason FROM rejected_row WHERE list_contains(?, source)
            ORDER BY source_file, source_row NULLS FIRST, field
        """,
            [feeds],
        )
        for r in rejects:
            r["row_text"] = "整个文件" if r["source_row"] is None else f"第{r['source_row']}行"
        _numbered(rejects)
        name = safe_filename(f"未匹配记录_{dname}.xlsx")
        with _Stage(name), Book(child_path(folder, name)) as book:
            book.table(
                "未匹配记录",
                UNMATCHED_COLS,
                unmatched,
                title=f"{dname} 未匹配记录（第 {round_id} 轮）",
                notes=[
                    "以下记录在户籍系统中找不到对应人员，请核对姓名、证件号码后在下次报送时更正。行号为电子表格中看到的行号。"
                ],
                fill_keys=("handling",),
            )
            book.table(
                "拒收记录",
                REJECT_COLS,
                rejects,
                title=f"{dname} 拒收记录",
                notes=["以下行未能入库，请按原因更正后重新报送。"],
            )
        files.append(name)
        unmatched_counts[dname] = unmatched.height
    return {"files": files, "task_counts": task_counts, "unmatched_counts": unmatched_counts}


def _summary_data(con, round_id: str, dept_of_feed: dict[str, str]) -> dict:
    one = lambda q, p=None: con.sql(q, params=p).fetchall()[0]  # noqa: E731
    info = one(
        """SELECT count(*), min(kind), min(reference_date), min(pushed_on), max(verify_by),
                         count(*) FILTER (WHERE reflagged_eliminated), count(*) FILTER (WHERE property_hit),
                         count(*) FILTER (WHERE double_routed), string_agg(DISTINCT verify_by_note, '；')
                  FROM suspect WHERE round_id = ?""",
        [round_id],
    )
    n, kind, ref, pushed, verify_by, reflag, prop, dbl, vnote = info
    kind_zh = {"full": "集中全面排查", "priority": "重点区域排查", "incremental": "增量筛查"}.get(
        kind or "", kind or "—"
    )
    by_cat = con.sql(
        "SELECT suspect_category, count(*) FROM suspect WHERE round_id = ? GROUP BY 1 ORDER BY 2 DESC, 1",
        params=[round_id],
    ).fetchall()
    by_type = con.sql(
        "SELECT t, count(*) FROM (SELECT unnest(risk_types) AS t FROM suspect WHERE round_id = ?) GROUP BY 1 ORDER BY 2 DESC, 1",
        params=[round_id],
    ).fetchall()
    by_county_raw = con.sql(
        """SELECT county_code, any_value(county), count(*),
                                      count(*) FILTER (WHERE suspect_category = '监测户新增风险'),
                                      count(*) FILTER (WHERE reflagged_eliminated), count(*) FILTER (WHERE double_routed)
                               FROM suspect WHERE round_id = ? GROUP BY 1 ORDER BY 1""",
        params=[round_id],
    ).fetchall()
    by_county = [(_county_name(c, nm), cnt) for c, nm, cnt, *_ in by_county_raw]
    county_rows = [(_county_name(c, nm), cnt, mon, rf, db) for c, nm, cnt, mon, rf, db in by_county_raw]
    match = con.sql("""SELECT source, count(*),
                              count(*) FILTER (WHERE match_method = 'id_exact'), count(*) FILTER (WHERE match_method = 'id_repaired'),
                              count(*) FILTER (WHERE match_method = 'fuzzy'), count(*) FILTER (WHERE match_method = 'review'),
                              count(*) FILTER (WHERE match_method = 'unmatched')
                       FROM link GROUP BY 1 ORDER BY 1""").fetchall()
    label = lambda s: dept_of_feed.get(s, FEED_LABELS.get(s, s))  # noqa: E731
    match_rows, match_rate = [], []
    for src, total, ex, rep, fz, rv, un in match:
        rate = (ex + rep + fz) / total if total else 0.0
        match_rows.append((label(src), total, ex, rep, fz, rv, un, f"{rate * 100:.1f}%"))
        match_rate.append((label(src), rate))
    quality = con.sql("""SELECT feed, count(*), count(*) FILTER (WHERE status = 'loaded'), count(*) FILTER (WHERE status = 'blocked'),
                                count(*) FILTER (WHERE status = 'quarantined'), coalesce(sum(rows_in_file), 0),
                                coalesce(sum(rows_accepted), 0), coalesce(sum(rows_rejected), 0),
                                coalesce(sum(rows_skipped), 0), coalesce(sum(rows_duplicate_event), 0)
                         FROM ingested_file GROUP BY 1 ORDER BY 1""").fetchall()
    quality_rows = [(label(f), *[int(x) for x in rest]) for f, *rest in quality]
    reject_rate = [(label(f), (rest[6] / rest[4]) if rest[4] else 0.0) for f, *rest in quality]
    reasons = con.sql(
        """SELECT source, reason, count(*) FROM rejected_row GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT 30"""
    ).fetchall()
    reason_rows = [(label(s), r, c) for s, r, c in reasons]
    notes = [x for x in (vnote or "").split("；") if x]
    subtitle = (
        f"轮次 {round_id}（{kind_zh}）· 基准日 {ref or '—'} · 推送日期 {pushed or '—'} · 核实截止日期 {verify_by or '—'}"
        "（5个工作日，已扣除法定节假日并计入调休上班日）"
    )
    kpis = (
        [("疑似风险户", int(n))]
        + [(str(c), int(k)) for c, k in by_cat]
        + [
            ("风险消除户再次预警", int(reflag)),
            ("财产检索命中（已降低优先级）", int(prop)),
            ("易地搬迁双向分流", int(dbl)),
        ]
    )
    return {
        "title": f"防贫监测 第 {round_id} 轮 筛查汇总",
        "subtitle": subtitle,
        "notes": notes,
        "kpis": kpis,
        "by_county": by_county,
        "by_category": [(str(c), int(k)) for c, k in by_cat],
        "by_risk_type": [(str(t), int(k)) for t, k in by_type],
        "match_rate": match_rate,
        "reject_rate": reject_rate,
        "county_rows": county_rows,
        "match_rows": match_rows,
        "quality_rows": quality_rows,
        "reason_rows": reason_rows,
    }
