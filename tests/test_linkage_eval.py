"""Linkage end to end on a small synthetic warehouse (devcity): quality gates, evaluation command, review lists."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest

from assets.publishing import write_review_lists
from warehouse.engine import connect
from warehouse.linkage import devcity, link_records
from warehouse.linkage.evaluate import evaluate, format_report
from warehouse.linkage.evaluate import main as evaluate_main
from warehouse.publish import review_rows


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    home = tmp_path_factory.mktemp("city")
    db = devcity.write(home, persons=30000, records=30000, seed=5)
    with connect(db) as con:
        stats = link_records(con, home)
    return home, db, stats


def test_quality_gates(city):
    home, db, stats = city
    con = duckdb.connect(str(db), read_only=True)
    try:
        res = evaluate(con, home / "truth" / "records.parquet")
    finally:
        con.close()
    assert res["overall"]["f1"] >= 0.995
    assert res["no_usable_id"]["precision"] >= 0.99 and res["no_usable_id"]["recall"] >= 0.95
    assert res["exact_valid_id"]["wrong_links_exact_id"] == 0
    assert res["namesake_wrong_links"] == 0
    for noise in (
        "homophone",
        "traditional",
        "id_15",
        "id_typo",
        "id_transposed",
        "id_mangled",
        "id_missing",
        "head_only",
        "wrong_village",
    ):
        assert res["per_noise"][noise]["precision"] >= 0.99, noise
    assert "per noise type" in format_report(res)


def test_stats(city):
    _, _, stats = city
    assert stats.records == 30000 and sum(stats.methods.values()) == 30000
    assert set(stats.methods) <= {"id_exact", "id_repaired", "fuzzy", "review", "unmatched"}
    assert stats.block_pairs["id"] > 0 and stats.block_pairs["township_name_pinyin"] > 0
    assert "candidate pairs per blocking rule" in stats.summary()


def test_evaluate_command(city, capsys):
    home, _, _ = city
    assert evaluate_main(["--home", str(home), "--json", str(home / "ev.json")]) == 0
    out = capsys.readouterr().out
    assert "overall" in out and "per feed" in out and (home / "ev.json").exists()


def test_review_lists(city, tmp_path):
    _, db, _ = city
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = review_rows(con).to_dicts()
        n_review = con.sql("SELECT count(*) FROM link WHERE match_method = 'review'").fetchall()[0][0]
        files = write_review_lists(con, tmp_path, round_id="2026Q4")
    finally:
        con.close()
    assert n_review > 0 and rows
    assert len({(r["source"], r["source_file"], r["source_row"]) for r in rows}) == n_review
    assert all(f.startswith("待核实匹配清单_") and (tmp_path / f).exists() for f in files)
    # a county's list holds only that county's candidates
    con = duckdb.connect(str(db), read_only=True)
    try:
        county_of = dict(con.sql("SELECT DISTINCT household_id, left(village_code, 6) FROM registry_person").fetchall())
    finally:
        con.close()
    assert all(county_of[r["cand_household"]] == r["county_code"] for r in rows)
    # the workbook: 序号 numbers the records (a record's candidates share it), candidates ranked from 1
    import fastexcel

    book = max(files, key=lambda f: (tmp_path / f).stat().st_size)
    sheet = fastexcel.read_excel(tmp_path / book).load_sheet(0, header_row=3).to_polars()
    assert sheet.height > 0 and sheet["序号"][0] == 1 and sheet["候选序号"][0] == 1
    per_record = sheet.group_by("序号").agg(
        pl.struct("来源文件", "行号").n_unique().alias("records"), pl.col("候选序号").min().alias("first")
    )
    assert per_record["records"].max() == 1 and per_record["first"].max() == 1
    assert sorted(per_record["序号"].cast(pl.Int64).to_list()) == list(range(1, per_record.height + 1))
