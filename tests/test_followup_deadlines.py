"""Deadlines of the work plan in Chinese working days (SPEC §8): overdue items appear on the right day.

2026 calendar facts used here (chinese_calendar): 9-25..27 中秋 (Fri–Sun off), 10-01..07 国庆 off,
10-10 (Saturday) an adjusted working day, 10-11 (Sunday) off.
"""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).parent))
from test_followup_support import V_RONGSHUI, City, D, event, home_at, push, warehouse

from warehouse.followup import approval_batches, compliance, deadline_items, overdue

H1, H2, H3 = "4502251012010001", "4502251012010002", "4502251012010003"


def _home(tmp_path, *households, monitored=()):
    home = home_at(tmp_path)
    city = City()
    for hid in households:
        city.household(hid, village_code=V_RONGSHUI)
    for hid, month in monitored:
        city.household(hid, village_code=V_RONGSHUI, monitoring_category="脱贫不稳定户", risk_eliminated="否")
        city.persons[-1]["identified_month"] = month
        for p in city.persons:
            if p["household_id"] == hid:
                p["identified_month"] = month
    with warehouse(home) as con:
        city.flush(con)
    return home


def _item(items: pl.DataFrame, hid: str, kind: str) -> dict:
    rows = items.filter((pl.col("household_id") == hid) & (pl.col("item_type") == kind)).to_dicts()
    assert len(rows) == 1, rows
    return rows[0]


def test_push_on_the_friday_before_national_day_is_overdue_on_the_adjusted_working_saturday(tmp_path):
    home = _home(tmp_path, H1)
    with warehouse(home) as con:
        due = push(con, H1, D(2026, 9, 25))  # a Friday (中秋 holiday): the push day itself never counts
        assert due == D(2026, 10, 9)  # 9-28, 9-29, 9-30, 10-08, 10-09 (a weekday count would say 10-02)
        assert overdue(con, D(2026, 10, 9)).height == 0
        on_10 = overdue(con, D(2026, 10, 10))  # the adjusted working Saturday: first working day after the due date
        assert on_10.select("item_type", "due_date", "days_overdue").to_dicts() == [
            {"item_type": "verify", "due_date": D(2026, 10, 9), "days_overdue": 1}
        ]
        on_11 = overdue(con, D(2026, 10, 11)).sort(
            "item_type"
        )  # Sunday: no working day added; decision (15 days) now late
        assert on_11.select("item_type", "due_date", "days_overdue", "calendar_days_overdue").to_dicts() == [
            {"item_type": "decision", "due_date": D(2026, 10, 10), "days_overdue": 0, "calendar_days_overdue": 1},
            {"item_type": "verify", "due_date": D(2026, 10, 9), "days_overdue": 1, "calendar_days_overdue": 2},
        ]
        on_12 = overdue(con, D(2026, 10, 12))
        assert _item(on_12, H1, "verify")["days_overdue"] == 2
        # the verification comes in on Monday 10-12: late by 2 working days, no longer on the overdue list
        event(con, H1, "pending", D(2026, 10, 12), round_id="2026Q4")
        items = deadline_items(con, D(2026, 10, 20))
        v = _item(items, H1, "verify")
        assert (v["status"], v["done_date"], v["days_overdue"]) == ("late", D(2026, 10, 12), 2)
        assert _item(items, H1, "decision")["status"] == "overdue"  # 待核实 is not a decision


def test_verification_on_the_due_day_is_on_time_and_a_decision_closes_the_case(tmp_path):
    home = _home(tmp_path, H1)
    with warehouse(home) as con:
        push(con, H1, D(2026, 9, 25))
        event(con, H1, "verified_rejected", D(2026, 10, 9), round_id="2026Q4")
        items = deadline_items(con, D(2026, 12, 1))
        assert _item(items, H1, "verify")["status"] == "on_time"
        assert _item(items, H1, "decision")["status"] == "on_time"
        assert items.filter(pl.col("item_type").is_in(["helper", "measures", "approval"])).height == 0  # rejected


def test_a_rejected_household_pushed_again_opens_a_new_case(tmp_path):
    home = _home(tmp_path, H1)
    with warehouse(home) as con:
        push(con, H1, D(2026, 10, 9), round_id="R1")
        event(con, H1, "verified_rejected", D(2026, 10, 13), round_id="R1")
        push(con, H1, D(2026, 11, 16), round_id="R2")
        items = deadline_items(con, D(2026, 11, 30)).filter(pl.col("item_type") == "verify").sort("start_date")
        assert items.select("round_id", "start_date", "status").rows() == [
            ("R1", D(2026, 10, 9), "on_time"),
            ("R2", D(2026, 11, 16), "overdue"),
        ]


