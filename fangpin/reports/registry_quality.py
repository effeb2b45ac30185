"""Registry data quality (户籍数据质量核查) for county staff.

``write_registry_quality(result, home)`` writes the result of ``warehouse.registry_checks.run_checks`` (findings,
rules, villages, as_of, roster_source, notes; this module runs no SQL) under
``<home>/out/registry_checks/<as_of YYYY-MM-DD>/``:

- ``registry_checks.parquet`` — one row per finding, all counties: as_of, code, severity, level, title, county_code,
  township_code, village_code, county, township, village, household_id, id_number, name, source_file, source_row,
  detail (``source_file``/``source_row`` = the registry export and the row a person sees, SPEC §7 numbering);
- ``户籍数据质量核查_<县>.xlsx`` per county in the registry (also when it has no finding), INTERNAL:
  sheet 汇总 (one row per village: households, persons, errors, reminders, households concerned, one column per rule),
  sheet 规则说明 (code, severity, title, description, the basis in words for county staff, this county's count,
  whether the rule ran) — Chinese only, no developer references,
  sheet 问题明细 (one row per finding, file and row so the clerk can correct the export; blank 处理情况 column).
A county's workbook holds only its own households. The folder is swapped in whole, like the forms.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import polars as pl

from fangpin.domain import divisions
from fangpin.reports import fills
from fangpin.reports.safe import child_path, safe_filename
from fangpin.reports.xlsx import Book, Col

TITLE = "户籍数据质量核查"

RULE_COLS = [
    Col("规则代码", "code", 8),
    Col("严重程度", "severity", 8),
    Col("核查对象", "level", 8),
    Col("规则名称", "title", 30, "wrap"),
    Col("说明", "description", 50, "wrap"),
    Col("依据", "basis_zh", 36, "wrap"),
    Col("本县条数", "county_findings", 8, "int"),
    Col("本县涉及户数", "county_households", 10, "int"),
    Col("执行情况", "ran_text", 24, "wrap"),
]
DETAIL_COLS = [
    Col("序号", "seq", 6, "int"),
    Col("严重程度", "severity", 8),
    Col("规则代码", "code", 8),
    Col("规则名称", "title", 24, "wrap"),
    Col("乡(镇)", "township", 12),
    Col("行政村", "village", 12),
    Col("户编号", "household_id", 18),
    Col("姓名", "name", 10),
    Col("证件号码", "id_number", 20),
    Col("文件名", "source_file", 28),
    Col("行号", "source_row", 7, "int"),
    Col("具体情况", "detail", 40, "wrap"),
    Col("处理情况", "handling", 16, fill=fills.HANDLING),
]
SUMMARY_BASE = [
    Col("序号", "seq", 6, "int"),
    Col("乡(镇)", "township", 12),
    Col("行政村", "village", 12),
    Col("行政村代码", "village_code", 14),
    Col("户数", "households", 7, "int"),
    Col("人数", "persons", 7, "int"),
    Col("错误（条）", "errors", 8, "int"),
    Col("提醒（条）", "reminders", 8, "int"),
    Col("涉及户数", "households_flagged", 8, "int"),
]


def write_registry_quality(result, home: Path) -> dict:
    """Write the Parquet file and the county workbooks of ``result`` (a ``warehouse.registry_checks.CheckResult``)."""
    home = Path(home)
    stamp = f"{result.as_of:%Y-%m-%d}"
    root = home / "out" / "registry_checks"
    final_dir = root / stamp
    scratch = root / f".{stamp}.partial"
    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True)
    try:
        written = ["registry_checks.parquet"]
        result.findings.write_parquet(scratch / "registry_checks.parquet")
        counties = sorted(set(result.villages["county_code"].to_list()) | set(result.findings["county_code"].to_list()))
        per_county = {}
        for code in counties:
            name, n = _write_county(scratch, code, result)
            written.append(name)
            per_county[code] = n
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    old = root / f".{stamp}.old"
    if old.exists():
        shutil.rmtree(old)
    if final_dir.exists():
        os.replace(final_dir, old)
    os.replace(scratch, final_dir)
    shutil.rmtree(old, ignore_errors=True)
    f = result.findings
    return {
        "dir": final_dir,
        "files": [final_dir / n for n in written],
        "roster_source": result.roster_source,
        "notes": list(result.notes),
        "counts": {
            "findings": f.height,
            "errors": int((f["severity"] == "错误").sum()) if f.height else 0,
            "reminders": int((f["severity"] == "提醒").sum()) if f.height else 0,
            "households_flagged": int(f["household_id"].n_unique()) if f.height else 0,
            "by_rule": {r["code"]: r["findings"] for r in result.rules.iter_rows(named=True) if r["ran"]},
            "by_county": per_county,
            "rules_not_run": [r["code"] for r in result.rules.iter_rows(named=True) if not r["ran"]],
        },
    }


def _write_county(folder: Path, code: str, result) -> tuple[str, int]:
    villages = result.villages.filter(pl.col("county_code") == code)
    findings = result.findings.filter(pl.col("county_code") == code)
    fallback = next((v for v in villages["county"].to_list() if v), None) or next(
        (v for v in findings["county"].to_list() if v), None
    )
    cname = divisions.county_name(code, fallback)
    file_name = safe_filename(f"{TITLE}_{divisions.county_label(code, fallback)}.xlsx")
    ran = result.rules.filter(pl.col("ran"))
    per_rule = (
        findings.group_by("code").agg(county_findings=pl.len(), county_households=pl.col("household_id").n_unique())
        if findings.height
        else pl.DataFrame(schema={"code": pl.String, "county_findings": pl.UInt32, "county_households": pl.UInt32})
    )
    rules = result.rules.join(per_rule, on="code", how="left").with_columns(
        pl.col("county_findings").fill_null(0),
        pl.col("county_households").fill_null(0),
        ran_text=pl.when(pl.col("ran"))
        .then(pl.lit("已执行"))
        .otherwise(pl.lit("未执行：") + pl.col("not_run_reason").fill_null("")),
    )
    summary_cols = SUMMARY_BASE + [
        Col(f"{r['code']} {r['title']}", f"n_{r['code']}", 9, "int") for r in ran.iter_rows(named=True)
    ]
    sev_order = {"错误": 0, "提醒": 1}
    detail = sorted(
        findings.to_dicts(),
        key=lambda r: (
            r.get("township_code") or "",
            r.get("village_code") or "",
            r.get("household_id") or "",
            sev_order.get(r["severity"], 9),
            r["code"],
            r.get("source_row") or 0,
        ),
    )
    n_err = sum(1 for r in detail if r["severity"] == "错误")
    n_rem = len(detail) - n_err
    notes = [
        f"核查日期：{result.as_of:%Y年%m月%d日}；{villages.height}个行政村、{int(villages['households'].sum() or 0)}户；"
        f"错误{n_err}条、提醒{n_rem}条。错误＝与国家系统校验规则矛盾，须更正；提醒＝请核实。"
    ]
    if result.roster_source != "monitoring_roster":
        notes.append("本次无帮扶台账数据（风险类型、帮扶措施），R31—R35未执行。")
    notes += [n for n in result.notes if f"县别代码{code}" in n]
    with Book(child_path(folder, file_name)) as book:
        rows = [dict(r) for r in villages.sort("township_code", "village_code", nulls_last=True).to_dicts()]
        for i, r in enumerate(rows, start=1):
            r["seq"] = i
        book.table(
            "汇总",
            summary_cols,
            rows,
            title=f"{TITLE}（{cname}）— 各行政村汇总",
            notes=notes,
            empty="户籍系统中没有本县的行政村。",
        )
        book.table("规则说明", RULE_COLS, rules.to_dicts(), title="核查规则", empty="没有核查规则。")
        for i, r in enumerate(detail, start=1):
            r["seq"] = i
        book.table(
            "问题明细",
            DETAIL_COLS,
            detail,
            title=f"{TITLE}（{cname}）— 问题明细",
            notes=["内部使用：含证件号码。文件名与行号指户籍导出文件中的位置。"],
            empty="本县户籍数据按以上规则核查，没有发现问题。",
        )
    return file_name, len(detail)
