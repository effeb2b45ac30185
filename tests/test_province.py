"""A province: several prefectures in one data home (the generator's parts, each a prefecture of its own, and the
home's divisions table), screened in one round by the command line."""

from __future__ import annotations

import fastexcel
import polars as pl

from fangpin.cli import main
from warehouse.rules.evaluate import evaluate

ROUND, PUSHED_ON = "2026Q4", "2026-10-09"


def _listed(path) -> set[str]:
    sheet = fastexcel.read_excel(path).load_sheet("疑似风险户清单", header_row=4).to_polars()
    return set(sheet["户编号"].drop_nulls().cast(pl.String))


def test_every_prefecture_of_a_province_gets_its_households_flagged_and_listed(tmp_path, monkeypatch):
    from fangpin.synth import generator

    monkeypatch.setattr(generator, "PART_MAX_HOUSEHOLDS", 60)  # a tiny city in two parts: two prefectures
    monkeypatch.setenv("FANGPIN_HOME", str(tmp_path))  # the command sets it: undone after the test
    assert generator.generate(tmp_path, size="tiny", seed=7, round_id=ROUND)["parts"] == 2
    assert main(["screen", "--round", ROUND, "--home", str(tmp_path), "--pushed-on", PUSHED_ON]) == 0

    res = evaluate(tmp_path, ROUND)
    assert res["missed"] == 0 and res["precision"] >= 0.95, res
    truth = pl.read_parquet(tmp_path / "truth" / "households.parquet").filter(pl.col("at_risk"))
    second = truth.filter(pl.col("county_code").str.starts_with("4504"))
    assert second.height >= 5, "the second prefecture has households at risk"
    out = tmp_path / "out" / ROUND
    # each at-risk household of the second prefecture is on its own county's list, under its own county's name
    for (county,), group in second.group_by("county"):
        book = out / f"疑似风险户清单_{county}.xlsx"
        assert book.exists(), county
        assert set(group["household_id"]) <= _listed(book), county
    # … and in the round's Parquet output that other programs read
    suspects = pl.read_parquet(out / "suspects.parquet")
    assert suspects.filter(pl.col("household_id").str.starts_with("4504")).height >= second.height
    # the round's summary starts with the prefectures' totals, from the same suspects
    html = (out / f"汇总_{ROUND}.html").read_text(encoding="utf-8")
    chart = html[html.index("各市疑似风险户数") : html.index("各县（市、区）疑似风险户数")]
    by_city = suspects.group_by(pl.col("county_code").str.slice(0, 4)).len()
    for code, name in (("4502", "柳州市"), ("4504", "梧州市")):
        n = by_city.filter(pl.col("county_code") == code)["len"].item()
        assert name in chart and f"{n:,}户" in chart, (name, n)
    # texts for people name the area served: with several prefectures, people outside the registry are 非本地区,
    # not 非本市 (nor 非本省: 广西南宁市 is in the province, not among the prefectures served)
    links = pl.read_parquet(out / "links.parquet")
    reasons = links.filter(pl.col("reason").str.contains("本地区|本市|本省"))["reason"]
    assert reasons.len() and reasons.str.contains("本地区").all(), reasons.unique().to_list()
    unmatched = sorted(out.glob("未匹配记录_*.xlsx"))
    assert unmatched
    for book in unmatched:
        assert "仅供参考（非本地区农村人员）" in fastexcel.read_excel(book).sheet_names, book.name
