"""A file that fails a blocking expectation never reaches the screening (issue 14 item 8; DECISIONS: "A file that
fails a blocking Great Expectations expectation is *blocked*: its rows stay out of the warehouse").

One medical extract plants a large out-of-pocket spend on a household of the tiny city that is not at risk. Sent as a
valid file it makes that household a suspect (the control: the planted evidence is enough); sent with an invalid
就诊类型 on every row (a blocking value-set expectation) it changes nothing."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from conftest import PUSHED_ON, TINY_ROUND, copy_home

from assets.ingestion import ingest_feed
from fangpin.home import DataHome
from warehouse.engine import connect
from warehouse.linkage import link_records
from warehouse.rules import screen

REFERENCE = dt.date(2026, 10, 1)
ROWS = 35  # above quality.yaml's min_rows_for_share_blocking (30): shares block


def _quiet_household(home) -> dict:
    """A household the tiny city does not put at risk, and its head (name, ID, township)."""
    truth = pl.read_parquet(home / "truth" / "households.parquet")
    quiet = truth.filter(~pl.col("at_risk") & (pl.col("signals").list.len() == 0)).sort("household_id")
    persons = pl.read_parquet(home / "truth" / "persons.parquet")
    head = (
        persons.filter(pl.col("household_id").is_in(quiet["household_id"].implode()) & (pl.col("relation") == "户主"))
        .sort("household_id")
        .row(0, named=True)
    )
    return head


def _medical_file(path, head: dict, visit_type: str) -> None:
    lines = ["姓名,身份证号,所属乡镇,结算日期,医疗机构,就诊类型,医疗总费用,个人自付"]
    for i in range(ROWS):
        day = REFERENCE - dt.timedelta(days=20 + 7 * i)
        lines.append(
            f"{head['name']},{head['id_number']},{head['township']},{day.isoformat()},"
            f"{head['county']}人民医院,{visit_type},{4000 + i}.00,{3000 + i}.00"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _screen_with(home, head: dict, visit_type: str) -> tuple[str, set[str]]:
    """Ingest the planted file, link and screen the round again: (the file's status, the suspected households)."""
    dh = DataHome.at(home)
    _medical_file(dh.landing_for("medical") / f"补报_{visit_type}.csv", head, visit_type)
    with connect(dh.warehouse_path) as con:
        outcome = ingest_feed(dh, "medical", con, reference_date=REFERENCE)
        link_records(con, home)
        screen(con, TINY_ROUND, "full", REFERENCE, dt.date.fromisoformat(PUSHED_ON), home=home)
        suspects = {
            r[0] for r in con.sql("SELECT household_id FROM suspect WHERE round_id = ?", params=[TINY_ROUND]).fetchall()
        }
    (planted,) = [f for f in outcome.files if f.file_name.startswith("补报_")]
    return planted.status, suspects


@pytest.mark.parametrize(
    ("visit_type", "status", "flagged"), [("住院", "loaded", True), ("美容整形", "blocked", False)]
)
def test_a_blocked_file_does_not_flag_anyone(screened_tiny, tmp_path, visit_type, status, flagged):
    home = copy_home(screened_tiny, tmp_path / "home")
    head = _quiet_household(home)
    got_status, suspects = _screen_with(home, head, visit_type)
    assert got_status == status
    assert (head["household_id"] in suspects) is flagged, (head["household_id"], visit_type)
