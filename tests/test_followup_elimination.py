"""Risk-elimination candidates (SPEC §8, domain-notes §1), one test per condition, and the fund-allocation factor.

Baseline household: a registry monitoring object (脱贫不稳定户, identified 2026-01), registry income 12,000 (line 2026:
9,000), one measure, 三保障 and safe water met, members able to work → a candidate on 2026-12-01. Each test breaks
exactly one condition.
"""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_followup_support import (
    SANJIANG,
    V_RONGSHUI,
    V_SANJIANG,
    City,
    D,
    event,
    home_at,
    push,
    warehouse,
)

from warehouse.followup import elimination_candidates, elimination_review, funds_factor

H = "4502251012010001"
AS_OF = D(2026, 12, 1)

#: variant → how the baseline household is changed (each variant is its own household in one warehouse)
VARIANTS = {
    "baseline": {},
    "young": {"identified": "202607"},
    "no_measure": {"measure": False},
    "low_income": {"income": 8000.0},
    "fb_low": {"feedback_income": (8500.0, D(2026, 10, 20))},
    "fb_high": {"income": 8000.0, "feedback_income": (9600.0, D(2026, 5, 20))},
    "risk_recent": {"risk_on": D(2026, 9, 1)},
    "risk_old": {"risk_on": D(2026, 5, 1)},
    "unsafe_house": {"unsafe_housing": "是"},
    "house_unknown": {"unsafe_housing": None},
    "water_unsafe": {"safe_water": "否"},
    "water_unknown": {"safe_water": None},
    "dropout": {"student": "义务教育阶段失学辍学"},
    "no_labour": {"labour": ("丧失劳动力", "无劳动力")},
    "one_able": {"labour": ("丧失劳动力", "弱劳动力或半劳动力")},
}


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory) -> dict[str, dict]:
    home = home_at(tmp_path_factory.mktemp("elimination"))
    city = City()
    ids = {}
    with warehouse(home) as con:
        for i, (name, kw) in enumerate(VARIANTS.items()):
            hid = f"45022510120100{i:02d}"
            ids[hid] = name
            labour = kw.get("labour", ("普通劳动力", "普通劳动力", "无劳动力"))
            city.household(
                hid,
                village_code=V_RONGSHUI,
                household_type="脱贫户",
                monitoring_category="脱贫不稳定户",
                risk_eliminated="否",
                income=kw.get("income", 12000.0),
                labour=list(labour),
            )
            for p in city.persons:
                if p["household_id"] == hid:
                    p.update(
                        identified_month=kw.get("identified", "202601"),
                        unsafe_housing=kw.get("unsafe_housing", "否"),
                        safe_water=kw.get("safe_water", "是"),
                        student=kw.get("student"),
                    )
            if kw.get("measure", True):
                event(con, hid, "measure", D(2026, 3, 1), measure="产业帮扶")
            if kw.get("risk_on"):
                con.execute(
                    "INSERT INTO suspect_evidence (round_id, household_id, source, source_file, source_row, summary, "
                    "risk_type, event_date) VALUES ('R', ?, 'medical', '医保.csv', ?, '住院 个人自付 23,456元', '因病', ?)",
                    [hid, i, kw["risk_on"]],
                )
            if kw.get("feedback_income"):
                amount, day = kw["feedback_income"]
                con.execute(
                    "INSERT INTO feedback_record (source, source_file, source_row, file_hash, household_id, income, "
                    "visit_dates) VALUES ('feedback', 'f.csv', ?, 'fh', ?, ?, [?])",
                    [i + 2, hid, amount, day],
                )
        city.flush(con)
        rows = elimination_review(con, AS_OF).to_dicts()
    return {ids[r["household_id"]]: r for r in rows}


def test_baseline_household_is_a_candidate(reviewed):
    r = reviewed["baseline"]
    assert r["candidate"] and r["reasons"] is None
    assert r["months_monitored"] == 11 and r["income_source"] == "户籍系统（上年）"
    assert len(reviewed) == len(VARIANTS)


def test_less_than_six_months_since_identification(reviewed):
    r = reviewed["young"]
    assert not r["candidate"] and not r["c_months"]
    assert "纳入监测未满6个月" in r["reasons"]


def test_no_measure_yet(reviewed):
    r = reviewed["no_measure"]
    assert not r["candidate"] and not r["c_measure"] and "尚无帮扶措施记录" in r["reasons"]


