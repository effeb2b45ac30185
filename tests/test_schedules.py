"""The work plan's calendar: evaluating the schedule in each quarter yields the right round id and kind."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pytest

from pipelines.schedules import quarterly_screening, round_for


@pytest.mark.parametrize(
    "day, round_id, kind",
    [
        (dt.date(2026, 1, 10), "2026Q1", "priority"),
        (dt.date(2026, 4, 10), "2026Q2", "full"),
        (dt.date(2026, 7, 10), "2026Q3", "priority"),
        (dt.date(2026, 10, 10), "2026Q4", "full"),
    ],
)
def test_quarterly_schedule_launches_the_right_round(day, round_id, kind):
    assert round_for(day) == (round_id, kind)
    ctx = dg.build_schedule_context(scheduled_execution_time=dt.datetime(day.year, day.month, day.day, 7, 0))
    req = quarterly_screening(ctx)
    cfg = req.run_config["ops"]["suspects"]["config"]
    assert cfg["round_id"] == round_id and cfg["kind"] == kind
    assert req.run_config["ops"]["round_outputs"]["config"] == cfg
    assert req.run_key == f"round-{round_id}"