def test_helper_measures_and_monthly_approval_after_inclusion(tmp_path):
    home = _home(tmp_path, H1, H2)
    with warehouse(home) as con:
        for hid in (H1, H2):
            push(con, hid, D(2026, 10, 9))
            event(con, hid, "verified_included", D(2026, 10, 14), round_id="2026Q4")  # a Wednesday
        # H1: helper two working days late, measure in time, approved in the monthly batch
        event(con, H1, "helper_assigned", D(2026, 10, 23), helper_name="韦建国")
        event(con, H1, "measure", D(2026, 11, 5), measure="健康帮扶")
        event(con, H1, "approved", D(2026, 11, 20))
        # H2: helper reported without a date, nothing else
        event(con, H2, "helper_assigned", None, helper_name="覃桂英")
        items = deadline_items(con, D(2026, 12, 1))
        h = _item(items, H1, "helper")
        assert (h["due_date"], h["status"], h["days_overdue"]) == (D(2026, 10, 21), "late", 2)
        m = _item(items, H1, "measures")
        assert (m["start_date"], m["due_date"], m["status"]) == (D(2026, 10, 23), D(2026, 11, 6), "on_time")
        a = _item(items, H1, "approval")
        assert (a["period"], a["due_date"], a["status"]) == ("2026年10月批次", D(2026, 11, 30), "on_time")
        assert _item(items, H2, "helper")["status"] == "done_undated"
        m2 = _item(items, H2, "measures")  # no helper date: the 10 working days run from the helper's due date
        assert (m2["start_date"], m2["due_date"], m2["status"]) == (D(2026, 10, 21), D(2026, 11, 4), "overdue")
        assert _item(items, H2, "approval")["status"] == "overdue"
        batches = approval_batches(con, D(2026, 12, 1))
        assert batches.select("household_id", "batch", "approval_status").rows() == [
            (H1, "2026年10月批次", "已审定"),
            (H2, "2026年10月批次", "逾期未审定"),
        ]
        comp = compliance(con, D(2026, 12, 1)).filter(pl.col("item_type") == "helper").to_dicts()[0]
        assert (comp["due"], comp["on_time"], comp["late"], comp["done_undated"], comp["on_time_rate"]) == (
            2,
            0,
            1,
            1,
            0.0,
        )


def test_one_visit_per_quarter_for_every_monitored_household(tmp_path):
    home = _home(tmp_path, H1, monitored=[(H2, "202503"), (H3, "202503")])
    with warehouse(home) as con:
        push(con, H1, D(2026, 9, 25))  # the system's first push: visits are tracked from the next quarter
        event(con, H2, "visit", D(2026, 11, 2))
        event(con, H3, "visit", D(2027, 1, 3))  # a visit in January is the first quarter's, not a late Q4 one
        items = deadline_items(con, D(2027, 1, 5))
        visits = items.filter(pl.col("item_type") == "visit").sort("household_id", "period")
        assert visits.select("household_id", "period", "due_date", "status").rows() == [
            (H2, "2026年第4季度", D(2026, 12, 31), "on_time"),
            (H2, "2027年第1季度", D(2027, 3, 31), "open"),
            (H3, "2026年第4季度", D(2026, 12, 31), "overdue"),
            (H3, "2027年第1季度", D(2027, 3, 31), "on_time"),
        ]
        late = overdue(con, D(2027, 1, 5)).filter(pl.col("item_type") == "visit")
        assert late.select("household_id", "calendar_days_overdue").rows() == [(H3, 5)]
        # before the quarter ended nothing was overdue
        assert overdue(con, D(2026, 12, 31)).filter(pl.col("item_type") == "visit").height == 0


def test_a_day_outside_the_holiday_calendar_says_it_counted_weekends_only(tmp_path):
    home = _home(tmp_path, H1)
    with warehouse(home) as con:
        push(con, H1, D(2027, 1, 8), verify_by=D(2027, 1, 15), round_id="2027Q1")
        v = _item(deadline_items(con, D(2027, 1, 20)), H1, "verify")
        assert v["status"] == "overdue" and v["days_overdue"] == 3  # Mon 18, Tue 19, Wed 20
        assert "2027" in v["note"] and "仅周末" in v["note"]


def test_lists_can_be_read_on_a_read_only_connection(tmp_path):
    from warehouse.engine import connect

    home = _home(tmp_path, H1)
    with warehouse(home) as con:
        push(con, H1, D(2026, 9, 25))
    with connect(home.warehouse_path, read_only=True) as con:
        assert overdue(con, D(2026, 10, 10))["item_type"].to_list() == ["verify"]
