"""易地搬迁 double screening (SPEC §6.5) on the generated demo city: every relocated household whose hukou has not
moved out and that is a suspect appears in its resettlement county's AND its hukou county's workbooks, labelled; the
routing sheet names both helpers (双帮扶人); each resettlement community's horizontal comparison lists the
households that fall behind. (The synthetic city relocates within a county; the cross-county case is in
tests/test_reports.py.)"""

from __future__ import annotations

import math

import openpyxl
import polars as pl
import pytest

from tests.conftest import DEMO_ROUND

LABELS = {"same": "安置地、户籍地（同县）", "live": "安置地", "hukou": "户籍地分流"}


def _sheet(path, name) -> list[dict]:
    wb = openpyxl.load_workbook(path, read_only=True)
    rows = list(wb[name].iter_rows(values_only=True))
    i = next(i for i, r in enumerate(rows) if r and r[0] == "序号")
    return [dict(zip(rows[i], r)) for r in rows[i + 1 :] if r and r[0] is not None]


@pytest.fixture(scope="module")
def demo(screened_demo):
    from fangpin.domain import divisions

    out = screened_demo / "out" / DEMO_ROUND
    books = {}
    for code, name in divisions.counties().items():
        path = out / f"疑似风险户清单_{name}.xlsx"
        if path.exists():
            books[code] = {sheet: _sheet(path, sheet) for sheet in ("疑似风险户清单", "易地搬迁分流", "安置点横向比较")}
    truth = pl.read_parquet(screened_demo / "truth" / "households.parquet")
    suspects = pl.read_parquet(out / "suspects.parquet")
    return {"books": books, "truth": truth, "suspects": suspects, "home": screened_demo}


def test_relocated_suspects_appear_in_both_counties_labelled(demo):
    relocated = demo["truth"].filter(pl.col("relocated") & (pl.col("hukou_moved") == "否"))
    cases = relocated.join(demo["suspects"].select("household_id"), on="household_id")
    assert cases.height >= 1, "the demo city must have a relocated suspect whose hukou did not move"
    for h in cases.iter_rows(named=True):
        live, hukou = h["resettlement_village_code"][:6], h["hukou_county_code"]
        places = {live: LABELS["same"]} if live == hukou else {live: LABELS["live"], hukou: LABELS["hukou"]}
        for county, label in places.items():
            book = demo["books"][county]
            main = [r for r in book["疑似风险户清单"] if r["户编号"] == h["household_id"]]
            assert [r["分流标签"] for r in main] == [label], (county, h["household_id"])
            assert "易地搬迁户" in main[0]["备注"]
            routing = [r for r in book["易地搬迁分流"] if r["户编号"] == h["household_id"]]
            assert len(routing) == 1 and routing[0]["分流标签"] == label
            r = routing[0]
            assert r["安置点（安置社区）"] == h["resettlement_site"]
            assert "双帮扶人" in r["认定与帮扶分工"]
            # both helpers have their column (blank for county staff until follow-up data names them)
            assert "户籍地帮扶联系人" in r and "安置社区帮扶联系人" in r
        # and in no other county's workbook
        for county, book in demo["books"].items():
            if county not in places:
                assert h["household_id"] not in {r["户编号"] for r in book["疑似风险户清单"]}


def test_every_resettlement_community_has_its_horizontal_comparison(demo):
    truth = demo["truth"].filter(pl.col("relocated"))
    assert truth.height > 0
    from warehouse.engine import connect

    with connect(demo["home"] / "warehouse" / "fangpin.duckdb", read_only=True) as con:
        followup = con.sql("SELECT * FROM relocation_followup WHERE round_id = ?", params=[DEMO_ROUND]).pl()
    for (site_code, site), group in truth.group_by(["resettlement_village_code", "resettlement_site"]):
        county = site_code[:6]
        listed = [r for r in demo["books"][county]["安置点横向比较"] if r["安置点（安置社区）"] == site]
        n = group.height
        assert len(listed) >= math.ceil(0.10 * n), (site, n, len(listed))
        ranks = [int(r["安置点内排名（由低到高）"].split("/")[0]) for r in listed]
        assert all(r["安置点内排名（由低到高）"].endswith(f"/{n}") for r in listed), site
        assert set(range(1, math.ceil(0.10 * n) + 1)) <= set(ranks)
        # the listed households are the community's lowest adjusted incomes (as screened)
        mine = followup.filter(pl.col("site_key") == site_code).sort("rank_in_site")
        assert {r["户编号"] for r in listed} == set(mine["household_id"])
        incomes = mine["adjusted_per_capita_income"].to_list()
        assert incomes == sorted(incomes)
