"""The systemic-risk watch's publications (规模性、系统性风险研判; issue 16), written from frames (no SQL here):

- ``systemic_risk.parquet`` — SPEC §7: one row per flagged area and signal (area_level, area_code, area_name, county,
  signal, count, rate, baseline_rate, ratio, p_value, households_near_line, then extras), the whole round;
- ``规模性风险预警_<县>.xlsx`` per county: sheet 预警区域 (the county's flagged villages and townships, each signal
  against its baselines, in words a county official reads) and sheet 专项调查名单 (households of those areas to
  visit, ranked, with columns to fill in after the visit). A county without flagged areas gets a workbook that says
  so: it was looked at.

The frames come from ``warehouse.systemic.frames`` (``flags``, ``survey``). Files are written beside their final
name and moved into place (a crash leaves the previous version, never half a file).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import polars as pl

from fangpin.domain import divisions
from fangpin.reports import fills
from fangpin.reports.safe import child_path, safe_filename
from fangpin.reports.xlsx import Book, Col

PARQUET = "systemic_risk.parquet"
WORKBOOK_PREFIX = "规模性风险预警_"
LEVEL_NAMES = {"village": "村", "township": "乡镇"}
UNIT_NAMES = {"person": "人", "household": "户"}

AREA_COLS = [
    Col("序号", "seq", 6, "int"),
    Col("层级", "level_name", 6),
    Col("乡(镇)", "township", 12),
    Col("行政村", "village", 14),
    Col("区域代码", "area_code", 14),
    Col("风险信号", "signal_name", 18),
    Col("本季度人(户)数", "count", 10, "int"),
    Col("本季度金额（元）", "amount", 12, "money"),
    Col("本季度每千人", "rate", 11, "number"),
    Col("基线每千人", "baseline_rate", 11, "number"),
    Col("本地区历史每千人", "history_rate", 12, "number"),
    Col("本县其他地区每千人", "county_rate", 12, "number"),
    Col("上年同季度每千人", "same_quarter_rate", 12, "number"),
    Col("倍数", "ratio", 7, "number"),
    Col("显著性", "significance", 12),
    Col("户籍人口", "persons", 9, "int"),
    Col("接近监测线户数", "households_near_line", 10, "int"),
    Col("说明", "explanation", 50, "wrap"),
]

SURVEY_COLS = [
    Col("序号", "survey_rank", 6, "int"),
    Col("乡(镇)", "township", 12),
    Col("行政村", "village", 14),
    Col("户编号", "household_id", 18),
    Col("户主姓名", "head_name", 10),
    Col("家庭人口数", "household_size", 8, "int"),
    Col("户类型", "household_type", 10),
    Col("监测对象类别", "monitoring_category", 12),
    Col("上年人均纯收入", "base_income", 12, "money"),
    Col("估算调整后人均收入", "adjusted_income", 12, "money"),
    Col("监测线", "monitoring_line", 10, "money"),
    Col("高出监测线", "gap_text", 9),
    Col("列入原因", "reason", 36, "wrap"),
    Col("所在预警区域", "areas", 22, "wrap"),
    Col("预警信号", "signals", 22, "wrap"),
    Col("走访日期", "visit_date", 12, fill=fills.VISIT_DATE),
    Col("走访结果", "visit_result", 14, fill=fills.VISIT_RESULT),
    Col("走访人", "visitor", 10, fill=fills.VISITOR),
    Col("备注", "note", 16, fill=fills.NOTE),
]


def workbook_name(county_name: str) -> str:
    return safe_filename(f"{WORKBOOK_PREFIX}{county_name}.xlsx")


def _replace(tmp: Path, final: Path) -> None:
    os.replace(tmp, final)


def write_parquet(flags: pl.DataFrame, out_dir: Path, round_id: str) -> Path:
    """``systemic_risk.parquet``: the round's flagged areas × signals, round_id first."""
    out_dir.mkdir(parents=True, exist_ok=True)
    final = child_path(out_dir, PARQUET)
    tmp = final.with_name(f".{final.name}.tmp")
    flags.select(pl.lit(round_id).alias("round_id"), pl.all()).write_parquet(tmp)
    _replace(tmp, final)
    return final


def _significance(p: float | None) -> str:
    if p is None:
        return ""
    return "p<0.0001" if p < 1e-4 else f"p={p:.4f}"


SHOWN_TO_TENTHS = ("rate", "baseline_rate", "history_rate", "county_rate", "same_quarter_rate", "ratio")


