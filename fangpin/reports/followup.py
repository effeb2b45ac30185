"""Follow-up outputs for the monthly supervision (SPEC §8, work plan 三(四)): ``write_followup(tables, home, as_of)``
writes the tables of :func:`warehouse.publish.followup.followup_tables` (this module runs no SQL).

Everything goes to ``<home>/out/followup/<as_of>/`` (e.g. ``out/followup/2027-01-20/``): the follow-up is a picture
of one day, not of a screening round, and a supervisor asks for it by date. Round folders (``out/<round_id>/``)
are never touched; ``followup`` cannot be a round id.

- ``逾期事项_<县>.xlsx`` per county of the registry: sheet 逾期事项 (deadlines passed and not met, most overdue
  first; relocated households double-routed to two counties appear in both for 核实/认定), sheet 即将到期 (due
  within the next 7 days), sheet 县级审定批次 (the monthly batch: households included and awaiting 县级审定);
- ``督查合规表.xlsx``: sheet 合规率 (one row per county, on-time rate per deadline type), sheet 明细 (counts);
- ``风险消除候选_<县>.xlsx`` per county: sheet 风险消除候选 (all conditions met), sheet 暂不符合条件 (monitored
  households with the reasons they are not proposed — 整户无劳动能力 ones say they stay monitored);
- ``资金分配因素.xlsx``: monitored households and persons per county and the share of the city (资金使用精准);
- Parquet twins for programs: ``deadline_items.parquet``, ``compliance.parquet``, ``elimination_review.parquet``,
  ``funds.parquet``.

``write_approval_batch(batch, home, month, as_of)`` — the monthly 县级审定 batch (work plan (二): 原则上每月办理一次):
``<home>/out/followup/approval/<YYYY-MM>/县级审定批次_<县>_<YYYY-MM>.xlsx`` per county with households, plus
``approval_batch.parquet``: every household whose 纳入监测 result falls in that month, with its state on ``as_of``.

Chinese headers, frozen header rows, filters (``fangpin.reports.xlsx.Book``); cell text from inputs is neutralised
and file names are sanitised (``fangpin.reports.safe``). Files are written to a scratch folder and moved into place;
files of an earlier run for the same day that this run no longer writes are removed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import shutil
from pathlib import Path

import polars as pl

from fangpin.domain import divisions
from fangpin.reports import fills
from fangpin.reports.safe import child_path, safe_filename
from fangpin.reports.xlsx import Book, Col

OWN_PATTERNS = (
    r"^逾期事项_.*\.xlsx$",
    r"^督查合规表\.xlsx$",
    r"^风险消除候选_.*\.xlsx$",
    r"^资金分配因素\.xlsx$",
    r"^deadline_items\.parquet$",
    r"^compliance\.parquet$",
    r"^elimination_review\.parquet$",
    r"^funds\.parquet$",
)
STATUS_ZH = {
    "on_time": "按时完成",
    "late": "逾期完成",
    "overdue": "逾期未完成",
    "open": "未到期",
    "done_undated": "已完成（日期不详）",
}

OVERDUE_COLS = [
    Col("序号", "seq", 6, "int"),
    Col("乡(镇)", "township", 12),
    Col("行政村", "village", 14),
    Col("户编号", "household_id", 18),
    Col("户主姓名", "head_name", 10),
    Col("逾期事项", "item", 18),
    Col("期间", "period", 14),
    Col("时限要求", "rule", 30, "wrap"),
    Col("起算日期", "start_date", 11, "date"),
    Col("截止日期", "due_date", 11, "date"),
    Col("逾期工作日", "days_overdue", 9, "int"),
    Col("逾期自然日", "calendar_days_overdue", 9, "int"),
    Col("推送轮次", "round_id", 10),
    Col("备注", "note", 30, "wrap"),
    Col("整改情况", "fix", 16, fill=fills.FIX),
    Col("完成日期", "fix_date", 11, fill=fills.FIX_DATE),
]
SOON_COLS = [c for c in OVERDUE_COLS if c.key not in ("days_overdue", "calendar_days_overdue")]
BATCH_COLS = [
    Col("序号", "seq", 6, "int"),
    Col("审定批次", "batch", 14),
    Col("乡(镇)", "township", 12),
    Col("行政村", "village", 14),
    Col("户编号", "household_id", 18),
    Col("户主姓名", "head_name", 10),
    Col("核实纳入日期", "proposed_on", 12, "date"),
    Col("审定截止日期", "due_date", 12, "date"),
    Col("审定状态", "approval_status", 12),
    Col("县级审定日期", "approved_fill", 11, fill=fills.APPROVED_ON),
]
RATE_KEYS = ("verify", "decision", "helper", "measures", "visit", "approval")
RATE_LABELS = {
    "verify": "入户核实（5个工作日）",
    "decision": "作出认定（15天）",
    "helper": "安排帮扶责任人（5个工作日）",
    "measures": "落实帮扶措施（10个工作日）",
    "visit": "季度入户走访",
    "approval": "县级月度审定",
}
RATE_COLS = (
    [Col("县(市、区)", "county", 16)]
    + [Col(f"{RATE_LABELS[k]}按时率(%)", f"rate_{k}", 14, "number") for k in RATE_KEYS]
    + [
        Col("应办事项合计", "due_total", 10, "int"),
        Col("按时完成合计", "on_time_total", 10, "int"),
        Col("逾期未完成合计", "overdue_total", 10, "int"),
        Col("综合按时率(%)", "rate_total", 10, "number"),
    ]
)
DETAIL_COLS = [
    Col("县(市、区)", "county", 16),
    Col("事项", "item", 22),
    Col("应办（已到期）", "due", 10, "int"),
    Col("按时完成", "on_time", 9, "int"),
    Col("逾期完成", "late", 9, "int"),
    Col("逾期未完成", "overdue", 10, "int"),
    Col("已完成但日期不详", "done_undated", 12, "int"),
    Col("未到期", "open", 8, "int"),
    Col("按时率(%)", "rate", 9, "number"),
]
#: The household columns both the elimination candidates and the approval batch open with.
HOUSEHOLD_COLS = [
    Col("序号", "seq", 6, "int"),
    Col("乡(镇)", "township", 12),
    Col("行政村", "village", 14),
    Col("户编号", "household_id", 18),
    Col("户主姓名", "head_name", 10),
    Col("家庭人口数", "household_size", 8, "int"),
    Col("监测对象类别", "category", 13),
    Col("风险类型", "risk_types", 18),
]
CANDIDATE_COLS = HOUSEHOLD_COLS + [
    Col("识别监测日期", "identified_on", 12, "date"),
    Col("已监测月数", "months_monitored", 8, "int"),
    Col("帮扶措施", "measure_list", 24, "wrap"),
    Col("人均纯收入", "income", 11, "money"),
    Col("收入来源", "income_source", 12),
    Col("监测线", "monitoring_line", 10, "money"),
    Col("最近走访", "last_visit", 11, "date"),
    Col("名册来源", "source_zh", 10),
    Col("村级商讨意见", "opinion", 16, fill=fills.OPINION),
]
NOT_YET_COLS = CANDIDATE_COLS[:10] + [Col("暂不符合风险消除条件的原因", "reasons", 60, "wrap")]
FUNDS_COLS = [
    Col("县(市、区)", "county", 16),
    Col("县级代码", "county_code", 10),
    Col("监测户数（风险未消除）", "households", 12, "int"),
    Col("监测人数", "persons", 10, "int"),
    Col("占全市监测人数比例(%)", "share_pct", 12, "number"),
]


def funds_cols() -> list[Col]:
    """:data:`FUNDS_COLS` for the area served: the share is of 全市 for a city, of the 合计 row for several prefectures
    (``divisions.whole_area``)."""
    share = "全市" if divisions.one_prefecture() else "合计"
    return [dataclasses.replace(c, header=c.header.replace("全市", share)) for c in FUNDS_COLS]


def _numbered(rows: list[dict]) -> list[dict]:
    for i, r in enumerate(rows, start=1):
        r["seq"] = i
    return rows


def _file_for(prefix: str, code: str) -> str:
    return safe_filename(f"{prefix}_{divisions.county_label(code)}.xlsx")


def write_followup(tables: dict, home: Path, as_of: dt.date) -> dict:
    """Write the follow-up outputs of ``as_of`` from ``tables`` (items, compliance, batches, review, funds,
    counties); returns {"folder", "files", "counts"}."""
    if isinstance(as_of, dt.datetime):
        as_of = as_of.date()
    home = Path(home)
    items, comp, batches = tables["items"], tables["compliance"], tables["batches"]
    review, funds, counties = tables["review"], tables["funds"], list(tables["counties"])

    out_root = home / "out" / "followup"
    final_dir = out_root / as_of.isoformat()
    scratch = out_root / f".{as_of.isoformat()}.partial"
    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True)
    written: list[str] = []
    counts: dict = {"as_of": as_of.isoformat()}

    # ---------------------------------------------------------------- Parquet for programs
    for name, frame in (
        ("deadline_items.parquet", items),
        ("compliance.parquet", comp),
        ("elimination_review.parquet", review),
        ("funds.parquet", funds),
    ):
        frame.write_parquet(scratch / name)
        written.append(name)

    # ---------------------------------------------------------------- per county: overdue list + approval batch
    soon_limit = as_of + dt.timedelta(days=7)
    overdue_counts, candidate_counts = {}, {}
    for code in counties:
        mine = items.filter(pl.col("recipients").list.contains(code))
        od = mine.filter(pl.col("status") == "overdue").sort(
            ["days_overdue", "due_date", "household_id"], descending=[True, False, False]
        )
        soon = mine.filter((pl.col("status") == "open") & (pl.col("due_date") <= soon_limit)).sort(
            "due_date", "household_id"
        )
        bt = batches.filter((pl.col("county_code") == code) & (pl.col("approval_status") != "已审定"))
        rows = _numbered(od.to_dicts())
        soon_rows = _numbered(soon.to_dicts())
        bt_rows = _numbered(bt.to_dicts())
        cname = divisions.county_name(code)
        name = _file_for("逾期事项", code)
        with Book(child_path(scratch, name)) as book:
            book.table(
                "逾期事项",
                OVERDUE_COLS,
                rows,
                title=f"{cname} 防贫监测帮扶逾期事项（截至{as_of:%Y年%m月%d日}）",
                notes=[
                    f"共 {len(rows)} 项。工作日已扣除法定节假日并计入调休上班日；整改后请填写黄色列并随核实结果反馈。"
                ],
                empty=f"截至{as_of:%Y年%m月%d日}，本县没有逾期未完成的事项。",
            )
            book.table(
                "即将到期",
                SOON_COLS,
                soon_rows,
                title=f"{cname} 7天内到期事项（{as_of:%m月%d日}—{soon_limit:%m月%d日}）",
                empty="本县未来7天内没有到期的事项。",
            )
            book.table(
                "县级审定批次",
                BATCH_COLS,
                bt_rows,
                title=f"{cname} 拟纳入监测对象县级审定批次（按月）",
                notes=["工作方案（二）：县级原则上每月审定一次。审定后请在“县级审定日期”列填写日期并随核实结果反馈。"],
                empty="本县目前没有等待县级审定的拟纳入监测对象。",
            )
        written.append(name)
        overdue_counts[divisions.county_label(code)] = len(rows)

    # ---------------------------------------------------------------- per county: elimination candidates
    source_zh = {"registry": "原有监测对象", "feedback": "本系统推送纳入"}
    for code in counties:
        mine = review.filter(pl.col("county_code") == code).with_columns(
            pl.col("source")
            .replace_strict(source_zh, default=pl.col("source"), return_dtype=pl.String)
            .alias("source_zh")
        )
        cand = _numbered(mine.filter(pl.col("candidate")).to_dicts())
        notyet = _numbered(mine.filter(~pl.col("candidate")).to_dicts())
        cname = divisions.county_name(code)
        name = _file_for("风险消除候选", code)
        with Book(child_path(scratch, name)) as book:
            book.table(
                "风险消除候选",
                CANDIDATE_COLS,
                cand,
                title=f"{cname} 风险消除候选户（截至{as_of:%Y年%m月%d日}）",
                notes=[
                    "条件：纳入监测满6个月、至少落实1项帮扶措施、人均纯收入稳定超过监测线（近6个月无新的风险信号）、"
                    "住房和饮水安全有保障、无失学辍学；整户无劳动能力的不列入。",
                    "候选仅供参考：须按“村级商讨研究、入户核实、行政村评议、乡镇审核公示、县级审定”程序认定。",
                ],
                empty="本县暂无同时满足全部风险消除条件的监测户。",
            )
            book.table(
                "暂不符合条件",
                NOT_YET_COLS,
                notyet,
                title=f"{cname} 监测户暂不符合风险消除条件的原因",
                empty="本县没有风险未消除、暂不符合风险消除条件的监测户。",
            )
        written.append(name)
        candidate_counts[divisions.county_label(code)] = len(cand)

    # ---------------------------------------------------------------- compliance table (all counties)
    wide: list[dict] = []
    detail: list[dict] = []
    for code in counties + ["__city__"]:
        part = comp if code == "__city__" else comp.filter(pl.col("county_code") == code)
        row = {"county": divisions.whole_area()[0] if code == "__city__" else divisions.county_name(code)}
        due_total = on_time_total = overdue_total = 0
        for k in RATE_KEYS:
            sub = part.filter(pl.col("item_type") == k)
            due, on_time = int(sub["due"].sum() or 0), int(sub["on_time"].sum() or 0)
            row[f"rate_{k}"] = round(100.0 * on_time / due, 1) if due else None
            due_total += due
            on_time_total += on_time
            overdue_total += int(sub["overdue"].sum() or 0)
            if sub.height or code != "__city__":
                detail.append(
                    {
                        "county": row["county"],
                        "item": RATE_LABELS[k],
                        "due": due,
                        "on_time": on_time,
                        "late": int(sub["late"].sum() or 0),
                        "overdue": int(sub["overdue"].sum() or 0),
                        "done_undated": int(sub["done_undated"].sum() or 0),
                        "open": int(sub["open"].sum() or 0),
                        "rate": row[f"rate_{k}"],
                    }
                )
        row.update(
            due_total=due_total,
            on_time_total=on_time_total,
            overdue_total=overdue_total,
            rate_total=round(100.0 * on_time_total / due_total, 1) if due_total else None,
        )
        wide.append(row)
    name = safe_filename("督查合规表.xlsx")
    with Book(child_path(scratch, name)) as book:
        book.table(
            "合规率",
            RATE_COLS,
            wide,
            title=f"防贫监测帮扶时限督查合规表（截至{as_of:%Y年%m月%d日}）",
            notes=[
                "按时率 = 按时完成 ÷ 已到期事项（含逾期完成、逾期未完成和日期不详）。空白 = 无到期事项。",
                "时限：核实5个工作日（推送起）；认定15天（推送起）；安排帮扶责任人5个工作日（纳入起）；"
                "落实帮扶措施10个工作日（安排帮扶责任人起）；每季度至少走访1次；县级每月审定一次（次月底前）。",
            ],
        )
        book.table("明细", DETAIL_COLS, detail, title="各县各类事项明细", empty="没有任何到期或未到期的事项。")
    written.append(name)

    # ---------------------------------------------------------------- fund-allocation factor
    fund_rows = funds.with_columns((pl.col("share") * 100).round(2).alias("share_pct")).to_dicts()
    total_hh, total_p = int(funds["households"].sum() or 0), int(funds["persons"].sum() or 0)
    fund_rows.append(
        {
            "county": divisions.whole_area()[0],
            "county_code": divisions.whole_area()[1],
            "households": total_hh,
            "persons": total_p,
            "share_pct": 100.0 if total_p else None,
        }
    )
    name = safe_filename("资金分配因素.xlsx")
    with Book(child_path(scratch, name)) as book:
        book.table(
            "监测对象人数",
            funds_cols(),
            fund_rows,
            title=f"防贫资金分配因素：监测对象人数（截至{as_of:%Y年%m月%d日}）",
            notes=[
                "工作方案（五）：把防贫监测对象人数列为资金分配要素之一。监测人数 = 风险未消除的监测户的家庭人口（户籍系统）。"
            ],
            empty="没有风险未消除的监测户。",
        )
    written.append(name)

    counts.update(
        deadline_items=items.height,
        overdue=int((items["status"] == "overdue").sum()) if items.height else 0,
        overdue_by_county=overdue_counts,
        candidates_by_county=candidate_counts,
        monitored_persons=total_p,
        monitored_households=total_hh,
    )

    # ---------------------------------------------------------------- move into place
    final_dir.mkdir(parents=True, exist_ok=True)
    keep = set(written)
    for n in written:
        os.replace(scratch / n, final_dir / n)
    for old in final_dir.iterdir():
        if old.is_file() and old.name not in keep and any(re.match(p, old.name) for p in OWN_PATTERNS):
            old.unlink()
    shutil.rmtree(scratch, ignore_errors=True)
    return {"folder": final_dir, "files": [final_dir / n for n in written], "counts": counts}


APPROVAL_COLS = HOUSEHOLD_COLS + [
    Col("核实纳入日期", "proposed_on", 12, "date"),
    Col("帮扶责任人", "helper_name", 10),
    Col("审定截止日期", "due_date", 12, "date"),
    Col("审定状态", "approval_status", 12),
    Col("县级审定日期", "approved_on", 11, "date", fill=fills.APPROVED_ON),
    Col("审定意见", "opinion", 16, fill=fills.OPINION),
]


def batch_month(month: str) -> tuple[dt.date, str]:
    """('YYYY-MM') → (its first day, the batch label, e.g. 2026年10月批次); a bad month is a ValueError."""
    if not re.fullmatch(r"\d{4}-\d{2}", str(month)):
        raise ValueError(f"month {month!r} is not YYYY-MM")
    first = dt.date(int(month[:4]), int(month[5:]), 1)
    return first, f"{first:%Y年%m月}批次"


def write_approval_batch(batch: pl.DataFrame, home: Path, month: str, as_of: dt.date) -> dict:
    """The 县级审定 batch of ``month`` ('YYYY-MM'): per county, the households included (纳入监测) that month
    (``batch``: :func:`warehouse.publish.followup.approval_batch`)."""
    first, _ = batch_month(month)
    home = Path(home)
    folder = home / "out" / "followup" / "approval" / month
    scratch = folder.parent / f".{month}.partial"
    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True)
    written = ["approval_batch.parquet"]
    batch.write_parquet(scratch / "approval_batch.parquet")
    counts = {}
    for code in sorted(batch["county_code"].drop_nulls().unique().to_list()):
        rows = _numbered(
            batch.filter(pl.col("county_code") == code).sort("township", "village", "household_id").to_dicts()
        )
        cname = divisions.county_name(code)
        name = _file_for(f"县级审定批次_{month}", code)
        with Book(child_path(scratch, name)) as book:
            book.table(
                "县级审定批次",
                APPROVAL_COLS,
                rows,
                title=f"{cname} {first:%Y年%m月}拟纳入监测对象县级审定批次",
                notes=[
                    f"共 {len(rows)} 户（{first:%Y年%m月}核实为纳入监测）。审定截止：次月底前（工作方案（二）：原则上每月办理一次）。"
                    f"审定状态截至{as_of:%Y年%m月%d日}。审定后请在黄色列填写县级审定日期和审定意见，随核实结果反馈。"
                ],
                empty=f"本县{first:%Y年%m月}没有核实为纳入监测的户。",
            )
        written.append(name)
        counts[divisions.county_label(code)] = len(rows)
    folder.mkdir(parents=True, exist_ok=True)
    for n in written:
        os.replace(scratch / n, folder / n)
    for old in folder.iterdir():
        if (
            old.is_file()
            and old.name not in set(written)
            and (old.name.startswith("县级审定批次_") or old.suffix == ".parquet")
        ):
            old.unlink()
    shutil.rmtree(scratch, ignore_errors=True)
    return {"folder": folder, "files": [folder / n for n in written], "counts": counts, "month": month}
