"""Builders for the follow-up tests (plus a smoke test of the builders).

A data home with a hand-made warehouse: registry households and department records through
``tests/test_rules_support.City`` (the rules tests' builder), pushes and decisions written straight into
``household_event`` (or produced by ``rules.screen`` + ``apply_followup``), feedback files as CSV.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from test_rules_support import City, D

from fangpin.domain.workdays import add_working_days
from fangpin.home import DataHome

RONGSHUI, SANJIANG, LIUJIANG = "450225", "450226", "450206"
V_RONGSHUI = "450225101201"  # 融水 和睦镇
V_SANJIANG = "450226100201"  # 三江 古宜镇
V_LIUJIANG = "450206100201"  # 柳江 拉堡镇


def home_at(tmp_path: Path) -> DataHome:
    return DataHome.at(tmp_path / "home").ensure()


@contextlib.contextmanager
def warehouse(home: DataHome):
    from warehouse.engine import connect
    from warehouse.followup import ensure_tables

    with connect(home.warehouse_path) as con:
        ensure_tables(con)
        yield con


def push(
    con,
    hid: str,
    pushed_on: dt.date,
    *,
    round_id: str = "2026Q4",
    county: str | None = None,
    recipients: list[str] | None = None,
    category: str = "边缘易致贫户",
    verify_by: dt.date | None = None,
    keys: list[str] | None = None,
) -> dt.date:
    """A 'suspected' event as apply_followup records it; returns verify_by (5 working days by default)."""
    verify_by = verify_by or add_working_days(pushed_on, 5)[0]
    county = county or hid[:6]
    con.execute(
        "INSERT INTO household_event (household_id, event_type, event_date, round_id, source, county_code, recipients,"
        " due_date, category, risk_types, evidence_keys) VALUES (?, 'suspected', ?, ?, 'round', ?, ?, ?, ?, ['因病'], ?)",
        [hid, pushed_on, round_id, county, recipients or [county], verify_by, category, keys or []],
    )
    return verify_by


def event(con, hid: str, event_type: str, day: dt.date | None, *, round_id: str | None = None, **cols) -> None:
    """Any other history event (verified_included, helper_assigned, measure, visit, approved, eliminated, …)."""
    names = ["household_id", "event_type", "event_date", "round_id", "source", "file_hash", "source_row"] + list(cols)
    values = [hid, event_type, day, round_id, "feedback", "test", 1] + list(cols.values())
    con.execute(f"INSERT INTO household_event ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})", values)


def write_csv(
    path: Path, header: list[str], rows: list[list], *, title: str | None = None, encoding: str = "utf-8"
) -> Path:
    lines = (
        ([title] if title else [])
        + [",".join(header)]
        + [",".join("" if v is None else str(v) for v in r) for r in rows]
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def test_builders_write_a_history(tmp_path):
    home = home_at(tmp_path)
    city = City()
    city.household("4502251012010001", village_code=V_RONGSHUI)
    with warehouse(home) as con:
        city.flush(con)
        due = push(con, "4502251012010001", D(2026, 9, 25))
        event(con, "4502251012010001", "verified_included", D(2026, 10, 9), round_id="2026Q4")
        assert due == D(2026, 10, 9)
        stage = con.sql("SELECT stage FROM household_state").fetchall()
        assert stage == [("included",)]
