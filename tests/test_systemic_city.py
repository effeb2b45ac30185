"""The systemic-risk watch on the demo city (tests/conftest.py: seed 11, round 2026Q4, screened by the CLI) against
the surges its generator planted (truth/surges.parquet, truth/surge_households.parquet; fangpin/synth/surges.py):
every planted surge flagged in its quarter for each signal it must raise, quiet areas quiet, the planted near-line
households on their county's survey list, and the planted truth itself as the generator promises it."""

from __future__ import annotations

import polars as pl
import pytest
from openpyxl import load_workbook

from fangpin.synth.surges import KINDS, NEAR_LINE_BAND
from tests.conftest import DEMO_ROUND


def _truth(home, name):
    return pl.read_parquet(home / "truth" / f"{name}.parquet")


def _flags(home):
    return pl.read_parquet(home / "out" / DEMO_ROUND / "systemic_risk.parquet")


def _in_planted_area(flags: pl.DataFrame, surges: pl.DataFrame) -> pl.Series:
    """A flag inside a planted area: the area itself, a village of a planted township, or the township of a planted
    village (it holds the village's surge)."""
    villages = set(surges.filter(pl.col("area_level") == "village")["area_code"])
    towns = set(surges.filter(pl.col("area_level") == "township")["area_code"]) | {v[:9] for v in villages}
    return flags["area_code"].is_in(list(villages | towns)) | flags["area_code"].str.slice(0, 9).is_in(list(towns))


def test_every_planted_surge_is_flagged_in_its_quarter_for_each_of_its_signals(screened_demo):
    surges, flags = _truth(screened_demo, "surges"), _flags(screened_demo)
    assert sorted(surges["kind"]) == sorted(KINDS) and surges["quarter"].unique().to_list() == ["2026Q3"]
    for s in surges.iter_rows(named=True):
        got = flags.filter((pl.col("area_code") == s["area_code"]) & (pl.col("quarter") == s["quarter"]))
        assert set(s["signals"]) <= set(got["signal"]), (s["kind"], got.select("signal", "ratio", "p_value"))
        assert (got["area_level"] == s["area_level"]).all()


def test_quiet_areas_stay_quiet(screened_demo):
    surges, flags = _truth(screened_demo, "surges"), _flags(screened_demo)
    villages = _truth(screened_demo, "households")["village_code"].n_unique()
    outside = flags.filter(~_in_planted_area(flags, surges))
    assert outside.filter(pl.col("area_level") == "village")["area_code"].n_unique() <= 0.01 * villages, outside


def _survey_households(home) -> set[str]:
    listed = set()
    for path in (home / "out" / DEMO_ROUND).glob("规模性风险预警_*.xlsx"):
        rows = list(load_workbook(path, read_only=True)["专项调查名单"].iter_rows(values_only=True))
        header = next(i for i, r in enumerate(rows) if r and r[0] == "序号")
        listed |= {r[3] for r in rows[header + 1 :] if r[3]}
    return listed


def test_survey_lists_hold_the_planted_near_line_households(screened_demo):
    near = _truth(screened_demo, "surge_households").filter(pl.col("role") == "near_line")
    assert near.height == 4 * len(KINDS)
    assert set(near["household_id"]) <= _survey_households(screened_demo)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_planted_truth_is_what_the_generator_promises(screened_demo, kind):
    surges = _truth(screened_demo, "surges").filter(pl.col("kind") == kind)
    members = _truth(screened_demo, "surge_households").join(surges.select("surge_id"), on="surge_id")
    households = _truth(screened_demo, "households")
    row = surges.row(0, named=True)
    affected = members.filter(pl.col("role") == "affected").join(households, on="household_id")
    near = members.filter(pl.col("role") == "near_line").join(households, on="household_id")
    assert affected.height >= 10 and row["affected_households"] == affected.height
    level = "village_code" if row["area_level"] == "village" else "township_code"
    assert (pl.concat([affected[level], near[level]]) == row["area_code"]).all()
    # near the line, not at risk, not monitored; only the shared shock plants households at risk
    lo, hi = NEAR_LINE_BAND
    assert near["adjusted_per_capita_income"].is_between(lo * 9000 - 1, hi * 9000 + 1).all()
    assert not near["at_risk"].any() and near["monitoring_category"].fill_null("").eq("").all()
    assert affected["at_risk"].all() if kind == "shock" else not affected["at_risk"].any()


def test_a_city_without_surges_plants_none(tiny_home):
    assert _truth(tiny_home, "surges").is_empty() and _truth(tiny_home, "surge_households").is_empty()


def test_the_round_summary_shows_each_planted_surge_against_its_history(screened_demo):
    html = (screened_demo / "out" / DEMO_ROUND / f"汇总_{DEMO_ROUND}.html").read_text(encoding="utf-8")
    section = html[html.index("规模性、系统性风险研判（2026Q3）") :]
    for name in _truth(screened_demo, "surges")["area_name"]:
        assert f"{name}（" in section  # a chart title: 白安村（村）· …
    assert section.count("<svg") == 12  # the 12 most significant flags (the demo city has more)
