"""The systemic-risk watch on a hand-built warehouse (tests/test_systemic_support.py): two counties, 80 villages of
60 households, 9 quarters of quiet background events at the same rates everywhere, and planted surges in the
round's quarter (2026Q3 for round 2026Q4), one kind per village. The round is screened by the real rules first, so
the survey lists leave out the round's suspects.

Thresholds: rules.yaml 4502/2026 (line 9000, 6 months of lost wages), systemic.yaml as packaged.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import polars as pl
import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent))
from test_systemic_support import REF, Town

from fangpin.settings import PACKAGED
from warehouse import rules, systemic
from warehouse.engine import connect

ROUND = "2026Q4"
PUSHED = dt.date(2026, 10, 9)
LINE = 9000.0

# planted villages (index into Town.villages) and the signals their surge must raise
MEDICAL, FLOOD, JOBS, AID, SHOCK, SEASONAL = 5, 17, 26, 44, 53, 62
EXPECTED = {
    MEDICAL: {"medical_claims", "medical_oop"},
    FLOOD: {"disaster_houses", "disaster_loss"},
    JOBS: {"job_loss"},
    AID: {"new_aid"},
    SHOCK: {"below_line"},
}


def _plant(town: Town) -> dict:
    """The planted surges of the round's quarter; returns the households the tests look for."""
    v = town.villages
    med = town.members(village_code=v[MEDICAL])
    town.plant("medical", med.filter(pl.col("member") > 0).head(36), 0)
    # near-line households of the medical village: 5 without any record, 1 with a claim (it carries the signal)
    near = med.filter(pl.col("member") == 0).tail(6)["household_id"].to_list()
    town.set_income(near, 10000.0)  # 10000 < 1.2 × 9000: within the survey margin above the line
    town.plant("medical", med.filter(pl.col("household_id") == near[0]).head(1), 0, amount=300.0)
    rich = med.filter(pl.col("member") == 0).slice(40, 3)["household_id"].to_list()
    town.set_income(rich, 50000.0)

    flood = town.members(village_code=v[FLOOD]).filter(pl.col("member") == 0)
    town.plant("disaster_severe", flood.head(16), 0, amount=8000.0)

    jobs = town.members(village_code=v[JOBS]).filter(pl.col("member") == 1)
    town.plant("job_loss", jobs.head(22), 0)

    aid = town.members(village_code=v[AID]).filter(pl.col("member") == 0)
    town.plant("new_aid", aid.head(14), 0)

    # a shared shock: 14 households just above the line each lose 6000 (→ (30000 − 6000) / 3 = 8000 < 9000)
    shock = town.members(village_code=v[SHOCK]).filter(pl.col("member") == 0).head(14)
    town.set_income(shock["household_id"].to_list(), 10000.0)
    town.plant("disaster_minor", shock, 0, amount=6000.0)

    # a village flooded every summer: the same quarter last year (and two years ago) as bad as this one
    seasonal = town.members(village_code=v[SEASONAL]).filter(pl.col("member") == 0)
    for q in (0, 4, 8):
        town.plant("disaster_severe", seasonal.sample(12, seed=q), q, amount=8000.0)

    # the noisy small village (8 households, 24 persons): 6 persons with a claim, six times its expected count
    small = town.members(village_code=town.small[0])
    town.plant("medical", small.head(6), 0)
    return {"near": near, "rich": rich, "shock": shock["household_id"].to_list(), "small": town.small[0]}


@pytest.fixture(scope="module")
def watched(tmp_path_factory):
    town = Town(seed=5, small_villages=1)
    town.background()
    planted = _plant(town)
    path = tmp_path_factory.mktemp("systemic") / "w.duckdb"
    with connect(path) as con:
        town.flush(con)
        rules.screen(con, ROUND, "full", REF, PUSHED)
        stats = systemic.analyse(con, ROUND, REF)
        frames = systemic.frames(con, ROUND)
        suspects = {r[0] for r in con.sql("SELECT household_id FROM suspect").fetchall()}
    return town, planted, stats, frames, suspects, path


def _flagged(frames, level="village") -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for code, signal in frames["flags"].filter(pl.col("area_level") == level).select("area_code", "signal").rows():
        out.setdefault(code, set()).add(signal)
    return out