def test_income_below_the_line(reviewed):
    r = reviewed["low_income"]
    assert not r["candidate"] and not r["c_income"] and "低于监测线9000元" in r["reasons"]


def test_income_the_county_reported_wins_over_last_years_registry_income(reviewed):
    low = reviewed["fb_low"]
    assert not low["candidate"] and low["income"] == 8500.0 and low["income_source"] == "核实反馈"
    high = reviewed["fb_high"]
    assert high["candidate"] and high["income"] == 9600.0


def test_income_not_stable_new_risk_signal_in_the_last_six_months(reviewed):
    recent = reviewed["risk_recent"]
    assert not recent["candidate"] and not recent["c_stable"]
    assert "近6个月有新的风险信号" in recent["reasons"] and "23,456" in recent["reasons"]
    assert reviewed["risk_old"]["candidate"]  # more than six months before 2026-12-01


@pytest.mark.parametrize(
    "variant,text",
    [
        ("unsafe_house", "住房安全未保障"),
        ("house_unknown", "住房安全情况未登记"),
        ("water_unsafe", "饮水安全未解决"),
        ("water_unknown", "饮水安全情况未登记"),
        ("dropout", "失学辍学"),
    ],
)
def test_three_guarantees_and_safe_water_must_be_met(reviewed, variant, text):
    r = reviewed[variant]
    assert not r["candidate"] and text in r["reasons"]


def test_household_with_no_labour_at_all_is_never_proposed(reviewed):
    r = reviewed["no_labour"]
    assert not r["c_labour"] and not r["candidate"]
    # every other condition holds: the only reason is the rule of the work plan
    assert all(r[c] for c in ("c_months", "c_measure", "c_income", "c_stable", "c_housing", "c_water", "c_education"))
    assert r["reasons"].startswith("整户无劳动能力") and "持续跟踪监测" in r["reasons"]
    assert reviewed["one_able"]["candidate"]


def test_households_included_through_feedback_count_from_their_inclusion(tmp_path):
    home = home_at(tmp_path)
    city = City()
    city.household(H, village_code=V_RONGSHUI, income=12000.0)
    for p in city.persons:
        p.update(unsafe_housing="否", safe_water="是")
    with warehouse(home) as con:
        city.flush(con)
        push(con, H, D(2026, 3, 2))
        event(con, H, "verified_included", D(2026, 3, 6), round_id="2026Q4", included_on=D(2026, 3, 10))
        event(con, H, "measure", D(2026, 3, 20), measure="就业帮扶")
        assert elimination_candidates(con, D(2026, 9, 9)).height == 0  # 5 months and 30 days
        got = elimination_candidates(con, D(2026, 9, 10))
        assert got.select("household_id", "identified_on", "source").rows() == [(H, D(2026, 3, 10), "feedback")]
        # once eliminated it is no longer reviewed
        event(con, H, "eliminated", D(2026, 10, 1))
        assert elimination_review(con, D(2026, 10, 2)).height == 0


def test_funds_factor_is_monitored_persons_per_county_and_share(tmp_path):
    home = home_at(tmp_path)
    city = City()
    city.household(
        "4502251012010001",
        village_code=V_RONGSHUI,
        monitoring_category="边缘易致贫户",
        risk_eliminated="否",
        labour=["普通劳动力"] * 4,
    )  # 4 persons, monitored
    city.household(
        "4502251012010002",
        village_code=V_RONGSHUI,
        monitoring_category="边缘易致贫户",
        risk_eliminated="是",
        labour=["普通劳动力"] * 5,
    )  # eliminated: not counted
    city.household("4502261002010001", village_code=V_SANJIANG, labour=["普通劳动力"] * 2)  # included via feedback
    city.household("4502261002010002", village_code=V_SANJIANG, labour=["普通劳动力"] * 3)  # not monitored
    with warehouse(home) as con:
        city.flush(con)
        push(con, "4502261002010001", D(2026, 10, 9))
        event(con, "4502261002010001", "verified_included", D(2026, 10, 14), round_id="2026Q4")
        f = funds_factor(con)
    assert f.select("county_code", "households", "persons").rows() == [("450225", 1, 4), (SANJIANG, 1, 2)]
    assert f["share"].round(4).to_list() == [round(4 / 6, 4), round(2 / 6, 4)]
    assert f["county"].to_list() == ["融水苗族自治县", "三江侗族自治县"]
    assert isinstance(f, pl.DataFrame)
