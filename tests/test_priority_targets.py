"""Priority-area screening (SPEC §6.4) on a generated demo city, against its village table and ground truth: every
resettlement community, former deeply poor village, disaster-hit village (last 3 months) and low-coverage village is
a target with the right reason; households inside them are ranked; a workbook per county and Parquet files."""

from __future__ import annotations

import datetime as dt
import math
import shutil

import openpyxl
import polars as pl
import pytest

from tests.conftest import DEMO_ROUND

ROUND = "2026Q4-priority"  # a priority round on the demo city's reference date (events are planted around Q4)
REF = dt.date(2026, 10, 1)
DISASTER_START = dt.date(2026, 7, 1)
PUSHED = dt.date(2026, 10, 9)
# villages of the demo city have ≈ 40 households: with the default 30 脱贫户 no village would qualify as "many 脱贫户
# but few monitored", so this home lowers the threshold (a per-home rules.yaml, as a bureau would)
MIN_TUOPIN = 6


@pytest.fixture(scope="module")
def priority(screened_demo, tmp_path_factory):
    """A priority round on a copy of the screened demo city's warehouse (rules + publishing, no Dagster)."""
    import yaml

    from assets.publishing import publish_round
    from fangpin.settings import PACKAGED
    from warehouse.engine import connect
    from warehouse.rules import screen

    home = tmp_path_factory.mktemp("priority_home")
    rules = yaml.safe_load((PACKAGED / "rules.yaml").read_text(encoding="utf-8"))
    rules["defaults"]["priority_min_tuopin_households"] = MIN_TUOPIN
    (home / "config").mkdir()
    (home / "config" / "rules.yaml").write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    (home / "warehouse").mkdir()
    shutil.copy(screened_demo / "warehouse" / "fangpin.duckdb", home / "warehouse" / "fangpin.duckdb")
    with connect(home / "warehouse" / "fangpin.duckdb") as con:
        stats = screen(con, ROUND, "priority", REF, PUSHED, home=home)
        publish_round(con, home, ROUND)
        suspects_q4 = con.sql("SELECT household_id FROM suspect WHERE round_id = ?", params=[DEMO_ROUND]).pl()
    out = home / "out" / ROUND
    return {
        "home": home,
        "out": out,
        "stats": stats,
        "demo": screened_demo,
        "targets": pl.read_parquet(out / "priority_targets.parquet"),
        "households": pl.read_parquet(out / "priority_households.parquet"),
        "suspects_q4": suspects_q4,
    }


def _village_table(demo) -> pl.DataFrame:
    path = next(p for p in (demo / "landing" / "registry").iterdir() if "行政村" in p.name)
    df = (
        pl.read_excel(path, read_options={"header_row": 1}, infer_schema_length=0)
        if path.suffix == ".xlsx"
        else pl.read_csv(path, infer_schema=False)
    )
    return df.rename({"行政村代码": "village_code"})


def _reasons(targets: pl.DataFrame, prefix: str) -> set[str]:
    return set(
        targets.filter(pl.col("reasons").list.eval(pl.element().str.starts_with(prefix)).list.any())["village_code"]
    )


def test_resettlement_communities_and_former_deeply_poor_villages_are_targets(priority):
    villages = _village_table(priority["demo"])
    sites = set(villages.filter(pl.col("是否易地搬迁安置社区") == "是")["village_code"])
    deep = set(villages.filter(pl.col("是否原深度贫困村") == "是")["village_code"])
    assert sites and deep
    targets = priority["targets"]
    assert _reasons(targets, "易地搬迁安置点") == sites
    assert _reasons(targets, "原深度贫困村") == deep