@pytest.mark.parametrize("village", sorted(EXPECTED), ids=lambda i: "+".join(sorted(EXPECTED[i])))
def test_each_signals_surge_is_flagged_in_its_village(watched, village):
    town, _, _, frames, _, _ = watched
    assert EXPECTED[village] <= _flagged(frames).get(town.villages[village], set())


def test_quiet_villages_stay_quiet(watched):
    town, planted, stats, frames, _, _ = watched
    planted_codes = {town.villages[i] for i in EXPECTED}
    assert set(_flagged(frames)) == planted_codes
    assert stats.villages == len(town.villages) + len(town.small) == 82
    assert stats.flagged_villages == len(planted_codes)


def test_a_noisy_small_village_is_not_flagged(watched):
    """Its rate is six times the county's and it meets the minimum count: only the model holds it back (8 households
    are too few for 6 cases to be surprising among hundreds of tests)."""
    town, planted, _, frames, _, path = watched
    assert planted["small"] not in _flagged(frames)
    with connect(path, read_only=True) as con:
        n = con.sql(
            "SELECT count(DISTINCT d.id_number) FROM dept_record d JOIN link l USING (source, source_file, source_row) "
            "WHERE d.source = 'medical' AND d.event_date >= DATE '2026-07-01' AND l.household_id LIKE ?",
            params=[planted["small"] + "-%"],
        ).fetchall()[0][0]
    assert n >= 6  # ≥ min_count, and 6 / 24 persons = 250 per 1,000 against about 40


def test_a_village_flooded_every_summer_is_not_flagged_for_this_summers_flood(watched):
    town, _, _, frames, _, _ = watched
    assert town.villages[SEASONAL] not in _flagged(frames)


def test_flag_rows_carry_the_contract_columns_and_explain_themselves(watched):
    town, _, _, frames, _, _ = watched
    flags = frames["flags"]
    contract = ["area_level", "area_code", "area_name", "county", "signal", "count", "rate", "baseline_rate", "ratio",
                "p_value", "households_near_line"]  # fmt: skip
    assert flags.columns[: len(contract)] == contract
    row = flags.filter((pl.col("area_code") == town.villages[MEDICAL]) & (pl.col("signal") == "medical_claims")).row(
        0, named=True
    )
    assert row["county"] == "融水苗族自治县" and row["quarter"] == "2026Q3" and row["history_quarters"] == 8
    assert row["count"] >= 36 and row["rate"] == pytest.approx(1000 * row["count"] / 180)
    assert row["ratio"] == pytest.approx(row["rate"] / row["baseline_rate"]) and row["ratio"] >= 2
    assert row["baseline_rate"] == pytest.approx(max(row["history_rate"], row["county_rate"]))
    assert row["p_value"] < 1e-6 and row["q_value"] <= 0.01


def test_survey_list_holds_the_near_line_households_and_not_the_suspects(watched):
    town, planted, _, frames, suspects, _ = watched
    survey = frames["survey"]
    listed = set(survey["household_id"])
    near = set(planted["near"]) - suspects  # a background record may have made one a suspect: then it is listed there
    assert len(near) >= 4 and near <= listed
    assert not (set(planted["rich"]) & listed)  # far above the line and no record this quarter
    # the shock's households fell below the line with a disaster record: the rules flag them, so they are on the
    # suspect list, not on the survey list
    assert set(planted["shock"]) <= suspects and not (set(planted["shock"]) & listed)
    assert not (suspects & listed)
    med = survey.filter(pl.col("village_code") == town.villages[MEDICAL])
    first = med.sort("survey_rank").row(0, named=True)
    assert first["household_id"] == planted["near"][0]  # near the line AND a claim this quarter: visited first
    assert first["rank_group"] == 1 and "医疗" in first["carried_signals"]
    assert med["rank_group"].is_sorted()
    flag = frames["flags"].filter(pl.col("area_code") == town.villages[MEDICAL]).row(0, named=True)
    assert flag["households_near_line"] == med["near_line"].sum() >= len(near)


