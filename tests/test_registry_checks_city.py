"""Registry checks and official forms on the synthetic tiny city (the session fixture ``screened_tiny``, shared with
the end-to-end tests): the generator writes a consistent registry, so no hard errors; the forms publish and pass the
privacy scan."""

from __future__ import annotations

import datetime as dt

import polars as pl

from fangpin.home import DataHome
from warehouse.engine import connect
from warehouse.registry_checks import drop_temps, run_checks

AS_OF = dt.date(2026, 10, 9)


def test_registry_checks_on_the_tiny_city(screened_tiny):
    with connect(DataHome.at(screened_tiny).warehouse_path, read_only=True) as con:
        result = run_checks(con, AS_OF)
        drop_temps(con)
        households = con.sql("SELECT count(DISTINCT household_id) FROM registry_person").fetchall()[0][0]
    errors = result.findings.filter(pl.col("severity") == "错误")
    assert errors.height == 0, errors.group_by("code").len().to_dicts()
    assert result.villages["households"].sum() == households
    assert result.findings.filter(pl.col("county_code") == "").height == 0


def test_forms_on_the_tiny_city(screened_tiny, tmp_path):
    from assets.publishing import publish_forms
    from fangpin.reports.forms import scan_public_workbook

    with connect(DataHome.at(screened_tiny).warehouse_path, read_only=True) as con:
        out = publish_forms(con, tmp_path, AS_OF)
        monitored = con.sql(
            "SELECT count(DISTINCT household_id) FROM registry_person "
            "WHERE nullif(trim(monitoring_category), '') IS NOT NULL"
        ).fetchall()[0][0]
    # a screened warehouse has the follow-up views; without feedback the roster is the registry's monitored households
    assert out["roster_source"] == "monitoring_roster"
    assert out["counts"]["form_roster"] == monitored > 0
    walls = [p for p in out["files"] if p.name.startswith("防贫监测对象帮扶情况一览表_")]
    assert walls and all(scan_public_workbook(p) == [] for p in walls)
