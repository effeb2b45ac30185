"""The work plan's time limits (SPEC §8), counted in Chinese working days: ``deadline_items(wh, as_of)``.

One row per (household, deadline) — set-based SQL over ``household_event`` and the roster, with a working-day
calendar table (``fangpin.domain.workdays``: statutory holidays and adjusted working weekends, weekends-only
fallback outside the calendar's years, which the ``note`` column then says).

=============  ==========================================  ===============================================  =========
item_type      clock starts                                due                                              counted
=============  ==========================================  ===============================================  =========
verify         a case's first push (the lead)              suspect.verify_by (push + verify_working_days)    working
decision       the same first push                         + deadlines.decision_days (15) calendar days      calendar
helper         inclusion (纳入日期, else 核实日期)           + helper_working_days (5)                         working
measures       helper assigned (else the helper's due)     + measures_working_days (10)                      working
visit          each calendar quarter the household is      quarter end; ≥ visits_per_quarter visits inside   calendar
               monitored and tracked                        the quarter
approval       month M of the 纳入监测 result                 end of month M + county_approval_months (1)       calendar
=============  ==========================================  ===============================================  =========

- A *case* is the run of pushes of a household up to the decision (纳入监测 / 不纳入) that closes it; a push after a
  decision opens a new case (e.g. a rejected household re-pushed with new evidence). Verification is done by any
  dated 核实结果 (also 待核实: the household was visited), the decision only by 纳入监测 / 不纳入.
- helper / measures / approval are tracked for households included through feedback (not for registry monitoring
  objects whose earlier history the system never saw), once per inclusion (again after a 风险消除).
- visits are tracked for every roster household (registry ones too) for the quarters that begin after both its
  identification and the system's first push (the tracking start); a quarter without a visit is missed — a visit in
  a later quarter belongs to that quarter. Quarters end at the elimination.
- status: on_time | late (done after the due date) | overdue (not done, due date passed) | open (not yet due) |
  done_undated (done, but the county gave no date: cannot be shown to be on time, counts against the rate).
  A working-day deadline is passed once a working day after the due date has begun (due Friday → overdue on the
  next working day, which may be an adjusted working Saturday); a calendar deadline the next calendar day.
  ``days_overdue`` is in working days (for late items: how late), ``calendar_days_overdue`` in calendar days.
- Events dated after ``as_of`` are ignored, so the list for a past day can be reproduced.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from fangpin.domain.workdays import FALLBACK_NOTE, is_working_day
from fangpin.settings import load
from warehouse.followup._base import deadlines_config, ensure_tables
from warehouse.runner import runner_for

ITEM_LABELS = {
    "verify": "入户核实",
    "decision": "作出认定（纳入/不纳入）",
    "helper": "安排帮扶责任人",
    "measures": "落实帮扶措施",
    "visit": "季度入户走访",
    "approval": "县级审定",
}
ITEM_ORDER = ("verify", "decision", "helper", "measures", "visit", "approval")
STATUS_LABELS = {
    "on_time": "按时完成",
    "late": "逾期完成",
    "overdue": "逾期未完成",
    "open": "未到期",
    "done_undated": "已完成（日期不详）",
}
ITEM_COLUMNS = {
    "household_id": pl.String,
    "county_code": pl.String,
    "county": pl.String,
    "township_code": pl.String,
    "township": pl.String,
    "village_code": pl.String,
    "village": pl.String,
    "head_name": pl.String,
    "recipients": pl.List(pl.String),
    "item_type": pl.String,
    "item": pl.String,
    "period": pl.String,
    "rule": pl.String,
    "round_id": pl.String,
    "start_date": pl.Date,
    "due_date": pl.Date,
    "done_date": pl.Date,
    "status": pl.String,
    "days_overdue": pl.Int64,
    "calendar_days_overdue": pl.Int64,
    "deadline_kind": pl.String,
    "note": pl.String,
}
_TEMPS = (
    "_fu_asof",
    "_fu_cal",
    "_fu_wd",
    "_fu_ev",
    "_fu_roster",
    "_fu_reg",
    "_fu_seq",
    "_fu_case0",
    "_fu_case",
    "_fu_incl",
    "_fu_items",
)


def _calendar(wh, start: dt.date, end: dt.date) -> None:
    """TEMP ``_fu_cal(date, is_working, fallback, ord)`` with ord = working days up to and including the date (the
    ``_fu_wd(ord, date)`` of working days is made from it by ``followup/deadlines.calendar``). add_working_days(d, n)
    = _fu_wd[ord(d) + n]; working days in (a, b] = ord(b) − ord(a) — the conventions of fangpin.domain.workdays."""
    n = (end - start).days + 1
    dates = [start + dt.timedelta(days=i) for i in range(n)]
    flags = [is_working_day(d) for d in dates]  # cached per date; a few hundred to a few thousand calendar days
    frame = pl.DataFrame(
        {"date": dates, "is_working": [f[0] for f in flags], "fallback": [f[1] for f in flags]},
        schema={"date": pl.Date, "is_working": pl.Boolean, "fallback": pl.Boolean},
    )
    wh.put("_fu_cal", frame.with_columns(pl.col("is_working").cast(pl.Int64).cum_sum().alias("ord")))


def _bounds(wh, as_of: dt.date) -> tuple[dt.date, dt.date]:
    lo = wh.scalar("followup/deadlines.bounds") or as_of
    lo = max(min(lo, as_of), as_of - dt.timedelta(days=366 * 10)) - dt.timedelta(days=10)
    return lo, as_of + dt.timedelta(days=200)


def deadline_items(wh, as_of: dt.date, home: Path | None = None) -> pl.DataFrame:
    """Every deadline of the work plan known on ``as_of`` (see the module docstring), one row per item."""
    wh = runner_for(wh)
    if isinstance(as_of, dt.datetime):
        as_of = as_of.date()
    ensure_tables(wh)
    cfg = deadlines_config(home)
    verify_wd = int((load("rules", home).get("defaults") or {}).get("verify_working_days", 5))
    lo, hi = _bounds(wh, as_of)
    try:
        _calendar(wh, lo, hi)
        wh.run("followup/deadlines.calendar", as_of=as_of)
        wh.run(
            "followup/deadlines.items",
            verify_wd=verify_wd,
            decision_days=cfg["decision_days"],
            helper_wd=cfg["helper_working_days"],
            measures_wd=cfg["measures_working_days"],
            visits=cfg["visits_per_quarter"],
            approval_months=cfg["county_approval_months"],
        )
        items = wh.frame("followup/deadlines.sorted_items")
        fb_years = [r[0] for r in wh.rows("followup/deadlines.fallback_years")]
    finally:
        wh.drop(*_TEMPS)
        wh.run("followup/deadlines.drop_macros")
    if items.height and fb_years:
        # the calendar did not know those years: say so next to each working-day deadline that touched them
        touched = (
            pl.col("due_date").dt.year().is_in(fb_years)
            | pl.col("start_date").dt.year().is_in(fb_years)
            | (pl.lit(as_of.year in fb_years) & (pl.col("status") == "overdue"))
        )
        text = FALLBACK_NOTE.format(years="、".join(str(y) for y in fb_years))
        items = items.with_columns(
            pl.when(touched & (pl.col("deadline_kind") == "working")).then(pl.lit(text)).alias("note")
        )
    return items.select([pl.col(c).cast(t) for c, t in ITEM_COLUMNS.items()])


def overdue(wh, as_of: dt.date, home: Path | None = None) -> pl.DataFrame:
    """Items not done whose due date has passed on ``as_of``: household, county, what, due date, days overdue
    (working days), most overdue first within each county."""
    items = deadline_items(wh, as_of, home)
    return items.filter(pl.col("status") == "overdue").sort(
        ["county_code", "days_overdue", "due_date", "household_id"], descending=[False, True, False, False]
    )


def compliance(wh, as_of: dt.date, home: Path | None = None, items: pl.DataFrame | None = None) -> pl.DataFrame:
    """Per county (the household's registry county) and deadline type: items due by ``as_of`` (due), done on
    time, done late, overdue, done without a date, not yet due (open), and the on-time rate = on_time / due."""
    items = deadline_items(wh, as_of, home) if items is None else items
    base = items.group_by("county_code", "county", "item_type").agg(
        (pl.col("status") != "open").sum().alias("due"),
        (pl.col("status") == "on_time").sum().alias("on_time"),
        (pl.col("status") == "late").sum().alias("late"),
        (pl.col("status") == "overdue").sum().alias("overdue"),
        (pl.col("status") == "done_undated").sum().alias("done_undated"),
        (pl.col("status") == "open").sum().alias("open"),
    )
    order = pl.DataFrame(
        {
            "item_type": list(ITEM_ORDER),
            "_o": list(range(len(ITEM_ORDER))),
            "item": [ITEM_LABELS[k] for k in ITEM_ORDER],
        }
    )
    return (
        base.join(order, on="item_type", how="left")
        .with_columns(pl.when(pl.col("due") > 0).then(pl.col("on_time") / pl.col("due")).alias("on_time_rate"))
        .sort("county_code", "_o")
        .drop("_o")
        .select(
            "county_code",
            "county",
            "item_type",
            "item",
            "due",
            "on_time",
            "late",
            "overdue",
            "done_undated",
            "open",
            "on_time_rate",
        )
    )


def approval_batches(wh, as_of: dt.date, home: Path | None = None, items: pl.DataFrame | None = None) -> pl.DataFrame:
    """The monthly 县级审定 batches: households included (纳入监测) through feedback, by county and month of the
    result, with their approval state on ``as_of`` (已审定 / 待审定 / 逾期未审定)."""
    items = deadline_items(wh, as_of, home) if items is None else items
    a = items.filter(pl.col("item_type") == "approval")
    return (
        a.with_columns(
            pl.col("period").alias("batch"),
            pl.col("start_date").alias("proposed_on"),
            pl.col("done_date").alias("approved_on"),
            pl.when(pl.col("done_date").is_not_null())
            .then(pl.lit("已审定"))
            .when(pl.col("status") == "overdue")
            .then(pl.lit("逾期未审定"))
            .otherwise(pl.lit("待审定"))
            .alias("approval_status"),
        )
        .select(
            "county_code",
            "county",
            "batch",
            "household_id",
            "township",
            "village",
            "head_name",
            "proposed_on",
            "due_date",
            "approved_on",
            "approval_status",
            "days_overdue",
        )
        .sort("county_code", "batch", "household_id")
    )