def test_villages_with_disasters_in_the_last_three_months_are_targets(priority):
    truth = pl.read_parquet(priority["demo"] / "truth" / "records.parquet").filter(
        (pl.col("source") == "disaster")
        & pl.col("true_household_id").is_not_null()
        & (pl.col("event_date") >= DISASTER_START)
        & (pl.col("event_date") < REF)
    )
    links = pl.read_parquet(priority["demo"] / "out" / DEMO_ROUND / "links.parquet")
    households = pl.read_parquet(priority["demo"] / "truth" / "households.parquet").select(
        "household_id", "village_code"
    )
    placed = (
        truth.join(links, on=["source", "source_file", "source_row"])
        .filter(
            pl.col("match_method").is_in(["id_exact", "id_repaired", "fuzzy"])
            & (pl.col("household_id") == pl.col("true_household_id"))
        )
        .join(households, left_on="true_household_id", right_on="household_id")
    )
    expected = set(placed["village_code"])
    assert len(expected) >= 3, "the demo city must have disasters in the three months before the round"
    hit = _reasons(priority["targets"], "近3个月有灾情记录")
    assert expected <= hit, sorted(expected - hit)
    # no village is marked without a disaster record of the window behind it
    counts = dict(
        priority["targets"]
        .filter(pl.col("village_code").is_in(sorted(hit)))
        .select("village_code", "recent_disaster_records")
        .iter_rows()
    )
    assert all(n > 0 for n in counts.values())


def test_villages_with_many_tuopin_but_few_monitored_are_targets(priority):
    hh = pl.read_parquet(priority["demo"] / "truth" / "households.parquet")
    v = (
        hh.group_by("county_code", "village_code")
        .agg(
            tuopin=(pl.col("household_type") == "脱贫户").sum(),
            monitored=(pl.col("monitoring_category").fill_null("") != "").sum(),
        )
        .with_columns(ratio=pl.when(pl.col("tuopin") > 0).then(pl.col("monitored") / pl.col("tuopin")))
    )
    med = v.filter(pl.col("ratio").is_not_null()).group_by("county_code").agg(median=pl.col("ratio").median())
    expected = set(
        v.join(med, on="county_code").filter(
            (pl.col("tuopin") >= MIN_TUOPIN) & (pl.col("ratio") < 0.5 * pl.col("median"))
        )["village_code"]
    )
    assert expected, "the demo city must have villages with many 脱贫户 but few monitored at this threshold"
    assert _reasons(priority["targets"], "脱贫户较多但监测户较少") == expected


def test_households_inside_the_targets_are_ranked_per_county(priority):
    ph, targets = priority["households"], priority["targets"]
    assert ph.height > 0 and set(ph["target_village_code"]) <= set(targets["village_code"])
    for (county,), group in ph.group_by(["target_county_code"]):
        g = group.sort("screening_rank")
        assert g["screening_rank"].to_list() == list(range(1, g.height + 1)), county
        flags = g["is_suspect"].to_list()
        assert flags == sorted(flags, reverse=True), f"{county}: suspects are screened first"
    # every full-round suspect registered in a target village is among the ranked households, as a suspect
    hh = pl.read_parquet(priority["demo"] / "truth" / "households.parquet").select("household_id", "village_code")
    inside = (
        priority["suspects_q4"]
        .join(hh, on="household_id")
        .filter(pl.col("village_code").is_in(targets["village_code"].implode()))
    )
    ranked = ph.filter(pl.col("is_suspect"))
    assert set(inside["household_id"]) <= set(ranked["household_id"])


def test_a_workbook_per_county_lists_its_targets(priority):
    from fangpin.domain import divisions

    targets = priority["targets"]
    counties = divisions.counties()
    for county, n in targets.group_by("county_code").len().iter_rows():
        wb = openpyxl.load_workbook(priority["out"] / f"重点区域排查_{counties[county]}.xlsx", read_only=True)
        rows = list(wb["重点排查村"].iter_rows(values_only=True))
        header = next(i for i, r in enumerate(rows) if r and r[0] == "序号")
        body = [r for r in rows[header + 1 :] if r and r[0] is not None]
        assert len(body) == n, county
        reasons = {r[3]: r[4] for r in body}  # 行政村代码 → 列为重点区域的原因
        for code, rs in targets.filter(pl.col("county_code") == county).select("village_code", "reasons").iter_rows():
            assert reasons[code] == "；".join(rs)
        ranked = list(wb["重点排查户"].iter_rows(values_only=True))
        assert any(r and r[0] == "排查顺序" for r in ranked)
    assert priority["stats"].priority_targets == targets.height
    assert math.isclose(priority["households"].height, priority["stats"].priority_households)