def test_a_surge_is_flagged_in_its_own_quarter_not_later(tmp_path):
    town = Town(seed=9, townships_per_county=2)
    town.background()
    v = town.villages[3]
    town.plant("job_loss", town.members(village_code=v).filter(pl.col("member") > 0).head(24), 2)  # 2026Q1
    with connect(tmp_path / "w.duckdb") as con:
        town.flush(con)
        systemic.analyse(con, ROUND, REF)  # looks at 2026Q3: the surge is history now
        assert v not in _flagged(systemic.frames(con, ROUND))
        systemic.analyse(con, "2026Q2", dt.date(2026, 4, 1))  # looks at 2026Q1, later quarters unseen
        flagged = _flagged(systemic.frames(con, "2026Q2"))
        # two members of a household back home lose 2 × 6 × 3000: those households fell below the line as well
        assert set(flagged) == {v} and {"job_loss", "below_line"} == flagged[v]
        assert systemic.frames(con, ROUND)["flags"].is_empty()  # each round keeps its own rows
        assert systemic.summary(con, "2026Q2")["quarter"] == "2026Q1"
        assert systemic.summary(con, "2025Q4") is None  # never looked at: the summary says nothing, not "nothing found"


def test_a_rise_across_the_whole_county_is_not_a_local_surge(tmp_path):
    """Every village of one county at 2.5 × its usual medical rate (a reporting change or a county-wide season):
    no village stands out of its county, so none is flagged (docs/DECISIONS.md)."""
    town = Town(seed=4, townships_per_county=2)
    town.rates["medical"] = 0.04
    town.background()
    county = town.members().filter(pl.col("county_code") == "450225")
    extra = county.filter(pl.Series(town.rng.random(county.height) < 0.06))
    town.plant("medical", extra, 0)
    cfg = yaml.safe_load((PACKAGED / "systemic.yaml").read_text(encoding="utf-8"))
    cfg["model"]["county_test"] = False
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "systemic.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    with connect(tmp_path / "w.duckdb") as con:
        town.flush(con)
        assert systemic.analyse(con, ROUND, REF).flags == 0
        # against their own history alone, villages of that county would be flagged: the county test holds them back
        alone = systemic.analyse(con, ROUND, REF, home=home)
    assert alone.flagged_villages >= 5 and set(alone.flags_by_county) == {"450225"}


# ------------------------------------------------------------------------------------------ publications


def test_publications_parquet_and_one_workbook_per_county_with_only_its_households(watched, tmp_path):
    from openpyxl import load_workbook

    from fangpin.reports.systemic import write_systemic

    town, planted, _, frames, _, _ = watched
    names = {"450225": "融水苗族自治县", "450226": "三江侗族自治县", "450222": "柳城县"}
    out = write_systemic(frames, tmp_path, ROUND, "2026Q3", names)
    assert sorted(out["files"]) == sorted(
        ["systemic_risk.parquet", "规模性风险预警_融水苗族自治县.xlsx", "规模性风险预警_三江侗族自治县.xlsx",
         "规模性风险预警_柳城县.xlsx"]
    )  # fmt: skip
    parquet = pl.read_parquet(tmp_path / "systemic_risk.parquet")
    assert parquet["round_id"].unique().to_list() == [ROUND] and parquet.height == frames["flags"].height

    wb = load_workbook(tmp_path / "规模性风险预警_融水苗族自治县.xlsx", read_only=True)
    assert wb.sheetnames == ["预警区域", "专项调查名单"]
    areas = [r for r in wb["预警区域"].iter_rows(values_only=True)]
    header = next(i for i, r in enumerate(areas) if r[0] == "序号")
    assert areas[header][:6] == ("序号", "层级", "乡(镇)", "行政村", "区域代码", "风险信号")
    codes = {r[4] for r in areas[header + 1 :]}
    assert town.villages[MEDICAL] in codes and all(c.startswith("450225") for c in codes)
    survey = [r for r in wb["专项调查名单"].iter_rows(values_only=True)]
    h = next(i for i, r in enumerate(survey) if r[0] == "序号")
    households = [r[3] for r in survey[h + 1 :]]
    near = set(planted["near"]) & set(frames["survey"]["household_id"])
    assert near <= set(households) and all(x.startswith("450225") for x in households)
    assert survey[h][-4:] == ("走访日期", "走访结果", "走访人", "备注")
    # print-ready: landscape, one page wide, the header row on every page; 走访结果 from a dropdown
    ws = load_workbook(tmp_path / "规模性风险预警_融水苗族自治县.xlsx")["专项调查名单"]
    assert ws.page_setup.orientation == "landscape" and ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.page_setup.fitToHeight == 0 and ws.page_setup.fitToWidth in (None, 1)  # 1 page wide, as tall as needed
    assert ws.print_title_rows == f"${h + 1}:${h + 1}"
    (dv,) = [v for v in ws.data_validations.dataValidation if v.type == "list"]
    assert dv.type == "list" and dv.formula1 == '"无风险,持续关注,建议纳入监测"'
    assert str(dv.sqref) == f"Q{h + 2}:Q{h + 1 + len(households)}"

    quiet = load_workbook(tmp_path / "规模性风险预警_柳城县.xlsx", read_only=True)
    text = " ".join(str(c) for r in quiet["预警区域"].iter_rows(values_only=True) for c in r if c)
    assert "未发现规模性、系统性风险预警区域" in text


