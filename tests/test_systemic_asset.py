"""The systemic_risk asset in a round of the tiny city (run by the CLI through Dagster, conftest.screened_tiny): its
files are published, every registry county gets its workbook, and its event metadata holds counts only."""

from __future__ import annotations

import json

import dagster as dg
import polars as pl

from tests.conftest import TINY_ROUND

CONTRACT = ["area_level", "area_code", "area_name", "county", "signal", "count", "rate", "baseline_rate", "ratio",
            "p_value", "households_near_line"]  # fmt: skip


def test_the_round_publishes_systemic_risk_and_a_workbook_per_county(screened_tiny):
    from fangpin.domain import divisions

    out = screened_tiny / "out" / TINY_ROUND
    flags = pl.read_parquet(out / "systemic_risk.parquet")
    assert flags.columns[1 : 1 + len(CONTRACT)] == CONTRACT and flags.columns[0] == "round_id"
    counties = pl.read_parquet(screened_tiny / "truth" / "households.parquet")["county_code"].unique().to_list()
    books = {p.name for p in out.glob("规模性风险预警_*.xlsx")}
    assert books == {f"规模性风险预警_{divisions.counties()[c]}.xlsx" for c in counties}


def test_systemic_metadata_holds_counts_not_households(screened_tiny):
    instance = dg.DagsterInstance.from_config(str(screened_tiny / "dagster"))
    event = instance.get_latest_materialization_event(dg.AssetKey("systemic_risk"))
    assert event is not None
    meta = event.asset_materialization.metadata
    assert meta["tests"].value > 0 and "flags" in meta and "survey_households" in meta
    text = json.dumps({k: str(v.value) for k, v in meta.items()}, ensure_ascii=False)
    truth = pl.read_parquet(screened_tiny / "truth" / "persons.parquet")
    leaked = [x for x in truth["household_id"].to_list() + truth["id_number"].to_list() if x and x in text]
    assert leaked == []
    checks = instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [dg.AssetCheckKey(dg.AssetKey("systemic_risk"), "flagged_share")]
    )
    assert checks, "the flagged_share check ran"
