"""A full round on a tiny synthetic city, checked against its ground truth (issue: foundation)."""

from __future__ import annotations

import polars as pl

from tests.conftest import TINY_ROUND


def _truth(home, name):
    return pl.read_parquet(home / "truth" / f"{name}.parquet")


def test_round_publishes_the_contract_files(screened_tiny):
    out = screened_tiny / "out" / TINY_ROUND
    suspects = pl.read_parquet(out / "suspects.parquet")
    links = pl.read_parquet(out / "links.parquet")
    rejected = pl.read_parquet(out / "rejected.parquet")
    for col in (
        "round_id",
        "household_id",
        "county_code",
        "township_code",
        "village_code",
        "household_type",
        "monitoring_category",
        "suspect_category",
        "risk_types",
        "base_per_capita_income",
        "adjusted_per_capita_income",
        "monitoring_line",
        "priority_score",
        "pushed_on",
        "verify_by",
        "evidence",
    ):
        assert col in suspects.columns, col
    for col in ("source", "source_file", "source_row", "id_number", "household_id", "match_method", "match_score"):
        assert col in links.columns, col
    for col in ("source", "source_file", "source_row", "reason"):
        assert col in rejected.columns, col
    assert suspects.height > 0
    assert (suspects["round_id"] == TINY_ROUND).all()
    workbooks = sorted(p.name for p in out.glob("疑似风险户清单_*.xlsx"))
    counties_with_suspects = suspects["county_code"].n_unique()
    assert len(workbooks) >= counties_with_suspects


def test_every_exact_id_record_links_to_its_true_person(screened_tiny):
    truth = _truth(screened_tiny, "records").filter(pl.col("id_exact") & pl.col("true_id_number").is_not_null())
    links = pl.read_parquet(screened_tiny / "out" / TINY_ROUND / "links.parquet")
    joined = truth.join(links, on=["source", "source_file", "source_row"], how="left")
    assert joined.height == truth.height
    missing = joined.filter(pl.col("match_method").is_null())
    assert missing.height == 0, f"records without a link row: {missing.head(5)}"
    wrong = joined.filter((pl.col("id_number") != pl.col("true_id_number")) | pl.col("id_number").is_null())
    assert wrong.height == 0, (
        f"exact-ID records not linked to their true person: {wrong.select('source', 'source_file', 'source_row', 'match_method', 'id_number', 'true_id_number').head(10)}"
    )
    assert set(joined["match_method"].unique()) == {"id_exact"}


def test_planted_at_risk_households_with_exact_ids_are_suspects(screened_tiny):
    truth = _truth(screened_tiny, "households")
    planted = truth.filter(pl.col("at_risk") & pl.col("evidence_exact_ids"))
    assert planted.height > 0, "the tiny city must plant at-risk households"
    suspects = pl.read_parquet(screened_tiny / "out" / TINY_ROUND / "suspects.parquet")
    missed = planted.join(suspects, on="household_id", how="anti")
    assert missed.height == 0, (
        f"planted at-risk households missing from suspects: {missed.select('household_id', 'scenario', 'expected_category')}"
    )


def test_every_link_row_is_one_department_record(screened_tiny):
    truth = _truth(screened_tiny, "records")
    links = pl.read_parquet(screened_tiny / "out" / TINY_ROUND / "links.parquet")
    assert links.select("source", "source_file", "source_row").is_duplicated().sum() == 0
    # every truth record was either accepted (a link row) or rejected with a reason
    rejected = pl.read_parquet(screened_tiny / "out" / TINY_ROUND / "rejected.parquet").filter(
        pl.col("source_row").is_not_null()
    )
    accounted = pl.concat(
        [links.select("source", "source_file", "source_row"), rejected.select("source", "source_file", "source_row")]
    )
    lost = truth.join(accounted, on=["source", "source_file", "source_row"], how="anti")
    assert lost.height == 0, f"department rows neither linked nor rejected: {lost.head(5)}"


def test_rerun_is_idempotent(screened_tiny):
    from fangpin.cli import main

    out = screened_tiny / "out" / TINY_ROUND
    before = pl.read_parquet(out / "suspects.parquet").sort("household_id")
    links_before = pl.read_parquet(out / "links.parquet").height
    assert main(["screen", "--round", TINY_ROUND, "--home", str(screened_tiny), "--pushed-on", "2026-10-09"]) == 0
    after = pl.read_parquet(out / "suspects.parquet").sort("household_id")
    assert after.select("household_id", "suspect_category").equals(before.select("household_id", "suspect_category"))
    assert pl.read_parquet(out / "links.parquet").height == links_before
