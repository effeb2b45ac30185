"""A county rerun (``rules.screen(..., counties=[...])``) replaces only that county's rows of the round tables
(issue: rounds partitioned by county). Hand-built warehouses (tests/test_rules_support.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_rules_support import PUSHED, REF, City, D

from fangpin.domain import divisions
from warehouse.engine import connect
from warehouse.rules import county_scope, screen

TABLES = {
    "suspect": "household_id",
    "suspect_evidence": "household_id, source, source_file, source_row, risk_type",
    "priority_target": "village_code",
    "priority_household": "household_id",
    "relocation_followup": "household_id",
}
COUNTY_OF = {  # which county a row belongs to, per table
    "suspect": "county_code",
    "suspect_evidence": "(SELECT s.county_code FROM suspect s WHERE s.round_id = t.round_id AND s.household_id = t.household_id)",
    "priority_target": "county_code",
    "priority_household": "target_county_code",
    "relocation_followup": "live_county_code",
}


def _rows(con, table: str, county: str, round_id: str = "2026Q3") -> list[tuple]:
    return con.sql(
        f"SELECT * EXCLUDE (round_id) FROM {table} t WHERE round_id = ? AND {COUNTY_OF[table]} = ? "
        f"ORDER BY {TABLES[table]}",
        params=[round_id, county],
    ).fetchall()


def build() -> City:
    city = City()
    # 融水 450225: a former deeply poor village with a suspect and a weaker household
    deep = city.village("450225102202", "深山村", deep=True)
    m = city.household("RS-1", village_code=deep, income=9500)
    city.medical(m[0], D(2026, 3, 5), 15000.0)
    city.household("RS-2", village_code=deep, income=10000)
    # 三江 450226: a resettlement community with relocated households (hukou moved: registered there)
    site = city.village("450226100301", "古宜安置小区", site=True)
    for i in range(4):
        ids = city.household(f"SJ-{i}", village_code=site, income=9200 + 800 * i, relocated="是", hukou_moved="是")
        if i == 0:
            city.disaster(f"SJ-{i}", D(2026, 5, 1), 9000.0, damage="严重损坏", person=ids[0])
    return city


@pytest.fixture()
def warehouse(tmp_path):
    city = build()
    with connect(tmp_path / "w.duckdb") as con:
        city.flush(con)
        screen(con, "2026Q3", "priority", D(2026, 7, 1), PUSHED)
        yield con


def test_a_county_rerun_replaces_only_its_rows(warehouse):
    con = warehouse
    before = {t: (_rows(con, t, "450225"), _rows(con, t, "450226")) for t in TABLES}
    for t in TABLES:
        assert before[t][1], f"三江 has rows in {t}: the test needs them"
    assert before["suspect"][0] and before["priority_target"][0]
    # new evidence in both counties; then rerun 融水 only, with another push date
    city = City()
    rs2, sj3 = (
        con.sql(
            f"SELECT id_number FROM registry_person WHERE household_id = '{h}' ORDER BY source_row LIMIT 1"
        ).fetchall()[0][0]
        for h in ("RS-2", "SJ-3")
    )
    city.persons = [
        {"household_id": "RS-2", "id_number": rs2, "name": "甲"},
        {"household_id": "SJ-3", "id_number": sj3, "name": "乙"},
    ]
    city.medical(rs2, D(2026, 4, 2), 16000.0, source_file="医保补充.xlsx", source_row=5)
    city.medical(sj3, D(2026, 4, 2), 30000.0, source_file="医保补充.xlsx", source_row=6)
    city.persons = []  # already in the registry
    city.flush(con)
    stats = screen(con, "2026Q3", "priority", D(2026, 7, 1), D(2026, 7, 8), counties=["450225"])
    assert stats.counties == ["450225"]
    for t in TABLES:
        assert _rows(con, t, "450226") == before[t][1], t  # 三江 exactly as it was (SJ-3 not added)
    got = {r[0]: r for r in con.sql("SELECT household_id, pushed_on FROM suspect WHERE round_id = '2026Q3'").fetchall()}
    assert got["RS-2"][1] == D(2026, 7, 8) and got["RS-1"][1] == D(2026, 7, 8)  # 融水 rescreened
    assert "SJ-3" not in got
    # the full round picks SJ-3 up
    screen(con, "2026Q3", "priority", D(2026, 7, 1), D(2026, 7, 8))
    assert (
        con.sql("SELECT count(*) FROM suspect WHERE round_id = '2026Q3' AND household_id = 'SJ-3'").fetchall()[0][0]
        == 1
    )


def test_other_rounds_are_never_touched(warehouse):
    con = warehouse
    screen(con, "2026Q4", "full", REF, PUSHED)
    q4 = con.sql("SELECT * FROM suspect WHERE round_id = '2026Q4' ORDER BY household_id").fetchall()
    screen(con, "2026Q3", "priority", D(2026, 7, 1), PUSHED, counties=["450226"])
    assert con.sql("SELECT * FROM suspect WHERE round_id = '2026Q4' ORDER BY household_id").fetchall() == q4


def test_a_household_that_changed_county_is_listed_once(warehouse):
    con = warehouse
    screen(con, "2026Q4", "full", REF, PUSHED)
    con.execute(
        "UPDATE registry_person SET village_code = '450226100201', county_code = '450226', "
        "township_code = '450226100' WHERE household_id = 'RS-1'"
    )
    screen(con, "2026Q4", "full", REF, PUSHED, counties=["450226"])
    rows = con.sql("SELECT county_code FROM suspect WHERE round_id = '2026Q4' AND household_id = 'RS-1'").fetchall()
    assert rows == [("450226",)]
    n_ev = con.sql(
        "SELECT count(*) FROM suspect_evidence WHERE round_id = '2026Q4' AND household_id = 'RS-1'"
    ).fetchall()[0][0]
    assert n_ev == 1


def test_historic_county_codes_belong_to_their_successor(tmp_path):
    city = City()
    m = city.household("OLD", village_code="450221100201", income=9000)  # 柳江县 before it became 柳江区
    city.medical(m[0], D(2026, 3, 5), 15000.0)
    m = city.household("RS", village_code="450225101201", income=9000)
    city.medical(m[0], D(2026, 3, 5), 15000.0)
    with connect(tmp_path / "w.duckdb") as con:
        city.flush(con)
        screen(con, "2026Q4", "full", REF, PUSHED, counties=["450206"])
        assert con.sql("SELECT household_id FROM suspect").fetchall() == [("OLD",)]


def test_county_scope():
    codes = sorted(divisions.counties())
    assert county_scope(None) is None and county_scope([]) is None and county_scope(codes) is None
    assert county_scope(["450206"]) == ["450206", "450221"]
    assert county_scope(["450225", " 450225 "]) == ["450225"]
    with pytest.raises(ValueError, match="450299"):
        county_scope(["450299"])