def _area_rows(flags: pl.DataFrame) -> list[dict]:
    rows = []
    for i, f in enumerate(flags.to_dicts(), start=1):
        amount = f["kind"] == "amount"
        unit = "元" if amount else UNIT_NAMES.get(f["unit"], "")
        ratio = f["ratio"]
        same = f.get("same_quarter_rate")
        words = (
            f"本季度{f['signal_name']}每千人 {f['rate']:,.1f}{unit}，为基线（本地区历史与本县其他地区中较高者）"
            f"{f['baseline_rate']:,.1f}{unit} 的 {ratio:.1f} 倍"
        )
        if same is not None:
            words += f"；上年同季度每千人 {same:,.1f}{unit}"
        words += f"；本季度涉及 {f['count']} {UNIT_NAMES.get(f['unit'], '')}。"
        # cells hold what they show (0.0 for rates and ratios, cents for amounts): a cadre who clicks one sees no
        # floating-point tail, and a rerun writes the same cells
        shown = {c: round(f[c], 1) for c in SHOWN_TO_TENTHS if f.get(c) is not None}
        rows.append(
            {
                **f,
                **shown,
                "seq": i,
                "level_name": LEVEL_NAMES.get(f["area_level"], f["area_level"]),
                "village": f["area_name"] if f["area_level"] == "village" else "",
                "amount": round(f["value"], 2) if amount and f["value"] is not None else None,
                "significance": _significance(f["p_value"]),
                "explanation": words,
            }
        )
    return rows


def _survey_rows(survey: pl.DataFrame) -> pl.DataFrame:
    return survey.with_columns(
        gap_text=pl.when(pl.col("gap_to_line").is_not_null())
        .then((pl.col("gap_to_line") * 100).round(0).cast(pl.Int64).cast(pl.String) + "%")
        .otherwise(pl.lit("")),
    )


def method_text() -> str:
    """How the watch decides, for the workbook's notes; a home serving several prefectures controls the false discovery
    rate over all their areas together (no 全市)."""
    whole = "全市" if divisions.one_prefecture() else ""
    return (
        "研判方法：按行政村、乡镇统计本季度各类风险信号（医疗自付、受灾、失业返乡、新增救助、新跌破监测线）每千名户籍人口的"
        f"发生率，与本地区历史（近若干季度及上年同季度）和本县其他地区本季度相比；显著高于两者（{whole}所有地区和信号合并控制"
        "错误发现率）、至少为基线的 2 倍且达到最少人（户）数的，列为预警区域。"
    )


def write_county_workbook(
    path: Path, county_name: str, quarter: str, round_id: str, flags: pl.DataFrame, survey: pl.DataFrame
) -> None:
    """One county's 规模性风险预警 workbook (its flagged areas and their survey list)."""
    title = f"{county_name} 规模性、系统性风险预警（{quarter}，{round_id} 轮）"
    method = method_text()
    with Book(path) as book:
        if flags.is_empty():
            notes = [method, f"本季度（{quarter}）本县未发现规模性、系统性风险预警区域，无需开展专项调查。"]
        else:
            n_areas = flags.select("area_level", "area_code").unique().height
            notes = [
                method,
                f"本县本季度共 {n_areas} 个预警区域、{flags.height} 项预警信号；请组织专项调查、系统核查和入户核实。",
            ]
        areas = _area_rows(flags)
        book.table("预警区域", AREA_COLS, areas, title=title, notes=notes)
        survey_title = f"{county_name} 专项调查名单（{quarter}）"
        survey_notes = [
            "列入范围：预警区域内未列入本轮疑似风险户清单、未在监测中的农户，其估算调整后人均收入低于或接近监测线"
            "（高出不足设定比例），或本季度有预警信号相关记录。排序：既接近监测线又有相关记录的在前，其次接近监测线的，"
            "再次仅有相关记录的；同组内按高出监测线比例由低到高。",
            "估算调整后人均收入 = 上年人均纯收入 − 近 12 个月医疗自付、受灾损失和务工损失按人均折算，仅供排查参考，以入户核实为准。",
            "请在走访后填写走访日期、走访结果（下拉选择）和走访人；符合监测条件的农户按程序纳入监测。",
        ]
        book.table("专项调查名单", SURVEY_COLS, _survey_rows(survey), title=survey_title, notes=survey_notes)


def write_systemic(
    frames: dict[str, pl.DataFrame],
    out_dir: Path,
    round_id: str,
    quarter: str,
    county_names: dict[str, str],
    *,
    counties: Iterable[str] | None = None,
) -> dict:
    """Write the round's systemic-risk outputs into ``out_dir``: the Parquet file (always the whole round) and the
    workbooks of ``counties`` (codes; None = every county of ``county_names``). Returns the files written and counts.
    A full run also removes workbooks of an earlier run for counties no longer in ``county_names``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    flags, survey = frames["flags"], frames["survey"]
    files = [write_parquet(flags, out_dir, round_id).name]
    chosen = sorted(county_names) if counties is None else sorted(set(counties))
    workbooks = {}
    for code in chosen:
        name = county_names.get(code, code)
        final = child_path(out_dir, workbook_name(divisions.county_label(code, name)))
        tmp = final.with_name(f".{final.name}.tmp")
        write_county_workbook(
            tmp,
            name,
            quarter,
            round_id,
            flags.filter(pl.col("county_code") == code),
            survey.filter(pl.col("county_code") == code),
        )
        _replace(tmp, final)
        workbooks[code] = final.name
    if counties is None:
        wanted = set(workbooks.values())
        for old in out_dir.glob(f"{WORKBOOK_PREFIX}*.xlsx"):
            if old.name not in wanted:
                old.unlink()
    files += list(workbooks.values())
    return {
        "files": files,
        "workbooks": workbooks,
        "flags": flags.height,
        "areas": flags.select("area_level", "area_code").unique().height,
        "survey_households": survey.height,
    }
