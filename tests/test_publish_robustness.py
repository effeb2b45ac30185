"""Publication under stress (issue 14 item 8): each county's 重点区域排查 workbook holds only its own villages and
households, and a publication that crashes half-way through, rerun, leaves complete outputs without duplicates."""

from __future__ import annotations

import os
import types

import openpyxl
import polars as pl
import pytest
from test_reports import _sheet_rows
from test_rules_support import City, D

from assets.publishing import publish_round
from fangpin.reports import publish
from warehouse.engine import connect
from warehouse.rules import screen

ROUND = "2026Q3"  # a priority round (Q3): 重点区域排查 workbooks
REF, PUSH = D(2026, 7, 1), D(2026, 7, 6)
COUNTIES = {"450225": "融水苗族自治县", "450226": "三江侗族自治县"}


def build_city() -> City:
    """Two counties, each with a former deeply poor village (a priority target) holding a suspect and a quiet
    household, and a second village outside the targets."""
    city = City()
    for county, (deep_code, other_code) in {
        "450225": ("450225102202", "450225101201"),
        "450226": ("450226100202", "450226100201"),
    }.items():
        city.village(deep_code, f"深山村{county[-1]}", deep=True)
        city.village(other_code, f"平原村{county[-1]}")
        m = city.household(f"{county}-S", village_code=deep_code, income=9500)
        city.medical(m[0], D(2026, 3, 5), 15000.0)
        city.household(f"{county}-Q", village_code=deep_code, income=10000)
        m = city.household(f"{county}-O", village_code=other_code, income=9500)
        city.medical(m[0], D(2026, 4, 5), 15000.0)
    return city


@pytest.fixture()
def screened(tmp_path):
    home = tmp_path / "home"
    con_ctx = connect(tmp_path / "w.duckdb")
    con = con_ctx.__enter__()
    build_city().flush(con)
    screen(con, ROUND, "priority", REF, PUSH, home=home)
    yield con, home
    con_ctx.__exit__(None, None, None)


def test_each_county_priority_workbook_keeps_to_its_county(screened):
    con, home = screened
    publish_round(con, home, ROUND)
    out = home / "out" / ROUND
    for code, name in COUNTIES.items():
        wb = openpyxl.load_workbook(out / f"重点区域排查_{name}.xlsx")
        villages = _sheet_rows(wb["重点排查村"])
        households = _sheet_rows(wb["重点排查户"])
        assert villages and {v["行政村代码"] for v in villages} == {
            f"{code}{'102202' if code == '450225' else '100202'}"
        }
        assert {h["户编号"] for h in households} == {f"{code}-S", f"{code}-Q"}, households


class PowerCut(RuntimeError):
    pass


def _crash_after(n_moves: int):
    """``os`` for the publisher whose ``replace`` moves ``n_moves`` files into place and then dies."""
    moved = []

    def replace(src, dst):
        if len(moved) >= n_moves:
            raise PowerCut(f"crash after {n_moves} files")
        moved.append(dst)
        os.replace(src, dst)

    return types.SimpleNamespace(
        **{**{k: getattr(os, k) for k in dir(os) if not k.startswith("__")}, "replace": replace}
    )


def _snapshot(out) -> dict:
    files = sorted(p.name for p in out.iterdir())
    return {
        "files": files,
        "suspects": pl.read_parquet(out / "suspects.parquet").sort("household_id"),
        "priority": pl.read_parquet(out / "priority_households.parquet").sort("household_id"),
    }


@pytest.mark.parametrize("counties", [None, ["450225"]], ids=["full", "county_rerun"])
def test_a_crash_mid_publication_then_a_rerun_leaves_complete_unduplicated_outputs(screened, monkeypatch, counties):
    con, home = screened
    out = home / "out" / ROUND
    publish_round(con, home, ROUND)
    clean = _snapshot(out)
    # a priority round screens inside its target villages: the two -S households; all four there are ranked
    assert sorted(clean["suspects"]["household_id"]) == ["450225-S", "450226-S"]
    assert clean["priority"].height == 4

    monkeypatch.setattr(publish, "os", _crash_after(3))
    with pytest.raises(PowerCut):
        publish_round(con, home, ROUND, counties=counties)
    monkeypatch.undo()
    assert (home / "out" / f".{ROUND}.partial").exists(), "the crash left its scratch folder, as a kill would"

    publish_round(con, home, ROUND, counties=counties)
    again = _snapshot(out)
    assert again["files"] == clean["files"]
    assert not any(p.name.startswith(".") for p in (home / "out").iterdir())
    for key in ("suspects", "priority"):
        assert again[key]["household_id"].is_duplicated().sum() == 0, key
        assert again[key].select(sorted(again[key].columns)).equals(clean[key].select(sorted(clean[key].columns))), key
    for path in out.glob("*.xlsx"):
        openpyxl.load_workbook(path).close()  # every workbook is whole