def test_a_county_rerun_rewrites_only_its_workbook(watched, tmp_path):
    from fangpin.reports.systemic import write_systemic

    _, _, _, frames, _, _ = watched
    names = {"450225": "融水苗族自治县", "450226": "三江侗族自治县"}
    write_systemic(frames, tmp_path, ROUND, "2026Q3", names)
    other = tmp_path / "规模性风险预警_三江侗族自治县.xlsx"
    before = other.stat().st_mtime_ns
    out = write_systemic(frames, tmp_path, ROUND, "2026Q3", names, counties=["450225"])
    assert out["workbooks"] == {"450225": "规模性风险预警_融水苗族自治县.xlsx"}
    assert other.stat().st_mtime_ns == before


def test_counties_sharing_a_name_each_get_their_own_workbook(watched, tmp_path, monkeypatch):
    from openpyxl import load_workbook

    from fangpin.reports.systemic import write_systemic

    # a province home where the two counties of the watched town share a name (as 山西's several 城区)
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "divisions.csv").write_text(
        "county_code,county_name,township_code,township_name\n"
        "450225,城区,450225100,融水镇\n450226,城区,450226100,古宜镇\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("FANGPIN_HOME", str(home))
    _, _, _, frames, _, _ = watched
    out_dir = tmp_path / "out"
    names = {"450225": "城区", "450226": "城区"}
    out = write_systemic(frames, out_dir, ROUND, "2026Q3", names)
    assert out["workbooks"] == {
        "450225": "规模性风险预警_城区_450225.xlsx",
        "450226": "规模性风险预警_城区_450226.xlsx",
    }
    book = load_workbook(out_dir / "规模性风险预警_城区_450225.xlsx", read_only=True)
    rows = list(book["预警区域"].iter_rows(values_only=True))
    header = next(i for i, r in enumerate(rows) if r[0] == "序号")
    codes = {r[4] for r in rows[header + 1 :]}
    assert codes and all(c.startswith("450225") for c in codes)
    # a rerun of one county writes the same file name and leaves the other's alone
    other = out_dir / "规模性风险预警_城区_450226.xlsx"
    before = other.stat().st_mtime_ns
    again = write_systemic(frames, out_dir, ROUND, "2026Q3", names, counties=["450225"])
    assert again["workbooks"] == {"450225": "规模性风险预警_城区_450225.xlsx"} and other.stat().st_mtime_ns == before


def test_summary_section_charts_each_flag_against_its_history_offline(watched):
    from fangpin.reports.summary import systemic_section

    town, _, _, frames, _, _ = watched
    html = systemic_section({"quarter": "2026Q3", "survey_households": frames["survey"].height, **frames})
    flags = frames["flags"]
    assert html.count("<svg") == min(flags.height, 12) and flags.height > 0
    for name in flags["area_name"].unique():
        assert name in html
    assert "http" not in html and "<script" not in html and "<img" not in html
    # one chart: a column per quarter held (8 before + the round's), the last (the round's quarter) in red
    first = html[html.index("<svg") : html.index("</svg>")]
    assert first.count("<rect") == 9 and first.count('fill="#A50021"') == 1
    assert "本季度未发现" in systemic_section({"quarter": "2026Q3", **{k: v.head(0) for k, v in frames.items()}})
